package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/auth"
)

// TestRevocationsReachEveryProcess: two processes' revocation sets on one Redis; a session
// revoked by one is refused by the other within moments and by itself at once, and a process
// whose subscription is not up asks Redis.
func TestRevocationsReachEveryProcess(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	t.Cleanup(func() { rdb.Close() })
	prefix := "goshop-test-rev:" + uuid.NewString()[:8] + ":"
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	early := uuid.New()
	a := auth.NewRevocations(rdb, prefix, time.Minute)
	require.NoError(t, a.Revoke(ctx, early)) // made before b starts: b loads it
	b := auth.NewRevocations(rdb, prefix, time.Minute)
	go a.Run(ctx)
	go b.Run(ctx)
	require.Eventually(t, func() bool { return a.Synced() && b.Synced() }, 5*time.Second, 10*time.Millisecond)

	revoked, err := b.IsRevoked(ctx, early)
	require.NoError(t, err)
	assert.True(t, revoked, "loaded at subscription")

	s := uuid.New()
	require.NoError(t, a.Revoke(ctx, s))
	revoked, _ = a.IsRevoked(ctx, s)
	assert.True(t, revoked, "at once where it was revoked")
	require.Eventually(t, func() bool { r, _ := b.IsRevoked(ctx, s); return r }, 5*time.Second, 5*time.Millisecond)
	live, _ := b.IsRevoked(ctx, uuid.New())
	assert.False(t, live)

	// Not running: every check goes to Redis.
	c := auth.NewRevocations(rdb, prefix, time.Minute)
	revoked, err = c.IsRevoked(ctx, s)
	require.NoError(t, err)
	assert.True(t, revoked)
	live, _ = c.IsRevoked(ctx, uuid.New())
	assert.False(t, live)

	iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}
