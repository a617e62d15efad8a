package cart_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// TestVoucherRefusalsHaveTheirOwnCodes: a voucher a buyer cannot use is refused with a code
// the buyer can act on, the same whether it is applied to the cart or given at checkout, and
// a voucher already in the cart that stops applying says so on the cart and at checkout.
func TestVoucherRefusalsHaveTheirOwnCodes(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	seller, shopID, p := shopWith(t, env, 100_000, 50)
	now := time.Now().UTC()
	for code, v := range map[string]map[string]any{
		"ENDED":   {"starts_at": now.Add(-2 * time.Hour), "ends_at": now.Add(-time.Hour)},
		"LATER":   {"starts_at": now.Add(time.Hour), "ends_at": now.Add(2 * time.Hour)},
		"BIGCART": {"min_spend": 500_000},
		"ONCE":    {"usage_limit": 1},
		"MINE":    {"per_user_limit": 1},
		"RUNNING": {},
	} {
		body := map[string]any{"code": code, "name": code, "type": "fixed", "value": 10_000,
			"starts_at": now.Add(-time.Hour), "ends_at": now.Add(time.Hour)}
		for k, x := range v {
			body[k] = x
		}
		res := env.Post(t, "/shops/"+shopID+"/promotions", seller.AccessToken, body)
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	}
	// buyer returns a new buyer with the product in the cart and an address.
	buyer := func(name string) (apptest.User, string) {
		u := env.Register(t, name)
		require.Equal(t, http.StatusCreated, env.Post(t, "/cart/items", u.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1}).Status)
		return u, env.CreateAddress(t, u)
	}
	checkout := func(u apptest.User, addr, coupon string) *apptest.Response {
		body := map[string]any{"address_id": addr, "payment_method": "cod"}
		if coupon != "" {
			body["coupon"] = coupon
		}
		return env.Post(t, "/orders", u.AccessToken, body)
	}
	// Use ONCE up, and MINE once for first.
	first, firstAddr := buyer("First")
	require.Equal(t, http.StatusCreated, checkout(first, firstAddr, "ONCE").Status)
	require.Equal(t, http.StatusCreated, env.Post(t, "/cart/items", first.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1}).Status)
	require.Equal(t, http.StatusCreated, checkout(first, firstAddr, "MINE").Status)
	require.Equal(t, http.StatusCreated, env.Post(t, "/cart/items", first.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1}).Status)

	refusal := func(res *apptest.Response) (string, string) {
		t.Helper()
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		m := res.Map(t)
		errs, _ := m["errors"].([]any)
		require.Len(t, errs, 1, "%s", res.Body)
		return res.Code(t), errs[0].(map[string]any)["field"].(string)
	}
	for _, c := range []struct{ code, want string }{
		{"ENDED", "voucher_expired"},
		{"LATER", "voucher_not_started"},
		{"BIGCART", "min_spend_not_met"},
		{"ONCE", "voucher_exhausted"},
		{"MINE", "voucher_exhausted"},
	} {
		code, field := refusal(env.Post(t, "/cart/apply-coupon", first.AccessToken, map[string]any{"code": c.code}))
		assert.Equal(t, c.want, code, "apply %s", c.code)
		assert.Equal(t, "coupon", field, "apply %s", c.code)
		code, _ = refusal(checkout(first, firstAddr, c.code))
		assert.Equal(t, c.want, code, "check out with %s", c.code)
	}
	code, _ := refusal(env.Post(t, "/cart/apply-coupon", first.AccessToken, map[string]any{"code": "NOPE"}))
	assert.Equal(t, "validation_failed", code, "a code no shop of the cart has")

	// A voucher in the cart that expires meanwhile: the cart says why, checkout refuses with
	// the same code, and nothing is ordered.
	second, secondAddr := buyer("Second")
	res := env.Post(t, "/cart/apply-coupon", second.AccessToken, map[string]any{"code": "RUNNING"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	_, err := env.App.Pool.Exec(t.Context(), "UPDATE shop.promotions SET ends_at = now() - interval '1 minute' WHERE code = 'RUNNING'")
	require.NoError(t, err)
	cart := env.Get(t, "/cart", second.AccessToken).Map(t)
	group := cart["shops"].([]any)[0].(map[string]any)
	assert.Equal(t, "voucher_expired", group["coupon_error_code"])
	assert.NotEmpty(t, group["coupon_error"])
	code, _ = refusal(checkout(second, secondAddr, ""))
	assert.Equal(t, "voucher_expired", code)
	assert.Empty(t, env.Get(t, "/orders", second.AccessToken).Map(t)["items"])
}
