package pgdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Reads runs the reads that tolerate a little lag (anonymous catalog and shop pages, search,
// reviews, analytics) on a read replica while it answers and keeps up, and on the primary
// otherwise. Everything else (transactions, money, a signed-in user's own things) uses the
// primary pool directly, so a writer always reads their own write.
//
// Without a replica it is the primary under another name. With one, a watcher measures the
// replica's lag every second; past maxLag, or when the replica does not answer, reads go to the
// primary until it is back, and a read that fails to reach the replica is run again on the
// primary at once rather than answering an error.
type Reads struct {
	primary *pgxpool.Pool
	replica *pgxpool.Pool
	maxLag  time.Duration
	log     *slog.Logger
	// usable is whether reads go to the replica now.
	usable atomic.Bool
	// lag is the replica's last measured lag in nanoseconds (-1: it did not answer).
	lag atomic.Int64
}

// NewReads routes reads to replica while it lags at most maxLag (replica nil: no replica).
// Call Watch to keep its state current.
func NewReads(primary, replica *pgxpool.Pool, maxLag time.Duration, log *slog.Logger) *Reads {
	r := &Reads{primary: primary, replica: replica, maxLag: maxLag, log: log}
	r.lag.Store(-1)
	return r
}

// Replica states, as /readyz shows them.
const (
	ReplicaNone     = "none"
	ReplicaOK       = "ok"
	ReplicaDegraded = "degraded"
)

// State is ReplicaNone without a replica, ReplicaOK while reads go to it, ReplicaDegraded while
// they fall back to the primary.
func (r *Reads) State() string {
	switch {
	case r.replica == nil:
		return ReplicaNone
	case r.usable.Load():
		return ReplicaOK
	default:
		return ReplicaDegraded
	}
}

// replicaLag is how far behind the primary the replica has applied: zero when it has replayed
// all it received (an idle primary sends nothing, and the last replay's age would look like lag),
// else the age of the last transaction it replayed; zero on a server that is not a standby.
const replicaLag = `SELECT CASE
	WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
	ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8`

// Check measures the replica once and decides where reads go.
func (r *Reads) Check(ctx context.Context) {
	if r.replica == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var secs float64
	err := r.replica.QueryRow(ctx, replicaLag).Scan(&secs)
	lag := time.Duration(secs * float64(time.Second))
	usable := err == nil && lag <= r.maxLag
	if was := r.usable.Swap(usable); was != usable {
		r.log.WarnContext(ctx, "read replica", "usable", usable, "lag", lag, "err", err)
	}
	if err != nil {
		lag = -1
	}
	r.lag.Store(int64(lag))
}

// Watch checks the replica every interval until ctx ends.
func (r *Reads) Watch(ctx context.Context, interval time.Duration) {
	if r.replica == nil {
		return
	}
	r.Check(ctx)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.Check(ctx)
		}
	}
}

// pick is where the next read goes.
func (r *Reads) pick() (db *pgxpool.Pool, onReplica bool) {
	if r.replica != nil && r.usable.Load() {
		return r.replica, true
	}
	return r.primary, false
}

// unreachable reports whether err says the server could not be reached or the connection
// broke, as opposed to an answer from it (a query error is the same on either server).
func unreachable(err error) bool {
	var pgErr *pgconn.PgError
	return err != nil && !errors.As(err, &pgErr) && !errors.Is(err, pgx.ErrNoRows) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// fallBack stops reading from the replica until the watcher finds it well again.
func (r *Reads) fallBack(ctx context.Context, err error) {
	if r.usable.Swap(false) {
		r.log.WarnContext(ctx, "read replica unreachable; reading from the primary", "err", err)
	}
}

// Exec implements DBTX (reads only: a replica refuses writes).
func (r *Reads) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	db, onReplica := r.pick()
	tag, err := db.Exec(ctx, sql, args...)
	if onReplica && unreachable(err) {
		r.fallBack(ctx, err)
		return r.primary.Exec(ctx, sql, args...)
	}
	return tag, err
}

// Query implements DBTX. A broken replica connection often shows only when the answer is read,
// so the rows fall back too, as long as none was read yet.
func (r *Reads) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	db, onReplica := r.pick()
	rows, err := db.Query(ctx, sql, args...)
	if !onReplica {
		return rows, err
	}
	if unreachable(err) {
		r.fallBack(ctx, err)
		return r.primary.Query(ctx, sql, args...)
	}
	if err != nil {
		return rows, err
	}
	return &fallbackRows{Rows: rows, r: r, ctx: ctx, sql: sql, args: args}, nil
}

// fallbackRows reads a replica's answer and, when the replica breaks before the first row,
// the primary's instead.
type fallbackRows struct {
	pgx.Rows
	r       *Reads
	ctx     context.Context
	sql     string
	args    []any
	started bool
	err     error
}

func (f *fallbackRows) Next() bool {
	if f.err != nil {
		return false
	}
	ok := f.Rows.Next()
	if !ok && !f.started {
		if err := f.Rows.Err(); unreachable(err) {
			f.Rows.Close()
			f.r.fallBack(f.ctx, err)
			rows, err := f.r.primary.Query(f.ctx, f.sql, f.args...)
			if err != nil {
				f.err = err
				return false
			}
			f.Rows = rows
			ok = rows.Next()
		}
	}
	f.started = true
	return ok
}

func (f *fallbackRows) Err() error {
	if f.err != nil {
		return f.err
	}
	return f.Rows.Err()
}

// QueryRow implements DBTX.
func (r *Reads) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	db, onReplica := r.pick()
	if !onReplica {
		return db.QueryRow(ctx, sql, args...)
	}
	rows, err := r.Query(ctx, sql, args...)
	return &firstRow{rows: rows, err: err}
}

// firstRow is a pgx.Row read from rows, so that QueryRow can fall back like Query does.
type firstRow struct {
	rows pgx.Rows
	err  error
}

func (f *firstRow) Scan(dest ...any) error {
	if f.err != nil {
		return f.err
	}
	defer f.rows.Close()
	if !f.rows.Next() {
		if err := f.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := f.rows.Scan(dest...); err != nil {
		return err
	}
	f.rows.Close()
	return f.rows.Err()
}

// SendBatch implements Sender: the batch goes where a single read would. When the replica
// cannot be reached before any statement's answer was handed to its callback (connecting,
// sending, or the first answer, which pgdb.Queue holds back), the batch is sent again on the
// primary, as Query does for rows none of which was read. Answers are read through the queued
// statements' callbacks: reading one from the results directly ends the fallback. A batch that
// begins a transaction (pgx.Batch.BeginTx) is not a read and does not go through Reads.
func (r *Reads) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	db, onReplica := r.pick()
	if !onReplica {
		return db.SendBatch(ctx, b)
	}
	f := &fallbackBatch{r: r, ctx: ctx, b: b}
	// The replica gets a copy, b staying as it was for the primary: pgx notes on each queued
	// statement what it prepared on the connection it sent it on.
	try := &pgx.Batch{}
	for _, q := range b.QueuedQueries {
		c := try.Queue(q.SQL, q.Arguments...)
		if fn := q.Fn; fn != nil {
			c.Fn = func(br pgx.BatchResults) error {
				err := fn(br)
				var held *heldAnswer
				if !errors.As(err, &held) {
					f.handed = true
				}
				return err
			}
		}
	}
	f.BatchResults = r.replica.SendBatch(ctx, try)
	return f
}

// fallbackBatch is a batch's answers from the replica and, when the replica could not be
// reached before any answer was handed over, from the primary instead.
type fallbackBatch struct {
	pgx.BatchResults
	r      *Reads
	ctx    context.Context
	b      *pgx.Batch
	handed bool
}

func (f *fallbackBatch) Exec() (pgconn.CommandTag, error) {
	f.handed = true
	return f.BatchResults.Exec()
}

func (f *fallbackBatch) Query() (pgx.Rows, error) {
	f.handed = true
	return f.BatchResults.Query()
}

func (f *fallbackBatch) QueryRow() pgx.Row {
	f.handed = true
	return f.BatchResults.QueryRow()
}

func (f *fallbackBatch) Close() error {
	err := f.BatchResults.Close()
	if f.handed || !unreachable(err) {
		return err
	}
	f.r.fallBack(f.ctx, err)
	f.BatchResults, f.handed = f.r.primary.SendBatch(f.ctx, f.b), true
	return f.BatchResults.Close()
}

// OpenReplica makes a pool for a read replica without connecting: a replica that is down at
// start only degrades reads to the primary. Its connections give up after a second, so a read
// that cannot reach it falls back quickly.
func OpenReplica(dbURL string, maxConns int32, configure ...func(*pgxpool.Config)) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("pgdb: parse DATABASE_READ_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.ConnConfig.ConnectTimeout = time.Second
	NativeUUIDs(cfg)
	for _, f := range configure {
		f(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("pgdb: replica pool: %w", err)
	}
	return pool, nil
}

// CountQueries counts every statement a pool's connections run in c but the replica watcher's
// lag probe (a Prometheus counter, so that a test and an operator can see where reads went).
func CountQueries(c interface{ Inc() }) func(*pgxpool.Config) {
	return func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = queryCounter{c} }
}

type queryCounter struct{ c interface{ Inc() } }

// TraceQueryStart counts a statement; the watcher's own lag probe is not a read and does not
// count, so that the counter says only where reads went.
func (q queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if d.SQL != replicaLag {
		q.c.Inc()
	}
	return ctx
}

func (queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart implements pgx.BatchTracer; each statement of a batch counts (TraceBatchQuery).
func (queryCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (q queryCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) { q.c.Inc() }

func (queryCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
