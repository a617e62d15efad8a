package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestMain lets the test binary stand in for the goshop binary: Run starts `<binary> serve`, and
// the end-to-end tests point -binary at this very executable.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" && os.Getenv("HTTP_ADDR") != "" {
		os.Exit(fakeServe())
	}
	if len(os.Args) > 1 && os.Args[1] == "seed" && os.Getenv("HTTP_ADDR") != "" {
		os.Exit(fakeSeed())
	}
	os.Exit(m.Run())
}

func TestSummarizeCountsNon2xxAndEstimatesPercentiles(t *testing.T) {
	t.Parallel()
	start := time.Now()
	ch := make(chan *vegeta.Result, 1000)
	for i := 1; i <= 1000; i++ {
		r := &vegeta.Result{Code: 200, Timestamp: start.Add(time.Duration(i) * time.Millisecond), Latency: time.Duration(i) * time.Millisecond}
		switch i {
		case 10:
			r.Code, r.Error = 500, "500 Internal Server Error"
		case 20:
			r.Code = 302 // vegeta calls this a success; the bench does not
		case 30:
			r.Code, r.Error = 0, "dial tcp: connection refused"
		}
		ch <- r
	}
	close(ch)

	s := summarize("x", ch)

	assert.Equal(t, "x", s.Name)
	assert.EqualValues(t, 1000, s.Requests)
	assert.EqualValues(t, 3, s.Errors)
	assert.Equal(t, "500 Internal Server Error", s.FirstError)
	// t-digest is an estimate: allow 1% of the range.
	assert.InDelta(t, 500*time.Millisecond, s.P50, float64(10*time.Millisecond))
	assert.InDelta(t, 900*time.Millisecond, s.P90, float64(10*time.Millisecond))
	assert.InDelta(t, 990*time.Millisecond, s.P99, float64(10*time.Millisecond))
	assert.Equal(t, 1000*time.Millisecond, s.Max)
	// First sent at +1ms, last answered at +1000ms+1000ms.
	assert.Equal(t, 1999*time.Millisecond, s.Elapsed)
	assert.InDelta(t, 1000/1.999, s.RPS(), 0.01)
}

func TestSummarizeEmpty(t *testing.T) {
	t.Parallel()
	ch := make(chan *vegeta.Result)
	close(ch)
	s := summarize("none", ch)
	assert.Zero(t, s.Requests)
	assert.Zero(t, s.RPS())
	assert.Zero(t, s.Max)
}

func TestDescribeFailure(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "HTTP 302", describeFailure(&vegeta.Result{Code: 302}))
	assert.Equal(t, "no response", describeFailure(&vegeta.Result{}))
	assert.Equal(t, "boom", describeFailure(&vegeta.Result{Error: "boom"}))
}

// countingServer answers after delay with status, and records what a closed-loop client with
// connection reuse should produce: never more requests in flight, nor connections opened, than
// there are workers.
type countingServer struct {
	*httptest.Server
	requests, inFlight, maxInFlight, conns atomic.Int64
}

func newCountingServer(t *testing.T, status int, delay time.Duration) *countingServer {
	t.Helper()
	cs := &countingServer{}
	cs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.requests.Add(1)
		n := cs.inFlight.Add(1)
		defer cs.inFlight.Add(-1)
		for {
			m := cs.maxInFlight.Load()
			if n <= m || cs.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(delay)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	cs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			cs.conns.Add(1)
		}
	}
	cs.Start()
	t.Cleanup(cs.Close)
	return cs
}

func staticGet(u string) vegeta.Targeter {
	return vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: u})
}

func TestRunLoadClosedLoop(t *testing.T) {
	t.Parallel()
	const workers = 4
	srv := newCountingServer(t, http.StatusOK, 2*time.Millisecond)
	client := newClient(workers)
	defer client.CloseIdleConnections()
	cfg := loadConfig{Client: client, Concurrency: workers, Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond}

	s, err := runLoad(context.Background(), cfg, "ok", staticGet(srv.URL))
	require.NoError(t, err)

	assert.Positive(t, s.Requests)
	assert.Zero(t, s.Errors)
	assert.Empty(t, s.FirstError)
	assert.Greater(t, srv.requests.Load(), int64(s.Requests), "warm-up requests must not be counted")
	assert.LessOrEqual(t, srv.maxInFlight.Load(), int64(workers), "closed loop: at most one request per worker")
	assert.Greater(t, srv.maxInFlight.Load(), int64(1), "workers run concurrently")
	assert.LessOrEqual(t, srv.conns.Load(), int64(workers), "connections are reused across requests and runs")
	assert.GreaterOrEqual(t, s.P50, 2*time.Millisecond)
	assert.True(t, s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.Max, "percentiles ordered: %+v", s)
	assert.InDelta(t, cfg.Duration, s.Elapsed, float64(150*time.Millisecond))
	// Each worker does at most one request per 2ms.
	assert.LessOrEqual(t, s.RPS(), float64(workers)*500*1.1)
}

func TestRunLoadCountsErrors(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, http.StatusServiceUnavailable, 0)
	client := newClient(2)
	defer client.CloseIdleConnections()

	s, err := runLoad(context.Background(), loadConfig{Client: client, Concurrency: 2, Duration: 100 * time.Millisecond}, "down", staticGet(srv.URL))
	require.NoError(t, err)
	assert.Positive(t, s.Requests)
	assert.Equal(t, s.Requests, s.Errors)
	assert.Equal(t, "503 Service Unavailable", s.FirstError)
}

func TestRunLoadStopsOnCancel(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, http.StatusOK, time.Millisecond)
	client := newClient(2)
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()

	began := time.Now()
	_, err := runLoad(ctx, loadConfig{Client: client, Concurrency: 2, Duration: time.Minute}, "cancelled", staticGet(srv.URL))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(began), 5*time.Second)
}

func TestRedirectIsAnError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.RedirectHandler("/elsewhere", http.StatusFound))
	defer srv.Close()
	client := newClient(1)
	defer client.CloseIdleConnections()

	s, err := runLoad(context.Background(), loadConfig{Client: client, Concurrency: 1, Duration: 50 * time.Millisecond}, "redirect", staticGet(srv.URL))
	require.NoError(t, err)
	assert.Positive(t, s.Requests)
	assert.Equal(t, s.Requests, s.Errors)
	assert.Equal(t, "HTTP 302", s.FirstError)
}

func TestReport(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rep := newReport(&buf, []string{"profile (goshop)", "profile (bare pgx)"})
	require.NoError(t, rep.header())
	require.NoError(t, rep.row(stats{Name: "profile (goshop)", Requests: 120000, Elapsed: 10 * time.Second,
		P50: 1500 * time.Microsecond, P90: 2 * time.Millisecond, P99: 4250 * time.Microsecond, Max: 31 * time.Millisecond}))
	require.NoError(t, rep.row(stats{Name: "profile (bare pgx)", Requests: 200, Errors: 2, FirstError: "500 Internal Server Error",
		Elapsed: 2 * time.Second, P50: 400 * time.Microsecond, P90: 500 * time.Microsecond, P99: time.Millisecond, Max: 1234567 * time.Microsecond}))
	require.NoError(t, rep.footer())

	want := "" +
		"scenario                 reqs     errs      req/s       p50       p90       p99       max\n" +
		"profile (goshop)       120000        0      12000    1.50ms    2.00ms    4.25ms   31.00ms\n" +
		"profile (bare pgx)        200        2        100    0.40ms    0.50ms    1.00ms 1234.57ms\n" +
		"profile (bare pgx): 2 of 200 requests failed, first: 500 Internal Server Error\n"
	assert.Equal(t, want, buf.String())
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil)
	require.NoError(t, err)
	exe, err := os.Executable()
	require.NoError(t, err)
	assert.Equal(t, exe, o.Binary)
	assert.Equal(t, "127.0.0.1:18080", o.Addr)
	assert.Equal(t, "postgres://postgres@127.0.0.1:5432/goshop_bench?sslmode=disable", o.DatabaseURL)
	assert.Equal(t, "redis://127.0.0.1:6379/0", o.RedisURL)
	assert.Equal(t, 10*time.Second, o.Duration)
	assert.Equal(t, 32, o.Concurrency)
	assert.Equal(t, 2*time.Second, o.Warmup)
	assert.Equal(t, 20, o.DBMaxConns)
	assert.Equal(t, 100000, o.Products)
	assert.Equal(t, 8, o.Deliveries)
	assert.Equal(t, liveOptions{Subscribers: 1000, Posts: 200, Interval: 20 * time.Millisecond, Wait: 10 * time.Second}, o.Live)

	o, err = parseFlags([]string{"-binary", "/bin/x", "-concurrency", "8", "-duration", "1s", "-warmup", "0s"})
	require.NoError(t, err)
	assert.Equal(t, "/bin/x", o.Binary)
	assert.Equal(t, 8, o.Concurrency)
	assert.Equal(t, time.Second, o.Duration)
	assert.Zero(t, o.Warmup)

	for _, bad := range [][]string{{"-concurrency", "0"}, {"-duration", "0s"}, {"-warmup", "-1s"}, {"-products", "0"}, {"-deliveries", "0"},
		{"-live-subscribers", "0"}, {"-live-posts", "0"}, {"-live-interval", "0s"}, {"extra"}, {"-nope"}} {
		_, err := parseFlags(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// testAdminURL is the maintenance database of the local PostgreSQL, where throwaway databases
// are created.
func testAdminURL() string {
	if v := os.Getenv("BENCH_TEST_PG_ADMIN_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// newTestDB creates a database holding the users.users columns the reference reads, dropped
// when the test ends, and returns its URL.
func newTestDB(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, testAdminURL())
	require.NoError(t, err, "PostgreSQL at %s (set BENCH_TEST_PG_ADMIN_URL to use another)", testAdminURL())
	defer admin.Close(ctx)
	name := "goshop_bench_test_" + randomHex(6)
	_, err = admin.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), testAdminURL())
		if err != nil {
			t.Errorf("drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})

	u, err := url.Parse(testAdminURL())
	require.NoError(t, err)
	u.Path = "/" + name
	db, err := pgx.Connect(ctx, u.String())
	require.NoError(t, err)
	defer db.Close(ctx)
	_, err = db.Exec(ctx, `
CREATE SCHEMA users;
CREATE TABLE users.users (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email      text NOT NULL,
    full_name  text NOT NULL,
    phone      text,
    roles      text[] NOT NULL DEFAULT ARRAY['user']::text[],
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE SCHEMA catalog;
CREATE TABLE catalog.categories (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parent_id uuid REFERENCES catalog.categories (id),
    name      text NOT NULL
);
CREATE TABLE catalog.products (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id      uuid NOT NULL DEFAULT gen_random_uuid(),
    title        text NOT NULL,
    description  text NOT NULL DEFAULT '',
    brand        text NOT NULL DEFAULT '',
    model        text NOT NULL DEFAULT '',
    category_id  uuid REFERENCES catalog.categories (id),
    attributes   jsonb NOT NULL DEFAULT '{}',
    status       text NOT NULL DEFAULT 'active',
    currency     text NOT NULL DEFAULT 'VND',
    price        bigint NOT NULL DEFAULT 0,
    rating       numeric(3, 2) NOT NULL DEFAULT 0,
    rating_count integer NOT NULL DEFAULT 0,
    weight_grams integer NOT NULL DEFAULT 0,
    listed       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz
);
CREATE TABLE catalog.variants (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id      uuid NOT NULL REFERENCES catalog.products (id),
    sku             text NOT NULL DEFAULT '',
    name            text NOT NULL,
    attributes      jsonb NOT NULL DEFAULT '{}',
    price           bigint NOT NULL,
    effective_price bigint NOT NULL,
    stock           integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
)`)
	require.NoError(t, err)
	return u.String()
}

func TestReferenceHandler(t *testing.T) {
	t.Parallel()
	dbURL := newTestDB(t)
	ctx := context.Background()
	ref, err := startReference(ctx, dbURL, 2)
	require.NoError(t, err)
	defer ref.close()
	assert.EqualValues(t, 2, ref.MaxConns())

	var liveID, phonelessID, deletedID string
	created := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	require.NoError(t, ref.pool.QueryRow(ctx, `INSERT INTO users.users (email, full_name, phone, roles, created_at)
		VALUES ('a@example.com', 'Anna A', '+84 90 000 0000', ARRAY['user','admin'], $1) RETURNING id`, created).Scan(&liveID))
	require.NoError(t, ref.pool.QueryRow(ctx, `INSERT INTO users.users (email, full_name)
		VALUES ('b@example.com', 'Bao B') RETURNING id`).Scan(&phonelessID))
	require.NoError(t, ref.pool.QueryRow(ctx, `INSERT INTO users.users (email, full_name, deleted_at)
		VALUES ('c@example.com', 'Gone', now()) RETURNING id`).Scan(&deletedID))

	get := func(id string) (int, string, string) {
		resp, err := http.Get(ref.URL + "/users/profile?id=" + url.QueryEscape(id))
		require.NoError(t, err)
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, err = buf.ReadFrom(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header.Get("Content-Type"), buf.String()
	}

	code, ctype, body := get(liveID)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "application/json", ctype)
	assert.JSONEq(t, fmt.Sprintf(`{"id":%q,"email":"a@example.com","full_name":"Anna A","phone":"+84 90 000 0000",
		"roles":["user","admin"],"created_at":"2026-03-04T05:06:07Z"}`, liveID), body)

	code, _, body = get(phonelessID)
	require.Equal(t, http.StatusOK, code, body)
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	assert.Nil(t, p["phone"])
	assert.Equal(t, []any{"user"}, p["roles"])

	code, _, _ = get(deletedID)
	assert.Equal(t, http.StatusNotFound, code)
	code, _, _ = get("00000000-0000-0000-0000-000000000000")
	assert.Equal(t, http.StatusNotFound, code)
	code, _, _ = get("not-a-uuid")
	assert.Equal(t, http.StatusBadRequest, code)

	// Products: one with its variants, and a category's subtree, newest first.
	var root, leaf, older, newer, hidden string
	require.NoError(t, ref.pool.QueryRow(ctx, `INSERT INTO catalog.categories (name) VALUES ('Root') RETURNING id`).Scan(&root))
	require.NoError(t, ref.pool.QueryRow(ctx, `INSERT INTO catalog.categories (parent_id, name) VALUES ($1, 'Leaf') RETURNING id`, root).Scan(&leaf))
	require.NoError(t, ref.pool.QueryRow(ctx, `INSERT INTO catalog.products (title, category_id, price, attributes)
		VALUES ('Older', $1, 900, '{"color":"red"}') RETURNING id`, leaf).Scan(&older))
	require.NoError(t, ref.pool.QueryRow(ctx, `INSERT INTO catalog.products (title, category_id, price) VALUES ('Newer', $1, 800) RETURNING id`, root).Scan(&newer))
	require.NoError(t, ref.pool.QueryRow(ctx, `INSERT INTO catalog.products (title, category_id, listed) VALUES ('Hidden', $1, false) RETURNING id`, leaf).Scan(&hidden))
	_, err = ref.pool.Exec(ctx, `INSERT INTO catalog.variants (product_id, sku, name, price, effective_price, stock)
		VALUES ($1, 'A', 'A', 1000, 900, 3), ($1, 'B', 'B', 1200, 1200, 0)`, older)
	require.NoError(t, err)
	getJSON := func(path string, v any) int {
		resp, err := http.Get(ref.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
		}
		return resp.StatusCode
	}
	var prod map[string]any
	require.Equal(t, http.StatusOK, getJSON("/products/"+older, &prod))
	assert.Equal(t, "Older", prod["title"])
	assert.Equal(t, "red", prod["attributes"].(map[string]any)["color"])
	require.Len(t, prod["variants"], 2)
	assert.EqualValues(t, 900, prod["variants"].([]any)[0].(map[string]any)["price"])
	assert.EqualValues(t, 1000, prod["variants"].([]any)[0].(map[string]any)["list_price"])
	assert.Equal(t, http.StatusNotFound, getJSON("/products/"+hidden, &prod))
	assert.Equal(t, http.StatusBadRequest, getJSON("/products/nope", &prod))
	var list struct {
		Items []map[string]any `json:"items"`
	}
	require.Equal(t, http.StatusOK, getJSON("/products?category="+root, &list))
	require.Len(t, list.Items, 2)
	assert.Equal(t, newer, list.Items[0]["id"])
	assert.Equal(t, []any{}, list.Items[0]["variants"])
	assert.Equal(t, http.StatusBadRequest, getJSON("/products?category=x", &list))
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// reportRow returns the reqs and errs columns of the row named name.
func reportRow(t *testing.T, out, name string) (reqs, errs int) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			f := strings.Fields(rest)
			require.Len(t, f, 7, line)
			reqs, err := strconv.Atoi(f[0])
			require.NoError(t, err)
			errs, err := strconv.Atoi(f[1])
			require.NoError(t, err)
			return reqs, errs
		}
	}
	t.Fatalf("no row %q in:\n%s", name, out)
	return 0, 0
}

// TestRunEndToEnd drives the whole subcommand against fakeServe: child start, readiness polling,
// registration, both rows, and shutdown by SIGTERM.
func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	dbURL := newTestDB(t)
	var out bytes.Buffer
	err := Run(context.Background(), []string{
		"-binary", os.Args[0], "-addr", freeAddr(t), "-database-url", dbURL,
		"-duration", "300ms", "-warmup", "100ms", "-concurrency", "4", "-db-max-conns", "2", "-products", "5", "-checkout=false",
		"-deliveries", "2", "-live-subscribers", "5", "-live-posts", "3", "-live-interval", "5ms", "-logins", "0",
	}, &out)
	require.NoError(t, err, out.String())
	t.Log("\n" + out.String())

	for _, name := range []string{"profile (goshop)", "profile (bare pgx)", "product (goshop)", "product (bare pgx)",
		"products?category (goshop)", "products?category (bare pgx)", "location update (goshop)"} {
		reqs, errs := reportRow(t, out.String(), name)
		assert.Positive(t, reqs, name)
		assert.Zero(t, errs, name)
	}
	reqs, errs := reportRow(t, out.String(), "live tracking (5 followers)")
	assert.Equal(t, 15, reqs, "every follower gets every post")
	assert.Zero(t, errs)
	assert.Contains(t, out.String(), "4 workers")
}

func TestRunServerDiesAtStart(t *testing.T) {
	t.Parallel()
	err := Run(context.Background(), []string{
		"-binary", os.Args[0], "-addr", freeAddr(t), "-redis-url", "crash", "-duration", "100ms",
	}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited before it was ready")
	assert.Contains(t, err.Error(), "exit status 3")
}

func TestRunRefusesBusyAddr(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = Run(context.Background(), []string{"-binary", os.Args[0], "-addr", ln.Addr().String()}, &bytes.Buffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not free")
}

func TestRunCancelledStopsServer(t *testing.T) {
	t.Parallel()
	dbURL := newTestDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := freeAddr(t)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"-binary", os.Args[0], "-addr", addr, "-database-url", dbURL,
			"-duration", "1m", "-warmup", "0s", "-concurrency", "2", "-db-max-conns", "2", "-products", "1"}, &bytes.Buffer{})
	}()
	// Cancel once the load is on, i.e. the server has answered.
	require.Eventually(t, func() bool { return probeOK(ctx, http.DefaultClient, "http://"+addr+"/readyz") == nil },
		10*time.Second, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	// The child is gone: nothing listens on its address any more.
	_, err := net.DialTimeout("tcp", addr, time.Second)
	assert.Error(t, err)
}

// fakeServe imitates the parts of `goshop serve` the bench touches. REDIS_URL=crash makes it die
// at start-up, since the fake has no use for Redis and the bench passes that flag through.
func fakeServe() int {
	if os.Getenv("REDIS_URL") == "crash" {
		fmt.Fprintln(os.Stderr, "fake server: crashing on purpose")
		return 3
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	for _, k := range []string{"REDIS_PREFIX", "LOG_LEVEL", "RATE_LIMIT_DISABLED", "DB_MAX_CONNS"} {
		if os.Getenv(k) == "" {
			fmt.Fprintf(os.Stderr, "fake server: %s not set\n", k)
			return 2
		}
	}
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake server:", err)
		return 1
	}
	defer pool.Close()

	readyAt := time.Now().Add(300 * time.Millisecond) // makes the bench poll more than once
	var tokens sync.Map                               // access token -> user ID
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if time.Now().Before(readyAt) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("POST /api/v1/auth/register", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Email    string `json:"email"`
			Password string `json:"password"`
			FullName string `json:"full_name"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.Password) < 12 || in.FullName == "" ||
			!strings.HasPrefix(in.Email, "bench-") {
			http.Error(w, `{"error":"bad request"}`, http.StatusUnprocessableEntity)
			return
		}
		var id string
		if err := pool.QueryRow(r.Context(), `INSERT INTO users.users (email, full_name) VALUES ($1, $2) RETURNING id`,
			in.Email, in.FullName).Scan(&id); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		tok := "tok-" + id
		tokens.Store(tok, id)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"user": map[string]string{"id": id}, "access_token": tok, "refresh_token": "r", "expires_in": 900,
		})
	})
	mux.HandleFunc("GET /api/v1/users/profile", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := tokens.Load(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")); !ok {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"x"}`))
	})

	mux.HandleFunc("GET /api/v1/products/{id}", func(w http.ResponseWriter, r *http.Request) {
		var found bool
		if err := pool.QueryRow(r.Context(), `SELECT EXISTS (SELECT 1 FROM catalog.products WHERE id::text = $1)`,
			r.PathValue("id")).Scan(&found); err != nil || !found {
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"x"}`))
	})
	mux.HandleFunc("GET /api/v1/products", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("category") == "" {
			http.Error(w, `{"error":"no category"}`, http.StatusUnprocessableEntity)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"items":[]}`))
	})

	fakeDeliveries(mux, &tokens)

	srv := &http.Server{Addr: os.Getenv("HTTP_ADDR"), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		fmt.Fprintln(os.Stderr, "fake server:", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return 1
	}
	return 0
}

// fakeSeed imitates `goshop seed -products N`: a root category with a child, and N products in
// the child, each with one variant.
func fakeSeed() int {
	if len(os.Args) != 4 || os.Args[2] != "-products" {
		fmt.Fprintln(os.Stderr, "fake seed: want -products N, got", os.Args[2:])
		return 2
	}
	n, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake seed:", err)
		return 2
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake seed:", err)
		return 1
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		WITH root AS (INSERT INTO catalog.categories (name) VALUES ('Root') RETURNING id),
		     leaf AS (INSERT INTO catalog.categories (parent_id, name) SELECT id, 'Leaf' FROM root RETURNING id),
		     p AS (INSERT INTO catalog.products (title, category_id, price)
		           SELECT 'P' || g, leaf.id, 1000 * g FROM leaf, generate_series(1, $1::int) g RETURNING id, price)
		INSERT INTO catalog.variants (product_id, name, price, effective_price, stock) SELECT id, 'Default', price, price, 5 FROM p`, n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake seed:", err)
		return 1
	}
	return 0
}

// fakeDeliveries imitates the delivery flow the bench drives, in memory: shop, product, address,
// shipper registration, cart, checkout and confirmation, an assignment of the next available
// shipper, the tracking read, location posts, and the live-tracking WebSocket that relays them.
func fakeDeliveries(mux *http.ServeMux, tokens *sync.Map) {
	var (
		mu        sync.Mutex
		available []string              // shipper IDs, in the order they became available
		carrier   = map[string]string{} // order ID -> shipper ID
		followers = map[string][]chan []byte{}
	)
	user := func(r *http.Request) (string, bool) {
		id, ok := tokens.Load(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if !ok {
			return "", false
		}
		return id.(string), true
	}
	answer := func(status int, body any) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if _, ok := user(r); !ok {
				http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(body)
		}
	}
	newID := func() map[string]any { return map[string]any{"id": uuid.NewString()} }
	mux.HandleFunc("POST /api/v1/shops", func(w http.ResponseWriter, r *http.Request) { answer(http.StatusCreated, newID())(w, r) })
	mux.HandleFunc("POST /api/v1/shops/{id}/products", func(w http.ResponseWriter, r *http.Request) {
		answer(http.StatusCreated, newID())(w, r)
	})
	mux.HandleFunc("POST /api/v1/users/addresses", func(w http.ResponseWriter, r *http.Request) {
		answer(http.StatusCreated, newID())(w, r)
	})
	mux.HandleFunc("POST /api/v1/cart/items", answer(http.StatusCreated, map[string]any{}))
	mux.HandleFunc("POST /api/v1/orders", func(w http.ResponseWriter, r *http.Request) {
		answer(http.StatusCreated, map[string]any{"orders": []any{newID()}})(w, r)
	})
	mux.HandleFunc("POST /api/v1/shipping/shippers/register", func(w http.ResponseWriter, r *http.Request) {
		id, ok := user(r)
		if ok {
			tokens.Store("ship-"+id, id)
		}
		answer(http.StatusCreated, map[string]any{"shipper": map[string]any{"id": id}, "access_token": "ship-" + id})(w, r)
	})
	mux.HandleFunc("PUT /api/v1/shipping/shippers/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		available = append(available, r.PathValue("id"))
		mu.Unlock()
		answer(http.StatusOK, map[string]any{})(w, r)
	})
	mux.HandleFunc("PUT /api/v1/orders/{id}/confirm", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if len(available) > 0 {
			carrier[r.PathValue("id")], available = available[0], available[1:]
		}
		mu.Unlock()
		answer(http.StatusOK, map[string]any{})(w, r)
	})
	mux.HandleFunc("GET /api/v1/shipping/{id}/tracking", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		s, ok := carrier[r.PathValue("id")]
		mu.Unlock()
		if !ok {
			http.Error(w, `{"error":"no shipment"}`, http.StatusNotFound)
			return
		}
		answer(http.StatusOK, map[string]any{"shipper_id": s})(w, r)
	})
	mux.HandleFunc("POST /api/v1/shipping/{id}/location", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Lat, Lng float64 }
		by, _ := user(r)
		mu.Lock()
		carrierID := carrier[r.PathValue("id")]
		subs := followers[r.PathValue("id")]
		mu.Unlock()
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || by == "" || by != carrierID {
			http.Error(w, `{"error":"not the carrier"}`, http.StatusNotFound)
			return
		}
		msg, _ := json.Marshal(map[string]any{"type": "location", "data": map[string]float64{"lat": in.Lat, "lng": in.Lng}})
		for _, c := range subs {
			c <- msg
		}
		answer(http.StatusOK, map[string]any{})(w, r)
	})
	mux.HandleFunc("GET /api/v1/shipping/{id}/live-tracking", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := tokens.Load(r.URL.Query().Get("token")); !ok {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		c := make(chan []byte, 1024)
		mu.Lock()
		followers[r.PathValue("id")] = append(followers[r.PathValue("id")], c)
		mu.Unlock()
		ctx := conn.CloseRead(context.Background())
		if conn.Write(ctx, websocket.MessageText, []byte(`{"type":"subscribed"}`)) != nil {
			return
		}
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-c:
				if conn.Write(ctx, websocket.MessageText, m) != nil {
					return
				}
			}
		}
	})
}

func TestExactPercentiles(t *testing.T) {
	t.Parallel()
	var lat []time.Duration
	for i := 100; i >= 1; i-- {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	s := exact("x", lat, 2*time.Second)
	assert.Equal(t, uint64(100), s.Requests)
	assert.Equal(t, 51*time.Millisecond, s.P50)
	assert.Equal(t, 100*time.Millisecond, s.P99)
	assert.Equal(t, 100*time.Millisecond, s.Max)
	assert.InDelta(t, 50, s.RPS(), 0.01)
	assert.Zero(t, exact("none", nil, time.Second).Requests)
}
