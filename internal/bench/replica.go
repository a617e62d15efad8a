package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/goshop/goshop/internal/platform/pgdb"
)

// The replica rows: the product page and the category list, on a throwaway PostgreSQL primary
// with a streaming hot standby of it (standby.go), read by one GoShop instance from the primary,
// by one from the standby (DATABASE_READ_URL), and through a round-robin proxy (proxy.go) by
// that one instance and by two, so that the table shows what a replica and a second instance
// buy on this machine, and the notes what each party's CPU a request is, for more cores.
// Each row proves where its reads went by the instances' goshop_db_queries_total{pool}: a row
// whose statements did not run on the pool it is named after fails.

// replicaRoutes are the routes of the replica rows, with the same targets as their scenarios.
var replicaRoutes = []string{"product", "products?category"}

// The setups of the replica rows, in the order they run.
const (
	onPrimary = "primary"
	onReplica = "replica"
	proxyOne  = "replica, proxy, 1 instance"
	proxyTwo  = "replica, proxy, 2 instances"
)

var replicaSetups = []string{onPrimary, onReplica, proxyOne, proxyTwo}

// replicaCatchUp bounds the wait for the standby to replay the seeded catalog.
const replicaCatchUp = 5 * time.Minute

// replicaRedisPrefix keeps the replica rows' instances apart from the main server's keys.
const replicaRedisPrefix = "goshop-bench-replica:"

func replicaRow(route, setup string) string { return route + " (" + setup + ")" }

func init() {
	scenarios = append(scenarios, scenario{
		name: "replica",
		rows: func(o options) []string {
			if !o.Replica {
				return nil
			}
			var rows []string
			for _, setup := range replicaSetups {
				for _, route := range replicaRoutes {
					rows = append(rows, replicaRow(route, setup))
				}
			}
			return rows
		},
		measure: measureReplica,
	})
}

// instance is one `goshop serve` of the replica rows.
type instance struct {
	name string // "a", "b"; "p" reads only the primary
	base string
	c    *child
}

// replicaRun is the state of the replica rows while they run.
type replicaRun struct {
	r  *runner
	sb *standby
	// f holds the products and category picked on the throwaway primary.
	f     *fixture
	cfg   loadConfig
	probe *splitProbe
	// running are the children still to stop, last started first.
	running []*child
	// done and shares are the rows measured so far and their CPU split, by row name.
	done   map[string]stats
	shares map[string]splitShare
}

// measureReplica runs the replica rows, or says in the notes why it does not.
func measureReplica(ctx context.Context, r *runner, emit func(stats) error) (err error) {
	skip := func(why string) error {
		fmt.Fprintf(r.o.ServerOutput, "bench: replica rows skipped: %s\n", why)
		r.rep.note("replica rows skipped: " + why)
		return nil
	}
	if !r.o.Replica {
		return skip("-replica=false")
	}
	script, why := findStandbyTools(r.o.Binary)
	if why != "" {
		return skip(why)
	}
	out := r.o.ServerOutput
	fmt.Fprintf(out, "bench: replica rows: a throwaway primary and streaming standby (%s)\n", script)
	sb, err := startStandby(ctx, script, out)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, sb.stop()) }()
	base, err := newCPUProbe()
	if err != nil {
		return err
	}
	cfg := r.load
	cfg.CPU = nil // the replica rows' own probe splits PostgreSQL into primary and standby
	rr := &replicaRun{r: r, sb: sb, f: &fixture{client: r.f.client}, cfg: cfg,
		probe: &splitProbe{base: base, primary: sb.primaryPID, standby: sb.standbyPID},
		done:  map[string]stats{}, shares: map[string]splitShare{}}
	defer func() {
		for _, c := range slices.Backward(rr.running) {
			err = errors.Join(err, c.stop(stopGrace, ctx.Err() != nil))
		}
	}()

	// The instance that reads only the primary creates and migrates the database, which the
	// catalog is then seeded into; the standby replays both before any row runs.
	p, err := rr.startInstance(ctx, "p", "")
	if err != nil {
		return err
	}
	pool, err := pgdb.Open(ctx, sb.primaryURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	sub := &runner{o: r.o, f: rr.f, pool: pool, env: rr.env("", "")}
	if err := sub.pickProducts(ctx); err != nil {
		return err
	}
	if err := sub.pickCategory(ctx); err != nil {
		return err
	}
	if err := waitReplayed(ctx, pool, replicaCatchUp); err != nil {
		return err
	}
	if err := rr.rows(ctx, emit, onPrimary, p.base, "primary", p); err != nil {
		return err
	}
	if err := rr.stopChild(p.c); err != nil {
		return err
	}

	a, err := rr.startInstance(ctx, "a", sb.replicaURL)
	if err != nil {
		return err
	}
	if err := rr.rows(ctx, emit, onReplica, a.base, "replica", a); err != nil {
		return err
	}
	proxy, url, err := rr.startProxy(ctx, a)
	if err != nil {
		return err
	}
	if err := rr.rows(ctx, emit, proxyOne, url, "replica", a); err != nil {
		return err
	}
	if err := rr.stopChild(proxy); err != nil {
		return err
	}
	// Workers once: the second instance serves requests only, as an operator would add it.
	b, err := rr.startInstance(ctx, "b", sb.replicaURL, "-no-workers")
	if err != nil {
		return err
	}
	if _, url, err = rr.startProxy(ctx, a, b); err != nil {
		return err
	}
	if err := rr.rows(ctx, emit, proxyTwo, url, "replica", a, b); err != nil {
		return err
	}
	for _, route := range replicaRoutes {
		r.rep.compare(replicaRow(route, onReplica), replicaRow(route, onPrimary))
		r.rep.compare(replicaRow(route, proxyTwo), replicaRow(route, proxyOne))
		two := replicaRow(route, proxyTwo)
		r.rep.note(moreCoresNote(rr.done[two], rr.shares[two]))
	}
	r.rep.note("replica rows: a throwaway primary and its streaming standby (" + standbyScript + ", fsync off), " +
		"one `goshop serve` reading the primary, then one reading the standby (DATABASE_READ_URL), directly and through a round-robin " +
		"`goshop bench proxy`, then two (the second with -no-workers) through it; in these rows goshop = every instance, " +
		"ref = the proxy, pg = the throwaway primary and standby only")
	return nil
}

// env is the environment of an instance listening on addr that reads from readURL ("": the
// primary only): the main server's, on the throwaway primary.
func (rr *replicaRun) env(addr, readURL string) []string {
	return append(slices.Clone(rr.r.env), "HTTP_ADDR="+addr, "DATABASE_URL="+rr.sb.primaryURL,
		"DATABASE_READ_URL="+readURL, "DEBUG_ADDR=", "REDIS_PREFIX="+replicaRedisPrefix)
}

// startInstance runs `goshop serve args...` on a free port and waits until it is ready and,
// with a replica, until it reads from it (/readyz says "replica": "ok").
func (rr *replicaRun) startInstance(ctx context.Context, name, readURL string, args ...string) (*instance, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(rr.r.o.Binary, append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), rr.env(addr, readURL)...)
	cmd.Stdout, cmd.Stderr = rr.r.o.ServerOutput, rr.r.o.ServerOutput
	c, err := startChild("server "+name, cmd)
	if err != nil {
		return nil, err
	}
	rr.running = append(rr.running, c)
	in := &instance{name: name, base: "http://" + addr, c: c}
	if err := c.waitReady(ctx, rr.f.client, in.base+"/readyz", readyTimeout); err != nil {
		return nil, err
	}
	if readURL == "" {
		return in, nil
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		state, err := replicaState(ctx, rr.f.client, in.base)
		if err != nil {
			return nil, err
		}
		if state == pgdb.ReplicaOK {
			return in, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("bench: instance %s: /readyz says the replica is %q after %s, not %q", name, state, readyTimeout, pgdb.ReplicaOK)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startProxy runs `goshop bench proxy` in front of the instances.
func (rr *replicaRun) startProxy(ctx context.Context, to ...*instance) (*child, string, error) {
	var bases []string
	for _, in := range to {
		bases = append(bases, in.base)
	}
	cmd := exec.Command(rr.r.o.Binary, "bench", "proxy", "-backends", strings.Join(bases, ","),
		"-max-idle", strconv.Itoa(rr.cfg.Concurrency))
	c, url, err := startAnnounced(ctx, "proxy", cmd, proxyReady, rr.r.o.ServerOutput)
	if err != nil {
		return nil, "", err
	}
	rr.running = append(rr.running, c)
	rr.probe.proxy = c.pid()
	return c, url, nil
}

// stopChild stops c before the rows that follow, which must not share the CPUs with it.
func (rr *replicaRun) stopChild(c *child) error {
	rr.running = slices.DeleteFunc(rr.running, func(o *child) bool { return o == c })
	if rr.probe.proxy == c.pid() {
		rr.probe.proxy = 0
	}
	return c.stop(stopGrace, false)
}

// rows measures each replica route at base (an instance, or the proxy in front of them), named
// after setup, whose reads must run on pool ("primary" or "replica") of the instances.
func (rr *replicaRun) rows(ctx context.Context, emit func(stats) error, setup, base, pool string, instances ...*instance) error {
	for _, route := range replicaRoutes {
		s, err := rr.measureRow(ctx, replicaRow(route, setup), routeTargets(route), base, pool, instances)
		if err != nil {
			return err
		}
		rr.done[s.Name] = s
		if err := emit(s); err != nil {
			return err
		}
	}
	return nil
}

// measureRow is runLoad with the replica rows' CPU split and the check of where the reads went.
func (rr *replicaRun) measureRow(ctx context.Context, name string, targets func(*fixture, string) vegeta.Targeter, base, pool string,
	instances []*instance) (stats, error) {
	tr := targets(rr.f, base)
	if err := checkTarget(ctx, rr.f.client, name, tr); err != nil {
		return stats{}, err
	}
	before, err := rr.counts(ctx, instances)
	if err != nil {
		return stats{}, err
	}
	var warm stats
	if rr.cfg.Warmup > 0 {
		if warm, err = attack(ctx, rr.cfg, name+" (warm-up)", rr.cfg.Warmup, tr); err != nil {
			return stats{}, err
		}
	}
	rr.probe.instances = rr.probe.instances[:0]
	for _, in := range instances {
		rr.probe.instances = append(rr.probe.instances, in.c.pid())
	}
	start, err := rr.probe.sample()
	if err != nil {
		return stats{}, err
	}
	s, err := attack(ctx, rr.cfg, name, rr.cfg.Duration, tr)
	if err != nil {
		return s, err
	}
	end, err := rr.probe.sample()
	if err != nil {
		return s, err
	}
	s.absorb(warm)
	after, err := rr.counts(ctx, instances)
	if err != nil {
		return s, err
	}
	sh := end.since(start)
	s.CPU = &sh.table
	rr.shares[name] = sh
	served := warm.Requests + s.Requests
	stmts := checkReads(&s, served, pool, instances, before, after)
	rr.r.rep.note(rowSplitNote(s, sh, instances, stmts, served))
	return s, nil
}

// readCounts are statements by pool ("primary", "replica"), summed over a row's instances.
type readCounts map[string]float64

// checkReads fails s unless every instance ran statements on pool during the row and, together,
// at least one for each of the served requests (warm-up included): a product page or a listing
// is at least one statement, so fewer means some reads went to the other pool. It answers the
// statements each pool ran.
func checkReads(s *stats, served uint64, pool string, instances []*instance, before, after []readCounts) readCounts {
	sum := readCounts{}
	for i, in := range instances {
		for p := range after[i] {
			sum[p] += after[i][p] - before[i][p]
		}
		if after[i][pool]-before[i][pool] < 1 {
			s.fail(fmt.Sprintf("instance %s ran no statement on the %s", in.name, pool))
		}
	}
	if sum[pool] < float64(served) {
		s.fail(fmt.Sprintf("%.0f statements on the %s for %d requests: reads went elsewhere", sum[pool], pool, served))
	}
	return sum
}

// counts reads each instance's goshop_db_queries_total by pool.
func (rr *replicaRun) counts(ctx context.Context, instances []*instance) ([]readCounts, error) {
	var out []readCounts
	for _, in := range instances {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.base+"/metrics", nil)
		if err != nil {
			return nil, err
		}
		res, err := rr.f.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("bench: instance %s's metrics: %w", in.name, err)
		}
		c, err := parseQueryCounts(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("bench: instance %s's metrics: %w", in.name, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// queriesSeries is the counter of statements by pool that the app exports.
const queriesSeries = "goshop_db_queries_total"

// parseQueryCounts reads goshop_db_queries_total{pool="..."} off a Prometheus text exposition.
func parseQueryCounts(r io.Reader) (readCounts, error) {
	out := readCounts{}
	lines := bufio.NewScanner(r)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() {
		rest, ok := strings.CutPrefix(lines.Text(), queriesSeries+`{pool="`)
		if !ok {
			continue
		}
		pool, value, ok := strings.Cut(rest, `"} `)
		if !ok {
			return nil, fmt.Errorf("bench: unexpected %s line %q", queriesSeries, lines.Text())
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("bench: %s{pool=%q}: %w", queriesSeries, pool, err)
		}
		out[pool] = n
	}
	return out, lines.Err()
}

// replicaState is what the instance's /readyz says of its replica.
func replicaState(ctx context.Context, client *http.Client, base string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return "", err
	}
	res, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("bench: %s/readyz: %w", base, err)
	}
	defer res.Body.Close()
	var m map[string]string
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		return "", fmt.Errorf("bench: %s/readyz: %w", base, err)
	}
	return m["replica"], nil
}

// routeTargets are the targets of the scenario named route.
func routeTargets(route string) func(*fixture, string) vegeta.Targeter {
	for _, sc := range scenarios {
		if sc.name == route && sc.targets != nil {
			return sc.targets
		}
	}
	panic("bench: no scenario " + route + " with targets") // replicaRoutes names scenarios of this package
}

// rowSplitNote is a replica row's CPU split and cost a request: the parties' CPU time per
// successful request is what more cores would each have to give, so that a reader can work out
// what a second instance (or standby) would buy where it has cores of its own.
// stmts are the statements of the row's served requests, warm-up included.
func rowSplitNote(s stats, sh splitShare, instances []*instance, stmts readCounts, served uint64) string {
	var parts []string
	for i, in := range instances {
		parts = append(parts, fmt.Sprintf("instance %s %.0f%%", in.name, 100*sh.instances[i]))
	}
	parts = append(parts, fmt.Sprintf("primary %.0f%%", 100*sh.primary), fmt.Sprintf("standby %.0f%%", 100*sh.standby),
		fmt.Sprintf("proxy %.0f%%", 100*sh.table.Reference), fmt.Sprintf("load generator %.0f%%", 100*sh.table.Generator),
		fmt.Sprintf("other %.0f%%", 100*sh.table.Other))
	note := fmt.Sprintf("%s: CPU %s", s.Name, strings.Join(parts, ", "))
	if s.Requests == 0 {
		return note
	}
	perReq := func(share float64) float64 { return 1000 * share * sh.seconds / float64(s.Requests) }
	goshop, pg := perReq(sh.table.Server), perReq(sh.primary+sh.standby)
	note += fmt.Sprintf("; CPU a request: GoShop %.2f ms, PostgreSQL %.2f ms, proxy %.2f ms, load generator %.2f ms",
		goshop, pg, perReq(sh.table.Reference), perReq(sh.table.Generator))
	if goshop > 0 && pg > 0 {
		note += fmt.Sprintf(" (a core of its own: GoShop about %.0f req/s, PostgreSQL about %.0f)", 1000/goshop, 1000/pg)
	}
	n := float64(max(served, 1))
	return note + fmt.Sprintf("; statements a request: %.2f on the primary, %.2f on the replica", stmts["primary"]/n, stmts["replica"]/n)
}

// moreCoresNote says what more cores would buy, from a two-instance row: each party's CPU time a
// request is what a core of its own would have to give for each request, so an instance on a
// core adds about 1/GoShop's time a second, until the standby's or the proxy's cores are the
// bound. It assumes the parties' time a request stays what it was on the shared cores.
func moreCoresNote(s stats, sh splitShare) string {
	if s.Requests == 0 || sh.seconds <= 0 {
		return s.Name + ": no request succeeded, so nothing to say about more cores"
	}
	perCore := func(share float64) string {
		if share <= 0 {
			return "unbounded"
		}
		return fmt.Sprintf("%.0f", float64(s.Requests)/(share*sh.seconds))
	}
	return fmt.Sprintf("more cores, from %s: a core gives about %s req/s of GoShop (each instance on one of its own adds that), "+
		"%s of the standby, %s of the proxy and %s of the primary (for its part of each request), at this row's CPU a request",
		s.Name, perCore(sh.table.Server), perCore(sh.standby), perCore(sh.table.Reference), perCore(sh.primary))
}
