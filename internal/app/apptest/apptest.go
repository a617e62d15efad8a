// Package apptest starts a whole GoShop for a test: its own database cloned from the migrated
// template, its own Redis key prefix, River workers running, and the real router behind an
// httptest server. Tests talk to it over HTTP like any client.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/goshop/goshop/internal/app"
	"github.com/goshop/goshop/internal/platform/config"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/mail"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// Env is one running app under test.
type Env struct {
	App     *app.App
	Server  *httptest.Server
	Mailbox *mail.Mailbox
	// client sends the requests of a Remote env (nil: the test server's client).
	client *http.Client
}

// Remote is an Env for a GoShop already running at baseURL (e.g. "http://127.0.0.1:8080"), a
// process the test started: the same request helpers (Register, CreateShop, Deliver, Metric
// ...) drive it, though App and Mailbox are nil and answers are not checked against the OpenAPI
// document.
func Remote(baseURL string) *Env {
	return &Env{Server: &httptest.Server{URL: strings.TrimSuffix(baseURL, "/")},
		client: &http.Client{Timeout: 30 * time.Second}}
}

// Option changes the test app before it starts.
type Option func(*settings)

type settings struct {
	env      map[string]string
	hooks    []func(*app.App)
	log      *slog.Logger
	dbConfig func(*pgxpool.Config)
	tracer   trace.TracerProvider
}

// WithTracerProvider traces the app's requests, queries and jobs into tp.
func WithTracerProvider(tp trace.TracerProvider) Option { return func(s *settings) { s.tracer = tp } }

// WithRoundTrips makes the app's pool count its round trips to PostgreSQL in rt.
func WithRoundTrips(rt *pgdb.RoundTrips) Option {
	return WithDBConfig(func(c *pgxpool.Config) { c.ConnConfig.DialFunc = rt.Dial })
}

// WithDBConfig changes the app's pool settings before it connects (a tracer, a dialer).
func WithDBConfig(f func(*pgxpool.Config)) Option {
	return func(s *settings) {
		prev := s.dbConfig
		s.dbConfig = func(c *pgxpool.Config) {
			if prev != nil {
				prev(c)
			}
			f(c)
		}
	}
}

// WithLogger gives the app log instead of discarding its log (tests of what reaches the log).
func WithLogger(log *slog.Logger) Option { return func(s *settings) { s.log = log } }

// WithEnv sets a configuration variable.
func WithEnv(k, v string) Option { return func(s *settings) { s.env[k] = v } }

// WithHook runs fn once the contexts exist and before River starts (subscribe to events there).
func WithHook(fn func(*app.App)) Option {
	return func(s *settings) { s.hooks = append(s.hooks, fn) }
}

// SharingWith makes the app a second instance beside other: the same database and the same
// Redis key prefix, as two server processes of one deployment share them.
func SharingWith(other *Env) Option {
	return func(s *settings) {
		s.env["DATABASE_URL"] = other.App.Cfg.DatabaseURL
		s.env["REDIS_PREFIX"] = other.App.Cfg.RedisPrefix
	}
}

// New starts an app for t and stops it when t ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	s := &settings{env: map[string]string{
		"APP_ENV":                  "test",
		"DB_MAX_CONNS":             "8",
		"REDIS_PREFIX":             "goshop-test:" + uuid.NewString()[:8] + ":",
		"AUTO_MIGRATE":             "false", // the template is migrated already
		"PASSWORD_HASH_MEMORY_KIB": "1024",  // argon2id still, at a cost tests can afford under -race
		"AUTH_RATE_PER_MINUTE":     "1000",
		"WORKER_COUNT":             "4",
		"JOB_TIMEOUT":              "20s", // a job a test kills runs again within a test's patience
		"JOB_RESCUE_AFTER":         "20s",
		"LOG_LEVEL":                "error",
	}}
	for _, o := range opts {
		o(s)
	}
	if s.env["MEDIA_DIR"] == "" {
		s.env["MEDIA_DIR"] = t.TempDir()
	}
	if s.env["DATABASE_URL"] == "" {
		s.env["DATABASE_URL"] = testdb.New(t)
	}
	cfg, err := config.FromMap(s.env)
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	switch {
	case s.log != nil:
		log = s.log
	case testing.Verbose():
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, log, app.Options{Work: true, RetryPolicy: jobs.FixedRetry(100 * time.Millisecond),
		PollInterval: 50 * time.Millisecond, Hooks: s.hooks, DBConfig: s.dbConfig, TracerProvider: s.tracer})
	require.NoError(t, err)
	require.NoError(t, a.Jobs.Start(ctx))
	srv := httptest.NewServer(ContractOf(t, a).Wrap(t, a.Router))
	mb, _ := a.Mail.(*mail.Mailbox)
	t.Cleanup(func() {
		srv.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Jobs.Stop(sctx)
		iter := a.Redis.Scan(sctx, 0, cfg.RedisPrefix+"*", 1000).Iterator()
		for iter.Next(sctx) {
			a.Redis.Del(sctx, iter.Val())
		}
		a.Close()
	})
	return &Env{App: a, Server: srv, Mailbox: mb}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Response is an HTTP answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Code returns the problem's `code` of an error answer.
func (r *Response) Code(t testing.TB) string {
	t.Helper()
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), "body: %s", r.Body)
	c, _ := r.Map(t)["code"].(string)
	return c
}

// Req is one request to the app.
type Req struct {
	Method string
	Path   string // under /api/v1 unless it starts with "//" (then from the root)
	Token  string
	Body   any // encoded as JSON; a string or []byte is sent as it is
	Header map[string]string
}

// Do sends a request and reads the answer.
func (e *Env) Do(t testing.TB, r Req) *Response {
	t.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		require.NoError(t, err)
		body = bytes.NewReader(buf)
	}
	url := e.Server.URL + "/api/v1" + r.Path
	if strings.HasPrefix(r.Path, "//") {
		url = e.Server.URL + r.Path[1:]
	}
	req, err := http.NewRequest(r.Method, url, body)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	client := e.client
	if client == nil {
		client = e.Server.Client()
	}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Get, Post, Put and Delete are shorthands for Do.
func (e *Env) Get(t testing.TB, path, token string) *Response {
	return e.Do(t, Req{Method: http.MethodGet, Path: path, Token: token})
}

// Post sends body as JSON.
func (e *Env) Post(t testing.TB, path, token string, body any) *Response {
	return e.Do(t, Req{Method: http.MethodPost, Path: path, Token: token, Body: body})
}

// Put sends body as JSON.
func (e *Env) Put(t testing.TB, path, token string, body any) *Response {
	return e.Do(t, Req{Method: http.MethodPut, Path: path, Token: token, Body: body})
}

// Delete sends a DELETE.
func (e *Env) Delete(t testing.TB, path, token string) *Response {
	return e.Do(t, Req{Method: http.MethodDelete, Path: path, Token: token})
}

// User is a registered test user.
type User struct {
	ID           string
	Email        string
	Password     string
	AccessToken  string
	RefreshToken string
}

// Register signs up a new user with a unique email.
func (e *Env) Register(t testing.TB, name string) User {
	t.Helper()
	email := fmt.Sprintf("%s-%s@example.com", strings.ToLower(strings.ReplaceAll(name, " ", ".")), uuid.NewString()[:8])
	pw := "correct horse battery"
	res := e.Post(t, "/auth/register", "", map[string]any{"email": email, "password": pw, "full_name": name})
	require.Equal(t, http.StatusCreated, res.Status, "register: %s", res.Body)
	var s struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	res.JSON(t, &s)
	return User{ID: s.User.ID, Email: email, Password: pw, AccessToken: s.AccessToken, RefreshToken: s.RefreshToken}
}

// Admin makes u an admin (as the operator's CLI does) and signs in again so the token has the role.
func (e *Env) Admin(t testing.TB, u User) User {
	t.Helper()
	_, err := e.App.Users.CreateAdmin(context.Background(), u.Email, u.Password, "Admin")
	require.NoError(t, err)
	res := e.Post(t, "/auth/login", "", map[string]any{"email": u.Email, "password": u.Password})
	require.Equal(t, http.StatusOK, res.Status, "login: %s", res.Body)
	m := res.Map(t)
	u.AccessToken, u.RefreshToken = m["access_token"].(string), m["refresh_token"].(string)
	return u
}

// Quiet stops the workers and waits until the process's own background passes have nothing
// left: search's re-indexing of stale products and analytics' recompute of dirty days, which
// jobs that ran before the stop may have woken. Each loop looks once more a second (settle's
// wait) after the pass that emptied it; Quiet waits until both loops rest after that look, so
// that only the test's own requests use the pool: for the tests that count round trips.
func (e *Env) Quiet(t testing.TB) {
	t.Helper()
	require.NoError(t, e.App.Jobs.Stop(context.Background()))
	Eventually(t, func() bool {
		var left int
		require.NoError(t, e.App.Pool.QueryRow(context.Background(),
			`SELECT (SELECT count(*) FROM search.stale_products) + (SELECT count(*) FROM analytics.dirty_days)`).Scan(&left))
		return left == 0 && e.App.Search.Settled() && e.App.Analytics.Settled()
	}, "the background passes' marks taken and their loops resting")
}

// Eventually waits up to 30s for cond, polling; River delivers asynchronously.
func Eventually(t testing.TB, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 30*time.Second, 20*time.Millisecond, msg)
}

// CreateShop opens a shop owned by u in Hồ Chí Minh City and returns its ID.
func (e *Env) CreateShop(t testing.TB, u User, name string) string {
	t.Helper()
	res := e.Post(t, "/shops", u.AccessToken, map[string]any{
		"name": name, "address": map[string]any{"line1": "1 Lê Duẩn", "district": "Quận 1", "province": "Hồ Chí Minh"},
		"lat": 10.7769, "lng": 106.7009,
	})
	require.Equal(t, http.StatusCreated, res.Status, "create shop: %s", res.Body)
	return res.Map(t)["id"].(string)
}

// Product is a product made for a test, with its single variant.
type Product struct {
	ID        string
	VariantID string
}

// CreateProduct adds an active single-variant product to a shop of u.
func (e *Env) CreateProduct(t testing.TB, u User, shopID, title string, price, stock int64) Product {
	t.Helper()
	res := e.Post(t, "/shops/"+shopID+"/products", u.AccessToken, map[string]any{
		"title": title, "price": price, "stock": stock, "weight_grams": 500,
	})
	require.Equal(t, http.StatusCreated, res.Status, "create product: %s", res.Body)
	m := res.Map(t)
	variants := m["variants"].([]any)
	require.Len(t, variants, 1)
	return Product{ID: m["id"].(string), VariantID: variants[0].(map[string]any)["id"].(string)}
}

// CreateAddress adds a delivery address for u and returns its ID.
func (e *Env) CreateAddress(t testing.TB, u User) string {
	t.Helper()
	res := e.Post(t, "/users/addresses", u.AccessToken, map[string]any{
		"recipient_name": "Người Nhận", "phone": "0901234567", "line1": "12 Nguyễn Huệ", "ward": "Bến Nghé",
		"district": "Quận 1", "province": "Hồ Chí Minh",
	})
	require.Equal(t, http.StatusCreated, res.Status, "create address: %s", res.Body)
	return res.Map(t)["id"].(string)
}

// StarvePool holds every connection of the app's pool that it can get, then lets exactly one go,
// until the test ends or release is called. A request that holds a transaction while it waits
// on a second pooled connection then blocks until its deadline instead of passing: the
// starvation that load brings about, made certain. A connection that stays busy past the
// acquire timeout (River's listener) is left where it is.
func (e *Env) StarvePool(t testing.TB) (release func()) {
	t.Helper()
	var held []*pgxpool.Conn
	for {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		c, err := e.App.Pool.Acquire(ctx)
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			break
		}
		held = append(held, c)
	}
	require.NotEmpty(t, held, "the pool had no connection to hold")
	held[0].Release()
	held = held[1:]
	var once sync.Once
	release = func() {
		once.Do(func() {
			for _, c := range held {
				c.Release()
			}
		})
	}
	t.Cleanup(release)
	return release
}

// Metric reads one series off /metrics, e.g. `goshop_db_queries_total{pool="replica"}`: its
// value, or 0 while the series does not exist yet.
func (e *Env) Metric(t testing.TB, series string) float64 {
	t.Helper()
	res := e.Get(t, "//metrics", "")
	require.Equal(t, http.StatusOK, res.Status)
	for line := range strings.SplitSeq(string(res.Body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err, "series %s", series)
			return n
		}
	}
	return 0
}

// Upload posts a multipart/form-data body to path as token: the fields in order (name, value,
// name, value ...), then data as the part "file" named filename.
func (e *Env) Upload(t testing.TB, path, token, filename string, data []byte, fields ...string) *Response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		require.NoError(t, w.WriteField(fields[i], fields[i+1]))
	}
	part, err := w.CreateFormFile("file", filename)
	require.NoError(t, err)
	_, err = part.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return e.Do(t, Req{Method: http.MethodPost, Path: path, Token: token, Body: buf.Bytes(),
		Header: map[string]string{"Content-Type": w.FormDataContentType()}})
}

// JPEG is a small JPEG image to upload.
func JPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}))
	return buf.Bytes()
}

// NeedVideoTools skips a test that needs ffprobe and ffmpeg (a video's duration and poster
// frame) when they are not installed, saying so; with GOSHOP_VIDEO_TESTS=required, which .ci/run
// sets after installing them, it fails instead, so CI never skips.
func (e *Env) NeedVideoTools(t testing.TB) {
	t.Helper()
	ffprobe, ffmpeg := e.App.Media.VideoTools()
	if ffprobe && ffmpeg {
		return
	}
	if os.Getenv("GOSHOP_VIDEO_TESTS") == "required" {
		t.Fatalf("ffprobe and ffmpeg are required (GOSHOP_VIDEO_TESTS=required) and not both on the PATH (ffprobe %v, ffmpeg %v)",
			ffprobe, ffmpeg)
	}
	t.Skip("ffprobe and ffmpeg are not installed (apt-get install ffmpeg; .ci/run installs them): " +
		"a video's duration and poster frame are not checked here")
}

// Poster waits until the video id in the "media" list that path answers (a product, a review)
// has its poster frame, made by a job, and returns the poster's URL.
func (e *Env) Poster(t testing.TB, path, id string) string {
	t.Helper()
	var poster string
	Eventually(t, func() bool {
		for _, it := range e.Get(t, path, "").Map(t)["media"].([]any) {
			it := it.(map[string]any)
			if it["id"] == id && it["poster_url"] != nil {
				poster = it["poster_url"].(string)
				return true
			}
		}
		return false
	}, "the poster frame is made")
	return poster
}
