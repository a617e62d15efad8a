package sandbox_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/sandbox"
)

const secret = "sandbox-secret"

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newGateway() *sandbox.Gateway {
	return sandbox.New(sandbox.Config{Secret: secret, PayURL: "http://localhost:8080/sandbox/pay",
		Now: func() time.Time { return now }})
}

func TestCreate(t *testing.T) {
	t.Parallel()
	g := newGateway()
	created, err := g.Create(context.Background(), gateway.CreateRequest{PaymentID: "pay-1", Amount: 250000, Currency: "VND"})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(created.PaymentRef, "sbx_"))
	assert.Equal(t, "http://localhost:8080/sandbox/pay/"+created.PaymentRef, created.RedirectURL)
	assert.True(t, strings.HasPrefix(created.ClientSecret, created.PaymentRef+"_secret_"))
	assert.False(t, created.CaptureRequired)
	assert.Equal(t, now, created.CreatedAt)

	ref, ok := g.VerifyClientSecret(created.ClientSecret)
	assert.True(t, ok)
	assert.Equal(t, created.PaymentRef, ref)
	_, ok = g.VerifyClientSecret(created.ClientSecret[:len(created.ClientSecret)-1] + "x")
	assert.False(t, ok)
	_, ok = g.VerifyClientSecret("sbx_123")
	assert.False(t, ok)

	other, err := g.Create(context.Background(), gateway.CreateRequest{PaymentID: "pay-2", Amount: 1, Currency: "VND",
		Capture: gateway.CaptureManual})
	require.NoError(t, err)
	assert.NotEqual(t, created.PaymentRef, other.PaymentRef)
	assert.True(t, other.CaptureRequired)
}

func TestIdempotentCreateAndRefund(t *testing.T) {
	t.Parallel()
	g := newGateway()
	req := gateway.CreateRequest{PaymentID: "pay-1", Amount: 100, Currency: "USD", IdempotencyKey: "k1"}
	a, err := g.Create(context.Background(), req)
	require.NoError(t, err)
	b, err := g.Create(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, a.PaymentRef, b.PaymentRef)

	rr := gateway.RefundRequest{PaymentRef: a.PaymentRef, Amount: 40, Currency: "USD", IdempotencyKey: "r1"}
	r1, err := g.Refund(context.Background(), rr)
	require.NoError(t, err)
	r2, err := g.Refund(context.Background(), rr)
	require.NoError(t, err)
	assert.Equal(t, r1, r2)
	assert.Equal(t, gateway.StatusSucceeded, r1.Status)
	assert.Equal(t, int64(40), r1.Amount)
	rr.IdempotencyKey = "r2"
	r3, err := g.Refund(context.Background(), rr)
	require.NoError(t, err)
	assert.NotEqual(t, r1.RefundRef, r3.RefundRef)

	_, err = g.Refund(context.Background(), gateway.RefundRequest{PaymentRef: a.PaymentRef, Amount: 40, Currency: "USD"})
	assert.ErrorIs(t, err, gateway.ErrInvalidRequest)
}

func TestCapture(t *testing.T) {
	t.Parallel()
	g := newGateway()
	res, err := g.Capture(context.Background(), gateway.CaptureRequest{PaymentRef: "sbx_1", Amount: 100, Currency: "USD"})
	require.NoError(t, err)
	assert.Equal(t, gateway.StatusSucceeded, res.Status)
	assert.Equal(t, g.TransactionID("sbx_1"), res.TransactionID)
	_, err = g.Capture(context.Background(), gateway.CaptureRequest{})
	assert.ErrorIs(t, err, gateway.ErrInvalidRequest)
}

func TestSignedWebhookRoundTrip(t *testing.T) {
	t.Parallel()
	g := newGateway()
	for _, et := range []gateway.EventType{gateway.EventAuthorized, gateway.EventCaptured, gateway.EventFailed,
		gateway.EventCanceled, gateway.EventRefunded, gateway.EventRefundFailed, gateway.EventDisputed,
		gateway.EventDisputeWon, gateway.EventDisputeLost} {
		body, header, err := g.SignedWebhook(sandbox.Webhook{ID: "evt_" + string(et), Type: et, PaymentRef: "sbx_1",
			PaymentID: "pay-1", RefundRef: "re_1", Amount: 250000, Currency: "vnd", Reason: "because"})
		require.NoError(t, err)
		ev, err := g.ParseWebhook(context.Background(), header, body, nil)
		require.NoError(t, err, et)
		want := gateway.Event{ID: "evt_" + string(et), Provider: gateway.Sandbox, Type: et, ProviderType: ev.ProviderType,
			PaymentRef: "sbx_1", PaymentID: "pay-1", RefundRef: "re_1", Amount: 250000, Currency: "VND",
			Reason: "because", OccurredAt: now, Raw: body}
		if et == gateway.EventCaptured {
			want.TransactionID = g.TransactionID("sbx_1")
		}
		assert.Equal(t, want, ev)
	}
	_, _, err := g.SignedWebhook(sandbox.Webhook{Type: gateway.EventOther})
	assert.ErrorIs(t, err, gateway.ErrInvalidRequest)
}

// independentSign signs as the documentation of the scheme says, without the package.
func independentSign(body string, t int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.%s", t, body)
	return fmt.Sprintf("t=%d,v1=%s", t, hex.EncodeToString(m.Sum(nil)))
}

func TestSignatureScheme(t *testing.T) {
	t.Parallel()
	g := newGateway()
	body := `{"id":"evt_1","type":"payment.captured","created":1772366400,"data":{"payment_ref":"sbx_1","amount":5,"currency":"USD"}}`
	assert.Equal(t, independentSign(body, now.Unix()), g.Sign([]byte(body), now))

	header := func(v string) http.Header { return http.Header{sandbox.SignatureHeader: {v}} }
	ev, err := g.ParseWebhook(context.Background(), header(independentSign(body, now.Unix())), []byte(body), nil)
	require.NoError(t, err)
	assert.Equal(t, gateway.EventCaptured, ev.Type)

	rolled := "t=" + fmt.Sprint(now.Unix()) + ",v1=" + strings.Repeat("ab", 32) + "," + strings.Split(independentSign(body, now.Unix()), ",")[1]
	_, err = g.ParseWebhook(context.Background(), header(rolled), []byte(body), nil)
	assert.NoError(t, err, "any one matching v1 signature is enough, as when a secret is rolled")

	tests := []struct {
		name   string
		header http.Header
		body   string
	}{
		{"tampered body", header(independentSign(body, now.Unix())), strings.Replace(body, `"amount":5`, `"amount":500`, 1)},
		{"stale", header(independentSign(body, now.Add(-6*time.Minute).Unix())), body},
		{"from the future", header(independentSign(body, now.Add(6*time.Minute).Unix())), body},
		{"timestamp swapped", header(strings.Replace(independentSign(body, now.Unix()), fmt.Sprint(now.Unix()), fmt.Sprint(now.Unix()-1), 1)), body},
		{"no header", http.Header{}, body},
		{"no v1", header("t=" + fmt.Sprint(now.Unix())), body},
		{"garbage", header("sig"), body},
	}
	for _, tc := range tests {
		_, err := g.ParseWebhook(context.Background(), tc.header, []byte(tc.body), nil)
		assert.ErrorIs(t, err, gateway.ErrBadSignature, tc.name)
	}
}

func TestSignedButMalformed(t *testing.T) {
	t.Parallel()
	g := newGateway()
	for _, body := range []string{`{"id":`, `{"type":"payment.captured","data":{"payment_ref":"sbx_1"}}`, `{"id":"evt_1","data":{}}`} {
		_, err := g.ParseWebhook(context.Background(), http.Header{sandbox.SignatureHeader: {g.Sign([]byte(body), now)}}, []byte(body), nil)
		assert.ErrorIs(t, err, gateway.ErrMalformed, body)
	}
	body := `{"id":"evt_1","type":"payment.exploded","data":{"payment_ref":"sbx_1"}}`
	ev, err := g.ParseWebhook(context.Background(), http.Header{sandbox.SignatureHeader: {g.Sign([]byte(body), now)}}, []byte(body), nil)
	require.NoError(t, err)
	assert.Equal(t, gateway.EventOther, ev.Type)
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	g := sandbox.New(sandbox.Config{PayURL: "http://localhost/pay"})
	assert.False(t, g.Available())
	_, err := g.Create(context.Background(), gateway.CreateRequest{PaymentID: "p", Amount: 1, Currency: "VND"})
	assert.ErrorIs(t, err, gateway.ErrUnavailable)
	_, _, err = g.SignedWebhook(sandbox.Webhook{Type: gateway.EventCaptured})
	assert.ErrorIs(t, err, gateway.ErrUnavailable)
	_, ok := g.VerifyClientSecret("sbx_1_secret_x")
	assert.False(t, ok)
}
