package payment_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/payment/gateway/momo"
	"github.com/goshop/goshop/internal/payment/gateway/sandbox"
	"github.com/goshop/goshop/internal/payment/gateway/vnpay"
)

// Credentials of the real providers in tests; their APIs are local fakes.
const (
	stripeKey     = "sk_test_goshop"
	stripeWebhook = "whsec_goshop_test"
	vnpayTmn      = "GOSHOP01"
	vnpaySecret   = "VNPAYTESTSECRET0123456789"
	momoPartner   = "MOMOGOSHOP"
	momoAccess    = "F8BBA842ECF85"
	momoSecret    = "K951B6PE1waDMi640xX08PD3vg6EkVlz"
)

// requireLedgerBalanced is the check every test that moves money ends with: all entries sum to
// zero, so does every ledger transaction, and no escrow account holds less than nothing.
func requireLedgerBalanced(t *testing.T, env *apptest.Env) {
	t.Helper()
	ctx := context.Background()
	var total int64
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT coalesce(sum(amount), 0) FROM payment.ledger_entries`).Scan(&total))
	assert.Zero(t, total, "the ledger's entries sum to zero")
	var unbalanced int
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT transaction_id FROM payment.ledger_entries
		GROUP BY transaction_id HAVING sum(amount) <> 0) x`).Scan(&unbalanced))
	assert.Zero(t, unbalanced, "every ledger transaction balances")
	var negative int
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT a.id FROM payment.accounts a
		JOIN payment.ledger_entries e ON e.account_id = a.id WHERE a.kind = 'escrow' GROUP BY a.id HAVING sum(e.amount) > 0) x`).Scan(&negative))
	assert.Zero(t, negative, "no escrow account is negative")
}

// moneyEnv starts an app whose ledger is checked when the test ends.
func moneyEnv(t *testing.T, opts ...apptest.Option) *apptest.Env {
	t.Helper()
	env := apptest.New(t, opts...)
	t.Cleanup(func() { requireLedgerBalanced(t, env) })
	return env
}

// balance is an account's balance on its normal side.
func balance(t *testing.T, env *apptest.Env, code string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), `SELECT coalesce(sum(CASE a.normal WHEN 'debit' THEN e.amount
		ELSE -e.amount END), 0)::bigint FROM payment.accounts a JOIN payment.ledger_entries e ON e.account_id = a.id
		WHERE a.code = $1`, code).Scan(&n))
	return n
}

func count(t *testing.T, env *apptest.Env, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// sandboxGW is the sandbox provider as the app under test has it configured.
func sandboxGW(env *apptest.Env) *sandbox.Gateway {
	return sandbox.New(sandbox.Config{Secret: env.App.Cfg.SandboxSecret, PayURL: env.App.Cfg.SandboxPayURL})
}

// sandboxEvent posts a signed sandbox notification.
func sandboxEvent(t *testing.T, env *apptest.Env, w sandbox.Webhook) *apptest.Response {
	t.Helper()
	body, header, err := sandboxGW(env).SignedWebhook(w)
	require.NoError(t, err)
	return postRaw(t, env, "/payments/sandbox/webhook", header, body)
}

func postRaw(t *testing.T, env *apptest.Env, path string, header http.Header, body []byte) *apptest.Response {
	t.Helper()
	h := map[string]string{}
	for k := range header {
		h[k] = header.Get(k)
	}
	return env.Do(t, apptest.Req{Method: http.MethodPost, Path: path, Body: body, Header: h})
}

// withStripe configures Stripe against a fake API that creates PaymentIntents and refunds.
func withStripe(t *testing.T) []apptest.Option {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/payment_intents":
			id := "pi_" + strings.ReplaceAll(r.Form.Get("metadata[payment_id]"), "-", "")[:20]
			fmt.Fprintf(w, `{"id":%q,"object":"payment_intent","amount":%s,"currency":%q,"status":"requires_payment_method",
				"client_secret":"%s_secret_test","created":%d,"metadata":{"payment_id":%q}}`,
				id, r.Form.Get("amount"), r.Form.Get("currency"), id, time.Now().Unix(), r.Form.Get("metadata[payment_id]"))
		case r.URL.Path == "/v1/refunds":
			fmt.Fprintf(w, `{"id":"re_%s","object":"refund","amount":%s,"currency":"vnd","status":"succeeded","payment_intent":%q}`,
				r.Header.Get("Idempotency-Key")[:8], r.Form.Get("amount"), r.Form.Get("payment_intent"))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"no such route"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return []apptest.Option{apptest.WithEnv("PAYMENT_STRIPE_SECRET_KEY", stripeKey),
		apptest.WithEnv("PAYMENT_STRIPE_WEBHOOK_SECRET", stripeWebhook), apptest.WithEnv("PAYMENT_STRIPE_API_URL", srv.URL)}
}

// stripeEvent is a Stripe event as Stripe sends it, and its signature header.
func stripeEvent(typ, object string) ([]byte, http.Header) {
	body := fmt.Appendf(nil, `{"id":"evt_%d","object":"event","api_version":"2025-01-27","created":%d,"livemode":false,
		"type":%q,"data":{"object":%s}}`, time.Now().UnixNano(), time.Now().Unix(), typ, object)
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: stripeWebhook, Timestamp: time.Now()})
	return body, http.Header{"Stripe-Signature": {sp.Header}, "Content-Type": {"application/json"}}
}

func withVNPay() []apptest.Option {
	return []apptest.Option{apptest.WithEnv("PAYMENT_VNPAY_TMN_CODE", vnpayTmn), apptest.WithEnv("PAYMENT_VNPAY_HASH_SECRET", vnpaySecret),
		apptest.WithEnv("PAYMENT_VNPAY_RETURN_URL", "https://goshop.example/vnpay/return")}
}

// vnpayIPN is VNPay's IPN query for a payment reference, signed.
func vnpayIPN(ref string, amount int64, code string) url.Values {
	p := url.Values{
		"vnp_TmnCode": {vnpayTmn}, "vnp_Amount": {fmt.Sprint(amount * 100)}, "vnp_BankCode": {"NCB"},
		"vnp_BankTranNo": {"VNP14226112"}, "vnp_CardType": {"ATM"}, "vnp_PayDate": {"20261124103000"},
		"vnp_OrderInfo": {"Thanh toan " + ref}, "vnp_TransactionNo": {"14226112"}, "vnp_ResponseCode": {code},
		"vnp_TransactionStatus": {code}, "vnp_TxnRef": {ref},
	}
	p.Set("vnp_SecureHashType", "HmacSHA512")
	p.Set("vnp_SecureHash", vnpay.Sign(p, vnpaySecret))
	return p
}

func withMoMo(t *testing.T) []apptest.Option {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		_ = json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"partnerCode": momoPartner, "orderId": req["orderId"], "requestId": req["requestId"],
			"amount": req["amount"], "responseTime": time.Now().UnixMilli(), "message": "Thành công.", "resultCode": 0,
			"payUrl": "https://test-payment.momo.vn/v2/gateway/pay?t=" + fmt.Sprint(req["orderId"])})
	}))
	t.Cleanup(srv.Close)
	return []apptest.Option{apptest.WithEnv("PAYMENT_MOMO_PARTNER_CODE", momoPartner), apptest.WithEnv("PAYMENT_MOMO_ACCESS_KEY", momoAccess),
		apptest.WithEnv("PAYMENT_MOMO_SECRET_KEY", momoSecret), apptest.WithEnv("PAYMENT_MOMO_ENDPOINT", srv.URL),
		apptest.WithEnv("PAYMENT_MOMO_REDIRECT_URL", "https://goshop.example/momo/return"),
		apptest.WithEnv("PAYMENT_MOMO_IPN_URL", "https://goshop.example/api/v1/payments/momo/webhook")}
}

// momoIPN is MoMo's IPN body for an order ID, signed as documented.
func momoIPN(t *testing.T, orderID string, amount int64, resultCode int) []byte {
	t.Helper()
	fields := map[string]any{"partnerCode": momoPartner, "orderId": orderID, "requestId": orderID, "amount": amount,
		"orderInfo": "GoShop", "orderType": "momo_wallet", "transId": 4088878653, "resultCode": resultCode, "message": "Successful.",
		"payType": "qr", "responseTime": 1721720663942, "extraData": ""}
	raw, err := json.Marshal(fields)
	require.NoError(t, err)
	var n momo.IPN
	require.NoError(t, json.Unmarshal(raw, &n))
	fields["signature"] = n.ExpectedSignature(momoAccess, momoSecret)
	raw, err = json.Marshal(fields)
	require.NoError(t, err)
	return raw
}

// fakePayPal answers PayPal's token and webhook-verification calls with verdict.
func fakePayPal(t *testing.T, verdict string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/oauth2/token":
			_, _ = io.WriteString(w, `{"access_token":"A21AAFake","token_type":"Bearer","expires_in":32400}`)
		case "/v1/notifications/verify-webhook-signature":
			fmt.Fprintf(w, `{"verification_status":%q}`, verdict)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func withPayPal(apiURL string) []apptest.Option {
	return []apptest.Option{apptest.WithEnv("PAYMENT_PAYPAL_CLIENT_ID", "AeA1QIZXiflr1"), apptest.WithEnv("PAYMENT_PAYPAL_CLIENT_SECRET", "ECYYrrSHdKfk"),
		apptest.WithEnv("PAYMENT_PAYPAL_WEBHOOK_ID", "4JH86294D6297924G"), apptest.WithEnv("PAYMENT_PAYPAL_API_URL", apiURL),
		apptest.WithEnv("PAYMENT_PAYPAL_RETURN_URL", "https://goshop.example/paypal/return")}
}

func paypalHeaders() http.Header {
	return http.Header{"Paypal-Auth-Algo": {"SHA256withRSA"}, "Paypal-Cert-Url": {"https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1"},
		"Paypal-Transmission-Id": {"69cd13f0-d67a-11e5-baa3-778b53f4ae55"}, "Paypal-Transmission-Sig": {"bGVnaXQ="},
		"Paypal-Transmission-Time": {"2026-11-24T10:00:00Z"}, "Content-Type": {"application/json"}}
}

func opts(groups ...[]apptest.Option) []apptest.Option {
	var out []apptest.Option
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
