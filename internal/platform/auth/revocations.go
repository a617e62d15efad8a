package auth

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Revocations remembers revoked sessions for as long as an access token of theirs could still
// be alive, so that logout and password changes take effect at once, not at expiry.
//
// Redis holds the truth (a key per revoked session, with a TTL) and announces each revocation on
// a pub/sub channel. Every process keeps the revoked set in memory, fed by that channel and
// reloaded whenever its subscription (re)starts, so that checking a request's session costs no
// round trip; while the subscription is down, checks ask Redis directly.
type Revocations struct {
	rdb     redis.UniversalClient
	prefix  string
	channel string
	ttl     time.Duration
	log     *slog.Logger

	mu     sync.RWMutex
	local  map[uuid.UUID]time.Time // session -> when its entry may be forgotten
	synced atomic.Bool
}

// NewRevocations stores revocations under prefix for ttl (the access-token lifetime).
func NewRevocations(rdb redis.UniversalClient, prefix string, ttl time.Duration) *Revocations {
	return &Revocations{rdb: rdb, prefix: prefix + "revoked_session:", channel: prefix + "revoked_sessions",
		ttl: ttl + time.Minute, log: slog.Default(), local: map[uuid.UUID]time.Time{}}
}

// Run keeps the in-memory set in step with Redis until ctx ends.
func (r *Revocations) Run(ctx context.Context) {
	ps := r.rdb.Subscribe(ctx, r.channel)
	defer ps.Close()
	for {
		msg, err := ps.Receive(ctx)
		if ctx.Err() != nil {
			r.synced.Store(false)
			return
		}
		if err != nil {
			// go-redis reconnects on the next Receive and confirms with a new Subscription.
			if r.synced.Swap(false) {
				r.log.Warn("session revocations: subscription lost; asking Redis until it is back", "err", err)
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			// Subscribed first, then loaded: a revocation made meanwhile arrives as a message.
			if err := r.reload(ctx); err != nil {
				r.log.Warn("session revocations: reload", "err", err)
				continue
			}
			r.synced.Store(true)
		case *redis.Message:
			if id, err := uuid.Parse(m.Payload); err == nil {
				r.remember(id)
			}
		}
	}
}

func (r *Revocations) reload(ctx context.Context) error {
	fresh := map[uuid.UUID]time.Time{}
	until := time.Now().Add(r.ttl)
	iter := r.rdb.Scan(ctx, 0, r.prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		if id, err := uuid.Parse(iter.Val()[len(r.prefix):]); err == nil {
			fresh[id] = until
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	r.local = fresh
	r.mu.Unlock()
	return nil
}

func (r *Revocations) remember(ids ...uuid.UUID) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, until := range r.local { // forget what no live token can carry any more
		if now.After(until) {
			delete(r.local, id)
		}
	}
	for _, id := range ids {
		r.local[id] = now.Add(r.ttl)
	}
}

// Revoke marks sessions revoked, here at once and in every other process within moments.
func (r *Revocations) Revoke(ctx context.Context, sessions ...uuid.UUID) error {
	if len(sessions) == 0 {
		return nil
	}
	r.remember(sessions...)
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, s := range sessions {
			p.Set(ctx, r.prefix+s.String(), 1, r.ttl)
			p.Publish(ctx, r.channel, s.String())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("auth: revoke: %w", err)
	}
	return nil
}

// IsRevoked reports whether session was revoked.
func (r *Revocations) IsRevoked(ctx context.Context, session uuid.UUID) (bool, error) {
	r.mu.RLock()
	_, revoked := r.local[session]
	r.mu.RUnlock()
	if revoked || r.synced.Load() {
		return revoked, nil
	}
	n, err := r.rdb.Exists(ctx, r.prefix+session.String()).Result()
	if err != nil {
		return false, fmt.Errorf("auth: revocation check: %w", err)
	}
	return n > 0, nil
}

// Synced reports whether checks are answered from memory (the subscription is up).
func (r *Revocations) Synced() bool { return r.synced.Load() }
