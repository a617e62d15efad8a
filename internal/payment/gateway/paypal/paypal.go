// Package paypal is the PayPal gateway, speaking PayPal's REST APIs: an OAuth 2.0
// client-credentials token, Orders v2 (create with intent CAPTURE, the buyer approves on
// PayPal, then capture), refunds of captures (Payments v2), and webhooks verified as PayPal
// documents, by posting the transmission headers, our webhook ID and the event to
// /v1/notifications/verify-webhook-signature. Amounts travel as decimal strings.
package paypal

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/internal/wire"
)

// SandboxAPIURL is PayPal's sandbox, the default; production sets https://api-m.paypal.com.
const SandboxAPIURL = "https://api-m.sandbox.paypal.com"

// The transmission headers of a webhook notification.
const (
	HeaderAuthAlgo         = "Paypal-Auth-Algo"
	HeaderCertURL          = "Paypal-Cert-Url"
	HeaderTransmissionID   = "Paypal-Transmission-Id"
	HeaderTransmissionSig  = "Paypal-Transmission-Sig"
	HeaderTransmissionTime = "Paypal-Transmission-Time"
)

// Config configures the PayPal gateway.
type Config struct {
	ClientID     string
	ClientSecret string
	WebhookID    string // the ID PayPal gave our webhook endpoint, needed to verify notifications
	APIURL       string // default SandboxAPIURL
	ReturnURL    string // where PayPal sends the buyer after approving, when a request gives none
	CancelURL    string
	BrandName    string
	HTTPClient   *http.Client
	Now          func() time.Time
}

// Gateway is the PayPal provider. It caches its access token until shortly before expiry.
type Gateway struct {
	cfg    Config
	client *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

var _ gateway.Gateway = (*Gateway)(nil)

// New returns a PayPal gateway.
func New(cfg Config) *Gateway {
	if cfg.APIURL == "" {
		cfg.APIURL = SandboxAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Gateway{cfg: cfg, client: wire.DefaultClient(cfg.HTTPClient)}
}

// Name is "paypal".
func (g *Gateway) Name() string { return gateway.PayPal }

// Available reports whether the client credentials and the webhook ID are configured.
func (g *Gateway) Available() bool {
	return g.cfg.ClientID != "" && g.cfg.ClientSecret != "" && g.cfg.WebhookID != ""
}

// Currencies PayPal accepts (https://developer.paypal.com/reference/currency-codes/); VND is
// not one of them.
var currencies = []string{"AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR", "MXN",
	"TWD", "NZD", "NOK", "PHP", "PLN", "GBP", "SGD", "SEK", "CHF", "THB", "USD"}

// PayPal takes no decimals for these, though ISO 4217 gives HUF and TWD two.
var noDecimals = []string{"HUF", "JPY", "TWD"}

// Accepts reports whether PayPal takes payments in cur; it does not take VND, so VND orders
// are offered no PayPal (no conversion is made on the buyer's behalf).
func (g *Gateway) Accepts(cur string) bool { return slices.Contains(currencies, strings.ToUpper(cur)) }

func exponents(cur string) (ours, theirs int, err error) {
	cur = strings.ToUpper(cur)
	if !slices.Contains(currencies, cur) {
		return 0, 0, fmt.Errorf("%w: paypal does not take %s", gateway.ErrInvalidRequest, cur)
	}
	ours, err = gateway.Exponent(cur)
	theirs = ours
	if slices.Contains(noDecimals, cur) {
		theirs = 0
	}
	return ours, theirs, err
}

// Money is PayPal's amount object.
type Money struct {
	CurrencyCode string `json:"currency_code"`
	Value        string `json:"value"`
}

func toMoney(amount int64, cur string) (Money, error) {
	ours, theirs, err := exponents(cur)
	if err != nil {
		return Money{}, err
	}
	n, err := gateway.Rescale(amount, ours, theirs)
	if err != nil {
		return Money{}, err
	}
	return Money{CurrencyCode: strings.ToUpper(cur), Value: gateway.FormatDecimal(n, theirs)}, nil
}

func (m Money) minor() (int64, error) {
	ours, theirs, err := exponents(m.CurrencyCode)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", gateway.ErrMalformed, err)
	}
	n, err := gateway.ParseDecimal(m.Value, theirs)
	if err != nil {
		return 0, err
	}
	return gateway.Rescale(n, theirs, ours)
}

// accessToken returns a cached token or fetches one with the client credentials.
func (g *Gateway) accessToken(ctx context.Context) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.token != "" && g.cfg.Now().Before(g.expires) {
		return g.token, nil
	}
	var res struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	h := http.Header{}
	h.Set("Authorization", "Basic "+basicAuth(g.cfg.ClientID, g.cfg.ClientSecret))
	err := wire.Do(ctx, g.client, gateway.PayPal, wire.Request{
		Method: http.MethodPost, URL: g.cfg.APIURL + "/v1/oauth2/token", Header: h, Body: "grant_type=client_credentials",
	}, &res)
	if err != nil {
		return "", providerError(err)
	}
	if res.AccessToken == "" {
		return "", &gateway.ProviderError{Provider: gateway.PayPal, Message: "token answer without access_token", Err: gateway.ErrMalformed}
	}
	// Renew a minute early so a token never expires between here and PayPal.
	g.token, g.expires = res.AccessToken, g.cfg.Now().Add(time.Duration(res.ExpiresIn)*time.Second-time.Minute)
	return g.token, nil
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// call makes an authenticated API call. A 401 means the cached token was revoked or expired
// early: it is dropped and the call made once more with a fresh one.
func (g *Gateway) call(ctx context.Context, method, path, requestID string, body, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := g.accessToken(ctx)
		if err != nil {
			return err
		}
		h := http.Header{}
		h.Set("Authorization", "Bearer "+tok)
		h.Set("Content-Type", "application/json")
		h.Set("Prefer", "return=representation")
		if requestID != "" {
			h.Set("PayPal-Request-Id", requestID)
		}
		err = wire.Do(ctx, g.client, gateway.PayPal, wire.Request{Method: method, URL: g.cfg.APIURL + path, Header: h, Body: body}, out)
		var se *wire.StatusError
		if errors.As(err, &se) && se.Status == http.StatusUnauthorized && attempt == 0 {
			g.mu.Lock()
			if g.token == tok {
				g.token = ""
			}
			g.mu.Unlock()
			continue
		}
		return providerError(err)
	}
}

// providerError reads PayPal's error body: {"name", "message", "debug_id", "details": [{"issue"}]}
// (or the OAuth {"error", "error_description"}).
func providerError(err error) error {
	var se *wire.StatusError
	if !errors.As(err, &se) {
		return err
	}
	var body struct {
		Name             string `json:"name"`
		Message          string `json:"message"`
		DebugID          string `json:"debug_id"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Details          []struct {
			Issue       string `json:"issue"`
			Description string `json:"description"`
		} `json:"details"`
	}
	_ = json.Unmarshal(se.Body, &body)
	pe := &gateway.ProviderError{Provider: gateway.PayPal, HTTPStatus: se.Status,
		Code: wire.First(body.Name, body.Error), Message: wire.First(body.Message, body.ErrorDescription)}
	if len(body.Details) > 0 {
		pe.Code, pe.Message = body.Details[0].Issue, wire.First(body.Details[0].Description, pe.Message)
	}
	if body.DebugID != "" {
		pe.Message += " (debug_id " + body.DebugID + ")"
	}
	return pe
}

type link struct {
	Href   string `json:"href"`
	Rel    string `json:"rel"`
	Method string `json:"method"`
}

func findLink(links []link, rels ...string) string {
	for _, rel := range rels {
		for _, l := range links {
			if l.Rel == rel {
				return l.Href
			}
		}
	}
	return ""
}

type purchaseUnit struct {
	ReferenceID string `json:"reference_id,omitempty"`
	CustomID    string `json:"custom_id,omitempty"`
	Description string `json:"description,omitempty"`
	Amount      *Money `json:"amount,omitempty"`
	Payments    *struct {
		Captures []capture `json:"captures"`
	} `json:"payments,omitempty"`
}

type capture struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	Amount        Money  `json:"amount"`
	CustomID      string `json:"custom_id"`
	StatusDetails struct {
		Reason string `json:"reason"`
	} `json:"status_details"`
	SupplementaryData struct {
		RelatedIDs struct {
			OrderID string `json:"order_id"`
		} `json:"related_ids"`
	} `json:"supplementary_data"`
	Links []link `json:"links"`
}

type order struct {
	ID            string         `json:"id"`
	Status        string         `json:"status"`
	PurchaseUnits []purchaseUnit `json:"purchase_units"`
	Links         []link         `json:"links"`
}

type experienceContext struct {
	ReturnURL          string `json:"return_url"`
	CancelURL          string `json:"cancel_url,omitempty"`
	UserAction         string `json:"user_action"`
	ShippingPreference string `json:"shipping_preference"`
	BrandName          string `json:"brand_name,omitempty"`
	Locale             string `json:"locale,omitempty"`
}

type createOrder struct {
	Intent        string         `json:"intent"`
	PurchaseUnits []purchaseUnit `json:"purchase_units"`
	PaymentSource struct {
		PayPal struct {
			ExperienceContext experienceContext `json:"experience_context"`
		} `json:"paypal"`
	} `json:"payment_source"`
}

// Create makes an order with intent CAPTURE and returns the link where the buyer approves it.
// Approval only authorizes: the money moves when Capture is called, so CaptureRequired is set.
func (g *Gateway) Create(ctx context.Context, req gateway.CreateRequest) (gateway.Created, error) {
	if err := wire.CheckCreate(g, req, false); err != nil {
		return gateway.Created{}, err
	}
	amount, err := toMoney(req.Amount, req.Currency)
	if err != nil {
		return gateway.Created{}, err
	}
	returnURL := wire.First(req.ReturnURL, g.cfg.ReturnURL)
	if returnURL == "" {
		return gateway.Created{}, fmt.Errorf("%w: paypal needs a return URL", gateway.ErrInvalidRequest)
	}
	body := createOrder{Intent: "CAPTURE", PurchaseUnits: []purchaseUnit{{
		ReferenceID: req.Ref(), CustomID: req.PaymentID, Description: truncate(req.Description, 127), Amount: &amount,
	}}}
	body.PaymentSource.PayPal.ExperienceContext = experienceContext{
		ReturnURL: returnURL, CancelURL: wire.First(req.CancelURL, g.cfg.CancelURL), UserAction: "PAY_NOW",
		ShippingPreference: "NO_SHIPPING", BrandName: truncate(g.cfg.BrandName, 127), Locale: locale(req.Locale),
	}
	var res order
	if err := g.call(ctx, http.MethodPost, "/v2/checkout/orders", req.IdempotencyKey, body, &res); err != nil {
		return gateway.Created{}, err
	}
	approve := findLink(res.Links, "payer-action", "approve")
	if res.ID == "" || approve == "" {
		return gateway.Created{}, &gateway.ProviderError{Provider: gateway.PayPal, Message: "order without id or approval link", Err: gateway.ErrMalformed}
	}
	return gateway.Created{PaymentRef: res.ID, RedirectURL: approve, CaptureRequired: true, CreatedAt: g.cfg.Now().UTC().Truncate(time.Second)}, nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

func locale(l string) string {
	switch {
	case strings.HasPrefix(l, "vi"):
		return "vi-VN"
	case strings.HasPrefix(l, "en"):
		return "en-US"
	}
	return ""
}

func status(s string) gateway.Status {
	switch s {
	case "COMPLETED":
		return gateway.StatusSucceeded
	case "DECLINED", "FAILED", "CANCELLED":
		return gateway.StatusFailed
	default:
		return gateway.StatusPending
	}
}

// Capture captures an approved order. PayPal captures the order's whole amount, so
// req.Amount is not sent; PayPal-Request-Id makes a retry return the first capture.
func (g *Gateway) Capture(ctx context.Context, req gateway.CaptureRequest) (gateway.CaptureResult, error) {
	if err := wire.Ready(g); err != nil {
		return gateway.CaptureResult{}, err
	}
	if req.PaymentRef == "" || req.IdempotencyKey == "" {
		return gateway.CaptureResult{}, fmt.Errorf("%w: payment ref and idempotency key are required", gateway.ErrInvalidRequest)
	}
	var res order
	if err := g.call(ctx, http.MethodPost, "/v2/checkout/orders/"+url.PathEscape(req.PaymentRef)+"/capture", req.IdempotencyKey, nil, &res); err != nil {
		return gateway.CaptureResult{}, err
	}
	for _, pu := range res.PurchaseUnits {
		if pu.Payments == nil || len(pu.Payments.Captures) == 0 {
			continue
		}
		c := pu.Payments.Captures[0]
		amount, err := c.Amount.minor()
		if err != nil {
			return gateway.CaptureResult{}, err
		}
		return gateway.CaptureResult{TransactionID: c.ID, Amount: amount, Currency: c.Amount.CurrencyCode, Status: status(c.Status)}, nil
	}
	return gateway.CaptureResult{}, &gateway.ProviderError{Provider: gateway.PayPal, Message: "capture answer without a capture", Err: gateway.ErrMalformed}
}

type refundBody struct {
	Amount      Money  `json:"amount"`
	CustomID    string `json:"custom_id,omitempty"`
	NoteToPayer string `json:"note_to_payer,omitempty"`
}

// Refund refunds part or all of a capture (req.TransactionID is the capture ID).
func (g *Gateway) Refund(ctx context.Context, req gateway.RefundRequest) (gateway.RefundResult, error) {
	if err := wire.CheckRefund(g, req, false); err != nil {
		return gateway.RefundResult{}, err
	}
	if req.TransactionID == "" {
		return gateway.RefundResult{}, fmt.Errorf("%w: paypal refunds need the capture ID", gateway.ErrInvalidRequest)
	}
	amount, err := toMoney(req.Amount, req.Currency)
	if err != nil {
		return gateway.RefundResult{}, err
	}
	var res struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Amount *Money `json:"amount"`
	}
	body := refundBody{Amount: amount, CustomID: truncate(req.PaymentID, 127), NoteToPayer: truncate(req.Reason, 255)}
	if err := g.call(ctx, http.MethodPost, "/v2/payments/captures/"+url.PathEscape(req.TransactionID)+"/refund", req.IdempotencyKey, body, &res); err != nil {
		return gateway.RefundResult{}, err
	}
	if res.ID == "" {
		return gateway.RefundResult{}, &gateway.ProviderError{Provider: gateway.PayPal, Message: "refund answer without id", Err: gateway.ErrMalformed}
	}
	return gateway.RefundResult{RefundRef: res.ID, Amount: req.Amount, Status: status(res.Status)}, nil
}

// ParseWebhook verifies a notification with PayPal's verify-webhook-signature API, then
// normalizes it. Missing transmission headers or a body that is not JSON fail without asking
// PayPal; a FAILURE answer is a bad signature; PayPal being unreachable is a temporary
// ProviderError, so the caller answers 5xx and PayPal delivers again.
func (g *Gateway) ParseWebhook(ctx context.Context, headers http.Header, body []byte, _ url.Values) (gateway.Event, error) {
	if err := wire.Ready(g); err != nil {
		return gateway.Event{}, err
	}
	if err := g.verify(ctx, headers, body); err != nil {
		return gateway.Event{}, err
	}
	var e webhookEvent
	if err := json.Unmarshal(body, &e); err != nil || e.ID == "" {
		return gateway.Event{}, fmt.Errorf("%w: paypal: event without id", gateway.ErrMalformed)
	}
	out := gateway.Event{ID: e.ID, Provider: gateway.PayPal, Type: gateway.EventOther, ProviderType: e.EventType, Raw: body}
	if t, err := time.Parse(time.RFC3339, e.CreateTime); err == nil {
		out.OccurredAt = t.UTC()
	}
	if err := normalize(&out, e); err != nil {
		return gateway.Event{}, fmt.Errorf("%w: paypal %s: %w", gateway.ErrMalformed, e.EventType, err)
	}
	return out, nil
}

func (g *Gateway) verify(ctx context.Context, headers http.Header, body []byte) error {
	fields := map[string]string{
		"auth_algo":         headers.Get(HeaderAuthAlgo),
		"cert_url":          headers.Get(HeaderCertURL),
		"transmission_id":   headers.Get(HeaderTransmissionID),
		"transmission_sig":  headers.Get(HeaderTransmissionSig),
		"transmission_time": headers.Get(HeaderTransmissionTime),
		"webhook_id":        g.cfg.WebhookID,
	}
	for k, v := range fields {
		if v == "" {
			return fmt.Errorf("%w: paypal: no %s", gateway.ErrBadSignature, k)
		}
	}
	if !json.Valid(body) || !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return fmt.Errorf("%w: paypal: event is not a JSON object", gateway.ErrBadSignature)
	}
	// The event goes to PayPal byte for byte as it arrived: re-encoding could change what
	// PayPal checks the signature against.
	head, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	req := append(head[:len(head)-1:len(head)-1], `,"webhook_event":`...)
	req = append(append(req, body...), '}')
	var res struct {
		VerificationStatus string `json:"verification_status"`
	}
	if err := g.call(ctx, http.MethodPost, "/v1/notifications/verify-webhook-signature", "", req, &res); err != nil {
		return err
	}
	if res.VerificationStatus != "SUCCESS" {
		return fmt.Errorf("%w: paypal: verification_status %q", gateway.ErrBadSignature, res.VerificationStatus)
	}
	return nil
}

type webhookEvent struct {
	ID         string          `json:"id"`
	CreateTime string          `json:"create_time"`
	EventType  string          `json:"event_type"`
	Resource   json.RawMessage `json:"resource"`
}

type dispute struct {
	DisputeID            string `json:"dispute_id"`
	Reason               string `json:"reason"`
	DisputeAmount        *Money `json:"dispute_amount"`
	DisputedTransactions []struct {
		SellerTransactionID string `json:"seller_transaction_id"`
		Custom              string `json:"custom"`
	} `json:"disputed_transactions"`
	DisputeOutcome struct {
		OutcomeCode string `json:"outcome_code"`
	} `json:"dispute_outcome"`
}

// normalize reads the resource of the event types the payment service acts on
// (https://developer.paypal.com/api/rest/webhooks/event-names/).
func normalize(out *gateway.Event, e webhookEvent) error {
	var amount *Money
	switch e.EventType {
	case "CHECKOUT.ORDER.APPROVED":
		var o order
		if err := json.Unmarshal(e.Resource, &o); err != nil {
			return err
		}
		out.Type, out.PaymentRef = gateway.EventAuthorized, o.ID
		if len(o.PurchaseUnits) > 0 {
			out.PaymentID, amount = o.PurchaseUnits[0].CustomID, o.PurchaseUnits[0].Amount
		}

	case "PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED":
		var c capture
		if err := json.Unmarshal(e.Resource, &c); err != nil {
			return err
		}
		out.TransactionID, out.PaymentID, amount = c.ID, c.CustomID, &c.Amount
		out.PaymentRef = wire.First(c.SupplementaryData.RelatedIDs.OrderID, lastSegment(findLink(c.Links, "up"), "/v2/checkout/orders/"))
		out.Type = gateway.EventCaptured
		if e.EventType != "PAYMENT.CAPTURE.COMPLETED" {
			out.Type, out.Reason = gateway.EventFailed, wire.First(c.StatusDetails.Reason, c.Status)
		}

	case "PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED":
		// The resource is the refund (or reversal); its "up" link is the capture.
		var r capture
		if err := json.Unmarshal(e.Resource, &r); err != nil {
			return err
		}
		out.Type, out.RefundRef, out.PaymentID, amount = gateway.EventRefunded, r.ID, r.CustomID, &r.Amount
		out.TransactionID = lastSegment(findLink(r.Links, "up"), "/v2/payments/captures/")
		if e.EventType == "PAYMENT.CAPTURE.REVERSED" {
			out.Reason = "reversed"
		}

	case "CUSTOMER.DISPUTE.CREATED", "CUSTOMER.DISPUTE.RESOLVED":
		var d dispute
		if err := json.Unmarshal(e.Resource, &d); err != nil {
			return err
		}
		out.DisputeRef, out.Reason, amount = d.DisputeID, d.Reason, d.DisputeAmount
		if len(d.DisputedTransactions) > 0 {
			out.TransactionID, out.PaymentID = d.DisputedTransactions[0].SellerTransactionID, d.DisputedTransactions[0].Custom
		}
		switch {
		case e.EventType == "CUSTOMER.DISPUTE.CREATED":
			out.Type = gateway.EventDisputed
		case d.DisputeOutcome.OutcomeCode == "RESOLVED_BUYER_FAVOUR" || d.DisputeOutcome.OutcomeCode == "ACCEPTED":
			out.Type = gateway.EventDisputeLost
		default: // resolved for the seller, paid out by PayPal, or withdrawn by the buyer
			out.Type = gateway.EventDisputeWon
		}
	}
	if amount != nil && amount.Value != "" {
		n, err := amount.minor()
		if err != nil {
			return err
		}
		out.Amount, out.Currency = n, amount.CurrencyCode
	}
	return nil
}

// lastSegment returns the ID after prefix in a PayPal link, or "" when the link is not one.
func lastSegment(href, prefix string) string {
	u, err := url.Parse(href)
	if err != nil || !strings.HasPrefix(u.Path, prefix) {
		return ""
	}
	return strings.TrimPrefix(u.Path, prefix)
}
