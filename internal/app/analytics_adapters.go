package app

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/analytics"
	"github.com/goshop/goshop/internal/catalog"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/order"
	"github.com/goshop/goshop/internal/payment"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/review"
	"github.com/goshop/goshop/internal/search"
	"github.com/goshop/goshop/internal/shipping/geo"
)

// The adapters below serve the analytics context from the order, payment, search, review and
// catalog contexts (kept apart from adapters.go: they are one context's).

// analyticsSource reads orders from the order context and their money from the payment context.
type analyticsSource struct {
	orders   *order.Service
	payments *payment.Service
}

func (a analyticsSource) QueueOrders(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID, done func([]analytics.Order, error) error) {
	a.orders.QueueFacts(ctx, b, ids, func(f []order.Fact, err error) error { return done(analyticsOrders(f), err) })
}

func (a analyticsSource) OrdersAfter(ctx context.Context, tx pgx.Tx, after uuid.UUID, limit int) ([]analytics.Order, error) {
	f, err := a.orders.FactsAfter(ctx, tx, after, limit)
	return analyticsOrders(f), err
}

func (a analyticsSource) QueueMoney(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID, done func([]analytics.Refund, []analytics.Release, error) error) {
	a.payments.QueueMoneyFacts(ctx, b, ids, func(refunds []payment.RefundFact, releases []payment.ReleaseFact, err error) error {
		if err != nil {
			return done(nil, nil, err)
		}
		rf := make([]analytics.Refund, len(refunds))
		for i, r := range refunds {
			rf[i] = analytics.Refund{ID: r.ID, OrderID: r.OrderID, Amount: r.Amount, At: r.At}
		}
		rl := make([]analytics.Release, len(releases))
		for i, r := range releases {
			rl[i] = analytics.Release{OrderID: r.OrderID, Commission: r.Commission, At: r.At}
		}
		return done(rf, rl, nil)
	})
}

func analyticsOrders(facts []order.Fact) []analytics.Order {
	out := make([]analytics.Order, len(facts))
	for i, f := range facts {
		o := analytics.Order{ID: f.ID, ShopID: f.ShopID, BuyerID: f.BuyerID, Status: f.Status, PaymentMethod: f.PaymentMethod,
			ShippingMethod: f.ShippingMethod, Subtotal: f.Subtotal, Discount: f.Discount, ShippingFee: f.ShippingFee,
			Total: f.Total, Currency: f.Currency, PlacedAt: f.CreatedAt, PaidAt: f.PaidAt, ConfirmedAt: f.ConfirmedAt,
			ShippedAt: f.ShippedAt, DeliveredAt: f.DeliveredAt, CancelledAt: f.CancelledAt, ReturnedAt: f.ReturnedAt}
		for _, l := range f.Lines {
			o.Lines = append(o.Lines, analytics.Line{ProductID: l.ProductID, Title: l.Title, Quantity: l.Quantity, Revenue: l.LineTotal})
		}
		out[i] = o
	}
	return out
}

// analyticsViews reads the search context's daily view counts.
type analyticsViews struct{ s *search.Service }

func (a analyticsViews) DailyViews(ctx context.Context, from, to time.Time) ([]analytics.DailyView, error) {
	views, err := a.s.DailyViews(ctx, from, to)
	out := make([]analytics.DailyView, len(views))
	for i, v := range views {
		out[i] = analytics.DailyView{Day: v.Day, ProductID: v.ProductID, ShopID: v.ShopID, Views: v.Views}
	}
	return out, err
}

// analyticsRatings reads a shop's rating from the review context.
type analyticsRatings struct{ s *review.Service }

func (a analyticsRatings) ShopRating(ctx context.Context, shopID uuid.UUID) (float64, int, error) {
	r, err := a.s.ShopRating(ctx, shopID)
	return r.Average, r.Count, err
}

// analyticsStock reads a shop's low-stock variants from the catalog, as the caller.
type analyticsStock struct{ s *catalog.Service }

func (a analyticsStock) LowStock(ctx context.Context, p auth.Principal, shopID uuid.UUID, limit int) ([]analytics.LowStockItem, error) {
	l, err := a.s.LowStock(ctx, p, &shopID, httpx.Page{Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]analytics.LowStockItem, len(l.Items))
	for i, it := range l.Items {
		out[i] = analytics.LowStockItem{ProductID: it.ProductID, VariantID: it.VariantID, Title: it.Title,
			VariantName: it.VariantName, SKU: it.SKU, Stock: it.Stock, Threshold: it.LowStockThreshold}
	}
	return out, nil
}

// promisedDays answers the longest delivery a shipping method promises after pickup.
func promisedDays(fees geo.FeeConfig) func(events.ShippingMethod) int {
	return func(m events.ShippingMethod) int {
		d := fees.Methods[m].Days
		return max(d.SameProvince, d.Regional, d.LongHaul)
	}
}
