package pgdb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/pgdb"
)

// TestWithTxSendsBeginWithItsFirstBatch: a transaction that opens with a batch sends BEGIN in
// the batch's round trip (a batch and the commit: two round trips, not three), and everything
// else keeps pgx's meaning: one that opens with a statement begins first, a refusal or a failed
// statement commits nothing, a savepoint rolls back alone, a transaction that sent nothing
// sends nothing, and the one connection always goes back to the pool out of any transaction.
func TestWithTxSendsBeginWithItsFirstBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, rt := countedPool(t)
	insert, rows := numbers(t, pool)
	batch := func(ns ...int) error {
		return pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
			var b pgdb.Batch
			insert(&b, ns...)
			return b.Send(ctx, tx)
		})
	}
	require.NoError(t, batch(1)) // warms the statement cache
	var pid int
	require.NoError(t, pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))
	idle := func(t *testing.T) {
		t.Helper()
		var now int
		require.NoError(t, pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&now))
		assert.Equal(t, pid, now, "the connection went back to the pool idle, not dropped")
	}

	t.Run("a batch and the commit: two round trips", func(t *testing.T) {
		before := rt.N()
		require.NoError(t, batch(2, 3))
		assert.EqualValues(t, 2, rt.N()-before)
		assert.Equal(t, []int{1, 2, 3}, rows())
		idle(t)
	})
	t.Run("the batch's answers are its own, read one by one", func(t *testing.T) {
		var got []int
		require.NoError(t, pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			b.Queue("SELECT 7")
			b.Queue("SELECT 8")
			br := tx.SendBatch(ctx, b)
			for range 2 {
				var n int
				if err := br.QueryRow().Scan(&n); err != nil {
					return err
				}
				got = append(got, n)
			}
			return br.Close()
		}))
		assert.Equal(t, []int{7, 8}, got, "BEGIN's answer is not handed out")
		idle(t)
	})
	t.Run("a statement first: BEGIN first", func(t *testing.T) {
		before := rt.N()
		require.NoError(t, pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO t VALUES (4)")
			return err
		}))
		assert.EqualValues(t, 3, rt.N()-before, "BEGIN, the statement, COMMIT")
		assert.Equal(t, []int{1, 2, 3, 4}, rows())
	})
	t.Run("an error after the batch rolls back", func(t *testing.T) {
		refused := errors.New("over the limit")
		require.ErrorIs(t, pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
			var b pgdb.Batch
			insert(&b, 5)
			if err := b.Send(ctx, tx); err != nil {
				return err
			}
			return refused
		}), refused)
		assert.Equal(t, []int{1, 2, 3, 4}, rows())
		idle(t)
	})
	t.Run("a failed statement in the first batch commits nothing", func(t *testing.T) {
		require.Error(t, batch(6, 1)) // 1 is taken
		assert.Equal(t, []int{1, 2, 3, 4}, rows())
		idle(t)
	})
	t.Run("a failed statement the caller ignores: COMMIT rolls back, and says so", func(t *testing.T) {
		err := pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
			var b pgdb.Batch
			insert(&b, 7, 1)
			_ = b.Send(ctx, tx)
			return nil
		})
		require.ErrorIs(t, err, pgx.ErrTxCommitRollback)
		assert.Equal(t, []int{1, 2, 3, 4}, rows())
		idle(t)
	})
	t.Run("a savepoint rolls back alone", func(t *testing.T) {
		require.NoError(t, pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
			var b pgdb.Batch
			insert(&b, 8)
			if err := b.Send(ctx, tx); err != nil {
				return err
			}
			sp, err := tx.Begin(ctx)
			if err != nil {
				return err
			}
			if _, err := sp.Exec(ctx, "INSERT INTO t VALUES (1)"); err == nil {
				return errors.New("a taken key went in")
			}
			return sp.Rollback(ctx)
		}))
		assert.Equal(t, []int{1, 2, 3, 4, 8}, rows())
		idle(t)
	})
	t.Run("nothing sent, nothing to send", func(t *testing.T) {
		before := rt.N()
		require.NoError(t, pgdb.WithTx(ctx, pool, func(pgx.Tx) error { return nil }))
		assert.EqualValues(t, 0, rt.N()-before)
	})
	t.Run("a panic rolls back", func(t *testing.T) {
		assert.Panics(t, func() {
			_ = pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
				var b pgdb.Batch
				insert(&b, 9)
				if err := b.Send(ctx, tx); err != nil {
					return err
				}
				panic("boom")
			})
		})
		assert.Equal(t, []int{1, 2, 3, 4, 8}, rows())
		idle(t)
	})
}

// TestAsyncCommitTurnsSynchronousCommitOffForTheWorkItMarks: work marked AsyncCommit commits
// with synchronous_commit off, set in the round trip of its first batch (no round trip more),
// in a WithTx, a WithPipelinedTx and a batch sent on the pool, and the callers still read
// their own answers; the setting ends with the transaction, and unmarked work keeps the
// server's.
func TestAsyncCommitTurnsSynchronousCommitOffForTheWorkItMarks(t *testing.T) {
	t.Parallel()
	pool, rt := countedPool(t)
	async := pgdb.AsyncCommit(context.Background())
	setting := func(b *pgdb.Batch, got *string) {
		pgdb.Queue(b, func(db pgdb.DBTX) (string, error) {
			var v string
			err := db.QueryRow(context.Background(), "SELECT current_setting('synchronous_commit')").Scan(&v)
			return v, err
		}, func(v string, err error) error { *got = v; return err })
	}
	ways := map[string]func(ctx context.Context) (string, error){
		"WithTx": func(ctx context.Context) (got string, err error) {
			err = pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
				var b pgdb.Batch
				setting(&b, &got)
				return b.Send(ctx, tx)
			})
			return got, err
		},
		"WithTx, read one by one": func(ctx context.Context) (got string, err error) {
			err = pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
				b := &pgx.Batch{}
				b.Queue("SELECT current_setting('synchronous_commit')")
				br := tx.SendBatch(ctx, b)
				if err := br.QueryRow().Scan(&got); err != nil {
					return errors.Join(err, br.Close())
				}
				return br.Close()
			})
			return got, err
		},
		"WithPipelinedTx": func(ctx context.Context) (got string, err error) {
			err = pgdb.WithPipelinedTx(ctx, pool, func(tx *pgdb.PipelinedTx) error {
				var b pgdb.Batch
				setting(&b, &got)
				return tx.SendCommit(ctx, &b)
			})
			return got, err
		},
		"a batch on the pool": func(ctx context.Context) (got string, err error) {
			var b pgdb.Batch
			setting(&b, &got)
			return got, b.Send(ctx, pool)
		},
	}
	for name, way := range ways {
		t.Run(name, func(t *testing.T) {
			_, err := way(async) // warms the statement cache
			require.NoError(t, err)
			before := rt.N()
			got, err := way(async)
			require.NoError(t, err)
			assert.Equal(t, "off", got, "marked")
			rts := rt.N() - before
			got, err = way(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "on", got, "unmarked, after marked work on the same connection")
			assert.Equal(t, rt.N()-before-rts, rts, "no round trip more for the setting")
		})
	}
}
