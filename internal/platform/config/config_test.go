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
		"bad duration":                {"ACCESS_TOKEN_TTL": "soon"},
		"cert without key":            {"TLS_CERT_FILE": "/tmp/cert.pem"},
		"zero body limit":             {"MAX_BODY_BYTES": "0"},
		"negative token lifetime":     {"REFRESH_TOKEN_TTL": "-1h"},
		"not a number of requests":    {"AUTH_RATE_PER_MINUTE": "many"},
		"commission over 100%":        {"PLATFORM_COMMISSION_BPS": "10001"},
		"negative commission":         {"PLATFORM_COMMISSION_BPS": "-1"},
		"rescue before timeout":       {"JOB_TIMEOUT": "2m", "JOB_RESCUE_AFTER": "1m"},
		"no job timeout":              {"JOB_TIMEOUT": "0s"},
		"unknown time zone":           {"MARKETPLACE_TZ": "Mars/Olympus_Mons"},
		"the host's time zone":        {"MARKETPLACE_TZ": "Local"},
		"a breaker that never opens":  {"CIRCUIT_BREAKER_FAILURES": "0"},
		"a breaker that never probes": {"CIRCUIT_BREAKER_OPEN_FOR": "0s"},
		"half a VAPID pair":           {"WEBPUSH_VAPID_PUBLIC_KEY": "BOSA"},
		"no push per user":            {"NOTIFY_MAX_PUSH_PER_USER": "0"},
		"nearby nowhere":              {"NOTIFY_NEARBY_KM": "0"},
	} {
		_, err := config.FromMap(env)
		assert.Error(t, err, name)
	}
}

// prod is a production configuration that starts: a real-looking secret and mail turned off.
func prod(extra ...string) map[string]string {
	m := map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("k", 40), "MAIL_DISABLED": "true"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func TestAppEnvIsOneOfThree(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"prod", "Production", "staging", "dev", " production"} {
		_, err := config.FromMap(map[string]string{"APP_ENV": v, "JWT_SECRET": strings.Repeat("k", 40)})
		assert.ErrorContains(t, err, "APP_ENV", "APP_ENV=%q", v)
	}
	for _, m := range []map[string]string{{"APP_ENV": "development"}, {"APP_ENV": "test"}, prod()} {
		c, err := config.FromMap(m)
		require.NoError(t, err, "APP_ENV=%s", m["APP_ENV"])
		assert.Equal(t, m["APP_ENV"], c.Env)
	}
}

func TestDevelopmentSecretsOnlyInDevelopmentAndTest(t *testing.T) {
	t.Parallel()
	dev, err := config.FromMap(map[string]string{})
	require.NoError(t, err)
	assert.Equal(t, config.EnvDevelopment, dev.Env)
	assert.NotEmpty(t, dev.JWTSecret, "development works out of the box")
	assert.NotEmpty(t, dev.SandboxSecret)
	assert.True(t, dev.Sandbox())
	tst, err := config.FromMap(map[string]string{"APP_ENV": "test"})
	require.NoError(t, err)
	assert.Equal(t, dev.JWTSecret, tst.JWTSecret)
	assert.Equal(t, dev.SandboxSecret, tst.SandboxSecret)
	assert.True(t, tst.Sandbox())

	p, err := config.FromMap(prod())
	require.NoError(t, err)
	assert.Empty(t, p.SandboxSecret, "production has no sandbox")
	assert.False(t, p.Sandbox())
	assert.Empty(t, p.VAPIDPrivateKey, "production without keys has no web push")
	assert.True(t, dev.DevVAPIDKeys())

	for name, env := range map[string]map[string]string{
		"no JWT secret":                {"APP_ENV": "production", "MAIL_DISABLED": "true"},
		"the development JWT secret":   prod("JWT_SECRET", dev.JWTSecret),
		"a short JWT secret":           prod("JWT_SECRET", "short"),
		"the development sandbox key":  prod("PAYMENT_SANDBOX_SECRET", dev.SandboxSecret),
		"any sandbox key (no sandbox)": prod("PAYMENT_SANDBOX_SECRET", strings.Repeat("s", 40)),
		"the development VAPID keys": prod("WEBPUSH_VAPID_PUBLIC_KEY", dev.VAPIDPublicKey,
			"WEBPUSH_VAPID_PRIVATE_KEY", dev.VAPIDPrivateKey),
	} {
		_, err := config.FromMap(env)
		assert.Error(t, err, name)
	}
}

func TestProductionNeedsMailOrMailDisabled(t *testing.T) {
	t.Parallel()
	_, err := config.FromMap(map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("k", 40)})
	assert.ErrorContains(t, err, "SMTP_URL", "no mail server and mail not turned off: codes would go to the log")
	c, err := config.FromMap(map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("k", 40),
		"SMTP_URL": "smtps://user:pass@mail.example:465"})
	require.NoError(t, err)
	assert.False(t, c.MailDisabled)
	c, err = config.FromMap(prod())
	require.NoError(t, err)
	assert.True(t, c.MailDisabled)
	_, err = config.FromMap(prod("SMTP_URL", "smtps://user:pass@mail.example:465"))
	assert.Error(t, err, "SMTP_URL and MAIL_DISABLED together are a mistake")
	dev, err := config.FromMap(map[string]string{})
	require.NoError(t, err, "development runs with the development mailbox")
	assert.True(t, dev.Development())
	assert.False(t, dev.MailDisabled)
}

func TestURLErrorsDoNotPrintPasswords(t *testing.T) {
	t.Parallel()
	for _, m := range []map[string]string{
		{"SMTP_URL": "smtps://mailer:s3cr3t-pw@smtp.example:46a5"},
		{"REDIS_URL": "redis://default:s3cr3t-pw@redis.example:63 79/0"},
	} {
		_, err := config.FromMap(m)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "s3cr3t-pw")
		for k := range m {
			assert.Contains(t, err.Error(), k, "the error names the variable")
		}
	}
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
