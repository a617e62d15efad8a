package pgdb_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// TestRoundTripsCountWhatTheWireCarries: a query is one round trip, a pipelined batch of three
// is one, a transaction's BEGIN and COMMIT are one each.
func TestRoundTripsCountWhatTheWireCarries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, rt := countedPool(t)
	var one int
	require.NoError(t, pool.QueryRow(ctx, "SELECT 1").Scan(&one)) // warms the connection and its statement cache

	count := func(f func()) int64 {
		before := rt.N()
		f()
		return rt.N() - before
	}
	assert.EqualValues(t, 1, count(func() { require.NoError(t, pool.QueryRow(ctx, "SELECT 1").Scan(&one)) }))
	assert.EqualValues(t, 1, count(func() {
		b := &pgx.Batch{}
		for range 3 {
			b.Queue("SELECT 1")
		}
		require.NoError(t, pool.SendBatch(ctx, b).Close())
	}))
	assert.EqualValues(t, 3, count(func() {
		tx, err := pool.Begin(ctx)
		require.NoError(t, err)
		require.NoError(t, tx.QueryRow(ctx, "SELECT 1").Scan(&one))
		require.NoError(t, tx.Commit(ctx))
	}))
}

// countedPool is a one-connection pool on a database of the test's own, whose round trips rt
// counts.
func countedPool(t *testing.T) (*pgxpool.Pool, *pgdb.RoundTrips) {
	t.Helper()
	rt := &pgdb.RoundTrips{}
	pool, err := pgdb.Open(context.Background(), testdb.New(t), 1, func(c *pgxpool.Config) { c.ConnConfig.DialFunc = rt.Dial })
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool, rt
}
