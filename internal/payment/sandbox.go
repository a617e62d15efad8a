package payment

import (
	"context"

	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/sandbox"
	"github.com/goshop/goshop/internal/payment/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// The sandbox provider's "pay page", for development and tests only (never mounted in
// production): whoever holds a sandbox payment's client secret may complete it, as Stripe.js
// confirms a PaymentIntent with its client secret. Completing it makes the notification the
// sandbox provider would send, signed, and hands it to the same webhook path a real provider's
// notification takes: verified, de-duplicated, applied.

// SandboxInput completes a sandbox payment with an outcome.
type SandboxInput struct {
	ClientSecret string `json:"client_secret" validate:"required,max=200"`
	Outcome      string `json:"outcome" validate:"required,oneof=authorized captured failed canceled"`
}

// SandboxPage describes a sandbox payment to the buyer sent to its pay page.
type SandboxPage struct {
	PaymentRef string       `json:"payment_ref"`
	Amount     int64        `json:"amount"`
	Currency   string       `json:"currency"`
	Status     string       `json:"status"`
	Complete   SandboxCall  `json:"complete"`
	Outcomes   []string     `json:"outcomes"`
	Input      SandboxInput `json:"body"`
}

// SandboxCall names the request that completes a sandbox payment.
type SandboxCall struct {
	Method string `json:"method"`
	Path   string `json:"path"`
}

func (s *Service) sandbox() (*sandbox.Gateway, error) {
	g, err := s.gateways.Get(gateway.Sandbox)
	if err != nil {
		return nil, apperr.NotFoundf("sandbox")
	}
	sb, ok := g.(*sandbox.Gateway)
	if !ok {
		return nil, apperr.NotFoundf("sandbox")
	}
	return sb, nil
}

func (s *Service) sandboxPayment(ctx context.Context, ref string) (store.PaymentPayment, error) {
	pay, err := s.q.PaymentByRef(ctx, store.PaymentByRefParams{Provider: gateway.Sandbox, ProviderRef: &ref})
	return pay, pgdb.NotFound(err, "payment")
}

// SandboxPageOf describes the sandbox payment ref.
func (s *Service) SandboxPageOf(ctx context.Context, ref string) (SandboxPage, error) {
	if _, err := s.sandbox(); err != nil {
		return SandboxPage{}, err
	}
	pay, err := s.sandboxPayment(ctx, ref)
	if err != nil {
		return SandboxPage{}, err
	}
	return SandboxPage{PaymentRef: ref, Amount: pay.Amount, Currency: pay.Currency, Status: pay.Status,
		Complete: SandboxCall{Method: "POST", Path: "/api/v1/payments/sandbox/complete"},
		Outcomes: []string{"captured", "authorized", "failed", "canceled"},
		Input:    SandboxInput{ClientSecret: "the client_secret POST /payments answered", Outcome: "captured"}}, nil
}

// CompleteSandbox completes the sandbox payment whose client secret the caller holds.
func (s *Service) CompleteSandbox(ctx context.Context, in SandboxInput) (WebhookResult, error) {
	sb, err := s.sandbox()
	if err != nil {
		return WebhookResult{}, err
	}
	ref, ok := sb.VerifyClientSecret(in.ClientSecret)
	if !ok {
		return WebhookResult{}, apperr.NotFoundf("payment")
	}
	pay, err := s.sandboxPayment(ctx, ref)
	if err != nil {
		return WebhookResult{}, err
	}
	body, header, err := sb.SignedWebhook(sandbox.Webhook{Type: gateway.EventType(in.Outcome), PaymentRef: ref,
		PaymentID: pay.ID.String(), Amount: pay.Amount, Currency: pay.Currency})
	if err != nil {
		return WebhookResult{}, err
	}
	return s.HandleWebhook(ctx, gateway.Sandbox, header, body, nil)
}
