package mail_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/mail"
	"github.com/goshop/goshop/internal/platform/mail/mailtest"
)

func TestSMTPSendsTextAndHTMLOverSTARTTLS(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	s, err := mail.New(mail.Config{SMTPURL: srv.URL, From: "GoShop <no-reply@goshop.test>", RootCAs: srv.RootCAs},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.NoError(t, s.Send(context.Background(), mail.Message{ID: "m1", To: "an@example.com", Subject: "Đơn hàng đã giao",
		Body: "Đơn hàng #ABC đã được giao.", HTML: "<p>Đơn hàng <b>#ABC</b> đã được giao.</p>"}))
	got := srv.To("an@example.com")
	require.Len(t, got, 1)
	assert.True(t, got[0].TLS, "sent after STARTTLS")
	subject, parts, err := mailtest.Parts(got[0].Data)
	require.NoError(t, err)
	assert.Equal(t, "Đơn hàng đã giao", subject)
	assert.Equal(t, "Đơn hàng #ABC đã được giao.", strings.TrimSpace(parts["text/plain"]))
	assert.Contains(t, parts["text/html"], "<b>#ABC</b>")
	assert.Contains(t, string(got[0].Data), "Message-ID: <m1@goshop.test>")

	// A server whose certificate the client does not trust gets nothing.
	untrusting, err := mail.New(mail.Config{SMTPURL: srv.URL, From: "no-reply@goshop.test"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	assert.Error(t, untrusting.Send(context.Background(), mail.Message{To: "b@example.com", Subject: "x", Body: "y"}))
	assert.Empty(t, srv.To("b@example.com"))
}
