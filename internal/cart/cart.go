// Package cart is the shopping-cart context: a buyer's lines (variants from any number of
// shops), applied vouchers, saved copies, and the one computation of what a cart costs:
// subtotal, discounts, shipping and tax. It owns the `cart` schema.
//
// The order context checks out through CheckoutQuote and QueueClear, so that the totals a buyer
// sees and the totals an order records come from the same code; their reads and writes are
// queued on the checkout's batches, one round trip for several contexts.
package cart

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Variant is what the cart needs to know of a catalog variant, now.
type Variant struct {
	VariantID    uuid.UUID
	ProductID    uuid.UUID
	ShopID       uuid.UUID
	Title        string
	VariantName  string
	SKU          string
	UnitPrice    int64 // the effective price now (a running sale included)
	RegularPrice int64
	Currency     string
	Stock        int32
	WeightGrams  int64
	Purchasable  bool // active product of an active shop
}

// catalog is what the cart needs of the catalog context.
// Methods taking a pgx.Tx read in it when it is not nil: checkout prices inside its transaction.
type catalog interface {
	Variant(ctx context.Context, tx pgx.Tx, variantID uuid.UUID) (Variant, error)
	// QueueOnlyVariant queues the read of the variant of a product that has exactly one; a
	// product with several needs the buyer to choose (a validation error).
	QueueOnlyVariant(ctx context.Context, b *pgdb.Batch, productID uuid.UUID, done func(Variant, error) error)
	// QueueVariants is Variant of several variants queued on a batch the caller sends
	// (checkout, adding a line), one statement whatever their number: done gets them by ID (a
	// variant not found is not in it).
	QueueVariants(ctx context.Context, b *pgdb.Batch, variantIDs []uuid.UUID, done func(map[uuid.UUID]Variant, error) error)
}

// Interest keeps a buyer's add-to-cart where interest is counted (the search context's trending
// and recommendations). Its write is queued on the batch that writes the cart line, so it commits
// with the line, or not at all, at the price of one statement: the add-to-cart is the commonest
// write of the marketplace, and a River job for it (insert, fetch, run, completion) cost several
// times the add itself.
type Interest interface {
	QueueCartAdd(ctx context.Context, b *pgdb.Batch, add events.CartItemAdded) error
}

// Offer is a running campaign price of a variant.
type Offer struct {
	CampaignID uuid.UUID
	Price      int64
	Remaining  int32
}

// VoucherLine and VoucherQuote carry a shop voucher's computation.
type VoucherLine struct {
	ProductID uuid.UUID
	Amount    int64
}

// VoucherQuote is what one shop's voucher takes off.
type VoucherQuote struct {
	PromotionID uuid.UUID `json:"promotion_id"`
	Code        string    `json:"code"`
	Discount    int64     `json:"discount"`
}

// promotions is what the cart needs of the shop context.
type promotions interface {
	CampaignOffer(ctx context.Context, tx pgx.Tx, variantID uuid.UUID) (Offer, bool, error)
	QuoteVoucher(ctx context.Context, tx pgx.Tx, shopID, buyer uuid.UUID, code string, lines []VoucherLine) (VoucherQuote, error)
	// QueueCampaignOffers is CampaignOffer of several variants queued on a batch the caller
	// sends (checkout, adding a line), one statement whatever their number: done gets the
	// offers by variant (a variant on no offer is not in it).
	QueueCampaignOffers(ctx context.Context, b *pgdb.Batch, variantIDs []uuid.UUID, done func(map[uuid.UUID]Offer, error) error)
	// QueueVoucher queues QuoteVoucher's reads on a batch; once it is sent, the check quotes lines.
	QueueVoucher(ctx context.Context, b *pgdb.Batch, shopID, buyer uuid.UUID, code string) VoucherCheck
}

// VoucherCheck quotes a voucher from reads batched beforehand.
type VoucherCheck interface {
	Quote(lines []VoucherLine) (VoucherQuote, error)
}

// FeeCheck prices a parcel from reads batched beforehand.
type FeeCheck interface {
	Fee(ctx context.Context, weightGrams int64) (int64, error)
}

// Destination is where a checkout's parcels go: the buyer's address, read by the caller.
type Destination struct {
	Line1, Ward, District, Province, Country string
	Lat, Lng                                 *float64
}

// ShippingRequest asks what it costs to ship one shop's parcel.
type ShippingRequest struct {
	ShopID      uuid.UUID
	WeightGrams int64
	Method      events.ShippingMethod
	// AddressID is the buyer's delivery address when known (checkout); quotes without one use
	// the method's base rate.
	AddressID *uuid.UUID
	BuyerID   uuid.UUID
}

// ShippingQuoter prices shipping; the shipping context fills it with its one fee computation.
type ShippingQuoter interface {
	// Fee prices one shop's parcel. tx is the checkout's transaction, nil outside one: the
	// quoter reads through it rather than take a second connection while the checkout holds
	// one, which under load would starve the pool.
	Fee(ctx context.Context, tx pgx.Tx, r ShippingRequest) (int64, error)
	// QueueFees queues the reads of Fee for several shops' parcels on a batch the caller sends,
	// the parcels going to; it answers a check a shop, which prices its parcel once the batch is
	// sent.
	QueueFees(ctx context.Context, b *pgdb.Batch, rs []ShippingRequest, to *Destination) map[uuid.UUID]FeeCheck
}

// Line is one cart line, priced now.
type Line struct {
	ID           uuid.UUID  `json:"id"`
	ProductID    uuid.UUID  `json:"product_id"`
	VariantID    uuid.UUID  `json:"variant_id"`
	ShopID       uuid.UUID  `json:"shop_id"`
	Title        string     `json:"title"`
	VariantName  string     `json:"variant_name"`
	SKU          string     `json:"sku"`
	UnitPrice    int64      `json:"unit_price"`
	RegularPrice int64      `json:"regular_price"`
	CampaignID   *uuid.UUID `json:"campaign_id,omitempty"`
	Quantity     int32      `json:"quantity"`
	LineTotal    int64      `json:"line_total"`
	WeightGrams  int64      `json:"weight_grams"`
	Available    bool       `json:"available"`
	// Problem says why a line cannot be bought as it is (out of stock, unavailable ...).
	Problem string `json:"problem,omitempty"`
	// forSale says the variant is sold now, whatever its stock: checkout refuses a line that is
	// not, but lets the stock reservation judge one that is short of stock.
	forSale bool
}

// ShopGroup is one shop's part of a cart: it becomes one order at checkout.
type ShopGroup struct {
	ShopID      uuid.UUID     `json:"shop_id"`
	Lines       []Line        `json:"-"`
	Subtotal    int64         `json:"subtotal"`
	Discount    int64         `json:"discount"`
	ShippingFee int64         `json:"shipping_fee"`
	Tax         int64         `json:"tax"`
	Total       int64         `json:"total"`
	WeightGrams int64         `json:"weight_grams"`
	Coupon      *VoucherQuote `json:"coupon,omitempty"`
	// CouponError says why an applied code does not apply now, and CouponErrorCode what the
	// buyer can do about it (voucher_expired, min_spend_not_met ...; validation_failed else).
	CouponError     string      `json:"coupon_error,omitempty"`
	CouponErrorCode apperr.Code `json:"coupon_error_code,omitempty"`
}

// Quote is a whole cart priced: the one computation behind the cart, its summary and total,
// the checkout preview, and the orders' recorded amounts.
type Quote struct {
	Items        []Line      `json:"items"`
	Shops        []ShopGroup `json:"shops"`
	ItemCount    int32       `json:"item_count"`
	Subtotal     int64       `json:"subtotal"`
	Discount     int64       `json:"discount"`
	ShippingFee  int64       `json:"shipping_fee"`
	Tax          int64       `json:"tax"`
	TaxInclusive bool        `json:"tax_inclusive"`
	TaxRateBPS   int64       `json:"tax_rate_bps"`
	Total        int64       `json:"total"`
	Currency     string      `json:"currency"`
	Coupons      []string    `json:"coupons"`
	// Coupon is the code applied, when one is (the contract's single field; Coupons lists all).
	Coupon *string `json:"coupon,omitempty"`
	// Purchasable is false while a line has a problem: checkout refuses such a cart.
	Purchasable bool `json:"purchasable"`
}

// QuoteOptions tune a quote.
type QuoteOptions struct {
	ShippingMethod events.ShippingMethod
	AddressID      *uuid.UUID
	// ExtraCoupon is a code to try on top of the applied ones (checkout's `coupon` field).
	ExtraCoupon string
	// Destination is the address AddressID names, when the caller has read it (checkout).
	Destination *Destination
}

// SavedCart is a named copy of a cart.
type SavedCart struct {
	ID        uuid.UUID   `json:"id"`
	Name      string      `json:"name"`
	ItemCount int         `json:"item_count"`
	Items     []SavedItem `json:"items"`
	CreatedAt time.Time   `json:"created_at"`
}

// SavedItem is a line of a saved cart.
type SavedItem struct {
	ProductID uuid.UUID `json:"product_id"`
	VariantID uuid.UUID `json:"variant_id"`
	ShopID    uuid.UUID `json:"shop_id"`
	Quantity  int32     `json:"quantity"`
}

// Limits of a cart.
const (
	MaxLines      = 100
	MaxQuantity   = 999
	MaxSavedCarts = 20
)
