package app

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/order"
	"github.com/goshop/goshop/internal/payment"
	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/momo"
	"github.com/goshop/goshop/internal/payment/gateway/paypal"
	"github.com/goshop/goshop/internal/payment/gateway/sandbox"
	"github.com/goshop/goshop/internal/payment/gateway/stripe"
	"github.com/goshop/goshop/internal/payment/gateway/vnpay"
	"github.com/goshop/goshop/internal/platform/breaker"
	"github.com/goshop/goshop/internal/platform/config"
	"github.com/goshop/goshop/internal/shipping"
	"github.com/goshop/goshop/internal/shipping/geo"
)

// paymentGateways builds every provider from the configuration, in the order the methods route
// lists them, each behind its circuit breaker. A provider without its credentials is registered
// but unavailable; the sandbox (in process, nothing to guard) is not built at all outside
// development and test.
func paymentGateways(cfg config.Config) *gateway.Registry {
	gws := []gateway.Gateway{
		stripe.New(stripe.Config{SecretKey: cfg.StripeSecretKey, WebhookSecret: cfg.StripeWebhookSecret, APIURL: cfg.StripeAPIURL,
			WebhookTolerance: cfg.StripeWebhookTolerance}),
		paypal.New(paypal.Config{ClientID: cfg.PayPalClientID, ClientSecret: cfg.PayPalClientSecret, WebhookID: cfg.PayPalWebhookID,
			APIURL: cfg.PayPalAPIURL, ReturnURL: cfg.PayPalReturnURL, CancelURL: cfg.PayPalCancelURL, BrandName: cfg.PayPalBrandName}),
		vnpay.New(vnpay.Config{TmnCode: cfg.VNPayTmnCode, HashSecret: cfg.VNPayHashSecret, PayURL: cfg.VNPayPayURL,
			APIURL: cfg.VNPayAPIURL, ReturnURL: cfg.VNPayReturnURL, Expiry: cfg.VNPayExpiry}),
		momo.New(momo.Config{PartnerCode: cfg.MoMoPartnerCode, AccessKey: cfg.MoMoAccessKey, SecretKey: cfg.MoMoSecretKey,
			Endpoint: cfg.MoMoEndpoint, RedirectURL: cfg.MoMoRedirectURL, IPNURL: cfg.MoMoIPNURL, Lang: cfg.MoMoLang}),
	}
	for i, g := range gws {
		gws[i] = gateway.WithBreaker(g, breakerConfig(cfg))
	}
	if cfg.Sandbox() {
		gws = append(gws, sandbox.New(sandbox.Config{Secret: cfg.SandboxSecret, PayURL: cfg.SandboxPayURL, Tolerance: cfg.SandboxTolerance}))
	}
	return gateway.NewRegistry(gws...)
}

// breakerConfig is every outside provider's circuit breaker setting.
func breakerConfig(cfg config.Config) breaker.Config {
	return breaker.Config{Failures: cfg.BreakerFailures, OpenFor: cfg.BreakerOpenFor, Probes: cfg.BreakerProbes}
}

// breakers are the circuit breakers of the app's outside providers, for the metrics.
func breakers(gws *gateway.Registry, ship shipping.Config) []*breaker.Breaker {
	var out []*breaker.Breaker
	for _, g := range gws.All() {
		if gb, ok := g.(interface{ Breaker() *breaker.Breaker }); ok {
			out = append(out, gb.Breaker())
		}
	}
	if g, ok := ship.Geocoder.(geo.HTTPGeocoder); ok {
		out = append(out, g.Breaker)
	}
	if r, ok := ship.Router.(geo.OSRMRouter); ok {
		out = append(out, r.Breaker)
	}
	return out
}

// orderPayments serves the payment context from the order context.
type orderPayments struct{ o *order.Service }

func (a orderPayments) Payables(ctx context.Context, buyer uuid.UUID, orderID, checkoutID *uuid.UUID) ([]payment.Payable, error) {
	ps, err := a.o.Payables(ctx, buyer, orderID, checkoutID)
	out := make([]payment.Payable, len(ps))
	for i, p := range ps {
		out[i] = payable(p)
	}
	return out, err
}

func (a orderPayments) Payable(ctx context.Context, orderID uuid.UUID) (payment.Payable, error) {
	p, err := a.o.Payable(ctx, orderID)
	return payable(p), err
}

func (a orderPayments) MarkPaidTx(ctx context.Context, tx pgx.Tx, orderIDs []uuid.UUID) error {
	return a.o.MarkPaidTx(ctx, tx, orderIDs)
}

func (a orderPayments) RefundedTx(ctx context.Context, tx pgx.Tx, orderID uuid.UUID, refunded int64) error {
	return a.o.RefundedTx(ctx, tx, orderID, refunded)
}

func payable(p order.Payable) payment.Payable {
	return payment.Payable{OrderID: p.OrderID, CheckoutID: p.CheckoutID, BuyerID: p.BuyerID, ShopID: p.ShopID, Status: p.Status,
		PaymentMethod: p.PaymentMethod, Provider: p.Provider, PaymentStatus: p.PaymentStatus, Total: p.Total, Currency: p.Currency,
		DeliveredAt: p.DeliveredAt}
}
