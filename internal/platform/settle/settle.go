// Package settle runs deferred work a moment after the first request for it, so that one pass
// serves a burst of requests: search re-indexes a busy product once for a second's sales, and
// analytics recomputes a busy shop's day once for a second's orders, where each sale or order
// used to pay for its own pass.
//
// The work to do is recorded in the database by whoever asks (marks), not in the Loop: a pass
// reads the marks, so a process that dies before its pass loses nothing, and the sweep job of the
// context that owns the marks takes what a dead process left.
package settle

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Pass does the deferred work once and reports whether it found any: while it does, more may be
// coming (or another holder of the work may have left some), so the Loop looks again.
type Pass func(ctx context.Context) (found bool, err error)

// Loop runs a Pass wait after a Kick, and again every wait while passes find work. Its Run is
// one goroutine a process.
type Loop struct {
	name string
	wait time.Duration
	pass Pass
	log  *slog.Logger
	// kick holds at most one waiting request: a send never blocks, and the kicks of one moment
	// collapse into it.
	kick chan struct{}
	// kicks counts the kicks; settled is the count a pass that found nothing came after, read
	// when Run took its kick. They are equal when nothing is under way.
	kicks, settled atomic.Int64
}

// New returns a Loop that runs pass, under name in its logs, wait after it is kicked.
func New(name string, wait time.Duration, pass Pass, log *slog.Logger) *Loop {
	if log == nil {
		log = slog.Default()
	}
	return &Loop{name: name, wait: wait, pass: pass, log: log, kick: make(chan struct{}, 1)}
}

// Kick asks for a pass after the wait; it never blocks. A kick that comes while a pass runs gets
// a pass of its own after it, so work marked during a pass is never left behind.
func (l *Loop) Kick() {
	l.kicks.Add(1) // counted before it can be taken, so Resting never misses it
	select {
	case l.kick <- struct{}{}:
	default: // a kick is already waiting
	}
}

// Run runs passes until ctx ends. A pass that fails is logged and counts as finding work, so
// that the next one comes a wait later.
func (l *Loop) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.kick:
		}
		seen := l.kicks.Load()
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(l.wait):
			}
			found, err := l.pass(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				l.log.Error("settle: pass failed", "loop", l.name, "err", err)
				found = true
			}
			if !found {
				break
			}
		}
		l.settled.Store(seen)
	}
}

// Resting reports whether the Loop has nothing under way: every kick was followed by a pass that
// found nothing. The tests that count a request's round trips wait for it, so that no pass reads
// the database while they count.
func (l *Loop) Resting() bool { return l.settled.Load() == l.kicks.Load() }
