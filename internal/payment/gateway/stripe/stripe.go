// Package stripe is the card gateway, through stripe-go: PaymentIntents (automatic or manual
// capture), capture and refunds with idempotency keys, and webhooks verified by stripe-go's own
// signature check (webhook.ConstructEventWithOptions).
package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	sapi "github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/internal/wire"
)

// SignatureHeader carries a webhook's signature.
const SignatureHeader = "Stripe-Signature"

// MetadataPaymentID is the metadata key our payment ID travels under.
const MetadataPaymentID = "payment_id"

// Config configures the Stripe gateway.
type Config struct {
	SecretKey     string // sk_live_... / sk_test_...
	WebhookSecret string // whsec_..., the endpoint's signing secret
	// APIURL overrides https://api.stripe.com (tests point it at a local server).
	APIURL string
	// WebhookTolerance bounds a webhook's age; 0 means stripe-go's DefaultTolerance (5 min).
	WebhookTolerance time.Duration
	HTTPClient       *http.Client
	// MaxNetworkRetries overrides stripe-go's default of 2 retries; safe because every
	// mutating call carries an idempotency key.
	MaxNetworkRetries *int64
}

// Gateway is the Stripe provider.
type Gateway struct {
	cfg    Config
	client *sapi.Client
}

var _ gateway.Gateway = (*Gateway)(nil)

// New returns a Stripe gateway whose client talks to cfg.APIURL (or Stripe's API).
func New(cfg Config) *Gateway {
	bc := &sapi.BackendConfig{
		HTTPClient:        cfg.HTTPClient,
		MaxNetworkRetries: cfg.MaxNetworkRetries,
		LeveledLogger:     &sapi.LeveledLogger{Level: sapi.LevelNull},
	}
	if cfg.APIURL != "" {
		bc.URL = sapi.String(cfg.APIURL)
	}
	return &Gateway{cfg: cfg, client: sapi.NewClient(cfg.SecretKey, sapi.WithBackends(sapi.NewBackendsWithConfig(bc)))}
}

// Name is "stripe".
func (g *Gateway) Name() string { return gateway.Stripe }

// Available reports whether the API key and the webhook secret are configured.
func (g *Gateway) Available() bool { return g.cfg.SecretKey != "" && g.cfg.WebhookSecret != "" }

// Stripe's "smallest currency unit" differs from ISO 4217 for a few currencies; amounts are
// rescaled between the two. https://docs.stripe.com/currencies#zero-decimal
var (
	zeroDecimal  = []string{"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
	threeDecimal = []string{"BHD", "JOD", "KWD", "OMR", "TND"}
)

func stripeExponent(cur string) int {
	switch c := strings.ToUpper(cur); {
	case slices.Contains(zeroDecimal, c):
		return 0
	case slices.Contains(threeDecimal, c):
		return 3
	default:
		return 2
	}
}

// toStripe converts our minor units to Stripe's.
func toStripe(amount int64, cur string) (int64, error) {
	exp, err := gateway.Exponent(cur)
	if err != nil {
		return 0, err
	}
	return gateway.Rescale(amount, exp, stripeExponent(cur))
}

// fromStripe converts Stripe's units to our minor units.
func fromStripe(amount int64, cur string) (int64, error) {
	exp, err := gateway.Exponent(cur)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", gateway.ErrMalformed, err)
	}
	n, err := gateway.Rescale(amount, stripeExponent(cur), exp)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", gateway.ErrMalformed, err)
	}
	return n, nil
}

// Create makes a PaymentIntent. The buyer's client confirms it with the client secret
// (Stripe.js / Elements), so card data never reaches our server.
func (g *Gateway) Create(ctx context.Context, req gateway.CreateRequest) (gateway.Created, error) {
	if err := wire.CheckCreate(g, req, false); err != nil {
		return gateway.Created{}, err
	}
	amount, err := toStripe(req.Amount, req.Currency)
	if err != nil {
		return gateway.Created{}, err
	}
	capture := sapi.PaymentIntentCaptureMethodAutomatic
	if req.Capture == gateway.CaptureManual {
		capture = sapi.PaymentIntentCaptureMethodManual
	}
	params := &sapi.PaymentIntentCreateParams{
		Amount:                  sapi.Int64(amount),
		Currency:                sapi.String(strings.ToLower(req.Currency)),
		CaptureMethod:           sapi.String(string(capture)),
		AutomaticPaymentMethods: &sapi.PaymentIntentCreateAutomaticPaymentMethodsParams{Enabled: sapi.Bool(true)},
	}
	if req.Description != "" {
		params.Description = sapi.String(req.Description)
	}
	params.AddMetadata(MetadataPaymentID, req.PaymentID)
	if req.IdempotencyKey != "" {
		params.SetIdempotencyKey(req.IdempotencyKey)
	}
	pi, err := g.client.V1PaymentIntents.Create(ctx, params)
	if err != nil {
		return gateway.Created{}, providerError(err)
	}
	return gateway.Created{
		PaymentRef:      pi.ID,
		ClientSecret:    pi.ClientSecret,
		CaptureRequired: req.Capture == gateway.CaptureManual,
		CreatedAt:       time.Unix(pi.Created, 0).UTC(),
	}, nil
}

// Capture captures a PaymentIntent created with manual capture.
func (g *Gateway) Capture(ctx context.Context, req gateway.CaptureRequest) (gateway.CaptureResult, error) {
	if err := wire.Ready(g); err != nil {
		return gateway.CaptureResult{}, err
	}
	if req.PaymentRef == "" || req.IdempotencyKey == "" {
		return gateway.CaptureResult{}, fmt.Errorf("%w: payment ref and idempotency key are required", gateway.ErrInvalidRequest)
	}
	params := &sapi.PaymentIntentCaptureParams{}
	if req.Amount > 0 {
		amount, err := toStripe(req.Amount, req.Currency)
		if err != nil {
			return gateway.CaptureResult{}, err
		}
		params.AmountToCapture = sapi.Int64(amount)
	}
	params.SetIdempotencyKey(req.IdempotencyKey)
	pi, err := g.client.V1PaymentIntents.Capture(ctx, req.PaymentRef, params)
	if err != nil {
		return gateway.CaptureResult{}, providerError(err)
	}
	received, err := fromStripe(pi.AmountReceived, string(pi.Currency))
	if err != nil {
		return gateway.CaptureResult{}, err
	}
	res := gateway.CaptureResult{Amount: received, Currency: strings.ToUpper(string(pi.Currency)), Status: gateway.StatusPending}
	if pi.LatestCharge != nil {
		res.TransactionID = pi.LatestCharge.ID
	}
	if pi.Status == sapi.PaymentIntentStatusSucceeded {
		res.Status = gateway.StatusSucceeded
	}
	return res, nil
}

// Stripe accepts only these refund reasons; anything else is kept in metadata.
var refundReasons = []string{"duplicate", "fraudulent", "requested_by_customer"}

// Refund refunds part or all of a PaymentIntent.
func (g *Gateway) Refund(ctx context.Context, req gateway.RefundRequest) (gateway.RefundResult, error) {
	if err := wire.CheckRefund(g, req, false); err != nil {
		return gateway.RefundResult{}, err
	}
	amount, err := toStripe(req.Amount, req.Currency)
	if err != nil {
		return gateway.RefundResult{}, err
	}
	params := &sapi.RefundCreateParams{PaymentIntent: sapi.String(req.PaymentRef), Amount: sapi.Int64(amount)}
	if slices.Contains(refundReasons, req.Reason) {
		params.Reason = sapi.String(req.Reason)
	} else if req.Reason != "" {
		params.AddMetadata("reason", req.Reason)
	}
	if req.PaymentID != "" {
		params.AddMetadata(MetadataPaymentID, req.PaymentID)
	}
	params.SetIdempotencyKey(req.IdempotencyKey)
	rf, err := g.client.V1Refunds.Create(ctx, params)
	if err != nil {
		return gateway.RefundResult{}, providerError(err)
	}
	refunded, err := fromStripe(rf.Amount, string(rf.Currency))
	if err != nil {
		return gateway.RefundResult{}, err
	}
	return gateway.RefundResult{RefundRef: rf.ID, Amount: refunded, Status: refundStatus(rf.Status)}, nil
}

func refundStatus(s sapi.RefundStatus) gateway.Status {
	switch s {
	case sapi.RefundStatusSucceeded:
		return gateway.StatusSucceeded
	case sapi.RefundStatusFailed, sapi.RefundStatusCanceled:
		return gateway.StatusFailed
	default:
		return gateway.StatusPending
	}
}

func providerError(err error) error {
	var se *sapi.Error
	if errors.As(err, &se) {
		code := string(se.Code)
		if se.DeclineCode != "" {
			code += "/" + string(se.DeclineCode)
		}
		return &gateway.ProviderError{Provider: gateway.Stripe, Code: code, Message: se.Msg, HTTPStatus: se.HTTPStatusCode, Err: err}
	}
	return &gateway.ProviderError{Provider: gateway.Stripe, Message: "request failed", Err: err}
}

// ParseWebhook verifies the Stripe-Signature header with stripe-go's ConstructEvent check
// (HMAC-SHA256 over "t.body", within the tolerance) and normalizes the event. An event from
// an endpoint pinned to another API version is still accepted: only the fields read below
// matter, and they are stable across versions.
func (g *Gateway) ParseWebhook(_ context.Context, headers http.Header, body []byte, _ url.Values) (gateway.Event, error) {
	if err := wire.Ready(g); err != nil {
		return gateway.Event{}, err
	}
	evt, err := webhook.ConstructEventWithOptions(body, headers.Get(SignatureHeader), g.cfg.WebhookSecret,
		webhook.ConstructEventOptions{Tolerance: g.cfg.WebhookTolerance, IgnoreAPIVersionMismatch: true})
	switch {
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader),
		errors.Is(err, webhook.ErrNoValidSignature), errors.Is(err, webhook.ErrTooOld):
		return gateway.Event{}, fmt.Errorf("%w: stripe: %w", gateway.ErrBadSignature, err)
	case err != nil:
		return gateway.Event{}, fmt.Errorf("%w: stripe: %w", gateway.ErrMalformed, err)
	}
	if evt.ID == "" || evt.Data == nil {
		return gateway.Event{}, fmt.Errorf("%w: stripe: event without id or data", gateway.ErrMalformed)
	}
	out := gateway.Event{
		ID: evt.ID, Provider: gateway.Stripe, Type: gateway.EventOther, ProviderType: string(evt.Type),
		OccurredAt: time.Unix(evt.Created, 0).UTC(), Raw: body,
	}
	if err := normalize(&out, evt); err != nil {
		return gateway.Event{}, fmt.Errorf("%w: stripe %s: %w", gateway.ErrMalformed, evt.Type, err)
	}
	return out, nil
}

func normalize(out *gateway.Event, evt sapi.Event) error {
	raw := evt.Data.Raw
	switch evt.Type {
	case sapi.EventTypePaymentIntentSucceeded, sapi.EventTypePaymentIntentAmountCapturableUpdated,
		sapi.EventTypePaymentIntentPaymentFailed, sapi.EventTypePaymentIntentCanceled:
		var pi sapi.PaymentIntent
		if err := json.Unmarshal(raw, &pi); err != nil {
			return err
		}
		out.PaymentRef, out.PaymentID = pi.ID, pi.Metadata[MetadataPaymentID]
		if pi.LatestCharge != nil {
			out.TransactionID = pi.LatestCharge.ID
		}
		amount := pi.Amount
		switch evt.Type {
		case sapi.EventTypePaymentIntentSucceeded:
			out.Type, amount = gateway.EventCaptured, pi.AmountReceived
		case sapi.EventTypePaymentIntentAmountCapturableUpdated:
			out.Type, amount = gateway.EventAuthorized, pi.AmountCapturable
		case sapi.EventTypePaymentIntentPaymentFailed:
			out.Type = gateway.EventFailed
			if pi.LastPaymentError != nil {
				out.Reason = strings.Trim(string(pi.LastPaymentError.Code)+": "+pi.LastPaymentError.Msg, ": ")
			}
		default:
			out.Type, out.Reason = gateway.EventCanceled, string(pi.CancellationReason)
		}
		return setAmount(out, amount, pi.Currency)

	case sapi.EventTypeChargeRefunded:
		var ch sapi.Charge
		if err := json.Unmarshal(raw, &ch); err != nil {
			return err
		}
		out.Type, out.TransactionID = gateway.EventRefunded, ch.ID
		if ch.PaymentIntent != nil {
			out.PaymentRef = ch.PaymentIntent.ID
		}
		out.PaymentID = ch.Metadata[MetadataPaymentID]
		if err := setAmount(out, ch.AmountRefunded, ch.Currency); err != nil {
			return err
		}
		out.RefundedTotal, out.Amount = out.Amount, 0
		return nil

	case sapi.EventTypeRefundCreated, sapi.EventTypeRefundUpdated, sapi.EventTypeRefundFailed, sapi.EventTypeChargeRefundUpdated:
		var rf sapi.Refund
		if err := json.Unmarshal(raw, &rf); err != nil {
			return err
		}
		switch refundStatus(rf.Status) {
		case gateway.StatusSucceeded:
			out.Type = gateway.EventRefunded
		case gateway.StatusFailed:
			out.Type, out.Reason = gateway.EventRefundFailed, string(rf.FailureReason)
		}
		out.RefundRef, out.PaymentID = rf.ID, rf.Metadata[MetadataPaymentID]
		if rf.PaymentIntent != nil {
			out.PaymentRef = rf.PaymentIntent.ID
		}
		if rf.Charge != nil {
			out.TransactionID = rf.Charge.ID
		}
		return setAmount(out, rf.Amount, rf.Currency)

	case sapi.EventTypeChargeDisputeCreated, sapi.EventTypeChargeDisputeClosed:
		var dp sapi.Dispute
		if err := json.Unmarshal(raw, &dp); err != nil {
			return err
		}
		out.DisputeRef, out.Reason = dp.ID, string(dp.Reason)
		if dp.PaymentIntent != nil {
			out.PaymentRef = dp.PaymentIntent.ID
		}
		if dp.Charge != nil {
			out.TransactionID = dp.Charge.ID
		}
		switch {
		case evt.Type == sapi.EventTypeChargeDisputeCreated:
			out.Type = gateway.EventDisputed
		case dp.Status == sapi.DisputeStatusLost:
			out.Type = gateway.EventDisputeLost
		default: // won, or an inquiry closed without a chargeback
			out.Type = gateway.EventDisputeWon
		}
		return setAmount(out, dp.Amount, dp.Currency)
	}
	return nil
}

func setAmount(out *gateway.Event, amount int64, cur sapi.Currency) error {
	if cur == "" {
		return errors.New("currency missing")
	}
	n, err := fromStripe(amount, string(cur))
	if err != nil {
		return err
	}
	out.Amount, out.Currency = n, strings.ToUpper(string(cur))
	return nil
}
