package settle_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/settle"
)

// passes is a Pass whose runs the test lets through one by one.
type passes struct {
	started chan struct{}
	results chan result
	runs    atomic.Int32
}

type result struct {
	found bool
	err   error
}

func newPasses() *passes {
	return &passes{started: make(chan struct{}), results: make(chan result)}
}

func (p *passes) pass(ctx context.Context) (bool, error) {
	p.runs.Add(1)
	p.started <- struct{}{}
	r := <-p.results
	return r.found, r.err
}

// next waits for a pass to start and ends it with r.
func (p *passes) next(r result) {
	<-p.started
	p.results <- r
}

// noMore fails when a pass starts in the next moment: with no kick waiting, none may.
func (p *passes) noMore(t *testing.T) {
	t.Helper()
	select {
	case <-p.started:
		t.Fatal("a pass ran without a kick")
	case <-time.After(50 * time.Millisecond):
	}
}

func run(t *testing.T, p *passes) *settle.Loop {
	t.Helper()
	l := settle.New("test", time.Millisecond, p.pass, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return l
}

func TestABurstOfKicksIsOnePassAndOneForWhatCameDuringIt(t *testing.T) {
	t.Parallel()
	p := newPasses()
	l := run(t, p)

	l.Kick()
	<-p.started
	for range 100 { // while the first pass runs
		l.Kick()
	}
	p.results <- result{found: false}
	p.next(result{found: false}) // the kicks that came during the pass get one more

	p.noMore(t)
	assert.EqualValues(t, 2, p.runs.Load())
}

func TestPassesGoOnWhileTheyFindWorkOrFail(t *testing.T) {
	t.Parallel()
	p := newPasses()
	l := run(t, p)

	l.Kick()
	p.next(result{found: true})
	p.next(result{err: errors.New("the database went away")})
	p.next(result{found: false})

	p.noMore(t)
	require.EqualValues(t, 3, p.runs.Load())
	l.Kick()
	p.next(result{found: false})
	assert.EqualValues(t, 4, p.runs.Load())
}

// TestALoopRestsOnlyWithNothingUnderWay: a loop is not resting while a kick waits, while a pass
// runs, or while passes find work; it rests once a pass found nothing.
func TestALoopRestsOnlyWithNothingUnderWay(t *testing.T) {
	t.Parallel()
	p := newPasses()
	l := run(t, p)
	assert.True(t, l.Resting(), "a loop that was never kicked rests")

	l.Kick()
	assert.False(t, l.Resting(), "a kick waits")
	<-p.started
	assert.False(t, l.Resting(), "a pass runs")
	p.results <- result{found: true}
	<-p.started
	assert.False(t, l.Resting(), "the pass after one that found work runs")
	p.results <- result{found: false}
	require.Eventually(t, l.Resting, 5*time.Second, time.Millisecond, "a pass found nothing")
	p.noMore(t)
}
