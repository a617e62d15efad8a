package payment_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// provider finds a provider's entry in GET /payments/methods.
func provider(t *testing.T, view map[string]any, method, name string) map[string]any {
	t.Helper()
	for _, m := range view["methods"].([]any) {
		m := m.(map[string]any)
		if m["method"] != method {
			continue
		}
		for _, p := range m["providers"].([]any) {
			if p := p.(map[string]any); p["provider"] == name {
				return p
			}
		}
	}
	t.Fatalf("no %s/%s in %v", method, name, view)
	return nil
}

func TestMethodsListShowsAvailabilityAndSavedMethods(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, withPayPal("https://paypal.invalid")...)
	res := env.Get(t, "/payments/methods", "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	view := res.Map(t)
	assert.Equal(t, []string{"currency", "methods", "saved"}, keysOf(view))
	assert.Equal(t, "VND", view["currency"])
	assert.Equal(t, []any{}, view["saved"], "no one is signed in")
	assert.Equal(t, true, provider(t, view, "card", "sandbox")["available"])
	stripe := provider(t, view, "card", "stripe")
	assert.Equal(t, false, stripe["available"], "no credentials, no Stripe")
	assert.Equal(t, "not configured", stripe["reason"])
	pp := provider(t, view, "ewallet", "paypal")
	assert.Equal(t, false, pp["available"])
	assert.Equal(t, "does not take VND", pp["reason"], "PayPal is configured but takes no VND")
	methods := view["methods"].([]any)
	assert.Equal(t, "cod", methods[3].(map[string]any)["method"])
	assert.Equal(t, true, methods[3].(map[string]any)["available"])

	usd := env.Get(t, "/payments/methods?currency=usd", "").Map(t)
	assert.Equal(t, true, provider(t, usd, "ewallet", "paypal")["available"])
	assert.Equal(t, false, provider(t, usd, "ewallet", "momo")["available"])
	assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/payments/methods?currency=dong", "").Status)

	u := env.Register(t, "Buyer")
	require.Equal(t, http.StatusCreated, env.Post(t, "/payments/methods", u.AccessToken, card("tok_visa", "4242")).Status)
	saved := env.Get(t, "/payments/methods", u.AccessToken).Map(t)["saved"].([]any)
	require.Len(t, saved, 1)
	assert.Equal(t, "4242", saved[0].(map[string]any)["last4"])
	assert.NotContains(t, saved[0], "token", "the gateway token is never shown back")
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/payments/methods", "not-a-token").Status)
}

func card(token, last4 string) map[string]any {
	return map[string]any{"method": "card", "provider": "sandbox", "token": token, "brand": "visa", "last4": last4,
		"exp_month": 12, "exp_year": time.Now().Year() + 2}
}

func TestSavedMethodsKeepOneDefault(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Buyer")
	other := env.Register(t, "Other")

	res := env.Post(t, "/payments/methods", u.AccessToken, card("tok_1", "1111"))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	first := res.Map(t)
	assert.Equal(t, true, first["is_default"], "the first method is the default")
	res = env.Post(t, "/payments/methods", u.AccessToken, card("tok_2", "2222"))
	require.Equal(t, http.StatusCreated, res.Status)
	second := res.Map(t)
	assert.Equal(t, false, second["is_default"])
	wallet := map[string]any{"method": "ewallet", "provider": "momo", "token": "momo-wallet-0901234567", "label": "Ví MoMo", "default": true}
	res = env.Post(t, "/payments/methods", u.AccessToken, wallet)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	third := res.Map(t)
	assert.Equal(t, true, third["is_default"], "saved as the default")
	assert.Equal(t, http.StatusConflict, env.Post(t, "/payments/methods", u.AccessToken, card("tok_1", "1111")).Status, "saved already")

	defaults := func() []string {
		var out []string
		for _, m := range env.Get(t, "/payments/methods", u.AccessToken).Map(t)["saved"].([]any) {
			if m := m.(map[string]any); m["is_default"] == true {
				out = append(out, m["id"].(string))
			}
		}
		return out
	}
	assert.Equal(t, []string{third["id"].(string)}, defaults())

	// Concurrent choices of the default leave exactly one.
	var wg sync.WaitGroup
	for _, id := range []string{first["id"].(string), second["id"].(string), third["id"].(string)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.Equal(t, http.StatusOK, env.Put(t, "/payments/methods/"+id+"/default", u.AccessToken, nil).Status)
		}()
	}
	wg.Wait()
	assert.Len(t, defaults(), 1)

	res = env.Put(t, "/payments/methods/"+second["id"].(string)+"/default", u.AccessToken, nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, true, res.Map(t)["is_default"])
	// Deleting the default makes the newest remaining one the default.
	require.Equal(t, http.StatusNoContent, env.Delete(t, "/payments/methods/"+second["id"].(string), u.AccessToken).Status)
	assert.Equal(t, []string{third["id"].(string)}, defaults())
	assert.Equal(t, http.StatusNotFound, env.Delete(t, "/payments/methods/"+second["id"].(string), u.AccessToken).Status)

	// Someone else's methods do not exist for them; nor for the unauthenticated.
	id := first["id"].(string)
	assert.Equal(t, http.StatusNotFound, env.Delete(t, "/payments/methods/"+id, other.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Put(t, "/payments/methods/"+id+"/default", other.AccessToken, nil).Status)
	assert.Equal(t, http.StatusNotFound, env.Put(t, "/payments/methods/not-an-id/default", u.AccessToken, nil).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Delete(t, "/payments/methods/"+id, "").Status)
	assert.Equal(t, http.StatusUnauthorized, env.Put(t, "/payments/methods/"+id+"/default", "", nil).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/payments/methods", "", card("tok_3", "3333")).Status)
	assert.Len(t, env.Get(t, "/payments/methods", u.AccessToken).Map(t)["saved"], 2)
	assert.Empty(t, env.Get(t, "/payments/methods", other.AccessToken).Map(t)["saved"])
}

func TestSavedMethodsNeverHoldCardNumbers(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Buyer")
	with := func(k string, v any) map[string]any {
		m := card("tok_ok", "4242")
		m[k] = v
		return m
	}
	for name, body := range map[string]any{
		"PAN as token":          with("token", "4242424242424242"),
		"PAN with spaces":       with("token", "4111 1111 1111 1111"),
		"PAN with dashes":       with("label", "my card 5555-5555-5555-4444"),
		"PAN in an extra field": with("card_number", "378282246310005"),
		"PAN as a JSON number":  with("number", 4012888888881881),
	} {
		res := env.Post(t, "/payments/methods", u.AccessToken, body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
		assert.Equal(t, "validation_failed", res.Code(t), name)
	}
	// A long number that is not a card number (fails Luhn) is a fine token.
	assert.Equal(t, http.StatusCreated, env.Post(t, "/payments/methods", u.AccessToken, with("token", "pm_1234567890123456")).Status)

	year := time.Now().Year()
	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"no token":          {map[string]any{"method": "card", "provider": "sandbox"}, "token"},
		"bad method":        {with("method", "barter"), "method"},
		"card through momo": {with("provider", "momo"), "provider"},
		"last4 not digits":  {with("last4", "42a2"), "last4"},
		"card without last4": {map[string]any{"method": "card", "provider": "sandbox", "token": "tok_x", "exp_month": 1,
			"exp_year": year + 1}, "last4"},
		"expired":    {with("exp_year", year-1), "exp_year"},
		"bad month":  {with("exp_month", 13), "exp_month"},
		"wrong type": {`{"method":"card","provider":"sandbox","token":7}`, "token"},
	} {
		res := env.Post(t, "/payments/methods", u.AccessToken, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
		assert.Equal(t, c.field, res.Map(t)["errors"].([]any)[0].(map[string]any)["field"], name)
	}
	assert.Equal(t, http.StatusBadRequest, env.Post(t, "/payments/methods", u.AccessToken, `{"method":`).Status)
	assert.Len(t, env.Get(t, "/payments/methods", u.AccessToken).Map(t)["saved"], 1)
}
