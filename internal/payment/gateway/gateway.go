// Package gateway is the payment context's boundary with payment providers. Each provider has
// an adapter in a sub-package (stripe, paypal, vnpay, momo, sandbox) that speaks the provider's
// documented protocol; all of them satisfy Gateway, so the payment service never branches on a
// provider name. Amounts cross this boundary as int64 minor units of the ISO 4217 currency (VND
// has none: 1 unit is 1 dong); each adapter converts to its provider's wire form.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/goshop/goshop/internal/events"
)

// Provider names, as used in routes (`/payments/{provider}/webhook`) and in stored payments.
// The values are events' providers, which the order context checks a checkout against; here
// they are plain strings, the adapters' and their wire formats' currency.
const (
	Stripe  = string(events.ProviderStripe)
	PayPal  = string(events.ProviderPayPal)
	VNPay   = string(events.ProviderVNPay)
	MoMo    = string(events.ProviderMoMo)
	Sandbox = string(events.ProviderSandbox)
)

// Gateway is one payment provider.
type Gateway interface {
	// Name is the provider's stable name (one of the constants above).
	Name() string
	// Available reports whether credentials are configured; an unavailable gateway is listed as
	// such by the payment methods endpoint and refuses every call with ErrUnavailable.
	Available() bool
	// Create starts a payment at the provider and says how the buyer completes it.
	Create(ctx context.Context, req CreateRequest) (Created, error)
	// ParseWebhook verifies a notification's signature before reading anything of it, then
	// normalizes it. A notification that does not verify returns an error wrapping
	// ErrBadSignature; one that verifies but cannot be read returns ErrMalformed. Providers that
	// notify by redirect or GET (VNPay) pass their parameters in query.
	ParseWebhook(ctx context.Context, headers http.Header, body []byte, query url.Values) (Event, error)
	// Refund returns money of a captured payment through the provider.
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
	// Capture collects authorized funds where the provider separates authorization from
	// capture; other providers return ErrNotSupported.
	Capture(ctx context.Context, req CaptureRequest) (CaptureResult, error)
}

// CurrencyLimited is implemented by gateways that take only some currencies; a gateway that
// does not implement it takes any ISO 4217 currency.
type CurrencyLimited interface {
	Accepts(currency string) bool
}

// Accepts reports whether g takes payments in cur.
func Accepts(g Gateway, cur string) bool {
	if _, err := Exponent(cur); err != nil {
		return false
	}
	if cl, ok := g.(CurrencyLimited); ok {
		return cl.Accepts(cur)
	}
	return true
}

// Errors every adapter returns, wrapped with detail; test them with errors.Is.
var (
	ErrBadSignature   = errors.New("gateway: webhook signature does not verify")
	ErrMalformed      = errors.New("gateway: malformed provider message")
	ErrNotSupported   = errors.New("gateway: operation not supported by this provider")
	ErrUnavailable    = errors.New("gateway: provider is not configured")
	ErrInvalidRequest = errors.New("gateway: invalid request")
	ErrUnknown        = errors.New("gateway: unknown provider")
)

// ProviderError is a refusal or failure reported by the provider itself (a declined card, a
// rejected refund, an HTTP 5xx). Temporary tells a retrying job whether to try again.
type ProviderError struct {
	Provider   string
	Code       string // the provider's own code (Stripe error code, MoMo resultCode, VNPay vnp_ResponseCode ...)
	Message    string
	HTTPStatus int // 0 when the provider answered 2xx with an error code in the body
	Err        error
}

func (e *ProviderError) Error() string {
	msg := fmt.Sprintf("%s: provider error", e.Provider)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.HTTPStatus != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *ProviderError) Unwrap() error { return e.Err }

// Temporary reports whether the same request may succeed later: the provider was overloaded or
// failed on its side, or it could not be reached at all.
func (e *ProviderError) Temporary() bool {
	return e.HTTPStatus == 0 && e.Err != nil || e.HTTPStatus == http.StatusTooManyRequests || e.HTTPStatus >= 500
}

// CaptureMethod says whether the provider collects funds at authorization or waits for Capture.
type CaptureMethod string

// The capture methods. Automatic is the default.
const (
	CaptureAutomatic CaptureMethod = "automatic"
	CaptureManual    CaptureMethod = "manual"
)

// CreateRequest starts a payment.
type CreateRequest struct {
	// PaymentID is our payment's ID; adapters send it where the provider echoes it back in
	// notifications (Stripe metadata, PayPal custom_id, MoMo extraData, sandbox payload).
	PaymentID string
	// Reference is the merchant order number for providers that want one (VNPay vnp_TxnRef,
	// MoMo orderId, PayPal reference_id); empty means PaymentID. VNPay and MoMo require it to be
	// unique and alphanumeric (with - _ .).
	Reference   string
	Amount      int64 // minor units, > 0
	Currency    string
	Description string
	Capture     CaptureMethod
	// ReturnURL and CancelURL override the adapter's configured ones for this payment.
	ReturnURL string
	CancelURL string
	// CustomerIP is the buyer's address; VNPay requires it.
	CustomerIP string
	// Locale is "vi" or "en"; providers default to their own.
	Locale string
	// IdempotencyKey makes a retried Create return the first payment where the provider
	// supports it (Stripe Idempotency-Key, PayPal PayPal-Request-Id, MoMo requestId).
	IdempotencyKey string
}

// Validate checks what every adapter needs.
func (r CreateRequest) Validate() error {
	if r.PaymentID == "" {
		return fmt.Errorf("%w: payment id is required", ErrInvalidRequest)
	}
	if r.Amount <= 0 {
		return fmt.Errorf("%w: amount must be positive", ErrInvalidRequest)
	}
	if _, err := Exponent(r.Currency); err != nil {
		return err
	}
	switch r.Capture {
	case "", CaptureAutomatic, CaptureManual:
	default:
		return fmt.Errorf("%w: unknown capture method %q", ErrInvalidRequest, r.Capture)
	}
	return nil
}

// Ref returns Reference, or PaymentID when no separate reference was given.
func (r CreateRequest) Ref() string {
	if r.Reference != "" {
		return r.Reference
	}
	return r.PaymentID
}

// Created tells the caller how the buyer completes a payment.
type Created struct {
	// PaymentRef is the provider's handle of the payment: Stripe PaymentIntent ID, PayPal order
	// ID, VNPay vnp_TxnRef, MoMo orderId, sandbox reference. Events carry it back.
	PaymentRef string
	// RedirectURL is the provider-hosted page to send the buyer to, if any.
	RedirectURL string
	// ClientSecret is handed to the buyer's client for client-side confirmation, if any.
	ClientSecret string
	// CaptureRequired means authorization alone does not move money: after an authorized
	// event the payment must be captured with Capture.
	CaptureRequired bool
	// CreatedAt is the creation time sent to the provider; VNPay refunds must repeat it.
	CreatedAt time.Time
}

// CaptureRequest collects authorized funds.
type CaptureRequest struct {
	PaymentRef     string
	Amount         int64 // minor units; 0 captures the whole authorized amount
	Currency       string
	IdempotencyKey string
}

// CaptureResult is the provider's answer to a capture.
type CaptureResult struct {
	// TransactionID is the provider's ID of the captured money (PayPal capture ID, Stripe
	// charge ID); refunds need it for some providers.
	TransactionID string
	Amount        int64
	Currency      string
	Status        Status
}

// RefundRequest returns money of a captured payment.
type RefundRequest struct {
	PaymentRef string
	PaymentID  string
	// TransactionID is the provider's ID of the captured money, from the captured event or
	// CaptureResult: PayPal capture ID, MoMo transId, VNPay vnp_TransactionNo. Stripe ignores it.
	TransactionID string
	// PaymentCreatedAt is Created.CreatedAt of the payment (VNPay's vnp_TransactionDate).
	PaymentCreatedAt time.Time
	Amount           int64 // minor units, > 0
	// CapturedAmount is what the payment captured in total; VNPay distinguishes a full refund
	// from a partial one by it.
	CapturedAmount int64
	Currency       string
	Reason         string
	// IdempotencyKey is required: the same key never refunds twice where the provider
	// supports keys, and names the refund at providers that want a refund ID (MoMo, VNPay).
	IdempotencyKey string
	// RequestedBy names who asked (VNPay vnp_CreateBy); ClientIP is the server's or admin's
	// address (VNPay vnp_IpAddr).
	RequestedBy string
	ClientIP    string
}

// Validate checks what every adapter needs.
func (r RefundRequest) Validate() error {
	switch {
	case r.PaymentRef == "":
		return fmt.Errorf("%w: payment ref is required", ErrInvalidRequest)
	case r.Amount <= 0:
		return fmt.Errorf("%w: amount must be positive", ErrInvalidRequest)
	case r.IdempotencyKey == "":
		return fmt.Errorf("%w: idempotency key is required", ErrInvalidRequest)
	case r.CapturedAmount > 0 && r.Amount > r.CapturedAmount:
		return fmt.Errorf("%w: refund exceeds the captured amount", ErrInvalidRequest)
	}
	_, err := Exponent(r.Currency)
	return err
}

// RefundResult is the provider's answer to a refund.
type RefundResult struct {
	RefundRef string
	Amount    int64
	Status    Status
}

// Status is the state of a capture or refund as the provider reports it synchronously.
type Status string

// The statuses. Pending ones are settled later by a webhook.
const (
	StatusSucceeded Status = "succeeded"
	StatusPending   Status = "pending"
	StatusFailed    Status = "failed"
)

// EventType is a provider notification normalized to what the payment service acts on.
type EventType string

// The normalized event types. EventOther is a verified notification the service records (so
// a redelivery is recognized) but does not act on.
const (
	EventAuthorized   EventType = "authorized"    // funds held, awaiting capture
	EventCaptured     EventType = "captured"      // money collected
	EventFailed       EventType = "failed"        // the payment attempt failed or was declined
	EventCanceled     EventType = "canceled"      // the buyer or merchant abandoned it
	EventRefunded     EventType = "refunded"      // money returned to the buyer
	EventRefundFailed EventType = "refund_failed" // a refund the provider had accepted failed
	EventDisputed     EventType = "disputed"      // a chargeback or dispute was opened
	EventDisputeWon   EventType = "dispute_won"   // closed in the merchant's favour
	EventDisputeLost  EventType = "dispute_lost"  // closed in the buyer's favour
	EventOther        EventType = "other"
)

// Event is a verified, normalized provider notification. A payment is found by PaymentID
// when the provider echoed it, else by PaymentRef, else by TransactionID.
type Event struct {
	// ID identifies the notification for de-duplication: the provider's event ID, or, for
	// providers without one (VNPay, MoMo), a key built from the fields that make a
	// notification distinct, so a redelivery yields the same ID.
	ID           string
	Provider     string
	Type         EventType
	ProviderType string // the provider's own event type or result code
	PaymentRef   string
	PaymentID    string
	// TransactionID is the provider's ID of the money movement (Stripe charge, PayPal capture,
	// MoMo transId, VNPay vnp_TransactionNo).
	TransactionID string
	RefundRef     string
	DisputeRef    string
	// Amount is this event's money in minor units: the captured, authorized, refunded or
	// disputed amount.
	Amount   int64
	Currency string
	// RefundedTotal is the payment's cumulative refunded amount when the provider reports it
	// (Stripe charge.refunded); applying it as a maximum is safe against reordering.
	RefundedTotal int64
	Reason        string
	OccurredAt    time.Time
	Raw           []byte
}

// Registry holds the configured gateways by name.
type Registry struct {
	byName map[string]Gateway
	order  []string
}

// NewRegistry registers gateways in the order given (the order methods are listed in).
func NewRegistry(gateways ...Gateway) *Registry {
	r := &Registry{byName: make(map[string]Gateway, len(gateways))}
	for _, g := range gateways {
		if _, dup := r.byName[g.Name()]; !dup {
			r.order = append(r.order, g.Name())
		}
		r.byName[g.Name()] = g
	}
	return r
}

// Get returns the named gateway if it is known and available.
func (r *Registry) Get(name string) (Gateway, error) {
	g, ok := r.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	if !g.Available() {
		return nil, fmt.Errorf("%w: %s", ErrUnavailable, name)
	}
	return g, nil
}

// All returns every registered gateway, available or not, in registration order.
func (r *Registry) All() []Gateway {
	out := make([]Gateway, 0, len(r.order))
	for _, n := range r.order {
		out = append(out, r.byName[n])
	}
	return out
}

// Names returns the registered names in registration order.
func (r *Registry) Names() []string { return slices.Clone(r.order) }
