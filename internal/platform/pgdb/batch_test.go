package pgdb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// TestQueueRunsQueryMethodsOnABatch: a row, rows and an exec, queued by the methods that would
// run them one by one, travel in one round trip and reach their callbacks in order; a failing
// statement fails the batch, and a later statement's callback does not run.
func TestQueueRunsQueryMethodsOnABatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, rt := countedPool(t)
	_, err := pool.Exec(ctx, "CREATE TABLE t (n int)")
	require.NoError(t, err)

	one := func(db pgdb.DBTX) (int, error) {
		var n int
		err := db.QueryRow(ctx, "SELECT $1::int + 1", 41).Scan(&n)
		return n, err
	}
	many := func(db pgdb.DBTX) ([]int, error) {
		rows, err := db.Query(ctx, "SELECT generate_series(1, $1::int)", 3)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[int])
	}
	insert := func(db pgdb.DBTX) (pgconn.CommandTag, error) { return db.Exec(ctx, "INSERT INTO t VALUES (1), (2)") }

	var order []string
	var b pgdb.Batch
	require.NoError(t, pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
		// Warm the connection's statement cache, as a running server's is.
		pgdb.Queue(&b, one, func(int, error) error { return nil })
		pgdb.Queue(&b, many, func([]int, error) error { return nil })
		pgdb.Queue(&b, insert, func(pgconn.CommandTag, error) error { return nil })
		require.NoError(t, b.Send(ctx, tx))

		before := rt.N()
		pgdb.Queue(&b, one, func(n int, err error) error {
			order = append(order, "one")
			assert.Equal(t, 42, n)
			return err
		})
		pgdb.Queue(&b, many, func(ns []int, err error) error {
			order = append(order, "many")
			assert.Equal(t, []int{1, 2, 3}, ns)
			return err
		})
		pgdb.Queue(&b, insert, func(tag pgconn.CommandTag, err error) error {
			order = append(order, "exec")
			assert.EqualValues(t, 2, tag.RowsAffected())
			return err
		})
		assert.Equal(t, 3, b.Len())
		require.NoError(t, b.Send(ctx, tx))
		assert.EqualValues(t, 1, rt.N()-before, "one round trip")
		assert.Zero(t, b.Len(), "a sent batch is empty again")
		return nil
	}))
	assert.Equal(t, []string{"one", "many", "exec"}, order)

	ran := false
	err = pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
		pgdb.Queue(&b, func(db pgdb.DBTX) (pgconn.CommandTag, error) { return db.Exec(ctx, "INSERT INTO t VALUES ('x')") },
			func(pgconn.CommandTag, error) error { return nil })
		pgdb.Queue(&b, insert, func(pgconn.CommandTag, error) error { ran = true; return nil })
		return b.Send(ctx, tx)
	})
	require.Error(t, err)
	assert.False(t, ran, "after a failure the batch stops")
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM t").Scan(&n))
	assert.Equal(t, 4, n, "the failed transaction left nothing")
}

// TestQueueGenericRunsOneStatementUnderTheGenericPlan: a statement with an array parameter,
// which the plan cache would otherwise plan for its values at every execution, runs under the
// generic plan when queued with QueueGeneric, in the same round trip; the statements after it
// are planned as before.
func TestQueueGenericRunsOneStatementUnderTheGenericPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, rt := countedPool(t)

	const sumSQL = "SELECT coalesce(sum(n), 0)::int, current_setting('plan_cache_mode') FROM unnest($1::int[]) AS n"
	type answer struct {
		Sum  int
		Mode string
	}
	sum := func(ns []int32) func(db pgdb.DBTX) (answer, error) {
		return func(db pgdb.DBTX) (answer, error) {
			var a answer
			err := db.QueryRow(ctx, sumSQL, ns).Scan(&a.Sum, &a.Mode)
			return a, err
		}
	}
	plans := func() (generic, custom int64) {
		require.NoError(t, pool.QueryRow(ctx, "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
			sumSQL).Scan(&generic, &custom))
		return generic, custom
	}
	var b pgdb.Batch
	var got []answer
	keep := func(a answer, err error) error { got = append(got, a); return err }
	require.NoError(t, pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
		pgdb.Queue(&b, sum([]int32{1, 2}), keep)
		return b.Send(ctx, tx)
	}))
	generic, custom := plans()
	assert.Equal(t, [2]int64{0, 1}, [2]int64{generic, custom}, "a custom plan, made for the values")
	// Warm the connection's statement cache with the settings' statements.
	require.NoError(t, pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
		pgdb.QueueGeneric(&b, func(db pgdb.DBTX) (int, error) {
			var n int
			return n, db.QueryRow(ctx, "SELECT 1").Scan(&n)
		}, func(int, error) error { return nil })
		return b.Send(ctx, tx)
	}))

	require.NoError(t, pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
		before := rt.N()
		pgdb.QueueGeneric(&b, sum([]int32{3, 4}), keep)
		pgdb.Queue(&b, sum([]int32{5}), keep)
		if err := b.Send(ctx, tx); err != nil {
			return err
		}
		assert.EqualValues(t, 1, rt.N()-before, "one round trip")
		return nil
	}))
	generic, custom = plans()
	assert.Equal(t, [2]int64{1, 2}, [2]int64{generic, custom}, "the generic plan for the queued statement only")
	assert.Equal(t, []answer{{3, "auto"}, {7, "force_generic_plan"}, {5, "auto"}}, got)

	// Statements queued with QueueGeneric one after another share one pair of settings; one
	// queued otherwise between them keeps its custom plan.
	got = nil
	require.NoError(t, pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
		pgdb.QueueGeneric(&b, sum([]int32{1}), keep)
		pgdb.QueueGeneric(&b, sum([]int32{2, 3}), keep)
		assert.Equal(t, 4, b.Len(), "the setting, two statements and the setting back")
		pgdb.Queue(&b, sum([]int32{4}), keep)
		pgdb.QueueGeneric(&b, sum([]int32{5}), keep)
		assert.Equal(t, 8, b.Len(), "a statement between them: a pair of settings each")
		return b.Send(ctx, tx)
	}))
	assert.Equal(t, []answer{{1, "force_generic_plan"}, {5, "force_generic_plan"}, {4, "auto"}, {5, "force_generic_plan"}}, got)
	generic, custom = plans()
	assert.Equal(t, [2]int64{4, 3}, [2]int64{generic, custom})
}

// TestPipelinedTxCarriesBeginAndCommitInItsBatches: a transaction of two batches takes two
// round trips and commits; one that fails, in Go between its batches, in a statement of its
// first batch or of its committing one, commits nothing; and each time the (one) connection
// goes back to the pool out of any transaction, rather than dropped by it.
func TestPipelinedTxCarriesBeginAndCommitInItsBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, rt := countedPool(t)
	insert, rows := numbers(t, pool)
	two := func(first, second int, between error) error {
		return pgdb.WithPipelinedTx(ctx, pool, func(tx *pgdb.PipelinedTx) error {
			var b pgdb.Batch
			insert(&b, first)
			if err := tx.Send(ctx, &b); err != nil {
				return err
			}
			if between != nil {
				return between
			}
			insert(&b, second)
			return tx.SendCommit(ctx, &b)
		})
	}
	require.NoError(t, two(1, 2, nil)) // warms the statement cache
	backend := func() (pid int) {
		require.NoError(t, pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))
		return pid
	}
	pid := backend()

	t.Run("two batches, two round trips", func(t *testing.T) {
		before := rt.N()
		require.NoError(t, two(3, 4, nil))
		assert.EqualValues(t, 2, rt.N()-before)
		assert.Equal(t, []int{1, 2, 3, 4}, rows())
	})
	t.Run("an error between the batches rolls back", func(t *testing.T) {
		refused := errors.New("over the limit")
		require.ErrorIs(t, two(5, 6, refused), refused)
		assert.Equal(t, []int{1, 2, 3, 4}, rows())
	})
	t.Run("a failed statement in the first batch rolls back", func(t *testing.T) {
		require.True(t, pgdb.IsUniqueViolation(two(1, 7, nil), ""))
		assert.Equal(t, []int{1, 2, 3, 4}, rows())
	})
	t.Run("a failed statement before COMMIT commits nothing", func(t *testing.T) {
		require.True(t, pgdb.IsUniqueViolation(two(8, 2, nil), ""))
		assert.Equal(t, []int{1, 2, 3, 4}, rows(), "8 went with the rest")
	})
	t.Run("fn that never commits is committed after it", func(t *testing.T) {
		require.NoError(t, pgdb.WithPipelinedTx(ctx, pool, func(tx *pgdb.PipelinedTx) error {
			var b pgdb.Batch
			insert(&b, 9)
			return tx.Send(ctx, &b)
		}))
		assert.Equal(t, []int{1, 2, 3, 4, 9}, rows())
	})
	// The pool drops a connection handed back inside a transaction: the same backend all along
	// means each one went back idle.
	assert.Equal(t, pid, backend(), "the connection was never dropped")
}

// BenchmarkTransactionOfTwoBatches: the same transaction (a lock and a read, then an insert) sent
// as WithTx does (BEGIN, two batches, COMMIT: four round trips) and as WithPipelinedTx does
// (two), one client, on the local PostgreSQL.
func BenchmarkTransactionOfTwoBatches(b *testing.B) {
	ctx := context.Background()
	pool, err := pgdb.Open(ctx, testdb.New(b), 2)
	require.NoError(b, err)
	b.Cleanup(pool.Close)
	_, err = pool.Exec(ctx, "CREATE TABLE t (id bigserial PRIMARY KEY, n int)")
	require.NoError(b, err)
	queue := func(first bool, bt *pgdb.Batch) {
		if first {
			pgdb.Queue(bt, func(db pgdb.DBTX) (pgconn.CommandTag, error) {
				return db.Exec(ctx, "SELECT pg_advisory_xact_lock(42)")
			}, func(_ pgconn.CommandTag, err error) error { return err })
			pgdb.Queue(bt, func(db pgdb.DBTX) (int, error) {
				var n int
				return n, db.QueryRow(ctx, "SELECT count(*) FROM t WHERE id < 10").Scan(&n)
			}, func(int, error) error { return nil })
			return
		}
		pgdb.Queue(bt, func(db pgdb.DBTX) (pgconn.CommandTag, error) { return db.Exec(ctx, "INSERT INTO t (n) VALUES (1)") },
			func(_ pgconn.CommandTag, err error) error { return err })
	}
	b.Run("WithTx", func(b *testing.B) {
		for b.Loop() {
			require.NoError(b, pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
				var bt pgdb.Batch
				queue(true, &bt)
				if err := bt.Send(ctx, tx); err != nil {
					return err
				}
				queue(false, &bt)
				return bt.Send(ctx, tx)
			}))
		}
	})
	b.Run("WithPipelinedTx", func(b *testing.B) {
		for b.Loop() {
			require.NoError(b, pgdb.WithPipelinedTx(ctx, pool, func(tx *pgdb.PipelinedTx) error {
				var bt pgdb.Batch
				queue(true, &bt)
				if err := tx.Send(ctx, &bt); err != nil {
					return err
				}
				queue(false, &bt)
				return tx.SendCommit(ctx, &bt)
			}))
		}
	})
}

// numbers makes a table of numbers t (n, the primary key) on pool, and answers how to queue
// inserts of numbers on a batch and what the table holds, in order.
func numbers(t *testing.T, pool *pgxpool.Pool) (insert func(b *pgdb.Batch, ns ...int), rows func() []int) {
	t.Helper()
	ctx := context.Background()
	_, err := pool.Exec(ctx, "CREATE TABLE t (n int PRIMARY KEY)")
	require.NoError(t, err)
	insert = func(b *pgdb.Batch, ns ...int) {
		for _, n := range ns {
			pgdb.Queue(b, func(db pgdb.DBTX) (pgconn.CommandTag, error) { return db.Exec(ctx, "INSERT INTO t VALUES ($1)", n) },
				func(_ pgconn.CommandTag, err error) error { return err })
		}
	}
	rows = func() []int {
		r, err := pool.Query(ctx, "SELECT n FROM t ORDER BY n")
		require.NoError(t, err)
		ns, err := pgx.CollectRows(r, pgx.RowTo[int])
		require.NoError(t, err)
		return ns
	}
	return insert, rows
}
