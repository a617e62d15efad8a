package search_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRecommendations recommends neighbours of what a visitor viewed and bought, each with its
// reason, never what they bought, trending for a visitor without history, and what similar
// buyers bought without naming them.
func TestRecommendations(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.catalog(t)
	alice := w.Register(t, "Alice")
	view := func(token, device string, labels ...string) {
		for _, l := range labels {
			res := w.as(t, http.MethodPost, "/behavior/view-product", token, device, map[string]any{"product_id": w.ids[l]})
			require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
		}
	}
	// Others viewed the iPhone with its case, and the shirt with the hat.
	view("", "visitor-one-01", "iphone", "op-lung")
	view("", "visitor-two-02", "iphone", "op-lung", "shirt")
	view("", "visitor-three-3", "shirt", "non-la")
	type recs struct {
		Items []struct {
			Product struct {
				ID string `json:"id"`
			} `json:"product"`
			Reason  string  `json:"reason"`
			Because *string `json:"because_product_id"`
		} `json:"items"`
	}
	get := func(path, token, device string) recs {
		t.Helper()
		res := w.as(t, http.MethodGet, path, token, device, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var r recs
		res.JSON(t, &r)
		return r
	}
	view(alice.AccessToken, "", "iphone")
	require.NoError(t, w.App.Search.RecomputeTrending(context.Background()))
	r := get("/recommendations/products", alice.AccessToken, "")
	require.NotEmpty(t, r.Items)
	assert.Equal(t, w.ids["op-lung"], r.Items[0].Product.ID)
	assert.Equal(t, "because you viewed iPhone 15 Pro Max 256GB", r.Items[0].Reason)
	for _, it := range r.Items {
		assert.NotEqual(t, w.ids["iphone"], it.Product.ID, "not what they viewed")
		assert.NotEmpty(t, it.Reason)
	}
	s := get("/recommendations/based-on-behavior", alice.AccessToken, "")
	require.NotEmpty(t, s.Items)
	assert.Equal(t, w.ids["op-lung"], s.Items[0].Product.ID)

	anon := get("/recommendations/products", "", "")
	require.NotEmpty(t, anon.Items, "trending for a visitor without history")
	assert.Equal(t, "trending now", anon.Items[0].Reason)

	res := w.as(t, http.MethodGet, "/recommendations/shops", alice.AccessToken, "", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.NotEmpty(t, res.Map(t)["items"])

	res = w.as(t, http.MethodGet, "/recommendations/similar-users", "", "", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	sim := get("/recommendations/similar-users", alice.AccessToken, "")
	assert.Empty(t, sim.Items, "Alice bought nothing")

	buy := func(token string, labels ...string) {
		t.Helper()
		for _, l := range labels {
			res := w.Post(t, "/cart/items", token, map[string]any{"product_id": w.ids[l], "quantity": 1})
			require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		}
	}
	bob := w.Register(t, "Bob")
	buy(bob.AccessToken, "shirt", "non-la")
	res = w.Post(t, "/orders", bob.AccessToken, map[string]any{"address_id": w.CreateAddress(t, bob), "payment_method": "cod"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	buy(alice.AccessToken, "shirt")
	res = w.Post(t, "/orders", alice.AccessToken, map[string]any{"address_id": w.CreateAddress(t, alice), "payment_method": "cod"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	w.until(t, w.ids["shirt"], "both sales counted", func(h hit, ok bool) bool { return ok && h.SoldCount == 2 })
	sim = get("/recommendations/similar-users", alice.AccessToken, "")
	require.Len(t, sim.Items, 1)
	assert.Equal(t, w.ids["non-la"], sim.Items[0].Product.ID)
	assert.Equal(t, "bought by buyers who also bought Cotton T-shirt for men", sim.Items[0].Reason)
	assert.NotContains(t, string(w.as(t, http.MethodGet, "/recommendations/similar-users", alice.AccessToken, "", nil).Body), bob.ID,
		"never another buyer's identity")
	require.NoError(t, w.App.Search.RecomputeTrending(context.Background()))
	for _, it := range get("/recommendations/products", alice.AccessToken, "").Items {
		assert.NotEqual(t, w.ids["shirt"], it.Product.ID, "nothing bought lately")
	}
	assert.Equal(t, http.StatusUnprocessableEntity, w.as(t, http.MethodGet, "/recommendations/products?limit=0", "", "", nil).Status)
}
