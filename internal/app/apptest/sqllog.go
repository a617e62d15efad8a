package apptest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SQLLog is a pgx tracer that keeps the statements sent while it is on, one line each (a batch's
// statements indented under a "-- batch:" line), so that a test bounding round trips can show
// what went over the wire when the bound is passed.
type SQLLog struct {
	mu  sync.Mutex
	on  bool
	sql []string
}

// WithSQLLog makes the app's pool trace its statements into l.
func WithSQLLog(l *SQLLog) Option {
	return WithDBConfig(func(c *pgxpool.Config) { c.ConnConfig.Tracer = l })
}

// Start forgets what was kept and keeps what is sent from now on.
func (l *SQLLog) Start() {
	l.mu.Lock()
	l.on, l.sql = true, nil
	l.mu.Unlock()
}

// Statements counts the statements kept since Start.
func (l *SQLLog) Statements() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.sql {
		if s != "-- batch:" {
			n++
		}
	}
	return n
}

// Named counts the statements kept since Start that sqlc named name (its "-- name: " comment).
func (l *SQLLog) Named(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.sql {
		if strings.Contains(s, "-- name: "+name+" ") {
			n++
		}
	}
	return n
}

// Show logs the statements kept since Start, numbered.
func (l *SQLLog) Show(t testing.TB) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, s := range l.sql {
		t.Logf("%2d %.160s", i+1, s)
	}
}

func (l *SQLLog) record(sql string) {
	l.mu.Lock()
	if l.on {
		l.sql = append(l.sql, strings.Join(strings.Fields(sql), " "))
	}
	l.mu.Unlock()
}

// TraceQueryStart implements pgx.QueryTracer.
func (l *SQLLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.record(d.SQL)
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (l *SQLLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart implements pgx.BatchTracer.
func (l *SQLLog) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	l.record("-- batch:")
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer.
func (l *SQLLog) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	l.record("   " + d.SQL)
}

// TraceBatchEnd implements pgx.BatchTracer.
func (l *SQLLog) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// Count is how many statements kept since Start contain s.
func (l *SQLLog) Count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, q := range l.sql {
		if strings.Contains(q, s) {
			n++
		}
	}
	return n
}
