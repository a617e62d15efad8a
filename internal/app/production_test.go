package app_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
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
