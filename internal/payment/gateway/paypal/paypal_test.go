package paypal_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/paypal"
)

const (
	clientID     = "AeA1QIZXiflr1_-r0U2UbWTziOWX1GRQer5MhmEl3yzWS4qnLq0L7WnkfCqUDPOixsp3GNhOd4Yr2Nk9"
	clientSecret = "ECYYrrSHdKfk_Q0EdvzdGkzj58a66kKaUQ5dZAEv4HvvtDId2_DpSuYDB088BZxGuMji7G4OFUnPog6p"
	webhookID    = "4JH86294D6297924G"
	// signingKey stands in for PayPal's certificate key in the fake verify endpoint.
	signingKey = "fake-paypal-signing-key"
)

type call struct {
	method, path string
	header       http.Header
	body         []byte
}

// fakePayPal answers as PayPal's REST API documents, and keeps every request.
type fakePayPal struct {
	t          *testing.T
	mu         sync.Mutex
	calls      []call
	tokens     int
	rejectNext int // answer this many API calls (not token calls) with 401
	override   map[string]func(w http.ResponseWriter)
}

func newFake(t *testing.T) (*fakePayPal, *httptest.Server) {
	f := &fakePayPal{t: t, override: map[string]func(http.ResponseWriter){}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func gatewayFor(srv *httptest.Server, now func() time.Time) *paypal.Gateway {
	return paypal.New(paypal.Config{ClientID: clientID, ClientSecret: clientSecret, WebhookID: webhookID,
		APIURL: srv.URL, ReturnURL: "https://shop.example/paypal/return", CancelURL: "https://shop.example/paypal/cancel",
		BrandName: "GoShop", HTTPClient: srv.Client(), Now: now})
}

func (f *fakePayPal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, call{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: body})
	override := f.override[r.URL.Path]
	tokens := f.tokens
	reject := false
	if r.URL.Path != "/v1/oauth2/token" && f.rejectNext > 0 {
		f.rejectNext--
		reject = true
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if override != nil {
		override(w)
		return
	}
	if r.URL.Path != "/v1/oauth2/token" {
		want := fmt.Sprintf("Bearer A21AAFakeToken%d", tokens)
		if reject || r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_token","error_description":"Token signature verification failed"}`)
			return
		}
	}
	switch {
	case r.URL.Path == "/v1/oauth2/token":
		user, pass, ok := r.BasicAuth()
		assert.True(f.t, ok)
		assert.Equal(f.t, clientID, user)
		assert.Equal(f.t, clientSecret, pass)
		assert.Equal(f.t, "application/x-www-form-urlencoded", r.Header.Get("Content-Type"))
		assert.Equal(f.t, "grant_type=client_credentials", string(body))
		f.mu.Lock()
		f.tokens++
		n := f.tokens
		f.mu.Unlock()
		fmt.Fprintf(w, `{"scope":"https://uri.paypal.com/services/payments/payment","access_token":"A21AAFakeToken%d",
			"token_type":"Bearer","app_id":"APP-80W284485P519543T","expires_in":32400,"nonce":"2024-01-01T00:00:00Zabc"}`, n)
	case r.URL.Path == "/v2/checkout/orders":
		_, _ = io.WriteString(w, `{"id":"5O190127TN364715T","status":"PAYER_ACTION_REQUIRED","payment_source":{"paypal":{}},
			"links":[{"href":"https://api.sandbox.paypal.com/v2/checkout/orders/5O190127TN364715T","rel":"self","method":"GET"},
			{"href":"https://www.sandbox.paypal.com/checkoutnow?token=5O190127TN364715T","rel":"payer-action","method":"GET"}]}`)
	case r.URL.Path == "/v2/checkout/orders/5O190127TN364715T/capture":
		_, _ = io.WriteString(w, `{"id":"5O190127TN364715T","status":"COMPLETED","purchase_units":[{"reference_id":"order-42",
			"payments":{"captures":[{"id":"3C679366HH908993F","status":"COMPLETED","amount":{"currency_code":"USD","value":"19.99"},
			"final_capture":true,"custom_id":"pay-1"}]}}],"links":[]}`)
	case r.URL.Path == "/v2/payments/captures/3C679366HH908993F/refund":
		_, _ = io.WriteString(w, `{"id":"1JU08902781691411","status":"COMPLETED","links":[
			{"href":"https://api.sandbox.paypal.com/v2/payments/refunds/1JU08902781691411","rel":"self","method":"GET"},
			{"href":"https://api.sandbox.paypal.com/v2/payments/captures/3C679366HH908993F","rel":"up","method":"GET"}]}`)
	case r.URL.Path == "/v1/notifications/verify-webhook-signature":
		f.answerVerification(w, body)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"name":"RESOURCE_NOT_FOUND","message":"The specified resource does not exist."}`)
	}
}

// answerVerification checks the transmission signature the way PayPal's scheme is built —
// over "transmission_id|transmission_time|webhook_id|crc32(event)" — with an HMAC standing in
// for PayPal's certificate, and answers SUCCESS or FAILURE.
func (f *fakePayPal) answerVerification(w http.ResponseWriter, body []byte) {
	var req struct {
		AuthAlgo, CertURL, TransmissionID, TransmissionSig, TransmissionTime, WebhookID string
		WebhookEvent                                                                    json.RawMessage
	}
	var fields map[string]json.RawMessage
	assert.NoError(f.t, json.Unmarshal(body, &fields))
	for k, dst := range map[string]*string{"auth_algo": &req.AuthAlgo, "cert_url": &req.CertURL, "transmission_id": &req.TransmissionID,
		"transmission_sig": &req.TransmissionSig, "transmission_time": &req.TransmissionTime, "webhook_id": &req.WebhookID} {
		assert.NoError(f.t, json.Unmarshal(fields[k], dst), k)
	}
	req.WebhookEvent = fields["webhook_event"]
	status := "FAILURE"
	if req.WebhookID == webhookID && req.TransmissionSig == transmissionSig(req.TransmissionID, req.TransmissionTime, req.WebhookEvent) {
		status = "SUCCESS"
	}
	fmt.Fprintf(w, `{"verification_status":%q}`, status)
}

func transmissionSig(id, at string, event []byte) string {
	m := hmac.New(sha256.New, []byte(signingKey))
	fmt.Fprintf(m, "%s|%s|%s|%d", id, at, webhookID, crc32.ChecksumIEEE(event))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// notification returns the headers PayPal sends with a webhook for body.
func notification(body []byte) http.Header {
	h := http.Header{}
	h.Set("PAYPAL-AUTH-ALGO", "SHA256withRSA")
	h.Set("PAYPAL-CERT-URL", "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270")
	h.Set("PAYPAL-TRANSMISSION-ID", "69cd13f0-d67a-11e5-baa3-778b53f4ae55")
	h.Set("PAYPAL-TRANSMISSION-TIME", "2016-02-18T20:01:35Z")
	h.Set("PAYPAL-TRANSMISSION-SIG", transmissionSig("69cd13f0-d67a-11e5-baa3-778b53f4ae55", "2016-02-18T20:01:35Z", body))
	return h
}

func (f *fakePayPal) tokenCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokens
}

func (f *fakePayPal) apiCalls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.path != "/v1/oauth2/token" {
			out = append(out, c)
		}
	}
	return out
}

func createRequest() gateway.CreateRequest {
	return gateway.CreateRequest{PaymentID: "pay-1", Reference: "order-42", Amount: 1999, Currency: "USD",
		Description: "Order 42", IdempotencyKey: "create-key-1", Locale: "vi"}
}

func TestCreateOrder(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	g := gatewayFor(srv, nil)
	created, err := g.Create(context.Background(), createRequest())
	require.NoError(t, err)
	assert.Equal(t, "5O190127TN364715T", created.PaymentRef)
	assert.Equal(t, "https://www.sandbox.paypal.com/checkoutnow?token=5O190127TN364715T", created.RedirectURL)
	assert.True(t, created.CaptureRequired)

	calls := f.apiCalls()
	require.Len(t, calls, 1)
	c := calls[0]
	assert.Equal(t, http.MethodPost, c.method)
	assert.Equal(t, "Bearer A21AAFakeToken1", c.header.Get("Authorization"))
	assert.Equal(t, "application/json", c.header.Get("Content-Type"))
	assert.Equal(t, "create-key-1", c.header.Get("PayPal-Request-Id"))
	assert.JSONEq(t, `{"intent":"CAPTURE","purchase_units":[{"reference_id":"order-42","custom_id":"pay-1",
		"description":"Order 42","amount":{"currency_code":"USD","value":"19.99"}}],
		"payment_source":{"paypal":{"experience_context":{"return_url":"https://shop.example/paypal/return",
		"cancel_url":"https://shop.example/paypal/cancel","user_action":"PAY_NOW","shipping_preference":"NO_SHIPPING",
		"brand_name":"GoShop","locale":"vi-VN"}}}}`, string(c.body))
}

func TestAmountsOnTheWire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		amount   int64
		currency string
		want     string
		err      error
	}{
		{1999, "USD", "19.99", nil},
		{5, "EUR", "0.05", nil},
		{500, "JPY", "500", nil},
		{150000, "HUF", "1500", nil}, // 1,500.00 HUF: PayPal takes no decimals for HUF
		{150050, "HUF", "", gateway.ErrInvalidRequest},
		{250000, "VND", "", gateway.ErrInvalidRequest},
	}
	for _, tc := range tests {
		f, srv := newFake(t)
		req := createRequest()
		req.Amount, req.Currency = tc.amount, tc.currency
		_, err := gatewayFor(srv, nil).Create(context.Background(), req)
		if tc.err != nil {
			assert.ErrorIs(t, err, tc.err, tc.currency)
			assert.Empty(t, f.apiCalls())
			continue
		}
		require.NoError(t, err)
		var body struct {
			PurchaseUnits []struct{ Amount paypal.Money } `json:"purchase_units"`
		}
		require.NoError(t, json.Unmarshal(f.apiCalls()[0].body, &body))
		assert.Equal(t, paypal.Money{CurrencyCode: tc.currency, Value: tc.want}, body.PurchaseUnits[0].Amount)
	}
}

func TestLegacyApproveLink(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	f.override["/v2/checkout/orders"] = func(w http.ResponseWriter) {
		_, _ = io.WriteString(w, `{"id":"8XY","status":"CREATED","links":[{"href":"https://www.sandbox.paypal.com/checkoutnow?token=8XY","rel":"approve","method":"GET"}]}`)
	}
	created, err := gatewayFor(srv, nil).Create(context.Background(), createRequest())
	require.NoError(t, err)
	assert.Equal(t, "https://www.sandbox.paypal.com/checkoutnow?token=8XY", created.RedirectURL)
}

func TestTokenIsCachedAndRenewed(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	g := gatewayFor(srv, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	for range 3 {
		_, err := g.Create(context.Background(), createRequest())
		require.NoError(t, err)
	}
	assert.Equal(t, 1, f.tokenCount(), "one token for many calls")

	mu.Lock()
	now = now.Add(32400*time.Second - 30*time.Second) // within a minute of expiry
	mu.Unlock()
	_, err := g.Create(context.Background(), createRequest())
	require.NoError(t, err)
	assert.Equal(t, 2, f.tokenCount())
}

func TestRevokedTokenIsReplacedOnce(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	g := gatewayFor(srv, nil)
	_, err := g.Create(context.Background(), createRequest())
	require.NoError(t, err)
	f.mu.Lock()
	f.rejectNext = 1
	f.mu.Unlock()
	_, err = g.Create(context.Background(), createRequest())
	require.NoError(t, err)
	assert.Equal(t, 2, f.tokenCount())

	f.mu.Lock()
	f.rejectNext = 2
	f.mu.Unlock()
	_, err = g.Create(context.Background(), createRequest())
	var pe *gateway.ProviderError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, http.StatusUnauthorized, pe.HTTPStatus)
	assert.Equal(t, "invalid_token", pe.Code)
}

func TestBadCredentials(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	f.override["/v1/oauth2/token"] = func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"Client Authentication failed"}`)
	}
	_, err := gatewayFor(srv, nil).Create(context.Background(), createRequest())
	var pe *gateway.ProviderError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "invalid_client", pe.Code)
	assert.Empty(t, f.apiCalls())
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status    int
		body      string
		code      string
		temporary bool
	}{
		{http.StatusUnprocessableEntity, `{"name":"UNPROCESSABLE_ENTITY","details":[{"issue":"INSTRUMENT_DECLINED",
			"description":"The instrument presented was either declined by the processor or bank."}],
			"message":"The requested action could not be performed.","debug_id":"f817d6e3a1e6b"}`, "INSTRUMENT_DECLINED", false},
		{http.StatusServiceUnavailable, `{"name":"SERVICE_UNAVAILABLE","message":"Service Unavailable."}`, "SERVICE_UNAVAILABLE", true},
	}
	for _, tc := range tests {
		f, srv := newFake(t)
		f.override["/v2/checkout/orders/5O190127TN364715T/capture"] = func(w http.ResponseWriter) {
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.body)
		}
		_, err := gatewayFor(srv, nil).Capture(context.Background(), gateway.CaptureRequest{PaymentRef: "5O190127TN364715T", IdempotencyKey: "k"})
		var pe *gateway.ProviderError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, tc.code, pe.Code)
		assert.Equal(t, tc.temporary, pe.Temporary())
	}
}

func TestCapture(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	res, err := gatewayFor(srv, nil).Capture(context.Background(), gateway.CaptureRequest{
		PaymentRef: "5O190127TN364715T", Amount: 1999, Currency: "USD", IdempotencyKey: "capture-key-1"})
	require.NoError(t, err)
	assert.Equal(t, gateway.CaptureResult{TransactionID: "3C679366HH908993F", Amount: 1999, Currency: "USD",
		Status: gateway.StatusSucceeded}, res)
	c := f.apiCalls()[0]
	assert.Equal(t, "/v2/checkout/orders/5O190127TN364715T/capture", c.path)
	assert.Equal(t, "capture-key-1", c.header.Get("PayPal-Request-Id"))
	assert.Equal(t, "application/json", c.header.Get("Content-Type"))
	assert.Equal(t, "return=representation", c.header.Get("Prefer"))
	assert.Empty(t, c.body)

	_, err = gatewayFor(srv, nil).Capture(context.Background(), gateway.CaptureRequest{PaymentRef: "5O190127TN364715T"})
	assert.ErrorIs(t, err, gateway.ErrInvalidRequest, "capture needs an idempotency key")
}

func TestRefund(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	res, err := gatewayFor(srv, nil).Refund(context.Background(), gateway.RefundRequest{
		PaymentRef: "5O190127TN364715T", PaymentID: "pay-1", TransactionID: "3C679366HH908993F", Amount: 1000,
		CapturedAmount: 1999, Currency: "USD", Reason: "Item arrived damaged", IdempotencyKey: "refund-key-1"})
	require.NoError(t, err)
	assert.Equal(t, gateway.RefundResult{RefundRef: "1JU08902781691411", Amount: 1000, Status: gateway.StatusSucceeded}, res)
	c := f.apiCalls()[0]
	assert.Equal(t, "/v2/payments/captures/3C679366HH908993F/refund", c.path)
	assert.Equal(t, "refund-key-1", c.header.Get("PayPal-Request-Id"))
	assert.JSONEq(t, `{"amount":{"currency_code":"USD","value":"10.00"},"custom_id":"pay-1","note_to_payer":"Item arrived damaged"}`, string(c.body))

	_, err = gatewayFor(srv, nil).Refund(context.Background(), gateway.RefundRequest{PaymentRef: "5O1", Amount: 1,
		Currency: "USD", IdempotencyKey: "k"})
	assert.ErrorIs(t, err, gateway.ErrInvalidRequest, "refunds need the capture ID")
}

// captureCompleted is shaped like PayPal's PAYMENT.CAPTURE.COMPLETED sample event.
const captureCompleted = `{"id":"WH-2CL46544TB770421K-5VB92446WP7345818","event_version":"1.0",
"create_time":"2022-02-02T00:23:12.336Z","resource_type":"capture","resource_version":"2.0",
"event_type":"PAYMENT.CAPTURE.COMPLETED","summary":"Payment completed for $ 100.0 USD",
"resource":{"id":"29Y24445UY2083144","status":"COMPLETED","amount":{"value":"100.00","currency_code":"USD"},
"final_capture":true,"custom_id":"pay-1","supplementary_data":{"related_ids":{"order_id":"89T257400V0473133"}},
"seller_receivable_breakdown":{"gross_amount":{"value":"100.00","currency_code":"USD"},
"paypal_fee":{"value":"3.98","currency_code":"USD"},"net_amount":{"value":"96.02","currency_code":"USD"}},
"links":[{"method":"GET","rel":"self","href":"https://api.sandbox.paypal.com/v2/payments/captures/29Y24445UY2083144"},
{"method":"GET","rel":"up","href":"https://api.sandbox.paypal.com/v2/checkout/orders/89T257400V0473133"}],
"create_time":"2022-02-02T00:22:38Z","update_time":"2022-02-02T00:22:38Z"},
"links":[{"href":"https://api.sandbox.paypal.com/v1/notifications/webhooks-events/WH-2CL46544TB770421K-5VB92446WP7345818","rel":"self","method":"GET"}]}`

func TestWebhookVerification(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	g := gatewayFor(srv, nil)
	body := []byte(captureCompleted)
	ev, err := g.ParseWebhook(context.Background(), notification(body), body, nil)
	require.NoError(t, err)
	assert.Equal(t, "WH-2CL46544TB770421K-5VB92446WP7345818", ev.ID)

	calls := f.apiCalls()
	require.Len(t, calls, 1)
	c := calls[0]
	assert.Equal(t, "/v1/notifications/verify-webhook-signature", c.path)
	assert.Equal(t, "Bearer A21AAFakeToken1", c.header.Get("Authorization"))
	var sent map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(c.body, &sent))
	assert.JSONEq(t, `"SHA256withRSA"`, string(sent["auth_algo"]))
	assert.JSONEq(t, `"https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270"`, string(sent["cert_url"]))
	assert.JSONEq(t, `"69cd13f0-d67a-11e5-baa3-778b53f4ae55"`, string(sent["transmission_id"]))
	assert.JSONEq(t, `"2016-02-18T20:01:35Z"`, string(sent["transmission_time"]))
	assert.JSONEq(t, `"`+webhookID+`"`, string(sent["webhook_id"]))
	assert.Equal(t, captureCompleted, string(sent["webhook_event"]), "the event is sent byte for byte")
}

func TestWebhookRejections(t *testing.T) {
	t.Parallel()
	body := []byte(captureCompleted)
	tampered := []byte(strings.Replace(captureCompleted, `"value":"100.00","currency_code":"USD"},
"final_capture"`, `"value":"900.00","currency_code":"USD"},
"final_capture"`, 1))
	require.NotEqual(t, body, tampered)
	noSig := notification(body)
	noSig.Del("PAYPAL-TRANSMISSION-SIG")
	otherTime := notification(body)
	otherTime.Set("PAYPAL-TRANSMISSION-TIME", "2016-02-18T20:01:36Z")
	tests := []struct {
		name       string
		header     http.Header
		body       []byte
		asksPayPal bool
	}{
		{"tampered payload answers FAILURE", notification(body), tampered, true},
		{"replayed with another time answers FAILURE", otherTime, body, true},
		{"missing signature header", noSig, body, false},
		{"no headers at all", http.Header{}, body, false},
		{"not JSON", notification([]byte("x=1")), []byte("x=1"), false},
	}
	for _, tc := range tests {
		f, srv := newFake(t)
		_, err := gatewayFor(srv, nil).ParseWebhook(context.Background(), tc.header, tc.body, nil)
		assert.ErrorIs(t, err, gateway.ErrBadSignature, tc.name)
		assert.Equal(t, tc.asksPayPal, len(f.apiCalls()) == 1, tc.name)
	}
}

func TestWebhookWhenPayPalCannotVerify(t *testing.T) {
	t.Parallel()
	f, srv := newFake(t)
	f.override["/v1/notifications/verify-webhook-signature"] = func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, `{"name":"INTERNAL_SERVICE_ERROR","message":"An internal service error has occurred."}`)
	}
	body := []byte(captureCompleted)
	_, err := gatewayFor(srv, nil).ParseWebhook(context.Background(), notification(body), body, nil)
	var pe *gateway.ProviderError
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Temporary(), "PayPal will deliver again")
	assert.NotErrorIs(t, err, gateway.ErrBadSignature)
}

func event(typ, resource string) string {
	return `{"id":"WH-1","event_version":"1.0","create_time":"2024-05-01T10:00:00.000Z","event_type":"` + typ +
		`","summary":"s","resource":` + resource + `}`
}

func TestWebhookNormalization(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t)
	g := gatewayFor(srv, nil)
	captureLinks := `"links":[{"href":"https://api.sandbox.paypal.com/v2/payments/refunds/1JU08902781691411","rel":"self","method":"GET"},
		{"href":"https://api.sandbox.paypal.com/v2/payments/captures/3C679366HH908993F","rel":"up","method":"GET"}]`
	tests := []struct {
		name, body string
		want       gateway.Event
	}{
		{"sample capture completed", captureCompleted, gateway.Event{ID: "WH-2CL46544TB770421K-5VB92446WP7345818",
			Type: gateway.EventCaptured, ProviderType: "PAYMENT.CAPTURE.COMPLETED", PaymentRef: "89T257400V0473133",
			PaymentID: "pay-1", TransactionID: "29Y24445UY2083144", Amount: 10000, Currency: "USD",
			OccurredAt: time.Date(2022, 2, 2, 0, 23, 12, 336000000, time.UTC)}},
		{"order approved", event("CHECKOUT.ORDER.APPROVED", `{"id":"5O190127TN364715T","intent":"CAPTURE","status":"APPROVED",
			"purchase_units":[{"reference_id":"order-42","custom_id":"pay-1","amount":{"currency_code":"USD","value":"19.99"}}]}`),
			gateway.Event{Type: gateway.EventAuthorized, PaymentRef: "5O190127TN364715T", PaymentID: "pay-1", Amount: 1999, Currency: "USD"}},
		{"capture order found by up link", event("PAYMENT.CAPTURE.COMPLETED", `{"id":"3C6","status":"COMPLETED",
			"amount":{"currency_code":"JPY","value":"500"},"links":[{"href":"https://api.paypal.com/v2/checkout/orders/5O1","rel":"up","method":"GET"}]}`),
			gateway.Event{Type: gateway.EventCaptured, PaymentRef: "5O1", TransactionID: "3C6", Amount: 500, Currency: "JPY"}},
		{"capture denied", event("PAYMENT.CAPTURE.DENIED", `{"id":"3C7","status":"DECLINED","amount":{"currency_code":"USD","value":"5.00"},
			"status_details":{"reason":"DECLINED_BY_RISK_FRAUD_FILTERS"},"supplementary_data":{"related_ids":{"order_id":"5O2"}}}`),
			gateway.Event{Type: gateway.EventFailed, PaymentRef: "5O2", TransactionID: "3C7", Amount: 500, Currency: "USD",
				Reason: "DECLINED_BY_RISK_FRAUD_FILTERS"}},
		{"capture refunded", event("PAYMENT.CAPTURE.REFUNDED", `{"id":"1JU08902781691411","status":"COMPLETED",
			"amount":{"currency_code":"USD","value":"10.00"},"custom_id":"pay-1",`+captureLinks+`}`),
			gateway.Event{Type: gateway.EventRefunded, PaymentID: "pay-1", TransactionID: "3C679366HH908993F",
				RefundRef: "1JU08902781691411", Amount: 1000, Currency: "USD"}},
		{"capture reversed", event("PAYMENT.CAPTURE.REVERSED", `{"id":"1JU0","status":"COMPLETED",
			"amount":{"currency_code":"USD","value":"19.99"},`+captureLinks+`}`),
			gateway.Event{Type: gateway.EventRefunded, TransactionID: "3C679366HH908993F", RefundRef: "1JU0", Amount: 1999,
				Currency: "USD", Reason: "reversed"}},
		{"dispute created", event("CUSTOMER.DISPUTE.CREATED", `{"dispute_id":"PP-D-27803","reason":"MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
			"status":"OPEN","dispute_amount":{"currency_code":"USD","value":"19.99"},
			"disputed_transactions":[{"seller_transaction_id":"3C679366HH908993F","custom":"pay-1"}]}`),
			gateway.Event{Type: gateway.EventDisputed, PaymentID: "pay-1", TransactionID: "3C679366HH908993F",
				DisputeRef: "PP-D-27803", Amount: 1999, Currency: "USD", Reason: "MERCHANDISE_OR_SERVICE_NOT_RECEIVED"}},
		{"dispute lost", event("CUSTOMER.DISPUTE.RESOLVED", `{"dispute_id":"PP-D-27803","reason":"UNAUTHORISED",
			"status":"RESOLVED","dispute_amount":{"currency_code":"USD","value":"19.99"},
			"dispute_outcome":{"outcome_code":"RESOLVED_BUYER_FAVOUR"},"disputed_transactions":[{"seller_transaction_id":"3C6"}]}`),
			gateway.Event{Type: gateway.EventDisputeLost, TransactionID: "3C6", DisputeRef: "PP-D-27803", Amount: 1999,
				Currency: "USD", Reason: "UNAUTHORISED"}},
		{"dispute won", event("CUSTOMER.DISPUTE.RESOLVED", `{"dispute_id":"PP-D-1","dispute_outcome":{"outcome_code":"RESOLVED_SELLER_FAVOUR"}}`),
			gateway.Event{Type: gateway.EventDisputeWon, DisputeRef: "PP-D-1"}},
		{"pending capture", event("PAYMENT.CAPTURE.PENDING", `{"id":"3C8","status":"PENDING"}`), gateway.Event{Type: gateway.EventOther}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			ev, err := g.ParseWebhook(context.Background(), notification(body), body, nil)
			require.NoError(t, err)
			want := tc.want
			want.Provider, want.Raw = gateway.PayPal, body
			if want.ID == "" {
				want.ID, want.OccurredAt = "WH-1", time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
				want.ProviderType = ev.ProviderType
			}
			assert.Equal(t, want, ev)
		})
	}
}

func TestWebhookSignedButUnreadable(t *testing.T) {
	t.Parallel()
	_, srv := newFake(t)
	body := []byte(event("PAYMENT.CAPTURE.COMPLETED", `{"id":"3C6","amount":{"currency_code":"USD","value":"1.999"}}`))
	_, err := gatewayFor(srv, nil).ParseWebhook(context.Background(), notification(body), body, nil)
	assert.ErrorIs(t, err, gateway.ErrMalformed)
}

func TestUnavailableWithoutWebhookID(t *testing.T) {
	t.Parallel()
	g := paypal.New(paypal.Config{ClientID: clientID, ClientSecret: clientSecret})
	assert.False(t, g.Available())
	_, err := g.Create(context.Background(), createRequest())
	assert.ErrorIs(t, err, gateway.ErrUnavailable)
}
