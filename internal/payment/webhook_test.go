package payment_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/sandbox"
)

// TestTamperedWebhooksAreRefusedAndChangeNothing sends each provider's route a notification
// whose signature does not verify: 400, and not even the event is recorded.
func TestTamperedWebhooksAreRefusedAndChangeNothing(t *testing.T) {
	t.Parallel()
	paypal := fakePayPal(t, "FAILURE")
	env := moneyEnv(t, opts(withStripe(t), withVNPay(), withMoMo(t), withPayPal(paypal.URL))...)

	sbBody, sbHeader, err := sandboxGW(env).SignedWebhook(sandbox.Webhook{Type: gateway.EventCaptured, PaymentRef: "sbx_1",
		Amount: 100_000, Currency: "VND"})
	require.NoError(t, err)
	stBody, stHeader := stripeEvent("payment_intent.succeeded", `{"id":"pi_1","object":"payment_intent","amount":100000,
		"amount_received":100000,"currency":"vnd","metadata":{}}`)
	momoBody := momoIPN(t, "pay-1", 100_000, 0)
	ipn := vnpayIPN("pay-1", 100_000, "00")
	ipn.Set("vnp_Amount", "900000000") // the amount changed after signing

	for name, res := range map[string]*apptest.Response{
		"sandbox tampered": postRaw(t, env, "/payments/sandbox/webhook", sbHeader,
			[]byte(strings.Replace(string(sbBody), "100000", "900000", 1))),
		"sandbox unsigned":     postRaw(t, env, "/payments/sandbox/webhook", http.Header{}, sbBody),
		"sandbox bad header":   postRaw(t, env, "/payments/sandbox/webhook", http.Header{"Sandbox-Signature": {"t=1,v1=00"}}, sbBody),
		"stripe tampered":      postRaw(t, env, "/payments/stripe/webhook", stHeader, []byte(strings.Replace(string(stBody), "100000", "1", 1))),
		"stripe unsigned":      postRaw(t, env, "/payments/stripe/webhook", http.Header{}, stBody),
		"momo tampered":        postRaw(t, env, "/payments/momo/webhook", nil, []byte(strings.Replace(string(momoBody), "100000", "1", 1))),
		"momo not json":        postRaw(t, env, "/payments/momo/webhook", nil, []byte("resultCode=0")),
		"vnpay tampered (GET)": env.Get(t, "/payments/vnpay/webhook?"+ipn.Encode(), ""),
		"vnpay tampered (POST)": env.Do(t, apptest.Req{Method: http.MethodPost, Path: "/payments/vnpay/webhook", Body: ipn.Encode(),
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}),
		"paypal refused by paypal": postRaw(t, env, "/payments/paypal/webhook", paypalHeaders(),
			[]byte(`{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{}}`)),
		"paypal without headers": postRaw(t, env, "/payments/paypal/webhook", http.Header{},
			[]byte(`{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{}}`)),
	} {
		assert.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", name, res.Body)
	}
	assert.Zero(t, count(t, env, `SELECT count(*) FROM payment.webhook_events`), "nothing was recorded")
	assert.Zero(t, count(t, env, `SELECT count(*) FROM payment.ledger_entries`))
}

// TestVerifiedWebhookForAnUnknownPayment is acknowledged (the provider must stop sending it)
// and recorded, once.
func TestVerifiedWebhookForAnUnknownPayment(t *testing.T) {
	t.Parallel()
	paypal := fakePayPal(t, "SUCCESS")
	env := moneyEnv(t, opts(withStripe(t), withVNPay(), withMoMo(t), withPayPal(paypal.URL))...)

	res := sandboxEvent(t, env, sandbox.Webhook{ID: "evt_unknown", Type: gateway.EventCaptured, PaymentRef: "sbx_nobody",
		Amount: 1000, Currency: "VND"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, map[string]any{"duplicate": false, "matched": false, "outcome": "unmatched"}, res.Map(t))
	res = sandboxEvent(t, env, sandbox.Webhook{ID: "evt_unknown", Type: gateway.EventCaptured, PaymentRef: "sbx_nobody",
		Amount: 1000, Currency: "VND"})
	assert.Equal(t, true, res.Map(t)["duplicate"])

	body, header := stripeEvent("payment_intent.succeeded", `{"id":"pi_nobody","object":"payment_intent","amount":1000,
		"amount_received":1000,"currency":"vnd","metadata":{}}`)
	res = postRaw(t, env, "/payments/stripe/webhook", header, body)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "unmatched", res.Map(t)["outcome"])

	// VNPay answers in its own words: 01 order not found, then 02 already confirmed.
	ipn := vnpayIPN("nobody", 50_000, "00")
	res = env.Get(t, "/payments/vnpay/webhook?"+ipn.Encode(), "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, map[string]any{"RspCode": "01", "Message": "Order not found"}, res.Map(t))
	res = env.Get(t, "/payments/vnpay/webhook?"+ipn.Encode(), "")
	assert.Equal(t, "02", res.Map(t)["RspCode"])

	// MoMo expects 204.
	res = postRaw(t, env, "/payments/momo/webhook", nil, momoIPN(t, "nobody", 50_000, 0))
	assert.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	// PayPal's notification verifies through PayPal's API.
	res = postRaw(t, env, "/payments/paypal/webhook", paypalHeaders(),
		[]byte(`{"id":"WH-9","event_type":"PAYMENT.CAPTURE.COMPLETED","create_time":"2026-11-24T10:00:00Z","resource":
		{"id":"CAP-1","status":"COMPLETED","amount":{"currency_code":"USD","value":"10.00"},"custom_id":"",
		"supplementary_data":{"related_ids":{"order_id":"NOBODY"}}}}`))
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "unmatched", res.Map(t)["outcome"])
	assert.Equal(t, 5, count(t, env, `SELECT count(*) FROM payment.webhook_events WHERE outcome = 'unmatched'`))
}

// TestWebhookOfAnUnconfiguredProvider: without credentials a notification cannot be verified;
// the provider is told to retry (503), and PayPal being unreachable is the same.
func TestWebhookOfAnUnconfiguredOrUnreachableProvider(t *testing.T) {
	t.Parallel()
	gone := fakePayPal(t, "SUCCESS")
	gone.Close()
	env := apptest.New(t, withPayPal(gone.URL)...)
	body, header := stripeEvent("payment_intent.succeeded", `{"id":"pi_1","object":"payment_intent","amount":1,"currency":"vnd"}`)
	res := postRaw(t, env, "/payments/stripe/webhook", header, body)
	assert.Equal(t, http.StatusServiceUnavailable, res.Status, "%s", res.Body)
	res = postRaw(t, env, "/payments/paypal/webhook", paypalHeaders(), []byte(`{"id":"WH-1","event_type":"X","resource":{}}`))
	assert.Equal(t, http.StatusServiceUnavailable, res.Status, "%s", res.Body)
	assert.Zero(t, count(t, env, `SELECT count(*) FROM payment.webhook_events`))
}
