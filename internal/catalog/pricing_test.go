package catalog_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

func TestPriceAndHistory(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := w.product(t, map[string]any{"title": "Giày", "variants": []map[string]any{
		{"name": "39", "price": 500000, "stock": 1}, {"name": "40", "price": 520000, "stock": 1},
	}})
	id := p["id"].(string)
	v40 := variantID(p, 1)

	assert.Equal(t, http.StatusForbidden, w.Put(t, "/products/"+id+"/price", w.other.AccessToken, map[string]any{"price": 1}).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Put(t, "/products/"+id+"/price", "", map[string]any{"price": 1}).Status)
	assert.Equal(t, "price", field(t, w.Put(t, "/products/"+id+"/price", w.owner.AccessToken, map[string]any{"price": 0})))
	assert.Equal(t, "price", field(t, w.Put(t, "/products/"+id+"/price", w.owner.AccessToken, map[string]any{"price": "cheap"})))
	assert.Equal(t, "variant_id", field(t, w.Put(t, "/products/"+id+"/price", w.owner.AccessToken,
		map[string]any{"price": 1, "variant_id": uuid.NewString()})))
	assert.Equal(t, http.StatusBadRequest, w.Put(t, "/products/"+id+"/price", w.owner.AccessToken, "{").Status)
	assert.Equal(t, http.StatusNotFound, w.Put(t, "/products/"+uuid.NewString()+"/price", w.owner.AccessToken, map[string]any{"price": 1}).Status)

	// One variant, then every variant.
	res := w.Put(t, "/products/"+id+"/price", w.owner.AccessToken, map[string]any{"price": 450000, "variant_id": v40})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.EqualValues(t, 450000, res.Map(t)["price"])
	res = w.Put(t, "/products/"+id+"/price", w.owner.AccessToken, map[string]any{"price": 600000})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	got := res.Map(t)
	assert.EqualValues(t, 600000, got["price"])
	for _, v := range got["variants"].([]any) {
		assert.EqualValues(t, 600000, v.(map[string]any)["price"])
	}

	// Every change is in the history, newest first, with who made it; anyone may read it.
	hist := items(t, w.Get(t, "/products/"+id+"/price-history", ""))
	var list []map[string]any
	for _, h := range hist {
		if h["kind"] == "list" {
			list = append(list, h)
		}
	}
	require.Len(t, list, 3, "%v", hist)
	assert.ElementsMatch(t, []any{450000.0, 500000.0}, []any{list[0]["old_price"], list[1]["old_price"]})
	assert.EqualValues(t, 600000, list[0]["new_price"])
	assert.Equal(t, w.owner.ID, list[0]["changed_by"])
	assert.Equal(t, "VND", list[0]["currency"])
	assert.Equal(t, v40, list[2]["variant_id"])
	assert.EqualValues(t, 520000, list[2]["old_price"])
	assert.Len(t, hist, 6, "each list change moved the effective price too")

	page := w.Get(t, "/products/"+id+"/price-history?limit=4", "").Map(t)
	require.Len(t, page["items"], 4)
	rest := items(t, w.Get(t, "/products/"+id+"/price-history?limit=4&cursor="+page["next_cursor"].(string), ""))
	assert.Len(t, rest, 2)
	assert.Equal(t, "cursor", field(t, w.Get(t, "/products/"+id+"/price-history?cursor=zzz", "")))
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/"+uuid.NewString()+"/price-history", "").Status)
}

// stored reads the stored effective price that price filters and sorts use, through the API:
// the product is in a max_price list exactly when its stored price is at most max.
func stored(t *testing.T, w *world, id string, max int) bool {
	t.Helper()
	for _, it := range items(t, w.Get(t, path("/products?shop=%s&max_price=%d", w.shop, max), "")) {
		if it["id"] == id {
			return true
		}
	}
	return false
}

func TestDiscountFollowsSchedule(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := w.product(t, productBody("Máy xay", 1_000_000))
	id := p["id"].(string)

	// 20% off from now until a second from now: in force at once, then River ends it.
	now := time.Now().UTC()
	res := w.Post(t, "/products/"+id+"/discount", w.owner.AccessToken, map[string]any{
		"percent": 20, "ends_at": now.Add(time.Second).Format(time.RFC3339Nano)})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	d := res.Map(t)
	assert.EqualValues(t, 20, d["percent"])
	assert.Equal(t, true, d["active"])
	got := w.Get(t, "/products/"+id, "").Map(t)
	assert.EqualValues(t, 800_000, got["price"])
	assert.EqualValues(t, 1_000_000, got["list_price"])
	assert.Equal(t, true, got["on_sale"])
	assert.True(t, stored(t, w, id, 800_000), "the stored price moved at once")
	apptest.Eventually(t, func() bool { return !stored(t, w, id, 800_000) }, "the end job restores the stored price")
	got = w.Get(t, "/products/"+id, "").Map(t)
	assert.EqualValues(t, 1_000_000, got["price"])
	assert.Nil(t, got["discount"], "the ended discount is cleared")

	// A sale price starting a second from now: reads follow the clock, the stored price the job.
	res = w.Post(t, "/products/"+id+"/discount", w.owner.AccessToken, map[string]any{"sale_price": 750_000,
		"starts_at": time.Now().Add(time.Second).Format(time.RFC3339Nano), "ends_at": time.Now().Add(time.Hour).Format(time.RFC3339Nano)})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	assert.Equal(t, false, res.Map(t)["active"])
	apptest.Eventually(t, func() bool { return stored(t, w, id, 750_000) }, "the start job lowers the stored price")
	got = w.Get(t, "/products/"+id, "").Map(t)
	assert.EqualValues(t, 750_000, got["price"])
	assert.Equal(t, true, got["discount"].(map[string]any)["active"])

	// Ending it puts the price back at once; there is then nothing left to end.
	assert.Equal(t, http.StatusForbidden, w.Delete(t, "/products/"+id+"/discount", w.other.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Delete(t, "/products/"+id+"/discount", "").Status)
	require.Equal(t, http.StatusNoContent, w.Delete(t, "/products/"+id+"/discount", w.owner.AccessToken).Status)
	assert.EqualValues(t, 1_000_000, w.Get(t, "/products/"+id, "").Map(t)["price"])
	assert.False(t, stored(t, w, id, 999_999))
	assert.Equal(t, http.StatusNotFound, w.Delete(t, "/products/"+id+"/discount", w.owner.AccessToken).Status)

	reasons := map[string]bool{}
	for _, h := range items(t, w.Get(t, "/products/"+id+"/price-history", "")) {
		reasons[h["reason"].(string)] = true
	}
	for _, r := range []string{"discount_set", "discount_ended", "discount_started"} {
		assert.True(t, reasons[r], "history records %s: %v", r, reasons)
	}
}

func TestDiscountRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := w.product(t, map[string]any{"title": "Bàn phím", "variants": []map[string]any{
		{"name": "Đen", "price": 900_000, "stock": 1}, {"name": "Trắng", "price": 950_000, "stock": 1},
	}})
	id, white := p["id"].(string), variantID(p, 1)
	later := time.Now().Add(time.Hour).Format(time.RFC3339)
	url := "/products/" + id + "/discount"

	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"neither":          {map[string]any{"ends_at": later}, "percent"},
		"both":             {map[string]any{"percent": 10, "sale_price": 1, "ends_at": later}, "percent"},
		"percent range":    {map[string]any{"percent": 100, "ends_at": later}, "percent"},
		"no end":           {map[string]any{"percent": 10}, "ends_at"},
		"past end":         {map[string]any{"percent": 10, "ends_at": "2020-01-01T00:00:00Z"}, "ends_at"},
		"end before start": {map[string]any{"percent": 10, "starts_at": later, "ends_at": time.Now().Add(time.Minute).Format(time.RFC3339)}, "ends_at"},
		"not a sale":       {map[string]any{"sale_price": 920_000, "ends_at": later}, "sale_price"},
		"foreign variant":  {map[string]any{"percent": 10, "variant_id": uuid.NewString(), "ends_at": later}, "variant_id"},
		"percent type":     {map[string]any{"percent": "10", "ends_at": later}, "percent"},
	} {
		assert.Equal(t, c.field, field(t, w.Post(t, url, w.owner.AccessToken, c.body)), name)
	}
	assert.Equal(t, http.StatusBadRequest, w.Post(t, url, w.owner.AccessToken, map[string]any{"percent": 1, "ends_at": "tomorrow"}).Status)
	assert.Equal(t, http.StatusBadRequest, w.Post(t, url, w.owner.AccessToken, "{").Status)
	assert.Equal(t, http.StatusForbidden, w.Post(t, url, w.other.AccessToken, map[string]any{"percent": 10, "ends_at": later}).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Post(t, url, "", map[string]any{"percent": 10, "ends_at": later}).Status)
	assert.Equal(t, http.StatusNotFound, w.Post(t, "/products/"+uuid.NewString()+"/discount", w.owner.AccessToken,
		map[string]any{"percent": 10, "ends_at": later}).Status)

	// A sale price for one variant: only that variant's price moves; the product's is the lowest.
	res := w.Post(t, url, w.owner.AccessToken, map[string]any{"sale_price": 800_000, "variant_id": white, "ends_at": later})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	got := w.Get(t, "/products/"+id, "").Map(t)
	assert.EqualValues(t, 800_000, got["price"])
	vs := got["variants"].([]any)
	assert.EqualValues(t, 900_000, vs[0].(map[string]any)["price"])
	assert.EqualValues(t, 800_000, vs[1].(map[string]any)["price"])
	assert.EqualValues(t, 950_000, vs[1].(map[string]any)["list_price"])

	// A new discount replaces the old one; percentages round the price down.
	res = w.Post(t, url, w.admin.AccessToken, map[string]any{"percent": 33, "ends_at": later})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	got = w.Get(t, "/products/"+id, "").Map(t)
	assert.EqualValues(t, 603_000, got["price"])
	assert.EqualValues(t, 636_500, got["variants"].([]any)[1].(map[string]any)["price"])
	// A list price change keeps the percentage.
	require.Equal(t, http.StatusOK, w.Put(t, "/products/"+id+"/price", w.owner.AccessToken, map[string]any{"price": 1_000_001}).Status)
	assert.EqualValues(t, 670_000, w.Get(t, "/products/"+id, "").Map(t)["price"])
	assert.True(t, stored(t, w, id, 670_000))
}
