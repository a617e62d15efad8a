package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/catalog/internal/store"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Service holds the rules of the catalog context. Besides its HTTP routes, other contexts call
// it through interfaces of their own:
//   - ProductShop(ctx, productID) (uuid.UUID, error): the shop of a live product (the shop
//     context's promotions and campaigns).
//   - VariantSnapshot(ctx, variantID) (VariantSnapshot, error): title, names, unit price now,
//     currency, stock, weight and whether the variant may be bought (cart, checkout).
//   - ReserveStock(ctx, tx, lines) and ReleaseStock(ctx, tx, lines): stock taken for checkout
//     and given back on cancellation, in the caller's transaction, all or nothing.
type Service struct {
	pool  *pgxpool.Pool
	q     *store.Queries
	bus   *eventbus.Bus
	jobs  *jobs.Runner
	shops shopDirectory
	// reads and readQ run the public reads that tolerate a little lag (a read replica when one
	// is configured); a signed-in owner's reads of their own products stay on the primary.
	reads pgdb.Querier
	readQ *store.Queries
	// ratings is the review context's ratings (SetRatings), read when a rating changes.
	ratings ratingSource
	media   mediaGallery
}

// NewService builds the catalog service, registers its River worker (discount boundaries) and
// subscribes it to shop.deleted. shops answers who owns a shop (the shop context).
func NewService(pool *pgxpool.Pool, bus *eventbus.Bus, runner *jobs.Runner, shops shopDirectory) *Service {
	s := &Service{pool: pool, q: newStore(pool), bus: bus, jobs: runner, shops: shops}
	s.UseReads(pool)
	river.AddWorker(runner.Workers, &discountWorker{s: s})
	eventbus.On(bus, "catalog.hide_shop_products", s.hideShopProducts)
	eventbus.On(bus, "catalog.product_rating", s.productRatingChanged)
	return s
}

// UseReads sends the public reads (anonymous product pages, listings, categories) to db, a
// pgdb.Reads over a replica.
func (s *Service) UseReads(db pgdb.Querier) { s.reads, s.readQ = db, newStore(db) }

// SetMedia gives the catalog the media context, built after it, which lists products' images
// and videos (nil: products show none).
func (s *Service) SetMedia(m mediaGallery) { s.media = m }

// withMedia fills in the media of products, in one call to the media context for all of them;
// public says the products were read for a public page, so their media may come from the
// replica too.
func (s *Service) withMedia(ctx context.Context, public bool, ps ...*Product) error {
	if s.media == nil || len(ps) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	byProduct, err := s.media.ProductMedia(ctx, ids, public)
	if err != nil {
		return err
	}
	fillMedia(byProduct, ps...)
	return nil
}

// fillMedia gives each product its media from byProduct; one without any keeps its empty list.
func fillMedia(byProduct map[uuid.UUID][]Media, ps ...*Product) {
	for _, p := range ps {
		if m := byProduct[p.ID]; m != nil {
			p.Media = m
		}
	}
}

// CanManageMedia says whether p may change a product's images and videos (the media context
// asks): nil for its shop's owner and admins, as for the product's other details.
func (s *Service) CanManageMedia(ctx context.Context, p auth.Principal, productID uuid.UUID) error {
	_, err := s.managedRow(ctx, p, productID, actionMedia)
	return err
}

// Fields are a product's editable details.
type Fields struct {
	Title       string `json:"title" validate:"required,max=200"`
	Description string `json:"description" validate:"max=20000"`
	Brand       string `json:"brand" validate:"max=100"`
	Model       string `json:"model" validate:"max=100"`
	// GTIN is the product's barcode (8, 12, 13 or 14 digits), if it has one.
	GTIN       string     `json:"gtin" validate:"omitempty,numeric,min=8,max=14"`
	CategoryID *uuid.UUID `json:"category_id"`
	Attributes Attributes `json:"attributes" validate:"max=100"`
	// Status defaults to active on creation and stays as it is on update when empty.
	Status            string `json:"status" validate:"omitempty,oneof=draft active archived"`
	WeightGrams       int    `json:"weight_grams" validate:"min=0,max=1000000"`
	LowStockThreshold *int   `json:"low_stock_threshold" validate:"omitempty,min=0,max=1000000000"`
}

// CreateInput is a new product: its details and either its variants or, for a product with a
// single form, the price, stock and SKU of its default variant.
type CreateInput struct {
	Fields
	ShopID   *uuid.UUID     `json:"shop_id"`
	Currency string         `json:"currency" validate:"omitempty,iso4217"`
	Price    int64          `json:"price" validate:"min=0,max=1000000000000"`
	Stock    int            `json:"stock" validate:"min=0,max=1000000000"`
	SKU      string         `json:"sku" validate:"max=64"`
	Variants []VariantInput `json:"variants" validate:"max=100,dive"`
}

// VariantInput is a new variant.
type VariantInput struct {
	SKU        string            `json:"sku" validate:"max=64"`
	Name       string            `json:"name" validate:"required,max=120"`
	Attributes map[string]string `json:"attributes" validate:"max=20"`
	Price      int64             `json:"price" validate:"gt=0,max=1000000000000"`
	Stock      int               `json:"stock" validate:"min=0,max=1000000000"`
}

// Create adds a product to a shop; only the shop's owner (or an admin) may, and only while the
// shop is active.
func (s *Service) Create(ctx context.Context, p auth.Principal, shopID uuid.UUID, in CreateInput) (Product, error) {
	variants, err := s.cleanCreate(ctx, &in)
	if err != nil {
		return Product{}, err
	}
	owner, active, err := s.shops.ShopOwner(ctx, shopID)
	if err != nil {
		return Product{}, err
	}
	if owner != p.UserID && !p.IsAdmin() {
		return Product{}, apperr.New(apperr.Forbidden, "only the shop's owner may add products to it")
	}
	if !active {
		return Product{}, apperr.New(apperr.Conflict, "the shop is not active")
	}
	var (
		row store.CatalogProduct
		vs  []store.CatalogVariant
	)
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		row, err = q.CreateProduct(ctx, store.CreateProductParams{
			ShopID: shopID, Title: in.Title, Description: in.Description, Brand: in.Brand, Model: in.Model, Gtin: in.GTIN,
			CategoryID: in.CategoryID, Attributes: attributesJSON(in.Attributes), Status: in.Status,
			Currency: in.Currency, LowStockThreshold: int32(*in.LowStockThreshold), WeightGrams: int32(in.WeightGrams),
			CreatedBy: p.UserID,
		})
		if err != nil {
			return err
		}
		for i, v := range variants {
			nv, err := s.addVariant(ctx, tx, q, row, v, i == 0 && len(in.Variants) == 0, p.UserID)
			if err != nil {
				return err
			}
			vs = append(vs, nv)
		}
		if row, err = s.reprice(ctx, tx, q, row, vs, time.Now(), &p.UserID, "created"); err != nil {
			return err
		}
		cat := ""
		if row.CategoryID != nil {
			cat = row.CategoryID.String()
		}
		return s.bus.Publish(ctx, tx, events.ProductCreated{ProductID: row.ID.String(), ShopID: shopID.String(),
			Title: row.Title, CategoryID: cat, Status: row.Status, At: row.CreatedAt})
	})
	if err != nil {
		return Product{}, err
	}
	return toProduct(row, vs, time.Now()), nil
}

// cleanCreate normalises a new product and returns the variants to make: the given ones, or a
// default one from the top-level price, stock and SKU.
func (s *Service) cleanCreate(ctx context.Context, in *CreateInput) ([]VariantInput, error) {
	if err := s.cleanFields(ctx, &in.Fields); err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = StatusActive
	}
	if in.LowStockThreshold == nil {
		five := 5
		in.LowStockThreshold = &five
	}
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if in.Currency == "" {
		in.Currency = "VND"
	}
	if len(in.Variants) == 0 {
		if in.Price <= 0 {
			return nil, apperr.Field("price", "is required when no variants are given, and must be above 0")
		}
		return []VariantInput{{SKU: strings.TrimSpace(in.SKU), Name: "Default", Price: in.Price, Stock: in.Stock}}, nil
	}
	seen := map[string]bool{}
	for i := range in.Variants {
		v := &in.Variants[i]
		v.SKU, v.Name = strings.TrimSpace(v.SKU), strings.TrimSpace(v.Name)
		if v.Name == "" {
			return nil, apperr.Field(fmt.Sprintf("variants[%d].name", i), "is required")
		}
		if v.SKU != "" && seen[v.SKU] {
			return nil, apperr.Field(fmt.Sprintf("variants[%d].sku", i), "repeats another variant's SKU")
		}
		seen[v.SKU] = true
	}
	return in.Variants, nil
}

// cleanFields trims a product's details and checks that its category exists.
func (s *Service) cleanFields(ctx context.Context, f *Fields) error {
	f.Title = strings.TrimSpace(f.Title)
	f.Description = strings.TrimSpace(f.Description)
	f.Brand = strings.TrimSpace(f.Brand)
	f.Model = strings.TrimSpace(f.Model)
	if f.Title == "" {
		return apperr.Field("title", "is required")
	}
	if n := len(f.GTIN); n != 0 && n != 8 && n != 12 && n != 13 && n != 14 {
		return apperr.Field("gtin", "must have 8, 12, 13 or 14 digits")
	}
	return s.checkCategory(ctx, f.CategoryID)
}

func (s *Service) checkCategory(ctx context.Context, id *uuid.UUID) error {
	if id == nil {
		return nil
	}
	return s.mustCategory(ctx, *id, apperr.Field("category_id", "is not a category"))
}

// addVariant inserts a variant and records its opening stock.
func (s *Service) addVariant(ctx context.Context, tx pgx.Tx, q *store.Queries, row store.CatalogProduct, in VariantInput,
	isDefault bool, actor uuid.UUID) (store.CatalogVariant, error) {
	attrs, _ := json.Marshal(in.Attributes)
	if in.Attributes == nil {
		attrs = []byte("{}")
	}
	v, err := q.CreateVariant(ctx, store.CreateVariantParams{ProductID: row.ID, ShopID: row.ShopID, Sku: in.SKU,
		Name: in.Name, Attributes: attrs, Price: in.Price, Stock: int32(in.Stock), IsDefault: isDefault})
	if pgdb.IsUniqueViolation(err, "variants_shop_sku_key") {
		return v, apperr.New(apperr.Conflict, "the SKU %q is already used in this shop", in.SKU)
	}
	if err != nil || in.Stock == 0 {
		return v, err
	}
	_, err = s.record(ctx, tx, q, stockChange{variant: v.ID, product: row.ID, shop: row.ShopID, sku: v.Sku,
		old: 0, stock: in.Stock, threshold: int(row.LowStockThreshold)}, "initial", "opening stock", &actor)
	return v, err
}

// Get returns a product: to anyone when it is listed (active, in a live shop), and otherwise
// only to its shop's owner and admins; a deleted product is gone for everyone. The product,
// its variants and its media are read in one round trip: each needs only the id, so a hidden
// product's are read too, and dropped unseen.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id uuid.UUID) (Product, error) {
	var on pgdb.Sender = s.pool
	if p == nil {
		on = s.reads // an anonymous visitor sees listed products only, and may see them a moment late
	}
	var (
		b      pgdb.Batch
		row    store.CatalogProduct
		rowErr error
		vs     []store.CatalogVariant
		media  map[uuid.UUID][]Media
	)
	pgdb.Queue(&b, func(db pgdb.DBTX) (store.CatalogProduct, error) { return newStore(db).GetProduct(ctx, id) },
		func(r store.CatalogProduct, err error) error {
			row, rowErr = r, err
			if pgdb.IsNoRows(err) {
				// An answer (not found, below), not a failure: pgx forgets a failed batch's
				// prepared statements, and the next page would prepare them again.
				return nil
			}
			return err
		})
	pgdb.Queue(&b, func(db pgdb.DBTX) ([]store.CatalogVariant, error) { return newStore(db).ListVariants(ctx, id) },
		func(r []store.CatalogVariant, err error) error { vs = r; return err })
	if s.media != nil {
		s.media.QueueProductMedia(ctx, &b, []uuid.UUID{id}, func(m map[uuid.UUID][]Media, err error) error { media = m; return err })
	}
	if err := b.Send(ctx, on); err != nil {
		return Product{}, err
	}
	row, err := s.shown(ctx, p, row, rowErr)
	if err != nil {
		return Product{}, err
	}
	out := toProduct(row, vs, time.Now())
	fillMedia(media, &out)
	return out, nil
}

// visible loads a product p may see.
func (s *Service) visible(ctx context.Context, p *auth.Principal, id uuid.UUID) (store.CatalogProduct, error) {
	return s.visibleOn(ctx, s.q, p, id)
}

// visibleOn is visible read through q.
func (s *Service) visibleOn(ctx context.Context, q *store.Queries, p *auth.Principal, id uuid.UUID) (store.CatalogProduct, error) {
	row, err := q.GetProduct(ctx, id)
	return s.shown(ctx, p, row, err)
}

// shown is visible's answer for the product read as row (or err).
func (s *Service) shown(ctx context.Context, p *auth.Principal, row store.CatalogProduct, err error) (store.CatalogProduct, error) {
	if pgdb.IsNoRows(err) || (err == nil && row.DeletedAt != nil) {
		return row, apperr.NotFoundf("product")
	}
	if err != nil || row.Listed {
		return row, err
	}
	if p == nil {
		return row, apperr.NotFoundf("product")
	}
	ok, err := s.manages(ctx, *p, row.ShopID)
	if err != nil {
		return row, err
	}
	if !ok {
		return row, apperr.NotFoundf("product")
	}
	return row, nil
}

// manages reports whether p may manage the shop's products: its owner while the shop lives,
// or an admin.
func (s *Service) manages(ctx context.Context, p auth.Principal, shopID uuid.UUID) (bool, error) {
	if p.IsAdmin() {
		return true, nil
	}
	owner, _, err := s.shops.ShopOwner(ctx, shopID)
	if apperr.Is(err, apperr.NotFound) {
		return false, nil
	}
	return err == nil && owner == p.UserID, err
}

// authorize checks that p may do action ("change its products") to the product: someone
// else's listed product is forbidden, naming the action refused (it is public, so saying so
// reveals nothing); someone else's hidden one is not found, exactly as a missing one is.
func (s *Service) authorize(ctx context.Context, p auth.Principal, row store.CatalogProduct, action string) error {
	ok, err := s.manages(ctx, p, row.ShopID)
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	case row.Listed:
		return apperr.New(apperr.Forbidden, "only the shop's owner may %s", action)
	default:
		return apperr.NotFoundf("product")
	}
}

// managedRow loads a live product on which p may do action, without locking it.
func (s *Service) managedRow(ctx context.Context, p auth.Principal, id uuid.UUID, action string) (store.CatalogProduct, error) {
	row, err := s.q.GetProduct(ctx, id)
	if pgdb.IsNoRows(err) || (err == nil && row.DeletedAt != nil) {
		return row, apperr.NotFoundf("product")
	}
	if err != nil {
		return row, err
	}
	return row, s.authorize(ctx, p, row, action)
}

// managed runs fn in a transaction holding the product's row lock, once p may do action on
// the product. Who may is settled before the transaction opens: the shop's owner comes from
// the shop context on a pooled connection of its own, and a transaction waiting for a second
// connection starves the pool under load. A product never moves to another shop, so the
// answer still holds once the row is locked.
func (s *Service) managed(ctx context.Context, p auth.Principal, id uuid.UUID, action string,
	fn func(tx pgx.Tx, q *store.Queries, row store.CatalogProduct) error) error {
	if _, err := s.managedRow(ctx, p, id, action); err != nil {
		return err
	}
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		row, err := q.LockProduct(ctx, id)
		if pgdb.IsNoRows(err) { // deleted meanwhile
			return apperr.NotFoundf("product")
		}
		if err != nil {
			return err
		}
		return fn(tx, q, row)
	})
}

// Actions on products, as a refusal names them.
const (
	actionChange   = "change its products"
	actionDelete   = "delete its products"
	actionVariants = "add variants to its products"
	actionPrice    = "set its products' prices"
	actionDiscount = "put its products on sale or end their sales"
	actionSeeStock = "see its inventory"
	actionSetStock = "change its inventory"
	actionMedia    = "change its products' images and videos"
)

// Update replaces a product's details (not its prices, stock or variants, which have their own
// routes). An empty status keeps the current one.
func (s *Service) Update(ctx context.Context, p auth.Principal, id uuid.UUID, in Fields) (Product, error) {
	if err := s.cleanFields(ctx, &in); err != nil {
		return Product{}, err
	}
	u := store.UpdateProductParams{ID: id, Title: &in.Title, Description: &in.Description, Brand: &in.Brand,
		Model: &in.Model, Gtin: &in.GTIN, Attributes: attributesJSON(in.Attributes), WeightGrams: ptr(int32(in.WeightGrams))}
	if in.Status != "" {
		u.Status = &in.Status
	}
	if in.LowStockThreshold != nil {
		u.LowStockThreshold = ptr(int32(*in.LowStockThreshold))
	}
	return s.edit(ctx, p, id, func(q *store.Queries) (store.CatalogProduct, error) {
		if _, err := q.UpdateProduct(ctx, u); err != nil {
			return store.CatalogProduct{}, err
		}
		return q.SetProductCategory(ctx, store.SetProductCategoryParams{ID: id, CategoryID: in.CategoryID})
	})
}

// SetCategory moves a product to another category, or out of any (nil).
func (s *Service) SetCategory(ctx context.Context, p auth.Principal, id uuid.UUID, category *uuid.UUID) (Product, error) {
	if err := s.checkCategory(ctx, category); err != nil {
		return Product{}, err
	}
	return s.edit(ctx, p, id, func(q *store.Queries) (store.CatalogProduct, error) {
		return q.SetProductCategory(ctx, store.SetProductCategoryParams{ID: id, CategoryID: category})
	})
}

// SetBrand changes a product's brand.
func (s *Service) SetBrand(ctx context.Context, p auth.Principal, id uuid.UUID, brand string) (Product, error) {
	return s.edit(ctx, p, id, func(q *store.Queries) (store.CatalogProduct, error) {
		return q.UpdateProduct(ctx, store.UpdateProductParams{ID: id, Brand: ptr(strings.TrimSpace(brand))})
	})
}

// SetModel changes a product's model.
func (s *Service) SetModel(ctx context.Context, p auth.Principal, id uuid.UUID, model string) (Product, error) {
	return s.edit(ctx, p, id, func(q *store.Queries) (store.CatalogProduct, error) {
		return q.UpdateProduct(ctx, store.UpdateProductParams{ID: id, Model: ptr(strings.TrimSpace(model))})
	})
}

// edit runs update, which writes only the columns it names (UpdateProduct is a partial update),
// on a product p may change, and publishes product.updated.
func (s *Service) edit(ctx context.Context, p auth.Principal, id uuid.UUID, update func(*store.Queries) (store.CatalogProduct, error)) (Product, error) {
	var (
		row store.CatalogProduct
		vs  []store.CatalogVariant
	)
	err := s.managed(ctx, p, id, actionChange, func(tx pgx.Tx, q *store.Queries, _ store.CatalogProduct) error {
		var err error
		if row, err = update(q); err != nil {
			return err
		}
		if vs, err = q.ListVariants(ctx, id); err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.ProductUpdated{ProductID: id.String(), ShopID: row.ShopID.String(),
			Status: row.Status, At: row.UpdatedAt})
	})
	if err != nil {
		return Product{}, err
	}
	out := toProduct(row, vs, time.Now())
	return out, s.withMedia(ctx, false, &out)
}

// Delete hides a product from buyers for good; the row stays for past orders.
func (s *Service) Delete(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	return s.managed(ctx, p, id, actionDelete, func(tx pgx.Tx, q *store.Queries, _ store.CatalogProduct) error {
		row, err := q.DeleteProduct(ctx, id)
		if err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.ProductDeleted{ProductID: id.String(), ShopID: row.ShopID.String(),
			By: p.UserID.String(), At: row.UpdatedAt})
	})
}

// Variants lists a product's variants to whoever may see the product.
func (s *Service) Variants(ctx context.Context, p *auth.Principal, id uuid.UUID) ([]Variant, error) {
	prod, err := s.Get(ctx, p, id)
	return prod.Variants, err
}

// AddVariant adds a variant to a product; its price follows the product's discount at once.
func (s *Service) AddVariant(ctx context.Context, p auth.Principal, id uuid.UUID, in VariantInput) (Variant, error) {
	in.SKU, in.Name = strings.TrimSpace(in.SKU), strings.TrimSpace(in.Name)
	if in.Name == "" {
		return Variant{}, apperr.Field("name", "is required")
	}
	var out Variant
	err := s.managed(ctx, p, id, actionVariants, func(tx pgx.Tx, q *store.Queries, row store.CatalogProduct) error {
		vs, err := q.ListVariants(ctx, id)
		if err != nil {
			return err
		}
		if len(vs) >= MaxVariants {
			return apperr.New(apperr.Conflict, "a product has at most %d variants", MaxVariants)
		}
		v, err := s.addVariant(ctx, tx, q, row, in, false, p.UserID)
		if err != nil {
			return err
		}
		vs = append(vs, v)
		if row, err = s.reprice(ctx, tx, q, row, vs, time.Now(), &p.UserID, "variant_added"); err != nil {
			return err
		}
		out = toVariant(vs[len(vs)-1], discountOf(row), time.Now())
		return s.bus.Publish(ctx, tx, events.ProductUpdated{ProductID: id.String(), ShopID: row.ShopID.String(),
			Status: row.Status, At: time.Now().UTC()})
	})
	return out, err
}

// ProductShop returns the shop a live (not deleted) product belongs to. The shop context's
// promotions use it to check that a promotion's products are the shop's own.
func (s *Service) ProductShop(ctx context.Context, productID uuid.UUID) (uuid.UUID, error) {
	id, err := s.q.ProductShop(ctx, productID)
	if pgdb.IsNoRows(err) {
		return uuid.Nil, apperr.NotFoundf("product")
	}
	return id, err
}

// VariantSnapshot describes a variant as the cart and checkout need it now: its product and
// shop, its names, its unit price with any discount applied, its stock and weight, and whether
// it may be bought at all. An unknown variant is not found; a deleted product's variant is
// found but not purchasable, so that old carts can say why.
func (s *Service) VariantSnapshot(ctx context.Context, variantID uuid.UUID) (VariantSnapshot, error) {
	return s.VariantSnapshotTx(ctx, nil, variantID)
}

// VariantSnapshotTx is VariantSnapshot read in the caller's transaction (nil: the pool), so
// that a checkout holding a connection never waits for a second one.
func (s *Service) VariantSnapshotTx(ctx context.Context, tx pgx.Tx, variantID uuid.UUID) (VariantSnapshot, error) {
	q := s.q
	if tx != nil {
		q = newStore(tx)
	}
	r, err := q.VariantSnapshot(ctx, variantID)
	return toSnapshot(r, err)
}

// toSnapshot shows a variant as the cart and checkout see it now.
func toSnapshot(r store.VariantSnapshotRow, err error) (VariantSnapshot, error) {
	if err != nil {
		return VariantSnapshot{}, pgdb.NotFound(err, "variant")
	}
	d := discountFrom(r.DiscountID, r.DiscountPercent, r.DiscountPrice, r.DiscountVariantID, r.DiscountStartsAt, r.DiscountEndsAt)
	return VariantSnapshot{
		ProductID: r.ProductID, VariantID: r.VariantID, ShopID: r.ShopID, Title: r.Title, VariantName: r.VariantName,
		SKU: r.Sku, UnitPrice: d.price(r.VariantID, r.Price, time.Now()), ListPrice: r.Price, Currency: r.Currency,
		Stock: int(r.Stock), WeightGrams: int(r.WeightGrams), Purchasable: r.Listed,
	}, nil
}

func ptr[T any](v T) *T { return &v }

func attributesJSON(m Attributes) json.RawMessage {
	if len(m) == 0 {
		return json.RawMessage("{}")
	}
	b, _ := json.Marshal(m) // values are valid JSON already: they were decoded from it
	return b
}

// decodeAttributes reads stored attributes, always a JSON object (the tables check it). A
// variant's are strings, as VariantInput takes them; a value of another type, which no route
// writes, is left out rather than failing the read.
func decodeAttributes[V any](b []byte) map[string]V {
	m := map[string]V{}
	_ = json.Unmarshal(b, &m)
	return m
}

// toProduct shows a product at instant now: prices are computed for that instant, so that a
// discount starts and ends on time even before the scheduled job has moved the stored price.
func toProduct(r store.CatalogProduct, vs []store.CatalogVariant, now time.Time) Product {
	d := discountOf(r)
	p := Product{
		ID: r.ID, ShopID: r.ShopID, Title: r.Title, Description: r.Description, Brand: r.Brand, Model: r.Model, GTIN: r.Gtin,
		CategoryID: r.CategoryID, Attributes: decodeAttributes[json.RawMessage](r.Attributes), Currency: r.Currency, Status: r.Status,
		Rating: r.Rating, RatingCount: int(r.RatingCount), WeightGrams: int(r.WeightGrams),
		LowStockThreshold: int(r.LowStockThreshold), Media: []Media{}, Variants: make([]Variant, 0, len(vs)),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if d != nil && now.Before(d.EndsAt) {
		shown := *d
		shown.Active = d.activeAt(now)
		p.Discount = &shown
	}
	for i, v := range vs {
		pv := toVariant(v, d, now)
		p.Variants = append(p.Variants, pv)
		p.Stock += pv.Stock
		if i == 0 || pv.Price < p.Price {
			p.Price, p.ListPrice, p.OnSale = pv.Price, pv.ListPrice, pv.OnSale
		}
	}
	return p
}

func toVariant(v store.CatalogVariant, d *Discount, now time.Time) Variant {
	price := d.price(v.ID, v.Price, now)
	return Variant{ID: v.ID, SKU: v.Sku, Name: v.Name, Attributes: decodeAttributes[string](v.Attributes), Price: price, ListPrice: v.Price,
		OnSale: price < v.Price, Stock: int(v.Stock), IsDefault: v.IsDefault}
}

// newStore returns the catalog store on db, the pool or a transaction, its errors naming the query
// that failed (pgdb.Named).
func newStore(db store.DBTX) *store.Queries { return store.New(pgdb.Named("catalog", db)) }
