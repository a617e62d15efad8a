// Package bench is the `goshop bench` subcommand: it starts the GoShop server as a child process,
// loads it on loopback, and prints throughput and latency beside a bare net/http + pgx server
// (another child, `goshop bench reference`) doing the same work for the same requests in the
// same run, so that GoShop's own overhead can be read off one table on one machine. Each row
// also says how the CPUs were shared while it ran, and any failed request fails the row and
// the command.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goshop/goshop/internal/platform/pgdb"
)

const (
	readyTimeout = 60 * time.Second
	// stopGrace is longer than the server's default SHUTDOWN_TIMEOUT (20s), so that a server
	// which honours its own timeout is never killed by us.
	stopGrace = 30 * time.Second
)

// options are the parsed flags.
type options struct {
	Binary      string
	Addr        string
	DatabaseURL string
	RedisURL    string
	Duration    time.Duration
	Concurrency int
	Warmup      time.Duration
	DBMaxConns  int
	// Checkout adds the checkout flow and pgbench's rows beside it.
	Checkout bool
	// Only names the scenarios to run (all when empty).
	Only []string
	// Products is the catalog size the product scenarios need; a smaller catalog is seeded first.
	Products int
	// Deliveries is how many deliveries under way the location scenario spreads its posts over.
	Deliveries int
	// Live shapes the live-tracking row.
	Live liveOptions
	// LiveScale shapes the rows of many followers (live at scale).
	LiveScale liveScaleOptions
	// DebugAddr is where the server under test serves pprof, read for its memory and goroutines.
	DebugAddr string
	// CheckoutBuyers is how many buyers (and pgbench clients) the checkout rows run.
	CheckoutBuyers int
	// Login shapes the login-storm row.
	Login loginOptions
	// Replica runs the replica rows (replica.go) when PostgreSQL's server binaries are here.
	Replica bool
	// AnalyticsOrders is how many orders the analytics rows' shop holds (seeded in bulk).
	AnalyticsOrders int
	// Notify shapes the notification rows.
	Notify notifyOptions
	// ServerOutput receives the child's stdout and stderr.
	ServerOutput io.Writer
}

func parseFlags(args []string) (options, error) {
	o := options{ServerOutput: os.Stderr}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&o.Binary, "binary", "", "goshop binary to start as the server (default: this executable)")
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:18080", "address the server under test listens on")
	fs.StringVar(&o.DatabaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/goshop_bench?sslmode=disable",
		"PostgreSQL database for the server and the reference (the server creates and migrates it)")
	fs.StringVar(&o.RedisURL, "redis-url", "redis://127.0.0.1:6379/0", "Redis for the server")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured time per scenario")
	fs.IntVar(&o.Concurrency, "concurrency", 32, "concurrent closed-loop workers")
	fs.DurationVar(&o.Warmup, "warmup", 2*time.Second, "unmeasured load before each measured run")
	fs.IntVar(&o.DBMaxConns, "db-max-conns", 10,
		"database pool size of both the server (DB_MAX_CONNS) and the reference, so both read through as many connections")
	fs.IntVar(&o.Products, "products", 100000,
		"products the catalog must hold for the product scenarios; when it holds fewer, `<binary> seed` tops it up first")
	fs.BoolVar(&o.Checkout, "checkout", true,
		"also measure checkout (16 buyers of 2-item carts) beside its statements run by pgbench and pgbench TPC-B (16 clients each), "+
			"and the notification rows, which place orders")
	only := fs.String("only", "", "run only these scenarios, comma-separated (profile, product, products?category, location update, checkout, live tracking, replica, ...)")
	fs.IntVar(&o.CheckoutBuyers, "checkout-buyers", defaultCheckoutBuyers, "closed-loop buyers of the checkout rows, and clients of their pgbench rows")
	fs.IntVar(&o.Deliveries, "deliveries", 8, "deliveries under way, each with its own shipper, that the location scenario posts to")
	fs.IntVar(&o.Live.Subscribers, "live-subscribers", 1000, "WebSocket clients following one delivery in the live-tracking row")
	fs.IntVar(&o.Live.Posts, "live-posts", 200, "location posts in the live-tracking row, each a message to every follower")
	fs.DurationVar(&o.Live.Interval, "live-interval", 20*time.Millisecond, "time between the live-tracking row's posts")
	fs.DurationVar(&o.Live.Wait, "live-wait", 10*time.Second, "how long messages may still arrive after the last post")
	fs.IntVar(&o.LiveScale.Followers, "live-many", 10000, "WebSocket clients following one delivery in the live-at-scale rows (idle, then delivered to)")
	fs.IntVar(&o.LiveScale.Posts, "live-many-posts", 50, "location posts in the live-at-scale delivery row")
	fs.DurationVar(&o.LiveScale.Interval, "live-many-interval", 250*time.Millisecond, "time between the live-at-scale row's posts")
	fs.DurationVar(&o.LiveScale.Wait, "live-many-wait", 30*time.Second, "how long the live-at-scale messages may still arrive after the last post")
	fs.DurationVar(&o.LiveScale.Settle, "live-many-settle", 5*time.Second, "how long the server settles before its memory is read in the idle row")
	fs.StringVar(&o.DebugAddr, "debug-addr", "127.0.0.1:18081", "address the server under test serves pprof on (DEBUG_ADDR), for its memory and goroutines")
	fs.IntVar(&o.Login.Logins, "logins", 500, "sign-ins sent all at once in the login-storm row")
	fs.IntVar(&o.Login.Users, "login-users", 50, "accounts the login storm signs in to, each -logins/-login-users times")
	fs.BoolVar(&o.Replica, "replica", true, "also measure the product and category rows on a throwaway primary, from its streaming standby, "+
		"and through a round-robin proxy to one and two instances (needs /usr/lib/postgresql/*/bin and scripts/pg-standby.sh)")
	fs.IntVar(&o.AnalyticsOrders, "analytics-orders", 100000,
		"orders of the shop the analytics rows read (seeded in bulk into the order tables when it has fewer, then rebuilt into the rollups)")
	fs.IntVar(&o.Notify.Users, "notify-users", 1000,
		"users of the notifications-live row, each on their own WS /notifications/live, each placing an order and receiving its notification")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.Notify.Users < 1 {
		return o, errNoUsers
	}
	if err := o.Login.validate(); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	for n := range strings.SplitSeq(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			o.Only = append(o.Only, n)
		}
	}
	switch {
	case o.Duration <= 0:
		return o, errors.New("bench: -duration must be positive")
	case o.Warmup < 0:
		return o, errors.New("bench: -warmup must not be negative")
	case o.Concurrency < 1:
		return o, errors.New("bench: -concurrency must be at least 1")
	case o.DBMaxConns < 1 || o.DBMaxConns > 1<<16:
		return o, errors.New("bench: -db-max-conns must be between 1 and 65536")
	case o.Products < 1:
		return o, errors.New("bench: -products must be at least 1")
	case o.AnalyticsOrders < 1:
		return o, errors.New("bench: -analytics-orders must be at least 1")
	case o.Deliveries < 1 || o.CheckoutBuyers < 1 || o.Live.Subscribers < 1 || o.Live.Posts < 1:
		return o, errors.New("bench: -deliveries, -checkout-buyers, -live-subscribers and -live-posts must be at least 1")
	case o.LiveScale.Followers < 1 || o.LiveScale.Posts < 1 || o.LiveScale.Interval <= 0 || o.LiveScale.Wait <= 0:
		return o, errors.New("bench: -live-many and -live-many-posts must be at least 1, -live-many-interval and -live-many-wait positive")
	case o.Live.Interval <= 0 || o.Live.Wait <= 0:
		return o, errors.New("bench: -live-interval and -live-wait must be positive")
	}
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return o, fmt.Errorf("bench: find own executable for -binary: %w", err)
		}
		o.Binary = exe
	}
	return o, nil
}

// Run is the `goshop bench` subcommand: args are the flags after "bench". It writes the report to
// stdout and the server's own output to stderr, and stops the server before returning, also when
// ctx is cancelled. With -h it prints the flags and returns flag.ErrHelp. A row with a failed
// request makes it return an error, after the whole table. `bench reference` is the reference
// server the bench starts beside GoShop; `bench proxy` the round-robin proxy of the replica rows.
func Run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "reference" {
		return runReference(ctx, args[1:], stdout)
	}
	if len(args) > 0 && args[0] == "proxy" {
		return runProxy(ctx, args[1:], stdout)
	}
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	return run(ctx, o, stdout)
}

func run(ctx context.Context, o options, stdout io.Writer) (err error) {
	todo, err := chosen(scenarios, o.Only, o.Checkout)
	if err != nil {
		return err
	}
	client := newClient(o.Concurrency)
	defer client.CloseIdleConnections()

	if err := ensureFree(o.Addr); err != nil {
		return err
	}
	mediaDir, err := os.MkdirTemp("", "goshop-bench-media-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(mediaDir)
	env := []string{
		"HTTP_ADDR=" + o.Addr,
		"DATABASE_URL=" + o.DatabaseURL,
		"DB_MAX_CONNS=" + strconv.Itoa(o.DBMaxConns),
		"REDIS_URL=" + o.RedisURL,
		"REDIS_PREFIX=goshop-bench:",
		"LOG_LEVEL=error",
		"RATE_LIMIT_DISABLED=true",
		// A secret of this run's own, which the reference verifies tokens with too.
		"JWT_SECRET=" + randomHex(32),
		"JWT_ISSUER=goshop-bench",
		"DEBUG_ADDR=" + o.DebugAddr,
		// The bench follows with one buyer's token, thousands of times: no limit per account
		// (the process's own ceiling, from its descriptor limit, stays).
		"REALTIME_MAX_STREAMS_PER_USER=-1",
		// The media row's uploads go to a directory of this run's own, removed afterwards, and
		// its sellers' products may hold every upload of the row.
		"MEDIA_DIR=" + mediaDir,
		"MEDIA_MAX_PER_OWNER=1000000",
		"MEDIA_DELETE_GRACE=0s",
	}
	srv, err := startServer(o.Binary, env, o.ServerOutput)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.stop(stopGrace, ctx.Err() != nil)) }()

	base := "http://" + o.Addr
	if err := srv.waitReady(ctx, client, base+"/readyz", readyTimeout); err != nil {
		return err
	}
	// The bench's own connections, for setup reads; opened only now, since the server creates
	// and migrates the database at start-up.
	pool, err := pgdb.Open(ctx, o.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	cpu, err := newCPUProbe()
	if err != nil {
		return err
	}
	cpu.server = srv.pid()
	f := &fixture{client: client, goshop: base}
	if slices.ContainsFunc(todo, func(sc scenario) bool { return sc.reference }) {
		ref, url, err := startReferenceProcess(ctx, o.Binary, env, o.DatabaseURL, o.DBMaxConns, o.ServerOutput)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, ref.stop(stopGrace, ctx.Err() != nil)) }()
		f.bare, cpu.reference = url, ref.pid()
	}

	var names []string
	for _, sc := range todo {
		names = append(names, sc.rowNames(o)...)
	}
	rep := newReport(stdout, names)
	r := &runner{o: o, f: f, pool: pool, rep: rep, env: env,
		load: loadConfig{Client: client, Concurrency: o.Concurrency, Duration: o.Duration, Warmup: o.Warmup, CPU: cpu}}
	if err := f.register(ctx); err != nil {
		return err
	}
	for _, sc := range todo {
		if sc.setup != nil {
			if err := sc.setup(r, ctx); err != nil {
				return err
			}
		}
	}
	for _, sc := range todo {
		if sc.targets == nil {
			continue
		}
		if err := checkTarget(ctx, client, sc.name+" (goshop)", sc.targets(f, f.goshop)); err != nil {
			return err
		}
		if sc.reference {
			if err := checkTarget(ctx, client, sc.name+" (bare pgx)", sc.targets(f, f.bare)); err != nil {
				return err
			}
		}
	}

	// The header lines record what the numbers depend on, since every run here shares the
	// machine's CPUs between load generator, both servers and PostgreSQL.
	if _, err := fmt.Fprintf(stdout, "# %d workers, %s warm-up + %s measured per row, GOMAXPROCS=%d, %d CPUs; server %s, reference %s, %d DB conns each\n# %s\n",
		o.Concurrency, o.Warmup, o.Duration, runtime.GOMAXPROCS(0), runtime.NumCPU(), base, cmpOr(f.bare, "not started"), o.DBMaxConns,
		cpuLegend); err != nil {
		return err
	}
	if err := rep.header(); err != nil {
		return err
	}
	emit := rep.row
	for _, sc := range todo {
		if _, _, _, err := r.drain(ctx); err != nil {
			return err
		}
		if err := r.vacuum(ctx); err != nil {
			return err
		}
		if sc.measure != nil {
			if err := sc.measure(ctx, r, emit); err != nil {
				return err
			}
			continue
		}
		s, err := runLoad(ctx, r.load, sc.name+" (goshop)", sc.targets(f, f.goshop))
		if err != nil {
			return err
		}
		if err := emit(s); err != nil {
			return err
		}
		if sc.reference {
			s, err := runLoad(ctx, r.load, sc.name+" (bare pgx)", sc.targets(f, f.bare))
			if err != nil {
				return err
			}
			if err := emit(s); err != nil {
				return err
			}
			rep.compare(sc.name+" (goshop)", sc.name+" (bare pgx)")
		}
	}
	if err := rep.footer(); err != nil {
		return err
	}
	if failed := rep.failed(); len(failed) > 0 {
		return fmt.Errorf("bench: %d rows had failed requests: %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}
