package eventbus_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/testdb"
)

type pinged struct {
	N int `json:"n"`
}

func (pinged) Topic() string { return "test.pinged" }

type ponged struct {
	N int `json:"n"`
}

func (ponged) Topic() string { return "test.ponged" }

type bundle struct {
	bus  *eventbus.Bus
	pool interface {
		Begin(context.Context) (pgx.Tx, error)
		QueryRow(context.Context, string, ...any) pgx.Row
	}
	mu       sync.Mutex
	got      map[string][]int  // subscriber -> event numbers, in delivery order
	attempts map[int]int       // event number -> attempts by the flaky subscriber
	calls    [][]int           // the event numbers of each call of the many-event subscriber
	failMany bool              // the many-event subscriber's next call fails
	gate     chan struct{}     // while open (not nil, not closed), the many-event subscriber's calls wait on it
	failIf   func([]int) bool  // the many-event subscriber's calls of these events fail
	entered  int               // the many-event subscriber's calls begun
	commits  map[string]string // subscriber -> synchronous_commit in its last delivery's batch
}

// commit records the synchronous_commit a batch sent on the pool with ctx runs under.
func (b *bundle) commit(t *testing.T, ctx context.Context, pool *pgxpool.Pool, sub string) {
	var got string
	var batch pgdb.Batch
	pgdb.Queue(&batch, func(db pgdb.DBTX) (string, error) {
		var v string
		err := db.QueryRow(ctx, "SELECT current_setting('synchronous_commit')").Scan(&v)
		return v, err
	}, func(v string, err error) error { got = v; return err })
	assert.NoError(t, batch.Send(ctx, pool))
	b.mu.Lock()
	defer b.mu.Unlock()
	b.commits[sub] = got
}

func (b *bundle) seen(sub string) []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.got[sub]...)
}

// setup starts a bus with two subscribers of test.pinged; "flaky" fails the first attempt at
// every event.
func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	pool, err := pgdb.Open(ctx, testdb.New(t), 6)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	runner := jobs.NewRunner()
	b := &bundle{bus: eventbus.New(runner), pool: pool, got: map[string][]int{}, attempts: map[int]int{}, commits: map[string]string{}}
	b.bus.CommitAsync("test.st")
	eventbus.On(b.bus, "test.steady", func(ctx context.Context, _ string, ev pinged) error {
		b.commit(t, ctx, pool, "steady")
		b.mu.Lock()
		defer b.mu.Unlock()
		b.got["steady"] = append(b.got["steady"], ev.N)
		return nil
	})
	eventbus.On(b.bus, "test.flaky", func(_ context.Context, _ string, ev pinged) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.attempts[ev.N]++
		if b.attempts[ev.N] == 1 {
			return errors.New("first attempt fails")
		}
		b.got["flaky"] = append(b.got["flaky"], ev.N)
		return nil
	})
	b.bus.SubscribeMany("test.many", func(ctx context.Context, envs []eventbus.Envelope) error {
		b.mu.Lock()
		gate := b.gate
		b.entered++
		b.mu.Unlock()
		if gate != nil {
			<-gate
		}
		b.commit(t, ctx, pool, "many")
		var ns []int
		for _, env := range envs {
			var n int
			switch env.Topic {
			case pinged{}.Topic():
				ev, err := eventbus.Decode[pinged](env)
				require.NoError(t, err)
				n = ev.N
			case ponged{}.Topic():
				ev, err := eventbus.Decode[ponged](env)
				require.NoError(t, err)
				n = -ev.N
			}
			ns = append(ns, n)
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		b.calls = append(b.calls, ns)
		if b.failMany {
			b.failMany = false
			return errors.New("this call fails")
		}
		if b.failIf != nil && b.failIf(ns) {
			return errors.New("this call fails")
		}
		return nil
	}, pinged{}.Topic(), ponged{}.Topic())
	require.NoError(t, runner.Init(pool, jobs.Options{Work: true, RetryPolicy: jobs.FixedRetry(50 * time.Millisecond),
		PollInterval: 50 * time.Millisecond}))
	require.NoError(t, runner.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = runner.Stop(ctx)
	})
	return b
}

func publish(t *testing.T, b *bundle, commit bool, n int) {
	t.Helper()
	ctx := context.Background()
	tx, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, b.bus.Publish(ctx, tx, pinged{N: n}))
	if commit {
		require.NoError(t, tx.Commit(ctx))
	} else {
		require.NoError(t, tx.Rollback(ctx))
	}
}

func TestCommittedEventReachesEverySubscriberAndRetriesFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	publish(t, b, true, 1)
	require.Eventually(t, func() bool { return len(b.seen("steady")) == 1 && len(b.seen("flaky")) == 1 },
		20*time.Second, 20*time.Millisecond)
	assert.Equal(t, []int{1}, b.seen("steady"), "delivered once to the steady subscriber")
	b.mu.Lock()
	defer b.mu.Unlock()
	assert.Equal(t, 2, b.attempts[1], "the failing handler was retried")
	assert.Equal(t, map[string]string{"steady": "off", "many": "on"}, b.commits,
		"a subscriber under CommitAsync's prefix commits asynchronously, the others as the server does")
}

// TestOnePublishIsOneJob: the events of one publish travel in one job to every subscriber, in
// publish order; the deliveries that fail are retried by jobs of their own, and the ones that
// succeeded are not run again.
func TestOnePublishIsOneJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tx, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, b.bus.Publish(ctx, tx, pinged{N: 1}, pinged{N: 2}, pinged{N: 3}))
	rows, err := tx.Query(ctx, `SELECT kind FROM river_job`)
	require.NoError(t, err)
	kinds, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	assert.Equal(t, []string{"event_batch"}, kinds, "one job for three events to two subscribers")
	require.NoError(t, tx.Commit(ctx))

	require.Eventually(t, func() bool { return len(b.seen("flaky")) == 3 }, 20*time.Second, 20*time.Millisecond)
	assert.Equal(t, []int{1, 2, 3}, b.seen("steady"), "each delivered once, in order")
	b.mu.Lock()
	assert.Equal(t, map[int]int{1: 2, 2: 2, 3: 2}, b.attempts, "each failed delivery retried once")
	b.mu.Unlock()
	var retries int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'event_delivery' AND args->>'subscriber' = 'test.flaky'`).Scan(&retries))
	assert.Equal(t, 3, retries, "the flaky subscriber's deliveries became jobs of their own")
}

// TestManyEventSubscriber: a many-event subscriber takes the events of a publish on all its
// topics in one call, in order; after a failure, its events run again together, the others'
// deliveries not at all.
func TestManyEventSubscriber(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mu.Lock()
	b.failMany = true
	b.mu.Unlock()
	ctx := context.Background()
	tx, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, b.bus.Publish(ctx, tx, pinged{N: 1}, ponged{N: 2}, pinged{N: 3}))
	require.NoError(t, tx.Commit(ctx))
	require.Eventually(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.calls) == 2 && len(b.got["flaky"]) == 2
	}, 20*time.Second, 20*time.Millisecond)
	b.mu.Lock()
	assert.Equal(t, [][]int{{1, -2, 3}, {1, -2, 3}}, b.calls, "one call a publish, and one again after its failure")
	b.mu.Unlock()
	assert.Equal(t, []int{1, 3}, b.seen("steady"), "the one-event subscriber's deliveries ran once")
}

// TestJobsWaitingTogetherRunAsOne: the batch jobs that wait while every lane is busy run
// together, a many-event subscriber taking all their events in one call; when that call fails,
// each job's share is retried on its own, and no other delivery runs again.
func TestJobsWaitingTogetherRunAsOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// hold makes the many-event subscriber's calls wait until the returned func lets them go; the
	// test's end lets them go too, so that the runner can stop.
	hold := func() func() {
		gate := make(chan struct{})
		var once sync.Once
		release := func() {
			once.Do(func() {
				b.mu.Lock()
				b.gate = nil
				b.mu.Unlock()
				close(gate)
			})
		}
		t.Cleanup(release)
		b.mu.Lock()
		b.gate = gate
		b.mu.Unlock()
		return release
	}
	entered := func(n int) func() bool {
		return func() bool {
			b.mu.Lock()
			defer b.mu.Unlock()
			return b.entered == n
		}
	}
	// occupy publishes n1 and n2 one after the other, each taking a lane and waiting in the
	// many-event subscriber, then the rest, which wait for a lane together.
	occupy := func(n1, n2 int, rest ...int) {
		b.mu.Lock()
		base := b.entered
		b.mu.Unlock()
		publish(t, b, true, n1)
		require.Eventually(t, entered(base+1), 20*time.Second, 5*time.Millisecond)
		publish(t, b, true, n2)
		require.Eventually(t, entered(base+2), 20*time.Second, 5*time.Millisecond)
		for _, n := range rest {
			publish(t, b, true, n)
		}
		require.Eventually(t, func() bool { return b.bus.Waiting() == len(rest) }, 20*time.Second, 5*time.Millisecond)
	}

	t.Run("the waiting jobs' events reach the many-event subscriber in one call", func(t *testing.T) {
		release := hold()
		occupy(1, 2, 3, 4, 5)
		release()
		require.Eventually(t, func() bool { return len(b.seen("flaky")) == 5 }, 20*time.Second, 20*time.Millisecond)
		b.mu.Lock()
		calls := slices.Clone(b.calls)
		b.mu.Unlock()
		assert.ElementsMatch(t, [][]int{{1}, {2}, {3, 4, 5}}, sorted(calls),
			"a call for each of the first two, one for the three that waited")
		got := b.seen("steady")
		slices.Sort(got)
		assert.Equal(t, []int{1, 2, 3, 4, 5}, got, "the one-event subscriber's deliveries ran once each")
	})

	t.Run("a failed call is retried for each job on its own", func(t *testing.T) {
		b.mu.Lock()
		b.calls = nil
		b.mu.Unlock()
		release := hold()
		occupy(6, 7, 8, 9)
		b.mu.Lock()
		b.failIf = func(ns []int) bool { return len(ns) > 1 }
		b.mu.Unlock()
		release() // the two waiting calls pass; the next one, of 8 and 9, fails
		require.Eventually(t, func() bool {
			b.mu.Lock()
			defer b.mu.Unlock()
			return len(b.calls) == 5
		}, 20*time.Second, 20*time.Millisecond)
		b.mu.Lock()
		calls := slices.Clone(b.calls)
		b.mu.Unlock()
		assert.ElementsMatch(t, [][]int{{6}, {7}, {8, 9}, {8}, {9}}, sorted(calls),
			"the two that waited in one call that failed, then each one's share on its own")
		var retries int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'event_delivery' AND args->>'subscriber' = 'test.many'`).Scan(&retries))
		assert.Equal(t, 2, retries, "a retry job for each of the two")
		require.Eventually(t, func() bool { return len(b.seen("flaky")) == 9 }, 20*time.Second, 20*time.Millisecond)
		got := b.seen("steady")
		slices.Sort(got)
		assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, got, "no one-event delivery ran twice")
	})
}

// sorted is calls with each call's events in order: jobs that wait together are run in the
// order they came to wait, which is not their publishes'.
func sorted(calls [][]int) [][]int {
	out := make([][]int, len(calls))
	for i, c := range calls {
		out[i] = slices.Sorted(slices.Values(c))
	}
	return out
}

func TestRolledBackEventIsNeverDelivered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	publish(t, b, false, 7)
	publish(t, b, true, 8) // a committed marker, so that there is a delivery to wait for
	// Once every delivery job has ended (the flaky one retried), nothing more can arrive.
	require.Eventually(t, func() bool {
		var pending int
		err := b.pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE finalized_at IS NULL`).Scan(&pending)
		return err == nil && pending == 0
	}, 20*time.Second, 20*time.Millisecond)
	assert.Equal(t, []int{8}, b.seen("steady"))
	assert.Equal(t, []int{8}, b.seen("flaky"))
}

func TestDuplicateSubscriberNamePanics(t *testing.T) {
	t.Parallel()
	bus := eventbus.New(jobs.NewRunner())
	bus.Subscribe("a", "same", func(context.Context, eventbus.Envelope) error { return nil })
	assert.Panics(t, func() {
		bus.Subscribe("b", "same", func(context.Context, eventbus.Envelope) error { return nil })
	})
}
