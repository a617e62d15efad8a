package notify_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/mail/mailtest"
)

// TestEmailReachesAnSMTPServerInTheReadersLanguage sends order mail through the real SMTP
// client to an SMTP server running in the test (STARTTLS on a certificate the client is told
// to trust), and reads what arrived: a text and an HTML part, in each reader's language, which
// is their profile's.
func TestEmailReachesAnSMTPServerInTheReadersLanguage(t *testing.T) {
	t.Parallel()
	smtp := mailtest.Start(t)
	m := newMarket(t, apptest.WithEnv("SMTP_URL", smtp.URL), apptest.WithEnv("SMTP_CA_FILE", smtp.CAFile))
	env := m.env
	// The buyer reads English (their profile says so); the seller keeps the default, Vietnamese.
	res := env.Put(t, "/users/profile", m.buyer.AccessToken, map[string]any{"locale": "en"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	env.CheckoutCOD(t, m.buyer, m.address, m.product.ID, 1)

	apptest.Eventually(t, func() bool { return len(smtp.To(m.buyer.Email)) > 0 && len(smtp.To(m.seller.Email)) > 0 }, "the order mail")
	for _, c := range []struct {
		to, subject, body, lang string
	}{{m.buyer.Email, "Order #", "has been placed", "en"}, {m.seller.Email, "Đơn hàng mới #", "có đơn hàng mới", "vi"}} {
		got := smtp.To(c.to)[0]
		assert.True(t, got.TLS)
		subject, found, err := mailtest.Parts(got.Data)
		require.NoError(t, err)
		assert.Contains(t, subject, c.subject)
		assert.Contains(t, found["text/plain"], c.body)
		assert.Contains(t, found["text/html"], c.body)
		assert.True(t, strings.HasPrefix(strings.TrimSpace(found["text/html"]), "<!doctype html>"))
		assert.Contains(t, found["text/html"], `<html lang="`+c.lang+`">`)
	}
}
