package search_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// TestTrendingAndPopular ranks products, shops and categories by decayed interest, lists
// popular searches (leaving out those that found nothing) and proposes them as suggestions.
func TestTrendingAndPopular(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.catalog(t)
	buyer := w.Register(t, "Buyer")
	dev := "trend-device-01"
	for range 3 {
		require.Equal(t, http.StatusAccepted, w.as(t, http.MethodPost, "/behavior/view-product", "", dev,
			map[string]any{"product_id": w.ids["shirt"]}).Status)
	}
	require.Equal(t, http.StatusAccepted, w.as(t, http.MethodPost, "/behavior/view-product", "", dev,
		map[string]any{"product_id": w.ids["samsung"]}).Status)
	// One purchase (weight 10) outweighs three views (weight 1 each).
	res := w.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": w.ids["op-lung"], "quantity": 1})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res = w.Post(t, "/orders", buyer.AccessToken, map[string]any{"address_id": w.CreateAddress(t, buyer), "payment_method": "cod"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	for q, results := range map[string]int{"điện thoại": 3, "Điện thoại  ": 3, "dien thoai": 3, "áo thun": 1, "xyzzy": 0} {
		require.Equal(t, http.StatusAccepted, w.as(t, http.MethodPost, "/behavior/search", "", dev,
			map[string]any{"query": q, "results": results}).Status)
	}
	w.until(t, w.ids["op-lung"], "the sale is counted", func(h hit, ok bool) bool { return ok && h.SoldCount == 1 })
	require.NoError(t, w.App.Search.RecomputeTrending(context.Background()))
	require.NoError(t, w.App.Search.RecomputeTrending(context.Background()), "twice computes the same")
	// Recomputes at once (the periodic job and a caller, say) take turns rather than collide.
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() { errs <- w.App.Search.RecomputeTrending(context.Background()) }()
	}
	for range cap(errs) {
		require.NoError(t, <-errs, "recomputes at once")
	}

	type item struct {
		ID    string  `json:"id"`
		Name  string  `json:"name"`
		Score float64 `json:"score"`
	}
	type list struct {
		Items      []item `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	get := func(path string) list {
		res := w.Get(t, path, "")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var l list
		res.JSON(t, &l)
		return l
	}
	prods := get("/trending/products")
	require.Len(t, prods.Items, 3)
	assert.Equal(t, []string{w.ids["op-lung"], w.ids["shirt"], w.ids["samsung"]}, []string{prods.Items[0].ID, prods.Items[1].ID, prods.Items[2].ID})
	assert.InDelta(t, 15, prods.Items[0].Score, 0.1, "add-to-cart 5 + purchase 10, hardly decayed")
	assert.InDelta(t, 3, prods.Items[1].Score, 0.01)
	page := get("/trending/products?limit=1")
	page = get("/trending/products?limit=1&cursor=" + url.QueryEscape(page.NextCursor))
	assert.Equal(t, w.ids["shirt"], page.Items[0].ID)
	assert.Len(t, get("/trending/products?category="+w.phones).Items, 2)

	shops := get("/trending/shops")
	require.Len(t, shops.Items, 2)
	assert.Equal(t, w.hanoi, shops.Items[0].ID)
	assert.Equal(t, "Shop Hà Nội", shops.Items[0].Name)
	cats := get("/trending/categories")
	require.Len(t, cats.Items, 1)
	assert.Equal(t, "Điện thoại", cats.Items[0].Name)

	type popular struct {
		Items []struct {
			Query    string `json:"query"`
			Searches int    `json:"searches"`
		} `json:"items"`
	}
	res = w.Get(t, "/popular/searches", "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var p popular
	res.JSON(t, &p)
	require.Len(t, p.Items, 3, "xyzzy found nothing: left out")
	assert.Equal(t, "điện thoại", p.Items[0].Query)
	assert.Equal(t, 2, p.Items[0].Searches)

	type completions struct {
		Items []struct {
			Text string `json:"text"`
			Kind string `json:"kind"`
		} `json:"items"`
	}
	sugg := func(path string) []string {
		res := w.Get(t, path, "")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var c completions
		res.JSON(t, &c)
		var out []string
		for _, it := range c.Items {
			out = append(out, it.Kind+":"+it.Text)
		}
		return out
	}
	assert.Equal(t, []string{"popular:điện thoại", "popular:dien thoai"}, sugg("/search/suggestions?q=dien"))
	assert.Equal(t, []string{"popular:áo thun"}, sugg("/search/suggestions?q=thun"))
	assert.Equal(t, []string{"correction:samsung"}, sugg("/search/suggestions?q=samsumg"))
	assert.Equal(t, "popular:điện thoại", sugg("/search/autocomplete?q=die")[0])
	for _, path := range []string{"/popular/searches?limit=0", "/trending/products?category=x", "/trending/shops?cursor=bad", "/search/suggestions"} {
		assert.Equal(t, http.StatusUnprocessableEntity, w.Get(t, path, "").Status, path)
	}
}

// TestACartAddItCannotRecordIsRefused: an add-to-cart whose IDs are not IDs queues nothing on
// the cart's batch and is refused, rather than written half or dropped.
func TestACartAddItCannotRecordIsRefused(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	var b pgdb.Batch
	err := w.App.Search.QueueCartAdd(context.Background(), &b, events.CartItemAdded{ProductID: "not-an-id", ShopID: "x", Quantity: 1})
	require.Error(t, err)
	assert.Zero(t, b.Len(), "nothing queued")
}
