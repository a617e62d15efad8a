// Package config reads GoShop's configuration from the environment, once, at start-up.
//
// Every field here is documented in the README's configuration table; keep the two in step.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"time"
	// The time zone database, in the binary: MARKETPLACE_TZ must load wherever it runs, a
	// minimal container image included.
	_ "time/tzdata"

	"github.com/caarlos0/env/v11"
)

// Config is the whole runtime configuration of the binary.
type Config struct {
	// Env is EnvDevelopment, EnvTest or EnvProduction; anything else is refused, so that a typo
	// (`prod`) cannot pass for a non-production mode with production's data.
	Env      string `env:"APP_ENV" envDefault:"development"`
	HTTPAddr string `env:"HTTP_ADDR" envDefault:":8080"`
	LogLevel string `env:"LOG_LEVEL" envDefault:"info"`
	// DebugAddr serves net/http/pprof on a separate listener when set (keep it on loopback).
	DebugAddr string `env:"DEBUG_ADDR"`
	// LogFormat is json or text; empty picks json in production and text elsewhere.
	LogFormat string `env:"LOG_FORMAT"`

	DatabaseURL string `env:"DATABASE_URL" envDefault:"postgres://postgres@127.0.0.1:5432/goshop?sslmode=disable"`
	DBMaxConns  int32  `env:"DB_MAX_CONNS" envDefault:"10"`
	// DatabaseReadURL, when set, is a read replica (a streaming hot standby) that takes the
	// public reads that tolerate a little lag; ReplicaMaxLag is that little.
	DatabaseReadURL string        `env:"DATABASE_READ_URL"`
	ReplicaMaxLag   time.Duration `env:"REPLICA_MAX_LAG" envDefault:"5s"`
	RedisURL        string        `env:"REDIS_URL" envDefault:"redis://127.0.0.1:6379/0"`
	RedisPrefix     string        `env:"REDIS_PREFIX" envDefault:"goshop:"`
	RunWorkers      bool          `env:"RUN_WORKERS" envDefault:"true"`
	WorkerCount     int           `env:"WORKER_COUNT" envDefault:"10"`
	// JobFetchCooldown is how often at most a process fetches jobs while there are some: River
	// fetches at most WORKER_COUNT jobs at a time, so it bounds the jobs a process runs a second
	// (River's own default, 100 ms, allows 100 a second with 10 workers).
	JobFetchCooldown time.Duration `env:"JOB_FETCH_COOLDOWN" envDefault:"10ms"`
	AutoMigrate      bool          `env:"AUTO_MIGRATE" envDefault:"true"`
	ShutdownWait     time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	// JobTimeout cancels a River job's work after this long, unless its worker sets its own.
	JobTimeout time.Duration `env:"JOB_TIMEOUT" envDefault:"1m"`
	// JobRescueAfter is how long a job may stay running before the River leader treats it as
	// abandoned (its process killed) and runs it again. River's rescuer looks every 30 seconds,
	// so a killed process's jobs run again within JobRescueAfter + about 40 seconds.
	JobRescueAfter time.Duration `env:"JOB_RESCUE_AFTER" envDefault:"75s"`
	// JobKeepCompleted is how long River keeps a completed job's row. Every event, refresh and
	// notification is a job, and River's fetch reads past the dead index entries the ones kept
	// leave: River's own day grew its table to 150,000 rows in a few bench runs.
	JobKeepCompleted time.Duration `env:"JOB_KEEP_COMPLETED" envDefault:"1h"`

	// OTLPEndpoint turns tracing on: spans of requests, queries and jobs go there by OTLP/HTTP
	// (the exporter reads the other OTEL_EXPORTER_OTLP_* variables itself).
	OTLPEndpoint string `env:"OTEL_EXPORTER_OTLP_ENDPOINT"`

	TLSCertFile   string `env:"TLS_CERT_FILE"`
	TLSKeyFile    string `env:"TLS_KEY_FILE"`
	TLSSelfSigned bool   `env:"TLS_SELF_SIGNED" envDefault:"false"`
	// PublicURL is where people reach GoShop (https://shop.example), when a proxy in front ends
	// TLS: https there makes the seller center's cookies Secure though the request arrives here
	// over plain HTTP.
	PublicURL string `env:"PUBLIC_URL"`
	// SellerSessionTTL is how long a seller-center session lasts without use.
	SellerSessionTTL time.Duration `env:"SELLER_SESSION_TTL" envDefault:"12h"`

	RequestTimeout time.Duration `env:"REQUEST_TIMEOUT" envDefault:"15s"`
	MaxBodyBytes   int64         `env:"MAX_BODY_BYTES" envDefault:"1048576"`
	CORSOrigins    []string      `env:"CORS_ALLOWED_ORIGINS" envSeparator:"," envDefault:"*"`
	// TrustProxy takes the client address from X-Forwarded-For / X-Real-IP (behind a proxy only).
	TrustProxy bool `env:"TRUST_PROXY" envDefault:"false"`

	RateLimitDisabled bool `env:"RATE_LIMIT_DISABLED" envDefault:"false"`
	// AuthRatePerMinute is how many login/register/forgot-password/verify-otp calls one
	// client IP may make a minute, per route.
	AuthRatePerMinute int `env:"AUTH_RATE_PER_MINUTE" envDefault:"10"`

	// JWTSecret defaults to devJWTSecret, which production refuses.
	JWTSecret     string        `env:"JWT_SECRET"`
	JWTIssuer     string        `env:"JWT_ISSUER" envDefault:"goshop"`
	AccessTTL     time.Duration `env:"ACCESS_TOKEN_TTL" envDefault:"15m"`
	RefreshTTL    time.Duration `env:"REFRESH_TOKEN_TTL" envDefault:"720h"`
	OTPTTL        time.Duration `env:"OTP_TTL" envDefault:"10m"`
	OTPMaxTries   int           `env:"OTP_MAX_ATTEMPTS" envDefault:"5"`
	ResetTokenTTL time.Duration `env:"RESET_TOKEN_TTL" envDefault:"15m"`
	// Argon2id cost of password hashes (memory in KiB, passes).
	HashMemoryKiB uint32 `env:"PASSWORD_HASH_MEMORY_KIB" envDefault:"65536"`
	HashTime      uint32 `env:"PASSWORD_HASH_TIME" envDefault:"1"`
	// How many hashes run at once (0: the CPUs over each hash's lanes), and how long a request
	// waits for a turn before a 503: each takes HashMemoryKiB for its whole run.
	HashConcurrency int           `env:"PASSWORD_HASH_CONCURRENCY" envDefault:"0"`
	HashWait        time.Duration `env:"PASSWORD_HASH_WAIT" envDefault:"5s"`

	// Money rules of carts and orders.
	TaxRateBPS     int64         `env:"TAX_RATE_BPS" envDefault:"1000"`
	TaxInclusive   bool          `env:"TAX_INCLUSIVE" envDefault:"true"`
	PaymentTimeout time.Duration `env:"ORDER_PAYMENT_TIMEOUT" envDefault:"30m"`
	ReturnWindow   time.Duration `env:"ORDER_RETURN_WINDOW" envDefault:"168h"`

	// MarketplaceTZ is where the marketplace's days and months begin and end: summaries by
	// month, dates printed on labels and receipts, a card's expiry month.
	MarketplaceTZ *time.Location `env:"MARKETPLACE_TZ" envDefault:"Asia/Ho_Chi_Minh"`

	// Analytics: the longest date range a shop's analytics or report may cover, in days, and
	// how often the search context's daily view counts are copied into the rollups.
	AnalyticsMaxRangeDays int           `env:"ANALYTICS_MAX_RANGE_DAYS" envDefault:"366"`
	AnalyticsViewsEvery   time.Duration `env:"ANALYTICS_VIEWS_EVERY" envDefault:"15m"`
	// Report exports: a report of more rows than AnalyticsExportInlineRows is written by a
	// River job into a file kept AnalyticsExportTTL; one user may have AnalyticsExportsPerUser
	// exports in progress at once, and a process renders AnalyticsExportWorkers at once.
	AnalyticsExportInlineRows int           `env:"ANALYTICS_EXPORT_INLINE_ROWS" envDefault:"10000"`
	AnalyticsExportTTL        time.Duration `env:"ANALYTICS_EXPORT_TTL" envDefault:"24h"`
	AnalyticsExportsPerUser   int           `env:"ANALYTICS_EXPORTS_PER_USER" envDefault:"2"`
	AnalyticsExportWorkers    int           `env:"ANALYTICS_EXPORT_WORKERS" envDefault:"2"`

	// Behaviour tracking (search): how long raw events are kept, how long a request waits for
	// its batch to fill before the batch commits, and how many events may wait at once.
	BehaviorRetention time.Duration `env:"BEHAVIOR_RETENTION" envDefault:"2160h"`
	BehaviorBatchWait time.Duration `env:"BEHAVIOR_BATCH_WAIT" envDefault:"5ms"`
	BehaviorQueue     int           `env:"BEHAVIOR_QUEUE" envDefault:"10000"`
	// BehaviorRatePerMinute is how many behaviour events one user (or one anonymous device)
	// may record a minute; past that 429 with Retry-After. 0 or less: no limit.
	BehaviorRatePerMinute int `env:"BEHAVIOR_RATE_PER_MINUTE" envDefault:"600"`

	// MeiliURL, when set, makes Meilisearch the search engine (MeiliIndex, with MeiliKey).
	MeiliURL   string `env:"MEILI_URL"`
	MeiliKey   string `env:"MEILI_API_KEY"`
	MeiliIndex string `env:"MEILI_INDEX" envDefault:"products"`

	// Delivery: the price list (JSON put over the built-in one), the geocoder and router (the
	// offline gazetteer and straight line times the road factor when unset), and assignment.
	ShippingFees      string        `env:"SHIPPING_FEES"`
	GeocoderURL       string        `env:"GEOCODER_URL"`
	GeocoderUserAgent string        `env:"GEOCODER_USER_AGENT" envDefault:"GoShop/1.0 (delivery geocoding)"`
	RouterURL         string        `env:"ROUTER_URL"`
	RoadFactor        float64       `env:"SHIPPING_ROAD_FACTOR" envDefault:"1.3"`
	AssignRadiusKm    float64       `env:"SHIPPING_ASSIGN_RADIUS_KM" envDefault:"10"`
	AssignRetry       time.Duration `env:"SHIPPING_ASSIGN_RETRY" envDefault:"30s"`

	// Live streams (WebSocket): how many one account may hold across every process, this
	// process's ceiling (0: the descriptor limit less the reserve), and what makes a
	// follower too slow (see internal/platform/realtime).
	RealtimeMaxPerUser   int           `env:"REALTIME_MAX_STREAMS_PER_USER" envDefault:"10"`
	RealtimeMaxStreams   int           `env:"REALTIME_MAX_STREAMS" envDefault:"0"`
	RealtimeFDReserve    int           `env:"REALTIME_FD_RESERVE" envDefault:"0"`
	RealtimeWriteTimeout time.Duration `env:"REALTIME_WRITE_TIMEOUT" envDefault:"5s"`
	RealtimeSendBuffer   int           `env:"REALTIME_SEND_BUFFER" envDefault:"64"`
	RealtimeSocketBuffer int           `env:"REALTIME_SOCKET_BUFFER" envDefault:"32768"`
	RealtimePingInterval time.Duration `env:"REALTIME_PING_INTERVAL" envDefault:"25s"`
	// Reviews: how long an author may edit one, how many photos and videos it may carry, and how
	// many reports send a published one back to moderation.
	ReviewEditDays        int `env:"REVIEW_EDIT_DAYS" envDefault:"30"`
	ReviewMaxMedia        int `env:"REVIEW_MAX_MEDIA" envDefault:"6"`
	ReviewReportThreshold int `env:"REVIEW_REPORT_THRESHOLD" envDefault:"3"`
	// Media: files on a local directory (served by GoShop under MEDIA_BASE_URL) unless S3 is set.
	MediaDir            string        `env:"MEDIA_DIR" envDefault:"./data/media"`
	MediaBaseURL        string        `env:"MEDIA_BASE_URL" envDefault:"/media"`
	MediaImageMaxBytes  int64         `env:"MEDIA_IMAGE_MAX_BYTES" envDefault:"10485760"`
	MediaVideoMaxBytes  int64         `env:"MEDIA_VIDEO_MAX_BYTES" envDefault:"52428800"`
	MediaImageMaxPixels int64         `env:"MEDIA_IMAGE_MAX_PIXELS" envDefault:"40000000"`
	MediaImageMaxSide   int           `env:"MEDIA_IMAGE_MAX_SIDE" envDefault:"10000"`
	MediaMaxPerOwner    int           `env:"MEDIA_MAX_PER_OWNER" envDefault:"20"`
	MediaUploadsPerUser int           `env:"MEDIA_UPLOADS_PER_USER" envDefault:"2"`
	MediaUploads        int           `env:"MEDIA_UPLOADS" envDefault:"8"`
	MediaDeleteGrace    time.Duration `env:"MEDIA_DELETE_GRACE" envDefault:"24h"`
	MediaUnattachedTTL  time.Duration `env:"MEDIA_UNATTACHED_TTL" envDefault:"24h"`
	S3Endpoint          string        `env:"S3_ENDPOINT"`
	S3Region            string        `env:"S3_REGION" envDefault:"us-east-1"`
	S3Bucket            string        `env:"S3_BUCKET"`
	S3AccessKey         string        `env:"S3_ACCESS_KEY"`
	S3SecretKey         string        `env:"S3_SECRET_KEY"`
	S3PublicBaseURL     string        `env:"S3_PUBLIC_BASE_URL"`
	S3URLTTL            time.Duration `env:"S3_URL_TTL" envDefault:"1h"`
	// Circuit breakers around outside providers (payment gateways, the geocoder, the router):
	// after BreakerFailures failures in a row a provider's calls fail at once for BreakerOpenFor,
	// then BreakerProbes calls try it again.
	BreakerFailures uint32        `env:"CIRCUIT_BREAKER_FAILURES" envDefault:"5"`
	BreakerOpenFor  time.Duration `env:"CIRCUIT_BREAKER_OPEN_FOR" envDefault:"30s"`
	BreakerProbes   uint32        `env:"CIRCUIT_BREAKER_PROBES" envDefault:"1"`

	// Payments: each provider is available only with its required credentials.
	PlatformCommissionBPS int64 `env:"PLATFORM_COMMISSION_BPS" envDefault:"500"`

	StripeSecretKey        string        `env:"PAYMENT_STRIPE_SECRET_KEY"`
	StripeWebhookSecret    string        `env:"PAYMENT_STRIPE_WEBHOOK_SECRET"`
	StripeAPIURL           string        `env:"PAYMENT_STRIPE_API_URL"`
	StripeWebhookTolerance time.Duration `env:"PAYMENT_STRIPE_WEBHOOK_TOLERANCE" envDefault:"5m"`

	PayPalClientID     string `env:"PAYMENT_PAYPAL_CLIENT_ID"`
	PayPalClientSecret string `env:"PAYMENT_PAYPAL_CLIENT_SECRET"`
	PayPalWebhookID    string `env:"PAYMENT_PAYPAL_WEBHOOK_ID"`
	PayPalAPIURL       string `env:"PAYMENT_PAYPAL_API_URL" envDefault:"https://api-m.sandbox.paypal.com"`
	PayPalReturnURL    string `env:"PAYMENT_PAYPAL_RETURN_URL"`
	PayPalCancelURL    string `env:"PAYMENT_PAYPAL_CANCEL_URL"`
	PayPalBrandName    string `env:"PAYMENT_PAYPAL_BRAND_NAME" envDefault:"GoShop"`

	VNPayTmnCode    string        `env:"PAYMENT_VNPAY_TMN_CODE"`
	VNPayHashSecret string        `env:"PAYMENT_VNPAY_HASH_SECRET"`
	VNPayPayURL     string        `env:"PAYMENT_VNPAY_PAY_URL" envDefault:"https://sandbox.vnpayment.vn/paymentv2/vpcpay.html"`
	VNPayAPIURL     string        `env:"PAYMENT_VNPAY_API_URL" envDefault:"https://sandbox.vnpayment.vn/merchant_webapi/api/transaction"`
	VNPayReturnURL  string        `env:"PAYMENT_VNPAY_RETURN_URL"`
	VNPayExpiry     time.Duration `env:"PAYMENT_VNPAY_EXPIRY" envDefault:"15m"`

	MoMoPartnerCode string `env:"PAYMENT_MOMO_PARTNER_CODE"`
	MoMoAccessKey   string `env:"PAYMENT_MOMO_ACCESS_KEY"`
	MoMoSecretKey   string `env:"PAYMENT_MOMO_SECRET_KEY"`
	MoMoEndpoint    string `env:"PAYMENT_MOMO_ENDPOINT" envDefault:"https://test-payment.momo.vn"`
	MoMoRedirectURL string `env:"PAYMENT_MOMO_REDIRECT_URL"`
	MoMoIPNURL      string `env:"PAYMENT_MOMO_IPN_URL"`
	MoMoLang        string `env:"PAYMENT_MOMO_LANG" envDefault:"vi"`

	// SandboxSecret signs the built-in sandbox provider's webhooks. The sandbox exists only in
	// development and test, where this defaults to a development value so that it works out of
	// the box; production refuses it, as it has no sandbox.
	SandboxSecret    string        `env:"PAYMENT_SANDBOX_SECRET"`
	SandboxPayURL    string        `env:"PAYMENT_SANDBOX_PAY_URL" envDefault:"http://localhost:8080/api/v1/payments/sandbox/pay"`
	SandboxTolerance time.Duration `env:"PAYMENT_SANDBOX_TOLERANCE" envDefault:"5m"`

	// Notifications: how many browsers one person may register for web push, how many times an
	// outgoing message is tried before it is recorded failed, how many hand-sent messages
	// (admins) one client may queue a minute, how many missed notifications a reconnecting live
	// client is sent, and how near the delivery address a shipper's position tells the buyer.
	NotifyMaxPushPerUser int     `env:"NOTIFY_MAX_PUSH_PER_USER" envDefault:"10"`
	NotifySendAttempts   int     `env:"NOTIFY_SEND_ATTEMPTS" envDefault:"8"`
	NotifySendPerMinute  int     `env:"NOTIFY_SEND_PER_MINUTE" envDefault:"30"`
	NotifyReplayLimit    int     `env:"NOTIFY_REPLAY_LIMIT" envDefault:"100"`
	NotifyNearbyKm       float64 `env:"NOTIFY_NEARBY_KM" envDefault:"1"`
	// SMS through SpeedSMS when SPEEDSMS_TOKEN is set; without it SMS goes to the development
	// outbox in development and test, and is unavailable in production.
	SpeedSMSURL    string `env:"SPEEDSMS_URL" envDefault:"https://api.speedsms.vn"`
	SpeedSMSToken  string `env:"SPEEDSMS_TOKEN"`
	SpeedSMSSender string `env:"SPEEDSMS_SENDER"`
	// Web push (VAPID). Outside production the keys default to a published development pair,
	// which production refuses; production without keys has no web push.
	VAPIDPublicKey  string `env:"WEBPUSH_VAPID_PUBLIC_KEY"`
	VAPIDPrivateKey string `env:"WEBPUSH_VAPID_PRIVATE_KEY"`
	VAPIDSubject    string `env:"WEBPUSH_SUBJECT" envDefault:"mailto:ops@goshop.local"`

	SMTPURL string `env:"SMTP_URL"`
	// SMTPCAFile is a PEM file of the authorities the SMTP server's certificate must chain to,
	// instead of the system's (a relay with a private authority).
	SMTPCAFile string `env:"SMTP_CA_FILE"`
	MailFrom   string `env:"MAIL_FROM" envDefault:"GoShop <no-reply@goshop.local>"`
	// MailDisabled runs without sending mail: what needs mail (password reset) answers 503.
	// Production needs it or SMTP_URL, so that it never falls back to the development mailbox.
	MailDisabled bool `env:"MAIL_DISABLED" envDefault:"false"`
}

// The values of APP_ENV.
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvProduction  = "production"
)

// The development secrets: published in this repository, so they are refused in production.
const (
	devJWTSecret     = "dev-insecure-jwt-secret-change-me-0123456789"
	devSandboxSecret = "dev-sandbox-secret-not-for-production"
	// The development VAPID pair (web push).
	devVAPIDPublicKey  = "BOSA_XL45gXiiUOpUYxQfPOhmpfLzvdDBV72cyv3b1y6enKGzVduo6BaBt3BMT9xdElKHek74lYYo5xlTG8W2Jk"
	devVAPIDPrivateKey = "I-rKFppbS-gEc39Jkpo-U9M75rMohdbot8pblA_scUs"
)

// Load reads the configuration from the process environment.
func Load() (Config, error) {
	return FromMap(nil)
}

// FromMap reads the configuration from m when it is not nil (tests and the CLI use it to
// avoid touching the process environment), otherwise from the process environment.
func FromMap(m map[string]string) (Config, error) {
	var c Config
	opts := env.Options{}
	if m != nil {
		opts.Environment = m
	}
	if err := env.ParseWithOptions(&c, opts); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	if err := c.checkEnv(); err != nil {
		return c, err
	}
	if !c.Production() {
		if c.JWTSecret == "" {
			c.JWTSecret = devJWTSecret
		}
		if c.SandboxSecret == "" {
			c.SandboxSecret = devSandboxSecret
		}
		if c.VAPIDPublicKey == "" && c.VAPIDPrivateKey == "" {
			c.VAPIDPublicKey, c.VAPIDPrivateKey = devVAPIDPublicKey, devVAPIDPrivateKey
		}
	}
	return c, c.validate()
}

// checkEnv refuses an unknown APP_ENV and, in production, what only development may use: the
// published development secrets, the sandbox payment provider, and mail that goes nowhere.
func (c Config) checkEnv() error {
	switch c.Env {
	case EnvDevelopment, EnvTest:
		return nil
	case EnvProduction:
	default:
		return fmt.Errorf("config: APP_ENV must be %s, %s or %s, not %q", EnvDevelopment, EnvTest, EnvProduction, c.Env)
	}
	switch {
	case c.JWTSecret == "":
		return fmt.Errorf("config: JWT_SECRET must be set in production")
	case c.JWTSecret == devJWTSecret:
		return fmt.Errorf("config: JWT_SECRET must not be the development value in production")
	case len(c.JWTSecret) < 32:
		return fmt.Errorf("config: JWT_SECRET must be at least 32 bytes in production")
	case c.SandboxSecret != "":
		return fmt.Errorf("config: PAYMENT_SANDBOX_SECRET must not be set in production: the sandbox provider runs only in development and test")
	case c.VAPIDPrivateKey == devVAPIDPrivateKey || c.VAPIDPublicKey == devVAPIDPublicKey:
		return fmt.Errorf("config: WEBPUSH_VAPID_PRIVATE_KEY and WEBPUSH_VAPID_PUBLIC_KEY must not be the development pair in production")
	case c.SMTPURL == "" && !c.MailDisabled:
		return fmt.Errorf("config: production needs SMTP_URL, or MAIL_DISABLED=true to run without mail")
	}
	return nil
}

func (c Config) validate() error {
	// These URLs may carry a password, and url.Parse quotes the whole value in its error, which
	// would print the password where start-up errors go: name the variable, not the value.
	for _, v := range []struct{ name, value string }{{"SMTP_URL", c.SMTPURL}, {"REDIS_URL", c.RedisURL}} {
		if _, err := url.Parse(v.value); err != nil {
			if ue, ok := errors.AsType[*url.Error](err); ok {
				err = ue.Err
			}
			return fmt.Errorf("config: %s is not a valid URL: %v", v.name, err)
		}
	}
	if c.SMTPURL != "" && c.MailDisabled {
		return fmt.Errorf("config: SMTP_URL and MAIL_DISABLED=true contradict each other; set one")
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return fmt.Errorf("config: TLS_CERT_FILE and TLS_KEY_FILE go together")
	}
	if c.AccessTTL <= 0 || c.RefreshTTL <= 0 {
		return fmt.Errorf("config: token lifetimes must be positive")
	}
	if c.SellerSessionTTL <= 0 {
		return fmt.Errorf("config: SELLER_SESSION_TTL must be positive")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("config: PUBLIC_URL must be an http or https URL with a host, e.g. https://shop.example")
		}
	}
	if c.TaxRateBPS < 0 || c.TaxRateBPS > 10_000 {
		return fmt.Errorf("config: TAX_RATE_BPS must be from 0 to 10000")
	}
	if c.RoadFactor < 1 || c.AssignRadiusKm <= 0 || c.AssignRetry <= 0 {
		return fmt.Errorf("config: SHIPPING_ROAD_FACTOR must be at least 1, SHIPPING_ASSIGN_RADIUS_KM and SHIPPING_ASSIGN_RETRY positive")
	}
	if c.ReviewEditDays < 0 || c.ReviewMaxMedia < 0 || c.ReviewReportThreshold < 1 {
		return fmt.Errorf("config: REVIEW_EDIT_DAYS and REVIEW_MAX_MEDIA must not be negative, REVIEW_REPORT_THRESHOLD at least 1")
	}
	if c.AnalyticsMaxRangeDays < 1 || c.AnalyticsViewsEvery <= 0 {
		return fmt.Errorf("config: ANALYTICS_MAX_RANGE_DAYS must be at least 1 and ANALYTICS_VIEWS_EVERY positive")
	}
	if c.AnalyticsExportInlineRows < 1 || c.AnalyticsExportTTL <= 0 || c.AnalyticsExportsPerUser < 1 || c.AnalyticsExportWorkers < 1 {
		return fmt.Errorf("config: ANALYTICS_EXPORT_INLINE_ROWS, ANALYTICS_EXPORTS_PER_USER and ANALYTICS_EXPORT_WORKERS must be at least 1, ANALYTICS_EXPORT_TTL positive")
	}
	if c.PlatformCommissionBPS < 0 || c.PlatformCommissionBPS > 10_000 {
		return fmt.Errorf("config: PLATFORM_COMMISSION_BPS must be from 0 to 10000")
	}
	if c.JobKeepCompleted < time.Minute {
		return fmt.Errorf("config: JOB_KEEP_COMPLETED must be at least 1m")
	}
	if c.JobFetchCooldown < time.Millisecond || c.JobFetchCooldown > time.Second {
		return fmt.Errorf("config: JOB_FETCH_COOLDOWN must be between 1ms and 1s")
	}
	if c.JobTimeout <= 0 || c.JobRescueAfter < c.JobTimeout {
		return fmt.Errorf("config: JOB_TIMEOUT must be positive and JOB_RESCUE_AFTER at least JOB_TIMEOUT")
	}
	// PostgreSQL cuts months in the zone too, and knows zones by their IANA names only ("Local"
	// loads as a zone without a name).
	if name := c.MarketplaceTZ.String(); name == "" || name == "Local" {
		return fmt.Errorf("config: MARKETPLACE_TZ must name a time zone, such as Asia/Ho_Chi_Minh")
	}
	if c.MaxBodyBytes <= 0 {
		return fmt.Errorf("config: MAX_BODY_BYTES must be positive")
	}
	if c.MediaImageMaxBytes <= 0 || c.MediaVideoMaxBytes <= 0 || c.MediaImageMaxPixels <= 0 || c.MediaImageMaxSide <= 0 ||
		c.MediaMaxPerOwner <= 0 || c.MediaUploadsPerUser <= 0 || c.MediaUploads <= 0 || c.MediaDeleteGrace < 0 || c.MediaUnattachedTTL <= 0 {
		return fmt.Errorf("config: the MEDIA_ limits must be positive (MEDIA_DELETE_GRACE may be 0)")
	}
	if c.S3Endpoint != "" && (c.S3Bucket == "" || c.S3AccessKey == "" || c.S3SecretKey == "") {
		return fmt.Errorf("config: S3_ENDPOINT needs S3_BUCKET, S3_ACCESS_KEY and S3_SECRET_KEY")
	}
	if c.BreakerFailures < 1 || c.BreakerOpenFor <= 0 || c.BreakerProbes < 1 {
		return fmt.Errorf("config: CIRCUIT_BREAKER_FAILURES and CIRCUIT_BREAKER_PROBES must be at least 1, CIRCUIT_BREAKER_OPEN_FOR positive")
	}
	if (c.VAPIDPublicKey == "") != (c.VAPIDPrivateKey == "") {
		return fmt.Errorf("config: WEBPUSH_VAPID_PUBLIC_KEY and WEBPUSH_VAPID_PRIVATE_KEY go together")
	}
	if c.NotifyMaxPushPerUser < 1 || c.NotifySendAttempts < 1 || c.NotifySendPerMinute < 1 || c.NotifyReplayLimit < 1 || c.NotifyNearbyKm <= 0 {
		return fmt.Errorf("config: the NOTIFY_ limits must be positive")
	}
	if c.HashConcurrency < 0 || c.HashWait < 0 {
		return fmt.Errorf("config: PASSWORD_HASH_CONCURRENCY and PASSWORD_HASH_WAIT must not be negative")
	}
	return nil
}

// DevVAPIDKeys reports whether web push would sign with the published development keys, which
// only development and test have: their pushes go to the development outbox.
func (c Config) DevVAPIDKeys() bool { return c.VAPIDPrivateKey == devVAPIDPrivateKey }

// Production reports whether the binary runs in production mode.
func (c Config) Production() bool { return c.Env == EnvProduction }

// Development reports whether the binary runs on a developer's machine (not in tests): only
// there may mail bodies reach the log.
func (c Config) Development() bool { return c.Env == EnvDevelopment }

// Sandbox reports whether the built-in sandbox payment provider and its routes exist: in
// development and test only, since whoever holds a sandbox client secret may mark a payment paid.
func (c Config) Sandbox() bool { return c.Env == EnvDevelopment || c.Env == EnvTest }
