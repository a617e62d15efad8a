// Package breaker puts circuit breakers (sony/gobreaker) around calls to outside providers:
// payment gateways, the geocoder, the router. After Config.Failures failures in a row a breaker
// opens: calls fail at once with an *OpenError (no request waits on a provider that is down, and
// none piles up against it) for Config.OpenFor; then it lets Config.Probes calls through
// (half-open), and closes again when they succeed, so an outage ends by itself.
package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// Config sets every breaker of the process (CIRCUIT_BREAKER_* in the configuration).
type Config struct {
	// Failures in a row that open the breaker.
	Failures uint32
	// OpenFor is how long an open breaker refuses calls before it tries again.
	OpenFor time.Duration
	// Probes is how many calls a half-open breaker lets through; all must succeed to close it.
	Probes uint32
}

// ErrOpen is what every *OpenError is (errors.Is).
var ErrOpen = errors.New("breaker: the provider is failing; calls are refused for now")

// OpenError refuses a call while the provider's breaker is open (or half-open and busy).
type OpenError struct {
	// Name is the provider's.
	Name string
	// RetryAfter is how long until the breaker lets a call through again (at least a second).
	RetryAfter time.Duration
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("breaker: %s is failing; calls are refused for %s", e.Name, e.RetryAfter)
}

// Is makes errors.Is(err, ErrOpen) true.
func (e *OpenError) Is(target error) bool { return target == ErrOpen }

// Breaker guards one provider. The zero value is not usable; a nil *Breaker lets every call
// through, so that a provider without one needs no special case.
type Breaker struct {
	name     string
	openFor  time.Duration
	cb       *gobreaker.CircuitBreaker[any]
	openedAt atomic.Int64 // unix nanoseconds of the last opening
}

// New makes the breaker of the named provider. failure tells which errors are the provider's
// failures (its outage, its 5xx, its timeout); other errors (a declined card, an address not
// found, bad input) are answers and count as successes. A caller's own cancellation counts as
// neither.
func New(name string, cfg Config, failure func(error) bool) *Breaker {
	b := &Breaker{name: name, openFor: cfg.OpenFor}
	b.cb = gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:        name,
		MaxRequests: max(cfg.Probes, 1),
		Timeout:     cfg.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= max(cfg.Failures, 1) },
		IsSuccessful: func(err error) bool {
			return err == nil || !failure(err)
		},
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				b.openedAt.Store(time.Now().UnixNano())
			}
		},
	})
	return b
}

// Name is the provider's name.
func (b *Breaker) Name() string { return b.name }

// State is the breaker's state: 0 closed, 1 half-open, 2 open (gobreaker's order, as the
// goshop_circuit_breaker_state gauge exports it).
func (b *Breaker) State() int { return int(b.cb.State()) }

// Do runs fn through b: at once with an *OpenError while b is open, otherwise fn's answer,
// which b counts.
func Do[T any](b *Breaker, fn func() (T, error)) (T, error) {
	if b == nil {
		return fn()
	}
	v, err := b.cb.Execute(func() (any, error) { return fn() })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		var zero T
		return zero, &OpenError{Name: b.name, RetryAfter: b.retryAfter()}
	}
	t, _ := v.(T)
	return t, err
}

// retryAfter is the time left until the open breaker lets a probe through, rounded up to a
// whole second (Retry-After counts seconds), at least one.
func (b *Breaker) retryAfter() time.Duration {
	left := time.Until(time.Unix(0, b.openedAt.Load()).Add(b.openFor))
	return max(left.Truncate(time.Second)+time.Second, time.Second)
}

// Collector exports the breakers' states as goshop_circuit_breaker_state{provider}: 0 closed,
// 1 half-open, 2 open.
func Collector(bs ...*Breaker) prometheus.Collector { return collector(bs) }

type collector []*Breaker

var stateDesc = prometheus.NewDesc("goshop_circuit_breaker_state",
	"Circuit breaker of each outside provider: 0 closed, 1 half-open (trying it again), 2 open (calls refused).",
	[]string{"provider"}, nil)

func (c collector) Describe(ch chan<- *prometheus.Desc) { ch <- stateDesc }

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, b := range c {
		ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, float64(b.State()), b.name)
	}
}
