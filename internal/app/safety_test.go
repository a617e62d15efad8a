package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/config"
)

// productionEnv starts the app as production runs it: a real-looking secret, mail turned off.
func productionEnv(t *testing.T) *apptest.Env {
	t.Helper()
	secret := make([]byte, 32)
	_, err := rand.Read(secret)
	require.NoError(t, err)
	return apptest.New(t, apptest.WithEnv("APP_ENV", config.EnvProduction), apptest.WithEnv("JWT_SECRET", hex.EncodeToString(secret)),
		apptest.WithEnv("MAIL_DISABLED", "true"))
}

// providersOffered lists the providers GET /payments/methods offers, under any method.
func providersOffered(t *testing.T, env *apptest.Env) map[string]bool {
	t.Helper()
	res := env.Get(t, "/payments/methods", "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var view struct {
		Methods []struct {
			Providers []struct {
				Provider string `json:"provider"`
			} `json:"providers"`
		} `json:"methods"`
	}
	res.JSON(t, &view)
	out := map[string]bool{}
	for _, m := range view.Methods {
		for _, p := range m.Providers {
			out[p.Provider] = true
		}
	}
	return out
}

// sandboxRoutesOf lists the mounted routes under /payments/sandbox, read from the router.
func sandboxRoutesOf(t *testing.T, env *apptest.Env) []string {
	t.Helper()
	var out []string
	require.NoError(t, chi.Walk(env.App.Router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.Contains(route, "/payments/sandbox/") {
			out = append(out, method+" "+route)
		}
		return nil
	}))
	return out
}

func TestProductionHasNoSandboxAndRefusesDevelopmentTokens(t *testing.T) {
	t.Parallel()
	prod, test := productionEnv(t), apptest.New(t)
	sandboxRoutes := []apptest.Req{
		{Method: http.MethodGet, Path: "/payments/sandbox/pay/ref-1"},
		{Method: http.MethodPost, Path: "/payments/sandbox/complete", Body: map[string]any{"client_secret": "x", "outcome": "captured"}},
		{Method: http.MethodPost, Path: "/payments/sandbox/webhook", Body: map[string]any{}},
	}
	t.Run("sandbox routes are not mounted", func(t *testing.T) {
		for _, r := range sandboxRoutes {
			res := prod.Do(t, r)
			assert.Equal(t, http.StatusNotFound, res.Status, "%s %s: %s", r.Method, r.Path, res.Body)
			assert.Equal(t, "not_found", res.Code(t))
		}
		assert.Empty(t, sandboxRoutesOf(t, prod))
		assert.Len(t, sandboxRoutesOf(t, test), len(sandboxRoutes), "test mode mounts them")
	})
	t.Run("the sandbox is not offered", func(t *testing.T) {
		assert.False(t, providersOffered(t, prod)["sandbox"])
		assert.True(t, providersOffered(t, prod)["stripe"], "real providers are listed, unavailable without credentials")
		assert.True(t, providersOffered(t, test)["sandbox"])
	})
	t.Run("a token signed with the development secret is refused", func(t *testing.T) {
		dev, err := config.FromMap(map[string]string{})
		require.NoError(t, err)
		forged, err := auth.NewTokens(dev.JWTSecret, dev.JWTIssuer, time.Minute).Issue(auth.Principal{UserID: uuid.New(),
			SessionID: uuid.New(), Roles: []string{auth.RoleUser, auth.RoleAdmin}})
		require.NoError(t, err)
		res := prod.Get(t, "/payments/chargebacks", forged)
		assert.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Body)
	})
}

func TestMailDisabledRefusesForgotPassword(t *testing.T) {
	t.Parallel()
	env := productionEnv(t)
	u := env.Register(t, "No Mail")
	for _, email := range []string{u.Email, "nobody@example.com"} {
		res := env.Post(t, "/auth/forgot-password", "", map[string]any{"email": email})
		assert.Equal(t, http.StatusServiceUnavailable, res.Status, "%s", res.Body)
		assert.Equal(t, "mail_unavailable", res.Code(t), "the same answer for any address")
	}
	var jobs, otps int
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind LIKE '%mail%'`).Scan(&jobs))
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM users.password_otps`).Scan(&otps))
	assert.Zero(t, jobs, "no mail is queued")
	assert.Zero(t, otps, "no code is made that could not be delivered")
}

// logBuffer is a log destination tests read while the app writes to it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestOnlyDevelopmentLogsMailBodies(t *testing.T) {
	t.Parallel()
	for _, appEnv := range []string{config.EnvDevelopment, config.EnvTest} {
		t.Run(appEnv, func(t *testing.T) {
			t.Parallel()
			logs := &logBuffer{}
			env := apptest.New(t, apptest.WithEnv("APP_ENV", appEnv), apptest.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
			u := env.Register(t, "Log Reader")
			require.Equal(t, http.StatusAccepted, env.Post(t, "/auth/forgot-password", "", map[string]any{"email": u.Email}).Status)
			apptest.Eventually(t, func() bool { return len(env.Mailbox.To(u.Email)) == 1 }, "the mailbox keeps the message")
			body := env.Mailbox.To(u.Email)[0].Body
			require.Contains(t, body, "Your GoShop code is")
			apptest.Eventually(t, func() bool { return strings.Contains(logs.String(), "development mailbox") }, "the mail is logged")
			if appEnv == config.EnvDevelopment {
				assert.Contains(t, logs.String(), "Your GoShop code is", "a developer reads the code in the log")
			} else {
				assert.NotContains(t, logs.String(), "Your GoShop code is", "no body, so no code, in the log")
				assert.NotContains(t, logs.String(), "body=")
			}
		})
	}
}
