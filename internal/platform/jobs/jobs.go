// Package jobs owns the River client: contexts register their workers on Runner.Workers while
// they are built, and insert jobs in their own transactions once the client exists.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Runner holds the River worker registry and, once Init has run, the client.
type Runner struct {
	Workers  *river.Workers
	periodic []*river.PeriodicJob
	client   *river.Client[pgx.Tx]
}

// Options tune the River client.
type Options struct {
	// Work makes the client fetch and run jobs; without it the client only inserts.
	Work         bool
	MaxWorkers   int
	RetryPolicy  river.ClientRetryPolicy // nil: River's default backoff
	PollInterval time.Duration           // 0: River's default
	Logger       *slog.Logger
}

// NewRunner returns a Runner with an empty worker registry.
func NewRunner() *Runner { return &Runner{Workers: river.NewWorkers()} }

// AddPeriodic registers a periodic job; it must be called before Init.
func (r *Runner) AddPeriodic(j *river.PeriodicJob) { r.periodic = append(r.periodic, j) }

// Init builds the River client over pool with every worker registered so far.
func (r *Runner) Init(pool *pgxpool.Pool, o Options) error {
	cfg := &river.Config{
		Workers:     r.Workers,
		Logger:      o.Logger,
		RetryPolicy: o.RetryPolicy,
		MaxAttempts: 25,
		JobTimeout:  time.Minute,
	}
	if o.Work {
		n := o.MaxWorkers
		if n <= 0 {
			n = 10
		}
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n}}
		cfg.PeriodicJobs = r.periodic
		if o.PollInterval > 0 {
			cfg.FetchPollInterval = o.PollInterval
			cfg.FetchCooldown = min(o.PollInterval, 100*time.Millisecond)
		}
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return fmt.Errorf("jobs: river client: %w", err)
	}
	r.client = c
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
