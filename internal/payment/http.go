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
	conflict, reused := apperr.Conflict, apperr.IdempotencyKeyReused
	// Each provider is answered the way it expects: JSON for Stripe and PayPal, 204 for MoMo,
	// VNPay's RspCode document for VNPay.
	for _, p := range []string{gateway.Stripe, gateway.PayPal} {
		r.Method(http.MethodPost, "/payments/"+p+"/webhook", httpx.Raw[WebhookResult](ok, h.webhook(p)).
			Doc("Apply a signed "+p+" notification").For(httpx.Webhook))
	}
	r.Method(http.MethodPost, "/payments/momo/webhook", httpx.Raw[httpx.Empty](momo.IPNAnswerStatus, h.webhook(gateway.MoMo)).
		Doc("Apply a signed MoMo IPN").For(httpx.Webhook))
	// VNPay calls its IPN with GET; a POSTed form is read the same way.
	vnpayIPN := httpx.Raw[vnpay.IPNAck](ok, h.webhook(gateway.VNPay)).
		Doc("Apply a signed VNPay IPN (its signed query string); answers VNPay's RspCode").For(httpx.Webhook)
	r.Method(http.MethodGet, "/payments/vnpay/webhook", vnpayIPN)
	r.Method(http.MethodPost, "/payments/vnpay/webhook", vnpayIPN)
	if h.svc.cfg.Sandbox {
		r.Method(http.MethodPost, "/payments/sandbox/webhook", httpx.Raw[WebhookResult](ok, h.webhook(gateway.Sandbox)).
			Doc("Apply a signed sandbox notification (development and test only)").For(httpx.Webhook))
		r.Method(http.MethodGet, "/payments/sandbox/pay/{ref}", httpx.Endpoint(ok, h.sandboxPage).
			Doc("The sandbox pay page of a payment (development and test only)").For(httpx.Public).Can(apperr.NotFound))
		r.Method(http.MethodPost, "/payments/sandbox/complete", httpx.WithBody(ok, h.sandboxComplete).
			Doc("Complete a sandbox payment with its client secret (development and test only)").For(httpx.Public).
			Can(apperr.NotFound))
	}
	r.With(h.authn.Optional).Method(http.MethodGet, "/payments/methods", httpx.Endpoint(ok, h.methods).
		Doc("The ways to pay in a currency, and the caller's saved methods when signed in").For(httpx.Public).
		Params(methodsQuery{}))
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodPost, "/payments", keyed(created, false, true, h.create).
			Doc("Start paying an order or a checkout at its provider").For(httpx.AnyUser).TakesIdempotencyKey().
			Can(apperr.NotFound, conflict, reused, apperr.ProviderUnavailable))
		r.Method(http.MethodGet, "/payments/history", httpx.Endpoint(ok, h.history).
			Doc("The caller's payments, newest first").For(httpx.AnyUser).Params(historyQuery{}))
		r.Method(http.MethodGet, "/payments/transactions", httpx.Endpoint(ok, h.transactions).
			Doc("The ledger transactions of the caller's payments, newest first").For(httpx.AnyUser).Paged())
		r.Method(http.MethodPost, "/payments/methods", httpx.Documented[SaveMethodInput, SavedMethod](created, h.saveMethod).
			Doc("Save a payment method by its provider token (never a card number)").For(httpx.AnyUser).Can(conflict))
		r.Method(http.MethodDelete, "/payments/methods/{id}", httpx.WithID(none, "id", "payment method", h.deleteMethod).
			Doc("Delete one of the caller's saved methods").For(httpx.Owner))
		r.Method(http.MethodPut, "/payments/methods/{id}/default", httpx.WithID(ok, "id", "payment method", h.setDefault).
			Doc("Make one of the caller's saved methods the default").For(httpx.Owner))
		r.Method(http.MethodPost, "/payments/escrow/release", httpx.WithBody(ok, h.release).
			Doc("Release an order's escrow to its shop: its buyer once delivered, or an admin").For(httpx.Owner).Can(conflict))
		r.Method(http.MethodGet, "/payments/escrow/{order_id}/status", httpx.WithID(ok, "order_id", "order", h.escrowStatus).
			Doc("An order's escrow, to its buyer, its shop's owner or an admin").For(httpx.Owner))
		r.Method(http.MethodGet, "/payments/receipts/{payment_id}", httpx.WithID(ok, "payment_id", "payment", h.receipt).
			Doc("The receipt of a captured payment").For(httpx.Owner).Can(conflict))
		r.Method(http.MethodGet, "/payments/{id}", httpx.WithID(ok, "id", "payment", h.get).
			Doc("A payment with its status history").For(httpx.Owner))
		r.Method(http.MethodPost, "/payments/{id}/capture", keyed(ok, true, false, h.capture).
			Doc("Capture an authorized payment (its buyer or an admin)").For(httpx.Owner).TakesIdempotencyKey().
			Can(conflict, reused, apperr.ProviderUnavailable))
		r.Method(http.MethodGet, "/payments/{id}/refund-status", httpx.WithID(ok, "id", "payment", h.refundStatus).
			Doc("Where a payment's refunds stand").For(httpx.Owner))
		r.Method(http.MethodPost, "/payments/{id}/dispute", httpx.WithIDBody(created, "id", "payment", h.dispute).
			Doc("Dispute a captured payment (its buyer)").For(httpx.Owner).Can(conflict))
		r.Group(func(r chi.Router) {
			r.Use(auth.RequireRole(auth.RoleAdmin))
			r.Method(http.MethodPut, "/payments/{id}/status", httpx.WithIDBody(ok, "id", "payment", h.setStatus).
				Doc("Correct a payment's status by hand, with a reason").For(httpx.Admin).Can(conflict))
			r.Method(http.MethodPost, "/payments/{id}/refund", keyed(created, true, false, h.refund).
				Doc("Refund part or all of an order's share of a payment").For(httpx.Admin).TakesIdempotencyKey().
				Can(conflict, reused))
			r.Method(http.MethodGet, "/payments/chargebacks", httpx.Endpoint(ok, h.chargebacks).
				Doc("Disputes and chargebacks, newest first").For(httpx.Admin).Params(chargebackQuery{}))
			r.Method(http.MethodPost, "/payments/escrow/hold", httpx.WithBody(ok, h.hold).
				Doc("Keep an order's escrow from being released").For(httpx.Admin).Can(conflict))
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

// methodsQuery names the currency the ways to pay are listed for.
type methodsQuery struct {
	Currency string `query:"currency" validate:"omitempty,len=3" doc:"an ISO 4217 currency code (default VND)"`
}

func (h *Handler) methods(r *http.Request) (MethodsView, error) {
	q, err := httpx.QueryOf[methodsQuery](r)
	if err != nil {
		return MethodsView{}, err
	}
	var p *auth.Principal
	if pr, ok := auth.FromContext(r.Context()); ok {
		p = &pr
	}
	return h.svc.Methods(r.Context(), p, q.Currency)
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
	op.OptionalBody = !bodyRequired
	if withID {
		op.ID("id", "payment")
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

// historyQuery pages the caller's payments, optionally of one status.
type historyQuery struct {
	httpx.PageQuery
	Status string `query:"status" validate:"omitempty,oneof=pending authorized captured failed refunded partially_refunded disputed" doc:"only payments in this status"`
}

func (h *Handler) history(r *http.Request) (httpx.List[Payment], error) {
	q, err := httpx.QueryOf[historyQuery](r)
	if err != nil {
		return httpx.List[Payment]{}, err
	}
	var f HistoryFilter
	if q.Status != "" {
		f.Status = &q.Status
	}
	return h.svc.History(r.Context(), auth.Of(r), f, q.Page())
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
	var in SaveMethodInput
	if err == nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		err = httpx.Decode(r, &in)
	}
	var m SavedMethod
	if err == nil {
		m, err = h.svc.SaveMethod(r.Context(), auth.Of(r), in)
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.Created(w, m)
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

// chargebackQuery pages disputes and chargebacks, optionally of one outcome.
type chargebackQuery struct {
	httpx.PageQuery
	Status string `query:"status" validate:"omitempty,oneof=open won lost" doc:"only disputes in this state"`
}

func (h *Handler) chargebacks(r *http.Request) (httpx.List[Dispute], error) {
	q, err := httpx.QueryOf[chargebackQuery](r)
	if err != nil {
		return httpx.List[Dispute]{}, err
	}
	var f ChargebackFilter
	if q.Status != "" {
		f.Status = &q.Status
	}
	return h.svc.Chargebacks(r.Context(), auth.Of(r), f, q.Page())
}
