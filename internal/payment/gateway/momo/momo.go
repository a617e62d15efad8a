// Package momo is the MoMo e-wallet gateway, speaking MoMo's payment gateway API v2
// (https://developers.momo.vn/v3/docs/payment/api/wallet/onetime): a captureWallet create
// request gives the buyer a payUrl; the result arrives as an IPN (JSON POST). Requests and
// IPNs are signed with HMAC-SHA256 under the partner's secret key over "key=value" pairs
// joined by "&" in the documented order (the keys sorted a-z). Amounts are VND, which has no
// minor unit, so they go on the wire as they are.
package momo

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/internal/wire"
)

// SandboxEndpoint is MoMo's test environment, the default; production sets its own.
const SandboxEndpoint = "https://test-payment.momo.vn"

// IPNAnswerStatus is the HTTP status MoMo documents as the answer to an IPN it should not
// send again.
const IPNAnswerStatus = http.StatusNoContent

// Config configures the MoMo gateway.
type Config struct {
	PartnerCode string
	AccessKey   string
	SecretKey   string
	Endpoint    string // default SandboxEndpoint
	RedirectURL string // redirectUrl when a request gives none
	IPNURL      string // ipnUrl: our webhook route
	Lang        string // "vi" (default) or "en"
	HTTPClient  *http.Client
}

// Gateway is the MoMo provider.
type Gateway struct {
	cfg    Config
	client *http.Client
}

var _ gateway.Gateway = (*Gateway)(nil)

// New returns a MoMo gateway.
func New(cfg Config) *Gateway {
	if cfg.Endpoint == "" {
		cfg.Endpoint = SandboxEndpoint
	}
	cfg.Endpoint = strings.TrimRight(cfg.Endpoint, "/")
	if cfg.Lang != "en" {
		cfg.Lang = "vi"
	}
	return &Gateway{cfg: cfg, client: wire.DefaultClient(cfg.HTTPClient)}
}

// Name is "momo".
func (g *Gateway) Name() string { return gateway.MoMo }

// Available reports whether the partner code and both keys are configured.
func (g *Gateway) Available() bool {
	return g.cfg.PartnerCode != "" && g.cfg.AccessKey != "" && g.cfg.SecretKey != ""
}

// Accepts reports whether MoMo takes payments in cur: only VND.
func (g *Gateway) Accepts(cur string) bool { return wire.VNDOnly(gateway.MoMo, cur) == nil }

// pair is one key=value of a signature's raw data.
type pair struct{ k, v string }

// sign returns the HMAC-SHA256 signature of the pairs, written "k1=v1&k2=v2..." in the order
// given, under the secret key. Values are not URL-encoded: MoMo signs them raw.
func sign(secret string, pairs ...pair) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return wire.HMACSHA256(secret, b.String())
}

// CreateRequest is the body of POST /v2/gateway/api/create.
type CreateRequest struct {
	PartnerCode string `json:"partnerCode"`
	RequestID   string `json:"requestId"`
	Amount      int64  `json:"amount"`
	OrderID     string `json:"orderId"`
	OrderInfo   string `json:"orderInfo"`
	RedirectURL string `json:"redirectUrl"`
	IPNURL      string `json:"ipnUrl"`
	RequestType string `json:"requestType"`
	ExtraData   string `json:"extraData"`
	Lang        string `json:"lang"`
	Signature   string `json:"signature"`
}

// Sign fills Signature as documented: accessKey, amount, extraData, ipnUrl, orderId,
// orderInfo, partnerCode, redirectUrl, requestId, requestType.
func (r *CreateRequest) Sign(accessKey, secretKey string) {
	r.Signature = sign(secretKey,
		pair{"accessKey", accessKey}, pair{"amount", strconv.FormatInt(r.Amount, 10)}, pair{"extraData", r.ExtraData},
		pair{"ipnUrl", r.IPNURL}, pair{"orderId", r.OrderID}, pair{"orderInfo", r.OrderInfo},
		pair{"partnerCode", r.PartnerCode}, pair{"redirectUrl", r.RedirectURL}, pair{"requestId", r.RequestID},
		pair{"requestType", r.RequestType})
}

type createResponse struct {
	PartnerCode  wire.Text `json:"partnerCode"`
	OrderID      wire.Text `json:"orderId"`
	RequestID    wire.Text `json:"requestId"`
	Amount       wire.Text `json:"amount"`
	ResponseTime wire.Text `json:"responseTime"`
	Message      wire.Text `json:"message"`
	ResultCode   wire.Text `json:"resultCode"`
	PayURL       string    `json:"payUrl"`
	Deeplink     string    `json:"deeplink"`
	QRCodeURL    string    `json:"qrCodeUrl"`
}

// extra is what extraData carries (base64 of JSON, as MoMo documents).
type extra struct {
	PaymentID string `json:"payment_id"`
}

var orderIDPattern = regexp.MustCompile(`^[0-9a-zA-Z]([-_.]*[0-9a-zA-Z]+)*$`)

// Create asks MoMo for a captureWallet payment and returns its payUrl.
func (g *Gateway) Create(ctx context.Context, req gateway.CreateRequest) (gateway.Created, error) {
	if err := wire.CheckCreate(g, req, true); err != nil {
		return gateway.Created{}, err
	}
	redirect := wire.First(req.ReturnURL, g.cfg.RedirectURL)
	switch {
	case !orderIDPattern.MatchString(req.Ref()) || len(req.Ref()) > 200:
		return gateway.Created{}, fmt.Errorf("%w: momo orderId %q must be letters and digits joined by - _ .", gateway.ErrInvalidRequest, req.Ref())
	case g.cfg.IPNURL == "":
		return gateway.Created{}, fmt.Errorf("%w: momo needs an IPN URL", gateway.ErrInvalidRequest)
	}
	ex, _ := json.Marshal(extra{PaymentID: req.PaymentID})
	body := CreateRequest{
		PartnerCode: g.cfg.PartnerCode,
		RequestID:   wire.First(req.IdempotencyKey, randomID()),
		Amount:      req.Amount,
		OrderID:     req.Ref(),
		OrderInfo:   wire.First(req.Description, "Thanh toan "+req.Ref()),
		RedirectURL: redirect,
		IPNURL:      g.cfg.IPNURL,
		RequestType: "captureWallet",
		ExtraData:   base64.StdEncoding.EncodeToString(ex),
		Lang:        lang(req.Locale, g.cfg.Lang),
	}
	body.Sign(g.cfg.AccessKey, g.cfg.SecretKey)
	var res createResponse
	if err := g.post(ctx, "/v2/gateway/api/create", body, &res); err != nil {
		return gateway.Created{}, err
	}
	if res.ResultCode != "0" {
		return gateway.Created{}, resultError(res.ResultCode, res.Message)
	}
	created := gateway.Created{PaymentRef: body.OrderID, RedirectURL: res.PayURL, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if ms, err := strconv.ParseInt(string(res.ResponseTime), 10, 64); err == nil {
		created.CreatedAt = time.UnixMilli(ms).UTC()
	}
	return created, nil
}

func lang(locale, def string) string {
	switch {
	case strings.HasPrefix(locale, "en"):
		return "en"
	case strings.HasPrefix(locale, "vi"):
		return "vi"
	}
	return def
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

func resultError(code, message wire.Text) error {
	return &gateway.ProviderError{Provider: gateway.MoMo, Code: string(code), Message: string(message)}
}

// post sends a signed body. MoMo answers refusals with a JSON body carrying resultCode, on a
// 2xx or a 4xx status; both are read the same way.
func (g *Gateway) post(ctx context.Context, path string, body, out any) error {
	err := wire.Do(ctx, g.client, gateway.MoMo, wire.Request{Method: http.MethodPost, URL: g.cfg.Endpoint + path, Body: body}, out)
	var se *wire.StatusError
	if !errors.As(err, &se) {
		return err
	}
	var refusal struct{ ResultCode, Message wire.Text }
	if json.Unmarshal(se.Body, &refusal) == nil && refusal.ResultCode != "" {
		return &gateway.ProviderError{Provider: gateway.MoMo, Code: string(refusal.ResultCode),
			Message: string(refusal.Message), HTTPStatus: se.Status}
	}
	return &gateway.ProviderError{Provider: gateway.MoMo, HTTPStatus: se.Status, Message: string(se.Body)}
}

// IPN is the body MoMo posts to ipnUrl. Every field is kept as sent, because the signature
// is computed over the text.
type IPN struct {
	PartnerCode  wire.Text `json:"partnerCode"`
	OrderID      wire.Text `json:"orderId"`
	RequestID    wire.Text `json:"requestId"`
	Amount       wire.Text `json:"amount"`
	OrderInfo    wire.Text `json:"orderInfo"`
	OrderType    wire.Text `json:"orderType"`
	TransID      wire.Text `json:"transId"`
	ResultCode   wire.Text `json:"resultCode"`
	Message      wire.Text `json:"message"`
	PayType      wire.Text `json:"payType"`
	ResponseTime wire.Text `json:"responseTime"`
	ExtraData    wire.Text `json:"extraData"`
	Signature    wire.Text `json:"signature"`
}

// ExpectedSignature is the IPN's documented signature: accessKey, amount, extraData, message,
// orderId, orderInfo, orderType, partnerCode, payType, requestId, responseTime, resultCode,
// transId. The access key is the partner's own; MoMo does not send it.
func (n IPN) ExpectedSignature(accessKey, secretKey string) string {
	return sign(secretKey,
		pair{"accessKey", accessKey}, pair{"amount", string(n.Amount)}, pair{"extraData", string(n.ExtraData)},
		pair{"message", string(n.Message)}, pair{"orderId", string(n.OrderID)}, pair{"orderInfo", string(n.OrderInfo)},
		pair{"orderType", string(n.OrderType)}, pair{"partnerCode", string(n.PartnerCode)}, pair{"payType", string(n.PayType)},
		pair{"requestId", string(n.RequestID)}, pair{"responseTime", string(n.ResponseTime)},
		pair{"resultCode", string(n.ResultCode)}, pair{"transId", string(n.TransID)})
}

// ParseWebhook verifies an IPN's signature and normalizes it. The body has to be decoded to
// find the signed fields, but nothing in it is trusted before the signature matches.
func (g *Gateway) ParseWebhook(_ context.Context, _ http.Header, body []byte, _ url.Values) (gateway.Event, error) {
	if err := wire.Ready(g); err != nil {
		return gateway.Event{}, err
	}
	var n IPN
	if err := json.Unmarshal(body, &n); err != nil {
		return gateway.Event{}, fmt.Errorf("%w: momo: unreadable IPN", gateway.ErrBadSignature)
	}
	if !wire.EqualHex(string(n.Signature), n.ExpectedSignature(g.cfg.AccessKey, g.cfg.SecretKey)) {
		return gateway.Event{}, fmt.Errorf("%w: momo: IPN signature does not match", gateway.ErrBadSignature)
	}
	if string(n.PartnerCode) != g.cfg.PartnerCode {
		return gateway.Event{}, fmt.Errorf("%w: momo: IPN for partner %q", gateway.ErrMalformed, n.PartnerCode)
	}
	amount, err := strconv.ParseInt(string(n.Amount), 10, 64)
	if err != nil || n.OrderID == "" || n.ResultCode == "" {
		return gateway.Event{}, fmt.Errorf("%w: momo: IPN needs orderId, resultCode and an integer amount", gateway.ErrMalformed)
	}
	ev := gateway.Event{
		ID:            strings.Join([]string{"momo", string(n.PartnerCode), string(n.OrderID), string(n.RequestID), string(n.TransID), string(n.ResultCode)}, ":"),
		Provider:      gateway.MoMo,
		Type:          eventType(string(n.ResultCode)),
		ProviderType:  "resultCode=" + string(n.ResultCode),
		PaymentRef:    string(n.OrderID),
		TransactionID: string(n.TransID),
		Amount:        amount,
		Currency:      "VND",
		Raw:           body,
	}
	if ev.Type == gateway.EventFailed || ev.Type == gateway.EventCanceled {
		ev.Reason = string(n.ResultCode) + ": " + string(n.Message)
	}
	if ms, err := strconv.ParseInt(string(n.ResponseTime), 10, 64); err == nil {
		ev.OccurredAt = time.UnixMilli(ms).UTC()
	}
	if raw, err := base64.StdEncoding.DecodeString(string(n.ExtraData)); err == nil {
		var ex extra
		if json.Unmarshal(raw, &ex) == nil {
			ev.PaymentID = ex.PaymentID
		}
	}
	return ev, nil
}

// eventType reads MoMo's resultCode: 0 paid; 9000 authorized (autoCapture off); 1000, 7000,
// 7002 and 8000 still in progress; 1003 (cancelled), 1005 (payment page expired) and 1006
// (buyer declined) abandoned; every other code a failure.
func eventType(code string) gateway.EventType {
	switch code {
	case "0":
		return gateway.EventCaptured
	case "9000":
		return gateway.EventAuthorized
	case "1000", "7000", "7002", "8000":
		return gateway.EventOther
	case "1003", "1005", "1006":
		return gateway.EventCanceled
	default:
		return gateway.EventFailed
	}
}

// Capture is not supported: captureWallet captures at payment.
func (g *Gateway) Capture(context.Context, gateway.CaptureRequest) (gateway.CaptureResult, error) {
	return gateway.CaptureResult{}, fmt.Errorf("%w: momo captureWallet captures at payment", gateway.ErrNotSupported)
}

// RefundRequest is the body of POST /v2/gateway/api/refund.
type RefundRequest struct {
	PartnerCode string `json:"partnerCode"`
	OrderID     string `json:"orderId"`
	RequestID   string `json:"requestId"`
	Amount      int64  `json:"amount"`
	TransID     int64  `json:"transId"`
	Lang        string `json:"lang"`
	Description string `json:"description"`
	Signature   string `json:"signature"`
}

// Sign fills Signature as documented: accessKey, amount, description, orderId, partnerCode,
// requestId, transId.
func (r *RefundRequest) Sign(accessKey, secretKey string) {
	r.Signature = sign(secretKey,
		pair{"accessKey", accessKey}, pair{"amount", strconv.FormatInt(r.Amount, 10)}, pair{"description", r.Description},
		pair{"orderId", r.OrderID}, pair{"partnerCode", r.PartnerCode}, pair{"requestId", r.RequestID},
		pair{"transId", strconv.FormatInt(r.TransID, 10)})
}

type refundResponse struct {
	OrderID    wire.Text `json:"orderId"`
	RequestID  wire.Text `json:"requestId"`
	Amount     wire.Text `json:"amount"`
	TransID    wire.Text `json:"transId"`
	ResultCode wire.Text `json:"resultCode"`
	Message    wire.Text `json:"message"`
}

// Refund refunds part or all of a paid MoMo transaction. The refund's own orderId and
// requestId derive from the idempotency key, so a retry is the same request to MoMo, which
// refuses a duplicate (resultCode 40/41): that is reported as pending, not refunded twice.
func (g *Gateway) Refund(ctx context.Context, req gateway.RefundRequest) (gateway.RefundResult, error) {
	if err := wire.CheckRefund(g, req, true); err != nil {
		return gateway.RefundResult{}, err
	}
	transID, err := strconv.ParseInt(req.TransactionID, 10, 64)
	if err != nil {
		return gateway.RefundResult{}, fmt.Errorf("%w: momo refunds need the payment's numeric transId", gateway.ErrInvalidRequest)
	}
	sum := sha256.Sum256([]byte(req.IdempotencyKey))
	id := "RF" + hex.EncodeToString(sum[:15])
	body := RefundRequest{
		PartnerCode: g.cfg.PartnerCode, OrderID: id, RequestID: id, Amount: req.Amount, TransID: transID,
		Lang: g.cfg.Lang, Description: req.Reason,
	}
	body.Sign(g.cfg.AccessKey, g.cfg.SecretKey)
	var res refundResponse
	if err := g.post(ctx, "/v2/gateway/api/refund", body, &res); err != nil {
		var pe *gateway.ProviderError
		if errors.As(err, &pe) && (pe.Code == "40" || pe.Code == "41") {
			return gateway.RefundResult{RefundRef: id, Amount: req.Amount, Status: gateway.StatusPending}, nil
		}
		return gateway.RefundResult{}, err
	}
	switch res.ResultCode {
	case "0":
		return gateway.RefundResult{RefundRef: wire.First(string(res.TransID), id), Amount: req.Amount, Status: gateway.StatusSucceeded}, nil
	case "40", "41", "7000", "7002":
		return gateway.RefundResult{RefundRef: id, Amount: req.Amount, Status: gateway.StatusPending}, nil
	default:
		return gateway.RefundResult{}, resultError(res.ResultCode, res.Message)
	}
}
