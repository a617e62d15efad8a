package analytics

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// TestRebuildTime measures a rebuild over ANALYTICS_REBUILD_ORDERS orders of one shop (skipped
// when unset), spread over a year, every one delivered and paid, from an in-memory source: the
// analytics side of `goshop analytics rebuild`. It checks the rollups hold every sale.
func TestRebuildTime(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ANALYTICS_REBUILD_ORDERS"))
	if n <= 0 {
		t.Skip("ANALYTICS_REBUILD_ORDERS is not set")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.New(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	w := &world{orders: map[uuid.UUID]*Order{}, releases: map[uuid.UUID]Release{}}
	shop := uuid.New()
	products := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	start := time.Date(2025, 12, 1, 3, 0, 0, 0, time.UTC)
	for i := range n {
		at := start.Add(time.Duration(i) * 365 * 24 * time.Hour / time.Duration(n))
		paid, done := at.Add(time.Minute), at.Add(26*time.Hour)
		o := &Order{ID: uuid.New(), ShopID: shop, BuyerID: uuid.New(), Status: events.OrderDelivered, PaymentMethod: events.MethodCard,
			ShippingMethod: events.ShippingStandard, Subtotal: 200_000, Total: 215_000, Currency: "VND", PlacedAt: at,
			PaidAt: &paid, ConfirmedAt: &paid, ShippedAt: &paid, DeliveredAt: &done,
			Lines: []Line{{ProductID: products[i%4], Title: "Áo dài", Quantity: 2, Revenue: 200_000}}}
		w.orders[o.ID] = o
	}
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	require.NoError(t, err)
	s := NewService(context.Background(), pool, nil, nil, Ports{Source: w, Views: noViews{}, PromisedDays: promised}, Config{Location: loc})
	began := time.Now()
	got, err := s.Rebuild(ctx, nil)
	require.NoError(t, err)
	t.Logf("rebuild of %d orders: %s", got, time.Since(began).Round(time.Millisecond))
	rows, err := s.q.AllShopDays(ctx, []uuid.UUID{shop})
	require.NoError(t, err)
	var sales int64
	for _, r := range rows {
		sales += int64(r.Sales)
	}
	require.Equal(t, int64(n), sales)
}
