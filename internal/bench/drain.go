package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// drainStall is how long the bench waits for the server's jobs while none of them runs: a
// server started without workers never runs them.
const drainStall = 15 * time.Second

// owedSQL counts the server's jobs due now and not yet done; anyOwedSQL tells whether there is
// one. The poll asks the second: River's churn leaves its index full of dead entries, which a
// count's bitmap scan reads every time (a quarter of a second each at 150,000 rows), while the
// index scan of an EXISTS marks them dead for the next one, as River's own fetches do.
const (
	owedSQL    = `SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable') AND scheduled_at <= now()`
	anyOwedSQL = `SELECT EXISTS (SELECT 1 FROM river_job WHERE state IN ('available', 'running', 'retryable') AND scheduled_at <= now())`
)

// drain waits until the server has run every job due (the event deliveries, notifications and
// refreshes that requests started), so that a row starts on a quiet machine rather than beside
// the work an earlier row left. It returns how long that took, how many jobs were owed at the
// start and how many are left: some only when none ran for drainStall.
func (r *runner) drain(ctx context.Context) (took time.Duration, owedAtStart, left int, err error) {
	start, moved := time.Now(), time.Now()
	var first int
	if err := r.pool.QueryRow(ctx, owedSQL).Scan(&first); err != nil {
		return 0, 0, 0, fmt.Errorf("bench: count jobs owed: %w", err)
	}
	var done int64
	for {
		var owed bool
		if err := r.pool.QueryRow(ctx, anyOwedSQL).Scan(&owed); err != nil {
			return 0, 0, 0, fmt.Errorf("bench: look for jobs owed: %w", err)
		}
		if !owed {
			return time.Since(start), first, 0, nil
		}
		// Progress is River updating its jobs (taking, finishing them): a stalled server
		// updates none. The statistics' count costs nothing to read, where a count of the
		// jobs finished would scan the table.
		var n int64
		if err := r.pool.QueryRow(ctx, `SELECT coalesce(sum(n_tup_upd), 0) FROM pg_stat_user_tables WHERE relname = 'river_job'`).Scan(&n); err != nil {
			return 0, 0, 0, fmt.Errorf("bench: count jobs updated: %w", err)
		}
		if n != done {
			done, moved = n, time.Now()
		}
		if time.Since(moved) > drainStall {
			var left int
			if err := r.pool.QueryRow(ctx, owedSQL).Scan(&left); err != nil {
				return 0, 0, 0, fmt.Errorf("bench: count jobs owed: %w", err)
			}
			return time.Since(start), first, left, nil
		}
		select {
		case <-ctx.Done():
			return 0, 0, 0, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// vacuum does what autovacuum would have done by now when the server runs without it (the CI
// machines here set autovacuum = off): it vacuums and analyzes each table whose dead rows pass
// autovacuum's default threshold (50 plus a fifth of the live rows). Without it River's churn
// and the rows each run updates pile up from run to run, and a row measures the history of the
// database rather than the code, while pgbench's rows start on tables it has just made.
func (r *runner) vacuum(ctx context.Context) error {
	var on string
	if err := r.pool.QueryRow(ctx, "SHOW autovacuum").Scan(&on); err != nil {
		return fmt.Errorf("bench: show autovacuum: %w", err)
	}
	if on == "on" {
		return nil
	}
	rows, err := r.pool.Query(ctx, `SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
		WHERE n_dead_tup > 50 + 0.2 * n_live_tup`)
	if err != nil {
		return fmt.Errorf("bench: tables to vacuum: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("bench: tables to vacuum: %w", err)
	}
	for _, t := range tables {
		if _, err := r.pool.Exec(ctx, "VACUUM (ANALYZE) "+t); err != nil {
			return fmt.Errorf("bench: vacuum %s: %w", t, err)
		}
	}
	return nil
}
