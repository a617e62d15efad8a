package jobs_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// childDB names the database of TestResumableChild's run, which only a parent test sets.
const childDB = "GOSHOP_JOBS_TEST_CHILD_DB"

// itemsArgs processes items 0..N-1, one transaction each, recording which attempt did it.
type itemsArgs struct {
	N int `json:"n"`
}

func (itemsArgs) Kind() string { return "jobs_test_items" }

// progress is the checkpoint: the next item to process.
type progress struct {
	Next int `json:"next"`
}

// itemsWorker is a job that may outlast the rescue window: it sets its own timeout and resumes
// from its checkpoint. stallAt makes it stop working (as a process does when it is killed) once
// that many items are done.
type itemsWorker struct {
	river.WorkerDefaults[itemsArgs]
	runner  *jobs.Runner
	pool    *pgxpool.Pool
	limit   time.Duration
	stallAt int
}

func (w *itemsWorker) Timeout(*river.Job[itemsArgs]) time.Duration { return w.limit }

func (w *itemsWorker) Work(ctx context.Context, job *river.Job[itemsArgs]) error {
	var p progress
	if _, err := jobs.Checkpoint(job.JobRow, &p); err != nil {
		return err
	}
	for ; p.Next < job.Args.N; p.Next++ {
		if p.Next == w.stallAt {
			<-ctx.Done()
			return ctx.Err()
		}
		err := pgdb.WithTx(ctx, w.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `INSERT INTO items_done (item, attempt) VALUES ($1, $2)`, p.Next, job.Attempt); err != nil {
				return err
			}
			return w.runner.SaveCheckpointTx(ctx, tx, job.JobRow, progress{Next: p.Next + 1})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// start builds a working runner over dbURL with w registered.
func start(t *testing.T, dbURL string, w *itemsWorker, o jobs.Options) *jobs.Runner {
	t.Helper()
	ctx := context.Background()
	pool, err := pgdb.Open(ctx, dbURL, 4)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	runner := jobs.NewRunner()
	w.runner, w.pool = runner, pool
	river.AddWorker(runner.Workers, w)
	require.NoError(t, runner.Init(pool, o))
	require.NoError(t, runner.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = runner.Stop(ctx)
	})
	return runner
}

// TestResumableChild is the process TestKilledJobResumesFromItsCheckpoint kills: it works the
// job until it stalls, and waits to be killed.
func TestResumableChild(t *testing.T) {
	dbURL := os.Getenv(childDB)
	if dbURL == "" {
		t.Skip("run by TestKilledJobResumesFromItsCheckpoint")
	}
	start(t, dbURL, &itemsWorker{limit: time.Hour, stallAt: 4}, jobs.Options{Work: true, PollInterval: 50 * time.Millisecond,
		Timeout: time.Hour, RescueAfter: time.Hour})
	select {} // until killed
}

// TestKilledJobResumesFromItsCheckpoint kills -9 a process in the middle of a long job; another
// process rescues the job once it has been running longer than its own timeout, and the job
// goes on from its checkpoint: every item is done exactly once, the first four by the killed run.
func TestKilledJobResumesFromItsCheckpoint(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testdb.New(t)
	pool, err := pgdb.Open(ctx, dbURL, 2)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = pool.Exec(ctx, `CREATE TABLE items_done (item int NOT NULL, attempt int NOT NULL)`)
	require.NoError(t, err)

	inserter := jobs.NewRunner()
	river.AddWorker(inserter.Workers, &itemsWorker{})
	require.NoError(t, inserter.Init(pool, jobs.Options{}))
	var jobID int64
	require.NoError(t, pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
		res, err := inserter.Client().InsertTx(ctx, tx, itemsArgs{N: 10}, nil)
		if err == nil {
			jobID = res.Job.ID
		}
		return err
	}))

	child := exec.Command(os.Args[0], "-test.run=^TestResumableChild$", "-test.count=1")
	child.Env = append(os.Environ(), childDB+"="+dbURL)
	require.NoError(t, child.Start())
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	t.Cleanup(func() { _ = child.Process.Kill() })

	require.Eventually(t, func() bool {
		var n int
		return pool.QueryRow(ctx, `SELECT count(*) FROM items_done`).Scan(&n) == nil && n == 4
	}, 60*time.Second, 20*time.Millisecond, "the child works the first items")
	require.NoError(t, child.Process.Kill())
	<-exited
	stale, err := inserter.Client().JobGet(ctx, jobID)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateRunning, stale.State, "the killed run left its job running")

	// The survivor's worker gives the job two seconds before the rescuer may take it back.
	start(t, dbURL, &itemsWorker{limit: 2 * time.Second, stallAt: -1}, jobs.Options{Work: true,
		RetryPolicy: jobs.FixedRetry(50 * time.Millisecond), PollInterval: 50 * time.Millisecond, Timeout: time.Second, RescueAfter: time.Second})
	// River's leader lease of the killed process runs out first (about 15 s), then the rescue.
	require.Eventually(t, func() bool {
		j, err := inserter.Client().JobGet(ctx, jobID)
		return err == nil && j.State == rivertype.JobStateCompleted
	}, 90*time.Second, 50*time.Millisecond, "the job is rescued and finished")

	rows, err := pool.Query(ctx, `SELECT item, attempt FROM items_done ORDER BY item`)
	require.NoError(t, err)
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Item, Attempt int }])
	require.NoError(t, err)
	require.Len(t, got, 10, "every item exactly once")
	for i, r := range got {
		assert.Equal(t, i, r.Item)
		want := 2
		if i < 4 {
			want = 1
		}
		assert.Equal(t, want, r.Attempt, "item %d", i)
	}

	// The killed run, had it lived on, could no longer move the checkpoint.
	err = pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
		return inserter.SaveCheckpointTx(ctx, tx, stale, progress{Next: 5})
	})
	assert.True(t, errors.Is(err, jobs.ErrSuperseded), "%v", err)
	j, err := inserter.Client().JobGet(ctx, jobID)
	require.NoError(t, err)
	var p progress
	ok, err := jobs.Checkpoint(j, &p)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 10, p.Next, "the superseded save rolled back")
}
