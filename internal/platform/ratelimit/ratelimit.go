// Package ratelimit limits requests per client with a GCRA limiter in Redis (redis_rate), so
// that every instance of the binary shares one budget per client.
package ratelimit

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// Limiter hands out per-route middleware sharing one Redis limiter.
type Limiter struct {
	l        *redis_rate.Limiter
	prefix   string
	disabled bool
}

// New returns a Limiter over rdb with keys under prefix; a disabled one lets everything pass
// (benchmarks use that, to measure the handler and not the limiter).
func New(rdb *redis.Client, prefix string, disabled bool) *Limiter {
	return &Limiter{l: redis_rate.NewLimiter(rdb), prefix: prefix + "rate:", disabled: disabled}
}

// PerMinute allows n requests a minute per client IP on the routes it wraps, under name.
func (l *Limiter) PerMinute(name string, n int) func(http.Handler) http.Handler {
	limit := redis_rate.PerMinute(n)
	return func(next http.Handler) http.Handler {
		if l.disabled {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			res, err := l.l.Allow(r.Context(), l.prefix+name+":"+clientIP(r), limit)
			if err != nil {
				// Failing open keeps sign-in working through a Redis blip; the limit is a guard
				// against abuse, not a correctness rule.
				slog.WarnContext(r.Context(), "rate limiter unavailable", "err", err)
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("RateLimit-Limit", strconv.Itoa(n))
			w.Header().Set("RateLimit-Remaining", strconv.Itoa(res.Remaining))
			if res.Allowed == 0 {
				httpx.Error(w, r, &apperr.Error{Code: apperr.TooManyRequests, Message: "too many requests, try again later",
					RetryAfter: max(res.RetryAfter, time.Second)})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Allow spends one of key's n a minute under name (a user, a device: whoever the caller is,
// which only the service knows), answering apperr.TooManyRequests with the wait when they are
// spent. A disabled Limiter, or Redis unreachable, allows.
func (l *Limiter) Allow(ctx context.Context, name, key string, n int) error {
	if l == nil || l.disabled || n <= 0 {
		return nil
	}
	res, err := l.l.Allow(ctx, l.prefix+name+":"+key, redis_rate.PerMinute(n))
	if err != nil {
		// Fail open, as PerMinute does: the limit guards against abuse, it is no correctness rule.
		slog.WarnContext(ctx, "rate limiter unavailable", "err", err)
		return nil
	}
	if res.Allowed == 0 {
		return &apperr.Error{Code: apperr.TooManyRequests, Message: "too many requests, try again later",
			RetryAfter: max(res.RetryAfter, time.Second)}
	}
	return nil
}

// clientIP is the peer address. Behind a proxy, chi's RealIP middleware (mounted only when
// TRUST_PROXY is set) has already replaced it with the forwarded client address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
