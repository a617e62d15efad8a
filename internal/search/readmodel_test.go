package search_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// find returns the search hit of a product, if it is indexed.
func (w *world) find(t *testing.T, id string) (hit, bool) {
	t.Helper()
	r := w.search(t, "/search", url.Values{"limit": {"100"}})
	for _, h := range r.Items {
		if h.ID == id {
			return h, true
		}
	}
	return hit{}, false
}

func (w *world) until(t *testing.T, id, msg string, cond func(h hit, ok bool) bool) {
	t.Helper()
	apptest.Eventually(t, func() bool { h, ok := w.find(t, id); return cond(h, ok) }, msg)
}

// TestReadModelFollowsTheCatalog walks a product through its life and checks the document after
// each event: create, update, price change, discount, campaign, sale, stock-out, delete, and a
// shop's closing; then a redelivery and a stale write change nothing, and reindex rebuilds it.
func TestReadModelFollowsTheCatalog(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := w.product(t, "ao", w.hcm, map[string]any{"title": "Áo khoác gió", "price": 300_000, "stock": 3})
	w.until(t, id, "created", func(h hit, ok bool) bool { return ok && h.Price == 300_000 && h.InStock })

	t.Run("update", func(t *testing.T) {
		res := w.Put(t, "/products/"+id, w.seller.AccessToken, map[string]any{"title": "Áo khoác dù chống nước"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		w.until(t, id, "retitled", func(h hit, ok bool) bool { return ok && h.Title == "Áo khoác dù chống nước" })
		assert.Len(t, w.search(t, "/search", url.Values{"q": {"chong nuoc"}}).Items, 1)
		assert.Empty(t, w.search(t, "/search", url.Values{"q": {"gió"}}).Items)
	})
	t.Run("price and discount", func(t *testing.T) {
		res := w.Put(t, "/products/"+id+"/price", w.seller.AccessToken, map[string]any{"price": 250_000})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		w.until(t, id, "repriced", func(h hit, ok bool) bool { return ok && h.Price == 250_000 })
		res = w.Post(t, "/products/"+id+"/discount", w.seller.AccessToken, map[string]any{"percent": 20,
			"ends_at": time.Now().Add(time.Hour).UTC()})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		w.until(t, id, "discounted", func(h hit, ok bool) bool { return ok && h.Price == 200_000 })
	})
	t.Run("campaign price while it has stock", func(t *testing.T) {
		var variant string
		res := w.Get(t, "/products/"+id, "")
		variant = res.Map(t)["variants"].([]any)[0].(map[string]any)["id"].(string)
		now := time.Now().UTC()
		res = w.Post(t, "/shops/"+w.hcm+"/campaigns", w.seller.AccessToken, map[string]any{"name": "Flash", "starts_at": now,
			"ends_at": now.Add(time.Hour), "items": []any{map[string]any{"variant_id": variant, "campaign_price": 150_000, "campaign_stock": 1}}})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		cid := res.Map(t)["id"].(string)
		res = w.Put(t, "/shops/"+w.hcm+"/campaigns/"+cid+"/status", w.seller.AccessToken, map[string]any{"status": "scheduled"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		w.until(t, id, "campaign price", func(h hit, ok bool) bool { return ok && h.Price == 150_000 })

		buyer := w.Register(t, "Buyer")
		res = w.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": id, "quantity": 1})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		res = w.Post(t, "/orders", buyer.AccessToken, map[string]any{"address_id": w.CreateAddress(t, buyer), "payment_method": "cod"})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		w.until(t, id, "the campaign sold out: the discount price again, one sold", func(h hit, ok bool) bool {
			return ok && h.Price == 200_000 && h.SoldCount == 1
		})
		r := w.search(t, "/search", url.Values{"sort": {"best_selling"}, "limit": {"1"}})
		assert.Equal(t, id, r.Items[0].ID)
	})
	t.Run("stock-out", func(t *testing.T) {
		res := w.Put(t, "/products/"+id+"/inventory", w.seller.AccessToken, map[string]any{"stock": 0})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		w.until(t, id, "out of stock", func(h hit, ok bool) bool { return ok && !h.InStock })
		assert.Empty(t, w.search(t, "/search", url.Values{"in_stock": {"true"}}).Items)
		assert.Len(t, w.search(t, "/search", url.Values{"in_stock": {"false"}}).Items, 1)
	})
	t.Run("redelivery and a stale write change nothing", func(t *testing.T) {
		before, _ := w.find(t, id)
		pid := uuid.MustParse(id)
		require.NoError(t, w.App.Search.Refresh(context.Background(), []uuid.UUID{pid}))
		require.NoError(t, w.App.Search.Refresh(context.Background(), []uuid.UUID{pid}))
		after, _ := w.find(t, id)
		assert.Equal(t, before, after)
		// A write whose source read is older than the document's is refused.
		tag, err := w.App.Pool.Exec(context.Background(), `UPDATE search.documents SET source_at = source_at + interval '1 hour'
			WHERE product_id = $1`, pid)
		require.NoError(t, err)
		require.EqualValues(t, 1, tag.RowsAffected())
		res := w.Put(t, "/products/"+id+"/price", w.seller.AccessToken, map[string]any{"price": 260_000})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.NoError(t, w.App.Search.Refresh(context.Background(), []uuid.UUID{pid}))
		h, _ := w.find(t, id)
		assert.EqualValues(t, 200_000, h.Price, "the newer document stands")
		_, err = w.App.Pool.Exec(context.Background(), `UPDATE search.documents SET source_at = now() - interval '1 hour' WHERE product_id = $1`, pid)
		require.NoError(t, err)
		require.NoError(t, w.App.Search.Refresh(context.Background(), []uuid.UUID{pid}))
		h, _ = w.find(t, id)
		assert.EqualValues(t, 208_000, h.Price, "20% off the new price")
	})
	t.Run("delete", func(t *testing.T) {
		other := w.product(t, "other", w.hcm, map[string]any{"title": "Quần jean", "price": 400_000})
		w.until(t, other, "indexed", func(_ hit, ok bool) bool { return ok })
		res := w.Delete(t, "/products/"+other, w.seller.AccessToken)
		require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
		w.until(t, other, "deleted products disappear", func(_ hit, ok bool) bool { return !ok })
		// A refresh that read the product before its deletion does not bring it back.
		require.NoError(t, w.App.Search.Refresh(context.Background(), []uuid.UUID{uuid.MustParse(other)}))
		_, ok := w.find(t, other)
		assert.False(t, ok)
	})
	t.Run("reindex rebuilds from scratch", func(t *testing.T) {
		_, err := w.App.Pool.Exec(context.Background(), "DELETE FROM search.documents")
		require.NoError(t, err)
		n, err := w.App.Search.Reindex(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		h, ok := w.find(t, id)
		require.True(t, ok)
		assert.EqualValues(t, 208_000, h.Price)
		assert.EqualValues(t, 1, h.SoldCount, "sales survive a reindex")
	})
	t.Run("a closed shop's products disappear", func(t *testing.T) {
		res := w.Delete(t, "/shops/"+w.hcm, w.seller.AccessToken)
		require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
		w.until(t, id, "gone with its shop", func(_ hit, ok bool) bool { return !ok })
	})
}

// TestFacetsCountWhatMatches checks facet counts against a direct count of the matches.
func TestFacetsCountWhatMatches(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.catalog(t)
	type facets struct {
		Total       int  `json:"total"`
		Approximate bool `json:"approximate"`
		Categories  []struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			Count int    `json:"count"`
		} `json:"categories"`
		Brands []struct {
			Value string `json:"value"`
			Count int    `json:"count"`
		} `json:"brands"`
		PriceRanges []struct {
			Min, Max int64
			Count    int
		} `json:"price_ranges"`
		Ratings []struct {
			MinRating int `json:"min_rating"`
			Count     int `json:"count"`
		} `json:"ratings"`
		Provinces []struct {
			Value string `json:"value"`
			Count int    `json:"count"`
		} `json:"provinces"`
	}
	get := func(q string) facets {
		res := w.Get(t, "/search/filters/available?"+q, "")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var f facets
		res.JSON(t, &f)
		return f
	}
	direct := func(where string, args ...any) int {
		var n int
		require.NoError(t, w.App.Pool.QueryRow(context.Background(), "SELECT count(*) FROM search.documents d WHERE "+where, args...).Scan(&n))
		return n
	}
	f := get("q=" + url.QueryEscape("điện thoại"))
	assert.Equal(t, direct("d.tsv @@ to_tsquery('search.folded', 'dien <-> thoai')"), f.Total)
	assert.Equal(t, 3, f.Total)
	assert.False(t, f.Approximate)
	require.Len(t, f.Categories, 1)
	assert.Equal(t, w.phones, f.Categories[0].ID)
	assert.Equal(t, "Điện thoại", f.Categories[0].Name)
	assert.Equal(t, 3, f.Categories[0].Count)
	brands := map[string]int{}
	for _, b := range f.Brands {
		brands[b.Value] = b.Count
	}
	assert.Equal(t, map[string]int{"Apple": 1, "Samsung": 1}, brands)
	provinces := map[string]int{}
	for _, p := range f.Provinces {
		provinces[p.Value] = p.Count
	}
	assert.Equal(t, map[string]int{"Hà Nội": direct("d.province = 'Hà Nội' AND d.category_id = $1", w.phones),
		"Hồ Chí Minh": direct("d.province = 'Hồ Chí Minh' AND d.category_id = $1", w.phones)}, provinces)
	sum := 0
	for _, p := range f.PriceRanges {
		sum += p.Count
		assert.LessOrEqual(t, p.Min, p.Max)
	}
	assert.Equal(t, f.Total, sum, "price buckets cover every match")
	assert.EqualValues(t, 50_000, f.PriceRanges[0].Min)
	assert.EqualValues(t, 29_990_000, f.PriceRanges[len(f.PriceRanges)-1].Max)
	require.Len(t, f.Ratings, 4)
	assert.Equal(t, direct("d.rating >= 4"), f.Ratings[0].Count)

	all := get("")
	assert.Equal(t, direct("true"), all.Total)
	assert.Equal(t, 7, all.Total)
	filtered := get("province=" + url.QueryEscape("hà nội") + "&max_price=100000")
	assert.Equal(t, direct("d.province = 'Hà Nội' AND d.price <= 100000"), filtered.Total)
	for _, q := range []string{"min_price=-1", "sort=price_asc&lat=1", "filters=nope", "q=" + url.QueryEscape("\x00")} {
		res := w.Get(t, "/search/filters/available?"+q, "")
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", q, res.Body)
	}
}

// TestAutocomplete completes the word being typed from the vocabulary.
func TestAutocomplete(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.catalog(t)
	require.NoError(t, w.App.Search.RecountTerms(context.Background()))
	type completions struct {
		Items []struct {
			Text string `json:"text"`
			Kind string `json:"kind"`
		} `json:"items"`
	}
	get := func(q string) []string {
		res := w.Get(t, "/search/autocomplete?q="+url.QueryEscape(q), "")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var c completions
		res.JSON(t, &c)
		out := []string{}
		for _, it := range c.Items {
			out = append(out, it.Text)
			assert.Equal(t, "term", it.Kind)
		}
		return out
	}
	assert.Equal(t, []string{"điện"}, get("đi"))
	assert.Equal(t, []string{"điện"}, get("die"), "typed without accents")
	assert.Equal(t, []string{"ốp lưng"}, get("ốp lu"))
	assert.Contains(t, get("sa"), "samsung")
	assert.Empty(t, get("zzz"))
	for _, q := range []string{"", "limit=0&q=a", "limit=21&q=a"} {
		path := "/search/autocomplete"
		if q != "" && q[0] == 'l' {
			path += "?" + q
		} else {
			path += "?q=" + q
		}
		res := w.Get(t, path, "")
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", q, res.Body)
	}
}
