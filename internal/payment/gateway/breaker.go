package gateway

import (
	"context"
	"errors"

	"github.com/goshop/goshop/internal/platform/breaker"
)

// WithBreaker guards the calls g makes to its provider's API (Create, Refund, Capture) with a
// circuit breaker: after cfg.Failures temporary failures in a row (5xx, 429, no answer) they
// fail at once with an error wrapping breaker.ErrOpen until the provider is tried again.
// Refusals (a declined card, a bad request) are answers, not failures. Webhooks are not
// guarded: most verify locally, and a provider retries its own notifications.
func WithBreaker(g Gateway, cfg breaker.Config) Gateway {
	return &guarded{Gateway: g, b: breaker.New(g.Name(), cfg, Temporary)}
}

// Temporary reports whether err is a failure that waiting may cure: the provider failed on its
// side or could not be reached, or its breaker refuses calls for now. A job retries those; it
// gives up on the others.
func Temporary(err error) bool {
	if errors.Is(err, breaker.ErrOpen) {
		return true
	}
	var pe *ProviderError
	return errors.As(err, &pe) && pe.Temporary()
}

type guarded struct {
	Gateway
	b *breaker.Breaker
}

// Breaker is the gateway's circuit breaker (metrics read its state).
func (g *guarded) Breaker() *breaker.Breaker { return g.b }

func (g *guarded) Create(ctx context.Context, req CreateRequest) (Created, error) {
	return breaker.Do(g.b, func() (Created, error) { return g.Gateway.Create(ctx, req) })
}

func (g *guarded) Refund(ctx context.Context, req RefundRequest) (RefundResult, error) {
	return breaker.Do(g.b, func() (RefundResult, error) { return g.Gateway.Refund(ctx, req) })
}

func (g *guarded) Capture(ctx context.Context, req CaptureRequest) (CaptureResult, error) {
	return breaker.Do(g.b, func() (CaptureResult, error) { return g.Gateway.Capture(ctx, req) })
}

// Accepts keeps the guarded gateway's currency limits.
func (g *guarded) Accepts(cur string) bool {
	if cl, ok := g.Gateway.(CurrencyLimited); ok {
		return cl.Accepts(cur)
	}
	return true
}
