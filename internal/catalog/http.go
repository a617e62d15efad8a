package catalog

import (
	"net/http"
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
	conflict := apperr.Conflict
	// Public reads, which check a token when one is sent: signed-in owners and admins also see
	// their hidden products through them.
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Optional)
		r.Method(http.MethodGet, "/products", httpx.Endpoint(ok, h.list).
			Doc("Search the listed products: filter, sort and page").For(httpx.Public).Params(listParams{}))
		r.Method(http.MethodGet, "/products/categories", httpx.Endpoint(ok, h.categories).
			Doc("The root categories, by name").For(httpx.Public).Paged())
		r.Method(http.MethodGet, "/products/categories/{id}", httpx.WithID(ok, "id", "category", h.category).
			Doc("A category with its path from the root").For(httpx.Public))
		r.Method(http.MethodGet, "/products/categories/{id}/subcategories", httpx.Endpoint(ok, h.subcategories).
			Doc("A category's children, by name").For(httpx.Public).ID("id", "category").Paged())
		r.Method(http.MethodGet, "/shops/{id}/products/categories", httpx.Endpoint(ok, h.shopCategories).
			Doc("The categories a shop sells in, with how many of its products are in each").For(httpx.Public).ID("id", "shop"))
		r.Method(http.MethodGet, "/products/{id}", httpx.WithID(ok, "id", "product", h.get).
			Doc("A product with its variants (a hidden one only to its shop's owner and admins)").For(httpx.Public))
		r.Method(http.MethodGet, "/products/{id}/variants", httpx.Endpoint(ok, h.variants).
			Doc("A product's variants").For(httpx.Public).ID("id", "product"))
		r.Method(http.MethodGet, "/products/{id}/price-history", httpx.Endpoint(ok, h.priceHistory).
			Doc("A product's price changes, newest first").For(httpx.Public).ID("id", "product").Paged())
		r.Method(http.MethodGet, "/shops/{id}/products", httpx.Endpoint(ok, h.shopProducts).
			Doc("A shop's products, newest first (its owner and admins also see drafts and archived ones)").
			For(httpx.Public).ID("id", "shop").Params(shopProductsQuery{}))
		r.Method(http.MethodGet, "/shops/{id}/products/{product_id}", httpx.Endpoint(ok, h.shopProduct).
			Doc("One of a shop's products").For(httpx.Public).ID("id", "shop").ID("product_id", "product"))
	})
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodPost, "/products", httpx.WithBody(created, h.create).
			Doc("Add a product to the shop named by shop_id (its owner, or an admin)").For(httpx.ShopOwner).Can(conflict))
		r.Method(http.MethodPut, "/products/{id}", httpx.WithIDBody(ok, "id", "product", h.update).
			Doc("Replace a product's details (not its prices, stock or variants)").For(httpx.ShopOwner))
		r.Method(http.MethodDelete, "/products/{id}", httpx.WithID(none, "id", "product", h.delete).
			Doc("Delete a product; past orders keep their copy").For(httpx.ShopOwner))
		r.Method(http.MethodPut, "/products/{id}/catalog", httpx.WithIDBody(ok, "id", "product", h.setCategory).
			Doc("Move a product to a category, or out of any").For(httpx.ShopOwner))
		r.Method(http.MethodPut, "/products/{id}/brand", httpx.WithIDBody(ok, "id", "product", h.setBrand).
			Doc("Change a product's brand").For(httpx.ShopOwner))
		r.Method(http.MethodPut, "/products/{id}/model", httpx.WithIDBody(ok, "id", "product", h.setModel).
			Doc("Change a product's model").For(httpx.ShopOwner))
		r.Method(http.MethodPut, "/products/{id}/price", httpx.WithIDBody(ok, "id", "product", h.setPrice).
			Doc("Set the list price of one variant, or of all").For(httpx.ShopOwner))
		r.Method(http.MethodPost, "/products/{id}/discount", httpx.WithIDBody(created, "id", "product", h.setDiscount).
			Doc("Put a product on sale, replacing any discount it had").For(httpx.ShopOwner))
		r.Method(http.MethodDelete, "/products/{id}/discount", httpx.WithID(none, "id", "product", h.endDiscount).
			Doc("End a product's current or scheduled discount now").For(httpx.ShopOwner))
		r.Method(http.MethodGet, "/products/{id}/inventory", httpx.WithID(ok, "id", "product", h.inventory).
			Doc("A product's stock, variant by variant, with its latest movements").For(httpx.ShopOwner))
		r.Method(http.MethodPut, "/products/{id}/inventory", httpx.WithIDBody(ok, "id", "product", h.setInventory).
			Doc("Set a variant's stock, the low-stock threshold, or both").For(httpx.ShopOwner))
		r.Method(http.MethodPost, "/products/{id}/inventory/adjustment", httpx.WithIDBody(created, "id", "product", h.adjust).
			Doc("Change a variant's stock by a signed amount, and say why").For(httpx.ShopOwner).Can(apperr.InsufficientStock))
		r.Method(http.MethodPost, "/products/{id}/variants", httpx.WithIDBody(created, "id", "product", h.addVariant).
			Doc("Add a variant to a product").For(httpx.ShopOwner).Can(conflict))
		r.Method(http.MethodGet, "/products/low-stock", httpx.Endpoint(ok, h.lowStock).
			Doc("Low-stock variants of the shop named by shop_id (its owner), or of every shop (admins)").
			For(httpx.ShopOwner).Params(lowStockQuery{}))
		r.Method(http.MethodPost, "/products/categories", httpx.WithBody(created, h.createCategory).
			Doc("Add a category").For(httpx.Admin).Can(conflict))
		r.Method(http.MethodPut, "/products/categories/{id}", httpx.WithIDBody(ok, "id", "category", h.updateCategory).
			Doc("Rename, describe or move a category").For(httpx.Admin).Can(conflict))
		r.Method(http.MethodDelete, "/products/categories/{id}", httpx.WithID(none, "id", "category", h.deleteCategory).
			Doc("Delete a category that has neither subcategories nor products").For(httpx.Admin).Can(conflict))
		r.Method(http.MethodPost, "/products/categories/{id}/subcategories", httpx.WithIDBody(created, "id", "category", h.createSubcategory).
			Doc("Add a category under another").For(httpx.Admin).Can(conflict))
		r.Method(http.MethodPost, "/shops/{id}/products", httpx.WithIDBody(created, "id", "shop", h.createInShop).
			Doc("Add a product to the shop").For(httpx.ShopOwner).Can(conflict))
		r.Method(http.MethodPut, "/shops/{id}/products/{product_id}", httpx.WithBody(ok, h.updateInShop).
			Doc("Replace the details of one of the shop's products").For(httpx.ShopOwner).ID("id", "shop").ID("product_id", "product"))
		r.Method(http.MethodDelete, "/shops/{id}/products/{product_id}", httpx.Endpoint(none, h.deleteInShop).
			Doc("Delete one of the shop's products").For(httpx.ShopOwner).ID("id", "shop").ID("product_id", "product"))
		r.Method(http.MethodGet, "/shops/{id}/products/inventory", httpx.Endpoint(ok, h.shopInventory).
			Doc("The shop's variants with their stock, lowest first").For(httpx.ShopOwner).ID("id", "shop").Paged())
		r.Method(http.MethodPut, "/shops/{id}/products/{product_id}/inventory", httpx.WithBody(ok, h.setInventoryInShop).
			Doc("Set the stock or low-stock threshold of one of the shop's products").
			For(httpx.ShopOwner).ID("id", "shop").ID("product_id", "product"))
		r.Method(http.MethodGet, "/shops/{id}/products/low-stock", httpx.Endpoint(ok, h.shopLowStock).
			Doc("The shop's variants at or under their low-stock threshold").For(httpx.ShopOwner).ID("id", "shop").Paged())
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

// listParams is the product list's query: its filters and sort, and the page.
type listParams struct {
	httpx.PageQuery
	ListQuery
}

func (h *Handler) list(r *http.Request) (httpx.List[Product], error) {
	q, err := httpx.QueryOf[listParams](r)
	if err != nil {
		return httpx.List[Product]{}, err
	}
	q.Brand = strings.TrimSpace(q.Brand)
	return h.svc.List(r.Context(), q.ListQuery, q.Page())
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

// lowStockQuery names the shop whose low-stock variants to list.
type lowStockQuery struct {
	httpx.PageQuery
	ShopID *uuid.UUID `query:"shop_id" doc:"the shop; admins may leave it out to see every shop's"`
}

// lowStock lists the low-stock variants of ?shop_id= (its owner), or of every shop (admins).
func (h *Handler) lowStock(r *http.Request) (httpx.List[InventoryItem], error) {
	q, err := httpx.QueryOf[lowStockQuery](r)
	if err != nil {
		return httpx.List[InventoryItem]{}, err
	}
	return h.svc.LowStock(r.Context(), auth.Of(r), q.ShopID, q.Page())
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

// shopProductsQuery narrows a shop's products down to one status (for its owner and admins).
type shopProductsQuery struct {
	httpx.PageQuery
	Status string `query:"status" validate:"omitempty,oneof=draft active archived" doc:"only products of this status (the shop's owner and admins; others see active ones)"`
}

// shopProducts lists a shop's products; its owner may narrow them with ?status=.
func (h *Handler) shopProducts(r *http.Request) (httpx.List[Product], error) {
	id, err := shopID(r)
	if err != nil {
		return httpx.List[Product]{}, err
	}
	q, err := httpx.QueryOf[shopProductsQuery](r)
	if err != nil {
		return httpx.List[Product]{}, err
	}
	return h.svc.ShopProducts(r.Context(), auth.Maybe(r), id, q.Status, q.Page())
}

func (h *Handler) shopProduct(r *http.Request) (Product, error) {
	id, err := h.shopProductID(r)
	if err != nil {
		return Product{}, err
	}
	return h.svc.Get(r.Context(), auth.Maybe(r), id)
}

func (h *Handler) createInShop(r *http.Request, id uuid.UUID, in CreateInput) (Product, error) {
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
