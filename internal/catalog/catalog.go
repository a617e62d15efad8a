// Package catalog is the product catalog context: categories, products and their variants,
// prices with their history and scheduled discounts, and stock with its movements. It owns the
// `catalog` schema.
//
// Other contexts use it through *Service:
//   - ProductShop: which shop a live product belongs to (the shop context's promotions).
//   - VariantSnapshot: what the cart and checkout need to price and describe a variant.
//   - ReserveStock and ReleaseStock: stock taken and given back inside the caller's transaction
//     (checkout, cancellation), all or nothing.
//
// It learns of closed shops from the shop.deleted event and hides their products.
package catalog

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Product statuses: only active products of live shops are shown to buyers.
const (
	StatusDraft    = "draft"
	StatusActive   = "active"
	StatusArchived = "archived"
)

// Sorts of the product list.
const (
	SortNewest    = "newest"
	SortPriceAsc  = "price_asc"
	SortPriceDesc = "price_desc"
	SortRating    = "rating"
)

// MaxVariants bounds the variants of one product.
const MaxVariants = 100

// Product is a product as clients see it. Price and stock are its variants': Price is the lowest
// price payable now, Stock the sum.
type Product struct {
	ID                uuid.UUID  `json:"id"`
	ShopID            uuid.UUID  `json:"shop_id"`
	Title             string     `json:"title"`
	Description       string     `json:"description"`
	Brand             string     `json:"brand"`
	Model             string     `json:"model"`
	GTIN              string     `json:"gtin,omitempty"`
	CategoryID        *uuid.UUID `json:"category_id"`
	Attributes        Attributes `json:"attributes"`
	Price             int64      `json:"price"`
	ListPrice         int64      `json:"list_price"`
	OnSale            bool       `json:"on_sale"`
	Currency          string     `json:"currency"`
	Stock             int        `json:"stock"`
	Status            string     `json:"status"`
	Rating            float64    `json:"rating"`
	RatingCount       int        `json:"rating_count"`
	WeightGrams       int        `json:"weight_grams"`
	LowStockThreshold int        `json:"low_stock_threshold"`
	Discount          *Discount  `json:"discount"`
	Media             []Media    `json:"media"`
	Variants          []Variant  `json:"variants"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// Variant is one purchasable form of a product (a colour and size, say). Price is what it costs
// now, ListPrice the seller's price before any discount.
type Variant struct {
	ID         uuid.UUID         `json:"id"`
	SKU        string            `json:"sku"`
	Name       string            `json:"name"`
	Attributes map[string]string `json:"attributes"`
	Price      int64             `json:"price"`
	ListPrice  int64             `json:"list_price"`
	OnSale     bool              `json:"on_sale"`
	Stock      int               `json:"stock"`
	IsDefault  bool              `json:"is_default"`
}

// Attributes are a product's free-form details, as its seller gives them: any JSON value under
// each name ({"warranty_months": 12, "sizes": ["S", "M"]}).
type Attributes map[string]json.RawMessage

// Media is an image or video of a product, in the product's order, as the media context keeps
// it (the catalog only shows it: see mediaGallery).
type Media struct {
	ID         uuid.UUID        `json:"id"`
	Kind       string           `json:"kind" validate:"oneof=image video"`
	URL        string           `json:"url"`
	Thumbnails []MediaThumbnail `json:"thumbnails"`
	PosterURL  *string          `json:"poster_url,omitempty"`
	Width      int              `json:"width"`
	Height     int              `json:"height"`
	DurationMS *int64           `json:"duration_ms,omitempty"`
	Alt        string           `json:"alt"`
	Position   int              `json:"position"`
	IsPrimary  bool             `json:"is_primary"`
	CreatedAt  time.Time        `json:"created_at"`
}

// MediaThumbnail is an image scaled down to Width pixels wide.
type MediaThumbnail struct {
	Width int    `json:"width"`
	URL   string `json:"url"`
}

// mediaGallery is what the catalog needs of the media context: the media of many products at
// once (a page of them), by product; public says the page is a public one, which may be
// served a moment late (from a replica). QueueProductMedia queues the same read on the
// catalog's batch, to be read with the product in one round trip (the batch's sender says
// where), handing done the media once b is sent.
type mediaGallery interface {
	ProductMedia(ctx context.Context, productIDs []uuid.UUID, public bool) (map[uuid.UUID][]Media, error)
	QueueProductMedia(ctx context.Context, b *pgdb.Batch, productIDs []uuid.UUID, done func(map[uuid.UUID][]Media, error) error)
}

// Discount is a product's sale: a percentage off, or a fixed sale price, for every variant or
// for one, between StartsAt and EndsAt. Active says whether it is in force at the answer's time.
type Discount struct {
	ID        uuid.UUID  `json:"id"`
	VariantID *uuid.UUID `json:"variant_id,omitempty"`
	Percent   *int       `json:"percent,omitempty"`
	SalePrice *int64     `json:"sale_price,omitempty"`
	StartsAt  time.Time  `json:"starts_at"`
	EndsAt    time.Time  `json:"ends_at"`
	Active    bool       `json:"active"`
}

// Category is a node of the category tree. Path runs from the root to the category itself;
// it is filled on single reads.
type Category struct {
	ID          uuid.UUID     `json:"id"`
	ParentID    *uuid.UUID    `json:"parent_id"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Path        []CategoryRef `json:"path,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

// CategoryRef names a category.
type CategoryRef struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// ShopCategory is a category a shop sells in, with how many of its products are in it.
type ShopCategory struct {
	ID           uuid.UUID `json:"id"`
	Name         string    `json:"name"`
	ProductCount int       `json:"product_count"`
}

// PriceChange is one line of a product's price history. Kind "list" is the seller's price,
// "effective" what buyers pay (it moves with discounts too). ChangedBy is nil for the scheduler.
type PriceChange struct {
	ID        int64      `json:"id"`
	VariantID uuid.UUID  `json:"variant_id"`
	Kind      string     `json:"kind"`
	OldPrice  int64      `json:"old_price"`
	NewPrice  int64      `json:"new_price"`
	Currency  string     `json:"currency"`
	Reason    string     `json:"reason"`
	ChangedBy *uuid.UUID `json:"changed_by"`
	ChangedAt time.Time  `json:"changed_at"`
}

// Movement is one change of a variant's stock.
type Movement struct {
	ID        int64      `json:"id"`
	VariantID uuid.UUID  `json:"variant_id"`
	ProductID uuid.UUID  `json:"product_id"`
	Kind      string     `json:"kind"`
	Delta     int        `json:"delta"`
	Stock     int        `json:"stock"`
	Reason    string     `json:"reason"`
	ActorID   *uuid.UUID `json:"actor_id"`
	CreatedAt time.Time  `json:"created_at"`
}

// Inventory is a product's stock, variant by variant, with its latest movements.
type Inventory struct {
	ProductID         uuid.UUID       `json:"product_id"`
	ShopID            uuid.UUID       `json:"shop_id"`
	Stock             int             `json:"stock"`
	LowStockThreshold int             `json:"low_stock_threshold"`
	Variants          []InventoryItem `json:"variants"`
	Movements         []Movement      `json:"movements"`
}

// InventoryItem is one variant's stock, as inventory and low-stock listings show it.
type InventoryItem struct {
	ProductID         uuid.UUID `json:"product_id"`
	VariantID         uuid.UUID `json:"variant_id"`
	ShopID            uuid.UUID `json:"shop_id"`
	Title             string    `json:"title"`
	VariantName       string    `json:"variant_name"`
	SKU               string    `json:"sku"`
	Stock             int       `json:"stock"`
	LowStockThreshold int       `json:"low_stock_threshold"`
	LowStock          bool      `json:"low_stock"`
}

// VariantSnapshot is what the cart and checkout need of a variant at one instant.
type VariantSnapshot struct {
	ProductID   uuid.UUID
	VariantID   uuid.UUID
	ShopID      uuid.UUID
	Title       string
	VariantName string
	SKU         string
	// UnitPrice is what one costs now, discounts applied; ListPrice before them.
	UnitPrice   int64
	ListPrice   int64
	Currency    string
	Stock       int
	WeightGrams int
	// Purchasable: an active product of a live shop, not deleted. Stock is separate.
	Purchasable bool
}

// StockLine is a quantity of one variant to reserve or release. Ref says what for (an order
// ID, say) and is kept on the stock movement.
type StockLine struct {
	VariantID uuid.UUID
	Quantity  int
	Ref       string
}

// shopDirectory is what the catalog needs of the shop context: who owns a shop and whether it
// is open. A missing or deleted shop is apperr.NotFound.
type shopDirectory interface {
	ShopOwner(ctx context.Context, shopID uuid.UUID) (owner uuid.UUID, active bool, err error)
}
