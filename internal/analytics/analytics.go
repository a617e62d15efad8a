// Package analytics is the analytics context: a shop's revenue, orders, products and
// performance over a date range, and its sales and performance reports. It owns the `analytics`
// schema, a read model that nothing else writes.
//
// How the figures stay right. Every event that says something happened to an order (placed,
// status changed, paid, refunded, escrow released) only names the order: the handler reads the
// order's current facts from the source contexts (Source: the order and payment contexts, in
// the handler's transaction), replaces the order's row in analytics.orders, and recomputes the
// rollups of exactly the shop-days the order touched before and after. A repeated event
// recomputes the same thing; a late one reads the present, not the past it describes; two
// events of one shop are serialised by an advisory lock, taken before the facts are read again.
// No event payload is trusted for a figure, so no list of applied event IDs is needed, and
// `goshop analytics rebuild` is the same computation run over every order.
//
// Which day counts: a sale counts on the day it was paid (cash on delivery: the day it was
// delivered); a cancelled order never is a sale; a refund subtracts on the day it went through
// (a cancelled order's refund subtracts nothing, its sale never counted); the platform's
// commission on the day the escrow was released. Days are cut in MARKETPLACE_TZ. Counts by status
// and the performance times are of the orders placed on the day.
package analytics

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Order is an order's facts as the source contexts answer them.
type Order struct {
	ID, ShopID, BuyerID uuid.UUID
	Status              events.OrderStatus
	PaymentMethod       events.PaymentMethod
	ShippingMethod      events.ShippingMethod
	Subtotal, Discount  int64
	ShippingFee, Total  int64
	Currency            string
	PlacedAt            time.Time
	PaidAt, ConfirmedAt *time.Time
	ShippedAt           *time.Time
	DeliveredAt         *time.Time
	CancelledAt         *time.Time
	ReturnedAt          *time.Time
	Lines               []Line
}

// Line is one line of an Order: revenue is its line total.
type Line struct {
	ProductID uuid.UUID
	Title     string
	Quantity  int32
	Revenue   int64
}

// Refund is money of an order that went back to the buyer.
type Refund struct {
	ID, OrderID uuid.UUID
	Amount      int64
	At          time.Time
}

// Release is an order's escrow released to its shop, with the platform's commission kept.
type Release struct {
	OrderID    uuid.UUID
	Commission int64
	At         time.Time
}

// Source reads orders and their money from the contexts that own them, in the caller's
// transaction (the order and payment contexts; internal/app wires it). The reads a refresh makes
// are queued on the caller's batch, so that they travel with its locks in one round trip.
type Source interface {
	// QueueOrders queues on b the reads of the orders of ids; done gets those that exist when b
	// is sent.
	QueueOrders(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID, done func([]Order, error) error)
	// OrdersAfter pages through every order by ID, for the rebuild.
	OrdersAfter(ctx context.Context, tx pgx.Tx, after uuid.UUID, limit int) ([]Order, error)
	// QueueMoney queues on b the reads of the settled refunds and the escrow releases of some
	// orders; done gets them when b is sent.
	QueueMoney(ctx context.Context, b *pgdb.Batch, orderIDs []uuid.UUID, done func([]Refund, []Release, error) error)
}

// Shops answers who owns a shop (the shop context); a missing shop is not found.
type Shops interface {
	ShopOwner(ctx context.Context, shopID uuid.UUID) (uuid.UUID, error)
}

// DailyView is one product's views on one marketplace day (YYYY-MM-DD).
type DailyView struct {
	Day       string
	ProductID uuid.UUID
	ShopID    uuid.UUID
	Views     int64
}

// Views reads the search context's daily view counts.
type Views interface {
	DailyViews(ctx context.Context, from, to time.Time) ([]DailyView, error)
}

// Ratings reads a shop's rating from the review context: its average and review count.
type Ratings interface {
	ShopRating(ctx context.Context, shopID uuid.UUID) (float64, int, error)
}

// LowStockItem is a variant at or below its low-stock threshold.
type LowStockItem struct {
	ProductID   uuid.UUID `json:"product_id"`
	VariantID   uuid.UUID `json:"variant_id"`
	Title       string    `json:"title"`
	VariantName string    `json:"variant_name"`
	SKU         string    `json:"sku"`
	Stock       int       `json:"stock"`
	Threshold   int       `json:"threshold"`
}

// Stock reads a shop's low-stock variants from the catalog, as the caller.
type Stock interface {
	LowStock(ctx context.Context, p auth.Principal, shopID uuid.UUID, limit int) ([]LowStockItem, error)
}

// Ports are what the analytics context reads of the others.
type Ports struct {
	Source  Source
	Shops   Shops
	Views   Views
	Ratings Ratings
	Stock   Stock
	// PromisedDays is how many days after pickup a shipping method promises delivery.
	PromisedDays func(events.ShippingMethod) int
}

// Config tunes the analytics context.
type Config struct {
	// Location is where the marketplace's days begin and end (MARKETPLACE_TZ).
	Location *time.Location
	// MaxRange is the longest date range a read may ask for, in days.
	MaxRange int
	// ViewsEvery is how often the search context's view counts are copied.
	ViewsEvery time.Duration
	// InlineRows is the most rows a report answers at once; a report of more is exported by a
	// River job into a file (ANALYTICS_EXPORT_INLINE_ROWS).
	InlineRows int
	// ExportTTL is how long an export's file is kept (ANALYTICS_EXPORT_TTL).
	ExportTTL time.Duration
	// ExportsPerUser is how many exports one user may have in progress at once.
	ExportsPerUser int
	// ExportWorkers is how many exports one process writes at once (each holds its file in
	// memory); the others wait for a slot.
	ExportWorkers int
}
