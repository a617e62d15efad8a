package pgdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Batch gathers the statements of several contexts, each queuing its own schema's queries, so
// that they reach PostgreSQL in one round trip (a pipeline with one Sync). Every statement's
// answer is handed to the callback its queuer gave, in the order queued, when the batch is sent.
type Batch struct {
	b pgx.Batch
	// autoAgain is the setting QueueGeneric queued last, while it is still the batch's last
	// statement: the next QueueGeneric takes it out rather than set generic plans again.
	autoAgain *pgx.QueuedQuery
}

// Len is how many statements are queued.
func (b *Batch) Len() int { return b.b.Len() }

// Sender is where a Batch is sent: anything with pgx's SendBatch (a pgx.Tx, a *pgxpool.Pool,
// a *pgx.Conn), or Reads (the replica while it is usable, the primary otherwise).
type Sender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Querier runs both a sqlc query method and a Batch: a pool, a transaction, or Reads.
type Querier interface {
	DBTX
	Sender
}

// Send sends the queued statements on db in one round trip and runs their callbacks; the first
// error (of a statement or a callback) is returned. Nothing is sent when nothing is queued. In
// a transaction, after an error the transaction is aborted: the caller rolls back. On a pool
// or Reads the batch needs no transaction: its statements run in the implicit one PostgreSQL
// opens until the batch's one Sync. Any error, a callback's included, makes pgx forget the
// statements it prepared for the batch on that connection, so a callback that expects an
// error (no rows: not found) keeps it and returns nil rather than cost the next batch a prepare.
func (b *Batch) Send(ctx context.Context, db Sender) error {
	if b.b.Len() == 0 {
		return nil
	}
	if _, implicit := db.(*pgxpool.Pool); implicit && asyncCommit(ctx) {
		// The batch is a transaction of its own, until its Sync: its setting goes first.
		b.b.QueuedQueries = append([]*pgx.QueuedQuery{{SQL: asyncCommitSQL}}, b.b.QueuedQueries...)
	}
	err := db.SendBatch(ctx, &b.b).Close()
	b.b, b.autoAgain = pgx.Batch{}, nil
	var held *heldAnswer
	if errors.As(err, &held) {
		// No server was left to try: the answer goes to its queuer after all.
		if herr := held.hand(); herr != nil {
			return herr
		}
		return held.err
	}
	return err
}

// Queue queues the statement that call, a sqlc query method run on the DBTX it is given, sends,
// and runs call again on the statement's answer when the batch is sent, handing its result to
// done. The SQL and the scanning stay sqlc's: call runs once on a recorder, which keeps the
// statement and its arguments, and once on the answer.
//
//	pgdb.Queue(b, func(db pgdb.DBTX) (store.Row, error) { return newStore(db).GetRow(ctx, id) },
//		func(r store.Row, err error) error { ... })
func Queue[T any](b *Batch, call func(db DBTX) (T, error), done func(T, error) error) {
	rec := &recorder{}
	_, _ = call(rec)
	if rec.kind == 0 {
		panic("pgdb: Queue: call sent no query")
	}
	done = holdUnreachable(b.b.Len() == 0, done)
	q := b.b.Queue(rec.sql, rec.args...)
	switch rec.kind {
	case kindRow:
		q.QueryRow(func(row pgx.Row) error { return done(call(answer{row: row})) })
	case kindRows:
		q.Query(func(rows pgx.Rows) error { return done(call(answer{rows: rows})) })
	case kindExec:
		q.Exec(func(tag pgconn.CommandTag) error { return done(call(answer{tag: tag})) })
	}
}

// QueueGeneric is Queue for a statement PostgreSQL should run under its generic plan. A statement
// whose parameters are arrays (unnest, = ANY) otherwise gets from the plan cache a plan made for
// its values at every execution: the generic plan guesses ten elements, and so looks dearer than
// one that knows there are two. For a statement of several CTEs that planning costs more than
// running it (ReserveStock: 0.4 to 0.8 ms against 0.25). Use it only for a lookup by a unique
// key (a primary key): the generic plan's guess of its rows is then the array's ten at most,
// whatever the table's statistics say or lack. By a column that is no key, in a table never
// analyzed, the generic plan guessed 29,000 rows and scanned in parallel (ItemsOf over 840,000
// items: 34 ms a call, against 0.1 custom). The setting changes for this statement
// only (set_config local to the transaction, set back to auto after it), in the same round trip.
// Statements queued with QueueGeneric one after another share one pair of settings: each pair
// is two more statements for PostgreSQL to run.
func QueueGeneric[T any](b *Batch, call func(db DBTX) (T, error), done func(T, error) error) {
	if q := b.b.QueuedQueries; b.autoAgain != nil && len(q) > 0 && q[len(q)-1] == b.autoAgain {
		b.b.QueuedQueries = q[:len(q)-1]
	} else {
		b.queueSetting(genericPlans)
	}
	Queue(b, call, done)
	b.autoAgain = b.queueSetting(autoPlans)
}

// The plan_cache_mode settings QueueGeneric wraps a statement in.
const (
	genericPlans = "SELECT set_config('plan_cache_mode', 'force_generic_plan', true)"
	autoPlans    = "SELECT set_config('plan_cache_mode', 'auto', true)"
)

// queueSetting queues a set_config statement, whose answer only an error matters in.
func (b *Batch) queueSetting(sql string) *pgx.QueuedQuery {
	done := holdUnreachable(b.b.Len() == 0, func(_ string, err error) error { return err })
	q := b.b.Queue(sql)
	q.QueryRow(func(row pgx.Row) error {
		var v string
		err := row.Scan(&v)
		return done(v, err)
	})
	return q
}

// holdUnreachable is done, but for the first statement of a batch whose server could not be
// reached: its answer is held back (a heldAnswer error stops the batch) rather than handed to
// done, so that Reads can send the whole batch again on the primary as if the replica had not
// been tried, no callback having seen anything yet. Send hands it over when there is no other
// server to try.
func holdUnreachable[T any](first bool, done func(T, error) error) func(T, error) error {
	if !first {
		return done
	}
	return func(v T, err error) error {
		if unreachable(err) {
			return &heldAnswer{err: err, hand: func() error { return done(v, err) }}
		}
		return done(v, err)
	}
}

// heldAnswer is a batch's first answer, not handed to its queuer (holdUnreachable).
type heldAnswer struct {
	err  error
	hand func() error
}

func (h *heldAnswer) Error() string { return h.err.Error() }
func (h *heldAnswer) Unwrap() error { return h.err }

const (
	kindRow = iota + 1
	kindRows
	kindExec
)

var errRecorded = errors.New("pgdb: statement recorded for a batch")

// recorder keeps the one statement a query method sends.
type recorder struct {
	kind int
	sql  string
	args []any
}

func (r *recorder) keep(kind int, sql string, args []any) {
	if r.kind != 0 {
		panic(fmt.Sprintf("pgdb: Queue: call sent a second query (%s)", queryName(sql)))
	}
	r.kind, r.sql, r.args = kind, sql, args
}

func (r *recorder) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r.keep(kindExec, sql, args)
	return pgconn.CommandTag{}, errRecorded
}

func (r *recorder) Query(_ context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.keep(kindRows, sql, args)
	return nil, errRecorded
}

func (r *recorder) QueryRow(_ context.Context, sql string, args ...any) pgx.Row {
	r.keep(kindRow, sql, args)
	return errRow{}
}

type errRow struct{}

func (errRow) Scan(...any) error { return errRecorded }

// answer hands a query method the batch's answer to its statement.
type answer struct {
	row  pgx.Row
	rows pgx.Rows
	tag  pgconn.CommandTag
}

func (a answer) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) { return a.tag, nil }
func (a answer) Query(context.Context, string, ...any) (pgx.Rows, error)         { return a.rows, nil }
func (a answer) QueryRow(context.Context, string, ...any) pgx.Row                { return a.row }

// PipelinedTx is a transaction whose BEGIN goes out with its first batch and whose COMMIT with
// its last (SendCommit): a transaction of two batches takes two round trips, not four. It suits
// a short transaction made only of batches, with Go's checks between them (an add to the cart);
// one that hands its pgx.Tx to a library (River's inserts) keeps WithTx, whose BEGIN also
// travels with its first batch but whose COMMIT is a round trip of its own.
type PipelinedTx struct {
	conn  *pgxpool.Conn
	begun bool // BEGIN went out
	ended bool // COMMIT went out and was answered
}

// WithPipelinedTx runs fn in a PipelinedTx on one of pool's connections: committed with fn's
// SendCommit, or after fn returns nil when it did not call it; rolled back when fn (or a batch)
// fails, and when fn panics. A failed batch leaves the transaction aborted, COMMIT included
// (PostgreSQL skips what follows an error up to the batch's Sync), so the rollback is always
// sent, and the connection goes back to the pool idle.
func WithPipelinedTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx *PipelinedTx) error) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("pgdb: acquire: %w", err)
	}
	defer conn.Release()
	tx := &PipelinedTx{conn: conn}
	defer func() {
		p := recover()
		if (p != nil || err != nil) && tx.begun && !tx.ended {
			if _, rerr := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
				// A connection left inside a transaction must not serve anyone else.
				_ = conn.Conn().Close(context.WithoutCancel(ctx))
			}
		}
		if p != nil {
			panic(p)
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if tx.begun && !tx.ended {
		if _, err = conn.Exec(ctx, "COMMIT"); err != nil {
			return fmt.Errorf("pgdb: commit: %w", err)
		}
		tx.ended = true
	}
	return nil
}

// Send sends b in the transaction, after BEGIN when it is its first batch: one round trip.
func (tx *PipelinedTx) Send(ctx context.Context, b *Batch) error { return tx.send(ctx, b, false) }

// SendCommit sends b and then COMMIT, in one round trip: the transaction ends with it. When a
// statement of b fails, nothing commits and the error is b's. b's callbacks run once the commit
// is done: an error one of them returns is returned, but what committed stays.
func (tx *PipelinedTx) SendCommit(ctx context.Context, b *Batch) error { return tx.send(ctx, b, true) }

func (tx *PipelinedTx) send(ctx context.Context, b *Batch, commit bool) error {
	if tx.ended {
		return errors.New("pgdb: a batch after the transaction's commit")
	}
	q := b.b.QueuedQueries
	if !tx.begun {
		head := []*pgx.QueuedQuery{{SQL: "BEGIN"}}
		if asyncCommit(ctx) {
			head = append(head, &pgx.QueuedQuery{SQL: asyncCommitSQL})
		}
		q = append(head, q...)
	}
	if commit {
		q = append(q, &pgx.QueuedQuery{SQL: "COMMIT"})
	}
	b.b.QueuedQueries = q
	tx.begun = true
	err := b.Send(ctx, tx.conn)
	// Out of a transaction once the batch's Sync is answered: its COMMIT went through.
	tx.ended = commit && tx.conn.Conn().PgConn().TxStatus() == 'I'
	return err
}
