package vnpay_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/vnpay"
)

const (
	tmnCode = "DEMOV210"
	secret  = "VNPAYTESTHASHSECRET0123456789ABC"
)

// docTime is vnp_CreateDate 20210801153333 of VNPay's documented example URL, in UTC.
var docTime = time.Date(2021, 8, 1, 8, 33, 33, 0, time.UTC)

func newGateway(apiURL string) *vnpay.Gateway {
	return vnpay.New(vnpay.Config{
		TmnCode: tmnCode, HashSecret: secret, APIURL: apiURL,
		ReturnURL: "https://domainmerchant.vn/ReturnUrl", Now: func() time.Time { return docTime },
	})
}

// independentHMAC computes HMAC-SHA512 with the standard library alone, to check the adapter's
// signing against a second implementation.
func independentHMAC(key, msg string) string {
	m := hmac.New(sha512.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// The query of VNPay's documented example payment URL
// (https://sandbox.vnpayment.vn/apis/docs/huong-dan-tich-hop/): the parameter order and the
// encoding (space as +, ":" and "/" escaped) Canonical must reproduce byte for byte.
const docQuery = "vnp_Amount=1806000&vnp_Command=pay&vnp_CreateDate=20210801153333&vnp_CurrCode=VND" +
	"&vnp_IpAddr=127.0.0.1&vnp_Locale=vn&vnp_OrderInfo=Thanh+toan+don+hang+%3A5&vnp_OrderType=other" +
	"&vnp_ReturnUrl=https%3A%2F%2Fdomainmerchant.vn%2FReturnUrl&vnp_TmnCode=DEMOV210&vnp_TxnRef=5&vnp_Version=2.1.0"

func TestCanonicalReproducesTheDocumentedQuery(t *testing.T) {
	t.Parallel()
	params, err := url.ParseQuery(docQuery + "&vnp_SecureHash=3e0d61a0&vnp_SecureHashType=HmacSHA512&utm_source=x&vnp_BankCode=")
	require.NoError(t, err)
	assert.Equal(t, docQuery, vnpay.Canonical(params), "hash fields, non-vnp fields and empty values are left out")
}

func TestCreatePaymentURL(t *testing.T) {
	t.Parallel()
	g := newGateway("")
	created, err := g.Create(context.Background(), gateway.CreateRequest{
		PaymentID: "pay-1", Reference: "5", Amount: 18060, Currency: "VND",
		Description: "Thanh toán đơn hàng :5", CustomerIP: "127.0.0.1", Locale: "vi",
	})
	require.NoError(t, err)
	assert.Equal(t, "5", created.PaymentRef)
	assert.False(t, created.CaptureRequired)
	assert.Equal(t, docTime, created.CreatedAt.UTC())

	// The documented example's parameters plus vnp_ExpireDate (required since 2.1.0), in place.
	wantQuery := strings.Replace(docQuery, "&vnp_IpAddr", "&vnp_ExpireDate=20210801154833&vnp_IpAddr", 1)
	// Computed with `openssl dgst -sha512 -hmac VNPAYTESTHASHSECRET0123456789ABC` over wantQuery.
	const wantHash = "acbee156a0233f2bfb2adbac787b7a7ac608f5117fae9c8a284e4e10afffd5bae4b62b366a5a0e6e88a1b3973f11751bb662b17596f4376fa07de3aeeba9b68c"
	assert.Equal(t, wantHash, independentHMAC(secret, wantQuery))
	assert.Equal(t, vnpay.SandboxPayURL+"?"+wantQuery+"&vnp_SecureHash="+wantHash, created.RedirectURL)

	u, err := url.Parse(created.RedirectURL)
	require.NoError(t, err)
	assert.True(t, vnpay.Verify(u.Query(), secret), "the URL verifies the way an IPN does")
	assert.Equal(t, "1806000", u.Query().Get("vnp_Amount"), "VND times 100 on the wire")
}

func TestCreateRejects(t *testing.T) {
	t.Parallel()
	g := newGateway("")
	base := gateway.CreateRequest{PaymentID: "pay-1", Amount: 10000, Currency: "VND", CustomerIP: "127.0.0.1"}
	tests := []struct {
		name   string
		mutate func(*gateway.CreateRequest)
		want   error
	}{
		{"currency other than VND", func(r *gateway.CreateRequest) { r.Currency = "USD" }, gateway.ErrInvalidRequest},
		{"no buyer IP", func(r *gateway.CreateRequest) { r.CustomerIP = "" }, gateway.ErrInvalidRequest},
		{"reference with spaces", func(r *gateway.CreateRequest) { r.Reference = "order 5" }, gateway.ErrInvalidRequest},
		{"manual capture", func(r *gateway.CreateRequest) { r.Capture = gateway.CaptureManual }, gateway.ErrNotSupported},
	}
	for _, tc := range tests {
		req := base
		tc.mutate(&req)
		_, err := g.Create(context.Background(), req)
		assert.ErrorIs(t, err, tc.want, tc.name)
	}
	noReturn := vnpay.New(vnpay.Config{TmnCode: tmnCode, HashSecret: secret})
	_, err := noReturn.Create(context.Background(), base)
	assert.ErrorIs(t, err, gateway.ErrInvalidRequest)
}

func TestOrderInfoDropsDiacriticsAndSpecialCharacters(t *testing.T) {
	t.Parallel()
	g := newGateway("")
	created, err := g.Create(context.Background(), gateway.CreateRequest{
		PaymentID: "p-1", Amount: 10000, Currency: "VND", CustomerIP: "127.0.0.1",
		Description: "Đơn hàng #42 (Áo dài) & quà ~ tặng!",
	})
	require.NoError(t, err)
	u, _ := url.Parse(created.RedirectURL)
	assert.Equal(t, "Don hang 42 Ao dai qua tang", u.Query().Get("vnp_OrderInfo"))
}

// ipnParams is the IPN of the verify-ipn-call tests of the `vnpay` npm SDK
// (github.com/lehuygiang28/vnpay, test/verify-ipn-call.test.ts), signed there with the secret
// "test_secret"; the SDK's expected hashes are the published sample values checked here.
func ipnParams() url.Values {
	return url.Values{
		"vnp_Amount":            {"1000000"},
		"vnp_BankCode":          {"NCB"},
		"vnp_BankTranNo":        {"VNP14422574"},
		"vnp_CardType":          {"ATM"},
		"vnp_OrderInfo":         {"Thanh toan don hang 2024-05-21T02:17:31.249Z"},
		"vnp_PayDate":           {"20240521091806"},
		"vnp_ResponseCode":      {"00"},
		"vnp_TmnCode":           {"TEST_TMN_CODE"},
		"vnp_TransactionNo":     {"14422574"},
		"vnp_TransactionStatus": {"00"},
		"vnp_TxnRef":            {"1716257871703"},
		"vnp_SecureHash":        {"649982421beb422556a1374713c74e58e716ecbd05007c0c0e1f7effdfaf361dbf146889ca446139afe11b9954c4d5c486e99e3b86fcfab6957f29eb0be72895"},
	}
}

func sdkGateway() *vnpay.Gateway {
	return vnpay.New(vnpay.Config{TmnCode: "TEST_TMN_CODE", HashSecret: "test_secret"})
}

func TestSignMatchesSDKSampleValues(t *testing.T) {
	t.Parallel()
	p := ipnParams()
	assert.Equal(t, p.Get("vnp_SecureHash"), vnpay.Sign(p, "test_secret"))
	p.Set("vnp_ResponseCode", "99")
	assert.Equal(t, "503194f6d93b57b357b2d1d09742565e67e86d771352c5dca4fc8d39df3d392c6b3809add9405f97cfb9631f445e36c80656cfbf47eac67d97fa165865c13e1b",
		vnpay.Sign(p, "test_secret"))
}

func TestIPNNormalization(t *testing.T) {
	t.Parallel()
	g := sdkGateway()
	ev, err := g.ParseWebhook(context.Background(), http.Header{}, nil, ipnParams())
	require.NoError(t, err)
	assert.Equal(t, "vnpay:TEST_TMN_CODE:1716257871703:14422574:00:00", ev.ID)
	assert.Equal(t, gateway.VNPay, ev.Provider)
	assert.Equal(t, gateway.EventCaptured, ev.Type)
	assert.Equal(t, "1716257871703", ev.PaymentRef)
	assert.Equal(t, "14422574", ev.TransactionID)
	assert.Equal(t, int64(10000), ev.Amount, "vnp_Amount is divided by 100")
	assert.Equal(t, "VND", ev.Currency)
	assert.Equal(t, time.Date(2024, 5, 21, 2, 18, 6, 0, time.UTC), ev.OccurredAt, "vnp_PayDate is GMT+7")

	failed := ipnParams()
	failed.Set("vnp_ResponseCode", "99")
	failed.Set("vnp_SecureHash", vnpay.Sign(failed, "test_secret"))
	ev, err = g.ParseWebhook(context.Background(), nil, nil, failed)
	require.NoError(t, err)
	assert.Equal(t, gateway.EventFailed, ev.Type)
	assert.Equal(t, "vnp_ResponseCode 99", ev.Reason)
	assert.NotEqual(t, "vnpay:TEST_TMN_CODE:1716257871703:14422574:00:00", ev.ID, "a different outcome is a different event")
}

func TestIPNResultCodes(t *testing.T) {
	t.Parallel()
	g := sdkGateway()
	tests := []struct {
		code, status string
		want         gateway.EventType
	}{
		{"00", "00", gateway.EventCaptured},
		{"24", "02", gateway.EventCanceled},
		{"51", "02", gateway.EventFailed},
		{"00", "01", gateway.EventOther},
		{"07", "07", gateway.EventOther},
	}
	for _, tc := range tests {
		p := ipnParams()
		p.Set("vnp_ResponseCode", tc.code)
		p.Set("vnp_TransactionStatus", tc.status)
		p.Set("vnp_SecureHash", vnpay.Sign(p, "test_secret"))
		ev, err := g.ParseWebhook(context.Background(), nil, nil, p)
		require.NoError(t, err)
		assert.Equal(t, tc.want, ev.Type, tc.code+"/"+tc.status)
	}
}

func TestIPNFromAFormBody(t *testing.T) {
	t.Parallel()
	ev, err := sdkGateway().ParseWebhook(context.Background(), nil, []byte(ipnParams().Encode()), nil)
	require.NoError(t, err)
	assert.Equal(t, gateway.EventCaptured, ev.Type)
}

func TestIPNTampering(t *testing.T) {
	t.Parallel()
	g := sdkGateway()
	tests := []struct {
		name   string
		mutate func(url.Values)
	}{
		{"amount raised", func(p url.Values) { p.Set("vnp_Amount", "100000000") }},
		{"result flipped", func(p url.Values) { p.Set("vnp_ResponseCode", "24") }},
		{"another order", func(p url.Values) { p.Set("vnp_TxnRef", "1716257871704") }},
		{"parameter added", func(p url.Values) { p.Set("vnp_BankCode", "VCB") }},
		{"hash removed", func(p url.Values) { p.Del("vnp_SecureHash") }},
		{"hash truncated", func(p url.Values) { p.Set("vnp_SecureHash", p.Get("vnp_SecureHash")[:64]) }},
		{"hash not hex", func(p url.Values) { p.Set("vnp_SecureHash", "zz") }},
	}
	for _, tc := range tests {
		p := ipnParams()
		tc.mutate(p)
		_, err := g.ParseWebhook(context.Background(), nil, nil, p)
		assert.ErrorIs(t, err, gateway.ErrBadSignature, tc.name)
	}
	wrongSecret := vnpay.New(vnpay.Config{TmnCode: "TEST_TMN_CODE", HashSecret: "other"})
	_, err := wrongSecret.ParseWebhook(context.Background(), nil, nil, ipnParams())
	assert.ErrorIs(t, err, gateway.ErrBadSignature)

	upper := ipnParams()
	upper.Set("vnp_SecureHash", strings.ToUpper(upper.Get("vnp_SecureHash")))
	_, err = g.ParseWebhook(context.Background(), nil, nil, upper)
	assert.NoError(t, err, "hex case does not matter")
}

func TestIPNForAnotherTerminalIsRefused(t *testing.T) {
	t.Parallel()
	g := vnpay.New(vnpay.Config{TmnCode: "OTHERTMN", HashSecret: "test_secret"})
	_, err := g.ParseWebhook(context.Background(), nil, nil, ipnParams())
	assert.ErrorIs(t, err, gateway.ErrMalformed)
}

func TestIPNAckIsTheDocumentedJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(vnpay.AckConfirmed)
	require.NoError(t, err)
	assert.JSONEq(t, `{"RspCode":"00","Message":"Confirm Success"}`, string(b))
	assert.Equal(t, "97", vnpay.AckInvalidSignature.RspCode)
}

// fakeAPI answers like VNPay's merchant_webapi/api/transaction.
func fakeAPI(t *testing.T, answer func(req map[string]string) map[string]string) (*httptest.Server, *[]map[string]string) {
	var got []map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "/merchant_webapi/api/transaction", r.URL.Path)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		body, _ := io.ReadAll(r.Body)
		var req map[string]string
		assert.NoError(t, json.Unmarshal(body, &req), "every field is a JSON string")
		got = append(got, req)
		w.Header().Set("Content-Type", "application/json")
		assert.NoError(t, json.NewEncoder(w).Encode(answer(req)))
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func refundRequest() gateway.RefundRequest {
	return gateway.RefundRequest{
		PaymentRef: "5", TransactionID: "14226112", PaymentCreatedAt: docTime,
		Amount: 5000, CapturedAmount: 18060, Currency: "VND", Reason: "Hoàn tiền đơn hàng 5",
		IdempotencyKey: "refund-key-1", RequestedBy: "admin@goshop", ClientIP: "203.0.113.5",
	}
}

func signedAnswer(code, message string) map[string]string {
	a := map[string]string{
		"vnp_ResponseId": "r1", "vnp_Command": "refund", "vnp_ResponseCode": code, "vnp_Message": message,
		"vnp_TmnCode": tmnCode, "vnp_TxnRef": "5", "vnp_Amount": "500000", "vnp_BankCode": "NCB",
		"vnp_PayDate": "20210805100001", "vnp_TransactionNo": "14230000", "vnp_TransactionType": "03",
		"vnp_TransactionStatus": "05", "vnp_OrderInfo": "Hoan tien don hang 5",
	}
	// Computed with openssl over the documented answer fields joined by "|".
	a["vnp_SecureHash"] = "9ae79c6aaee62f986ab13ee2176e626e56277889a661a934ed1326a1c76080a8f42be7bea65aa847ec3cdfbcf930e3f500c299951a6cd97930ccbb6c0d6658b1"
	return a
}

func TestRefundRequestIsSignedAsDocumented(t *testing.T) {
	t.Parallel()
	srv, got := fakeAPI(t, func(map[string]string) map[string]string { return signedAnswer("00", "Refund success") })
	g := vnpay.New(vnpay.Config{TmnCode: tmnCode, HashSecret: secret, APIURL: srv.URL + "/merchant_webapi/api/transaction",
		HTTPClient: srv.Client(), Now: func() time.Time { return time.Date(2021, 8, 5, 3, 0, 0, 0, time.UTC) }})

	res, err := g.Refund(context.Background(), refundRequest())
	require.NoError(t, err)
	assert.Equal(t, gateway.RefundResult{RefundRef: "14230000", Amount: 5000, Status: gateway.StatusSucceeded}, res)

	require.Len(t, *got, 1)
	req := (*got)[0]
	want := map[string]string{
		"vnp_RequestId": "f014f53ee2ba9d908683f7393460d8a8", "vnp_Version": "2.1.0", "vnp_Command": "refund",
		"vnp_TmnCode": tmnCode, "vnp_TransactionType": "03", "vnp_TxnRef": "5", "vnp_Amount": "500000",
		"vnp_TransactionNo": "14226112", "vnp_TransactionDate": "20210801153333", "vnp_CreateBy": "admin@goshop",
		"vnp_CreateDate": "20210805100000", "vnp_IpAddr": "203.0.113.5", "vnp_OrderInfo": "Hoan tien don hang 5",
	}
	hashData := strings.Join([]string{want["vnp_RequestId"], want["vnp_Version"], want["vnp_Command"], want["vnp_TmnCode"],
		want["vnp_TransactionType"], want["vnp_TxnRef"], want["vnp_Amount"], want["vnp_TransactionNo"],
		want["vnp_TransactionDate"], want["vnp_CreateBy"], want["vnp_CreateDate"], want["vnp_IpAddr"], want["vnp_OrderInfo"]}, "|")
	// Computed with openssl over hashData.
	want["vnp_SecureHash"] = "5e4f3a4d1665a5bc5355cf9ed5cd4835ed92a9bb27ab403c44ff745dfd50a9c2c3c6ab74e8ee5ceda529ee296850a699fdcbca9ffc62e0a1a5272799fe71f011"
	assert.Equal(t, want["vnp_SecureHash"], independentHMAC(secret, hashData))
	assert.Equal(t, want, req)
}

func TestRefundFullAndRetries(t *testing.T) {
	t.Parallel()
	srv, got := fakeAPI(t, func(map[string]string) map[string]string {
		return map[string]string{"vnp_ResponseId": "r2", "vnp_Command": "refund", "vnp_ResponseCode": "94",
			"vnp_Message": "Duplicate request"}
	})
	g := vnpay.New(vnpay.Config{TmnCode: tmnCode, HashSecret: secret, APIURL: srv.URL + "/merchant_webapi/api/transaction", HTTPClient: srv.Client()})
	req := refundRequest()
	req.Amount = req.CapturedAmount
	res, err := g.Refund(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, gateway.StatusPending, res.Status, "a duplicate request is left for the query to settle")
	_, err = g.Refund(context.Background(), req)
	require.NoError(t, err)
	require.Len(t, *got, 2)
	assert.Equal(t, "02", (*got)[0]["vnp_TransactionType"], "refunding everything captured is a full refund")
	assert.Equal(t, (*got)[0]["vnp_RequestId"], (*got)[1]["vnp_RequestId"], "the same key sends the same request id")
}

func TestRefundAnswers(t *testing.T) {
	t.Parallel()
	tampered := signedAnswer("00", "Refund success")
	tampered["vnp_Amount"] = "1806000"
	tests := []struct {
		name   string
		answer map[string]string
		check  func(t *testing.T, err error)
	}{
		{"tampered answer", tampered, func(t *testing.T, err error) { assert.ErrorIs(t, err, gateway.ErrBadSignature) }},
		{"refused", map[string]string{"vnp_ResponseCode": "02", "vnp_Message": "Invalid amount"}, func(t *testing.T, err error) {
			var pe *gateway.ProviderError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "02", pe.Code)
			assert.False(t, pe.Temporary())
		}},
	}
	for _, tc := range tests {
		srv, _ := fakeAPI(t, func(map[string]string) map[string]string { return tc.answer })
		g := vnpay.New(vnpay.Config{TmnCode: tmnCode, HashSecret: secret, APIURL: srv.URL + "/merchant_webapi/api/transaction", HTTPClient: srv.Client()})
		_, err := g.Refund(context.Background(), refundRequest())
		tc.check(t, err)
	}
}

func TestRefundHTTPFailureIsTemporary(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	g := vnpay.New(vnpay.Config{TmnCode: tmnCode, HashSecret: secret, APIURL: srv.URL, HTTPClient: srv.Client()})
	_, err := g.Refund(context.Background(), refundRequest())
	var pe *gateway.ProviderError
	require.ErrorAs(t, err, &pe)
	assert.True(t, pe.Temporary())
}

func TestRefundRejectsWithoutCalling(t *testing.T) {
	t.Parallel()
	g := newGateway("http://127.0.0.1:1/never")
	for _, mutate := range []func(*gateway.RefundRequest){
		func(r *gateway.RefundRequest) { r.Currency = "USD" },
		func(r *gateway.RefundRequest) { r.PaymentCreatedAt = time.Time{} },
		func(r *gateway.RefundRequest) { r.IdempotencyKey = "" },
		func(r *gateway.RefundRequest) { r.Amount = r.CapturedAmount + 1 },
	} {
		req := refundRequest()
		mutate(&req)
		_, err := g.Refund(context.Background(), req)
		assert.ErrorIs(t, err, gateway.ErrInvalidRequest)
	}
}

func TestCaptureAndAvailability(t *testing.T) {
	t.Parallel()
	_, err := newGateway("").Capture(context.Background(), gateway.CaptureRequest{PaymentRef: "5"})
	assert.ErrorIs(t, err, gateway.ErrNotSupported)
	g := vnpay.New(vnpay.Config{TmnCode: tmnCode})
	assert.False(t, g.Available())
	_, err = g.ParseWebhook(context.Background(), nil, nil, ipnParams())
	assert.ErrorIs(t, err, gateway.ErrUnavailable)
}
