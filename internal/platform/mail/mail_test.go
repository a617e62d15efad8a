package mail_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/mail"
	"github.com/goshop/goshop/internal/platform/mail/mailtest"
)

// Parts reads a delivered message's subject and its text and HTML parts.
func parts(t *testing.T, raw []byte) (subject, text, html string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	require.NoError(t, err)
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/alternative", mt)
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p) // quoted-printable is decoded by NextPart
		require.NoError(t, err)
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
	return subject, text, html
}

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
	subject, text, html := parts(t, got[0].Data)
	assert.Equal(t, "Đơn hàng đã giao", subject)
	assert.Equal(t, "Đơn hàng #ABC đã được giao.", strings.TrimSpace(text))
	assert.Contains(t, html, "<b>#ABC</b>")
	assert.Contains(t, string(got[0].Data), "Message-ID: <m1@goshop.test>")

	// A server whose certificate the client does not trust gets nothing.
	untrusting, err := mail.New(mail.Config{SMTPURL: srv.URL, From: "no-reply@goshop.test"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	assert.Error(t, untrusting.Send(context.Background(), mail.Message{To: "b@example.com", Subject: "x", Body: "y"}))
	assert.Empty(t, srv.To("b@example.com"))
}
