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
	var jobs, ids int
	require.NoError(t, env.App.Pool.QueryRow(t.Context(), `SELECT count(*), coalesce(sum(jsonb_array_length(args->'delivery_ids')), 0)
		FROM river_job WHERE kind = 'notify_send' AND args ? 'delivery_ids'`).Scan(&jobs, &ids))
	assert.Equal(t, 1, jobs, "the order's two mails went out in one job")
	assert.Equal(t, 2, ids)
}

// TestAFailedMailOfADispatchRetriesOnItsOwn: the mails of one dispatch go in one job; when the
// SMTP server does not answer, each failed mail goes on in a job of its own, retried with
// backoff, its error recorded on the delivery.
func TestAFailedMailOfADispatchRetriesOnItsOwn(t *testing.T) {
	t.Parallel()
	m := newMarket(t, apptest.WithEnv("SMTP_URL", "smtp://127.0.0.1:1"))
	env := m.env
	env.CheckoutCOD(t, m.buyer, m.address, m.product.ID, 1)
	ctx := t.Context()
	apptest.Eventually(t, func() bool {
		var n int
		require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'notify_send'
			AND args ? 'delivery_ids' AND state = 'completed'`).Scan(&n))
		return n == 1
	}, "the dispatch's job ends")
	var single, errs int
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'notify_send'
		AND NOT args ? 'delivery_ids'`).Scan(&single))
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM notify.deliveries
		WHERE channel = 'email' AND status = 'queued' AND last_error <> ''`).Scan(&errs))
	assert.Equal(t, 2, single, "each failed mail has a job of its own")
	assert.Equal(t, 2, errs, "and its error on the delivery")
}
