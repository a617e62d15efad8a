// Package app wires GoShop together: configuration -> PostgreSQL -> Redis -> River -> event
// bus -> contexts -> router. It is the only package that knows every context.
package app

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/trace"

	"github.com/goshop/goshop/db"
	"github.com/goshop/goshop/internal/analytics"
	"github.com/goshop/goshop/internal/cart"
	"github.com/goshop/goshop/internal/catalog"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/media"
	"github.com/goshop/goshop/internal/notify"
	"github.com/goshop/goshop/internal/order"
	"github.com/goshop/goshop/internal/payment"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/breaker"
	"github.com/goshop/goshop/internal/platform/config"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/mail"
	"github.com/goshop/goshop/internal/platform/metrics"
	"github.com/goshop/goshop/internal/platform/openapi"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/ratelimit"
	"github.com/goshop/goshop/internal/platform/realtime"
	"github.com/goshop/goshop/internal/platform/tracing"
	"github.com/goshop/goshop/internal/review"
	"github.com/goshop/goshop/internal/search"
	"github.com/goshop/goshop/internal/shipping"
	"github.com/goshop/goshop/internal/shipping/geo"
	"github.com/goshop/goshop/internal/shop"
	"github.com/goshop/goshop/internal/user"
	"github.com/goshop/goshop/internal/web"
)

// App is one running GoShop: its connections, job runner, contexts and router.
type App struct {
	Cfg     config.Config
	Log     *slog.Logger
	Pool    *pgxpool.Pool
	Redis   *redis.Client
	Jobs    *jobs.Runner
	Bus     *eventbus.Bus
	Mail    mail.Sender
	Metrics *metrics.Metrics
	Router  chi.Router
	// Reads runs the public reads on the read replica while it is usable, else on Pool.
	Reads *pgdb.Reads
	// Replica is the read replica's pool (nil without DATABASE_READ_URL).
	Replica *pgxpool.Pool
	// Realtime is the WebSocket hub every live stream goes through (nil in Offline mode).
	Realtime *realtime.Hub
	// stops ends the app's background loops on Close.
	stops []context.CancelFunc
	authn *auth.Authenticator
	// tracer is nil when tracing is off.
	tracer trace.TracerProvider

	Users    *user.Service
	Shops    *shop.Service
	Catalog  *catalog.Service
	Cart     *cart.Service
	Orders   *order.Service
	Payments *payment.Service
	Shipping *shipping.Service
	Reviews  *review.Service
	Media    *media.Service
	Search   *search.Service
	Notify   *notify.Service
	// Outbox holds the SMS and push messages of development and test (nil when real providers
	// are configured).
	Outbox *notify.Outbox
	// Analytics is the shops' analytics and reports.
	Analytics *analytics.Service
}

// Options are the knobs that are not configuration: tests use them.
type Options struct {
	// Work runs River workers in this process.
	Work bool
	// RetryPolicy overrides River's backoff (tests use a short fixed delay).
	RetryPolicy river.ClientRetryPolicy
	// PollInterval overrides River's fetch poll interval.
	PollInterval time.Duration
	// Offline builds the app without touching PostgreSQL or Redis (pools connect lazily): the
	// `routes` command uses it.
	Offline bool
	// Hooks run after the contexts are built and before the River client is: tests subscribe
	// to events there.
	Hooks []func(*App)
	// DBConfig changes the pool's settings before it connects (tests count its round trips).
	DBConfig func(*pgxpool.Config)
	// TracerProvider traces requests, queries and jobs; nil installs no tracing at all. serve
	// sets it when OTEL_EXPORTER_OTLP_ENDPOINT is set; tests pass an in-memory one.
	TracerProvider trace.TracerProvider
}

// New connects everything and builds the contexts; call Close when done.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, o Options) (*App, error) {
	a := &App{Cfg: cfg, Log: log, tracer: o.TracerProvider}
	var err error
	queries := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "goshop_db_queries_total",
		Help: "Statements sent to PostgreSQL, by pool (primary, replica)."}, []string{"pool"})
	if o.Offline {
		a.Pool, err = pgxpool.New(ctx, cfg.DatabaseURL)
	} else {
		configure := []func(*pgxpool.Config){pgdb.CountQueries(queries.WithLabelValues("primary"))}
		if o.DBConfig != nil {
			configure = append(configure, o.DBConfig)
		}
		if o.TracerProvider != nil {
			configure = append(configure, func(c *pgxpool.Config) {
				// Beside the query counter, not instead of it.
				c.ConnConfig.Tracer = multitracer.New(c.ConnConfig.Tracer, tracing.Postgres(o.TracerProvider))
			})
		}
		a.Pool, err = pgdb.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns, configure...)
	}
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseReadURL != "" && !o.Offline {
		// A replica that is down at start is not fatal: reads go to the primary until it answers.
		if a.Replica, err = pgdb.OpenReplica(cfg.DatabaseReadURL, cfg.DBMaxConns, pgdb.CountQueries(queries.WithLabelValues("replica"))); err != nil {
			a.Close()
			return nil, err
		}
	}
	a.Reads = pgdb.NewReads(a.Pool, a.Replica, cfg.ReplicaMaxLag, log)
	if a.Replica != nil {
		wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		a.stops = append(a.stops, stop)
		a.Reads.Check(ctx)
		go a.Reads.Watch(wctx, time.Second)
	}
	if cfg.AutoMigrate && !o.Offline {
		if err := db.Migrate(ctx, a.Pool, db.Up, log); err != nil {
			a.Close()
			return nil, err
		}
	}
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("app: REDIS_URL: %w", err)
	}
	a.Redis = redis.NewClient(ropts)
	if err := a.Redis.Ping(ctx).Err(); err != nil && !o.Offline {
		a.Close()
		return nil, fmt.Errorf("app: redis: %w", err)
	}

	a.Jobs = jobs.NewRunner()
	a.Bus = eventbus.New(a.Jobs)
	mailCfg := mail.Config{SMTPURL: cfg.SMTPURL, From: cfg.MailFrom, Disabled: cfg.MailDisabled, LogBodies: cfg.Development()}
	if mailCfg.RootCAs, err = smtpRoots(cfg.SMTPCAFile); err != nil {
		a.Close()
		return nil, err
	}
	a.Mail, err = mail.New(mailCfg, log)
	if err != nil {
		a.Close()
		return nil, err
	}
	tokens := auth.NewTokens(cfg.JWTSecret, cfg.JWTIssuer, cfg.AccessTTL)
	revs := auth.NewRevocations(a.Redis, cfg.RedisPrefix, cfg.AccessTTL)
	if !o.Offline {
		rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		a.stops = append(a.stops, stop)
		go revs.Run(rctx)
	}
	authn := &auth.Authenticator{Tokens: tokens, Revocations: revs}
	a.authn = authn
	limiter := ratelimit.New(a.Redis, cfg.RedisPrefix, cfg.RateLimitDisabled)

	a.Users, err = user.NewService(a.Pool, tokens, revs, a.Bus, a.Jobs, a.Mail, user.Config{
		RefreshTTL: cfg.RefreshTTL, OTPTTL: cfg.OTPTTL, OTPMaxTries: cfg.OTPMaxTries, ResetTokenTTL: cfg.ResetTokenTTL,
		Secret: cfg.JWTSecret, HashMemoryKiB: cfg.HashMemoryKiB, HashTime: cfg.HashTime,
		HashConcurrency: cfg.HashConcurrency, HashWait: cfg.HashWait,
	}, log)
	if err != nil {
		a.Close()
		return nil, err
	}

	a.Shops = shop.NewService(a.Pool, a.Bus, a.Jobs, lazyCatalog{a})
	a.Catalog = catalog.NewService(a.Pool, a.Bus, a.Jobs, shopDirectory{a.Shops})
	a.Shops.UseReads(a.Reads)
	a.Catalog.UseReads(a.Reads)
	storage, err := mediaStorage(cfg, o.Offline)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Media = media.NewService(a.Pool, a.Bus, a.Jobs, storage, media.Config{ImageMaxBytes: cfg.MediaImageMaxBytes,
		VideoMaxBytes: cfg.MediaVideoMaxBytes, MaxPixels: cfg.MediaImageMaxPixels, MaxSide: cfg.MediaImageMaxSide,
		MaxPerOwner: cfg.MediaMaxPerOwner, UploadsPerUser: cfg.MediaUploadsPerUser, Uploads: cfg.MediaUploads,
		DeleteGrace: cfg.MediaDeleteGrace, UnattachedTTL: cfg.MediaUnattachedTTL}, log)
	a.Media.SetGuard(events.MediaOwnerProduct, media.GuardFunc(a.Catalog.CanManageMedia))
	a.Media.UseReads(a.Reads)
	a.Catalog.SetMedia(productMedia{a.Media})
	promos := shopPromotions{a.Shops}
	// The cart's shipping fee comes from the shipping context, which needs the orders, which need
	// the cart: it is set once shipping exists, below.
	a.Cart = cart.NewService(a.Pool, catalogForCart{a.Catalog}, promos, nil,
		cart.Pricing{TaxRateBPS: cfg.TaxRateBPS, TaxInclusive: cfg.TaxInclusive, Location: cfg.MarketplaceTZ})
	a.Orders = order.NewService(a.Pool, a.Bus, a.Jobs, order.Ports{Cart: cartCheckout{a.Cart}, Stock: catalogStock{a.Catalog},
		Promos: promos, Addresses: addressBook{a.Users}}, order.Config{PaymentTimeout: cfg.PaymentTimeout, ReturnWindow: cfg.ReturnWindow,
		Location: cfg.MarketplaceTZ})
	gateways := paymentGateways(cfg)
	a.Payments = payment.NewService(a.Pool, a.Bus, a.Jobs, gateways,
		payment.Ports{Orders: orderPayments{a.Orders}, Shops: promos},
		payment.Config{CommissionBPS: cfg.PlatformCommissionBPS, ReleaseDelay: cfg.ReturnWindow, Sandbox: cfg.Sandbox(),
			Location: cfg.MarketplaceTZ}, log)

	if !o.Offline {
		a.Realtime = realtime.New(a.Redis, realtime.Config{Prefix: cfg.RedisPrefix, OriginPatterns: originPatterns(cfg.CORSOrigins),
			MaxPerUser: cfg.RealtimeMaxPerUser, MaxStreams: cfg.RealtimeMaxStreams, FDReserve: cfg.RealtimeFDReserve,
			WriteTimeout: cfg.RealtimeWriteTimeout, SendBuffer: cfg.RealtimeSendBuffer, SocketBuffer: cfg.RealtimeSocketBuffer,
			PingInterval: cfg.RealtimePingInterval, Logger: log})
	}
	shipCfg, err := shippingConfig(cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.Shipping, err = shipping.NewService(a.Pool, a.Bus, a.Jobs, a.Realtime, shippingIdentity{a.Users},
		shippingOrders{a.Orders}, shippingShops{a.Shops}, shipCfg, log)
	if err != nil {
		a.Close()
		return nil, err
	}
	sctx, stopSearch := context.WithCancel(context.WithoutCancel(ctx))
	a.stops = append(a.stops, stopSearch)
	a.Search = search.NewService(sctx, a.Pool, a.Bus, a.Jobs, searchCatalog{a.Catalog}, searchShops{a.Shops},
		searchShipping{a}, search.Config{
			Location: cfg.MarketplaceTZ, Retention: cfg.BehaviorRetention, BatchWait: cfg.BehaviorBatchWait, Queue: cfg.BehaviorQueue,
			Limiter: limiter, RatePerMinute: cfg.BehaviorRatePerMinute,
			MeiliURL: cfg.MeiliURL, MeiliKey: cfg.MeiliKey, MeiliIndex: cfg.MeiliIndex}, log)
	a.Cart.SetShipping(cartShipping{a.Shipping})
	a.Cart.SetInterest(a.Search)
	a.Users.SetShipperDesk(a.Shipping)
	a.Reviews = review.NewService(a.Pool, a.Bus, reviewPurchases{a.Orders, a.Shipping}, promos, review.Config{
		EditDays: cfg.ReviewEditDays, MaxMedia: cfg.ReviewMaxMedia, ReportThreshold: cfg.ReviewReportThreshold})
	a.Catalog.SetRatings(a.Reviews)
	a.Search.UseReads(a.Reads)
	a.Reviews.UseReads(a.Reads)
	a.Media.SetGuard(events.MediaOwnerReview, a.Reviews)
	a.Reviews.SetMedia(reviewMedia{a.Media})
	a.Notify = notify.NewService(a.Pool, a.Bus, a.Jobs, a.Realtime, notify.Ports{Users: notifyUsers{a.Users}, Shops: promos,
		Orders: notifyOrders{a.Orders, a.Shipping}}, a.notifySenders(cfg, log), notify.Config{MaxPushPerUser: cfg.NotifyMaxPushPerUser,
		SendAttempts: cfg.NotifySendAttempts, ReplayLimit: cfg.NotifyReplayLimit, PushPublicKey: cfg.VAPIDPublicKey}, log)
	a.Analytics = analytics.NewService(sctx, a.Pool, a.Bus, a.Jobs, analytics.Ports{
		Source: analyticsSource{a.Orders, a.Payments}, Shops: promos, Views: analyticsViews{a.Search},
		Ratings: analyticsRatings{a.Reviews}, Stock: analyticsStock{a.Catalog}, PromisedDays: promisedDays(a.Shipping.Fees())},
		analytics.Config{Location: cfg.MarketplaceTZ, MaxRange: cfg.AnalyticsMaxRangeDays, ViewsEvery: cfg.AnalyticsViewsEvery,
			InlineRows: cfg.AnalyticsExportInlineRows, ExportTTL: cfg.AnalyticsExportTTL, ExportsPerUser: cfg.AnalyticsExportsPerUser,
			ExportWorkers: cfg.AnalyticsExportWorkers})
	a.Analytics.UseReads(a.Reads)

	for _, h := range o.Hooks {
		h(a)
	}
	var jobMiddleware []rivertype.Middleware
	if o.TracerProvider != nil {
		jobMiddleware = tracing.River(o.TracerProvider)
	}
	if err := a.Jobs.Init(a.Pool, jobs.Options{Work: o.Work, MaxWorkers: cfg.WorkerCount, FetchCooldown: cfg.JobFetchCooldown, RetryPolicy: o.RetryPolicy, Middleware: jobMiddleware,
		PollInterval: o.PollInterval, Timeout: cfg.JobTimeout, RescueAfter: cfg.JobRescueAfter, KeepCompleted: cfg.JobKeepCompleted, Logger: log}); err != nil {
		a.Close()
		return nil, err
	}

	a.Metrics = metrics.New(a.Pool)
	a.Metrics.Register(a.Users.Collectors()...)
	a.Metrics.Register(queries)
	a.Metrics.Register(breaker.Collector(breakers(gateways, shipCfg)...))
	if a.Realtime != nil {
		a.Metrics.Register(realtimeCollectors(a.Realtime)...)
	}
	a.Router = a.routes()
	api := chi.NewRouter()
	user.NewHandler(a.Users, authn, limiter, cfg.AuthRatePerMinute).Routes(api)
	shop.NewHandler(a.Shops, authn).Routes(api)
	catalog.NewHandler(a.Catalog, authn).Routes(api)
	cart.NewHandler(a.Cart, authn).Routes(api)
	order.NewHandler(a.Orders, authn).Routes(api)
	payment.NewHandler(a.Payments, authn).Routes(api)
	shipping.NewHandler(a.Shipping, authn, a.Realtime).Routes(api)
	review.NewHandler(a.Reviews, authn).Routes(api)
	mediaRoutes := media.NewHandler(a.Media, authn)
	mediaRoutes.Routes(api)
	mediaRoutes.FileRoutes(a.Router)
	search.NewHandler(a.Search, authn).Routes(api)
	notify.NewHandler(a.Notify, authn, a.Realtime, limiter.PerMinute("notify-send", cfg.NotifySendPerMinute)).Routes(api)
	analytics.NewHandler(a.Analytics, authn).Routes(api)
	api.Method(http.MethodGet, "/openapi.json", httpx.Documented[httpx.Empty, map[string]any](http.StatusOK, a.openAPIHandler()).
		Doc("The OpenAPI 3.1 document of this API").For(httpx.Public))
	a.Router.Mount("/api/v1", api)
	web.New(web.Info{Version: Version, Status: a.readiness, Seller: a.sellerCenter(limiter)}).Routes(a.Router)
	return a, nil
}

// routes builds the root router with the middleware every request passes and the operational
// endpoints; contexts mount their routes under /api/v1.
func (a *App) routes() chi.Router {
	r := chi.NewRouter()
	r.NotFound(httpx.NotFound)
	r.MethodNotAllowed(httpx.MethodNotAllowed)
	if a.tracer != nil {
		r.Use(tracing.HTTP(a.tracer))
	}
	if a.Cfg.TrustProxy {
		r.Use(middleware.RealIP)
	}
	r.Use(middleware.RequestID, httpx.RequestIDHeader, httpx.Observe(a.Log, a.Cfg.RequestTimeout, a.Metrics.Record),
		httpx.Recover, httpx.SecurityHeaders,
		cors.Handler(cors.Options{
			AllowedOrigins:   a.Cfg.CORSOrigins,
			AllowedMethods:   []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
			AllowedHeaders:   []string{"Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id", "X-Device-ID"},
			ExposedHeaders:   []string{"X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining"},
			AllowCredentials: false,
			MaxAge:           600,
		}),
		httpx.BodyLimit(a.Cfg.MaxBodyBytes))
	r.Method(http.MethodGet, "/healthz", httpx.Endpoint(http.StatusOK, func(*http.Request) (map[string]string, error) {
		return map[string]string{"status": "ok"}, nil
	}).Doc("The process is alive").For(httpx.Public))
	r.Method(http.MethodGet, "/readyz", httpx.Documented[httpx.Empty, map[string]string](http.StatusOK, a.ready).
		Doc("PostgreSQL and Redis answer (503 naming what is down otherwise)").For(httpx.Public))
	r.Method(http.MethodGet, "/metrics", httpx.Documented[httpx.Empty, httpx.Empty](http.StatusOK, a.Metrics.Handler().ServeHTTP).
		Doc("Prometheus metrics").For(httpx.Public).Answers("text/plain"))
	return r
}

// ready answers 200 when PostgreSQL and Redis both answer, 503 naming what is down otherwise.
// The route is public, so it says only "down": the error (hosts, addresses, users) goes to the log.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	checks := a.readiness(r)
	status := http.StatusOK
	if checks["postgres"] != "ok" || checks["redis"] != "ok" {
		status = http.StatusServiceUnavailable
	}
	httpx.JSON(w, status, checks)
}

// readiness pings each dependency: "ok" or "down" each, the error to the log.
func (a *App) readiness(r *http.Request) map[string]string {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"postgres": "ok", "redis": "ok"}
	for name, err := range map[string]error{"postgres": a.Pool.Ping(ctx), "redis": a.Redis.Ping(ctx).Err()} {
		if err != nil {
			a.Log.ErrorContext(ctx, "readiness check failed", "dependency", name, "err", err)
			checks[name] = "down"
		}
	}
	// A replica in trouble degrades reads to the primary; the instance still serves everything.
	if state := a.Reads.State(); state != pgdb.ReplicaNone {
		checks["replica"] = state
	}
	return checks
}

// shippingConfig builds the delivery configuration: the price list with its overrides, and the
// HTTP geocoder and router when configured, each falling back to the offline estimate.
func shippingConfig(cfg config.Config) (shipping.Config, error) {
	fees, err := geo.DefaultFeeConfig().WithOverrides([]byte(cfg.ShippingFees))
	if err != nil {
		return shipping.Config{}, fmt.Errorf("app: SHIPPING_FEES: %w", err)
	}
	out := shipping.Config{Fees: fees, Geocoder: geo.Default(), Router: geo.OfflineRouter{RoadFactor: cfg.RoadFactor},
		AssignRadiusKm: cfg.AssignRadiusKm, AssignRetry: cfg.AssignRetry, NearbyKm: cfg.NotifyNearbyKm, Location: cfg.MarketplaceTZ}
	if cfg.GeocoderURL != "" {
		out.Geocoder = geo.HTTPGeocoder{BaseURL: cfg.GeocoderURL, UserAgent: cfg.GeocoderUserAgent, Fallback: out.Geocoder,
			Breaker: geo.NewBreaker("geocoder", breakerConfig(cfg))}
	}
	if cfg.RouterURL != "" {
		out.Router = geo.OSRMRouter{BaseURL: cfg.RouterURL, Fallback: out.Router, Breaker: geo.NewBreaker("router", breakerConfig(cfg))}
	}
	return out, nil
}

// smtpRoots reads SMTP_CA_FILE: nil (the system's authorities) when it is unset.
func smtpRoots(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	pemBytes, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("app: SMTP_CA_FILE: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("app: SMTP_CA_FILE holds no PEM certificate")
	}
	return roots, nil
}

// notifySenders are the notification channels' outlets: the mail kernel; SpeedSMS when its
// token is set; web push with the VAPID keys. Outside production, SMS without a token, and push
// with the published development keys, go to the development outbox instead.
func (a *App) notifySenders(cfg config.Config, log *slog.Logger) notify.Senders {
	out := notify.Senders{Mail: a.Mail}
	if !cfg.Production() {
		a.Outbox = notify.NewOutbox(log)
	}
	switch {
	case cfg.SpeedSMSToken != "":
		out.SMS = notify.SpeedSMS{BaseURL: cfg.SpeedSMSURL, Token: cfg.SpeedSMSToken, Sender: cfg.SpeedSMSSender,
			Breaker: notify.NewSMSBreaker(breakerConfig(cfg))}
	case a.Outbox != nil:
		out.SMS = a.Outbox
	}
	switch {
	case cfg.VAPIDPrivateKey != "" && !cfg.DevVAPIDKeys():
		out.Push = notify.WebPush{PublicKey: cfg.VAPIDPublicKey, PrivateKey: cfg.VAPIDPrivateKey, Subject: cfg.VAPIDSubject,
			Client: &http.Client{Timeout: 15 * time.Second}}
	case a.Outbox != nil:
		out.Push = a.Outbox.Pusher()
	}
	return out
}

// mediaStorage is S3-compatible storage when S3_ENDPOINT is set, else the local directory
// MEDIA_DIR, whose files GoShop serves under MEDIA_BASE_URL (made at start-up, unless offline:
// `goshop routes` writes nothing).
func mediaStorage(cfg config.Config, offline bool) (media.Storage, error) {
	if cfg.S3Endpoint != "" {
		return media.NewS3(media.S3Config{Endpoint: cfg.S3Endpoint, Region: cfg.S3Region, Bucket: cfg.S3Bucket,
			AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey, PublicBaseURL: cfg.S3PublicBaseURL, URLTTL: cfg.S3URLTTL})
	}
	local := media.NewLocal(cfg.MediaDir, cfg.MediaBaseURL)
	if offline {
		return local, nil
	}
	return local, local.Prepare()
}

// realtimeCollectors export what the WebSocket hub counts in this process: the live topics it
// follows in Redis and the clients it dropped as too slow to read.
func realtimeCollectors(h *realtime.Hub) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "goshop_realtime_streams",
			Help: "WebSocket streams (followers) this process holds open."},
			func() float64 { return float64(h.Streams()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "goshop_realtime_topics",
			Help: "Live topics (e.g. deliveries) this process's WebSocket clients follow."},
			func() float64 { return float64(h.Topics()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "goshop_realtime_dropped_total",
			Help: "WebSocket clients this process dropped as too slow to read their messages."},
			func() float64 { return float64(h.Dropped()) }),
	}
}

// originPatterns turns the CORS origins (https://shop.example) into the host patterns the
// WebSocket upgrade checks a browser's Origin against (shop.example).
func originPatterns(origins []string) []string {
	var out []string
	for _, o := range origins {
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			out = append(out, u.Host)
		} else {
			out = append(out, o)
		}
	}
	return out
}

// Close stops the WebSocket hub and releases the connections.
func (a *App) Close() {
	for _, stop := range a.stops {
		stop()
	}
	if a.Realtime != nil {
		_ = a.Realtime.Close()
	}
	if a.Redis != nil {
		_ = a.Redis.Close()
	}
	if a.Replica != nil {
		a.Replica.Close()
	}
	if a.Pool != nil {
		a.Pool.Close()
	}
}

// openAPI serves the OpenAPI document, read off the router the first time it is asked for (the
// router is complete by then, this route included).
func (a *App) openAPIHandler() http.HandlerFunc {
	var (
		once sync.Once
		doc  []byte
		err  error
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { doc, err = a.OpenAPI() })
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
}

// OpenAPI builds the API's OpenAPI document from the router.
func (a *App) OpenAPI() ([]byte, error) {
	return openapi.Build(a.Router, openapi.Info{Title: "GoShop API", Version: Version,
		Description: "GoShop marketplace API. The rules every route follows (errors, IDs, money, " +
			"pagination, idempotency, authentication, WebSocket sign-in) are in docs/API.md of the repository."},
		a.tokenAccess)
}

// Routes lists every mounted route as the document sees it; the contract and authorization
// suites walk it.
func (a *App) Routes() ([]openapi.Route, error) { return openapi.Routes(a.Router, a.tokenAccess) }

// tokenAccess tells, from a route's middleware, whether it requires or accepts a token.
func (a *App) tokenAccess(mws []func(http.Handler) http.Handler) openapi.Access {
	required := reflect.ValueOf(a.authn.Required).Pointer()
	optional := reflect.ValueOf(a.authn.Optional).Pointer()
	access := openapi.Public
	for _, mw := range mws {
		switch reflect.ValueOf(mw).Pointer() {
		case required:
			return openapi.Bearer
		case optional:
			access = openapi.Optional
		}
	}
	return access
}
