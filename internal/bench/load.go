package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// requestTimeout bounds one request, so that a wedged server ends a run with errors instead of
// hanging it: vegeta does not cancel in-flight requests when an attack stops.
const requestTimeout = 10 * time.Second

// newClient returns the one client every request of a run goes through. Keeping at least
// concurrency idle connections per host lets each worker keep its own keep-alive connection,
// so that the numbers measure request handling rather than TCP handshakes.
func newClient(concurrency int) *http.Client {
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			// No Proxy: the targets are on loopback, and an HTTP_PROXY in the environment must not
			// put a proxy into the measurement.
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: concurrency,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		// A redirect is a non-2xx answer to the request under test, so it counts as an error
		// rather than being followed and timed as a second request.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// loadConfig is the shape of the load every scenario gets.
type loadConfig struct {
	Client      *http.Client
	Concurrency int
	Duration    time.Duration
	Warmup      time.Duration
}

// stats summarises one measured run.
type stats struct {
	Name     string
	Requests uint64
	Errors   uint64
	// Elapsed runs from the first request sent to the last response received.
	Elapsed            time.Duration
	P50, P90, P99, Max time.Duration
	// FirstError describes the first failed request, so that a row full of errors says why.
	FirstError string
}

// RPS is the achieved throughput, failed requests included.
func (s stats) RPS() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Elapsed.Seconds()
}

// runLoad drives tr closed-loop: cfg.Concurrency workers each send a request as soon as their
// previous one is answered, first for cfg.Warmup (discarded, so connection set-up, pool filling
// and statement preparation stay out of the numbers), then for cfg.Duration (measured).
func runLoad(ctx context.Context, cfg loadConfig, name string, tr vegeta.Targeter) (stats, error) {
	if cfg.Warmup > 0 {
		if _, err := attack(ctx, cfg, name+" (warm-up)", cfg.Warmup, tr); err != nil {
			return stats{}, err
		}
	}
	return attack(ctx, cfg, name, cfg.Duration, tr)
}

func attack(ctx context.Context, cfg loadConfig, name string, d time.Duration, tr vegeta.Targeter) (stats, error) {
	if err := ctx.Err(); err != nil {
		return stats{}, err
	}
	n := uint64(cfg.Concurrency)
	// A zero rate makes vegeta send as fast as its workers free up, and pinning the worker count
	// (Workers == MaxWorkers) turns that into a closed loop of exactly n concurrent users.
	// An Attacker cannot be restarted once stopped, hence one per attack.
	a := vegeta.NewAttacker(
		vegeta.Client(cfg.Client),
		vegeta.Workers(n),
		vegeta.MaxWorkers(n),
		// The body is drained but not kept: copying every body would be work the load generator
		// steals from the servers it shares the CPUs with.
		vegeta.MaxBody(0),
	)
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	s := summarize(name, a.Attack(tr, vegeta.Rate{}, d, name))
	if err := ctx.Err(); err != nil {
		return s, err
	}
	return s, nil
}

// summarize drains results. Percentiles come from vegeta's t-digest (compression 100: well
// under 1% rank error at p99) rather than from a sorted copy of every sample, which at tens of
// thousands of requests a second would grow without bound; Max is exact.
func summarize(name string, results <-chan *vegeta.Result) stats {
	var m vegeta.Metrics
	s := stats{Name: name}
	for r := range results {
		m.Add(r)
		// vegeta counts 3xx as success; here only a 2xx is the answer the scenario asked for.
		if r.Code < 200 || r.Code > 299 {
			s.Errors++
			if s.FirstError == "" {
				s.FirstError = describeFailure(r)
			}
		}
	}
	if m.Requests == 0 {
		return s
	}
	m.Close()
	s.Requests = m.Requests
	s.Elapsed = m.End.Sub(m.Earliest)
	s.P50, s.P90, s.P99, s.Max = m.Latencies.P50, m.Latencies.P90, m.Latencies.P99, m.Latencies.Max
	return s
}

func describeFailure(r *vegeta.Result) string {
	switch {
	case r.Error != "":
		return r.Error
	case r.Code == 0:
		return "no response"
	default:
		return fmt.Sprintf("HTTP %d", r.Code)
	}
}
