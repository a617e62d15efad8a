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
