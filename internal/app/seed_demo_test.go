package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app"
	"github.com/goshop/goshop/internal/app/apptest"
)

var demoOrderLineRE = regexp.MustCompile(`(?m)^  (\w+) +/track/([0-9a-f-]{36})$`)

// TestSeedDemo runs `goshop seed -demo` twice against a running app's database: the first run
// makes the demo marketplace, the second adds nothing and prints the same orders; the printed
// sign-ins work through the API, and the orders are in the states the demo promises. Not
// parallel: the command reads its configuration from the environment.
func TestSeedDemo(t *testing.T) {
	env := apptest.New(t)
	cfg := env.App.Cfg
	for k, v := range map[string]string{"APP_ENV": "test", "DATABASE_URL": cfg.DatabaseURL, "REDIS_PREFIX": cfg.RedisPrefix,
		"MEDIA_DIR": cfg.MediaDir, "AUTO_MIGRATE": "false", "PASSWORD_HASH_MEMORY_KIB": "1024", "LOG_LEVEL": "error"} {
		t.Setenv(k, v)
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := app.Run(context.Background(), append([]string{"seed"}, args...), &out, io.Discard)
		return out.String(), err
	}
	first, err := run("-demo")
	require.NoError(t, err, first)
	t.Log(first)
	assert.Contains(t, first, "demo: 4 accounts, 5 products and 6 orders added")
	second, err := run("-demo")
	require.NoError(t, err, second)
	assert.Contains(t, second, "demo: 0 accounts, 0 products and 0 orders added")
	orders := map[string]string{}
	for _, m := range demoOrderLineRE.FindAllStringSubmatch(first, -1) {
		orders[m[1]] = m[2]
	}
	assert.Len(t, orders, len(app.DemoOrderStates))
	again := map[string]string{}
	for _, m := range demoOrderLineRE.FindAllStringSubmatch(second, -1) {
		again[m[1]] = m[2]
	}
	assert.Equal(t, orders, again, "the second run finds the first run's orders")

	// Every printed sign-in works, with its role.
	tokens, ids := map[string]string{}, map[string]string{}
	for role, email := range map[string]string{"buyer": app.DemoBuyer, "seller": app.DemoSeller, "shipper": app.DemoShipper, "admin": app.DemoAdmin} {
		assert.Contains(t, first, email)
		res := env.Post(t, "/auth/login", "", map[string]any{"email": email, "password": app.DemoPassword})
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", role, res.Body)
		var s struct {
			AccessToken string `json:"access_token"`
			User        struct {
				ID    string   `json:"id"`
				Roles []string `json:"roles"`
			} `json:"user"`
		}
		res.JSON(t, &s)
		tokens[role], ids[role] = s.AccessToken, s.User.ID
		switch role {
		case "shipper", "admin":
			assert.Contains(t, s.User.Roles, role)
		default:
			assert.Equal(t, []string{"user"}, s.User.Roles, role)
		}
	}

	// The buyer's orders, once each, in their states.
	res := env.Get(t, "/orders?limit=100", tokens["buyer"])
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Len(t, res.Map(t)["items"], len(app.DemoOrderStates), "no order twice")
	want := map[string][2]string{ // state: order status, payment status
		"placed": {"pending", "unpaid"}, "paid": {"pending", "paid"}, "confirmed": {"confirmed", "unpaid"},
		"shipped": {"shipped", "paid"}, "delivered": {"delivered", "paid"}, "cancelled": {"cancelled", ""},
	}
	for state, id := range orders {
		res := env.Get(t, "/orders/"+id, tokens["buyer"])
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", state, res.Body)
		o := res.Map(t)
		assert.Equal(t, want[state][0], o["status"], state)
		if want[state][1] != "" {
			assert.Equal(t, want[state][1], o["payment_status"], state)
		}
	}
	// The shipped order is on the road with the demo shipper, who has said where; the
	// delivered one was carried by them too.
	res = env.Get(t, "/shipping/"+orders["shipped"]+"/tracking", tokens["buyer"])
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	sh := res.Map(t)
	assert.Equal(t, ids["shipper"], sh["shipper_id"])
	assert.Equal(t, "in_transit", sh["status"])
	assert.NotNil(t, sh["last_location"])
	res = env.Get(t, "/shipping/"+orders["delivered"]+"/tracking", tokens["buyer"])
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "delivered", res.Map(t)["status"])

	// One shop, whose five products each have a stored picture.
	shops := env.Get(t, "/shops?owner=me", tokens["seller"])
	require.Equal(t, http.StatusOK, shops.Status, "%s", shops.Body)
	items := shops.Map(t)["items"].([]any)
	require.Len(t, items, 1, "one demo shop")
	shopID := items[0].(map[string]any)["id"].(string)
	res = env.Get(t, "/shops/"+shopID+"/products?limit=100", "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	products := res.Map(t)["items"].([]any)
	require.Len(t, products, 5)
	for _, p := range products {
		p := p.(map[string]any)
		m, _ := p["media"].([]any)
		require.Len(t, m, 1, "%s has one picture", p["title"])
		img := env.Get(t, "/"+m[0].(map[string]any)["url"].(string), "")
		assert.Equal(t, http.StatusOK, img.Status, "%s: its picture is served", p["title"])
	}

	// Not with other flags, and never in production.
	_, err = run("-demo", "-products", "5")
	assert.Error(t, err)
	t.Setenv("APP_ENV", "production")
	t.Setenv("JWT_SECRET", "a-production-secret-of-at-least-32-bytes")
	t.Setenv("MAIL_DISABLED", "true")
	_, err = run("-demo")
	assert.ErrorContains(t, err, "refused with APP_ENV=production")
}
