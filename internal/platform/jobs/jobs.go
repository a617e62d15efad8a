// Package jobs owns the River client: contexts register their workers on Runner.Workers while
// they are built, and insert jobs in their own transactions once the client exists.
//
// Every job runs at least once, and may run again: after an error, after its timeout, and when
// its process dies (kill -9, a lost machine) before River recorded its end, River's leader finds
// it still `running` after Options.RescueAfter and runs it again. Workers are therefore
// idempotent: they check, under a lock, whether their effect is there already.
//
// A job that may run longer than Options.Timeout (a reindex, an export) sets its own limit with
// River's Timeout method on its worker; the rescuer leaves it alone that long (so a killed run
// of it waits that long too: keep the limit near what one run needs). It saves its
// progress as it goes (SaveCheckpointTx, in the transaction of the work it covers) and starts
// from Checkpoint, so that a run after a crash resumes rather than starts over.
package jobs

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Runner holds the River worker registry and, once Init has run, the client.
type Runner struct {
	Workers  *river.Workers
	periodic []*river.PeriodicJob
	client   *river.Client[pgx.Tx]
	pool     *pgxpool.Pool
}

// Options tune the River client.
type Options struct {
	// Work makes the client fetch and run jobs; without it the client only inserts.
	Work         bool
	MaxWorkers   int
	RetryPolicy  river.ClientRetryPolicy // nil: River's default backoff
	PollInterval time.Duration           // 0: River's default
	// FetchCooldown is the least time between two fetches (0: River's 100 ms). Each fetch takes
	// at most MaxWorkers jobs, so MaxWorkers/FetchCooldown caps the jobs run a second.
	FetchCooldown time.Duration
	// Timeout cancels a job's work after this long unless its worker's Timeout says otherwise
	// (0: one minute).
	Timeout time.Duration
	// RescueAfter is how long a job may stay running before the leader runs it again (0: River's
	// hour, or Timeout's when longer); River's rescuer looks every 30 seconds.
	RescueAfter time.Duration
	// KeepCompleted is how long a completed job's row stays (0: River's day).
	KeepCompleted time.Duration
	Logger        *slog.Logger
	// Middleware wraps every insert and run (tracing).
	Middleware []rivertype.Middleware
}

// NewRunner returns a Runner with an empty worker registry.
func NewRunner() *Runner { return &Runner{Workers: river.NewWorkers()} }

// AddPeriodic registers a periodic job; it must be called before Init.
func (r *Runner) AddPeriodic(j *river.PeriodicJob) { r.periodic = append(r.periodic, j) }

// Init builds the River client over pool with every worker registered so far.
func (r *Runner) Init(pool *pgxpool.Pool, o Options) error {
	cfg := &river.Config{
		Workers:                     r.Workers,
		Logger:                      o.Logger,
		RetryPolicy:                 o.RetryPolicy,
		MaxAttempts:                 25,
		JobTimeout:                  cmp.Or(o.Timeout, time.Minute),
		RescueStuckJobsAfter:        o.RescueAfter,
		CompletedJobRetentionPeriod: o.KeepCompleted,
		Middleware:                  o.Middleware,
	}
	if o.Work {
		n := o.MaxWorkers
		if n <= 0 {
			n = 10
		}
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n}}
		cfg.PeriodicJobs = r.periodic
		cfg.FetchCooldown = cmp.Or(o.FetchCooldown, 100*time.Millisecond)
		if o.PollInterval > 0 {
			cfg.FetchPollInterval = o.PollInterval
			cfg.FetchCooldown = min(o.PollInterval, cfg.FetchCooldown)
		}
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return fmt.Errorf("jobs: river client: %w", err)
	}
	r.client, r.pool = c, pool
	return nil
}

// Client returns the River client; nil before Init.
func (r *Runner) Client() *river.Client[pgx.Tx] { return r.client }

// InsertTx enqueues a job in tx: the job exists if and only if tx commits.
func (r *Runner) InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if r.client == nil {
		return errors.New("jobs: insert before Init")
	}
	if _, err := r.client.InsertTx(ctx, tx, args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// InsertManyTx enqueues several jobs in tx at once.
func (r *Runner) InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) error {
	if r.client == nil {
		return errors.New("jobs: insert before Init")
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := r.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("jobs: insert %d jobs: %w", len(params), err)
	}
	return nil
}

// CompleteInserting marks job completed and inserts params in one transaction: a job that hands
// part of its work on to other jobs is done exactly when they exist.
func CompleteInserting[T river.JobArgs](ctx context.Context, r *Runner, job *river.Job[T], params []river.InsertManyParams) error {
	return pgdb.WithTx(ctx, r.pool, func(tx pgx.Tx) error {
		if err := r.InsertManyTx(ctx, tx, params); err != nil {
			return err
		}
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return fmt.Errorf("jobs: complete %s: %w", job.Kind, err)
		}
		return nil
	})
}

// Start begins working jobs when the client was built with Work.
func (r *Runner) Start(ctx context.Context) error { return r.client.Start(ctx) }

// Stop waits for running jobs to finish (up to ctx), then cancels what is left.
func (r *Runner) Stop(ctx context.Context) error {
	err := r.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return r.client.StopAndCancel(context.WithoutCancel(ctx))
	}
	return err
}

// FixedRetry retries failed jobs after a fixed delay; tests use it to see retries quickly.
type FixedRetry time.Duration

// NextRetry implements river.ClientRetryPolicy.
func (d FixedRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Duration(d)) }

// ErrSuperseded is what SaveCheckpointTx answers a run that is no longer its job's current run:
// the rescuer gave the job to another run (this one was thought dead), or the job ended. That
// run must stop; its transaction rolls back.
var ErrSuperseded = errors.New("jobs: this run of the job was superseded")

// Checkpoint reads into progress what an earlier run of job saved with SaveCheckpointTx, and
// reports whether there was anything: false means start from the beginning.
func Checkpoint(job *rivertype.JobRow, progress any) (bool, error) {
	raw := job.Output()
	if len(raw) == 0 || string(raw) == "null" {
		return false, nil
	}
	if err := json.Unmarshal(raw, progress); err != nil {
		return false, fmt.Errorf("jobs: checkpoint of job %d: %w", job.ID, err)
	}
	return true, nil
}

// SaveCheckpointTx records progress for job in tx, with the work it covers: the two commit
// together, so a run that resumes from the checkpoint neither skips nor repeats that work. It
// is kept as the job's River output (metadata "output"), which the rescuer leaves alone and
// River's cleaner removes with the job. The job's row stays locked until tx ends, and a run
// that is no longer the job's current one gets ErrSuperseded, so two runs never both advance.
func (r *Runner) SaveCheckpointTx(ctx context.Context, tx pgx.Tx, job *rivertype.JobRow, progress any) error {
	if r.client == nil {
		return errors.New("jobs: checkpoint before Init")
	}
	row, err := r.client.JobUpdateTx(ctx, tx, job.ID, &river.JobUpdateParams{Output: progress})
	if err != nil {
		return fmt.Errorf("jobs: save checkpoint of job %d: %w", job.ID, err)
	}
	if row.State != rivertype.JobStateRunning || row.Attempt != job.Attempt || !sameTime(row.AttemptedAt, job.AttemptedAt) {
		return ErrSuperseded
	}
	return nil
}

// SaveCheckpoint records progress for job in a transaction of its own: for work that is not in
// the database (a mail sent, a file written), recorded right after it is done.
func (r *Runner) SaveCheckpoint(ctx context.Context, job *rivertype.JobRow, progress any) error {
	if r.pool == nil {
		return errors.New("jobs: checkpoint before Init")
	}
	return pgdb.WithTx(ctx, r.pool, func(tx pgx.Tx) error { return r.SaveCheckpointTx(ctx, tx, job, progress) })
}

func sameTime(a, b *time.Time) bool { return a != nil && b != nil && a.Equal(*b) }
