// Package bench is the `goshop bench` subcommand: it starts the GoShop server as a child process,
// loads it on loopback, and prints throughput and latency beside a bare net/http + pgx server
// doing the same database read in the same run, so that GoShop's own overhead can be read off
// one table on one machine.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"time"
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
	// Checkout adds the checkout flow and pgbench's TPC-B beside it.
	Checkout bool
	// Products is the catalog size the product scenarios need; a smaller catalog is seeded first.
	Products int
	// Deliveries is how many deliveries under way the location scenario spreads its posts over.
	Deliveries int
	// Live shapes the live-tracking row.
	Live liveOptions
	// Login shapes the login-storm row.
	Login loginOptions
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
	fs.IntVar(&o.DBMaxConns, "db-max-conns", 20,
		"database pool size of both the server (DB_MAX_CONNS) and the reference, so both read through as many connections")
	fs.IntVar(&o.Products, "products", 100000,
		"products the catalog must hold for the product scenarios; when it holds fewer, `<binary> seed` tops it up first")
	fs.BoolVar(&o.Checkout, "checkout", true, "also measure checkout (16 buyers of 2-item carts) beside pgbench TPC-B (16 clients)")
	fs.IntVar(&o.Deliveries, "deliveries", 8, "deliveries under way, each with its own shipper, that the location scenario posts to")
	fs.IntVar(&o.Live.Subscribers, "live-subscribers", 1000, "WebSocket clients following one delivery in the live-tracking row")
	fs.IntVar(&o.Live.Posts, "live-posts", 200, "location posts in the live-tracking row, each a message to every follower")
	fs.DurationVar(&o.Live.Interval, "live-interval", 20*time.Millisecond, "time between the live-tracking row's posts")
	fs.DurationVar(&o.Live.Wait, "live-wait", 10*time.Second, "how long messages may still arrive after the last post")
	fs.IntVar(&o.Login.Logins, "logins", 500, "sign-ins sent all at once in the login-storm row (0: no such row)")
	fs.IntVar(&o.Login.Users, "login-users", 50, "accounts the login storm signs in to, each -logins/-login-users times")
	fs.BoolVar(&o.Login.Only, "only-logins", false, "run the login-storm row alone")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if err := o.Login.validate(); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("bench: unexpected arguments %q", fs.Args())
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
	case o.Deliveries < 1 || o.Live.Subscribers < 1 || o.Live.Posts < 1:
		return o, errors.New("bench: -deliveries, -live-subscribers and -live-posts must be at least 1")
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
// ctx is cancelled. With -h it prints the flags and returns flag.ErrHelp.
func Run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	return run(ctx, o, stdout)
}

func run(ctx context.Context, o options, stdout io.Writer) (err error) {
	client := newClient(o.Concurrency)
	defer client.CloseIdleConnections()

	if err := ensureFree(o.Addr); err != nil {
		return err
	}
	env := []string{
		"HTTP_ADDR=" + o.Addr,
		"DATABASE_URL=" + o.DatabaseURL,
		"DB_MAX_CONNS=" + strconv.Itoa(o.DBMaxConns),
		"REDIS_URL=" + o.RedisURL,
		"REDIS_PREFIX=goshop-bench:",
		"LOG_LEVEL=error",
		"RATE_LIMIT_DISABLED=true",
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
	if o.Login.Only {
		return loginsOnly(ctx, &fixture{client: client, goshop: base}, o.Login, srv.cmd.Process.Pid, stdout)
	}
	// Started only now: the server creates and migrates the database at start-up.
	ref, err := startReference(ctx, o.DatabaseURL, int32(o.DBMaxConns))
	if err != nil {
		return err
	}
	defer ref.close()

	if err := ensureCatalog(ctx, o, env, ref.pool); err != nil {
		return err
	}
	f := &fixture{client: client, goshop: base, bare: ref.URL}
	if err := f.register(ctx); err != nil {
		return err
	}
	if err := f.pickProducts(ctx, ref.pool); err != nil {
		return err
	}
	if err := f.setupDeliveries(ctx, o.Deliveries); err != nil {
		return err
	}
	todo := jobs(f, scenarios)
	for _, j := range todo {
		if err := checkTarget(ctx, client, j.name, j.targets); err != nil {
			return err
		}
	}

	names := make([]string, len(todo))
	for i, j := range todo {
		names[i] = j.name
	}
	if o.Checkout {
		names = append(names, fmt.Sprintf("checkout (goshop, %d buyers)", checkoutBuyers), fmt.Sprintf("pgbench TPC-B (%d clients)", checkoutBuyers))
	}
	liveName := fmt.Sprintf("live tracking (%d followers)", o.Live.Subscribers)
	names = append(names, liveName, o.Login.name())
	// The header line records what the numbers depend on, since every run here shares the
	// machine's CPUs between load generator, both servers and PostgreSQL.
	if _, err := fmt.Fprintf(stdout, "# %d workers, %s warm-up + %s measured per row, GOMAXPROCS=%d, %d CPUs; server %s, reference %s, %d DB conns each\n",
		o.Concurrency, o.Warmup, o.Duration, runtime.GOMAXPROCS(0), runtime.NumCPU(), base, ref.URL, ref.MaxConns()); err != nil {
		return err
	}
	rep := newReport(stdout, names)
	if err := rep.header(); err != nil {
		return err
	}
	cfg := loadConfig{Client: client, Concurrency: o.Concurrency, Duration: o.Duration, Warmup: o.Warmup}
	for _, j := range todo {
		s, err := runLoad(ctx, cfg, j.name, j.targets)
		if err != nil {
			return err
		}
		if err := rep.row(s); err != nil {
			return err
		}
	}
	if o.Checkout {
		for _, measure := range []func() (stats, error){
			func() (stats, error) { return runCheckout(ctx, f, o) },
			func() (stats, error) { return pgbenchTPCB(ctx, o) },
		} {
			s, err := measure()
			if err != nil {
				return err
			}
			if err := rep.row(s); err != nil {
				return err
			}
		}
	}
	s, err := measureLive(ctx, f, liveName, o.Live)
	if err != nil {
		return err
	}
	if err := rep.row(s); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "# %s: %d location posts %s apart; reqs = messages received, req/s = messages a second, "+
		"latency = from sending the post to receiving its message\n", liveName, o.Live.Posts, o.Live.Interval); err != nil {
		return err
	}
	if o.Login.Logins > 0 {
		if err := loginRow(ctx, f, o.Login, srv.cmd.Process.Pid, rep, stdout); err != nil {
			return errors.Join(err, rep.footer())
		}
	}
	return rep.footer()
}
