package cart

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// Handler serves the cart routes; every one of them is the signed-in buyer's own cart.
type Handler struct {
	svc   *Service
	authn *auth.Authenticator
}

// NewHandler returns the cart HTTP handler.
func NewHandler(svc *Service, authn *auth.Authenticator) *Handler {
	return &Handler{svc: svc, authn: authn}
}

// Routes mounts /cart.
func (h *Handler) Routes(r chi.Router) {
	const (
		ok      = http.StatusOK
		created = http.StatusCreated
		none    = http.StatusNoContent
	)
	r.Route("/cart", func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodGet, "/", httpx.Endpoint(ok, h.get).
			Doc("The caller's cart, priced now: lines, vouchers, shipping and tax by shop").For(httpx.AnyUser).
			Params(quoteQuery{}).Can(apperr.NotFound))
		r.Method(http.MethodPost, "/items", httpx.WithBody(created, h.add).
			Doc("Put a product's variant in the cart, or add to its line").For(httpx.AnyUser).
			Can(apperr.NotFound, apperr.Conflict, apperr.InsufficientStock))
		r.Method(http.MethodPut, "/items/{id}", httpx.WithIDBody(ok, "id", "cart line", h.setQuantity).
			Doc("Change a cart line's quantity").For(httpx.Owner).Can(apperr.Conflict, apperr.InsufficientStock))
		r.Method(http.MethodDelete, "/items/{id}", httpx.WithID(none, "id", "cart line", h.remove).
			Doc("Remove a line from the cart").For(httpx.Owner))
		r.Method(http.MethodDelete, "/clear", httpx.Endpoint(none, h.clear).
			Doc("Empty the cart and drop its vouchers").For(httpx.AnyUser))
		r.Method(http.MethodGet, "/summary", httpx.Endpoint(ok, h.summary).
			Doc("The cart's totals, by shop, without its lines").For(httpx.AnyUser).
			Params(quoteQuery{}).Can(apperr.NotFound))
		r.Method(http.MethodPost, "/save", httpx.WithBody(created, h.save).
			Doc("Keep a named copy of the cart").For(httpx.AnyUser).Can(apperr.Conflict))
		r.Method(http.MethodGet, "/saved", httpx.Endpoint(ok, h.saved).
			Doc("The caller's saved carts, newest first").For(httpx.AnyUser).Paged())
		r.Method(http.MethodPost, "/restore/{saved_cart_id}", httpx.WithID(ok, "saved_cart_id", "saved cart", h.restore).
			Doc("Put a saved cart back: replacing the cart, or merged into it").For(httpx.Owner).Params(restoreQuery{}))
		r.Method(http.MethodGet, "/calculate-total", httpx.Endpoint(ok, h.calculateTotal).
			Doc("The cart's totals for a shipping method and address").For(httpx.AnyUser).
			Params(quoteQuery{}).Can(apperr.NotFound))
		r.Method(http.MethodPost, "/apply-coupon", httpx.WithBody(ok, h.applyCoupon).
			Doc("Apply a shop's voucher code to the cart; it replaces that shop's earlier one").For(httpx.AnyUser).
			Can(apperr.NotFound, apperr.VoucherExhausted, apperr.VoucherExpired, apperr.VoucherNotStarted, apperr.MinSpendNotMet))
		r.Method(http.MethodDelete, "/remove-coupon", httpx.Endpoint(ok, h.removeCoupon).
			Doc("Drop one shop's voucher, or every voucher, from the cart").For(httpx.AnyUser).
			Params(removeCouponQuery{}).Can(apperr.NotFound))
	})
}

func buyer(r *http.Request) uuid.UUID { return auth.Of(r).UserID }

// quoteQuery is how a priced answer ships: the method, and the address it goes to.
type quoteQuery struct {
	ShippingMethod events.ShippingMethod `query:"shipping_method" validate:"max=50" doc:"standard (the default), express, same_day, or another configured method"`
	AddressID      *uuid.UUID            `query:"address_id" doc:"one of the caller's addresses, to price shipping to it; without one, shipping is the method's base rate"`
}

func (h *Handler) get(r *http.Request) (Quote, error) {
	q, err := httpx.QueryOf[quoteQuery](r)
	if err != nil {
		return Quote{}, err
	}
	return h.svc.Quote(r.Context(), buyer(r), QuoteOptions{ShippingMethod: q.ShippingMethod, AddressID: q.AddressID})
}

func (h *Handler) add(r *http.Request, in AddInput) (Line, error) {
	return h.svc.Add(r.Context(), buyer(r), in)
}

type quantityInput struct {
	Quantity int32 `json:"quantity" validate:"required,gte=1,lte=999"`
}

func (h *Handler) setQuantity(r *http.Request, id uuid.UUID, in quantityInput) (Line, error) {
	return h.svc.SetQuantity(r.Context(), buyer(r), id, in.Quantity)
}

func (h *Handler) remove(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.Remove(r.Context(), buyer(r), id)
}

func (h *Handler) clear(r *http.Request) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.Clear(r.Context(), buyer(r))
}

// Summary is the cart's totals without its lines.
type Summary struct {
	LineCount    int         `json:"line_count"`
	ItemCount    int32       `json:"item_count"`
	ShopCount    int         `json:"shop_count"`
	Subtotal     int64       `json:"subtotal"`
	Discount     int64       `json:"discount"`
	ShippingFee  int64       `json:"shipping_fee"`
	Tax          int64       `json:"tax"`
	TaxInclusive bool        `json:"tax_inclusive"`
	Total        int64       `json:"total"`
	Currency     string      `json:"currency"`
	Coupons      []string    `json:"coupons"`
	Shops        []ShopGroup `json:"shops"`
	Purchasable  bool        `json:"purchasable"`
}

func summarize(q Quote) Summary {
	return Summary{LineCount: len(q.Items), ItemCount: q.ItemCount, ShopCount: len(q.Shops), Subtotal: q.Subtotal,
		Discount: q.Discount, ShippingFee: q.ShippingFee, Tax: q.Tax, TaxInclusive: q.TaxInclusive, Total: q.Total,
		Currency: q.Currency, Coupons: q.Coupons, Shops: q.Shops, Purchasable: q.Purchasable}
}

func (h *Handler) summary(r *http.Request) (Summary, error) {
	q, err := h.get(r)
	return summarize(q), err
}

func (h *Handler) calculateTotal(r *http.Request) (Summary, error) {
	q, err := h.get(r)
	return summarize(q), err
}

type saveInput struct {
	Name string `json:"name" validate:"max=100"`
}

func (h *Handler) save(r *http.Request, in saveInput) (SavedCart, error) {
	return h.svc.Save(r.Context(), buyer(r), in.Name)
}

func (h *Handler) saved(r *http.Request) (httpx.List[SavedCart], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[SavedCart]{}, err
	}
	return h.svc.Saved(r.Context(), buyer(r), page)
}

// restoreQuery says how a saved cart comes back.
type restoreQuery struct {
	Mode string `query:"mode" validate:"omitempty,oneof=merge replace" doc:"replace (the default) empties the cart first; merge keeps its lines, the larger quantity of a variant in both winning"`
}

// restore replaces the cart with the saved one, or merges with ?mode=merge.
func (h *Handler) restore(r *http.Request, id uuid.UUID) (Quote, error) {
	q, err := httpx.QueryOf[restoreQuery](r)
	if err != nil {
		return Quote{}, err
	}
	return h.svc.Restore(r.Context(), buyer(r), id, q.Mode == "merge")
}

func (h *Handler) applyCoupon(r *http.Request, in CouponInput) (Quote, error) {
	return h.svc.ApplyCoupon(r.Context(), buyer(r), in)
}

// removeCouponQuery names the shop whose voucher goes.
type removeCouponQuery struct {
	ShopID *uuid.UUID `query:"shop_id" doc:"the shop whose voucher to drop; without it, every voucher goes"`
}

// removeCoupon drops ?shop_id='s code, or every applied code.
func (h *Handler) removeCoupon(r *http.Request) (Quote, error) {
	q, err := httpx.QueryOf[removeCouponQuery](r)
	if err != nil {
		return Quote{}, err
	}
	return h.svc.RemoveCoupon(r.Context(), buyer(r), q.ShopID)
}
