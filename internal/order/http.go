package order

import (
	"net/http"
	"slices"

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
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodPost, "/orders", httpx.Documented[CheckoutInput, CheckoutResult](http.StatusCreated, h.checkout))
		r.Method(http.MethodGet, "/orders", httpx.Endpoint(ok, h.list(ListFilter{})))
		r.Method(http.MethodGet, "/orders/history", httpx.Endpoint(ok, h.list(ListFilter{FinishedOnly: true})))
		r.Method(http.MethodGet, "/orders/returns", httpx.Endpoint(ok, h.list(ListFilter{ReturnsOnly: true})))
		r.Method(http.MethodGet, "/orders/history/summary", httpx.Endpoint(ok, h.summary))
		r.Method(http.MethodGet, "/orders/refunds", httpx.Endpoint(ok, h.refunds))
		r.Method(http.MethodPost, "/orders/calculate-preview", httpx.WithBody(ok, h.preview))
		r.Method(http.MethodGet, "/orders/repeat/{id}", httpx.WithID(ok, "id", "order", h.repeatPreview))
		r.Method(http.MethodPost, "/orders/repeat/{id}", httpx.WithID(ok, "id", "order", h.repeat))
		r.Method(http.MethodGet, "/orders/{id}", httpx.WithID(ok, "id", "order", h.get))
		r.Method(http.MethodDelete, "/orders/{id}", httpx.WithID(none, "id", "order", h.hide))
		r.Method(http.MethodPut, "/orders/{id}/status", httpx.WithBody(ok, h.setStatus))
		r.Method(http.MethodPut, "/orders/{id}/confirm", httpx.Endpoint(ok, h.move(Confirmed)))
		r.Method(http.MethodPut, "/orders/{id}/ship", httpx.Endpoint(ok, h.move(Shipped)))
		r.Method(http.MethodPut, "/orders/{id}/deliver", httpx.Endpoint(ok, h.move(Delivered)))
		r.Method(http.MethodPut, "/orders/{id}/cancel", httpx.Endpoint(ok, h.move(Cancelled)))
		r.Method(http.MethodPost, "/orders/{id}/return", httpx.WithBody(ok, h.requestReturn))
		r.Method(http.MethodGet, "/orders/{id}/return-status", httpx.WithID(ok, "id", "order", h.returnStatus))
		r.Method(http.MethodPost, "/orders/{id}/refund/request", httpx.WithIDBody(http.StatusCreated, "id", "order", h.requestRefund))
		r.Method(http.MethodGet, "/orders/{id}/status-history", httpx.Endpoint(ok, h.history))
		r.Method(http.MethodGet, "/orders/{id}/timeline", httpx.Endpoint(ok, h.timeline))
		r.Method(http.MethodGet, "/orders/{id}/tracking", httpx.WithID(ok, "id", "order", h.tracking))
		r.Method(http.MethodGet, "/orders/{id}/calculation", httpx.WithID(ok, "id", "order", h.calculation))
		r.Method(http.MethodGet, "/orders/{id}/fees/breakdown", httpx.WithID(ok, "id", "order", h.fees))

		r.Method(http.MethodGet, "/shops/{id}/orders", httpx.Endpoint(ok, h.shopList(nil, false)))
		r.Method(http.MethodGet, "/shops/{id}/orders/pending", httpx.Endpoint(ok, h.shopList(ptr(Pending), false)))
		r.Method(http.MethodGet, "/shops/{id}/orders/history", httpx.Endpoint(ok, h.shopList(nil, true)))
		r.Method(http.MethodPut, "/shops/{id}/orders/{order_id}/status", httpx.WithBody(ok, h.shopSetStatus))
		r.Method(http.MethodPost, "/shops/{id}/orders/{order_id}/fulfill", httpx.Endpoint(ok, h.fulfill))
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

// statuses are the order statuses a list may be filtered by.
var statuses = []events.OrderStatus{events.OrderPending, events.OrderConfirmed, events.OrderShipped, events.OrderDelivered,
	events.OrderCancelled, events.OrderReturnRequested, events.OrderReturned, events.OrderRefunded}

// statusFilter reads ?status=.
func statusFilter(r *http.Request) (*events.OrderStatus, error) {
	s := events.OrderStatus(r.URL.Query().Get("status"))
	if s == "" {
		return nil, nil
	}
	if !slices.Contains(statuses, s) {
		return nil, apperr.Field("status", "is not an order status")
	}
	return &s, nil
}

func (h *Handler) list(f ListFilter) func(*http.Request) (httpx.List[Order], error) {
	return func(r *http.Request) (httpx.List[Order], error) {
		page, err := httpx.PageOf(r)
		if err != nil {
			return httpx.List[Order]{}, err
		}
		if f.Status, err = statusFilter(r); err != nil {
			return httpx.List[Order]{}, err
		}
		return h.svc.BuyerOrders(r.Context(), auth.Of(r).UserID, f, page)
	}
}

func (h *Handler) shopList(status *events.OrderStatus, finished bool) func(*http.Request) (httpx.List[Order], error) {
	return func(r *http.Request) (httpx.List[Order], error) {
		shopID, err := httpx.UUIDParam(r, "id", "shop")
		if err != nil {
			return httpx.List[Order]{}, err
		}
		page, err := httpx.PageOf(r)
		if err != nil {
			return httpx.List[Order]{}, err
		}
		f := ListFilter{Status: status, FinishedOnly: finished}
		if f.Status == nil {
			if f.Status, err = statusFilter(r); err != nil {
				return httpx.List[Order]{}, err
			}
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

func (h *Handler) setStatus(r *http.Request, in StatusInput) (Order, error) {
	id, err := orderID(r)
	if err != nil {
		return Order{}, err
	}
	p := auth.Of(r)
	return h.svc.Move(r.Context(), Actor{Principal: &p}, id, in.Status, in.Reason)
}

type reasonInput struct {
	Reason string `json:"reason" validate:"max=1000"`
}

// move is the fixed-target routes (confirm, ship, deliver, cancel), whose body {"reason"} may be
// left out.
func (h *Handler) move(to events.OrderStatus) func(*http.Request) (Order, error) {
	return func(r *http.Request) (Order, error) {
		id, err := orderID(r)
		if err != nil {
			return Order{}, err
		}
		var in reasonInput
		if err := httpx.DecodeOptional(r, &in); err != nil {
			return Order{}, err
		}
		p := auth.Of(r)
		return h.svc.Move(r.Context(), Actor{Principal: &p}, id, to, in.Reason)
	}
}

type returnInput struct {
	Reason string `json:"reason" validate:"required,max=1000"`
}

func (h *Handler) requestReturn(r *http.Request, in returnInput) (Order, error) {
	id, err := orderID(r)
	if err != nil {
		return Order{}, err
	}
	p := auth.Of(r)
	if _, err := h.svc.ownOrder(r.Context(), p, id); err != nil {
		return Order{}, err
	}
	return h.svc.Move(r.Context(), Actor{Principal: &p}, id, events.OrderReturnRequested, in.Reason)
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

func (h *Handler) history(r *http.Request) (httpx.List[Move], error) {
	id, err := orderID(r)
	if err != nil {
		return httpx.List[Move]{}, err
	}
	moves, err := h.svc.History(r.Context(), auth.Of(r), id)
	return httpx.List[Move]{Items: moves}, err
}

func (h *Handler) timeline(r *http.Request) (httpx.List[TimelineEntry], error) {
	id, err := orderID(r)
	if err != nil {
		return httpx.List[TimelineEntry]{}, err
	}
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
func (h *Handler) fulfill(r *http.Request) (Order, error) {
	shopID, err := httpx.UUIDParam(r, "id", "shop")
	if err != nil {
		return Order{}, err
	}
	id, err := httpx.UUIDParam(r, "order_id", "order")
	if err != nil {
		return Order{}, err
	}
	var in FulfillInput
	if err := httpx.DecodeOptional(r, &in); err != nil {
		return Order{}, err
	}
	return h.svc.Fulfill(r.Context(), auth.Of(r), shopID, id, in)
}
