package order

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/idempotency"
)

// Handler serves the order routes and the shop's order routes.
type Handler struct {
	svc   *Service
	authn *auth.Authenticator
}

// NewHandler returns the order HTTP handler.
func NewHandler(svc *Service, authn *auth.Authenticator) *Handler {
	return &Handler{svc: svc, authn: authn}
}

// Routes mounts /orders and /shops/{id}/orders.
func (h *Handler) Routes(r chi.Router) {
	const ok, none = http.StatusOK, http.StatusNoContent
	conflict := apperr.Conflict
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		// A checkout's failures come from every context it crosses: the cart's pricing (an
		// address the geocoder cannot place, a road the router cannot find: not_found), the
		// stock and campaign-stock reservations (insufficient_stock), the vouchers and the
		// Idempotency-Key (conflict while the first request runs, idempotency_key_reused).
		r.Method(http.MethodPost, "/orders", httpx.Documented[CheckoutInput, CheckoutResult](http.StatusCreated, h.checkout).
			Doc("Check out the whole cart: one order a shop").For(httpx.AnyUser).TakesIdempotencyKey().
			Can(conflict, apperr.InsufficientStock, apperr.IdempotencyKeyReused, apperr.NotFound,
				apperr.VoucherExhausted, apperr.VoucherExpired, apperr.VoucherNotStarted, apperr.MinSpendNotMet))
		r.Method(http.MethodGet, "/orders", httpx.Endpoint(ok, h.list(ListFilter{})).
			Doc("The caller's orders, newest first").For(httpx.AnyUser).Params(listQuery{}))
		r.Method(http.MethodGet, "/orders/history", httpx.Endpoint(ok, h.list(ListFilter{FinishedOnly: true})).
			Doc("The caller's finished orders, newest first").For(httpx.AnyUser).Params(listQuery{}))
		r.Method(http.MethodGet, "/orders/returns", httpx.Endpoint(ok, h.list(ListFilter{ReturnsOnly: true})).
			Doc("The caller's orders with a return, newest first").For(httpx.AnyUser).Params(listQuery{}))
		r.Method(http.MethodGet, "/orders/history/summary", httpx.Endpoint(ok, h.summary).
			Doc("The caller's orders counted and added up, by status and by month").For(httpx.AnyUser))
		r.Method(http.MethodGet, "/orders/refunds", httpx.Endpoint(ok, h.refunds).
			Doc("The caller's refund requests, newest first").For(httpx.AnyUser).Paged())
		r.Method(http.MethodPost, "/orders/calculate-preview", httpx.WithBody(ok, h.preview).
			Doc("Price the cart as checking out now would, without ordering").For(httpx.AnyUser).Can(apperr.NotFound))
		r.Method(http.MethodGet, "/orders/repeat/{id}", httpx.WithID(ok, "id", "order", h.repeatPreview).
			Doc("What repeating an order would put in the cart now; changes nothing").For(httpx.Owner))
		r.Method(http.MethodPost, "/orders/repeat/{id}", httpx.WithID(ok, "id", "order", h.repeat).
			Doc("Put an order's lines back in the cart at today's prices and stock").For(httpx.Owner))
		r.Method(http.MethodGet, "/orders/{id}", httpx.WithID(ok, "id", "order", h.get).
			Doc("An order (its buyer, its shop's owner, or an admin)").For(httpx.Owner))
		r.Method(http.MethodDelete, "/orders/{id}", httpx.WithID(none, "id", "order", h.hide).
			Doc("Remove a finished order from the buyer's lists; the order stays").For(httpx.Owner).Can(conflict))
		r.Method(http.MethodPut, "/orders/{id}/status", httpx.WithIDBody(ok, "id", "order", h.setStatus).
			Doc("Move an order to another status, as its buyer, its shop's owner or an admin may").For(httpx.Owner).Can(conflict))
		r.Method(http.MethodPut, "/orders/{id}/confirm", httpx.WithOptionalBody(ok, h.move(Confirmed)).
			Doc("Confirm a pending order (its shop's owner, or an admin)").For(httpx.ShopOwner).ID("id", "order").Can(conflict))
		r.Method(http.MethodPut, "/orders/{id}/ship", httpx.WithOptionalBody(ok, h.move(Shipped)).
			Doc("Mark a confirmed order shipped (its shop's owner, or an admin)").For(httpx.ShopOwner).ID("id", "order").Can(conflict))
		r.Method(http.MethodPut, "/orders/{id}/deliver", httpx.WithOptionalBody(ok, h.move(Delivered)).
			Doc("Mark a shipped order delivered (its shop's owner, or an admin)").For(httpx.ShopOwner).ID("id", "order").Can(conflict))
		r.Method(http.MethodPut, "/orders/{id}/cancel", httpx.WithOptionalBody(ok, h.move(Cancelled)).
			Doc("Cancel an order: its buyer while pending, its shop's owner or an admin until shipped").
			For(httpx.Owner).ID("id", "order").Can(conflict))
		r.Method(http.MethodPost, "/orders/{id}/return", httpx.WithIDBody(ok, "id", "order", h.requestReturn).
			Doc("Ask to return a delivered order, within the return window (its buyer)").For(httpx.Owner).Can(conflict))
		r.Method(http.MethodGet, "/orders/{id}/return-status", httpx.WithID(ok, "id", "order", h.returnStatus).
			Doc("Where an order's return stands, with its refund requests").For(httpx.Owner))
		r.Method(http.MethodPost, "/orders/{id}/refund/request", httpx.WithIDBody(http.StatusCreated, "id", "order", h.requestRefund).
			Doc("Ask for a paid order's money back (its buyer)").For(httpx.Owner).Can(conflict))
		r.Method(http.MethodGet, "/orders/{id}/status-history", httpx.WithID(ok, "id", "order", h.history).
			Doc("An order's status moves, oldest first").For(httpx.Owner))
		r.Method(http.MethodGet, "/orders/{id}/timeline", httpx.WithID(ok, "id", "order", h.timeline).
			Doc("An order's story for people: its moves and its payment, in time order").For(httpx.Owner))
		r.Method(http.MethodGet, "/orders/{id}/tracking", httpx.WithID(ok, "id", "order", h.tracking).
			Doc("Where an order is on its way").For(httpx.Owner))
		r.Method(http.MethodGet, "/orders/{id}/calculation", httpx.WithID(ok, "id", "order", h.calculation).
			Doc("How an order's total was made at checkout").For(httpx.Owner))
		r.Method(http.MethodGet, "/orders/{id}/fees/breakdown", httpx.WithID(ok, "id", "order", h.fees).
			Doc("An order's shipping fee, tax and discount").For(httpx.Owner))

		r.Method(http.MethodGet, "/shops/{id}/orders", httpx.Endpoint(ok, h.shopList(nil, false)).
			Doc("The shop's orders, newest first").For(httpx.ShopOwner).ID("id", "shop").Params(listQuery{}))
		r.Method(http.MethodGet, "/shops/{id}/orders/pending", httpx.Endpoint(ok, h.shopList(ptr(Pending), false)).
			Doc("The shop's pending orders, newest first").For(httpx.ShopOwner).ID("id", "shop").Paged())
		r.Method(http.MethodGet, "/shops/{id}/orders/history", httpx.Endpoint(ok, h.shopList(nil, true)).
			Doc("The shop's finished orders, newest first").For(httpx.ShopOwner).ID("id", "shop").Params(listQuery{}))
		r.Method(http.MethodPut, "/shops/{id}/orders/{order_id}/status", httpx.WithBody(ok, h.shopSetStatus).
			Doc("Move one of the shop's orders to another status").For(httpx.ShopOwner).
			ID("id", "shop").ID("order_id", "order").Can(conflict))
		r.Method(http.MethodPost, "/shops/{id}/orders/{order_id}/fulfill", httpx.WithOptionalBody(ok, h.fulfill).
			Doc("Hand one of the shop's orders to its carrier: confirm it if pending, and ship it").For(httpx.ShopOwner).
			ID("id", "shop").ID("order_id", "order").Can(conflict))
	})
}

func orderID(r *http.Request) (uuid.UUID, error) { return httpx.UUIDParam(r, "id", "order") }

// checkout answers 201 with the orders, or replays the first answer to an Idempotency-Key.
func (h *Handler) checkout(w http.ResponseWriter, r *http.Request) {
	key, err := idempotency.KeyOf(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in CheckoutInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	status, body, err := h.svc.Checkout(r.Context(), auth.Of(r).UserID, key, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.JSON(w, status, body)
}

// Shorthands of the statuses the fixed-target routes above move orders to and list them by; the
// statuses are declared in events.
const (
	Pending   = events.OrderPending
	Confirmed = events.OrderConfirmed
	Shipped   = events.OrderShipped
	Delivered = events.OrderDelivered
	Cancelled = events.OrderCancelled
)

// listQuery narrows a list of orders down to one status.
type listQuery struct {
	httpx.PageQuery
	Status events.OrderStatus `query:"status" validate:"omitempty,oneof=pending confirmed shipped delivered cancelled return_requested returned refunded" doc:"only orders of this status"`
}

// status is the filter's status, nil for any.
func (q listQuery) status() *events.OrderStatus {
	if q.Status == "" {
		return nil
	}
	return &q.Status
}

func (h *Handler) list(f ListFilter) func(*http.Request) (httpx.List[Order], error) {
	return func(r *http.Request) (httpx.List[Order], error) {
		q, err := httpx.QueryOf[listQuery](r)
		if err != nil {
			return httpx.List[Order]{}, err
		}
		f.Status = q.status()
		return h.svc.BuyerOrders(r.Context(), auth.Of(r).UserID, f, q.Page())
	}
}

// shopList lists the shop's orders: of the given status, or of the one ?status= names.
func (h *Handler) shopList(status *events.OrderStatus, finished bool) func(*http.Request) (httpx.List[Order], error) {
	return func(r *http.Request) (httpx.List[Order], error) {
		shopID, err := httpx.UUIDParam(r, "id", "shop")
		if err != nil {
			return httpx.List[Order]{}, err
		}
		f := ListFilter{Status: status, FinishedOnly: finished}
		var page httpx.Page
		if status != nil {
			page, err = httpx.PageOf(r)
		} else {
			var q listQuery
			q, err = httpx.QueryOf[listQuery](r)
			f.Status, page = q.status(), q.Page()
		}
		if err != nil {
			return httpx.List[Order]{}, err
		}
		return h.svc.ShopOrders(r.Context(), auth.Of(r), shopID, f, page)
	}
}

func (h *Handler) get(r *http.Request, id uuid.UUID) (Order, error) {
	return h.svc.Get(r.Context(), auth.Of(r), id)
}

func (h *Handler) hide(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.Hide(r.Context(), auth.Of(r), id)
}

// StatusInput asks for a move.
type StatusInput struct {
	Status events.OrderStatus `json:"status" validate:"required,oneof=confirmed shipped delivered cancelled return_requested returned refunded"`
	Reason string             `json:"reason" validate:"max=1000"`
}

func (h *Handler) setStatus(r *http.Request, id uuid.UUID, in StatusInput) (Order, error) {
	p := auth.Of(r)
	return h.svc.Move(r.Context(), Actor{Principal: &p}, id, in.Status, in.Reason)
}

type reasonInput struct {
	Reason string `json:"reason" validate:"max=1000"`
}

// move is the fixed-target routes (confirm, ship, deliver, cancel), whose body {"reason"} may be
// left out.
func (h *Handler) move(to events.OrderStatus) func(*http.Request, reasonInput) (Order, error) {
	return func(r *http.Request, in reasonInput) (Order, error) {
		id, err := orderID(r)
		if err != nil {
			return Order{}, err
		}
		p := auth.Of(r)
		return h.svc.Move(r.Context(), Actor{Principal: &p}, id, to, in.Reason)
	}
}

type returnInput struct {
	Reason string `json:"reason" validate:"required,max=1000"`
}

func (h *Handler) requestReturn(r *http.Request, id uuid.UUID, in returnInput) (Order, error) {
	return h.svc.RequestReturn(r.Context(), auth.Of(r), id, in.Reason)
}

func (h *Handler) returnStatus(r *http.Request, id uuid.UUID) (ReturnStatus, error) {
	return h.svc.ReturnOf(r.Context(), auth.Of(r), id)
}

func (h *Handler) requestRefund(r *http.Request, id uuid.UUID, in RefundInput) (RefundRequest, error) {
	return h.svc.RequestRefund(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) refunds(r *http.Request) (httpx.List[RefundRequest], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[RefundRequest]{}, err
	}
	return h.svc.Refunds(r.Context(), auth.Of(r).UserID, page)
}

func (h *Handler) history(r *http.Request, id uuid.UUID) (httpx.List[Move], error) {
	moves, err := h.svc.History(r.Context(), auth.Of(r), id)
	return httpx.List[Move]{Items: moves}, err
}

func (h *Handler) timeline(r *http.Request, id uuid.UUID) (httpx.List[TimelineEntry], error) {
	entries, err := h.svc.Timeline(r.Context(), auth.Of(r), id)
	return httpx.List[TimelineEntry]{Items: entries}, err
}

func (h *Handler) tracking(r *http.Request, id uuid.UUID) (Tracking, error) {
	return h.svc.Track(r.Context(), auth.Of(r), id)
}

func (h *Handler) calculation(r *http.Request, id uuid.UUID) (Calculation, error) {
	return h.svc.Calculate(r.Context(), auth.Of(r), id)
}

func (h *Handler) fees(r *http.Request, id uuid.UUID) (Fees, error) {
	return h.svc.FeesOf(r.Context(), auth.Of(r), id)
}

func (h *Handler) preview(r *http.Request, in PreviewInput) (Preview, error) {
	return h.svc.PreviewCheckout(r.Context(), auth.Of(r).UserID, in)
}

func (h *Handler) summary(r *http.Request) (Summary, error) {
	return h.svc.SummaryOf(r.Context(), auth.Of(r).UserID)
}

// repeatPreview answers what repeating the order would add; a GET changes nothing.
func (h *Handler) repeatPreview(r *http.Request, id uuid.UUID) (RepeatPreview, error) {
	return h.svc.RepeatPreview(r.Context(), auth.Of(r), id)
}

func (h *Handler) repeat(r *http.Request, id uuid.UUID) (RepeatResult, error) {
	return h.svc.Repeat(r.Context(), auth.Of(r), id)
}

func (h *Handler) shopSetStatus(r *http.Request, in StatusInput) (Order, error) {
	shopID, err := httpx.UUIDParam(r, "id", "shop")
	if err != nil {
		return Order{}, err
	}
	id, err := httpx.UUIDParam(r, "order_id", "order")
	if err != nil {
		return Order{}, err
	}
	return h.svc.ShopMove(r.Context(), auth.Of(r), shopID, id, in.Status, in.Reason)
}

// fulfill takes an optional body with the tracking number and carrier.
func (h *Handler) fulfill(r *http.Request, in FulfillInput) (Order, error) {
	shopID, err := httpx.UUIDParam(r, "id", "shop")
	if err != nil {
		return Order{}, err
	}
	id, err := httpx.UUIDParam(r, "order_id", "order")
	if err != nil {
		return Order{}, err
	}
	return h.svc.Fulfill(r.Context(), auth.Of(r), shopID, id, in)
}
