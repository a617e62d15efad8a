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
// after another, each alone). It still writes each order once, with its line and its refund.
func TestRecordRoundTrips(t *testing.T) {
	t.Parallel()
	var rt pgdb.RoundTrips
	log := &apptest.SQLLog{}
	m := newMarket(t, apptest.WithRoundTrips(&rt), apptest.WithSQLLog(log))
	e := m.env
	ctx := t.Context()
	placed := uuid.MustParse(e.CheckoutCOD(t, m.buyer, m.addr, m.product.ID, 2))
	refunded := uuid.MustParse(m.cardOrder(t, 1))
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
		t.Logf("round trips: %d", n)
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
	})
	t.Run("a checkout's orders at once", func(t *testing.T) {
		count(t, placed, refunded)
		assert.Equal(t, 1, written(t, "orders", placed))
		assert.Equal(t, 1, written(t, "orders", refunded))
	})
}
