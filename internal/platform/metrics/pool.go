package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector exports a pgx pool's statistics under the label pool=name, read at scrape time
// from pgxpool.Stat: how many connections are in use, idle, open and allowed, and how long
// requests waited for one. A pool whose acquired connections sit at its maximum while the wait
// grows is the sign to raise DB_MAX_CONNS or add instances (the README's scaling notes).
func PoolCollector(name string, pool *pgxpool.Pool) prometheus.Collector {
	desc := func(metric, help string) *prometheus.Desc {
		return prometheus.NewDesc("goshop_db_pool_"+metric, help, nil, prometheus.Labels{"pool": name})
	}
	return &poolCollector{pool: pool,
		acquired:    desc("acquired_conns", "Connections in use."),
		idle:        desc("idle_conns", "Connections open and idle."),
		total:       desc("total_conns", "Connections open (in use, idle and being opened)."),
		max:         desc("max_conns", "The pool's maximum (DB_MAX_CONNS)."),
		acquires:    desc("acquires_total", "Connections handed out."),
		emptyWaits:  desc("empty_acquires_total", "Acquires that had to wait because no connection was idle."),
		canceled:    desc("canceled_acquires_total", "Acquires given up (their context ended) while waiting."),
		waitSeconds: desc("acquire_wait_seconds_total", "Time spent waiting for a connection when none was idle."),
	}
}

type poolCollector struct {
	pool                                                                    *pgxpool.Pool
	acquired, idle, total, max, acquires, emptyWaits, canceled, waitSeconds *prometheus.Desc
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.acquires, c.emptyWaits, c.canceled, c.waitSeconds} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.emptyWaits, float64(s.EmptyAcquireCount()))
	counter(c.canceled, float64(s.CanceledAcquireCount()))
	counter(c.waitSeconds, s.EmptyAcquireWaitTime().Seconds())
}
