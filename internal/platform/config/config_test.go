package config_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/config"
)

func TestDefaultsAndOverrides(t *testing.T) {
	t.Parallel()
	c, err := config.FromMap(map[string]string{})
	require.NoError(t, err)
	assert.Equal(t, ":8080", c.HTTPAddr)
	assert.Equal(t, 15*time.Minute, c.AccessTTL)
	assert.Equal(t, []string{"*"}, c.CORSOrigins)
	assert.Equal(t, "Asia/Ho_Chi_Minh", c.MarketplaceTZ.String())

	c, err = config.FromMap(map[string]string{"ACCESS_TOKEN_TTL": "5m", "CORS_ALLOWED_ORIGINS": "https://a.example,https://b.example"})
	require.NoError(t, err)
	assert.Equal(t, 5*time.Minute, c.AccessTTL)
	assert.Equal(t, []string{"https://a.example", "https://b.example"}, c.CORSOrigins)
}

func TestInvalidConfigurationIsRefused(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"bad duration":             {"ACCESS_TOKEN_TTL": "soon"},
		"production default key":   {"APP_ENV": "production"},
		"production short key":     {"APP_ENV": "production", "JWT_SECRET": "short"},
		"cert without key":         {"TLS_CERT_FILE": "/tmp/cert.pem"},
		"zero body limit":          {"MAX_BODY_BYTES": "0"},
		"negative token lifetime":  {"REFRESH_TOKEN_TTL": "-1h"},
		"not a number of requests": {"AUTH_RATE_PER_MINUTE": "many"},
		"commission over 100%":     {"PLATFORM_COMMISSION_BPS": "10001"},
		"negative commission":      {"PLATFORM_COMMISSION_BPS": "-1"},
		"unknown time zone":        {"MARKETPLACE_TZ": "Mars/Olympus_Mons"},
		"the host's time zone":     {"MARKETPLACE_TZ": "Local"},
	} {
		_, err := config.FromMap(env)
		assert.Error(t, err, name)
	}
}

func TestSandboxSecretDefaultsOnlyOutsideProduction(t *testing.T) {
	t.Parallel()
	dev, err := config.FromMap(map[string]string{})
	require.NoError(t, err)
	assert.NotEmpty(t, dev.SandboxSecret, "the sandbox works out of the box in development")
	prod, err := config.FromMap(map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("k", 40)})
	require.NoError(t, err)
	assert.Empty(t, prod.SandboxSecret, "production has no sandbox unless it is configured")
	_, err = config.FromMap(map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("k", 40),
		"PAYMENT_SANDBOX_SECRET": dev.SandboxSecret})
	assert.Error(t, err, "nor with the development secret")
}

// TestREADMEListsEveryVariable keeps the README's configuration table in step with the code.
func TestREADMEListsEveryVariable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../../README.md")
	require.NoError(t, err)
	typ := reflect.TypeOf(config.Config{})
	for i := range typ.NumField() {
		name := typ.Field(i).Tag.Get("env")
		if name == "" {
			continue
		}
		assert.True(t, strings.Contains(string(readme), "`"+name+"`"), "README lacks %s", name)
	}
}
