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
		r.Method(http.MethodGet, "/", httpx.Endpoint(ok, h.get))
		r.Method(http.MethodPost, "/items", httpx.WithBody(created, h.add))
		r.Method(http.MethodPut, "/items/{id}", httpx.WithIDBody(ok, "id", "cart line", h.setQuantity))
		r.Method(http.MethodDelete, "/items/{id}", httpx.WithID(none, "id", "cart line", h.remove))
		r.Method(http.MethodDelete, "/clear", httpx.Endpoint(none, h.clear))
		r.Method(http.MethodGet, "/summary", httpx.Endpoint(ok, h.summary))
		r.Method(http.MethodPost, "/save", httpx.WithBody(created, h.save))
		r.Method(http.MethodGet, "/saved", httpx.Endpoint(ok, h.saved))
		r.Method(http.MethodPost, "/restore/{saved_cart_id}", httpx.Endpoint(ok, h.restore))
		r.Method(http.MethodGet, "/calculate-total", httpx.Endpoint(ok, h.calculateTotal))
		r.Method(http.MethodPost, "/apply-coupon", httpx.WithBody(ok, h.applyCoupon))
		r.Method(http.MethodDelete, "/remove-coupon", httpx.Endpoint(ok, h.removeCoupon))
	})
}

func buyer(r *http.Request) uuid.UUID { return auth.Of(r).UserID }

// options reads ?shipping_method= and ?address_id=, shared by every priced answer.
func options(r *http.Request) (QuoteOptions, error) {
	o := QuoteOptions{ShippingMethod: events.ShippingMethod(r.URL.Query().Get("shipping_method"))}
	if s := r.URL.Query().Get("address_id"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			return o, apperr.Field("address_id", "must be an address ID")
		}
		o.AddressID = &id
	}
	return o, nil
}

func (h *Handler) get(r *http.Request) (Quote, error) {
	o, err := options(r)
	if err != nil {
		return Quote{}, err
	}
	return h.svc.Quote(r.Context(), buyer(r), o)
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

// restore replaces the cart with the saved one, or merges with ?mode=merge.
func (h *Handler) restore(r *http.Request) (Quote, error) {
	id, err := httpx.UUIDParam(r, "saved_cart_id", "saved cart")
	if err != nil {
		return Quote{}, err
	}
	mode := r.URL.Query().Get("mode")
	if mode != "" && mode != "merge" && mode != "replace" {
		return Quote{}, apperr.Field("mode", "must be merge or replace")
	}
	return h.svc.Restore(r.Context(), buyer(r), id, mode == "merge")
}

func (h *Handler) applyCoupon(r *http.Request, in CouponInput) (Quote, error) {
	return h.svc.ApplyCoupon(r.Context(), buyer(r), in)
}

// removeCoupon drops ?shop_id='s code, or every applied code.
func (h *Handler) removeCoupon(r *http.Request) (Quote, error) {
	var shopID *uuid.UUID
	if s := r.URL.Query().Get("shop_id"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			return Quote{}, apperr.Field("shop_id", "must be a shop ID")
		}
		shopID = &id
	}
	return h.svc.RemoveCoupon(r.Context(), buyer(r), shopID)
}
