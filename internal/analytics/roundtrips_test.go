package analytics_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// TestRecordRoundTrips: recording orders' facts, what every delivery of an event naming them
// does, takes two round trips to PostgreSQL, for one order or two, with a refund or without:
// BEGIN with the orders' locks, the days they touched and the facts read from the order and
// payment contexts, then the writes with COMMIT (it was eight: the facts were read one statement
// after another, each alone). It still writes each order once, with its line and its refund,
// and a checkout's orders take one statement a table (and one for their locks), not one each.
func TestRecordRoundTrips(t *testing.T) {
	t.Parallel()
	var rt pgdb.RoundTrips
	log := &apptest.SQLLog{}
	m := newMarket(t, apptest.WithRoundTrips(&rt), apptest.WithSQLLog(log))
	e := m.env
	ctx := t.Context()
	placed := uuid.MustParse(e.CheckoutCOD(t, m.buyer, m.addr, m.product.ID, 2))
	refunded := uuid.MustParse(m.cardOrder(t, 1))
	other := e.CreateProduct(t, m.other, m.otherShop, "Khăn lụa", 150_000, 1000)
	_, pair := e.CheckoutCODCart(t, m.buyer, m.addr, m.product.ID, other.ID)
	require.Len(t, pair, 2, "an order a shop")
	two := []uuid.UUID{uuid.MustParse(pair[0]), uuid.MustParse(pair[1])}
	res := e.Put(t, "/orders/"+refunded.String()+"/cancel", m.buyer.AccessToken, map[string]any{"reason": "changed my mind"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	apptest.Eventually(t, func() bool {
		var n int
		require.NoError(t, e.App.Pool.QueryRow(ctx, `SELECT count(*) FROM payment.refunds WHERE order_id = $1 AND status = 'succeeded'`,
			refunded).Scan(&n))
		return n == 1
	}, "the cancelled order's payment refunded")

	// With the workers stopped, nothing else uses the pool, and one record after another takes
	// the same idle connections, whose statement caches the warm-up fills, as a running server's are.
	e.Quiet(t)
	count := func(t *testing.T, ids ...uuid.UUID) {
		for range 3 {
			require.NoError(t, e.App.Analytics.Record(ctx, ids...))
		}
		log.Start()
		before := rt.N()
		require.NoError(t, e.App.Analytics.Record(ctx, ids...))
		n := rt.N() - before
		t.Logf("round trips: %d, statements: %d", n, log.Statements())
		if !assert.LessOrEqual(t, n, int64(2), "BEGIN with the locks and every read, then the writes with COMMIT") {
			log.Show(t)
		}
	}
	written := func(t *testing.T, table string, id uuid.UUID) int {
		var n int
		require.NoError(t, e.App.Pool.QueryRow(ctx, `SELECT count(*) FROM analytics.`+table+` WHERE order_id = $1`, id).Scan(&n))
		return n
	}
	t.Run("a placed order", func(t *testing.T) {
		count(t, placed)
		assert.Equal(t, 1, written(t, "order_lines", placed), "its line")
	})
	t.Run("a cancelled order, its payment refunded", func(t *testing.T) {
		count(t, refunded)
		assert.Equal(t, 1, written(t, "refunds", refunded), "its refund")
		assert.Equal(t, 1, log.Named("InsertRefunds"), "its refund in one statement")
	})
	t.Run("a checkout's orders at once", func(t *testing.T) {
		count(t, placed, refunded)
		assert.Equal(t, 1, written(t, "orders", placed))
		assert.Equal(t, 1, written(t, "orders", refunded))
	})
	t.Run("a checkout's two orders, one statement a table", func(t *testing.T) {
		count(t, two...)
		for _, id := range two {
			assert.Equal(t, 1, written(t, "orders", id))
			assert.Equal(t, 1, written(t, "order_lines", id), "its line")
		}
		assert.Equal(t, 1, log.Named("LockKeys"), "both locks in one statement")
		assert.Zero(t, log.Named("Lock"), "not one an order")
		assert.Equal(t, 1, log.Named("InsertOrders"), "both orders in one statement")
		assert.Equal(t, 1, log.Named("InsertLines"), "both lines in one statement")
		assert.Zero(t, log.Named("InsertRefunds"), "no refunds, no statement")
		if t.Failed() {
			log.Show(t)
		}
	})
}
