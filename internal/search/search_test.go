package search_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// world is a small labelled catalog over two shops (Hồ Chí Minh and Hà Nội).
type world struct {
	*apptest.Env
	seller apptest.User
	hcm    string
	hanoi  string
	phones string // category "Điện thoại" under "Điện tử"
	elec   string
	furn   string
	ids    map[string]string // label -> product ID
}

func newWorld(t *testing.T, opts ...apptest.Option) *world {
	t.Helper()
	env := apptest.New(t, opts...)
	w := &world{Env: env, seller: env.Register(t, "Seller"), ids: map[string]string{}}
	admin := env.Admin(t, env.Register(t, "Admin"))
	cat := func(name, parent string) string {
		path := "/products/categories"
		if parent != "" {
			path += "/" + parent + "/subcategories"
		}
		res := env.Post(t, path, admin.AccessToken, map[string]any{"name": name})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		return res.Map(t)["id"].(string)
	}
	w.elec = cat("Điện tử", "")
	w.phones = cat("Điện thoại", w.elec)
	w.furn = cat("Nội thất", "")
	w.hcm = env.CreateShop(t, w.seller, "Shop Sài Gòn")
	res := env.Post(t, "/shops", w.seller.AccessToken, map[string]any{"name": "Shop Hà Nội",
		"address": map[string]any{"line1": "1 Tràng Tiền", "district": "Hoàn Kiếm", "province": "Hà Nội"}, "lat": 21.0245, "lng": 105.8412})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	w.hanoi = res.Map(t)["id"].(string)
	return w
}

// product creates a product and returns its ID.
func (w *world) product(t *testing.T, label, shop string, body map[string]any) string {
	t.Helper()
	if _, ok := body["stock"]; !ok {
		body["stock"] = 10
	}
	res := w.Post(t, "/shops/"+shop+"/products", w.seller.AccessToken, body)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	id := res.Map(t)["id"].(string)
	w.ids[label] = id
	return id
}

type hit struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	Price     int64   `json:"price"`
	InStock   bool    `json:"in_stock"`
	SoldCount int64   `json:"sold_count"`
	Score     float64 `json:"score"`
	Highlight string  `json:"highlight"`
	Province  string  `json:"province"`
}

type results struct {
	Items      []hit  `json:"items"`
	NextCursor string `json:"next_cursor"`
	DidYouMean string `json:"did_you_mean"`
}

func (w *world) search(t *testing.T, path string, params url.Values) results {
	t.Helper()
	res := w.Get(t, path+"?"+params.Encode(), "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var r results
	res.JSON(t, &r)
	return r
}

func (w *world) labels(r results) []string {
	byID := map[string]string{}
	for l, id := range w.ids {
		byID[id] = l
	}
	out := make([]string, len(r.Items))
	for i, h := range r.Items {
		out[i] = byID[h.ID]
	}
	return out
}

// indexed waits until every labelled product is searchable (the read model follows events).
func (w *world) indexed(t *testing.T) {
	t.Helper()
	apptest.Eventually(t, func() bool {
		return len(w.search(t, "/search", url.Values{"limit": {"100"}}).Items) == len(w.ids)
	}, "every product is indexed")
}

func (w *world) catalog(t *testing.T) {
	w.product(t, "ban-go", w.hcm, map[string]any{"title": "Bàn gỗ sồi phòng khách", "price": 2_500_000, "brand": "Hòa Phát",
		"category_id": w.furn, "attributes": map[string]any{"chất liệu": "gỗ sồi", "màu": []string{"nâu", "đen"}}})
	w.product(t, "ban-hang", w.hcm, map[string]any{"title": "Sách dạy bán hàng online", "price": 120_000})
	w.product(t, "iphone", w.hcm, map[string]any{"title": "iPhone 15 Pro Max 256GB", "price": 29_990_000, "brand": "Apple",
		"model": "A3106", "category_id": w.phones})
	w.product(t, "samsung", w.hanoi, map[string]any{"title": "Điện thoại Samsung Galaxy S24", "price": 19_990_000, "brand": "Samsung",
		"model": "SM-S921", "category_id": w.phones, "gtin": "8806095307812"})
	w.product(t, "op-lung", w.hanoi, map[string]any{"title": "Ốp lưng điện thoại silicon", "price": 50_000, "category_id": w.phones,
		"description": "Phù hợp iPhone và Samsung"})
	w.product(t, "shirt", w.hcm, map[string]any{"title": "Cotton T-shirt for men", "price": 199_000, "brand": "Uniqlo",
		"attributes": map[string]any{"size": []string{"M", "L"}, "color": "white"}})
	w.product(t, "non-la", w.hanoi, map[string]any{"title": "Nón lá Huế truyền thống", "price": 80_000})
	w.indexed(t)
}

// TestRelevance is the labelled catalog's queries and their expected top results.
func TestRelevance(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.catalog(t)
	for _, c := range []struct {
		q    string
		top  []string // the first results, in order
		also []string // found too, anywhere
		none bool
	}{
		{q: "điện thoại", top: []string{"samsung", "op-lung"}},
		{q: "dien thoai", top: []string{"samsung", "op-lung"}},
		{q: "DIỆN THOẠI samsung", top: []string{"samsung"}},
		{q: "bàn", top: []string{"ban-go", "ban-hang"}},
		{q: "bán", top: []string{"ban-hang", "ban-go"}},
		{q: "dt", also: []string{"samsung", "op-lung"}},
		{q: "iphone", top: []string{"iphone", "op-lung"}},
		{q: "t-shirt", top: []string{"shirt"}},
		{q: "cotton shirt men", top: []string{"shirt"}},
		{q: "non la hue", top: []string{"non-la"}},
		{q: "apple", top: []string{"iphone"}},
		{q: "ha noi", also: []string{"samsung", "op-lung", "non-la"}},
		{q: "hcm", also: []string{"ban-go", "ban-hang", "iphone", "shirt"}},
		{q: "go soi", top: []string{"ban-go"}},
		{q: "xe máy honda", none: true},
	} {
		r := w.search(t, "/search", url.Values{"q": {c.q}})
		got := w.labels(r)
		if c.none {
			assert.Empty(t, got, "%q", c.q)
			continue
		}
		require.GreaterOrEqual(t, len(got), len(c.top), "%q found %v", c.q, got)
		if len(c.top) > 0 {
			assert.Equal(t, c.top, got[:len(c.top)], "%q", c.q)
		}
		for _, a := range c.also {
			assert.Contains(t, got, a, "%q", c.q)
		}
	}

	t.Run("a title match outranks a description match, and says where it matched", func(t *testing.T) {
		r := w.search(t, "/search", url.Values{"q": {"samsung"}})
		require.Equal(t, []string{"samsung", "op-lung"}, w.labels(r))
		assert.Greater(t, r.Items[0].Score, r.Items[1].Score)
		assert.Equal(t, "Điện thoại <em>Samsung</em> Galaxy S24", r.Items[0].Highlight)
	})
	t.Run("a typo is corrected in the same answer", func(t *testing.T) {
		r := w.search(t, "/search", url.Values{"q": {"samsumg"}})
		assert.Equal(t, "samsung", r.DidYouMean)
		assert.Equal(t, []string{"samsung", "op-lung"}, w.labels(r))
		r = w.search(t, "/search", url.Values{"q": {"iphnoe 15"}})
		assert.Equal(t, "iphone 15", r.DidYouMean)
		assert.Equal(t, []string{"iphone"}, w.labels(r))
	})
	t.Run("the aliases answer alike", func(t *testing.T) {
		a := w.search(t, "/search", url.Values{"q": {"dien thoai"}, "max_price": {"20000000"}})
		b := w.search(t, "/products/search", url.Values{"q": {"dien thoai"}, "price_max": {"20000000"}})
		c := w.search(t, "/products/filter", url.Values{"q": {"dien thoai"}, "filters": {`{"max_price":20000000}`}})
		assert.Equal(t, w.labels(a), w.labels(b))
		assert.Equal(t, w.labels(a), w.labels(c))
		assert.Len(t, a.Items, 2)
	})
}

// TestFiltersAndSorts checks each filter and sort, and cursor paging.
func TestFiltersAndSorts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.catalog(t)
	cases := []struct {
		params url.Values
		want   []string
	}{
		{url.Values{"category": {w.elec}, "sort": {"price_asc"}}, []string{"op-lung", "samsung", "iphone"}},
		{url.Values{"category": {w.phones}, "sort": {"price_desc"}}, []string{"iphone", "samsung", "op-lung"}},
		{url.Values{"shop": {w.hanoi}, "sort": {"price_asc"}}, []string{"op-lung", "non-la", "samsung"}},
		{url.Values{"brand": {"samsung"}}, []string{"samsung"}},
		{url.Values{"model": {"a3106"}}, []string{"iphone"}},
		{url.Values{"min_price": {"100000"}, "max_price": {"200000"}, "sort": {"price_asc"}}, []string{"ban-hang", "shirt"}},
		{url.Values{"province": {"ha noi"}, "sort": {"price_asc"}}, []string{"op-lung", "non-la", "samsung"}},
		{url.Values{"location": {"Hà Nội"}, "q": {"samsung"}}, []string{"samsung", "op-lung"}},
		{url.Values{"location": {"Hà Nội"}, "q": {"iphone"}}, []string{"op-lung"}},
		{url.Values{"attr.color": {"white"}}, []string{"shirt"}},
		{url.Values{"attr.size": {"L"}}, []string{"shirt"}},
		{url.Values{"attr.size": {"L"}, "attr.color": {"black"}}, []string{}},
		{url.Values{"attr.mau": {"den"}}, []string{"ban-go"}},
		{url.Values{"attr.chất liệu": {"Gỗ Sồi"}, "attr.màu": {"nâu"}}, []string{"ban-go"}},
		{url.Values{"filters": {`{"attr.chất liệu":"go soi"}`}}, []string{"ban-go"}},
		{url.Values{"filters": {`{"attr.chất liệu":"go soi"}`}, "attr.mau": {"trang"}}, []string{}},
		{url.Values{"lat": {"21.03"}, "lng": {"105.85"}, "radius_km": {"20"}, "sort": {"price_desc"}}, []string{"samsung", "non-la", "op-lung"}},
		{url.Values{"lat": {"10.78"}, "lng": {"106.70"}, "sort": {"distance"}, "q": {"apple samsung"}}, []string{}},
		{url.Values{"lat": {"21.03"}, "lng": {"105.85"}, "sort": {"distance"}, "q": {"iphone"}}, []string{"op-lung", "iphone"}},
		{url.Values{"lat": {"10.78"}, "lng": {"106.70"}, "sort": {"distance"}, "q": {"iphone"}}, []string{"iphone", "op-lung"}},
		{url.Values{"min_rating": {"4"}}, []string{}},
		{url.Values{"rating": {"0"}, "q": {"nón"}}, []string{"non-la"}},
		{url.Values{"in_stock": {"true"}, "q": {"nón"}}, []string{"non-la"}},
	}
	for _, c := range cases {
		r := w.search(t, "/search", c.params)
		got := w.labels(r)
		if c.params.Get("sort") == "" && c.params.Get("q") == "" {
			slices.Sort(got)
			slices.Sort(c.want)
		}
		assert.Equal(t, c.want, got, "%v", c.params)
	}

	t.Run("newest first without words, pages by cursor without repeats", func(t *testing.T) {
		var seen []string
		params := url.Values{"limit": {"3"}}
		for range 5 {
			r := w.search(t, "/search", params)
			seen = append(seen, w.labels(r)...)
			if r.NextCursor == "" {
				break
			}
			params.Set("cursor", r.NextCursor)
		}
		assert.Equal(t, []string{"non-la", "shirt", "op-lung", "samsung", "iphone", "ban-hang", "ban-go"}, seen)
	})
	t.Run("relevance pages by cursor", func(t *testing.T) {
		r := w.search(t, "/search", url.Values{"q": {"điện thoại"}, "limit": {"1"}})
		require.Equal(t, []string{"samsung"}, w.labels(r))
		r = w.search(t, "/search", url.Values{"q": {"điện thoại"}, "limit": {"1"}, "cursor": {r.NextCursor}})
		assert.Equal(t, []string{"op-lung"}, w.labels(r))
		r = w.search(t, "/search", url.Values{"q": {"điện thoại"}, "limit": {"1"}, "cursor": {r.NextCursor}})
		assert.Equal(t, []string{"iphone"}, w.labels(r), "the phones category matches too, below the titles")
		assert.Empty(t, r.NextCursor)
	})
	t.Run("bad input is a 422 naming the parameter", func(t *testing.T) {
		for _, q := range []string{"sort=cheapest", "min_price=-1", "min_price=5&max_price=1", "lat=10", "sort=distance",
			"radius_km=5", "min_rating=6", "limit=101", "cursor=nonsense", "filters=[1]", "filters={\"min_price\":\"x\"}",
			"attr.=x", "attr.!!!=x", "attr.color=" + strings.Repeat("x", 201), "category=not-a-uuid"} {
			res := w.Get(t, "/search?"+q, "")
			assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", q, res.Body)
		}
		r := w.search(t, "/search", url.Values{"q": {"điện thoại"}, "limit": {"1"}})
		res := w.Get(t, "/search?sort=price_asc&cursor="+url.QueryEscape(r.NextCursor), "")
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "a cursor of another sort: %s", res.Body)
	})
	t.Run("the document describes the attr.<name> parameters", func(t *testing.T) {
		res := w.Get(t, "/openapi.json", "")
		require.Equal(t, http.StatusOK, res.Status)
		var doc struct {
			Paths map[string]map[string]struct {
				Description string           `json:"description"`
				Patterns    []map[string]any `json:"x-query-patterns"`
			} `json:"paths"`
		}
		res.JSON(t, &doc)
		for _, path := range []string{"/search", "/products/search", "/products/filter", "/search/filters/available"} {
			op := doc.Paths["/api/v1"+path]["get"]
			require.Len(t, op.Patterns, 1, path)
			assert.Equal(t, "attr.{name}", op.Patterns[0]["name"], path)
			assert.Contains(t, op.Description, "`attr.{name}=<value>`", path)
		}
	})
	t.Run("advanced search", func(t *testing.T) {
		adv := func(body map[string]any) []string {
			res := w.Post(t, "/search/advanced", "", body)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			var r results
			res.JSON(t, &r)
			return w.labels(r)
		}
		assert.Equal(t, []string{"samsung", "iphone"}, adv(map[string]any{"all_of": []string{"dien thoai"}, "none_of": []string{"silicon"}}))
		got := adv(map[string]any{"any_of": []string{"iphone", "non"}, "sort": "price_asc"})
		assert.Equal(t, []string{"op-lung", "non-la", "iphone"}, got)
		assert.Equal(t, []string{"op-lung"}, adv(map[string]any{"phrase": "lưng điện"}))
		assert.Empty(t, adv(map[string]any{"phrase": "điện lưng"}))
		assert.Equal(t, []string{"iphone"}, adv(map[string]any{"fields": map[string]any{"title": "iphone"}}))
		assert.Equal(t, []string{"samsung"}, adv(map[string]any{"fields": map[string]any{"brand": "samsung"}}))
		assert.Equal(t, []string{"op-lung"}, adv(map[string]any{"all_of": []string{"điện thoại"}, "filters": map[string]any{"max_price": 100000}}))
		res := w.Post(t, "/search/advanced", "", map[string]any{"all_of": []string{"!!!"}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		res = w.Post(t, "/search/advanced", "", map[string]any{"sort": "cheapest"})
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	})
}
