package pgdb_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// counter counts a pool's statements (pgdb.CountQueries).
type counter struct{ n atomic.Int64 }

func (c *counter) Inc() { c.n.Add(1) }

// How a cut replica fails.
const (
	replicaUp        = iota
	replicaMute      // it took the batch and died before answering: reads fail
	replicaDown      // every read and write fails, and it refuses new connections
	replicaUnreached // as down, its pool's idle connections dropped: connecting fails
)

// cuttableReplica dials connections, their round trips counted in rt, that fail as its mode
// says.
type cuttableReplica struct {
	rt   pgdb.RoundTrips
	mode atomic.Int32
}

var errCut = errors.New("replica cut")

func (c *cuttableReplica) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.mode.Load() >= replicaDown {
		return nil, errCut
	}
	conn, err := c.rt.Dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &cuttableConn{Conn: conn, c: c}, nil
}

type cuttableConn struct {
	net.Conn
	c *cuttableReplica
}

func (c *cuttableConn) Read(p []byte) (int, error) {
	if c.c.mode.Load() >= replicaMute {
		return 0, errCut
	}
	return c.Conn.Read(p)
}

func (c *cuttableConn) Write(p []byte) (int, error) {
	if c.c.mode.Load() >= replicaDown {
		return 0, errCut
	}
	return c.Conn.Write(p)
}

// TestReadsSendBatchesToTheReplicaAndFallBack: a batch sent through Reads runs on the replica
// in one round trip while it is usable; a statement's error is the replica's answer, not a
// reason to fall back. When the replica cannot be reached (connecting, sending, or before its
// first answer) the batch runs on the primary instead, each callback seeing the primary's
// answer once, and reads stay on the primary (degraded) until the watcher finds it well.
func TestReadsSendBatchesToTheReplicaAndFallBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testdb.New(t)
	for _, tc := range []struct {
		name string
		mode int32
	}{{"cannot connect", replicaUnreached}, {"breaks on sending", replicaDown}, {"dies before answering", replicaMute}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var onPrimary, onReplica counter
			var cut cuttableReplica
			primary, err := pgdb.Open(ctx, dbURL, 1, pgdb.CountQueries(&onPrimary))
			require.NoError(t, err)
			defer primary.Close()
			replica, err := pgdb.OpenReplica(dbURL, 1, pgdb.CountQueries(&onReplica), func(c *pgxpool.Config) { c.ConnConfig.DialFunc = cut.Dial })
			require.NoError(t, err)
			defer replica.Close()
			reads := pgdb.NewReads(primary, replica, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
			reads.Check(ctx)
			require.Equal(t, pgdb.ReplicaOK, reads.State())

			// A row, rows and an exec, each callback counting its calls.
			var got struct {
				n, calls int
				ns       []int
				tag      string
			}
			send := func() error {
				var b pgdb.Batch
				pgdb.Queue(&b, func(db pgdb.DBTX) (int, error) {
					var n int
					err := db.QueryRow(ctx, "SELECT $1::int + 1", 41).Scan(&n)
					return n, err
				}, func(n int, err error) error { got.n, got.calls = n, got.calls+1; return err })
				pgdb.Queue(&b, func(db pgdb.DBTX) ([]int, error) {
					rows, err := db.Query(ctx, "SELECT generate_series(1, $1::int)", 3)
					if err != nil {
						return nil, err
					}
					return pgx.CollectRows(rows, pgx.RowTo[int])
				}, func(ns []int, err error) error { got.ns, got.calls = ns, got.calls+1; return err })
				pgdb.Queue(&b, func(db pgdb.DBTX) (pgconn.CommandTag, error) { return db.Exec(ctx, "SELECT 1") },
					func(tag pgconn.CommandTag, err error) error {
						got.tag, got.calls = tag.String(), got.calls+1
						return err
					})
				return b.Send(ctx, reads)
			}

			// A statement's error is an answer: the replica stays in use.
			var b pgdb.Batch
			pgdb.Queue(&b, func(db pgdb.DBTX) (int, error) {
				var n int
				return n, db.QueryRow(ctx, "SELECT 1 / $1::int", 0).Scan(&n)
			}, func(_ int, err error) error { return err })
			var pgErr *pgconn.PgError
			require.ErrorAs(t, b.Send(ctx, reads), &pgErr)
			assert.Equal(t, pgdb.ReplicaOK, reads.State())
			assert.Zero(t, onPrimary.n.Load(), "not on the primary")

			// Healthy: on the replica, in one round trip once its statements are prepared (the error
			// above made pgx drop them).
			require.NoError(t, send())
			got.calls = 0
			primaryBefore, replicaBefore, rtBefore := onPrimary.n.Load(), onReplica.n.Load(), cut.rt.N()
			require.NoError(t, send())
			assert.Equal(t, 3, got.calls)
			assert.EqualValues(t, 1, cut.rt.N()-rtBefore, "one round trip")
			assert.EqualValues(t, 3, onReplica.n.Load()-replicaBefore, "read on the replica")
			assert.Equal(t, primaryBefore, onPrimary.n.Load(), "not on the primary")

			cut.mode.Store(tc.mode)
			if tc.mode == replicaUnreached {
				replica.Reset()
			}
			got.n, got.ns, got.tag, got.calls = 0, nil, "", 0
			require.NoError(t, send())
			assert.Equal(t, 42, got.n)
			assert.Equal(t, []int{1, 2, 3}, got.ns)
			assert.Equal(t, "SELECT 1", got.tag)
			assert.Equal(t, 3, got.calls, "each callback saw one answer, the primary's")
			assert.Greater(t, onPrimary.n.Load(), primaryBefore, "read on the primary")
			assert.Equal(t, pgdb.ReplicaDegraded, reads.State())
		})
	}
}
