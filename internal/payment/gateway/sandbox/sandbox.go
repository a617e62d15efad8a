// Package sandbox is a built-in payment provider for development and tests. It walks the path a
// real gateway does — Create gives a redirect URL and a client secret, the outcome arrives as a
// signed webhook — without leaving the process. Webhooks are JSON signed like Stripe's:
// header `Sandbox-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, accepted within a
// tolerance of the signing time. Capture and refund succeed locally.
package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/internal/wire"
)

// SignatureHeader carries the webhook signature.
const SignatureHeader = "Sandbox-Signature"

// DefaultTolerance is how far a webhook's signing time may be from now, as Stripe's default.
const DefaultTolerance = 5 * time.Minute

// Config configures the sandbox. Without a secret or a pay URL it is unavailable.
type Config struct {
	// Secret signs webhooks and client secrets.
	Secret string
	// PayURL is the base of the dev page where a buyer "pays"; the payment ref is appended as
	// a path segment.
	PayURL string
	// Tolerance bounds the age (and clock skew) of a webhook; 0 means DefaultTolerance.
	Tolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Gateway is the sandbox provider.
type Gateway struct {
	cfg Config
}

var _ gateway.Gateway = (*Gateway)(nil)

// New returns a sandbox gateway.
func New(cfg Config) *Gateway {
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Gateway{cfg: cfg}
}

// Name is "sandbox".
func (g *Gateway) Name() string { return gateway.Sandbox }

// Available reports whether a secret and a pay URL are configured.
func (g *Gateway) Available() bool { return g.cfg.Secret != "" && g.cfg.PayURL != "" }

// derive makes an ID from the secret and a purpose, so that repeating a request with the same
// idempotency key gives the same ID without the sandbox keeping state.
func (g *Gateway) derive(prefix, purpose string) string {
	return prefix + wire.HMACSHA256(g.cfg.Secret, purpose)[:24]
}

func random(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return prefix + hex.EncodeToString(b)
}

// Create makes a payment reference, its pay page URL and a client secret.
func (g *Gateway) Create(_ context.Context, req gateway.CreateRequest) (gateway.Created, error) {
	if err := wire.CheckCreate(g, req, false); err != nil {
		return gateway.Created{}, err
	}
	ref := random("sbx_")
	if req.IdempotencyKey != "" {
		ref = g.derive("sbx_", "create:"+req.IdempotencyKey)
	}
	redirect, err := url.JoinPath(g.cfg.PayURL, ref)
	if err != nil {
		return gateway.Created{}, fmt.Errorf("sandbox: pay URL: %w", err)
	}
	return gateway.Created{
		PaymentRef:      ref,
		RedirectURL:     redirect,
		ClientSecret:    g.ClientSecret(ref),
		CaptureRequired: req.Capture == gateway.CaptureManual,
		CreatedAt:       g.cfg.Now(),
	}, nil
}

// ClientSecret is the secret handed to the buyer's client for a payment ref.
func (g *Gateway) ClientSecret(ref string) string {
	return ref + "_secret_" + wire.HMACSHA256(g.cfg.Secret, "client:"+ref)[:32]
}

// VerifyClientSecret reports whether secret is the client secret of some payment, and which;
// the dev pay page uses it to know the caller holds the payment it completes.
func (g *Gateway) VerifyClientSecret(secret string) (ref string, ok bool) {
	ref, _, found := strings.Cut(secret, "_secret_")
	if !found || !g.Available() {
		return "", false
	}
	return ref, subtle.ConstantTimeCompare([]byte(secret), []byte(g.ClientSecret(ref))) == 1
}

// Capture succeeds; the capture's transaction ID is derived from the payment ref.
func (g *Gateway) Capture(_ context.Context, req gateway.CaptureRequest) (gateway.CaptureResult, error) {
	if err := wire.Ready(g); err != nil {
		return gateway.CaptureResult{}, err
	}
	if req.PaymentRef == "" {
		return gateway.CaptureResult{}, fmt.Errorf("%w: payment ref is required", gateway.ErrInvalidRequest)
	}
	return gateway.CaptureResult{
		TransactionID: g.TransactionID(req.PaymentRef),
		Amount:        req.Amount,
		Currency:      req.Currency,
		Status:        gateway.StatusSucceeded,
	}, nil
}

// TransactionID is the ID of a payment's captured money.
func (g *Gateway) TransactionID(ref string) string { return g.derive("sbxch_", "capture:"+ref) }

// Refund succeeds; the same idempotency key gives the same refund.
func (g *Gateway) Refund(_ context.Context, req gateway.RefundRequest) (gateway.RefundResult, error) {
	if err := wire.CheckRefund(g, req, false); err != nil {
		return gateway.RefundResult{}, err
	}
	return gateway.RefundResult{
		RefundRef: g.derive("sbxre_", "refund:"+req.IdempotencyKey),
		Amount:    req.Amount,
		Status:    gateway.StatusSucceeded,
	}, nil
}

// Payload is the JSON body of a sandbox webhook.
type Payload struct {
	ID      string      `json:"id"`
	Type    string      `json:"type"`
	Created int64       `json:"created"`
	Data    PayloadData `json:"data"`
}

// PayloadData is the payment a webhook is about.
type PayloadData struct {
	PaymentRef    string `json:"payment_ref"`
	PaymentID     string `json:"payment_id,omitempty"`
	TransactionID string `json:"transaction_id,omitempty"`
	RefundRef     string `json:"refund_ref,omitempty"`
	DisputeRef    string `json:"dispute_ref,omitempty"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	Reason        string `json:"reason,omitempty"`
}

// The sandbox's own event type names, one per normalized type.
var eventTypes = map[string]gateway.EventType{
	"payment.authorized": gateway.EventAuthorized,
	"payment.captured":   gateway.EventCaptured,
	"payment.failed":     gateway.EventFailed,
	"payment.canceled":   gateway.EventCanceled,
	"refund.succeeded":   gateway.EventRefunded,
	"refund.failed":      gateway.EventRefundFailed,
	"dispute.created":    gateway.EventDisputed,
	"dispute.won":        gateway.EventDisputeWon,
	"dispute.lost":       gateway.EventDisputeLost,
}

// TypeName returns the sandbox's name for a normalized event type.
func TypeName(t gateway.EventType) (string, bool) {
	for name, et := range eventTypes {
		if et == t {
			return name, true
		}
	}
	return "", false
}

// Webhook describes a notification for SignedWebhook to produce.
type Webhook struct {
	ID            string // empty: a random evt_ ID
	Type          gateway.EventType
	PaymentRef    string
	PaymentID     string
	TransactionID string // empty on a captured event: the ref's TransactionID
	RefundRef     string
	DisputeRef    string
	Amount        int64
	Currency      string
	Reason        string
}

// SignedWebhook produces the body and headers of a webhook as the sandbox "provider" would
// send it, signed now. Tests and the dev pay page use it to complete payments.
func (g *Gateway) SignedWebhook(w Webhook) (body []byte, header http.Header, err error) {
	if err := wire.Ready(g); err != nil {
		return nil, nil, err
	}
	name, ok := TypeName(w.Type)
	if !ok {
		return nil, nil, fmt.Errorf("%w: sandbox has no %q event", gateway.ErrInvalidRequest, w.Type)
	}
	if w.ID == "" {
		w.ID = random("evt_")
	}
	if w.TransactionID == "" && w.Type == gateway.EventCaptured {
		w.TransactionID = g.TransactionID(w.PaymentRef)
	}
	now := g.cfg.Now()
	body, err = json.Marshal(Payload{ID: w.ID, Type: name, Created: now.Unix(), Data: PayloadData{
		PaymentRef: w.PaymentRef, PaymentID: w.PaymentID, TransactionID: w.TransactionID,
		RefundRef: w.RefundRef, DisputeRef: w.DisputeRef, Amount: w.Amount, Currency: w.Currency, Reason: w.Reason,
	}})
	if err != nil {
		return nil, nil, err
	}
	header = http.Header{}
	header.Set("Content-Type", "application/json")
	header.Set(SignatureHeader, g.Sign(body, now))
	return body, header, nil
}

// Sign returns the signature header value for body signed at t.
func (g *Gateway) Sign(body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + wire.HMACSHA256(g.cfg.Secret, ts+"."+string(body))
}

// ParseWebhook verifies the signature and its time, then reads the payload.
func (g *Gateway) ParseWebhook(_ context.Context, headers http.Header, body []byte, _ url.Values) (gateway.Event, error) {
	if err := wire.Ready(g); err != nil {
		return gateway.Event{}, err
	}
	if err := g.verify(headers.Get(SignatureHeader), body); err != nil {
		return gateway.Event{}, err
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		return gateway.Event{}, fmt.Errorf("%w: sandbox: %w", gateway.ErrMalformed, err)
	}
	if p.ID == "" || p.Data.PaymentRef == "" {
		return gateway.Event{}, fmt.Errorf("%w: sandbox: event id and payment ref are required", gateway.ErrMalformed)
	}
	et, ok := eventTypes[p.Type]
	if !ok {
		et = gateway.EventOther
	}
	return gateway.Event{
		ID: p.ID, Provider: gateway.Sandbox, Type: et, ProviderType: p.Type,
		PaymentRef: p.Data.PaymentRef, PaymentID: p.Data.PaymentID, TransactionID: p.Data.TransactionID,
		RefundRef: p.Data.RefundRef, DisputeRef: p.Data.DisputeRef,
		Amount: p.Data.Amount, Currency: strings.ToUpper(p.Data.Currency), Reason: p.Data.Reason,
		OccurredAt: time.Unix(p.Created, 0).UTC(), Raw: body,
	}, nil
}

var errStale = errors.New("signature timestamp outside the tolerance")

func (g *Gateway) verify(header string, body []byte) error {
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: sandbox: malformed %s header", gateway.ErrBadSignature, SignatureHeader)
	}
	if age := g.cfg.Now().Sub(time.Unix(t, 0)); age > g.cfg.Tolerance || age < -g.cfg.Tolerance {
		return fmt.Errorf("%w: sandbox: %w", gateway.ErrBadSignature, errStale)
	}
	want := wire.HMACSHA256(g.cfg.Secret, ts+"."+string(body))
	for _, s := range sigs {
		if wire.EqualHex(s, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: sandbox: no signature matches", gateway.ErrBadSignature)
}
