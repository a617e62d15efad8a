package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	_ "net/http/pprof" // served on DEBUG_ADDR only
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/goshop/goshop/db"
	"github.com/goshop/goshop/internal/bench"
	"github.com/goshop/goshop/internal/platform/config"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/procmem"
	"github.com/goshop/goshop/internal/platform/tracing"
)

// Version is set at build time with -ldflags "-X github.com/goshop/goshop/internal/app.Version=...".
var Version = "dev"

const usage = `goshop: the GoShop marketplace backend, one binary.

Usage: goshop [command] [flags]

Commands:
  serve [-no-workers]        serve the API and run the job workers (the default)
  worker                     run the job workers only
  migrate up|down|status     apply, roll back one, or list the database migrations
  routes                     print every mounted route, one "METHOD /path" a line
  openapi                    print the OpenAPI 3.1 document (also served at /api/v1/openapi.json)
  admin create -email E -password P [-name N]
                             create an admin account, or make an existing account admin
  seed [-products N] [-shops S] [-reviews R]
                             fill the catalog with S shops and N products (default 100000 and
                             50) for benchmarks and demos; it tops up, so running it twice adds
                             nothing
  seed -demo                 make a small demo marketplace (a buyer, a seller with a shop and
                             products, a shipper, an admin, orders in every state) and print its
                             sign-ins; development only, and running it twice adds nothing
  search reindex             rebuild the search read model from the catalog, from scratch
  analytics rebuild          recompute the shops' analytics from the orders and payments, from
                             scratch (events keep them current; this is for a new or damaged copy)
  bench [flags]              load-test a server started for the purpose (see make bench)
  version                    print the version

Configuration comes from the environment; the README lists every variable.
`

// Commands are the binary's subcommands: Run refuses any other, and the deployment manifests'
// tests check the commands they run against this list (CheckArgs).
var Commands = []string{"serve", "worker", "migrate", "routes", "openapi", "admin", "seed", "search", "analytics", "bench", "version", "help"}

// migrateActions are what `goshop migrate` takes.
var migrateActions = []string{"up", "down", "status"}

// splitCommand separates the subcommand (serve when none is named) from its arguments.
func splitCommand(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "serve", args
}

// serveFlags are serve's flags; noWorkersDefault comes from RUN_WORKERS.
func serveFlags(noWorkersDefault bool) (*flag.FlagSet, *bool) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	return fs, fs.Bool("no-workers", noWorkersDefault, "serve the API without running job workers")
}

// CheckArgs reports whether Run would accept args as a command line for the long-running and
// operator commands (serve, worker, migrate) without running anything, so that a manifest naming
// a command or flag the binary does not have fails a test instead of a rollout.
func CheckArgs(args []string) error {
	cmd, rest := splitCommand(args)
	switch cmd {
	case "serve":
		fs, _ := serveFlags(false)
		fs.SetOutput(io.Discard)
		if err := fs.Parse(rest); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("serve: unexpected arguments %q", fs.Args())
		}
	case "worker":
		if len(rest) > 0 {
			return fmt.Errorf("worker takes no arguments, not %q", rest)
		}
	case "migrate":
		if len(rest) != 1 || !slices.Contains(migrateActions, rest[0]) {
			return fmt.Errorf("migrate takes one of %v, not %q", migrateActions, rest)
		}
	default:
		if !slices.Contains(Commands, cmd) {
			return fmt.Errorf("unknown command %q", cmd)
		}
	}
	return nil
}

// Run is the whole command line: main only adds signals.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd, args := splitCommand(args)
	if !slices.Contains(Commands, cmd) && cmd != "-h" && cmd != "--help" {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "goshop", Version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "bench":
		return bench.Run(ctx, args, stdout)
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := NewLogger(cfg, stderr)
	switch cmd {
	case "serve":
		fs, noWorkers := serveFlags(!cfg.RunWorkers)
		if err := fs.Parse(args); err != nil {
			return err
		}
		return serve(ctx, cfg, log, !*noWorkers, true)
	case "worker":
		return serve(ctx, cfg, log, true, false)
	case "migrate":
		return migrate(ctx, cfg, log, args, stdout)
	case "routes":
		return routes(ctx, cfg, log, stdout)
	case "openapi":
		a, err := New(ctx, cfg, log, Options{Offline: true})
		if err != nil {
			return err
		}
		defer a.Close()
		doc, err := a.OpenAPI()
		if err != nil {
			return err
		}
		_, err = stdout.Write(append(doc, '\n'))
		return err
	case "admin":
		return admin(ctx, cfg, log, args, stdout)
	case "seed":
		return seed(ctx, cfg, log, args, stdout)
	case "search":
		return searchCmd(ctx, cfg, log, args, stdout)
	case "analytics":
		return analyticsCmd(ctx, cfg, log, args, stdout)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// NewLogger makes the process logger: JSON in production (or LOG_FORMAT=json), text otherwise.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" || (cfg.LogFormat == "" && cfg.Production()) {
		h = slog.NewJSONHandler(w, opts)
	}
	l := slog.New(h)
	slog.SetDefault(l)
	return l
}

// serve runs the HTTP API, the River workers, or both, until ctx ends; then it drains HTTP
// first (no new work arrives) and River second.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, work, api bool) error {
	opts := Options{Work: work}
	if cfg.OTLPEndpoint != "" {
		tp, err := tracing.OTLP(ctx, Version)
		if err != nil {
			return err
		}
		defer func() {
			// Send the last spans, after the drain below.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := tp.Shutdown(sctx); err != nil {
				log.Warn("tracing shutdown", "err", err)
			}
		}()
		opts.TracerProvider = tp
		log.Info("tracing", "otlp", cfg.OTLPEndpoint)
	}
	a, err := New(ctx, cfg, log, opts)
	if err != nil {
		return err
	}
	defer a.Close()
	if work {
		if err := a.Jobs.Start(ctx); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
		log.Info("job workers started", "workers", cfg.WorkerCount)
	}
	if cfg.DebugAddr != "" {
		go func() {
			// The default mux carries net/http/pprof's handlers, and only them.
			log.Info("debug server", "addr", cfg.DebugAddr)
			if err := http.ListenAndServe(cfg.DebugAddr, http.DefaultServeMux); err != nil { //nolint:gosec
				log.Warn("debug server", "err", err)
			}
		}()
	}
	errc := make(chan error, 1)
	var srv *http.Server
	if api {
		srv = &http.Server{
			Addr:              cfg.HTTPAddr,
			Handler:           a.Router,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       30 * time.Second,
			WriteTimeout:      cfg.RequestTimeout + 15*time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return err
		}
		tlsCfg, err := tlsConfig(cfg)
		if err != nil {
			return err
		}
		if tlsCfg != nil {
			srv.TLSConfig = tlsCfg
			ln = tls.NewListener(ln, tlsCfg)
		}
		log.Info("serving", "addr", ln.Addr().String(), "tls", tlsCfg != nil, "version", Version, "workers", work)
		go func() { errc <- srv.Serve(ln) }()
	}
	if n, err := procmem.ReleaseStartup(); err != nil {
		log.Warn("release start-up memory", "err", err)
	} else {
		log.Debug("released start-up memory", "mapped_bytes", n)
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	log.Info("shutting down", "grace", cfg.ShutdownWait)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownWait)
	defer cancel()
	if srv != nil {
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("http shutdown", "err", err)
		}
	}
	// WebSocket streams are hijacked connections, which Shutdown neither waits for nor closes:
	// the hub tells each client it is going away.
	if a.Realtime != nil {
		if err := a.Realtime.Close(); err != nil {
			log.Warn("realtime shutdown", "err", err)
		}
	}
	if work {
		if err := a.Jobs.Stop(sctx); err != nil {
			log.Warn("workers shutdown", "err", err)
		}
	}
	log.Info("stopped")
	return nil
}

// tlsConfig serves HTTPS (and so HTTP/2) with the configured certificate, or with a self-signed
// one for localhost when TLS_SELF_SIGNED is set; nil means plain HTTP.
func tlsConfig(cfg config.Config) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	switch {
	case cfg.TLSCertFile != "":
		cert, err = tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	case cfg.TLSSelfSigned:
		cert, err = SelfSignedCert()
	default:
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil
}

// SelfSignedCert makes a development certificate for localhost, 127.0.0.1 and ::1. It is written
// with the standard library because it is a dozen lines of crypto/x509 and a library would add
// nothing.
func SelfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"GoShop development"}, CommonName: "localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(90 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

func migrate(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: goshop migrate up|down|status")
	}
	pool, err := pgdb.Open(ctx, cfg.DatabaseURL, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	switch args[0] {
	case "up":
		return db.Migrate(ctx, pool, db.Up, log)
	case "down":
		return db.Migrate(ctx, pool, db.Down, log)
	case "status":
		st, err := db.MigrationStatus(ctx, pool)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%-12s %8s %8s %8s\n", "context", "current", "latest", "pending")
		for _, s := range st {
			fmt.Fprintf(stdout, "%-12s %8d %8d %8d\n", s.Context, s.Current, s.Latest, s.Pending)
		}
		return nil
	default:
		return fmt.Errorf("unknown migrate action %q %v", args[0], migrateActions)
	}
}

// routes prints the routes read from the chi router itself, so the list cannot drift from what
// is served.
func routes(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	a, err := New(ctx, cfg, log, Options{Offline: true})
	if err != nil {
		return err
	}
	defer a.Close()
	return chi.Walk(a.Router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.ReplaceAll(route, "/*/", "/")
		if len(route) > 1 {
			route = strings.TrimSuffix(route, "/")
		}
		fmt.Fprintf(stdout, "%s %s\n", method, route)
		return nil
	})
}

func admin(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: goshop admin create -email E -password P [-name N]")
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	email := fs.String("email", "", "the admin's email")
	password := fs.String("password", os.Getenv("GOSHOP_ADMIN_PASSWORD"), "the admin's password (or GOSHOP_ADMIN_PASSWORD)")
	name := fs.String("name", "Administrator", "the admin's full name")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("admin create: -email is required")
	}
	a, err := New(ctx, cfg, log, Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Users.CreateAdmin(ctx, *email, *password, *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "admin %s (%s) roles=%v\n", u.Email, u.ID, u.Roles)
	return nil
}
