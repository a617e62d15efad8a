package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// fakeMeili speaks the part of Meilisearch's documented HTTP API the adapter uses: settings
// (PATCH /indexes/{uid}/settings), documents added (POST /indexes/{uid}/documents) and deleted
// (POST /indexes/{uid}/documents/delete-batch), each answered 202 with a task, and search
// (POST /indexes/{uid}/search). It keeps what it was sent; a search answers every stored
// document (by id, from offset, up to limit) with the facet distribution of them all, so that
// the tests check the requests the adapter makes and how it reads the answers.
type fakeMeili struct {
	srv      *httptest.Server
	mu       sync.Mutex
	docs     map[string]map[string]any
	settings []map[string]any
	searches []map[string]any
	deleted  []string
	cleared  int
	task     int
}

func newFakeMeili(t *testing.T, index string) *fakeMeili {
	f := &fakeMeili{docs: map[string]map[string]any{}}
	mux := http.NewServeMux()
	accepted := func(w http.ResponseWriter, kind string) {
		f.task++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]any{"taskUid": f.task, "indexUid": index, "status": "enqueued", "type": kind,
			"enqueuedAt": time.Now().UTC().Format(time.RFC3339Nano)})
	}
	decode := func(r *http.Request, v any) {
		body, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(body, v), "%s", body)
	}
	mux.HandleFunc("PATCH /indexes/"+index+"/settings", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var s map[string]any
		decode(r, &s)
		f.settings = append(f.settings, s)
		accepted(w, "settingsUpdate")
	})
	mux.HandleFunc("POST /indexes/"+index+"/documents", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		assert.Equal(t, "id", r.URL.Query().Get("primaryKey"))
		var docs []map[string]any
		decode(r, &docs)
		for _, d := range docs {
			f.docs[d["id"].(string)] = d
		}
		accepted(w, "documentAdditionOrUpdate")
	})
	mux.HandleFunc("POST /indexes/"+index+"/documents/delete-batch", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var ids []string
		decode(r, &ids)
		for _, id := range ids {
			delete(f.docs, id)
		}
		f.deleted = append(f.deleted, ids...)
		accepted(w, "documentDeletion")
	})
	mux.HandleFunc("DELETE /indexes/"+index+"/documents", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.docs = map[string]map[string]any{}
		f.cleared++
		accepted(w, "documentDeletion")
	})
	mux.HandleFunc("POST /indexes/"+index+"/search", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var req map[string]any
		decode(r, &req)
		f.searches = append(f.searches, req)
		ids := make([]string, 0, len(f.docs))
		for id := range f.docs {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		offset, _ := req["offset"].(float64)
		limit, ok := req["limit"].(float64)
		if !ok {
			limit = 20
		}
		if perPage, ok := req["hitsPerPage"].(float64); ok {
			limit = perPage
		}
		hits := []map[string]any{}
		dist := map[string]map[string]int{}
		minPrice, maxPrice := 0.0, 0.0
		for i, id := range ids {
			d := f.docs[id]
			for _, facet := range []string{"category", "brand", "province", "rating_floor"} {
				if dist[facet] == nil {
					dist[facet] = map[string]int{}
				}
				if v := fmt.Sprint(d[facet]); v != "" {
					dist[facet][v]++
				}
			}
			p := d["price"].(float64)
			if i == 0 || p < minPrice {
				minPrice = p
			}
			maxPrice = max(maxPrice, p)
			if i >= int(offset) && len(hits) < int(limit) {
				h := map[string]any{"_rankingScore": 0.5, "_formatted": map[string]any{"title": "<em>" + d["title"].(string) + "</em>"}}
				for k, v := range d {
					h[k] = v
				}
				hits = append(hits, h)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"hits": hits, "estimatedTotalHits": len(ids), "totalHits": len(ids), "offset": offset, "limit": limit,
			"processingTimeMs": 1, "query": req["q"], "facetDistribution": dist,
			"facetStats": map[string]any{"price": map[string]any{"min": minPrice, "max": maxPrice}}})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeMeili) lastSearch() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.searches[len(f.searches)-1]
}

func (f *fakeMeili) doc(id string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.docs[id]
}

// TestMeilisearchEngine runs the search routes on the Meilisearch engine against a fake
// Meilisearch: settings applied at start, documents copied by River jobs as products are
// written and removed as they go, and the routes' filters, sorts, cursors and facets turned into
// its requests and read back from its answers.
func TestMeilisearchEngine(t *testing.T) {
	t.Parallel()
	fake := newFakeMeili(t, "products")
	w := newWorld(t, apptest.WithEnv("MEILI_URL", fake.srv.URL), apptest.WithEnv("MEILI_API_KEY", "test-key"))
	w.catalog(t)

	t.Run("settings are applied at start", func(t *testing.T) {
		apptest.Eventually(t, func() bool { fake.mu.Lock(); defer fake.mu.Unlock(); return len(fake.settings) > 0 }, "settings")
		fake.mu.Lock()
		s := fake.settings[0]
		fake.mu.Unlock()
		assert.Contains(t, s["filterableAttributes"], "attrs")
		assert.Contains(t, s["filterableAttributes"], "_geo")
		assert.Contains(t, s["sortableAttributes"], "price")
		assert.Contains(t, s["searchableAttributes"], "title")
		assert.Equal(t, true, s["typoTolerance"].(map[string]any)["enabled"])
		assert.Equal(t, []any{"điện thoại"}, s["synonyms"].(map[string]any)["dt"])
	})
	t.Run("documents are copied as they are written", func(t *testing.T) {
		d := fake.doc(w.ids["iphone"])
		require.NotNil(t, d)
		assert.Equal(t, "apple", d["brand_key"])
		assert.Equal(t, "a3106", d["model_key"])
		assert.Equal(t, "ho chi minh", d["province_key"])
		assert.Contains(t, d["category_ids"], w.phones)
		assert.EqualValues(t, 29_990_000, d["price"])
		assert.Contains(t, fake.doc(w.ids["shirt"])["attrs"], "color=white")
	})
	t.Run("filters, sort and cursor become its request", func(t *testing.T) {
		params := url.Values{"q": {"iPhone"}, "brand": {"Apple"}, "province": {"Hồ Chí Minh"}, "attr.color": {"White"},
			"min_price": {"1"}, "in_stock": {"true"}, "category": {w.phones}, "sort": {"price_asc"}, "limit": {"2"}}
		r := w.search(t, "/search", params)
		req := fake.lastSearch()
		assert.Equal(t, "iPhone", req["q"])
		assert.ElementsMatch(t, []any{`category_ids = "` + w.phones + `"`, `brand_key = "apple"`, `price >= 1`, `in_stock = true`,
			`province_key = "ho chi minh"`, `attrs = "color=white"`}, req["filter"])
		assert.Equal(t, []any{"price:asc"}, req["sort"])
		assert.EqualValues(t, 3, req["limit"], "one more than the page, to know whether another follows")
		require.Len(t, r.Items, 2)
		require.NotEmpty(t, r.NextCursor)
		assert.True(t, strings.HasPrefix(r.Items[0].Highlight, "<em>"))
		params.Set("cursor", r.NextCursor)
		w.search(t, "/search", params)
		assert.EqualValues(t, 2, fake.lastSearch()["offset"])
		params.Set("sort", "newest")
		res := w.Get(t, "/search?"+params.Encode(), "")
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "a cursor of another sort: %s", res.Body)
	})
	t.Run("facets come from its facet distribution", func(t *testing.T) {
		res := w.Get(t, "/search/filters/available?q=dien+thoai", "")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var f struct {
			Total      int `json:"total"`
			Categories []struct {
				ID    string `json:"id"`
				Name  string `json:"name"`
				Count int    `json:"count"`
			} `json:"categories"`
			Brands      []struct{ Value string }   `json:"brands"`
			PriceRanges []struct{ Min, Max int64 } `json:"price_ranges"`
			Ratings     []struct{ Count int }      `json:"ratings"`
		}
		res.JSON(t, &f)
		assert.Equal(t, len(w.ids), f.Total)
		require.NotEmpty(t, f.Categories)
		assert.Equal(t, w.phones, f.Categories[0].ID)
		assert.Equal(t, 3, f.Categories[0].Count)
		assert.Equal(t, []int64{50_000, 29_990_000}, []int64{f.PriceRanges[0].Min, f.PriceRanges[0].Max})
		assert.Len(t, f.Ratings, 4)
		assert.Contains(t, fake.lastSearch()["facets"], "brand")
		assert.EqualValues(t, 0, fake.lastSearch()["hitsPerPage"], "counts only")
	})
	t.Run("reindex empties the index and fills it again", func(t *testing.T) {
		n, err := w.App.Search.Reindex(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, len(w.ids), n)
		apptest.Eventually(t, func() bool {
			fake.mu.Lock()
			defer fake.mu.Unlock()
			return fake.cleared == 1 && len(fake.docs) == len(w.ids)
		}, "the index holds the catalog again")
	})
	t.Run("a deleted product is removed from the index", func(t *testing.T) {
		res := w.Delete(t, "/products/"+w.ids["non-la"], w.seller.AccessToken)
		require.Less(t, res.Status, 300, "%s", res.Body)
		apptest.Eventually(t, func() bool {
			fake.mu.Lock()
			defer fake.mu.Unlock()
			return slices.Contains(fake.deleted, w.ids["non-la"])
		}, "the product leaves the index")
	})
}

// TestRealMeilisearch runs the engine against the Meilisearch at MEILI_URL (with MEILI_API_KEY),
// in an index of its own.
func TestRealMeilisearch(t *testing.T) {
	base := os.Getenv("MEILI_URL")
	if base == "" {
		t.Skip("MEILI_URL is not set: no Meilisearch to test against")
	}
	t.Parallel()
	index := "goshop_test_" + strconv.FormatInt(time.Now().UnixNano(), 36) + "_" + uuid.NewString()[:6]
	w := newWorld(t, apptest.WithEnv("MEILI_URL", base), apptest.WithEnv("MEILI_API_KEY", os.Getenv("MEILI_API_KEY")),
		apptest.WithEnv("MEILI_INDEX", index))
	w.catalog(t)
	apptest.Eventually(t, func() bool {
		return slices.Equal(w.labels(w.search(t, "/search", url.Values{"q": {"dien thoai"}, "category": {w.phones}, "sort": {"price_asc"}})),
			[]string{"op-lung", "samsung"})
	}, "Meilisearch finds the phones without diacritics")
	r := w.search(t, "/search", url.Values{"q": {"iphnoe"}})
	assert.Contains(t, w.labels(r), "iphone", "typo tolerance")
}
