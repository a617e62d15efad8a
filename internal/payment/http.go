package payment

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/momo"
	"github.com/goshop/goshop/internal/payment/gateway/vnpay"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/idempotency"
)

// Handler serves the payment routes.
type Handler struct {
	svc   *Service
	authn *auth.Authenticator
}

// NewHandler returns the payment HTTP handler.
func NewHandler(svc *Service, authn *auth.Authenticator) *Handler {
	return &Handler{svc: svc, authn: authn}
}

// Routes mounts /payments. Provider webhooks are public (their signature is their
// authentication); the methods list is open to everyone and adds the caller's saved methods
// when signed in; refunds, status corrections, chargebacks and escrow holds are for admins.
func (h *Handler) Routes(r chi.Router) {
	const (
		ok      = http.StatusOK
		created = http.StatusCreated
		none    = http.StatusNoContent
	)
	for _, p := range []string{gateway.Stripe, gateway.PayPal, gateway.MoMo} {
		r.Post("/payments/"+p+"/webhook", h.webhook(p))
	}
	// VNPay calls its IPN with GET; a POSTed form is read the same way.
	r.Get("/payments/vnpay/webhook", h.webhook(gateway.VNPay))
	r.Post("/payments/vnpay/webhook", h.webhook(gateway.VNPay))
	if h.svc.cfg.Sandbox {
		r.Post("/payments/sandbox/webhook", h.webhook(gateway.Sandbox))
		r.Method(http.MethodGet, "/payments/sandbox/pay/{ref}", httpx.Endpoint(ok, h.sandboxPage))
		r.Method(http.MethodPost, "/payments/sandbox/complete", httpx.WithBody(ok, h.sandboxComplete))
	}
	r.With(h.authn.Optional).Method(http.MethodGet, "/payments/methods", httpx.Endpoint(ok, h.methods))
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodPost, "/payments", keyed(created, false, true, h.create))
		r.Method(http.MethodGet, "/payments/history", httpx.Endpoint(ok, h.history))
		r.Method(http.MethodGet, "/payments/transactions", httpx.Endpoint(ok, h.transactions))
		r.Method(http.MethodPost, "/payments/methods", httpx.Documented[SaveMethodInput, SavedMethod](created, h.saveMethod))
		r.Method(http.MethodDelete, "/payments/methods/{id}", httpx.WithID(none, "id", "payment method", h.deleteMethod))
		r.Method(http.MethodPut, "/payments/methods/{id}/default", httpx.WithID(ok, "id", "payment method", h.setDefault))
		r.Method(http.MethodPost, "/payments/escrow/release", httpx.WithBody(ok, h.release))
		r.Method(http.MethodGet, "/payments/escrow/{order_id}/status", httpx.WithID(ok, "order_id", "order", h.escrowStatus))
		r.Method(http.MethodGet, "/payments/receipts/{payment_id}", httpx.WithID(ok, "payment_id", "payment", h.receipt))
		r.Method(http.MethodGet, "/payments/{id}", httpx.WithID(ok, "id", "payment", h.get))
		r.Method(http.MethodPost, "/payments/{id}/capture", keyed(ok, true, false, h.capture))
		r.Method(http.MethodGet, "/payments/{id}/refund-status", httpx.WithID(ok, "id", "payment", h.refundStatus))
		r.Method(http.MethodPost, "/payments/{id}/dispute", httpx.WithIDBody(created, "id", "payment", h.dispute))
		r.Group(func(r chi.Router) {
			r.Use(auth.RequireRole(auth.RoleAdmin))
			r.Method(http.MethodPut, "/payments/{id}/status", httpx.WithIDBody(ok, "id", "payment", h.setStatus))
			r.Method(http.MethodPost, "/payments/{id}/refund", keyed(created, true, false, h.refund))
			r.Method(http.MethodGet, "/payments/chargebacks", httpx.Endpoint(ok, h.chargebacks))
			r.Method(http.MethodPost, "/payments/escrow/hold", httpx.WithBody(ok, h.hold))
		})
	})
}

func paymentID(r *http.Request) (uuid.UUID, error) { return httpx.UUIDParam(r, "id", "payment") }

// clientIP is the caller's address (behind a trusted proxy, RealIP has put the client's there).
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// webhook verifies and applies a provider's notification and answers as the provider expects:
// JSON for Stripe, PayPal and the sandbox, 204 for MoMo, VNPay's RspCode document for VNPay. A
// notification whose signature does not verify is 400 for every provider.
func (h *Handler) webhook(provider string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		res, err := h.svc.HandleWebhook(r.Context(), provider, r.Header, body, r.URL.Query())
		if provider == gateway.VNPay {
			vnpayAnswer(w, r, res, err)
			return
		}
		switch {
		case err != nil:
			httpx.Error(w, r, err)
		case provider == gateway.MoMo:
			w.WriteHeader(momo.IPNAnswerStatus)
		default:
			httpx.OK(w, res)
		}
	}
}

// readBody reads a body whole (within the size limit), for routes that look at its bytes.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, apperr.New(apperr.PayloadTooLarge, "the body is larger than %d bytes", tooBig.Limit)
	}
	return body, err
}

// vnpayAnswer writes VNPay's IPN answer: VNPay retries until it reads RspCode 00 or 02.
func vnpayAnswer(w http.ResponseWriter, r *http.Request, res WebhookResult, err error) {
	switch {
	case err == nil && res.Duplicate:
		httpx.OK(w, vnpay.AckAlreadyConfirmed)
	case err == nil && !res.Matched:
		httpx.OK(w, vnpay.AckOrderNotFound)
	case err == nil:
		httpx.OK(w, vnpay.AckConfirmed)
	case res.Outcome == "amount mismatch":
		httpx.OK(w, vnpay.AckInvalidAmount)
	default:
		httpx.Error(w, r, err)
	}
}

func (h *Handler) sandboxPage(r *http.Request) (SandboxPage, error) {
	return h.svc.SandboxPageOf(r.Context(), httpx.PathValue(r, "ref"))
}

func (h *Handler) sandboxComplete(r *http.Request, in SandboxInput) (WebhookResult, error) {
	return h.svc.CompleteSandbox(r.Context(), in)
}

func (h *Handler) methods(r *http.Request) (MethodsView, error) {
	var p *auth.Principal
	if pr, ok := auth.FromContext(r.Context()); ok {
		p = &pr
	}
	return h.svc.Methods(r.Context(), p, r.URL.Query().Get("currency"))
}

// keyed serves the POST routes that take an Idempotency-Key and answer the status the service
// chose (the first answer's, on a replay): the payment ID in the path, when the route has one,
// and a JSON body, which only POST /payments requires.
func keyed[In, Out any](status int, withID, bodyRequired bool, fn func(r *http.Request, key string, id uuid.UUID, in In) (int, Out, error)) *httpx.Op {
	op := httpx.Documented[In, Out](status, func(w http.ResponseWriter, r *http.Request) {
		var id uuid.UUID
		key, err := idempotency.KeyOf(r)
		if err == nil && withID {
			id, err = paymentID(r)
		}
		var in In
		switch {
		case err != nil:
		case bodyRequired:
			err = httpx.Decode(r, &in)
		default:
			err = httpx.DecodeOptional(r, &in)
		}
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		status, out, err := fn(r, key, id, in)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		httpx.JSON(w, status, out)
	})
	if withID {
		op.IDs = map[string]string{"id": "payment"}
	}
	return op
}

func (h *Handler) create(r *http.Request, key string, _ uuid.UUID, in CreateInput) (int, Payment, error) {
	return h.svc.Create(r.Context(), auth.Of(r), key, clientIP(r), in)
}

func (h *Handler) capture(r *http.Request, key string, id uuid.UUID, in CaptureInput) (int, Payment, error) {
	return h.svc.Capture(r.Context(), auth.Of(r), key, id, in)
}

func (h *Handler) refund(r *http.Request, key string, id uuid.UUID, in RefundInput) (int, Refund, error) {
	return h.svc.Refund(r.Context(), auth.Of(r), key, id, in)
}

func (h *Handler) get(r *http.Request, id uuid.UUID) (Payment, error) {
	return h.svc.Get(r.Context(), auth.Of(r), id)
}

var statuses = map[string]bool{StatusPending: true, StatusAuthorized: true, StatusCaptured: true, StatusFailed: true,
	StatusRefunded: true, StatusPartiallyRefunded: true, StatusDisputed: true}

func (h *Handler) history(r *http.Request) (httpx.List[Payment], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Payment]{}, err
	}
	var f HistoryFilter
	if s := r.URL.Query().Get("status"); s != "" {
		if !statuses[s] {
			return httpx.List[Payment]{}, apperr.Field("status", "is not a payment status")
		}
		f.Status = &s
	}
	return h.svc.History(r.Context(), auth.Of(r), f, page)
}

func (h *Handler) transactions(r *http.Request) (httpx.List[Transaction], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Transaction]{}, err
	}
	return h.svc.Transactions(r.Context(), auth.Of(r), page)
}

// saveMethod refuses a body holding a card number in any field, known or not, before decoding it.
func (h *Handler) saveMethod(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err == nil {
		err = RejectCardNumbers(body)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	httpx.WithBody(http.StatusCreated, func(r *http.Request, in SaveMethodInput) (SavedMethod, error) {
		return h.svc.SaveMethod(r.Context(), auth.Of(r), in)
	}).ServeHTTP(w, r)
}

func (h *Handler) deleteMethod(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.DeleteMethod(r.Context(), auth.Of(r), id)
}

func (h *Handler) setDefault(r *http.Request, id uuid.UUID) (SavedMethod, error) {
	return h.svc.SetDefaultMethod(r.Context(), auth.Of(r), id)
}

func (h *Handler) release(r *http.Request, in EscrowInput) (Escrow, error) {
	return h.svc.Release(r.Context(), auth.Of(r), in)
}

func (h *Handler) hold(r *http.Request, in EscrowInput) (Escrow, error) {
	return h.svc.Hold(r.Context(), auth.Of(r), in)
}

// escrowStatus takes the order's ID: escrow is held per order.
func (h *Handler) escrowStatus(r *http.Request, id uuid.UUID) (Escrow, error) {
	return h.svc.EscrowStatus(r.Context(), auth.Of(r), id)
}

func (h *Handler) receipt(r *http.Request, id uuid.UUID) (Receipt, error) {
	return h.svc.ReceiptOf(r.Context(), auth.Of(r), id)
}

func (h *Handler) refundStatus(r *http.Request, id uuid.UUID) (RefundStatus, error) {
	return h.svc.RefundStatusOf(r.Context(), auth.Of(r), id)
}

func (h *Handler) dispute(r *http.Request, id uuid.UUID, in DisputeInput) (Dispute, error) {
	return h.svc.OpenDispute(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) setStatus(r *http.Request, id uuid.UUID, in StatusInput) (Payment, error) {
	return h.svc.SetStatus(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) chargebacks(r *http.Request) (httpx.List[Dispute], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Dispute]{}, err
	}
	var f ChargebackFilter
	if s := r.URL.Query().Get("status"); s != "" {
		if s != "open" && s != "won" && s != "lost" {
			return httpx.List[Dispute]{}, apperr.Field("status", "must be one of: open won lost")
		}
		f.Status = &s
	}
	return h.svc.Chargebacks(r.Context(), auth.Of(r), f, page)
}
