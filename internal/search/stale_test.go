package search_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// TestSalesOfABusyProductAreIndexedOnce: sales mark their products stale and whoever holds the
// refresher's lock re-indexes them. While another transaction holds it, the sales' jobs leave
// their marks and end; once it is let go, the sweep writes the product's document once for all
// of them, with every sale counted.
func TestSalesOfABusyProductAreIndexedOnce(t *testing.T) {
	t.Parallel()
	sql := &apptest.SQLLog{}
	w := newWorld(t, apptest.WithSQLLog(sql))
	ctx := context.Background()
	id := w.product(t, "hot", w.hcm, map[string]any{"title": "Nồi chiên không dầu", "price": 900_000, "stock": 10})
	w.until(t, id, "indexed", func(h hit, ok bool) bool { return ok && h.SoldCount == 0 })

	stale := func() int {
		var n int
		require.NoError(t, w.App.Pool.QueryRow(ctx, "SELECT count(*) FROM search.stale_products WHERE product_id = $1", id).Scan(&n))
		return n
	}
	holder, err := w.App.Pool.Begin(ctx)
	require.NoError(t, err)
	defer holder.Rollback(ctx) //nolint:errcheck // committed below; a failed test only rolls back
	_, err = holder.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('search.stale', 0))")
	require.NoError(t, err)

	t.Run("held: the sales leave their marks", func(t *testing.T) {
		for range 3 {
			buyer := w.Register(t, "Buyer")
			w.CheckoutCOD(t, buyer, w.CreateAddress(t, buyer), id, 1)
		}
		apptest.Eventually(t, func() bool { return stale() >= 3 }, "three sales marked")
		h, ok := w.find(t, id)
		require.True(t, ok)
		assert.Zero(t, h.SoldCount, "nothing re-indexed while the lock is held")
	})
	t.Run("let go: one write for all of them", func(t *testing.T) {
		sql.Start()
		require.NoError(t, holder.Commit(ctx))
		w.until(t, id, "three sold", func(h hit, ok bool) bool { return ok && h.SoldCount == 3 })
		apptest.Eventually(t, func() bool { return stale() == 0 }, "the marks taken")
		assert.Equal(t, 1, sql.Count("name: UpsertDocument"), "one document write for three sales")
	})
}

// TestACheckoutsSalesAreRecordedInOneStatement: a checkout's orders, one a shop, reach search in
// one delivery, whose sales (one row an order and product) are written in one statement whatever
// the cart; they were one statement a row.
func TestACheckoutsSalesAreRecordedInOneStatement(t *testing.T) {
	t.Parallel()
	sql := &apptest.SQLLog{}
	w := newWorld(t, apptest.WithSQLLog(sql))
	ctx := context.Background()
	cooker := w.product(t, "cooker", w.hcm, map[string]any{"title": "Nồi cơm điện", "price": 900_000})
	kettle := w.product(t, "kettle", w.hcm, map[string]any{"title": "Ấm siêu tốc", "price": 300_000})
	fan := w.product(t, "fan", w.hanoi, map[string]any{"title": "Quạt đứng", "price": 500_000})
	buyer := w.Register(t, "Buyer")
	addr := w.CreateAddress(t, buyer)

	sql.Start()
	checkout, orders := w.CheckoutCODCart(t, buyer, addr, cooker, kettle, fan)
	require.Len(t, orders, 2, "an order a shop")
	apptest.Eventually(t, func() bool {
		var n int
		require.NoError(t, w.App.Pool.QueryRow(ctx, "SELECT count(*) FROM search.sales WHERE checkout_id = $1 AND buyer_id = $2",
			checkout, buyer.ID).Scan(&n))
		return n == 3
	}, "the three sales recorded, with their buyer")
	if !assert.Equal(t, 1, sql.Named("RecordSales"), "one statement for the checkout's sales") {
		sql.Show(t)
	}
}
