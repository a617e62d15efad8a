package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	_ "net/http/pprof" // the fake server's DEBUG_ADDR, as goshop's
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

	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// TestMain lets the test binary stand in for the goshop binary: Run starts `<binary> serve`, and
// the end-to-end tests point -binary at this very executable.
func TestMain(m *testing.M) {
	// The reference is the real one: `<binary> bench reference` runs it as goshop would.
	if len(os.Args) > 2 && os.Args[1] == "bench" && os.Args[2] == "reference" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := Run(ctx, os.Args[2:], os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "reference:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if len(os.Args) > 1 && os.Args[1] == "serve" && os.Getenv("HTTP_ADDR") != "" {
		os.Exit(fakeServe())
	}
	if len(os.Args) > 1 && os.Args[1] == "seed" && os.Getenv("HTTP_ADDR") != "" {
		os.Exit(fakeSeed())
	}
	if len(os.Args) > 2 && os.Args[1] == "analytics" && os.Args[2] == "rebuild" && os.Getenv("HTTP_ADDR") != "" {
		os.Exit(fakeRebuild())
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
	assert.EqualValues(t, 997, s.Requests, "only successes count")
	assert.EqualValues(t, 3, s.Errors)
	assert.Equal(t, []string{"500 Internal Server Error", "HTTP 302", "dial tcp: connection refused"}, s.FirstErrors)
	// t-digest is an estimate: allow 1% of the range.
	assert.InDelta(t, 500*time.Millisecond, s.P50, float64(10*time.Millisecond))
	assert.InDelta(t, 900*time.Millisecond, s.P90, float64(10*time.Millisecond))
	assert.InDelta(t, 990*time.Millisecond, s.P99, float64(10*time.Millisecond))
	assert.Equal(t, 1000*time.Millisecond, s.Max)
	// First sent at +1ms, last answered at +1000ms+1000ms.
	assert.Equal(t, 1999*time.Millisecond, s.Elapsed)
	assert.InDelta(t, 997/1.999, s.RPS(), 0.01)
}

func TestStatsKeepsTheFirstDifferentErrors(t *testing.T) {
	t.Parallel()
	var s stats
	for _, e := range []string{"a", "a", "b", "c", "d", "b"} {
		s.fail(e)
	}
	assert.EqualValues(t, 6, s.Errors)
	assert.Equal(t, []string{"a", "b", "c"}, s.FirstErrors)

	var warm stats
	warm.fail("e")
	warm.fail("a")
	warm.fail("e")
	s.absorb(warm)
	assert.EqualValues(t, 9, s.Errors)
	assert.Equal(t, []string{"a", "b", "c"}, s.FirstErrors)
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
	assert.Empty(t, s.FirstErrors)
	assert.Greater(t, srv.requests.Load(), int64(s.Requests), "warm-up requests must not be counted")
	assert.LessOrEqual(t, srv.maxInFlight.Load(), int64(workers), "closed loop: at most one request per worker")
	assert.Greater(t, srv.maxInFlight.Load(), int64(1), "workers run concurrently")
	// A worker's next request can start before the transport has put its last connection back
	// (that happens on the connection's own goroutine once the body is read), so a busy machine
	// dials a spare now and then; reuse shows as a handful of connections for hundreds of requests.
	assert.LessOrEqual(t, srv.conns.Load(), int64(2*workers), "connections are reused across requests and runs")
	assert.Greater(t, srv.requests.Load(), 10*srv.conns.Load(), "connections are reused across requests and runs")
	assert.GreaterOrEqual(t, s.P50, 2*time.Millisecond)
	assert.True(t, s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.Max, "percentiles ordered: %+v", s)
	// The last request starts within the measured time (give or take the pacer's check and the
	// request's timestamp, not one instant on a busy machine) and takes at most Max: a bound that
	// holds however slow the machine is, where a fixed margin did not.
	assert.Positive(t, s.Elapsed)
	assert.LessOrEqual(t, s.Elapsed, 2*cfg.Duration+s.Max)
	// Each worker does at most one request per 2ms.
	assert.LessOrEqual(t, s.RPS(), float64(workers)*500*1.1)
}

func TestRunLoadCountsErrors(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, http.StatusServiceUnavailable, 0)
	client := newClient(2)
	defer client.CloseIdleConnections()

	s, err := runLoad(context.Background(), loadConfig{Client: client, Concurrency: 2, Duration: 100 * time.Millisecond,
		Warmup: 50 * time.Millisecond}, "down", staticGet(srv.URL))
	require.NoError(t, err)
	assert.Zero(t, s.Requests, "a failed request is no throughput")
	assert.Zero(t, s.RPS())
	assert.Equal(t, uint64(srv.requests.Load()), s.Errors, "every failure counts, the warm-up's too")
	assert.Equal(t, []string{"503 Service Unavailable"}, s.FirstErrors)
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
	assert.Zero(t, s.Requests)
	assert.Positive(t, s.Errors)
	assert.Equal(t, []string{"HTTP 302"}, s.FirstErrors)
}

func TestReport(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	rep := newReport(&buf, []string{"profile (goshop)", "profile (bare pgx)"})
	require.NoError(t, rep.header())
	require.NoError(t, rep.row(stats{Name: "profile (goshop)", Requests: 120000, Elapsed: 10 * time.Second,
		P50: 1500 * time.Microsecond, P90: 2 * time.Millisecond, P99: 4250 * time.Microsecond, Max: 31 * time.Millisecond,
		CPU: &cpuShare{Server: 0.504, Postgres: 0.25, Generator: 0.2, Other: 0.01}}))
	require.NoError(t, rep.row(stats{Name: "profile (bare pgx)", Requests: 300, Errors: 2, FirstErrors: []string{"500 Internal Server Error", "EOF"},
		Elapsed: 2 * time.Second, P50: 400 * time.Microsecond, P90: 500 * time.Microsecond, P99: time.Millisecond, Max: 1234567 * time.Microsecond}))
	rep.compare("profile (goshop)", "profile (bare pgx)")
	rep.compare("profile (goshop)", "nothing")
	rep.note("a note")
	require.NoError(t, rep.footer())
	assert.Equal(t, []string{"profile (bare pgx)"}, rep.failed())

	want := "" +
		"scenario                 reqs     errs      req/s       p50       p90       p99       max  goshop    ref     pg    gen  other\n" +
		"profile (goshop)       120000        0      12000    1.50ms    2.00ms    4.25ms   31.00ms     50%     0%    25%    20%     1%\n" +
		"profile (bare pgx)        300        2        150    0.40ms    0.50ms    1.00ms 1234.57ms       -      -      -      -      -\n" +
		"FAILED profile (bare pgx): 2 errors besides 300 successes; first: 500 Internal Server Error | EOF\n" +
		"# req/s ratios, same run: profile (goshop) / profile (bare pgx) = 80.00\n" +
		"# a note\n"
	assert.Equal(t, want, buf.String())
}

func TestCPUShares(t *testing.T) {
	t.Parallel()
	a := cpuSample{server: 10, reference: 5, postgres: 20, generator: 3, busy: 100, total: 400}
	b := cpuSample{server: 11, reference: 5, postgres: 20.5, generator: 3.25, busy: 102, total: 404}
	assert.Equal(t, cpuShare{Server: 0.25, Reference: 0, Postgres: 0.125, Generator: 0.0625, Other: 0.0625}, b.since(a))
	assert.Equal(t, cpuShare{}, a.since(a), "no time, no shares")
}

// TestCPUProbeSeesThisProcess reads /proc: CPU this process burns shows as the load generator's.
func TestCPUProbeSeesThisProcess(t *testing.T) {
	t.Parallel()
	p, err := newCPUProbe()
	require.NoError(t, err)
	p.server = os.Getpid() // any live process will do
	before, err := p.sample()
	require.NoError(t, err)
	assert.Positive(t, before.cpus)
	// Burn CPU until /proc shows some for this process and for the machine (their clocks tick
	// 100 times a second, apart).
	var after cpuSample
	for x := 0; ; x++ {
		if x%1_000_000 == 0 {
			if after, err = p.sample(); err != nil || after.server > before.server && after.total-before.total >= 0.1 {
				break
			}
		}
	}
	require.NoError(t, err)
	sh := after.since(before)
	assert.Positive(t, sh.Server)
	// The generator's count adds the children this process waited for (other tests in the
	// package run some) and is read a moment after the server's: never less, give or take a
	// clock tick of each of the two reads.
	tick := 2 * 0.01 / (after.total - before.total)
	assert.GreaterOrEqual(t, sh.Generator+tick, sh.Server, "the same process counted both ways")
	for _, v := range []float64{sh.Server, sh.Reference, sh.Postgres, sh.Generator, sh.Other} {
		assert.True(t, v >= 0 && v <= 1+tick, "%+v", sh)
	}
}

func TestChosen(t *testing.T) {
	t.Parallel()
	all, err := chosen(scenarios, nil, true)
	require.NoError(t, err)
	assert.Len(t, all, len(scenarios))
	noCheckout, err := chosen(scenarios, nil, false)
	require.NoError(t, err)
	assert.Len(t, noCheckout, len(scenarios)-3, "checkout and the two notification rows, which place orders")
	for _, sc := range noCheckout {
		assert.NotEqual(t, "checkout", sc.name)
	}
	one, err := chosen(scenarios, []string{"products?category"}, true)
	require.NoError(t, err)
	require.Len(t, one, 1)
	assert.Equal(t, "products?category", one[0].name)
	_, err = chosen(scenarios, []string{"profiles"}, true)
	require.ErrorContains(t, err, `no scenario "profiles"`)
	_, err = chosen(scenarios, []string{"checkout"}, false)
	require.Error(t, err)
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
	assert.Equal(t, 10, o.DBMaxConns)
	assert.Equal(t, 100000, o.Products)
	assert.Equal(t, 100000, o.AnalyticsOrders)
	assert.Equal(t, 8, o.Deliveries)
	assert.Equal(t, liveOptions{Subscribers: 1000, Posts: 200, Interval: 20 * time.Millisecond, Wait: 10 * time.Second}, o.Live)
	assert.Equal(t, notifyOptions{Users: 1000}, o.Notify)
	assert.Empty(t, o.Only)

	o, err = parseFlags([]string{"-binary", "/bin/x", "-concurrency", "8", "-duration", "1s", "-warmup", "0s", "-only", "profile, live tracking"})
	require.NoError(t, err)
	assert.Equal(t, "/bin/x", o.Binary)
	assert.Equal(t, 8, o.Concurrency)
	assert.Equal(t, time.Second, o.Duration)
	assert.Zero(t, o.Warmup)
	assert.Equal(t, []string{"profile", "live tracking"}, o.Only)

	for _, bad := range [][]string{{"-concurrency", "0"}, {"-duration", "0s"}, {"-warmup", "-1s"}, {"-products", "0"}, {"-deliveries", "0"},
		{"-live-subscribers", "0"}, {"-live-posts", "0"}, {"-live-interval", "0s"}, {"-analytics-orders", "0"}, {"-notify-users", "0"}, {"extra"}, {"-nope"}} {
		_, err := parseFlags(bad)
		assert.Error(t, err, "%q", bad)
	}
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
			require.Len(t, f, 12, line)
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

// TestRunEndToEnd drives the whole subcommand against fakeServe and the real reference process:
// children started, readiness polling, registration, every row, and shutdown by SIGTERM.
func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	var out bytes.Buffer
	err := Run(context.Background(), []string{
		"-binary", os.Args[0], "-addr", freeAddr(t), "-database-url", dbURL,
		"-duration", "300ms", "-warmup", "100ms", "-concurrency", "4", "-db-max-conns", "2", "-products", "5", "-checkout=false",
		"-deliveries", "2", "-live-subscribers", "5", "-live-posts", "3", "-live-interval", "5ms", "-logins", "20", "-login-users", "4",
		"-live-many", "6", "-live-many-posts", "2", "-live-many-interval", "5ms", "-live-many-settle", "0s", "-debug-addr", freeAddr(t),
		"-analytics-orders", "50",
	}, &out)
	require.NoError(t, err, out.String())
	t.Log("\n" + out.String())

	for _, name := range []string{"profile (goshop)", "profile (bare pgx)", "product (goshop)", "product (bare pgx)",
		"products?category (goshop)", "products?category (bare pgx)", "location update (goshop)", "product reviews (goshop)",
		"rating summary (goshop)", "search common word, 4 clients (goshop)", "search common word, 4 clients (bare pgx)",
		"search facets, 32 clients (goshop)", "search autocomplete, 4 clients (bare pgx)", "behaviour events (goshop)",
		"analytics revenue (goshop)", "analytics top products (goshop)"} {
		reqs, errs := reportRow(t, out.String(), name)
		assert.Positive(t, reqs, name)
		assert.Zero(t, errs, name)
	}
	reqs, errs := reportRow(t, out.String(), "live tracking (5 followers)")
	assert.Equal(t, 15, reqs, "every follower gets every post")
	assert.Zero(t, errs)
	reqs, errs = reportRow(t, out.String(), "live idle (6 followers)")
	assert.Equal(t, 6, reqs)
	assert.Zero(t, errs)
	assert.Contains(t, out.String(), "goroutines per idle follower")
	reqs, errs = reportRow(t, out.String(), "location post (6 followers)")
	assert.Equal(t, 2, reqs)
	assert.Zero(t, errs)
	reqs, errs = reportRow(t, out.String(), "live tracking (6 followers)")
	assert.Equal(t, 12, reqs, "every follower gets every post")
	assert.Zero(t, errs)
	reqs, errs = reportRow(t, out.String(), "analytics rebuild (50-order shop)")
	assert.Equal(t, 50, reqs, "the rebuild read the 50 seeded orders")
	assert.Zero(t, errs)
	reqs, errs = reportRow(t, out.String(), "login storm (20 at once)")
	assert.Equal(t, 15, reqs, "every fourth sign-in is refused")
	assert.Zero(t, errs, "with the documented 503")
	assert.Contains(t, out.String(), "5 more answered the documented 503")
	assert.Contains(t, out.String(), "4 workers")
	assert.Contains(t, out.String(), "# req/s ratios, same run: profile (goshop) / profile (bare pgx) = ")
	assert.NotContains(t, out.String(), "FAILED")
	assert.Regexp(t, `(?m)^profile \(bare pgx\) .* \d+%\s+\d+%\s+\d+%\s+\d+%\s+\d+%$`, out.String(), "CPU columns filled")
}

// TestRunFailsOnAnyError runs one scenario (-only) against a server that fails one request in
// ten: the row shows its errors and why, and the command fails.
func TestRunFailsOnAnyError(t *testing.T) {
	t.Parallel()
	dbURL := testdb.New(t)
	var out bytes.Buffer
	err := Run(context.Background(), []string{
		"-binary", os.Args[0], "-addr", freeAddr(t), "-database-url", dbURL, "-redis-url", "flaky", "-only", "profile",
		"-duration", "200ms", "-warmup", "50ms", "-concurrency", "2", "-db-max-conns", "2", "-products", "1",
	}, &out)
	require.ErrorContains(t, err, "1 rows had failed requests: profile (goshop)")
	t.Log("\n" + out.String())
	reqs, errs := reportRow(t, out.String(), "profile (goshop)")
	assert.Positive(t, errs)
	assert.Positive(t, reqs)
	_, errs = reportRow(t, out.String(), "profile (bare pgx)")
	assert.Zero(t, errs)
	assert.Contains(t, out.String(), "FAILED profile (goshop): ")
	assert.Contains(t, out.String(), "first: 500 Internal Server Error")
	assert.NotContains(t, out.String(), "product (goshop)", "-only runs the one scenario")
	assert.NotContains(t, out.String(), "live tracking")
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
	dbURL := testdb.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := freeAddr(t)
	done := make(chan error, 1)
	out := &syncBuffer{}
	go func() {
		done <- Run(ctx, []string{"-binary", os.Args[0], "-addr", addr, "-database-url", dbURL,
			"-duration", "1m", "-warmup", "0s", "-concurrency", "2", "-db-max-conns", "2", "-products", "1", "-only", "profile"}, out)
	}()
	// Cancel once the load is on: the report's header is written as the first row starts.
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "# 2 workers") }, 2*time.Minute, 20*time.Millisecond)
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

// fakeServe imitates the parts of `goshop serve` the bench touches, issuing real access tokens
// (GoShop's own code, with the JWT_SECRET and JWT_ISSUER the bench passes) that the real
// reference verifies. The fake has no use for Redis, and the bench passes -redis-url through:
// REDIS_URL=crash makes it die at start-up, REDIS_URL=flaky fails every 10th profile read.
func fakeServe() int {
	if os.Getenv("REDIS_URL") == "crash" {
		fmt.Fprintln(os.Stderr, "fake server: crashing on purpose")
		return 3
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	for _, k := range []string{"REDIS_PREFIX", "LOG_LEVEL", "RATE_LIMIT_DISABLED", "DB_MAX_CONNS", "JWT_SECRET", "JWT_ISSUER"} {
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

	if addr := os.Getenv("DEBUG_ADDR"); addr != "" {
		// pprof, as goshop serves it there: the live-at-scale row reads goroutines from it.
		go func() { _ = http.ListenAndServe(addr, http.DefaultServeMux) }() //nolint:gosec
	}
	readyAt := time.Now().Add(300 * time.Millisecond) // makes the bench poll more than once
	var tokens sync.Map                               // access token -> user ID
	issuer := auth.NewTokens(os.Getenv("JWT_SECRET"), os.Getenv("JWT_ISSUER"), 15*time.Minute)
	var profileReads, logins atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if time.Now().Before(readyAt) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	// The search rows' routes answer as GoShop's do on a catalog without those words; the
	// behaviour row's, 202 for a product of the catalog.
	for _, path := range []string{"/api/v1/search", "/api/v1/search/filters/available", "/api/v1/search/autocomplete"} {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("q") == "" {
				http.Error(w, "q is required", http.StatusUnprocessableEntity)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"items":[]}`))
		})
	}
	mux.HandleFunc("POST /api/v1/behavior/view-product", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			ProductID uuid.UUID `json:"product_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.ProductID == uuid.Nil || r.Header.Get("X-Device-ID") == "" {
			http.Error(w, "a product and a device are required", http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusAccepted)
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
		var id uuid.UUID
		if err := pool.QueryRow(r.Context(), `INSERT INTO users.users (email, password_hash, full_name) VALUES ($1, 'x', $2) RETURNING id`,
			in.Email, in.FullName).Scan(&id); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		tok, err := issuer.Issue(auth.Principal{UserID: id, SessionID: uuid.New(), Roles: []string{auth.RoleUser}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		tokens.Store(tok, id.String())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"user": map[string]string{"id": id.String()}, "access_token": tok, "refresh_token": "r", "expires_in": 900,
		})
	})
	// Sign-ins of registered accounts; every fourth is refused as a server at its hashing bound
	// refuses it.
	mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Email string `json:"email"`
		}
		var id uuid.UUID
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil ||
			pool.QueryRow(r.Context(), `SELECT id FROM users.users WHERE email = $1`, in.Email).Scan(&id) != nil {
			http.Error(w, `{"code":"invalid_credentials"}`, http.StatusUnauthorized)
			return
		}
		if logins.Add(1)%4 == 0 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"code":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "t", "user": map[string]string{"id": id.String()}})
	})
	mux.HandleFunc("GET /api/v1/users/profile", func(w http.ResponseWriter, r *http.Request) {
		if _, err := issuer.Verify(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")); err != nil {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		if os.Getenv("REDIS_URL") == "flaky" && profileReads.Add(1)%10 == 0 {
			http.Error(w, `{"error":"flaky"}`, http.StatusInternalServerError)
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

	fakeDeliveries(mux, &tokens, pool)
	fakeReviews(mux, pool)
	fakeAnalytics(mux, &tokens)

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

// fakeSeed imitates `goshop seed -products N`: an empty root category, a root category with a
// child, and N products in the child, each with one variant.
func fakeSeed() int {
	if len(os.Args) == 6 && os.Args[4] == "-reviews" {
		return fakeSeedReviews(os.Args[5])
	}
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
	// A second root without products, which the listing must not pick.
	_, err = conn.Exec(ctx, `
		WITH empty AS (INSERT INTO catalog.categories (name) VALUES ('Empty') RETURNING id),
		     root AS (INSERT INTO catalog.categories (name) VALUES ('Root') RETURNING id),
		     leaf AS (INSERT INTO catalog.categories (parent_id, name) SELECT id, 'Leaf' FROM root RETURNING id),
		     p AS (INSERT INTO catalog.products (shop_id, title, category_id, price, created_by)
		           SELECT gen_random_uuid(), 'P' || g, leaf.id, 1000 * g, gen_random_uuid() FROM leaf, generate_series(1, $1::int) g
		           RETURNING id, shop_id, price)
		INSERT INTO catalog.variants (product_id, shop_id, name, price, effective_price, stock)
		SELECT id, shop_id, 'Default', price, price, 5 FROM p`, n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake seed:", err)
		return 1
	}
	return 0
}

// fakeDeliveries imitates the delivery flow the bench drives, in memory: shop, product, address,
// shipper registration, cart, checkout and confirmation, an assignment of the next available
// shipper, the tracking read, location posts, and the live-tracking WebSocket that relays them.
func fakeDeliveries(mux *http.ServeMux, tokens *sync.Map, pool *pgxpool.Pool) {
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
	// A product is a catalog row with its variant, as the analytics row's seeding reads them.
	mux.HandleFunc("POST /api/v1/shops/{id}/products", func(w http.ResponseWriter, r *http.Request) {
		var id string
		if err := pool.QueryRow(r.Context(), `
			WITH p AS (INSERT INTO catalog.products (shop_id, title, price, created_by)
			           VALUES ($1, 'Bench', 125000, gen_random_uuid()) RETURNING id, shop_id, price)
			INSERT INTO catalog.variants (product_id, shop_id, name, price, effective_price, stock)
			SELECT id, shop_id, 'Default', price, price, 5 FROM p RETURNING product_id::text`, r.PathValue("id")).Scan(&id); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		answer(http.StatusCreated, map[string]any{"id": id})(w, r)
	})
	mux.HandleFunc("POST /api/v1/users/addresses", func(w http.ResponseWriter, r *http.Request) {
		answer(http.StatusCreated, newID())(w, r)
	})
	// The media row uploads to its sellers' products, then deletes them.
	mux.HandleFunc("POST /api/v1/products/{id}/media", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		answer(http.StatusCreated, newID())(w, r)
	})
	mux.HandleFunc("DELETE /api/v1/products/{id}", func(w http.ResponseWriter, r *http.Request) {
		answer(http.StatusNoContent, nil)(w, r)
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

// TestReferenceReadsWithGoShopsStatements: the reference's statements are sqlc's, as generated
// from GoShop's queries, so that a column added to or dropped from GoShop's reads reaches the
// reference too. (The category listing's is built by catalog.listSQL at run time;
// TestReferenceAnswersAsGoShop checks what it answers.)
func TestReferenceReadsWithGoShopsStatements(t *testing.T) {
	t.Parallel()
	for file, statements := range map[string][]string{
		"../user/internal/store/queries.sql.go":    {refUserSQL},
		"../catalog/internal/store/queries.sql.go": {refProductSQL, refVariantsSQL, refVariantsOfSQL},
		"../media/internal/store/queries.sql.go":   {refMediaSQL},
	} {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		for _, q := range statements {
			assert.Contains(t, string(src), "= `"+q+"`", "%s no longer has this statement", file)
		}
	}
}
