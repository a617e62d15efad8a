package breaker_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/breaker"
)

var (
	errDown   = errors.New("provider down")
	errAnswer = errors.New("card declined")
)

// provider fails with errDown while down is set, and counts the calls that reach it.
type provider struct {
	down  atomic.Bool
	calls atomic.Int64
}

func (p *provider) call() (string, error) {
	p.calls.Add(1)
	if p.down.Load() {
		return "", errDown
	}
	return "ok", nil
}

func TestBreakerOpensOnFailuresAndHealsByItself(t *testing.T) {
	t.Parallel()
	b := breaker.New("gw", breaker.Config{Failures: 3, OpenFor: 200 * time.Millisecond, Probes: 1},
		func(err error) bool { return errors.Is(err, errDown) })
	p := &provider{}

	// Answers that are not failures never open it, and a caller's cancellation does not count.
	for range 5 {
		_, err := breaker.Do(b, func() (string, error) { p.calls.Add(1); return "", errAnswer })
		require.ErrorIs(t, err, errAnswer)
		_, err = breaker.Do(b, func() (string, error) { return "", context.Canceled })
		require.ErrorIs(t, err, context.Canceled)
	}
	assert.Equal(t, 0, b.State())

	p.down.Store(true)
	for range 3 {
		_, err := breaker.Do(b, p.call)
		require.ErrorIs(t, err, errDown)
	}
	reached := p.calls.Load()
	for range 10 {
		_, err := breaker.Do(b, p.call)
		require.ErrorIs(t, err, breaker.ErrOpen, "an open breaker answers at once")
		var open *breaker.OpenError
		require.ErrorAs(t, err, &open)
		assert.Equal(t, "gw", open.Name)
		assert.GreaterOrEqual(t, open.RetryAfter, time.Second, "Retry-After counts whole seconds")
	}
	assert.Equal(t, reached, p.calls.Load(), "no call reached the provider while open")
	assert.Equal(t, 2, b.State())

	// Still down when the breaker half-opens: its probe fails and it opens again.
	require.Eventually(t, func() bool { _, err := breaker.Do(b, p.call); return errors.Is(err, errDown) },
		5*time.Second, 20*time.Millisecond, "after OpenFor a probe reaches the provider")
	_, err := breaker.Do(b, p.call)
	require.ErrorIs(t, err, breaker.ErrOpen, "a failed probe opens it again")

	// Healed: the next probe succeeds and closes it.
	p.down.Store(false)
	require.Eventually(t, func() bool { v, err := breaker.Do(b, p.call); return err == nil && v == "ok" },
		5*time.Second, 20*time.Millisecond)
	assert.Equal(t, 0, b.State())
	for range 5 {
		v, err := breaker.Do(b, p.call)
		require.NoError(t, err)
		assert.Equal(t, "ok", v)
	}
}

func TestNilBreakerLetsEverythingThrough(t *testing.T) {
	t.Parallel()
	var b *breaker.Breaker
	p := &provider{}
	p.down.Store(true)
	for range 10 {
		_, err := breaker.Do(b, p.call)
		require.ErrorIs(t, err, errDown)
	}
	assert.EqualValues(t, 10, p.calls.Load())
}
