package app_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app"
	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/testdb"
)

func TestOperationalEndpoints(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	res := env.Get(t, "//healthz", "")
	assert.Equal(t, http.StatusOK, res.Status)
	res = env.Get(t, "//readyz", "")
	assert.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, map[string]any{"postgres": "ok", "redis": "ok"}, res.Map(t))

	u := env.Register(t, "Metric")
	env.Get(t, "/users/profile", u.AccessToken)
	env.Post(t, "/auth/forgot-password", "", map[string]any{"email": u.Email}) // queues a mail job
	res = env.Get(t, "//metrics", "")
	require.Equal(t, http.StatusOK, res.Status)
	body := string(res.Body)
	for _, want := range []string{
		`goshop_http_requests_total{method="GET",route="/api/v1/users/profile",status="200"} 1`,
		`goshop_http_request_duration_seconds_bucket{method="POST",route="/api/v1/auth/register"`,
		`goshop_river_jobs{kind="user_reset_code_mail",state=`,
	} {
		assert.True(t, strings.Contains(body, want), "metrics lack %s", want)
	}
}

func TestReadyzReportsRedisDown(t *testing.T) {
	t.Parallel()
	logs := &logBuffer{}
	env := apptest.New(t, apptest.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	require.NoError(t, env.App.Redis.Close()) // as good as Redis going away
	res := env.Get(t, "//readyz", "")
	assert.Equal(t, http.StatusServiceUnavailable, res.Status)
	assert.Equal(t, map[string]any{"postgres": "ok", "redis": "down"}, res.Map(t), "no error text, hosts or addresses")
	assert.Contains(t, logs.String(), "readiness check failed")
	assert.Contains(t, logs.String(), "redis: client is closed", "the operator reads the cause in the log")
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.WithEnv("REQUEST_TIMEOUT", "200ms"), apptest.WithEnv("CORS_ALLOWED_ORIGINS", "https://shop.example"))
	env.App.Router.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
	env.App.Router.Get("/slow", func(w http.ResponseWriter, r *http.Request) {
		_, err := env.App.Pool.Exec(r.Context(), "SELECT pg_sleep(5)")
		if err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	env.App.Router.Post("/echo-size", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		fmt.Fprint(w, n)
	})

	t.Run("panic becomes a 500 problem", func(t *testing.T) {
		res := env.Get(t, "//boom", "")
		assert.Equal(t, http.StatusInternalServerError, res.Status)
		assert.Equal(t, "internal", res.Code(t))
		assert.NotContains(t, string(res.Body), "kaboom")
		assert.Equal(t, http.StatusOK, env.Get(t, "//healthz", "").Status, "the server lives on")
	})
	t.Run("request timeout cancels the database call", func(t *testing.T) {
		start := time.Now()
		res := env.Get(t, "//slow", "")
		assert.Less(t, time.Since(start), 4*time.Second)
		assert.Equal(t, http.StatusInternalServerError, res.Status)
	})
	t.Run("unknown route and wrong method are problems", func(t *testing.T) {
		res := env.Get(t, "/nope", "")
		assert.Equal(t, http.StatusNotFound, res.Status)
		assert.Equal(t, "not_found", res.Code(t))
		res = env.Do(t, apptest.Req{Method: http.MethodPatch, Path: "/auth/login"})
		assert.Equal(t, http.StatusMethodNotAllowed, res.Status)
	})
	t.Run("security headers and request id", func(t *testing.T) {
		res := env.Get(t, "//healthz", "")
		assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
		assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
		assert.NotEmpty(t, res.Header.Get("X-Request-Id"))
		res = env.Do(t, apptest.Req{Method: "GET", Path: "//healthz", Header: map[string]string{"X-Request-Id": "trace-me-42"}})
		assert.Equal(t, "trace-me-42", res.Header.Get("X-Request-Id"))
	})
	t.Run("cors from configuration", func(t *testing.T) {
		res := env.Do(t, apptest.Req{Method: http.MethodOptions, Path: "/auth/login", Header: map[string]string{
			"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}})
		assert.Equal(t, "https://shop.example", res.Header.Get("Access-Control-Allow-Origin"))
		res = env.Do(t, apptest.Req{Method: http.MethodOptions, Path: "/auth/login", Header: map[string]string{
			"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}})
		assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("body limit", func(t *testing.T) {
		res := env.Post(t, "//echo-size", "", bytes.Repeat([]byte("a"), 1<<20+1))
		assert.Equal(t, http.StatusRequestEntityTooLarge, res.Status)
		assert.Equal(t, "payload_too_large", res.Code(t))
		res = env.Post(t, "//echo-size", "", bytes.Repeat([]byte("a"), 1000))
		assert.Equal(t, "1000", string(res.Body))
	})
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// TestServeSelfSignedHTTP2 runs the real `serve` command over TLS with the development
// certificate, checks that HTTP/2 is negotiated, and that SIGTERM (a cancelled context) drains
// and returns.
func TestServeSelfSignedHTTP2(t *testing.T) {
	dbURL := testdb.New(t)
	addr := freeAddr(t)
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("HTTP_ADDR", addr)
	t.Setenv("TLS_SELF_SIGNED", "true")
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("REDIS_PREFIX", "goshop-test-serve:")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, []string{"serve"}, io.Discard, io.Discard) }()

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the development certificate
		ForceAttemptHTTP2: true,
	}}
	var res *http.Response
	require.Eventually(t, func() bool {
		var err error
		res, err = client.Get("https://" + addr + "/readyz")
		return err == nil
	}, 30*time.Second, 50*time.Millisecond)
	defer res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 2, res.ProtoMajor, "HTTP/2 over TLS")
	assert.Contains(t, res.Header.Get("Strict-Transport-Security"), "max-age=")

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestCommands(t *testing.T) {
	dbURL := testdb.New(t)
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("LOG_LEVEL", "error")
	t.Setenv("REDIS_PREFIX", "goshop-test-cli:")
	ctx := context.Background()
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := app.Run(ctx, args, &out, io.Discard)
		return out.String(), err
	}

	out, err := run("version")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, "goshop "))

	out, err = run("routes")
	require.NoError(t, err)
	for _, want := range []string{"POST /api/v1/auth/register", "GET /api/v1/users/profile", "PUT /api/v1/users/addresses/{id}/default", "GET /readyz",
		"GET /api/v1/products/{id}", "PUT /api/v1/shops/{id}/products/{product_id}/inventory"} {
		assert.Contains(t, strings.Split(out, "\n"), want)
	}

	// Down rolls back one migration of the last context; up applies it again.
	pending := func() int {
		out, err := run("migrate", "status")
		require.NoError(t, err)
		n := 0
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			var ctx string
			var cur, latest, p int
			_, err := fmt.Sscan(line, &ctx, &cur, &latest, &p)
			require.NoError(t, err, line)
			n += p
		}
		return n
	}
	assert.Zero(t, pending())
	_, err = run("migrate", "down")
	require.NoError(t, err)
	assert.Equal(t, 1, pending())
	_, err = run("migrate", "up")
	require.NoError(t, err)
	assert.Zero(t, pending())

	out, err = run("seed", "-products", "30", "-shops", "2")
	require.NoError(t, err)
	assert.Contains(t, out, "seeded: 2 shops, 30 products added")
	out, err = run("seed", "-products", "30", "-shops", "2")
	require.NoError(t, err)
	assert.Contains(t, out, "seeded: 2 shops, 0 products added", "seeding twice tops up")
	_, err = run("seed", "-shops", "0")
	assert.Error(t, err)
	_, err = run("migrate", "sideways")
	assert.Error(t, err)

	out, err = run("admin", "create", "-email", "root@example.com", "-password", "very-secret-admin")
	require.NoError(t, err)
	assert.Contains(t, out, "admin")
	assert.Contains(t, out, "root@example.com")
	_, err = run("admin", "create")
	assert.Error(t, err)

	_, err = run("frobnicate")
	assert.Error(t, err)
}

// TestOpenAPIDocumentDescribesEveryRoute: the document is read off the router, so every mounted
// route is in it, with its body and answer schemas and whether it needs a token.
func TestOpenAPIDocumentDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	res := env.Get(t, "/openapi.json", "")
	require.Equal(t, http.StatusOK, res.Status)
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
		Comps   struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	res.JSON(t, &doc)
	assert.Equal(t, "3.1.0", doc.OpenAPI)

	n := 0
	require.NoError(t, chi.Walk(env.App.Router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.ReplaceAll(route, "/*/", "/")
		if len(route) > 1 {
			route = strings.TrimSuffix(route, "/")
		}
		_, ok := doc.Paths[route][strings.ToLower(method)]
		assert.True(t, ok, "%s %s is missing", method, route)
		n++
		return nil
	}))
	assert.Greater(t, n, 100)

	register := doc.Paths["/api/v1/auth/register"]["post"]
	assert.Equal(t, []any{}, register["security"])
	assert.Contains(t, fmt.Sprint(register["requestBody"]), "user.RegisterInput")
	assert.ElementsMatch(t, []any{"email", "full_name", "password"}, doc.Comps.Schemas["user.RegisterInput"]["required"])
	assert.Equal(t, []any{map[string]any{"bearer": []any{}}}, doc.Paths["/api/v1/users/profile"]["get"]["security"])
	assert.Len(t, doc.Paths["/api/v1/shops/{id}"]["get"]["security"], 2, "optional sign-in")
	params := doc.Paths["/api/v1/orders/{id}"]["get"]["parameters"].([]any)
	assert.Equal(t, "uuid", params[0].(map[string]any)["schema"].(map[string]any)["format"])
	enum := doc.Comps.Schemas["order.CheckoutInput"]["properties"].(map[string]any)["payment_method"].(map[string]any)["enum"]
	assert.ElementsMatch(t, []any{"cod", "card", "ewallet", "bank_transfer"}, enum)
}
