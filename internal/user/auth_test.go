package user_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app"
	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/eventbus"
)

func TestRegisterAndLogin(t *testing.T) {
	t.Parallel()
	var registered atomic.Int32
	env := apptest.New(t, apptest.WithHook(func(a *app.App) {
		eventbus.On(a.Bus, "test.user_registered", func(_ context.Context, _ string, ev events.UserRegistered) error {
			if ev.Email == "Lan.Tran@Example.com" {
				registered.Add(1)
			}
			return nil
		})
	}))

	res := env.Post(t, "/auth/register", "", map[string]any{
		"email": "Lan.Tran@Example.com", "password": "s3cret-password", "full_name": " Trần Thị Lan ", "phone": "+84901234567",
		"unknown_field": "is ignored",
	})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	body := res.Map(t)
	u := body["user"].(map[string]any)
	assert.Equal(t, "Lan.Tran@Example.com", u["email"])
	assert.Equal(t, "Trần Thị Lan", u["full_name"])
	assert.Equal(t, "+84901234567", u["phone"])
	assert.Equal(t, []any{"user"}, u["roles"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$`, u["created_at"])
	assert.NotEmpty(t, body["access_token"])
	assert.NotEmpty(t, body["refresh_token"])
	assert.EqualValues(t, 900, body["expires_in"])
	apptest.Eventually(t, func() bool { return registered.Load() == 1 }, "user.registered is delivered")

	// The same email in another case is the same account.
	res = env.Post(t, "/auth/register", "", map[string]any{"email": "lan.tran@example.com", "password": "another-password", "full_name": "X"})
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Equal(t, "conflict", res.Code(t))

	res = env.Post(t, "/auth/login", "", map[string]any{"email": "LAN.TRAN@example.com", "password": "s3cret-password"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	token := res.Map(t)["access_token"].(string)
	res = env.Get(t, "/users/profile", token)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, u["id"], res.Map(t)["id"])

	// A wrong password and an unknown email answer alike.
	wrong := env.Post(t, "/auth/login", "", map[string]any{"email": "lan.tran@example.com", "password": "wrong-password"})
	unknown := env.Post(t, "/auth/login", "", map[string]any{"email": "nobody@example.com", "password": "wrong-password"})
	for _, r := range []*apptest.Response{wrong, unknown} {
		assert.Equal(t, http.StatusUnauthorized, r.Status)
		assert.Equal(t, "invalid_credentials", r.Code(t))
		assert.Equal(t, "wrong email or password", r.Map(t)["detail"])
	}
}

func TestAuthBadInput(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	big := `{"email":"a@example.com","password":"` + strings.Repeat("x", 1<<20+10) + `","full_name":"A"}`
	cases := []struct {
		name, path string
		body       any
		status     int
		code       string
		field      string
	}{
		{"malformed json", "/auth/register", `{"email":`, 400, "bad_request", ""},
		{"not an object", "/auth/register", `[1,2]`, 400, "bad_request", ""},
		{"empty body", "/auth/register", ``, 400, "bad_request", ""},
		{"two values", "/auth/register", `{} {}`, 400, "bad_request", ""},
		{"wrong type", "/auth/register", `{"email":"a@example.com","password":12345678,"full_name":"A"}`, 422, "validation_failed", "password"},
		{"missing email", "/auth/register", map[string]any{"password": "longenough", "full_name": "A"}, 422, "validation_failed", "email"},
		{"bad email", "/auth/register", map[string]any{"email": "not-an-email", "password": "longenough", "full_name": "A"}, 422, "validation_failed", "email"},
		{"short password", "/auth/register", map[string]any{"email": "a@example.com", "password": "short", "full_name": "A"}, 422, "validation_failed", "password"},
		{"blank name", "/auth/register", map[string]any{"email": "a@example.com", "password": "longenough", "full_name": "   "}, 422, "validation_failed", "full_name"},
		{"bad phone", "/auth/register", map[string]any{"email": "a@example.com", "password": "longenough", "full_name": "A", "phone": "call me"}, 422, "validation_failed", "phone"},
		{"oversize body", "/auth/register", big, 413, "payload_too_large", ""},
		{"login missing password", "/auth/login", map[string]any{"email": "a@example.com"}, 422, "validation_failed", "password"},
		{"refresh missing token", "/auth/refresh", map[string]any{}, 422, "validation_failed", "refresh_token"},
		{"forgot bad email", "/auth/forgot-password", map[string]any{"email": "nope"}, 422, "validation_failed", "email"},
		{"otp not digits", "/auth/verify-otp", map[string]any{"email": "a@example.com", "otp": "12ab56"}, 422, "validation_failed", "otp"},
		{"otp too short", "/auth/verify-otp", map[string]any{"email": "a@example.com", "otp": "123"}, 422, "validation_failed", "otp"},
		{"reset missing password", "/auth/reset-password", map[string]any{"reset_token": "x"}, 422, "validation_failed", "new_password"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := env.Post(t, c.path, "", c.body)
			require.Equal(t, c.status, res.Status, "%s", res.Body)
			assert.Equal(t, c.code, res.Code(t))
			if c.field != "" {
				errs := res.Map(t)["errors"].([]any)
				assert.Equal(t, c.field, errs[0].(map[string]any)["field"], "%s", res.Body)
			}
		})
	}
	// Nothing was created by any of them.
	res := env.Post(t, "/auth/login", "", map[string]any{"email": "a@example.com", "password": "longenough"})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
}

func TestRefreshRotatesAndReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Minh")

	res := env.Post(t, "/auth/refresh", "", map[string]any{"refresh_token": u.RefreshToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	second := res.Map(t)
	require.NotEqual(t, u.RefreshToken, second["refresh_token"])
	assert.Equal(t, http.StatusOK, env.Get(t, "/users/profile", second["access_token"].(string)).Status)

	// The first token again: a replay. The whole family ends, including the newest pair.
	res = env.Post(t, "/auth/refresh", "", map[string]any{"refresh_token": u.RefreshToken})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	res = env.Post(t, "/auth/refresh", "", map[string]any{"refresh_token": second["refresh_token"]})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/users/profile", second["access_token"].(string)).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/users/profile", u.AccessToken).Status)

	// A made-up token is simply refused.
	res = env.Post(t, "/auth/refresh", "", map[string]any{"refresh_token": "made-up"})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, "unauthorized", res.Code(t))
}

func TestRefreshConcurrentUseIssuesOnePair(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Hoa")
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if env.Post(t, "/auth/refresh", "", map[string]any{"refresh_token": u.RefreshToken}).Status == http.StatusOK {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 1, ok.Load(), "a refresh token is spent exactly once")
}

func TestLogoutEndsAccessAndRefreshAtOnce(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Quang")
	res := env.Post(t, "/auth/login", "", map[string]any{"email": u.Email, "password": u.Password})
	require.Equal(t, http.StatusOK, res.Status)
	other := res.Map(t)

	res = env.Post(t, "/auth/logout", u.AccessToken, map[string]any{"refresh_token": u.RefreshToken})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/users/profile", u.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/auth/refresh", "", map[string]any{"refresh_token": u.RefreshToken}).Status)

	// The other session (another device) is untouched.
	assert.Equal(t, http.StatusOK, env.Get(t, "/users/profile", other["access_token"].(string)).Status)
	// Logout without a body works too, and needs a token.
	assert.Equal(t, http.StatusNoContent, env.Post(t, "/auth/logout", other["access_token"].(string), nil).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/auth/logout", "", nil).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/auth/logout", other["access_token"].(string), nil).Status)
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// otpFrom waits for the newest code mailed to email.
func otpFrom(t *testing.T, env *apptest.Env, email string, n int) string {
	t.Helper()
	apptest.Eventually(t, func() bool { return len(env.Mailbox.To(email)) >= n }, "the code is mailed")
	msgs := env.Mailbox.To(email)
	m := codeRE.FindStringSubmatch(msgs[len(msgs)-1].Body)
	require.NotNil(t, m, "a 6-digit code in %q", msgs[len(msgs)-1].Body)
	return m[1]
}

func TestForgotPasswordOTPAndReset(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Thu")

	// Unknown emails get the same answer, and nothing is sent.
	res := env.Post(t, "/auth/forgot-password", "", map[string]any{"email": "ghost@example.com"})
	assert.Equal(t, http.StatusAccepted, res.Status)
	res = env.Post(t, "/auth/forgot-password", "", map[string]any{"email": u.Email})
	assert.Equal(t, http.StatusAccepted, res.Status)
	code := otpFrom(t, env, u.Email, 1)
	assert.Empty(t, env.Mailbox.To("ghost@example.com"))

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	res = env.Post(t, "/auth/verify-otp", "", map[string]any{"email": u.Email, "otp": wrong})
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, "invalid_otp", res.Code(t))
	res = env.Post(t, "/auth/verify-otp", "", map[string]any{"email": "ghost@example.com", "otp": code})
	assert.Equal(t, "invalid_otp", res.Code(t))

	res = env.Post(t, "/auth/verify-otp", "", map[string]any{"email": u.Email, "otp": code})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	reset := res.Map(t)["reset_token"].(string)
	// A code works once.
	res = env.Post(t, "/auth/verify-otp", "", map[string]any{"email": u.Email, "otp": code})
	assert.Equal(t, "invalid_otp", res.Code(t))

	res = env.Post(t, "/auth/reset-password", "", map[string]any{"reset_token": reset, "new_password": "brand-new-password"})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = env.Post(t, "/auth/reset-password", "", map[string]any{"reset_token": reset, "new_password": "another-new-password"})
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.Equal(t, "invalid_token", res.Code(t))

	// Every session ended; the old password is gone, the new one works.
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/users/profile", u.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/auth/refresh", "", map[string]any{"refresh_token": u.RefreshToken}).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/auth/login", "", map[string]any{"email": u.Email, "password": u.Password}).Status)
	assert.Equal(t, http.StatusOK, env.Post(t, "/auth/login", "", map[string]any{"email": u.Email, "password": "brand-new-password"}).Status)
}

func TestOTPAllowsFiveTries(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Bao")
	require.Equal(t, http.StatusAccepted, env.Post(t, "/auth/forgot-password", "", map[string]any{"email": u.Email}).Status)
	code := otpFrom(t, env, u.Email, 1)
	wrong := "999999"
	if code == wrong {
		wrong = "888888"
	}
	for range 5 {
		assert.Equal(t, "invalid_otp", env.Post(t, "/auth/verify-otp", "", map[string]any{"email": u.Email, "otp": wrong}).Code(t))
	}
	// The sixth try, even with the right code, is refused: the code is dead.
	res := env.Post(t, "/auth/verify-otp", "", map[string]any{"email": u.Email, "otp": code})
	assert.Equal(t, "invalid_otp", res.Code(t))
	assert.Contains(t, res.Map(t)["detail"], "too many attempts")

	// A new code replaces it and works.
	require.Equal(t, http.StatusAccepted, env.Post(t, "/auth/forgot-password", "", map[string]any{"email": u.Email}).Status)
	code2 := otpFrom(t, env, u.Email, 2)
	assert.Equal(t, http.StatusOK, env.Post(t, "/auth/verify-otp", "", map[string]any{"email": u.Email, "otp": code2}).Status)
}

func TestChangePasswordEndsOtherSessions(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Khanh")
	res := env.Post(t, "/auth/login", "", map[string]any{"email": u.Email, "password": u.Password})
	require.Equal(t, http.StatusOK, res.Status)
	phone := res.Map(t)

	res = env.Post(t, "/auth/change-password", u.AccessToken, map[string]any{"current_password": "not it", "new_password": "new-password-1"})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, "invalid_credentials", res.Code(t))
	res = env.Post(t, "/auth/change-password", u.AccessToken, map[string]any{"current_password": u.Password})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	res = env.Post(t, "/auth/change-password", u.AccessToken, map[string]any{"current_password": u.Password, "new_password": u.Password})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/auth/change-password", "", map[string]any{"current_password": u.Password, "new_password": "x-new-password"}).Status)

	res = env.Post(t, "/auth/change-password", u.AccessToken, map[string]any{"current_password": u.Password, "new_password": "new-password-1"})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	// This session goes on; the other device is signed out, access and refresh alike.
	assert.Equal(t, http.StatusOK, env.Get(t, "/users/profile", u.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/users/profile", phone["access_token"].(string)).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/auth/refresh", "", map[string]any{"refresh_token": phone["refresh_token"]}).Status)
	assert.Equal(t, http.StatusOK, env.Post(t, "/auth/login", "", map[string]any{"email": u.Email, "password": "new-password-1"}).Status)
}

func TestAuthRateLimit(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.WithEnv("AUTH_RATE_PER_MINUTE", "3"))
	body := map[string]any{"email": "someone@example.com", "password": "guessing-123"}
	for range 3 {
		assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/auth/login", "", body).Status)
	}
	res := env.Post(t, "/auth/login", "", body)
	assert.Equal(t, http.StatusTooManyRequests, res.Status)
	assert.Equal(t, "rate_limited", res.Code(t))
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	// Each route has its own budget.
	assert.Equal(t, http.StatusAccepted, env.Post(t, "/auth/forgot-password", "", map[string]any{"email": "someone@example.com"}).Status)
}
