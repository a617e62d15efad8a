// Package pgdb opens the PostgreSQL pool and runs work in transactions.
//
// One pgx.Tx is shared by sqlc queries (Queries.WithTx), River inserts (InsertTx) and event
// publishing, so that data, jobs and events commit or vanish together.
package pgdb

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxuuid "github.com/vgarvardt/pgx-google-uuid/v5"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// Open connects a pool to url, creating the database first when it does not exist yet, so that
// `go run ./cmd/goshop` works on a machine with nothing but a PostgreSQL server.
// configure, when given, changes the pool's settings before it connects (tests count round trips).
func Open(ctx context.Context, dbURL string, maxConns int32, configure ...func(*pgxpool.Config)) (*pgxpool.Pool, error) {
	if err := EnsureDatabase(ctx, dbURL); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("pgdb: parse url: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	NativeUUIDs(cfg)
	for _, f := range configure {
		f(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgdb: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgdb: ping: %w", err)
	}
	return pool, nil
}

// NativeUUIDs teaches the pool's connections google/uuid's UUID as a binary uuid. Without it
// pgx takes a uuid.UUID through driver.Valuer: a string, a failed binary encode whose error
// message formats the value, a text scan and a second encode, for every UUID parameter
// (11% of the server's CPU in a checkout profile).
func NativeUUIDs(cfg *pgxpool.Config) {
	prev := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		pgxuuid.Register(conn.TypeMap())
		if prev != nil {
			return prev(ctx, conn)
		}
		return nil
	}
}

// EnsureDatabase creates the database named in dbURL when it is missing, connecting to the
// server's `postgres` database to do so.
func EnsureDatabase(ctx context.Context, dbURL string) error {
	name, adminURL, err := splitDatabase(dbURL)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("pgdb: connect to server: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("pgdb: look up database: %w", err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created by a concurrent start
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgdb: create database %s: %w", name, err)
	}
	return nil
}

// AdminURL returns dbURL pointed at the server's `postgres` database.
func AdminURL(dbURL string) (string, error) {
	_, admin, err := splitDatabase(dbURL)
	return admin, err
}

// WithDatabase returns dbURL pointed at another database on the same server.
func WithDatabase(dbURL, name string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", fmt.Errorf("pgdb: parse url: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func splitDatabase(dbURL string) (name, admin string, err error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", "", fmt.Errorf("pgdb: parse url: %w", err)
	}
	name = strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return "", "", fmt.Errorf("pgdb: DATABASE_URL names no database")
	}
	u.Path = "/postgres"
	return name, u.String(), nil
}

// AsyncCommit marks ctx's work as a River job's that River runs again when its completion is
// lost: the transactions (WithTx, WithPipelinedTx) and the batches sent on a pool with it commit
// without waiting for their WAL to reach the disk (synchronous_commit off, for them alone, set in
// the round trip of their first batch). River completes a job in a transaction of its own,
// committed synchronously after the work's, and PostgreSQL flushes its WAL in order: a
// completion that survives a crash of PostgreSQL carries the work with it, and work that does
// not survive leaves its job to run again. A crash of GoShop loses nothing either way. Only for
// idempotent work that no client was answered about: read models, notifications. Statements
// sent one at a time (not batched) are left as they are.
func AsyncCommit(ctx context.Context) context.Context {
	return context.WithValue(ctx, asyncCommitKey{}, true)
}

type asyncCommitKey struct{}

func asyncCommit(ctx context.Context) bool { v, _ := ctx.Value(asyncCommitKey{}).(bool); return v }

// asyncCommitSQL is AsyncCommit's setting, local to the transaction.
const asyncCommitSQL = "SELECT set_config('synchronous_commit', 'off', true)"

// WithTx runs fn in a transaction on pool: committed when fn returns nil, rolled back otherwise
// (and when fn panics). The transaction's BEGIN travels with the first batch fn sends (lazyTx):
// a transaction that opens with a batch costs one round trip less. A connection that a failed
// commit or rollback leaves inside a transaction is closed, not reused (pgxpool's Release drops
// a connection that is not idle).
func WithTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx) error) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("pgdb: begin: %w", err)
	}
	defer conn.Release()
	tx := &lazyTx{conn: conn.Conn()}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgdb: commit: %w", err)
	}
	return nil
}

// IsUniqueViolation reports whether err is a unique-constraint violation, optionally of the
// named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return false
	}
	return constraint == "" || pgErr.ConstraintName == constraint
}

// IsCheckViolation reports whether err is a violation of the named CHECK constraint.
func IsCheckViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23514" && (constraint == "" || pgErr.ConstraintName == constraint)
}

// IsForeignKeyViolation reports whether err is a foreign-key violation: a row still referenced,
// or a reference to a row that is gone.
func IsForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

// NotFound turns "no rows" into the typed not-found error of kind; other errors pass as they
// are. Every "fetch this one thing" in the contexts ends with it.
func NotFound(err error, kind string) error {
	if IsNoRows(err) {
		return apperr.NotFoundf(kind)
	}
	return err
}

// IsNoRows reports whether err says a query found no row.
func IsNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// DBTX is what sqlc's generated queries run on: the pool or a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Named wraps db so that an error of any query run on it says where it came from: the
// context's name and the sqlc query's, "order: LockOrder: <cause>". A 500 in the log then
// names the failing query however many callers the error passed through unwrapped. The cause
// stays reachable: errors.Is(err, pgx.ErrNoRows), NotFound and the Is*Violation checks see
// through the wrap. Each context builds its store on it, for the pool and for every
// transaction alike.
func Named(scope string, db DBTX) DBTX { return named{scope: scope, db: db} }

type named struct {
	scope string
	db    DBTX
}

func (n named) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := n.db.Exec(ctx, sql, args...)
	return tag, n.wrap(sql, err)
}

func (n named) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := n.db.Query(ctx, sql, args...)
	if err != nil {
		return rows, n.wrap(sql, err)
	}
	return namedRows{Rows: rows, n: n, sql: sql}, nil
}

func (n named) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return namedRow{row: n.db.QueryRow(ctx, sql, args...), n: n, sql: sql}
}

// wrap names err by the query it came from; the name is worked out only when there is an error.
func (n named) wrap(sql string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %s: %w", n.scope, queryName(sql), err)
}

// queryName reads the name sqlc writes at the head of each query ("-- name: LockOrder :one").
func queryName(sql string) string {
	if rest, ok := strings.CutPrefix(sql, "-- name: "); ok {
		if name, _, ok := strings.Cut(rest, " "); ok {
			return name
		}
	}
	return "query"
}

// namedRow defers the query's error to Scan, as pgx does.
type namedRow struct {
	row pgx.Row
	n   named
	sql string
}

func (r namedRow) Scan(dest ...any) error { return r.n.wrap(r.sql, r.row.Scan(dest...)) }

// namedRows names the errors a result set reports while it is read.
type namedRows struct {
	pgx.Rows
	n   named
	sql string
}

func (r namedRows) Scan(dest ...any) error { return r.n.wrap(r.sql, r.Rows.Scan(dest...)) }

func (r namedRows) Err() error { return r.n.wrap(r.sql, r.Rows.Err()) }
