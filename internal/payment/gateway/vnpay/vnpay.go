// Package vnpay is the bank-transfer gateway, speaking VNPay's payment gateway protocol v2.1.0
// (https://sandbox.vnpayment.vn/apis/docs/thanh-toan-pay/pay.html): the buyer is redirected to
// a payment URL whose vnp_* parameters are sorted by name, URL-encoded and signed with
// HMAC-SHA512 under the merchant's hash secret (vnp_SecureHash); the result comes back as the
// same kind of signed parameters, on the return URL and as a server-to-server IPN (GET).
// Refunds go through the merchant web API (JSON, HMAC-SHA512 over the documented fields joined
// by "|"). VNPay has no minor unit on the wire of its own: vnp_Amount is VND times 100.
package vnpay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/internal/wire"
)

// VNPay's sandbox endpoints, the defaults; production sets its own.
const (
	SandboxPayURL = "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html"
	SandboxAPIURL = "https://sandbox.vnpayment.vn/merchant_webapi/api/transaction"
)

// Version is the protocol version this adapter speaks.
const Version = "2.1.0"

// DefaultExpiry is how long a payment URL stays payable (vnp_ExpireDate).
const DefaultExpiry = 15 * time.Minute

// VNPay's times are Vietnam local time (GMT+7, no daylight saving), written yyyyMMddHHmmss.
var vietnam = time.FixedZone("GMT+7", 7*60*60)

const timeLayout = "20060102150405"

// Config configures the VNPay gateway.
type Config struct {
	TmnCode    string // vnp_TmnCode, the merchant's terminal code
	HashSecret string // vnp_HashSecret
	PayURL     string // default SandboxPayURL
	APIURL     string // refund/query endpoint; default SandboxAPIURL
	ReturnURL  string // vnp_ReturnUrl when a request gives none; the IPN URL is registered with VNPay
	Expiry     time.Duration
	HTTPClient *http.Client
	Now        func() time.Time
}

// Gateway is the VNPay provider.
type Gateway struct {
	cfg    Config
	client *http.Client
}

var _ gateway.Gateway = (*Gateway)(nil)

// New returns a VNPay gateway.
func New(cfg Config) *Gateway {
	if cfg.PayURL == "" {
		cfg.PayURL = SandboxPayURL
	}
	if cfg.APIURL == "" {
		cfg.APIURL = SandboxAPIURL
	}
	if cfg.Expiry <= 0 {
		cfg.Expiry = DefaultExpiry
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Gateway{cfg: cfg, client: wire.DefaultClient(cfg.HTTPClient)}
}

// Name is "vnpay".
func (g *Gateway) Name() string { return gateway.VNPay }

// Available reports whether the terminal code and hash secret are configured.
func (g *Gateway) Available() bool { return g.cfg.TmnCode != "" && g.cfg.HashSecret != "" }

// Accepts reports whether VNPay takes payments in cur: only VND.
func (g *Gateway) Accepts(cur string) bool { return wire.VNDOnly(gateway.VNPay, cur) == nil }

// Canonical writes the vnp_* parameters as VNPay signs them: sorted by name, each name and
// value URL-encoded (space as "+"), joined with "&". vnp_SecureHash and vnp_SecureHashType
// are never part of it. The same string is the payment URL's query.
func Canonical(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if strings.HasPrefix(k, "vnp_") && k != "vnp_SecureHash" && k != "vnp_SecureHashType" && params.Get(k) != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(params.Get(k)))
	}
	return b.String()
}

// Sign returns vnp_SecureHash for params: HMAC-SHA512 of Canonical(params), lowercase hex.
func Sign(params url.Values, hashSecret string) string {
	return wire.HMACSHA512(hashSecret, Canonical(params))
}

// Verify checks params' vnp_SecureHash.
func Verify(params url.Values, hashSecret string) bool {
	return wire.EqualHex(params.Get("vnp_SecureHash"), Sign(params, hashSecret))
}

var refPattern = regexp.MustCompile(`^[0-9A-Za-z_.-]{1,100}$`)

// Create builds the signed payment URL; the buyer pays on VNPay's page.
func (g *Gateway) Create(_ context.Context, req gateway.CreateRequest) (gateway.Created, error) {
	if err := wire.CheckCreate(g, req, true); err != nil {
		return gateway.Created{}, err
	}
	ref := req.Ref()
	returnURL := wire.First(req.ReturnURL, g.cfg.ReturnURL)
	switch {
	case !refPattern.MatchString(ref):
		return gateway.Created{}, fmt.Errorf("%w: vnpay reference %q must be 1-100 letters, digits, - _ .", gateway.ErrInvalidRequest, ref)
	case req.CustomerIP == "":
		return gateway.Created{}, fmt.Errorf("%w: vnpay needs the buyer's IP address", gateway.ErrInvalidRequest)
	case returnURL == "":
		return gateway.Created{}, fmt.Errorf("%w: vnpay needs a return URL", gateway.ErrInvalidRequest)
	}
	amount, err := gateway.Rescale(req.Amount, 0, 2)
	if err != nil {
		return gateway.Created{}, err
	}
	now := g.cfg.Now().In(vietnam)
	params := url.Values{
		"vnp_Version":    {Version},
		"vnp_Command":    {"pay"},
		"vnp_TmnCode":    {g.cfg.TmnCode},
		"vnp_Amount":     {fmt.Sprint(amount)},
		"vnp_CurrCode":   {"VND"},
		"vnp_TxnRef":     {ref},
		"vnp_OrderInfo":  {orderInfo(req.Description, "Thanh toan "+ref)},
		"vnp_OrderType":  {"other"},
		"vnp_Locale":     {locale(req.Locale)},
		"vnp_ReturnUrl":  {returnURL},
		"vnp_IpAddr":     {req.CustomerIP},
		"vnp_CreateDate": {now.Format(timeLayout)},
		"vnp_ExpireDate": {now.Add(g.cfg.Expiry).Format(timeLayout)},
	}
	query := Canonical(params)
	return gateway.Created{
		PaymentRef:  ref,
		RedirectURL: g.cfg.PayURL + "?" + query + "&vnp_SecureHash=" + wire.HMACSHA512(g.cfg.HashSecret, query),
		CreatedAt:   now.Truncate(time.Second),
	}, nil
}

func locale(l string) string {
	if strings.HasPrefix(strings.ToLower(l), "en") {
		return "en"
	}
	return "vn"
}

// orderInfo makes vnp_OrderInfo as VNPay asks for it: Vietnamese without diacritics and no
// special characters. Keeping to letters, digits, space and - _ . : also keeps the encoding
// the same whichever URL encoder VNPay's side uses to recompute the hash.
func orderInfo(s, fallback string) string {
	// A transform chain keeps state, so each call builds its own.
	s, _, _ = transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
	s = strings.Map(func(r rune) rune {
		switch {
		case r == 'đ':
			return 'd'
		case r == 'Đ':
			return 'D'
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" -_.:", r)):
			return r
		default:
			return ' '
		}
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 255 {
		s = strings.TrimSpace(s[:255])
	}
	if s == "" {
		return fallback
	}
	return s
}

// ParseWebhook verifies and reads an IPN (or a return URL's parameters). VNPay sends the IPN
// as a GET, so the parameters are in query; a form body is read when query is empty.
func (g *Gateway) ParseWebhook(_ context.Context, _ http.Header, body []byte, query url.Values) (gateway.Event, error) {
	if err := wire.Ready(g); err != nil {
		return gateway.Event{}, err
	}
	params := query
	if len(params) == 0 && len(body) > 0 {
		var err error
		if params, err = url.ParseQuery(string(body)); err != nil {
			return gateway.Event{}, fmt.Errorf("%w: vnpay: unreadable parameters", gateway.ErrBadSignature)
		}
	}
	if !Verify(params, g.cfg.HashSecret) {
		return gateway.Event{}, fmt.Errorf("%w: vnpay: vnp_SecureHash does not match", gateway.ErrBadSignature)
	}
	if params.Get("vnp_TmnCode") != g.cfg.TmnCode {
		return gateway.Event{}, fmt.Errorf("%w: vnpay: notification for terminal %q", gateway.ErrMalformed, params.Get("vnp_TmnCode"))
	}
	ref, txn := params.Get("vnp_TxnRef"), params.Get("vnp_TransactionNo")
	code, status := params.Get("vnp_ResponseCode"), params.Get("vnp_TransactionStatus")
	if ref == "" || code == "" {
		return gateway.Event{}, fmt.Errorf("%w: vnpay: vnp_TxnRef and vnp_ResponseCode are required", gateway.ErrMalformed)
	}
	wireAmount, err := strconv.ParseInt(params.Get("vnp_Amount"), 10, 64)
	if err != nil || wireAmount < 0 {
		return gateway.Event{}, fmt.Errorf("%w: vnpay: vnp_Amount %q", gateway.ErrMalformed, params.Get("vnp_Amount"))
	}
	amount, err := gateway.Rescale(wireAmount, 2, 0)
	if err != nil {
		return gateway.Event{}, fmt.Errorf("%w: vnpay: %w", gateway.ErrMalformed, err)
	}
	ev := gateway.Event{
		ID:            strings.Join([]string{"vnpay", g.cfg.TmnCode, ref, txn, code, status}, ":"),
		Provider:      gateway.VNPay,
		Type:          eventType(code, status),
		ProviderType:  "vnp_ResponseCode=" + code + ",vnp_TransactionStatus=" + status,
		PaymentRef:    ref,
		TransactionID: txn,
		Amount:        amount,
		Currency:      "VND",
		Raw:           []byte(Canonical(params) + "&vnp_SecureHash=" + params.Get("vnp_SecureHash")),
	}
	if ev.Type == gateway.EventFailed || ev.Type == gateway.EventCanceled {
		ev.Reason = "vnp_ResponseCode " + code
	}
	if t, err := time.ParseInLocation(timeLayout, params.Get("vnp_PayDate"), vietnam); err == nil {
		ev.OccurredAt = t.UTC()
	}
	return ev, nil
}

// eventType reads VNPay's result codes: vnp_ResponseCode 00 with vnp_TransactionStatus 00 is a
// completed payment; 24 is the buyer cancelling; 01 (not completed) and 07 (held as suspected
// fraud) settle later; anything else failed.
func eventType(code, status string) gateway.EventType {
	switch {
	case code == "00" && (status == "00" || status == ""):
		return gateway.EventCaptured
	case code == "24":
		return gateway.EventCanceled
	case status == "01" || status == "07":
		return gateway.EventOther
	default:
		return gateway.EventFailed
	}
}

// IPNAck is the JSON answer VNPay expects to an IPN; VNPay retries an IPN until it gets one.
type IPNAck struct {
	RspCode string `json:"RspCode"`
	Message string `json:"Message"`
}

// The documented IPN answers.
var (
	AckConfirmed        = IPNAck{RspCode: "00", Message: "Confirm Success"}
	AckOrderNotFound    = IPNAck{RspCode: "01", Message: "Order not found"}
	AckAlreadyConfirmed = IPNAck{RspCode: "02", Message: "Order already confirmed"}
	AckInvalidAmount    = IPNAck{RspCode: "04", Message: "Invalid amount"}
	AckInvalidSignature = IPNAck{RspCode: "97", Message: "Invalid signature"}
	AckUnknownError     = IPNAck{RspCode: "99", Message: "Unknown error"}
)

// Capture is not supported: VNPay collects at payment.
func (g *Gateway) Capture(context.Context, gateway.CaptureRequest) (gateway.CaptureResult, error) {
	return gateway.CaptureResult{}, fmt.Errorf("%w: vnpay captures at payment", gateway.ErrNotSupported)
}

// refundResponse is the merchant web API's answer to vnp_Command=refund.
type refundResponse struct {
	ResponseID        wire.Text `json:"vnp_ResponseId"`
	Command           wire.Text `json:"vnp_Command"`
	ResponseCode      wire.Text `json:"vnp_ResponseCode"`
	Message           wire.Text `json:"vnp_Message"`
	TmnCode           wire.Text `json:"vnp_TmnCode"`
	TxnRef            wire.Text `json:"vnp_TxnRef"`
	Amount            wire.Text `json:"vnp_Amount"`
	BankCode          wire.Text `json:"vnp_BankCode"`
	PayDate           wire.Text `json:"vnp_PayDate"`
	TransactionNo     wire.Text `json:"vnp_TransactionNo"`
	TransactionType   wire.Text `json:"vnp_TransactionType"`
	TransactionStatus wire.Text `json:"vnp_TransactionStatus"`
	OrderInfo         wire.Text `json:"vnp_OrderInfo"`
	SecureHash        wire.Text `json:"vnp_SecureHash"`
}

// hashData is the documented checksum input of the refund answer.
func (r refundResponse) hashData() string {
	return strings.Join([]string{string(r.ResponseID), string(r.Command), string(r.ResponseCode), string(r.Message),
		string(r.TmnCode), string(r.TxnRef), string(r.Amount), string(r.BankCode), string(r.PayDate),
		string(r.TransactionNo), string(r.TransactionType), string(r.TransactionStatus), string(r.OrderInfo)}, "|")
}

// Refund asks VNPay to refund part (vnp_TransactionType 03) or all (02) of a payment.
// vnp_RequestId is derived from the idempotency key, so a retried refund is recognized by
// VNPay as a duplicate (response code 94) and reported as pending rather than refunded twice.
func (g *Gateway) Refund(ctx context.Context, req gateway.RefundRequest) (gateway.RefundResult, error) {
	if err := wire.CheckRefund(g, req, true); err != nil {
		return gateway.RefundResult{}, err
	}
	if req.PaymentCreatedAt.IsZero() || req.ClientIP == "" {
		return gateway.RefundResult{}, fmt.Errorf("%w: vnpay refunds need the payment's creation time and a client IP", gateway.ErrInvalidRequest)
	}
	amount, err := gateway.Rescale(req.Amount, 0, 2)
	if err != nil {
		return gateway.RefundResult{}, err
	}
	txType := "03"
	if req.CapturedAmount == 0 || req.Amount == req.CapturedAmount {
		txType = "02"
	}
	sum := sha256.Sum256([]byte(req.IdempotencyKey))
	f := map[string]string{
		"vnp_RequestId":       hex.EncodeToString(sum[:16]),
		"vnp_Version":         Version,
		"vnp_Command":         "refund",
		"vnp_TmnCode":         g.cfg.TmnCode,
		"vnp_TransactionType": txType,
		"vnp_TxnRef":          req.PaymentRef,
		"vnp_Amount":          fmt.Sprint(amount),
		"vnp_TransactionNo":   req.TransactionID,
		"vnp_TransactionDate": req.PaymentCreatedAt.In(vietnam).Format(timeLayout),
		"vnp_CreateBy":        wire.First(req.RequestedBy, "system"),
		"vnp_CreateDate":      g.cfg.Now().In(vietnam).Format(timeLayout),
		"vnp_IpAddr":          req.ClientIP,
		"vnp_OrderInfo":       orderInfo(req.Reason, "Hoan tien "+req.PaymentRef),
	}
	hashData := make([]string, 0, len(refundFields))
	for _, k := range refundFields {
		hashData = append(hashData, f[k])
	}
	f["vnp_SecureHash"] = wire.HMACSHA512(g.cfg.HashSecret, strings.Join(hashData, "|"))

	var res refundResponse
	err = wire.Do(ctx, g.client, gateway.VNPay, wire.Request{Method: http.MethodPost, URL: g.cfg.APIURL, Body: f}, &res)
	if se := (*wire.StatusError)(nil); errors.As(err, &se) {
		return gateway.RefundResult{}, &gateway.ProviderError{Provider: gateway.VNPay, HTTPStatus: se.Status, Message: string(se.Body)}
	} else if err != nil {
		return gateway.RefundResult{}, err
	}
	if res.SecureHash != "" && !wire.EqualHex(string(res.SecureHash), wire.HMACSHA512(g.cfg.HashSecret, res.hashData())) {
		return gateway.RefundResult{}, fmt.Errorf("%w: vnpay: refund answer's vnp_SecureHash does not match", gateway.ErrBadSignature)
	}
	switch res.ResponseCode {
	case "00":
		return gateway.RefundResult{RefundRef: wire.First(string(res.TransactionNo), f["vnp_RequestId"]), Amount: req.Amount,
			Status: gateway.StatusSucceeded}, nil
	case "94":
		return gateway.RefundResult{RefundRef: f["vnp_RequestId"], Amount: req.Amount, Status: gateway.StatusPending}, nil
	default:
		return gateway.RefundResult{}, &gateway.ProviderError{Provider: gateway.VNPay, Code: string(res.ResponseCode), Message: string(res.Message)}
	}
}

// refundFields is the documented order of the refund request's checksum input.
var refundFields = []string{"vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TransactionType",
	"vnp_TxnRef", "vnp_Amount", "vnp_TransactionNo", "vnp_TransactionDate", "vnp_CreateBy", "vnp_CreateDate",
	"vnp_IpAddr", "vnp_OrderInfo"}
