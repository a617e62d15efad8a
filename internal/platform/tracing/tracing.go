// Package tracing traces GoShop with OpenTelemetry: HTTP requests (otelhttp), PostgreSQL queries
// (otelpgx) and River jobs (otelriver), exported by OTLP over HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set. Without it nothing is installed at all: no middleware, no
// query tracer, no job middleware, so tracing costs nothing when it is off.
//
// A job's span is a child of the span that inserted it: the event bus inserts an event's jobs in
// the request's transaction, otelriver writes the request's trace context into each job's
// metadata, and ParentFromMetadata makes it the work span's parent, so one checkout is one trace
// from its request to its events' jobs.
package tracing

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/goshop/goshop/internal/platform/httpx"
)

// OTLP starts a tracer provider exporting by OTLP over HTTP; the exporter reads the standard
// OTEL_EXPORTER_OTLP_* variables (endpoint, headers, TLS) itself. Shut it down at exit so the
// last spans are sent.
func OTLP(ctx context.Context, version string) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: otlp exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName("goshop"), semconv.ServiceVersion(version)))
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// propagator reads and writes W3C trace context: a caller's traceparent continues its trace.
var propagator = propagation.TraceContext{}

// HTTP traces each request, named by its chi route pattern once routing has found it
// ("POST /api/v1/orders"), so that spans group by route rather than by URL.
func HTTP(tp trace.TracerProvider) func(http.Handler) http.Handler {
	otelMW := otelhttp.NewMiddleware("http", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagator))
	return func(next http.Handler) http.Handler {
		return otelMW(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			trace.SpanFromContext(r.Context()).SetName(r.Method + " " + httpx.RoutePattern(r))
		}))
	}
}

// Postgres is the pgx query tracer: a span for each query, batch, copy and connection acquire.
func Postgres(tp trace.TracerProvider) pgx.QueryTracer {
	return otelpgx.NewTracer(otelpgx.WithTracerProvider(tp), otelpgx.WithTrimSQLInSpanName())
}

// River is the job middleware: a span for each insert (carrying its trace context into the
// job's metadata) and each run, the run's span a child of the insert's.
func River(tp trace.TracerProvider) []rivertype.Middleware {
	return []rivertype.Middleware{
		&ParentFromMetadata{},
		otelriver.NewMiddleware(&otelriver.MiddlewareConfig{TracerProvider: tp, EnableTracePropagation: true,
			EnableWorkSpanJobKindSuffix: true}),
	}
}

// ParentFromMetadata puts the trace context otelriver stored in a job's metadata into the
// context its work runs in, so that the work span otelriver then starts is a child of the span
// that inserted the job (otelriver alone only links to it, which starts a trace per job).
type ParentFromMetadata struct{ river.MiddlewareDefaults }

// Work implements rivertype.WorkerMiddleware.
func (*ParentFromMetadata) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	var meta map[string]any
	if len(job.Metadata) > 0 && json.Unmarshal(job.Metadata, &meta) == nil {
		carrier := propagation.MapCarrier{}
		for _, k := range propagator.Fields() {
			if s, ok := meta[k].(string); ok {
				carrier[k] = s
			}
		}
		if len(carrier) > 0 {
			ctx = propagator.Extract(ctx, carrier)
		}
	}
	return doInner(ctx)
}
