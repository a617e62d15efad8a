package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// lockedBuffer collects the app's log lines, written from request goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestFailedQueryLogNamesIt breaks a table of the test's own database: the request answers a
// bare 500, and the log, through the app's logger, says which context and which query failed.
func TestFailedQueryLogNamesIt(t *testing.T) {
	t.Parallel()
	var log lockedBuffer
	env := apptest.New(t, apptest.WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelError}))))
	buyer := env.Register(t, "Broken Buyer")
	_, err := env.App.Pool.Exec(context.Background(), "ALTER TABLE orders.orders RENAME COLUMN total TO total_gone")
	require.NoError(t, err)

	res := env.Get(t, "/orders/history/summary", buyer.AccessToken)
	require.Equal(t, http.StatusInternalServerError, res.Status, "%s", res.Body)
	assert.NotContains(t, string(res.Body), "total", "the client sees no internals")
	// The text handler quotes the error, so its own quotes come escaped.
	assert.Contains(t, log.String(), `err="order: BuyerSummary: ERROR: column \"total\" does not exist`)
	assert.Contains(t, log.String(), "path=/api/v1/orders/history/summary")
}
