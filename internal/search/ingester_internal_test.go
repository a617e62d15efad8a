package search

import (
	"context"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// A process holds at most its queue's worth of waiting events: past that, Record answers
// ErrBusy (503 with Retry-After) at once instead of holding the request.
func TestIngesterQueueIsBounded(t *testing.T) {
	t.Parallel()
	stopped, stop := context.WithCancel(context.Background())
	stop() // no batching loop: what is queued stays queued
	in := NewIngester(stopped, nil, time.UTC, 2, time.Millisecond, slog.Default())
	waiting, give := context.WithCancel(context.Background())
	defer give()
	done := make(chan error, 2)
	for range 2 {
		go func() {
			done <- in.Record(waiting, Event{Kind: KindSearch, Query: "x", QueryNorm: "x", At: time.Now()})
		}()
	}
	for len(in.queue) < 2 {
		runtime.Gosched()
	}
	err := in.Record(context.Background(), Event{Kind: KindSearch, Query: "y", QueryNorm: "y", At: time.Now()})
	require.ErrorIs(t, err, ErrBusy)
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, apperr.Unavailable, ae.Code)
	assert.Positive(t, ae.RetryAfter)
	give()
	for range 2 {
		assert.ErrorIs(t, <-done, context.Canceled, "a waiting request gives up with its own context")
	}
}

// Past MaxExactFacets the facets' total is the planner's estimate, read with the statement's
// own values (EXPLAIN of a parameterised statement).
func TestFacetEstimateReadsThePlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgdb.Open(ctx, testdb.New(t), 2)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = pool.Exec(ctx, `INSERT INTO search.documents (product_id, shop_id, title, price, list_price, created_at, source_at)
SELECT gen_random_uuid(), gen_random_uuid(), 'Sản phẩm ' || i, i, i, now(), now() FROM generate_series(1, 2000) AS i`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "ANALYZE search.documents")
	require.NoError(t, err)
	e := NewPostgres(pool)
	all, err := e.estimate(ctx, "SELECT 1 FROM search.documents d WHERE d.price >= $1", []any{int64(1)})
	require.NoError(t, err)
	few, err := e.estimate(ctx, "SELECT 1 FROM search.documents d WHERE d.price >= $1", []any{int64(1990)})
	require.NoError(t, err)
	assert.InDelta(t, 2000, all, 200)
	assert.Less(t, few, 100)
}
