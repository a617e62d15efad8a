// Package metrics exposes Prometheus metrics: HTTP requests by route pattern, River jobs by
// kind and state, and the PostgreSQL pool's use. deploy/grafana/goshop.json charts them.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/goshop/goshop/internal/platform/httpx"
)

// Metrics owns a registry of its own (not the global one), so tests can build many apps.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// New registers GoShop's collectors; pool feeds the River job gauge and is the "primary" pool.
func New(pool *pgxpool.Pool) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goshop_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "goshop_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	m.reg.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&jobCollector{pool: pool, desc: prometheus.NewDesc("goshop_river_jobs",
			"River jobs by kind and state.", []string{"kind", "state"}, nil)},
		PoolCollector("primary", pool))
	return m
}

// Register adds a context's own collectors to the registry.
func (m *Metrics) Register(cs ...prometheus.Collector) { m.reg.MustRegister(cs...) }

// Record counts a served request under its chi route pattern (an httpx.Recorder).
func (m *Metrics) Record(r *http.Request, status int, elapsed time.Duration) {
	route := httpx.RoutePattern(r)
	m.requests.WithLabelValues(r.Method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(r.Method, route).Observe(elapsed.Seconds())
}

// Handler serves the registry in Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// jobCollector reads River's job table at scrape time: the counts are River's own truth, shared
// by every instance, rather than per-process counters.
type jobCollector struct {
	pool *pgxpool.Pool
	desc *prometheus.Desc
}

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := c.pool.Query(ctx, "SELECT kind, state::text, count(*) FROM river_job GROUP BY kind, state")
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var kind, state string
		var n int64
		if err := rows.Scan(&kind, &state, &n); err != nil {
			ch <- prometheus.NewInvalidMetric(c.desc, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), kind, state)
	}
}
