package catalog_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app"
	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/catalog"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

func TestInventory(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		low []events.LowStock
	)
	w := newWorld(t, apptest.WithHook(func(a *app.App) {
		eventbus.On(a.Bus, "test.low_stock", func(_ context.Context, _ string, ev events.LowStock) error {
			mu.Lock()
			defer mu.Unlock()
			low = append(low, ev)
			return nil
		})
	}))
	p := w.product(t, map[string]any{"title": "Bình giữ nhiệt", "low_stock_threshold": 3, "variants": []map[string]any{
		{"sku": "BGN-500", "name": "500ml", "price": 250000, "stock": 10}, {"sku": "BGN-750", "name": "750ml", "price": 290000, "stock": 2},
	}})
	id, v500, v750 := p["id"].(string), variantID(p, 0), variantID(p, 1)
	inv := "/products/" + id + "/inventory"

	res := w.Get(t, inv, w.owner.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	got := res.Map(t)
	assert.EqualValues(t, 12, got["stock"])
	assert.EqualValues(t, 3, got["low_stock_threshold"])
	assert.Len(t, got["movements"], 2, "opening stock is recorded")
	assert.Equal(t, true, got["variants"].([]any)[1].(map[string]any)["low_stock"])
	res = w.Get(t, inv, w.other.AccessToken)
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.Equal(t, "only the shop's owner may see its inventory", res.Map(t)["detail"], "the refusal names what was refused")
	assert.Equal(t, http.StatusUnauthorized, w.Get(t, inv, "").Status)
	assert.Equal(t, http.StatusOK, w.Get(t, inv, w.admin.AccessToken).Status)

	// Adjustments: a signed delta with a reason; never below zero.
	adj := "/products/" + id + "/inventory/adjustment"
	res = w.Post(t, adj, w.owner.AccessToken, map[string]any{"variant_id": v500, "delta": -6, "reason": "bán tại cửa hàng"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	m := res.Map(t)
	assert.EqualValues(t, -6, m["delta"])
	assert.EqualValues(t, 4, m["stock"])
	assert.Equal(t, "adjustment", m["kind"])
	assert.Equal(t, w.owner.ID, m["actor_id"])
	res = w.Post(t, adj, w.owner.AccessToken, map[string]any{"variant_id": v500, "delta": -5, "reason": "oops"})
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Equal(t, "insufficient_stock", res.Code(t))
	res = w.Post(t, adj, w.owner.AccessToken, map[string]any{"variant_id": v500, "delta": -1, "reason": "hỏng"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	apptest.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(low) == 1 }, "falling to the threshold is announced")
	mu.Lock()
	assert.Equal(t, v500, low[0].VariantID)
	assert.Equal(t, 3, low[0].Stock)
	mu.Unlock()
	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"no delta":       {map[string]any{"variant_id": v500, "reason": "x"}, "delta"},
		"no reason":      {map[string]any{"variant_id": v500, "delta": 1}, "reason"},
		"blank reason":   {map[string]any{"variant_id": v500, "delta": 1, "reason": " "}, "reason"},
		"which variant":  {map[string]any{"delta": 1, "reason": "x"}, "variant_id"},
		"other variant":  {map[string]any{"variant_id": uuid.NewString(), "delta": 1, "reason": "x"}, "variant_id"},
		"delta type":     {map[string]any{"variant_id": v500, "delta": "1", "reason": "x"}, "delta"},
		"delta too big":  {map[string]any{"variant_id": v500, "delta": 2_000_000_000, "reason": "x"}, "delta"},
		"variant not id": {map[string]any{"variant_id": 5, "delta": 1, "reason": "x"}, "variant_id"},
	} {
		assert.Equal(t, c.field, field(t, w.Post(t, adj, w.owner.AccessToken, c.body)), name)
	}
	assert.Equal(t, http.StatusBadRequest, w.Post(t, adj, w.owner.AccessToken, "{").Status)
	assert.Equal(t, http.StatusForbidden, w.Post(t, adj, w.other.AccessToken, map[string]any{"variant_id": v500, "delta": 1, "reason": "x"}).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Post(t, adj, "", map[string]any{"variant_id": v500, "delta": 1, "reason": "x"}).Status)

	// Setting stock records the difference; the threshold is per product.
	res = w.Put(t, inv, w.owner.AccessToken, map[string]any{"variant_id": v750, "stock": 40, "low_stock_threshold": 5, "reason": "kiểm kho"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	got = res.Map(t)
	assert.EqualValues(t, 43, got["stock"])
	assert.EqualValues(t, 5, got["low_stock_threshold"])
	first := got["movements"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 38, first["delta"])
	assert.Equal(t, "set", first["kind"])
	assert.Equal(t, "kiểm kho", first["reason"])
	res = w.Put(t, "/shops/"+w.shop+"/products/"+id+"/inventory", w.owner.AccessToken, map[string]any{"variant_id": v750, "stock": 41})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.EqualValues(t, 44, res.Map(t)["stock"])
	assert.Equal(t, "stock", field(t, w.Put(t, inv, w.owner.AccessToken, map[string]any{"variant_id": v750})))
	assert.Equal(t, "stock", field(t, w.Put(t, inv, w.owner.AccessToken, map[string]any{"variant_id": v750, "stock": -1})))
	assert.Equal(t, "variant_id", field(t, w.Put(t, inv, w.owner.AccessToken, map[string]any{"stock": 1})))
	assert.Equal(t, http.StatusBadRequest, w.Put(t, inv, w.owner.AccessToken, "[").Status)
	assert.Equal(t, http.StatusForbidden, w.Put(t, inv, w.other.AccessToken, map[string]any{"variant_id": v750, "stock": 1}).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Put(t, inv, "", map[string]any{"variant_id": v750, "stock": 1}).Status)
	assert.Equal(t, http.StatusNotFound, w.Put(t, "/shops/"+w.openShop(t, w.other, "B")+"/products/"+id+"/inventory",
		w.other.AccessToken, map[string]any{"variant_id": v750, "stock": 1}).Status)

	// Low-stock and inventory listings: the owner's and admins', lowest stock first.
	single := w.product(t, map[string]any{"title": "Ly sứ", "price": 30000, "stock": 0})
	for _, u := range []string{"/products/low-stock?shop_id=" + w.shop, "/shops/" + w.shop + "/products/low-stock"} {
		low := items(t, w.Get(t, u, w.owner.AccessToken))
		require.Len(t, low, 2, u)
		assert.Equal(t, single["id"], low[0]["product_id"], u)
		assert.Equal(t, v500, low[1]["variant_id"], u)
		assert.EqualValues(t, 3, low[1]["stock"], u)
		assert.Equal(t, http.StatusForbidden, w.Get(t, u, w.other.AccessToken).Status, u)
		assert.Equal(t, http.StatusUnauthorized, w.Get(t, u, "").Status, u)
	}
	assert.Len(t, items(t, w.Get(t, "/products/low-stock", w.admin.AccessToken)), 2, "admins see every shop's")
	assert.Equal(t, "shop_id", field(t, w.Get(t, "/products/low-stock", w.owner.AccessToken)))
	assert.Equal(t, "shop_id", field(t, w.Get(t, "/products/low-stock?shop_id=x", w.owner.AccessToken)))
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/low-stock?shop_id="+uuid.NewString(), w.owner.AccessToken).Status)
	stock := w.Get(t, "/shops/"+w.shop+"/products/inventory?limit=2", w.owner.AccessToken).Map(t)
	require.Len(t, stock["items"], 2)
	rest := items(t, w.Get(t, "/shops/"+w.shop+"/products/inventory?limit=2&cursor="+stock["next_cursor"].(string), w.owner.AccessToken))
	require.Len(t, rest, 1)
	assert.EqualValues(t, 41, rest[0]["stock"])
	assert.Equal(t, http.StatusForbidden, w.Get(t, "/shops/"+w.shop+"/products/inventory", w.other.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Get(t, "/shops/"+w.shop+"/products/inventory", "").Status)
	assert.Equal(t, "limit", field(t, w.Get(t, "/shops/"+w.shop+"/products/inventory?limit=0", w.owner.AccessToken)))
}

// race runs n calls of fn at once and counts those that succeeded and those refused for want
// of stock; any other failure fails the test.
func race(t *testing.T, n int, fn func(i int) error) (ok, short int) {
	var oks, shorts atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			switch err := fn(i); {
			case err == nil:
				oks.Add(1)
			case apperr.Is(err, apperr.InsufficientStock):
				shorts.Add(1)
			default:
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	return int(oks.Load()), int(shorts.Load())
}

// TestConcurrentAdjustments: thirty sellers' clerks take one each from a stock of ten at once;
// ten succeed, the rest are refused, and the stock ends at zero, never below.
func TestConcurrentAdjustments(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := w.product(t, productBody("Bánh trung thu", 120000))
	id := uuid.MustParse(p["id"].(string))
	owner := principalOf(w.owner)

	ok, short := race(t, 30, func(int) error {
		_, err := w.App.Catalog.Adjust(context.Background(), owner, id, catalog.AdjustmentInput{Delta: -1, Reason: "bán lẻ"})
		return err
	})
	assert.Equal(t, 10, ok)
	assert.Equal(t, 20, short)
	got := w.Get(t, "/products/"+p["id"].(string), "").Map(t)
	assert.EqualValues(t, 0, got["stock"])
	var moves int
	require.NoError(t, w.App.Pool.QueryRow(t.Context(), "SELECT count(*) FROM catalog.stock_movements WHERE kind = 'adjustment'").Scan(&moves))
	assert.Equal(t, 10, moves)
}

// TestReserveStockConcurrently: fifty checkouts each reserve one of ten in their own
// transactions; exactly ten get one.
func TestReserveStockConcurrently(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := w.product(t, productBody("iPhone", 30_000_000))
	vid := uuid.MustParse(variantID(p, 0))
	ctx := context.Background()

	ok, short := race(t, 50, func(i int) error {
		return pgdb.WithTx(ctx, w.App.Pool, func(tx pgx.Tx) error {
			return w.App.Catalog.ReserveStock(ctx, tx, []catalog.StockLine{{VariantID: vid, Quantity: 1, Ref: path("order %d", i)}})
		})
	})
	assert.Equal(t, 10, ok)
	assert.Equal(t, 40, short)
	snap, err := w.App.Catalog.VariantSnapshot(ctx, vid)
	require.NoError(t, err)
	assert.Equal(t, 0, snap.Stock)
}

func TestReserveAndReleaseStock(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.product(t, productBody("Sạc dự phòng", 450000))
	b := w.product(t, map[string]any{"title": "Cáp sạc", "price": 90000, "stock": 3, "weight_grams": 40})
	va, vb := uuid.MustParse(variantID(a, 0)), uuid.MustParse(variantID(b, 0))
	ctx := context.Background()
	stockOf := func(v uuid.UUID) int {
		s, err := w.App.Catalog.VariantSnapshot(ctx, v)
		require.NoError(t, err)
		return s.Stock
	}

	// All or nothing, and the caller's transaction stays usable after a refusal.
	err := pgdb.WithTx(ctx, w.App.Pool, func(tx pgx.Tx) error {
		err := w.App.Catalog.ReserveStock(ctx, tx, []catalog.StockLine{{VariantID: va, Quantity: 2}, {VariantID: vb, Quantity: 4}})
		require.True(t, apperr.Is(err, apperr.InsufficientStock), "%v", err)
		assert.Contains(t, err.Error(), vb.String(), "the error names the variant")
		_, err = tx.Exec(ctx, "SELECT 1")
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, 10, stockOf(va))
	assert.Equal(t, 3, stockOf(vb))

	// Lines of one variant add up.
	require.NoError(t, pgdb.WithTx(ctx, w.App.Pool, func(tx pgx.Tx) error {
		return w.App.Catalog.ReserveStock(ctx, tx, []catalog.StockLine{{VariantID: vb, Quantity: 1}, {VariantID: va, Quantity: 2}, {VariantID: vb, Quantity: 2}})
	}))
	assert.Equal(t, 8, stockOf(va))
	assert.Equal(t, 0, stockOf(vb))
	require.NoError(t, pgdb.WithTx(ctx, w.App.Pool, func(tx pgx.Tx) error {
		return w.App.Catalog.ReleaseStock(ctx, tx, []catalog.StockLine{{VariantID: vb, Quantity: 3, Ref: "order cancelled"}})
	}))
	assert.Equal(t, 3, stockOf(vb))

	err = pgdb.WithTx(ctx, w.App.Pool, func(tx pgx.Tx) error {
		return w.App.Catalog.ReserveStock(ctx, tx, []catalog.StockLine{{VariantID: uuid.New(), Quantity: 1}})
	})
	assert.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
	err = pgdb.WithTx(ctx, w.App.Pool, func(tx pgx.Tx) error {
		return w.App.Catalog.ReserveStock(ctx, tx, []catalog.StockLine{{VariantID: va, Quantity: 0}})
	})
	assert.True(t, apperr.Is(err, apperr.Invalid), "%v", err)

	// The snapshot checkout prices with, and the product's shop for promotions.
	snap, err := w.App.Catalog.VariantSnapshot(ctx, vb)
	require.NoError(t, err)
	assert.Equal(t, "Cáp sạc", snap.Title)
	assert.Equal(t, int64(90000), snap.UnitPrice)
	assert.Equal(t, "VND", snap.Currency)
	assert.Equal(t, 40, snap.WeightGrams)
	assert.Equal(t, w.shop, snap.ShopID.String())
	assert.True(t, snap.Purchasable)
	shop, err := w.App.Catalog.ProductShop(ctx, snap.ProductID)
	require.NoError(t, err)
	assert.Equal(t, w.shop, shop.String())
	require.Equal(t, http.StatusNoContent, w.Delete(t, "/products/"+b["id"].(string), w.owner.AccessToken).Status)
	snap, err = w.App.Catalog.VariantSnapshot(ctx, vb)
	require.NoError(t, err)
	assert.False(t, snap.Purchasable, "a deleted product's variant is not for sale")
	_, err = w.App.Catalog.ProductShop(ctx, snap.ProductID)
	assert.True(t, apperr.Is(err, apperr.NotFound))
	_, err = w.App.Catalog.VariantSnapshot(ctx, uuid.New())
	assert.True(t, apperr.Is(err, apperr.NotFound))
}
