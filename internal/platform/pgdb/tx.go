package pgdb

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// lazyTx is the pgx.Tx WithTx hands out: pgx's own transaction, begun by the first thing sent.
// When that is a batch, BEGIN travels in the batch's round trip (pgx's Batch.BeginTx) rather than
// in one of its own: the transactions here mostly open with a batch of reads (a checkout, a
// notification dispatch), and on a busy machine a round trip costs more than a short statement.
// When it is a single statement, BEGIN goes first, as pgx's Conn.Begin sends it. From then on
// every method is pgx's transaction's (savepoints, commit, rollback and their errors). It serves
// one goroutine, as a pgx.Tx does.
type lazyTx struct {
	conn   *pgx.Conn
	tx     pgx.Tx // pgx's transaction, once BEGIN went out
	closed bool   // committed or rolled back before anything was sent
}

var _ pgx.Tx = (*lazyTx)(nil)

// begun answers pgx's transaction, beginning it in a round trip of its own when nothing went
// out yet.
func (t *lazyTx) begun(ctx context.Context) (pgx.Tx, error) {
	if t.tx != nil {
		return t.tx, nil
	}
	if t.closed {
		return nil, pgx.ErrTxClosed
	}
	tx, err := t.conn.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("pgdb: begin: %w", err)
	}
	t.tx = tx
	return tx, nil
}

// SendBatch sends b in the transaction, with BEGIN ahead of it when it is the first thing sent.
func (t *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	switch {
	case t.tx != nil:
		return t.tx.SendBatch(ctx, b)
	case t.closed:
		return pgx.FailedBatchResults(b, pgx.ErrTxClosed)
	}
	begin := &pgx.Batch{}
	begin.BeginTx(pgx.TxOptions{})
	pending := 1
	if asyncCommit(ctx) {
		begin.Queue(asyncCommitSQL)
		pending++
	}
	begin.QueuedQueries = append(begin.QueuedQueries, b.QueuedQueries...)
	br := t.conn.SendBatch(ctx, begin)
	t.tx = br.Tx()
	return &begunBatch{BatchResults: br, pending: pending}
}

// Begin starts a nested transaction: a savepoint.
func (t *lazyTx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Begin(ctx)
}

// Commit commits the transaction; one that sent nothing has nothing to commit.
func (t *lazyTx) Commit(ctx context.Context) error {
	if t.tx != nil {
		return t.tx.Commit(ctx)
	}
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	return nil
}

// Rollback rolls the transaction back; one that sent nothing has nothing to roll back.
func (t *lazyTx) Rollback(ctx context.Context) error {
	if t.tx != nil {
		return t.tx.Rollback(ctx)
	}
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed = true
	return nil
}

// Exec runs a statement in the transaction.
func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	return tx.Exec(ctx, sql, args...)
}

// Query runs a query in the transaction.
func (t *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Query(ctx, sql, args...)
}

// QueryRow runs a query of one row in the transaction.
func (t *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	tx, err := t.begun(ctx)
	if err != nil {
		return failedRow{err}
	}
	return tx.QueryRow(ctx, sql, args...)
}

// CopyFrom copies rows in with the COPY protocol, in the transaction.
func (t *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return 0, err
	}
	return tx.CopyFrom(ctx, table, columns, src)
}

// Prepare prepares a statement on the transaction's connection.
func (t *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	tx, err := t.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Prepare(ctx, name, sql)
}

// LargeObjects answers the transaction's large objects, beginning it if nothing went out yet
// (LargeObjects takes no context). A transaction that cannot begin answers a closed one's, whose
// every operation fails.
func (t *lazyTx) LargeObjects() pgx.LargeObjects {
	tx, err := t.begun(context.Background())
	if err != nil {
		b := &pgx.Batch{}
		b.BeginTx(pgx.TxOptions{})
		tx = pgx.FailedBatchResults(b, err).Tx()
	}
	return tx.LargeObjects()
}

// Conn is the transaction's connection.
func (t *lazyTx) Conn() *pgx.Conn { return t.conn }

// begunBatch answers a batch whose first statement is the transaction's BEGIN (and, for work
// marked AsyncCommit, its setting): those answers are read before the caller reads its first,
// so the caller sees the answers of what it queued (Close, which reads them all, needs no help).
type begunBatch struct {
	pgx.BatchResults
	pending int // answers of the statements the transaction put ahead of the caller's
}

// skipBegin reads BEGIN's answer, and its setting's. A BEGIN that failed fails the batch: the
// next answer read carries the error.
func (r *begunBatch) skipBegin() {
	for ; r.pending > 0; r.pending-- {
		_, _ = r.BatchResults.Exec()
	}
}

// Exec reads the answer of the caller's next statement.
func (r *begunBatch) Exec() (pgconn.CommandTag, error) {
	r.skipBegin()
	return r.BatchResults.Exec()
}

// Query reads the answer of the caller's next query.
func (r *begunBatch) Query() (pgx.Rows, error) {
	r.skipBegin()
	return r.BatchResults.Query()
}

// QueryRow reads the answer of the caller's next query of one row.
func (r *begunBatch) QueryRow() pgx.Row {
	r.skipBegin()
	return r.BatchResults.QueryRow()
}

// failedRow is a row that could not be read, for the reason it holds.
type failedRow struct{ err error }

func (r failedRow) Scan(...any) error { return r.err }
