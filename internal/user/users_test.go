package user_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

func TestProtectedRoutesNeedAValidToken(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Vy")

	// A token signed with "none", one signed with another secret, one expired, and garbage.
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": u.ID, "sid": u.ID, "iss": "goshop",
		"exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": u.ID, "sid": u.ID, "iss": "goshop",
		"exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte("not the server's secret"))
	require.NoError(t, err)
	expired, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": u.ID, "sid": u.ID, "iss": "goshop",
		"exp": time.Now().Add(-time.Hour).Unix()}).SignedString([]byte(env.App.Cfg.JWTSecret))
	require.NoError(t, err)

	routes := []struct{ method, path string }{
		{"POST", "/auth/logout"}, {"POST", "/auth/change-password"},
		{"GET", "/users/profile"}, {"PUT", "/users/profile"},
		{"GET", "/users/" + u.ID}, {"DELETE", "/users/" + u.ID},
		{"GET", "/users/addresses"}, {"POST", "/users/addresses"},
		{"GET", "/users/addresses/" + u.ID}, {"PUT", "/users/addresses/" + u.ID},
		{"DELETE", "/users/addresses/" + u.ID}, {"PUT", "/users/addresses/" + u.ID + "/default"},
		{"POST", "/users/shipper/register"},
	}
	for _, r := range routes {
		for name, tok := range map[string]string{"none": "", "alg none": none, "forged": forged, "expired": expired, "garbage": "abc.def.ghi"} {
			res := env.Do(t, apptest.Req{Method: r.method, Path: r.path, Token: tok, Body: map[string]any{}})
			assert.Equal(t, http.StatusUnauthorized, res.Status, "%s %s with %s token", r.method, r.path, name)
			assert.Equal(t, "unauthorized", res.Code(t))
		}
	}
	res := env.Do(t, apptest.Req{Method: "GET", Path: "/users/profile", Header: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}})
	assert.Equal(t, http.StatusUnauthorized, res.Status)
}

func TestProfileUpdate(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Nam")

	res := env.Put(t, "/users/profile", u.AccessToken, map[string]any{"full_name": "Nguyễn Văn Nam", "phone": "0901 234 567"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "Nguyễn Văn Nam", res.Map(t)["full_name"])
	assert.Equal(t, "0901234567", res.Map(t)["phone"])

	// Absent fields stay; an empty phone clears it.
	res = env.Put(t, "/users/profile", u.AccessToken, map[string]any{"phone": ""})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "Nguyễn Văn Nam", res.Map(t)["full_name"])
	assert.Nil(t, res.Map(t)["phone"])

	for name, body := range map[string]any{
		"blank name": map[string]any{"full_name": "  "},
		"long name":  map[string]any{"full_name": strings.Repeat("a", 201)},
		"bad phone":  map[string]any{"phone": "12"},
		"wrong type": `{"full_name": 5}`,
	} {
		res := env.Put(t, "/users/profile", u.AccessToken, body)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, name)
		assert.Equal(t, "validation_failed", res.Code(t), name)
	}
	assert.Equal(t, http.StatusBadRequest, env.Put(t, "/users/profile", u.AccessToken, `{"full_name":`).Status)
	assert.Equal(t, "Nguyễn Văn Nam", env.Get(t, "/users/profile", u.AccessToken).Map(t)["full_name"])
}

func TestProfileLanguageAndTimeZone(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Lan")
	other := env.Register(t, "Other")

	got := env.Get(t, "/users/profile", u.AccessToken).Map(t)
	assert.Equal(t, "vi", got["locale"], "the default language")
	assert.Equal(t, "Asia/Ho_Chi_Minh", got["time_zone"], "the default zone")

	res := env.Put(t, "/users/profile", u.AccessToken, map[string]any{"locale": "en", "time_zone": "Europe/Paris"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "en", res.Map(t)["locale"])
	assert.Equal(t, "Europe/Paris", res.Map(t)["time_zone"])
	res = env.Put(t, "/users/profile", u.AccessToken, map[string]any{"full_name": "Lan Anh"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "en", res.Map(t)["locale"], "absent fields stay")
	assert.Equal(t, "Europe/Paris", res.Map(t)["time_zone"])

	for name, body := range map[string]any{
		"unknown language":  map[string]any{"locale": "fr"},
		"empty language":    map[string]any{"locale": ""},
		"unknown zone":      map[string]any{"time_zone": "Mars/Olympus"},
		"empty zone":        map[string]any{"time_zone": ""},
		"the server's zone": map[string]any{"time_zone": "Local"},
		"a NUL byte":        map[string]any{"time_zone": "Asia/Ho_Chi_Minh\u0000"},
		"a path":            map[string]any{"time_zone": "../../etc/passwd"},
		"an offset":         map[string]any{"time_zone": "+07:00"},
		"long zone":         map[string]any{"time_zone": strings.Repeat("A", 65)},
		"wrong type":        `{"time_zone": 7}`,
	} {
		res := env.Put(t, "/users/profile", u.AccessToken, body)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
		assert.Equal(t, "validation_failed", res.Code(t), name)
	}
	got = env.Get(t, "/users/profile", u.AccessToken).Map(t)
	assert.Equal(t, "en", got["locale"], "refused changes changed nothing")
	assert.Equal(t, "Europe/Paris", got["time_zone"])
	assert.Equal(t, "vi", env.Get(t, "/users/profile", other.AccessToken).Map(t)["locale"], "another user's profile is their own")
}

func TestGetAndDeleteUser(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	alice := env.Register(t, "Alice")
	bob := env.Register(t, "Bob")
	carol := env.Register(t, "Carol")
	admin := env.Admin(t, env.Register(t, "Admin"))

	res := env.Get(t, "/users/"+alice.ID, alice.AccessToken)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, alice.Email, res.Map(t)["email"])
	// Someone else's account does not exist for a plain user; it does for an admin.
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/users/"+bob.ID, alice.AccessToken).Status)
	assert.Equal(t, http.StatusOK, env.Get(t, "/users/"+bob.ID, admin.AccessToken).Status)
	assert.Contains(t, env.Get(t, "/users/"+admin.ID, admin.AccessToken).Map(t)["roles"], "admin")
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/users/not-a-uuid", alice.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/users/00000000-0000-0000-0000-000000000000", admin.AccessToken).Status)

	// Alice cannot delete Bob.
	res = env.Delete(t, "/users/"+bob.ID, alice.AccessToken)
	assert.Equal(t, http.StatusNotFound, res.Status)
	assert.Equal(t, http.StatusOK, env.Get(t, "/users/profile", bob.AccessToken).Status)

	// Alice deletes herself: her sessions end, her email is free again, her addresses are gone.
	require.Equal(t, http.StatusCreated, env.Post(t, "/users/addresses", alice.AccessToken, address("Alice")).Status)
	require.Equal(t, http.StatusNoContent, env.Delete(t, "/users/"+alice.ID, alice.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/users/profile", alice.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/auth/refresh", "", map[string]any{"refresh_token": alice.RefreshToken}).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/auth/login", "", map[string]any{"email": alice.Email, "password": alice.Password}).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/users/"+alice.ID, admin.AccessToken).Status)
	var name, email string
	var addrs int
	require.NoError(t, env.App.Pool.QueryRow(t.Context(),
		"SELECT full_name, email, (SELECT count(*) FROM users.addresses WHERE user_id = u.id) FROM users.users u WHERE id = $1",
		alice.ID).Scan(&name, &email, &addrs))
	assert.Empty(t, name, "personal data is removed")
	assert.NotContains(t, email, "alice")
	assert.Zero(t, addrs)
	res = env.Post(t, "/auth/register", "", map[string]any{"email": alice.Email, "password": "a-new-beginning", "full_name": "Alice"})
	assert.Equal(t, http.StatusCreated, res.Status)

	// An admin deletes Carol.
	require.Equal(t, http.StatusNoContent, env.Delete(t, "/users/"+carol.ID, admin.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/users/profile", carol.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Delete(t, "/users/"+carol.ID, admin.AccessToken).Status)
}

func TestShipperRegistration(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Shipper Son")
	body := map[string]any{"vehicle_type": "motorbike", "vehicle_plate": "59-x1 234.56", "id_number": "079123456789", "service_area": "Hồ Chí Minh"}

	for name, bad := range map[string]map[string]any{
		"vehicle":   {"vehicle_type": "rocket", "vehicle_plate": "59X123456", "id_number": "079123456789", "service_area": "HCM"},
		"id number": {"vehicle_type": "car", "vehicle_plate": "59X123456", "id_number": "ABC", "service_area": "HCM"},
		"missing":   {"vehicle_type": "car"},
	} {
		res := env.Post(t, "/users/shipper/register", u.AccessToken, bad)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, name)
	}
	assert.Equal(t, http.StatusBadRequest, env.Post(t, "/users/shipper/register", u.AccessToken, `{"vehicle_type"`).Status)

	res := env.Post(t, "/users/shipper/register", u.AccessToken, body)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	m := res.Map(t)
	assert.ElementsMatch(t, []any{"user", "shipper"}, m["user"].(map[string]any)["roles"])
	sh := m["shipper"].(map[string]any)
	assert.Equal(t, "********6789", sh["id_number"], "the ID number is shown masked")
	assert.Equal(t, "59-X1 234.56", sh["vehicle_plate"])
	// The new access token already carries the role; the old one still works as a plain user.
	newTok := m["access_token"].(string)
	assert.Contains(t, env.Get(t, "/users/profile", newTok).Map(t)["roles"], "shipper")

	res = env.Post(t, "/users/shipper/register", newTok, body)
	assert.Equal(t, http.StatusConflict, res.Status)
	// A refresh picks up the role from the database too.
	res = env.Post(t, "/auth/refresh", "", map[string]any{"refresh_token": u.RefreshToken})
	require.Equal(t, http.StatusOK, res.Status)
	assert.Contains(t, res.Map(t)["user"].(map[string]any)["roles"], "shipper")
}

// TestEveryBodyRouteRefusesBadBodies sends a malformed, an oversize and a wrong-typed body to
// every identity route that takes one: never a 500, never a change.
func TestEveryBodyRouteRefusesBadBodies(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Body")
	addr := env.Post(t, "/users/addresses", u.AccessToken, address("Body")).Map(t)["id"].(string)
	huge := `{"x":"` + strings.Repeat("a", 1<<20) + `"}`
	routes := []struct{ method, path string }{
		{"POST", "/auth/register"}, {"POST", "/auth/login"}, {"POST", "/auth/refresh"},
		{"POST", "/auth/forgot-password"}, {"POST", "/auth/verify-otp"}, {"POST", "/auth/reset-password"},
		{"POST", "/auth/change-password"}, {"POST", "/auth/logout"}, {"PUT", "/users/profile"},
		{"POST", "/users/addresses"}, {"PUT", "/users/addresses/" + addr}, {"POST", "/users/shipper/register"},
	}
	for _, r := range routes {
		res := env.Do(t, apptest.Req{Method: r.method, Path: r.path, Token: u.AccessToken, Body: `{"a":`})
		assert.Equal(t, http.StatusBadRequest, res.Status, "%s %s malformed", r.method, r.path)
		res = env.Do(t, apptest.Req{Method: r.method, Path: r.path, Token: u.AccessToken, Body: huge})
		assert.Equal(t, http.StatusRequestEntityTooLarge, res.Status, "%s %s oversize", r.method, r.path)
		res = env.Do(t, apptest.Req{Method: r.method, Path: r.path, Token: u.AccessToken, Body: `"a string"`})
		assert.Equal(t, http.StatusBadRequest, res.Status, "%s %s not an object", r.method, r.path)
	}
	assert.Equal(t, http.StatusOK, env.Get(t, "/users/profile", u.AccessToken).Status, "the session survived")
	assert.Equal(t, "Body", env.Get(t, "/users/addresses/"+addr, u.AccessToken).Map(t)["recipient_name"])
}
