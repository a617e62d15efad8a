package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/goshop/goshop/internal/app"
	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// TestOneCheckoutIsOneTrace: with tracing on, a checkout's request, its queries, the River jobs
// its events inserted in its transaction and those jobs' runs (in the workers, later) share one
// trace, each job's run a child of the span that inserted it.
func TestOneCheckoutIsOneTrace(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	// A subscriber of the checkout's event, as other contexts subscribe; its work reads the
	// order, so that the job's own queries show in the trace too.
	subscribe := apptest.WithHook(func(a *app.App) {
		eventbus.On(a.Bus, "test.trace_order_placed", func(ctx context.Context, _ string, ev events.OrderPlaced) error {
			var n int
			return a.Pool.QueryRow(ctx, "SELECT count(*) FROM orders.orders WHERE id = $1", ev.OrderID).Scan(&n)
		})
	})
	env := apptest.New(t, apptest.WithTracerProvider(tp), subscribe)
	seller := env.Register(t, "Seller")
	shopID := env.CreateShop(t, seller, "Traced shop")
	p := env.CreateProduct(t, seller, shopID, "Áo dài", 300_000, 10)
	buyer := env.Register(t, "Buyer")
	res := env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res = env.Post(t, "/orders", buyer.AccessToken, map[string]any{"address_id": env.CreateAddress(t, buyer), "payment_method": "cod"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

	var checkout sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == "POST /api/v1/orders" && s.SpanKind() == trace.SpanKindServer {
			checkout = s
		}
	}
	require.NotNil(t, checkout, "the request's span is named by its route")
	traceID := checkout.SpanContext().TraceID()

	// The jobs the checkout inserted carry its trace in their metadata; wait until every one due
	// has run.
	ctx := context.Background()
	pending := func() (due, done int) {
		err := env.App.Pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE state IN ('available', 'running', 'retryable') AND scheduled_at <= now()),
			count(*) FILTER (WHERE state = 'completed')
			FROM river_job WHERE metadata->>'traceparent' LIKE '00-' || $1 || '-%'`, traceID.String()).Scan(&due, &done)
		require.NoError(t, err)
		return due, done
	}
	apptest.Eventually(t, func() bool { due, done := pending(); return due == 0 && done > 0 }, "the checkout's jobs run")
	rows, err := env.App.Pool.Query(ctx, `SELECT DISTINCT kind FROM river_job
		WHERE state = 'completed' AND metadata->>'traceparent' LIKE '00-' || $1 || '-%'`, traceID.String())
	require.NoError(t, err)
	var kinds []string
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		kinds = append(kinds, k)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, kinds)

	apptest.Eventually(t, func() bool {
		worked := map[string]bool{}
		for _, s := range rec.Ended() {
			if kind, ok := strings.CutPrefix(s.Name(), "river.work/"); ok && s.SpanContext().TraceID() == traceID {
				worked[kind] = true
			}
		}
		for _, k := range kinds {
			if !worked[k] {
				return false
			}
		}
		return true
	}, "every job the checkout's events inserted ran in the checkout's trace")

	byID := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	var queries, inserts int
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID() != traceID {
			continue
		}
		byID[s.SpanContext().SpanID()] = s
		switch {
		case s.InstrumentationScope().Name == "github.com/exaring/otelpgx":
			queries++
		case strings.HasPrefix(s.Name(), "river.insert"):
			inserts++
		}
	}
	assert.Positive(t, queries, "the checkout's queries are spans of its trace")
	assert.Positive(t, inserts, "so are the inserts of its events' jobs")
	var jobQueries int
	for _, s := range byID {
		if parent, ok := byID[s.Parent().SpanID()]; ok && s.InstrumentationScope().Name == "github.com/exaring/otelpgx" &&
			strings.HasPrefix(parent.Name(), "river.work/") {
			jobQueries++
		}
	}
	assert.Positive(t, jobQueries, "and the queries of the jobs' work")
	// Each span of the trace leads up, parent by parent, to the request's span.
	for _, s := range byID {
		for cur := s; cur.SpanContext().SpanID() != checkout.SpanContext().SpanID(); {
			parent, ok := byID[cur.Parent().SpanID()]
			if !assert.True(t, ok, "span %q has a parent outside the trace's recorded spans", cur.Name()) {
				break
			}
			cur = parent
		}
	}
}

// TestServeExportsTracesByOTLP: `goshop serve` with OTEL_EXPORTER_OTLP_ENDPOINT sends its spans
// to that collector by OTLP/HTTP, at the latest when it stops.
func TestServeExportsTracesByOTLP(t *testing.T) {
	var batches atomic.Int64
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/traces" {
			batches.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(collector.Close)
	addr := freeAddr(t)
	t.Setenv("DATABASE_URL", testdb.New(t))
	t.Setenv("HTTP_ADDR", addr)
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("REDIS_PREFIX", "goshop-test-otlp:")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, []string{"serve", "-no-workers"}, io.Discard, io.Discard) }()
	require.Eventually(t, func() bool {
		res, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		_ = res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	assert.Positive(t, batches.Load(), "the spans reached the collector")
}
