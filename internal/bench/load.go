package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
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
	// CPU, when set, measures how the CPUs were shared during the measured part of each run.
	CPU *cpuProbe
}

// maxErrorsKept is how many different failures a row keeps to show.
const maxErrorsKept = 3

// stats summarises one measured row. Only complete successes count: a failed request is an
// error of the row, never throughput.
type stats struct {
	Name string
	// Requests are the measured successes (for a flow, the complete flows).
	Requests uint64
	// Errors are the failures, warm-up included: any makes the row, and the command, fail.
	Errors uint64
	// Elapsed runs from the first request sent to the last response received.
	Elapsed            time.Duration
	P50, P90, P99, Max time.Duration
	// FirstErrors describe the first few different failures, so that a failed row says why.
	FirstErrors []string
	// CPU is how the machine's CPUs were shared during the row (nil: not measured).
	CPU *cpuShare
}

// RPS is the achieved throughput of successes.
func (s stats) RPS() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Elapsed.Seconds()
}

// fail counts one failure, keeping its description when it is one of the first different ones.
func (s *stats) fail(why string) {
	s.Errors++
	if len(s.FirstErrors) < maxErrorsKept && !slices.Contains(s.FirstErrors, why) {
		s.FirstErrors = append(s.FirstErrors, why)
	}
}

// absorb adds the failures of o (a warm-up, say) to s.
func (s *stats) absorb(o stats) {
	for _, e := range o.FirstErrors {
		s.fail(e)
	}
	s.Errors += o.Errors - uint64(len(o.FirstErrors))
}

// runLoad drives tr closed-loop: cfg.Concurrency workers each send a request as soon as their
// previous one is answered, first for cfg.Warmup (not measured, so connection set-up, pool
// filling and statement preparation stay out of the numbers, but its failures still count),
// then for cfg.Duration (measured).
func runLoad(ctx context.Context, cfg loadConfig, name string, tr vegeta.Targeter) (stats, error) {
	var warm stats
	if cfg.Warmup > 0 {
		var err error
		if warm, err = attack(ctx, cfg, name+" (warm-up)", cfg.Warmup, tr); err != nil {
			return stats{}, err
		}
	}
	s, err := cfg.CPU.measure(func() (stats, error) { return attack(ctx, cfg, name, cfg.Duration, tr) })
	s.absorb(warm)
	return s, err
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

// summarize drains results. Percentiles are of the successes and come from vegeta's t-digest
// (compression 100: well under 1% rank error at p99) rather than from a sorted copy of every
// sample, which at tens of thousands of requests a second would grow without bound; Max is
// exact. Elapsed spans every request, failed ones included, since they took that time too.
func summarize(name string, results <-chan *vegeta.Result) stats {
	var m vegeta.Metrics
	s := stats{Name: name}
	var first, last time.Time
	for r := range results {
		if first.IsZero() || r.Timestamp.Before(first) {
			first = r.Timestamp
		}
		if end := r.End(); end.After(last) {
			last = end
		}
		// vegeta counts 3xx as success; here only a 2xx is the answer the scenario asked for.
		if r.Code < 200 || r.Code > 299 || r.Error != "" {
			s.fail(describeFailure(r))
			continue
		}
		m.Add(r)
	}
	s.Elapsed = last.Sub(first)
	if m.Requests == 0 {
		return s
	}
	m.Close()
	s.Requests = m.Requests
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
