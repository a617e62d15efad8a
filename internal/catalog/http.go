package catalog

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// Handler serves the catalog routes.
type Handler struct {
	svc   *Service
	authn *auth.Authenticator
}

// NewHandler returns the catalog HTTP handler.
func NewHandler(svc *Service, authn *auth.Authenticator) *Handler {
	return &Handler{svc: svc, authn: authn}
}

// Routes mounts /products and the shop product management routes (/shops/{id}/products...)
// on the API router, beside the shop context's /shops routes.
func (h *Handler) Routes(r chi.Router) {
	const (
		ok      = http.StatusOK
		created = http.StatusCreated
		none    = http.StatusNoContent
	)
	// Public reads; signed-in owners and admins also see their hidden products through them.
	r.Method(http.MethodGet, "/products", httpx.Endpoint(ok, h.list))
	r.Method(http.MethodGet, "/products/categories", httpx.Endpoint(ok, h.categories))
	r.Method(http.MethodGet, "/products/categories/{id}", httpx.WithID(ok, "id", "category", h.category))
	r.Method(http.MethodGet, "/products/categories/{id}/subcategories", httpx.Endpoint(ok, h.subcategories))
	r.Method(http.MethodGet, "/shops/{id}/products/categories", httpx.Endpoint(ok, h.shopCategories))
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Optional)
		r.Method(http.MethodGet, "/products/{id}", httpx.WithID(ok, "id", "product", h.get))
		r.Method(http.MethodGet, "/products/{id}/variants", httpx.Endpoint(ok, h.variants))
		r.Method(http.MethodGet, "/products/{id}/price-history", httpx.Endpoint(ok, h.priceHistory))
		r.Method(http.MethodGet, "/shops/{id}/products", httpx.Endpoint(ok, h.shopProducts))
		r.Method(http.MethodGet, "/shops/{id}/products/{product_id}", httpx.Endpoint(ok, h.shopProduct))
	})
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodPost, "/products", httpx.WithBody(created, h.create))
		r.Method(http.MethodPut, "/products/{id}", httpx.WithIDBody(ok, "id", "product", h.update))
		r.Method(http.MethodDelete, "/products/{id}", httpx.WithID(none, "id", "product", h.delete))
		r.Method(http.MethodPut, "/products/{id}/catalog", httpx.WithIDBody(ok, "id", "product", h.setCategory))
		r.Method(http.MethodPut, "/products/{id}/brand", httpx.WithIDBody(ok, "id", "product", h.setBrand))
		r.Method(http.MethodPut, "/products/{id}/model", httpx.WithIDBody(ok, "id", "product", h.setModel))
		r.Method(http.MethodPut, "/products/{id}/price", httpx.WithIDBody(ok, "id", "product", h.setPrice))
		r.Method(http.MethodPost, "/products/{id}/discount", httpx.WithIDBody(created, "id", "product", h.setDiscount))
		r.Method(http.MethodDelete, "/products/{id}/discount", httpx.WithID(none, "id", "product", h.endDiscount))
		r.Method(http.MethodGet, "/products/{id}/inventory", httpx.WithID(ok, "id", "product", h.inventory))
		r.Method(http.MethodPut, "/products/{id}/inventory", httpx.WithIDBody(ok, "id", "product", h.setInventory))
		r.Method(http.MethodPost, "/products/{id}/inventory/adjustment", httpx.WithIDBody(created, "id", "product", h.adjust))
		r.Method(http.MethodPost, "/products/{id}/variants", httpx.WithIDBody(created, "id", "product", h.addVariant))
		r.Method(http.MethodGet, "/products/low-stock", httpx.Endpoint(ok, h.lowStock))
		r.Method(http.MethodPost, "/products/categories", httpx.WithBody(created, h.createCategory))
		r.Method(http.MethodPut, "/products/categories/{id}", httpx.WithIDBody(ok, "id", "category", h.updateCategory))
		r.Method(http.MethodDelete, "/products/categories/{id}", httpx.WithID(none, "id", "category", h.deleteCategory))
		r.Method(http.MethodPost, "/products/categories/{id}/subcategories", httpx.WithIDBody(created, "id", "category", h.createSubcategory))
		r.Method(http.MethodPost, "/shops/{id}/products", httpx.WithBody(created, h.createInShop))
		r.Method(http.MethodPut, "/shops/{id}/products/{product_id}", httpx.WithBody(ok, h.updateInShop))
		r.Method(http.MethodDelete, "/shops/{id}/products/{product_id}", httpx.Endpoint(none, h.deleteInShop))
		r.Method(http.MethodGet, "/shops/{id}/products/inventory", httpx.Endpoint(ok, h.shopInventory))
		r.Method(http.MethodPut, "/shops/{id}/products/{product_id}/inventory", httpx.WithBody(ok, h.setInventoryInShop))
		r.Method(http.MethodGet, "/shops/{id}/products/low-stock", httpx.Endpoint(ok, h.shopLowStock))
	})
}

func productID(r *http.Request) (uuid.UUID, error) { return httpx.UUIDParam(r, "id", "product") }
func shopID(r *http.Request) (uuid.UUID, error)    { return httpx.UUIDParam(r, "id", "shop") }
func categoryID(r *http.Request) (uuid.UUID, error) {
	return httpx.UUIDParam(r, "id", "category")
}

// shopProductID reads /shops/{id}/products/{product_id}: a product of another shop is not found
// there.
func (h *Handler) shopProductID(r *http.Request) (uuid.UUID, error) {
	sid, err := shopID(r)
	if err != nil {
		return uuid.Nil, err
	}
	pid, err := httpx.UUIDParam(r, "product_id", "product")
	if err != nil {
		return uuid.Nil, err
	}
	owner, err := h.svc.ProductShop(r.Context(), pid)
	if err == nil && owner != sid {
		err = apperr.NotFoundf("product")
	}
	return pid, err
}

// list reads ?category=, ?shop=, ?brand=, ?min_price=, ?max_price=, ?in_stock= and
// ?sort=newest|price_asc|price_desc|rating.
func (h *Handler) list(r *http.Request) (httpx.List[Product], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Product]{}, err
	}
	q := r.URL.Query()
	var bad []apperr.FieldError
	lq := ListQuery{
		CategoryID: uuidQuery(q, "category", &bad), ShopID: uuidQuery(q, "shop", &bad),
		Brand: strings.TrimSpace(q.Get("brand")), Sort: q.Get("sort"),
		MinPrice: priceQuery(q, "min_price", &bad), MaxPrice: priceQuery(q, "max_price", &bad),
	}
	if s := q.Get("in_stock"); s != "" {
		if lq.InStock, err = strconv.ParseBool(s); err != nil {
			bad = append(bad, apperr.FieldError{Field: "in_stock", Message: "must be true or false"})
		}
	}
	if bad != nil {
		return httpx.List[Product]{}, apperr.Validation(bad...)
	}
	return h.svc.List(r.Context(), lq, page)
}

func uuidQuery(q url.Values, name string, bad *[]apperr.FieldError) *uuid.UUID {
	s := q.Get(name)
	if s == "" {
		return nil
	}
	id, err := uuid.Parse(s)
	if err != nil {
		*bad = append(*bad, apperr.FieldError{Field: name, Message: "must be a UUID"})
		return nil
	}
	return &id
}

func priceQuery(q url.Values, name string, bad *[]apperr.FieldError) *int64 {
	s := q.Get(name)
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		*bad = append(*bad, apperr.FieldError{Field: name, Message: "must be a whole amount in minor units, 0 or more"})
		return nil
	}
	return &n
}

func (h *Handler) get(r *http.Request, id uuid.UUID) (Product, error) {
	return h.svc.Get(r.Context(), auth.Maybe(r), id)
}

func (h *Handler) create(r *http.Request, in CreateInput) (Product, error) {
	if in.ShopID == nil {
		return Product{}, apperr.Field("shop_id", "is required")
	}
	return h.svc.Create(r.Context(), auth.Of(r), *in.ShopID, in)
}

func (h *Handler) update(r *http.Request, id uuid.UUID, in Fields) (Product, error) {
	return h.svc.Update(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) delete(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.Delete(r.Context(), auth.Of(r), id)
}

type categoryInput struct {
	CategoryID *uuid.UUID `json:"category_id"`
}

// setCategory places the product in a category; a null category_id takes it out of any.
func (h *Handler) setCategory(r *http.Request, id uuid.UUID, in categoryInput) (Product, error) {
	return h.svc.SetCategory(r.Context(), auth.Of(r), id, in.CategoryID)
}

type brandInput struct {
	Brand string `json:"brand" validate:"max=100"`
}

func (h *Handler) setBrand(r *http.Request, id uuid.UUID, in brandInput) (Product, error) {
	return h.svc.SetBrand(r.Context(), auth.Of(r), id, in.Brand)
}

type modelInput struct {
	Model string `json:"model" validate:"max=100"`
}

func (h *Handler) setModel(r *http.Request, id uuid.UUID, in modelInput) (Product, error) {
	return h.svc.SetModel(r.Context(), auth.Of(r), id, in.Model)
}

func (h *Handler) setPrice(r *http.Request, id uuid.UUID, in PriceInput) (Product, error) {
	return h.svc.SetPrice(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) priceHistory(r *http.Request) (httpx.List[PriceChange], error) {
	id, err := productID(r)
	if err != nil {
		return httpx.List[PriceChange]{}, err
	}
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[PriceChange]{}, err
	}
	return h.svc.PriceHistory(r.Context(), auth.Maybe(r), id, page)
}

func (h *Handler) setDiscount(r *http.Request, id uuid.UUID, in DiscountInput) (Discount, error) {
	return h.svc.SetDiscount(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) endDiscount(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.EndDiscount(r.Context(), auth.Of(r), id)
}

func (h *Handler) inventory(r *http.Request, id uuid.UUID) (Inventory, error) {
	return h.svc.Inventory(r.Context(), auth.Of(r), id)
}

func (h *Handler) setInventory(r *http.Request, id uuid.UUID, in StockInput) (Inventory, error) {
	return h.svc.SetInventory(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) adjust(r *http.Request, id uuid.UUID, in AdjustmentInput) (Movement, error) {
	return h.svc.Adjust(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) variants(r *http.Request) (httpx.List[Variant], error) {
	id, err := productID(r)
	if err != nil {
		return httpx.List[Variant]{}, err
	}
	vs, err := h.svc.Variants(r.Context(), auth.Maybe(r), id)
	return httpx.List[Variant]{Items: vs}, err
}

func (h *Handler) addVariant(r *http.Request, id uuid.UUID, in VariantInput) (Variant, error) {
	return h.svc.AddVariant(r.Context(), auth.Of(r), id, in)
}

// lowStock lists the low-stock variants of ?shop_id= (its owner), or of every shop (admins).
func (h *Handler) lowStock(r *http.Request) (httpx.List[InventoryItem], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[InventoryItem]{}, err
	}
	var bad []apperr.FieldError
	shop := uuidQuery(r.URL.Query(), "shop_id", &bad)
	if bad != nil {
		return httpx.List[InventoryItem]{}, apperr.Validation(bad...)
	}
	return h.svc.LowStock(r.Context(), auth.Of(r), shop, page)
}

func (h *Handler) categories(r *http.Request) (httpx.List[Category], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Category]{}, err
	}
	return h.svc.Categories(r.Context(), nil, page)
}

func (h *Handler) category(r *http.Request, id uuid.UUID) (Category, error) {
	return h.svc.Category(r.Context(), id)
}

func (h *Handler) subcategories(r *http.Request) (httpx.List[Category], error) {
	id, err := categoryID(r)
	if err != nil {
		return httpx.List[Category]{}, err
	}
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Category]{}, err
	}
	return h.svc.Categories(r.Context(), &id, page)
}

func (h *Handler) createCategory(r *http.Request, in CategoryInput) (Category, error) {
	return h.svc.CreateCategory(r.Context(), auth.Of(r), nil, in)
}

func (h *Handler) createSubcategory(r *http.Request, id uuid.UUID, in CategoryInput) (Category, error) {
	return h.svc.CreateCategory(r.Context(), auth.Of(r), &id, in)
}

func (h *Handler) updateCategory(r *http.Request, id uuid.UUID, in CategoryInput) (Category, error) {
	return h.svc.UpdateCategory(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) deleteCategory(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.DeleteCategory(r.Context(), auth.Of(r), id)
}

// shopProducts lists a shop's products; its owner may narrow them with ?status=.
func (h *Handler) shopProducts(r *http.Request) (httpx.List[Product], error) {
	id, err := shopID(r)
	if err != nil {
		return httpx.List[Product]{}, err
	}
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Product]{}, err
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "", StatusDraft, StatusActive, StatusArchived:
	default:
		return httpx.List[Product]{}, apperr.Field("status", "must be one of: draft, active, archived")
	}
	return h.svc.ShopProducts(r.Context(), auth.Maybe(r), id, status, page)
}

func (h *Handler) shopProduct(r *http.Request) (Product, error) {
	id, err := h.shopProductID(r)
	if err != nil {
		return Product{}, err
	}
	return h.svc.Get(r.Context(), auth.Maybe(r), id)
}

func (h *Handler) createInShop(r *http.Request, in CreateInput) (Product, error) {
	id, err := shopID(r)
	if err != nil {
		return Product{}, err
	}
	return h.svc.Create(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) updateInShop(r *http.Request, in Fields) (Product, error) {
	id, err := h.shopProductID(r)
	if err != nil {
		return Product{}, err
	}
	return h.svc.Update(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) deleteInShop(r *http.Request) (httpx.Empty, error) {
	id, err := h.shopProductID(r)
	if err != nil {
		return httpx.Empty{}, err
	}
	return httpx.Empty{}, h.svc.Delete(r.Context(), auth.Of(r), id)
}

func (h *Handler) setInventoryInShop(r *http.Request, in StockInput) (Inventory, error) {
	id, err := h.shopProductID(r)
	if err != nil {
		return Inventory{}, err
	}
	return h.svc.SetInventory(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) shopCategories(r *http.Request) (httpx.List[ShopCategory], error) {
	id, err := shopID(r)
	if err != nil {
		return httpx.List[ShopCategory]{}, err
	}
	return h.svc.ShopCategories(r.Context(), id)
}

func (h *Handler) shopInventory(r *http.Request) (httpx.List[InventoryItem], error) {
	return h.shopStock(r, false)
}

func (h *Handler) shopLowStock(r *http.Request) (httpx.List[InventoryItem], error) {
	return h.shopStock(r, true)
}

func (h *Handler) shopStock(r *http.Request, lowOnly bool) (httpx.List[InventoryItem], error) {
	id, err := shopID(r)
	if err != nil {
		return httpx.List[InventoryItem]{}, err
	}
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[InventoryItem]{}, err
	}
	return h.svc.ShopInventory(r.Context(), auth.Of(r), id, lowOnly, page)
}
