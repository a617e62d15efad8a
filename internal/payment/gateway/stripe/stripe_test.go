package stripe_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sapi "github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/stripe"
)

const (
	secretKey     = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
	webhookSecret = "whsec_test_secret"
)

// recorded is one request the fake Stripe API received.
type recorded struct {
	method, path string
	header       http.Header
	form         url.Values
}

// fakeStripe answers like api.stripe.com: form-encoded requests, JSON objects back.
type fakeStripe struct {
	t       *testing.T
	mu      sync.Mutex
	reqs    []recorded
	answers map[string]string // "METHOD path" -> JSON body
	status  int
}

func newFake(t *testing.T, answers map[string]string) (*fakeStripe, *stripe.Gateway) {
	f := &fakeStripe{t: t, answers: answers, status: http.StatusOK}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	g := stripe.New(stripe.Config{
		SecretKey: secretKey, WebhookSecret: webhookSecret,
		APIURL: srv.URL, HTTPClient: srv.Client(), MaxNetworkRetries: sapi.Int64(0),
	})
	return f, g
}

func (f *fakeStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	assert.NoError(f.t, err)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), form: form})
	status := f.status
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", "req_test")
	answer, ok := f.answers[r.Method+" "+r.URL.Path]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"no such route"}}`)
		return
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (f *fakeStripe) only(t *testing.T) recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.reqs, 1)
	return f.reqs[0]
}

func assertStripeHeaders(t *testing.T, r recorded, idemKey string) {
	t.Helper()
	assert.Equal(t, "Bearer "+secretKey, r.header.Get("Authorization"))
	assert.Equal(t, sapi.APIVersion, r.header.Get("Stripe-Version"))
	assert.Equal(t, "application/x-www-form-urlencoded", r.header.Get("Content-Type"))
	assert.Equal(t, idemKey, r.header.Get("Idempotency-Key"))
}

func TestCreatePaymentIntent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		capture     gateway.CaptureMethod
		amount      int64
		currency    string
		wantAmount  string
		wantCapture string
	}{
		{"VND is zero-decimal on both sides", "", 250000, "VND", "250000", "automatic"},
		{"USD cents", gateway.CaptureManual, 1999, "USD", "1999", "manual"},
		{"KWD has three decimals on both sides", gateway.CaptureAutomatic, 1500, "KWD", "1500", "automatic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, g := newFake(t, map[string]string{"POST /v1/payment_intents": `{
				"id": "pi_3MtwBwLkdIwHu7ix28a3tqPa", "object": "payment_intent", "amount": ` + tc.wantAmount + `,
				"currency": "usd", "capture_method": "` + tc.wantCapture + `", "status": "requires_payment_method",
				"client_secret": "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH", "created": 1680800504}`})
			created, err := g.Create(context.Background(), gateway.CreateRequest{
				PaymentID: "0b9c7c52-55a8-4a5e-8f4e-2a1f0c6f2d11", Amount: tc.amount, Currency: tc.currency,
				Description: "Order 42", Capture: tc.capture, IdempotencyKey: "create-key-1",
			})
			require.NoError(t, err)
			assert.Equal(t, "pi_3MtwBwLkdIwHu7ix28a3tqPa", created.PaymentRef)
			assert.Equal(t, "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH", created.ClientSecret)
			assert.Empty(t, created.RedirectURL)
			assert.Equal(t, tc.capture == gateway.CaptureManual, created.CaptureRequired)
			assert.Equal(t, time.Unix(1680800504, 0).UTC(), created.CreatedAt)

			r := f.only(t)
			assert.Equal(t, "POST", r.method)
			assert.Equal(t, "/v1/payment_intents", r.path)
			assertStripeHeaders(t, r, "create-key-1")
			assert.Equal(t, tc.wantAmount, r.form.Get("amount"))
			assert.Equal(t, strings.ToLower(tc.currency), r.form.Get("currency"))
			assert.Equal(t, tc.wantCapture, r.form.Get("capture_method"))
			assert.Equal(t, "true", r.form.Get("automatic_payment_methods[enabled]"))
			assert.Equal(t, "0b9c7c52-55a8-4a5e-8f4e-2a1f0c6f2d11", r.form.Get("metadata[payment_id]"))
			assert.Equal(t, "Order 42", r.form.Get("description"))
		})
	}
}

func TestCreateRejectsBadRequestsWithoutCallingStripe(t *testing.T) {
	t.Parallel()
	f, g := newFake(t, nil)
	for _, req := range []gateway.CreateRequest{
		{PaymentID: "p", Amount: 0, Currency: "USD"},
		{PaymentID: "p", Amount: 100, Currency: "XXQ"},
		{Amount: 100, Currency: "USD"},
	} {
		_, err := g.Create(context.Background(), req)
		assert.ErrorIs(t, err, gateway.ErrInvalidRequest)
	}
	assert.Empty(t, f.reqs)
}

func TestStripeErrorsBecomeProviderErrors(t *testing.T) {
	t.Parallel()
	f, g := newFake(t, map[string]string{"POST /v1/payment_intents": `{"error": {
		"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
		"message": "Your card has insufficient funds."}}`})
	f.status = http.StatusPaymentRequired
	_, err := g.Create(context.Background(), gateway.CreateRequest{PaymentID: "p", Amount: 100, Currency: "USD"})
	var pe *gateway.ProviderError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "card_declined/insufficient_funds", pe.Code)
	assert.Equal(t, http.StatusPaymentRequired, pe.HTTPStatus)
	assert.False(t, pe.Temporary())
}

func TestCapture(t *testing.T) {
	t.Parallel()
	f, g := newFake(t, map[string]string{"POST /v1/payment_intents/pi_123/capture": `{
		"id": "pi_123", "object": "payment_intent", "amount": 2000, "amount_received": 1500,
		"currency": "usd", "status": "succeeded", "latest_charge": "ch_3MrVHLLkdIwHu7ix0s1ZNbAx"}`})
	res, err := g.Capture(context.Background(), gateway.CaptureRequest{
		PaymentRef: "pi_123", Amount: 1500, Currency: "USD", IdempotencyKey: "capture-key"})
	require.NoError(t, err)
	assert.Equal(t, gateway.CaptureResult{TransactionID: "ch_3MrVHLLkdIwHu7ix0s1ZNbAx", Amount: 1500, Currency: "USD",
		Status: gateway.StatusSucceeded}, res)
	r := f.only(t)
	assertStripeHeaders(t, r, "capture-key")
	assert.Equal(t, "1500", r.form.Get("amount_to_capture"))
}

func TestCaptureWholeAmountSendsNoAmount(t *testing.T) {
	t.Parallel()
	f, g := newFake(t, map[string]string{"POST /v1/payment_intents/pi_9/capture": `{
		"id": "pi_9", "amount_received": 2000, "currency": "usd", "status": "succeeded"}`})
	_, err := g.Capture(context.Background(), gateway.CaptureRequest{PaymentRef: "pi_9", IdempotencyKey: "k"})
	require.NoError(t, err)
	_, sent := f.only(t).form["amount_to_capture"]
	assert.False(t, sent)
}

func TestRefund(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reason, wantReason, wantMetaReason string
		stripeStatus                       string
		want                               gateway.Status
	}{
		{"requested_by_customer", "requested_by_customer", "", "succeeded", gateway.StatusSucceeded},
		{"item arrived broken", "", "item arrived broken", "pending", gateway.StatusPending},
		{"", "", "", "failed", gateway.StatusFailed},
	}
	for _, tc := range tests {
		t.Run(tc.stripeStatus, func(t *testing.T) {
			t.Parallel()
			f, g := newFake(t, map[string]string{"POST /v1/refunds": `{
				"id": "re_1Nispe2eZvKYlo2Cd31jOCgZ", "object": "refund", "amount": 50000, "currency": "vnd",
				"payment_intent": "pi_123", "status": "` + tc.stripeStatus + `"}`})
			res, err := g.Refund(context.Background(), gateway.RefundRequest{
				PaymentRef: "pi_123", PaymentID: "pay-1", Amount: 50000, CapturedAmount: 250000, Currency: "VND",
				Reason: tc.reason, IdempotencyKey: "refund-key-7"})
			require.NoError(t, err)
			assert.Equal(t, gateway.RefundResult{RefundRef: "re_1Nispe2eZvKYlo2Cd31jOCgZ", Amount: 50000, Status: tc.want}, res)
			r := f.only(t)
			assertStripeHeaders(t, r, "refund-key-7")
			assert.Equal(t, "pi_123", r.form.Get("payment_intent"))
			assert.Equal(t, "50000", r.form.Get("amount"))
			assert.Equal(t, tc.wantReason, r.form.Get("reason"))
			assert.Equal(t, tc.wantMetaReason, r.form.Get("metadata[reason]"))
			assert.Equal(t, "pay-1", r.form.Get("metadata[payment_id]"))
		})
	}
}

func TestRefundNeedsIdempotencyKeyAndBoundedAmount(t *testing.T) {
	t.Parallel()
	f, g := newFake(t, nil)
	_, err := g.Refund(context.Background(), gateway.RefundRequest{PaymentRef: "pi", Amount: 1, Currency: "USD"})
	assert.ErrorIs(t, err, gateway.ErrInvalidRequest)
	_, err = g.Refund(context.Background(), gateway.RefundRequest{PaymentRef: "pi", Amount: 11, CapturedAmount: 10,
		Currency: "USD", IdempotencyKey: "k"})
	assert.ErrorIs(t, err, gateway.ErrInvalidRequest)
	assert.Empty(t, f.reqs)
}

func TestUnavailableWithoutCredentials(t *testing.T) {
	t.Parallel()
	g := stripe.New(stripe.Config{SecretKey: secretKey})
	assert.False(t, g.Available())
	_, err := g.Create(context.Background(), gateway.CreateRequest{PaymentID: "p", Amount: 1, Currency: "USD"})
	assert.ErrorIs(t, err, gateway.ErrUnavailable)
	_, err = g.ParseWebhook(context.Background(), http.Header{}, []byte(`{}`), nil)
	assert.ErrorIs(t, err, gateway.ErrUnavailable)
}

// event builds a Stripe event as Stripe sends it (https://docs.stripe.com/api/events/object).
func event(typ, object string) []byte {
	return fmt.Appendf(nil, `{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"2019-02-19",
		"created":1686089970,"livemode":false,"pending_webhooks":1,"type":%q,"data":{"object":%s}}`, typ, object)
}

func signed(payload []byte, secret string, at time.Time) http.Header {
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
	h := http.Header{}
	h.Set("Stripe-Signature", sp.Header)
	return h
}

func TestWebhookSignature(t *testing.T) {
	t.Parallel()
	_, g := newFake(t, nil)
	body := event("payment_intent.succeeded", `{"id":"pi_1","object":"payment_intent","amount":1000,
		"amount_received":1000,"currency":"usd","metadata":{"payment_id":"pay-1"}}`)
	now := time.Now()

	ev, err := g.ParseWebhook(context.Background(), signed(body, webhookSecret, now), body, nil)
	require.NoError(t, err, "a payload signed with the library's test helper verifies")
	assert.Equal(t, "evt_1NG8Du2eZvKYlo2CUI79vXWy", ev.ID)

	tests := []struct {
		name   string
		header http.Header
		body   []byte
	}{
		{"tampered payload", signed(body, webhookSecret, now), []byte(string(body) + " ")},
		{"tampered amount", signed(body, webhookSecret, now), []byte(strings.Replace(string(body), `"amount":1000`, `"amount":9000`, 1))},
		{"stale timestamp", signed(body, webhookSecret, now.Add(-10*time.Minute)), body},
		{"wrong secret", signed(body, "whsec_other", now), body},
		{"no header", http.Header{}, body},
		{"garbage header", http.Header{"Stripe-Signature": {"nonsense"}}, body},
	}
	for _, tc := range tests {
		_, err := g.ParseWebhook(context.Background(), tc.header, tc.body, nil)
		assert.ErrorIs(t, err, gateway.ErrBadSignature, tc.name)
	}
}

func TestWebhookToleranceIsConfigurable(t *testing.T) {
	t.Parallel()
	g := stripe.New(stripe.Config{SecretKey: secretKey, WebhookSecret: webhookSecret, WebhookTolerance: time.Hour})
	body := event("customer.created", `{"id":"cus_1"}`)
	_, err := g.ParseWebhook(context.Background(), signed(body, webhookSecret, time.Now().Add(-30*time.Minute)), body, nil)
	assert.NoError(t, err)
}

func TestWebhookSignedButUnreadableIsMalformed(t *testing.T) {
	t.Parallel()
	_, g := newFake(t, nil)
	body := []byte(`{"id": "evt_1", "data": [`)
	_, err := g.ParseWebhook(context.Background(), signed(body, webhookSecret, time.Now()), body, nil)
	assert.ErrorIs(t, err, gateway.ErrMalformed)
	assert.NotErrorIs(t, err, gateway.ErrBadSignature)
}

func TestWebhookNormalization(t *testing.T) {
	t.Parallel()
	_, g := newFake(t, nil)
	tests := []struct {
		typ, object string
		want        gateway.Event
	}{
		{"payment_intent.succeeded", `{"id":"pi_1","object":"payment_intent","amount":250000,"amount_received":250000,
			"currency":"vnd","status":"succeeded","latest_charge":"ch_1","metadata":{"payment_id":"pay-1"}}`,
			gateway.Event{Type: gateway.EventCaptured, PaymentRef: "pi_1", PaymentID: "pay-1", TransactionID: "ch_1",
				Amount: 250000, Currency: "VND"}},
		{"payment_intent.amount_capturable_updated", `{"id":"pi_2","amount":1999,"amount_capturable":1999,
			"currency":"usd","status":"requires_capture","metadata":{"payment_id":"pay-2"}}`,
			gateway.Event{Type: gateway.EventAuthorized, PaymentRef: "pi_2", PaymentID: "pay-2", Amount: 1999, Currency: "USD"}},
		{"payment_intent.payment_failed", `{"id":"pi_3","amount":1999,"currency":"usd","status":"requires_payment_method",
			"last_payment_error":{"code":"card_declined","message":"Your card was declined."},"metadata":{"payment_id":"pay-3"}}`,
			gateway.Event{Type: gateway.EventFailed, PaymentRef: "pi_3", PaymentID: "pay-3", Amount: 1999, Currency: "USD",
				Reason: "card_declined: Your card was declined."}},
		{"payment_intent.canceled", `{"id":"pi_4","amount":500,"currency":"usd","status":"canceled",
			"cancellation_reason":"abandoned","metadata":{}}`,
			gateway.Event{Type: gateway.EventCanceled, PaymentRef: "pi_4", Amount: 500, Currency: "USD", Reason: "abandoned"}},
		{"charge.refunded", `{"id":"ch_5","object":"charge","amount":2000,"amount_refunded":700,"currency":"usd",
			"payment_intent":"pi_5","refunded":false,"metadata":{}}`,
			gateway.Event{Type: gateway.EventRefunded, PaymentRef: "pi_5", TransactionID: "ch_5", RefundedTotal: 700, Currency: "USD"}},
		{"refund.updated", `{"id":"re_6","object":"refund","amount":700,"currency":"usd","charge":"ch_5",
			"payment_intent":"pi_5","status":"succeeded","metadata":{"payment_id":"pay-5"}}`,
			gateway.Event{Type: gateway.EventRefunded, PaymentRef: "pi_5", PaymentID: "pay-5", TransactionID: "ch_5",
				RefundRef: "re_6", Amount: 700, Currency: "USD"}},
		{"refund.failed", `{"id":"re_7","object":"refund","amount":700,"currency":"usd","charge":"ch_5",
			"payment_intent":"pi_5","status":"failed","failure_reason":"expired_or_canceled_card"}`,
			gateway.Event{Type: gateway.EventRefundFailed, PaymentRef: "pi_5", TransactionID: "ch_5", RefundRef: "re_7",
				Amount: 700, Currency: "USD", Reason: "expired_or_canceled_card"}},
		{"refund.created", `{"id":"re_8","object":"refund","amount":700,"currency":"usd","payment_intent":"pi_5","status":"pending"}`,
			gateway.Event{Type: gateway.EventOther, PaymentRef: "pi_5", RefundRef: "re_8", Amount: 700, Currency: "USD"}},
		{"charge.dispute.created", `{"id":"dp_9","object":"dispute","amount":1000,"currency":"usd","charge":"ch_9",
			"payment_intent":"pi_9","reason":"fraudulent","status":"needs_response"}`,
			gateway.Event{Type: gateway.EventDisputed, PaymentRef: "pi_9", TransactionID: "ch_9", DisputeRef: "dp_9",
				Amount: 1000, Currency: "USD", Reason: "fraudulent"}},
		{"charge.dispute.closed", `{"id":"dp_9","object":"dispute","amount":1000,"currency":"usd","charge":"ch_9",
			"payment_intent":"pi_9","reason":"fraudulent","status":"lost"}`,
			gateway.Event{Type: gateway.EventDisputeLost, PaymentRef: "pi_9", TransactionID: "ch_9", DisputeRef: "dp_9",
				Amount: 1000, Currency: "USD", Reason: "fraudulent"}},
		{"charge.dispute.closed", `{"id":"dp_9","amount":1000,"currency":"usd","charge":"ch_9","payment_intent":"pi_9",
			"reason":"fraudulent","status":"won"}`,
			gateway.Event{Type: gateway.EventDisputeWon, PaymentRef: "pi_9", TransactionID: "ch_9", DisputeRef: "dp_9",
				Amount: 1000, Currency: "USD", Reason: "fraudulent"}},
		{"customer.created", `{"id":"cus_1","object":"customer"}`, gateway.Event{Type: gateway.EventOther}},
	}
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			body := event(tc.typ, tc.object)
			ev, err := g.ParseWebhook(context.Background(), signed(body, webhookSecret, time.Now()), body, nil)
			require.NoError(t, err)
			want := tc.want
			want.ID, want.Provider, want.ProviderType = "evt_1NG8Du2eZvKYlo2CUI79vXWy", gateway.Stripe, tc.typ
			want.OccurredAt, want.Raw = time.Unix(1686089970, 0).UTC(), body
			assert.Equal(t, want, ev)
		})
	}
}
