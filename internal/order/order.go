// Package order is the order context: checkout (one transaction from cart to orders), the
// order status machine with its history, returns and refund requests, for buyers and shops.
// It owns the `orders` schema.
package order

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Order is an order as clients see it.
type Order struct {
	ID                uuid.UUID             `json:"id"`
	CheckoutID        uuid.UUID             `json:"checkout_id"`
	BuyerID           uuid.UUID             `json:"buyer_id"`
	ShopID            uuid.UUID             `json:"shop_id"`
	Status            events.OrderStatus    `json:"status"`
	Items             []Item                `json:"items"`
	Subtotal          int64                 `json:"subtotal"`
	ShippingFee       int64                 `json:"shipping_fee"`
	Tax               int64                 `json:"tax"`
	TaxInclusive      bool                  `json:"tax_inclusive"`
	Discount          int64                 `json:"discount"`
	Total             int64                 `json:"total"`
	Currency          string                `json:"currency"`
	PaymentMethod     events.PaymentMethod  `json:"payment_method"`
	PaymentProvider   *events.Provider      `json:"payment_provider,omitempty"`
	PaymentStatus     events.PaymentStatus  `json:"payment_status"`
	ShippingMethod    events.ShippingMethod `json:"shipping_method"`
	VoucherCode       *string               `json:"voucher_code,omitempty"`
	Address           Address               `json:"address"`
	Note              string                `json:"note"`
	TrackingNumber    *string               `json:"tracking_number,omitempty"`
	Carrier           *string               `json:"carrier,omitempty"`
	ReturnReason      *string               `json:"return_reason,omitempty"`
	PaidAt            *time.Time            `json:"paid_at,omitempty"`
	DeliveredAt       *time.Time            `json:"delivered_at,omitempty"`
	ReturnRequestedAt *time.Time            `json:"return_requested_at,omitempty"`
	CreatedAt         time.Time             `json:"created_at"`
	UpdatedAt         time.Time             `json:"updated_at"`
}

// Item is a snapshot of what was bought.
type Item struct {
	ID           uuid.UUID  `json:"id"`
	ProductID    uuid.UUID  `json:"product_id"`
	VariantID    uuid.UUID  `json:"variant_id"`
	Title        string     `json:"title"`
	VariantName  string     `json:"variant_name"`
	SKU          string     `json:"sku"`
	UnitPrice    int64      `json:"unit_price"`
	RegularPrice int64      `json:"regular_price"`
	CampaignID   *uuid.UUID `json:"campaign_id,omitempty"`
	Quantity     int32      `json:"quantity"`
	LineTotal    int64      `json:"line_total"`
}

// Move is one recorded status change.
type Move struct {
	From      *events.OrderStatus `json:"from"`
	To        events.OrderStatus  `json:"to"`
	ActorID   *uuid.UUID          `json:"actor_id,omitempty"`
	ActorRole events.ActorRole    `json:"actor_role"`
	Reason    string              `json:"reason"`
	At        time.Time           `json:"at"`
}

// Address is the delivery address copied into an order.
type Address struct {
	RecipientName string   `json:"recipient_name"`
	Phone         string   `json:"phone"`
	Line1         string   `json:"line1"`
	Ward          string   `json:"ward"`
	District      string   `json:"district"`
	Province      string   `json:"province"`
	Country       string   `json:"country"`
	Lat           *float64 `json:"lat,omitempty"`
	Lng           *float64 `json:"lng,omitempty"`
}

// PricedLine is one cart line as the cart context priced it.
type PricedLine struct {
	ProductID, VariantID, ShopID uuid.UUID
	Title, VariantName, SKU      string
	UnitPrice, RegularPrice      int64
	CampaignID                   *uuid.UUID
	Quantity                     int32
	LineTotal, WeightGrams       int64
	Available                    bool
	Problem                      string
}

// PricedShop is one shop's part of a priced cart: it becomes one order.
type PricedShop struct {
	ShopID                                      uuid.UUID
	Lines                                       []PricedLine
	Subtotal, Discount, ShippingFee, Tax, Total int64
	WeightGrams                                 int64
	VoucherCode                                 string
	// VoucherID is the promotion of VoucherCode; Discount is what it was quoted to take off.
	VoucherID uuid.UUID
	// VoucherError says why a code the buyer applied to this shop does not apply now, and
	// VoucherErrorCode what the buyer can do about it.
	VoucherError     string
	VoucherErrorCode apperr.Code
}

// PricedCart is a cart priced by the cart context's one computation.
type PricedCart struct {
	Shops                                       []PricedShop
	Subtotal, Discount, ShippingFee, Tax, Total int64
	TaxInclusive                                bool
	TaxRateBPS                                  int64
	Currency                                    string
	Purchasable                                 bool
}

// PriceRequest says how to price a cart for checkout.
type PriceRequest struct {
	ShippingMethod events.ShippingMethod
	AddressID      *uuid.UUID
	Coupon         string
	// Destination is the address AddressID names, when the caller has read it (checkout).
	Destination *Address
}

// cartPort is what orders need of the cart context.
type cartPort interface {
	Price(ctx context.Context, buyer uuid.UUID, r PriceRequest) (PricedCart, error)
	// QueuePrice queues the locked read of the buyer's cart on checkout's first batch; the step
	// then queues what pricing it needs on the second and prices the cart once that is sent.
	QueuePrice(ctx context.Context, b *pgdb.Batch, buyer uuid.UUID, r PriceRequest) PricingStep
	// QueueClear queues the emptying of the buyer's cart on a batch.
	QueueClear(ctx context.Context, b *pgdb.Batch, buyer uuid.UUID)
	// PlanRefill says how an order's lines would go back in the cart now, changing nothing.
	PlanRefill(ctx context.Context, buyer uuid.UUID, lines []RefillLine) ([]RepeatLine, error)
	// Refill puts back in the cart the lines that can be bought now and says what became of each.
	Refill(ctx context.Context, buyer uuid.UUID, lines []RefillLine) ([]RepeatLine, error)
}

// PricingStep is a cart's pricing whose reads are batched with the checkout's (cartPort.QueuePrice).
type PricingStep interface {
	QueueReads(ctx context.Context, b *pgdb.Batch)
	Priced(ctx context.Context) (PricedCart, error)
}

// RefillLine is a variant and quantity to put back in a cart.
type RefillLine struct {
	ProductID, VariantID, ShopID uuid.UUID
	Quantity                     int32
}

// StockLine is a quantity of one variant.
type StockLine struct {
	VariantID uuid.UUID
	Quantity  int32
}

// stockPort reserves and returns catalog stock inside the caller's transaction.
type stockPort interface {
	// QueueReserveStock queues the taking of every line's stock on a batch; once it is sent,
	// the reservation says whether all was met and returns the stock events to publish.
	QueueReserveStock(ctx context.Context, b *pgdb.Batch, lines []StockLine) (StockReservation, error)
	ReleaseStockTx(ctx context.Context, tx pgx.Tx, lines []StockLine) error
}

// StockReservation is a stock reservation queued on a batch.
type StockReservation interface {
	Done(ctx context.Context, tx pgx.Tx) ([]eventbus.Event, error)
}

// VoucherLine is what a voucher applies to.
type VoucherLine struct {
	ProductID uuid.UUID
	Amount    int64
}

// promoPort is what orders need of the shop context's vouchers and campaigns.
type promoPort interface {
	// QueueRedeemVoucher queues the use of a voucher quoted at discount for an order on a batch.
	QueueRedeemVoucher(ctx context.Context, b *pgdb.Batch, promotionID, buyer, orderID uuid.UUID, lines []VoucherLine, discount int64)
	ReleaseVoucherTx(ctx context.Context, tx pgx.Tx, promotionID, orderID uuid.UUID) error
	// QueueSellCampaignStock queues the taking of campaign stock on a batch.
	QueueSellCampaignStock(ctx context.Context, b *pgdb.Batch, campaignID, variantID uuid.UUID, qty int32)
	ReturnCampaignStockTx(ctx context.Context, tx pgx.Tx, campaignID, variantID uuid.UUID, qty int32) error
	// ShopOwner answers who manages a shop (for shop-side moves).
	ShopOwner(ctx context.Context, shopID uuid.UUID) (uuid.UUID, error)
}

// addressPort reads the buyer's address book.
type addressPort interface {
	Address(ctx context.Context, userID, addressID uuid.UUID) (Address, error)
	// QueueAddress queues Address's read on a batch.
	QueueAddress(ctx context.Context, b *pgdb.Batch, userID, addressID uuid.UUID, done func(Address, error) error)
}

// Refunder asks the payment context to refund an order's payment.
type Refunder interface {
	RefundOrder(ctx context.Context, orderID uuid.UUID, amount int64, reason string) error
}

// Payable is what the payment context needs to know of an order it collects money for.
type Payable struct {
	OrderID       uuid.UUID
	CheckoutID    uuid.UUID
	BuyerID       uuid.UUID
	ShopID        uuid.UUID
	Status        events.OrderStatus
	PaymentMethod events.PaymentMethod
	Provider      *events.Provider
	PaymentStatus events.PaymentStatus
	Total         int64
	Currency      string
	DeliveredAt   *time.Time
}

// Delivery is what the shipping context needs of an order.
type Delivery struct {
	Payable
	Address        Address
	WeightGrams    int64
	ShippingMethod events.ShippingMethod
	ReadyToShip    bool
}
