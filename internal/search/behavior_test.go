package search_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

func (w *world) as(t *testing.T, method, path string, token, device string, body any) *apptest.Response {
	t.Helper()
	h := map[string]string{}
	if device != "" {
		h["X-Device-ID"] = device
	}
	return w.Do(t, apptest.Req{Method: method, Path: path, Token: token, Body: body, Header: h})
}

// TestBehaviour records views, searches and clicks for users and devices, lists the caller's own
// recent products and searches, counts daily views, and forgets a deleted user.
func TestBehaviour(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.catalog(t)
	alice, bob := w.Register(t, "Alice"), w.Register(t, "Bob")
	device := "device-" + uuid.NewString()[:8]
	view := func(token, device, label string) *apptest.Response {
		return w.as(t, http.MethodPost, "/behavior/view-product", token, device, map[string]any{"product_id": w.ids[label]})
	}
	for _, l := range []string{"iphone", "samsung", "iphone", "shirt"} {
		res := view(alice.AccessToken, "", l)
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	}
	require.Equal(t, http.StatusAccepted, view("", device, "non-la").Status)
	require.Equal(t, http.StatusAccepted, view(bob.AccessToken, device, "ban-go").Status, "signed in, the device is ignored")
	for _, q := range []string{"Điện  thoại", "áo", "điện thoại"} {
		res := w.as(t, http.MethodPost, "/behavior/search", alice.AccessToken, "", map[string]any{"query": q, "results": 3})
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	}
	res := w.as(t, http.MethodPost, "/behavior/click", "", device, map[string]any{"product_id": w.ids["iphone"], "query": "iphone", "position": 0})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)

	t.Run("answered events are committed", func(t *testing.T) {
		// No waiting: a 202 means the batch holding the event has committed, which is what
		// makes a kill -9 lose nothing that was answered.
		var n int
		require.NoError(t, w.App.Pool.QueryRow(context.Background(), "SELECT count(*) FROM search.behavior").Scan(&n))
		assert.Equal(t, 10, n)
	})
	t.Run("recent lists are the caller's own, most recent first, without repeats", func(t *testing.T) {
		type recent struct {
			Items []struct {
				ProductID string `json:"product_id"`
				Query     string `json:"query"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		get := func(path, token, device string) recent {
			res := w.as(t, http.MethodGet, path, token, device, nil)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			var r recent
			res.JSON(t, &r)
			return r
		}
		r := get("/recent/products", alice.AccessToken, "")
		var got []string
		for _, it := range r.Items {
			got = append(got, it.ProductID)
		}
		assert.Equal(t, []string{w.ids["shirt"], w.ids["iphone"], w.ids["samsung"]}, got)
		r = get("/recent/products?limit=1", alice.AccessToken, "")
		require.Len(t, r.Items, 1)
		r = get("/recent/products?limit=2&cursor="+r.NextCursor, alice.AccessToken, "")
		require.Len(t, r.Items, 2)
		assert.Equal(t, w.ids["iphone"], r.Items[0].ProductID)
		assert.Empty(t, r.NextCursor)

		r = get("/recent/products", "", device)
		require.Len(t, r.Items, 1)
		assert.Equal(t, w.ids["non-la"], r.Items[0].ProductID)
		r = get("/recent/products", bob.AccessToken, "")
		require.Len(t, r.Items, 1)
		assert.Equal(t, w.ids["ban-go"], r.Items[0].ProductID)

		r = get("/recent/searches", alice.AccessToken, "")
		require.Len(t, r.Items, 2)
		assert.Equal(t, "điện thoại", r.Items[0].Query)
		assert.Equal(t, "áo", r.Items[1].Query)
		assert.Empty(t, get("/recent/searches", bob.AccessToken, "").Items)
	})
	t.Run("bad input", func(t *testing.T) {
		assert.Equal(t, http.StatusUnauthorized, view("", "", "iphone").Status, "neither signed in nor a device")
		assert.Equal(t, http.StatusUnauthorized, w.as(t, http.MethodGet, "/recent/products", "", "", nil).Status)
		assert.Equal(t, http.StatusUnprocessableEntity, view("", "short", "iphone").Status)
		assert.Equal(t, http.StatusUnprocessableEntity, view("", "has spaces in it", "iphone").Status)
		res := w.as(t, http.MethodPost, "/behavior/view-product", "", device, map[string]any{"product_id": uuid.NewString()})
		assert.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
		res = w.as(t, http.MethodPost, "/behavior/search", "", device, map[string]any{"query": "!!!"})
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		res = w.as(t, http.MethodPost, "/behavior/click", "", device, map[string]any{"product_id": w.ids["iphone"], "position": -1})
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	})
	t.Run("daily views per product and shop", func(t *testing.T) {
		views, err := w.App.Search.DailyViews(context.Background(), time.Now(), time.Now())
		require.NoError(t, err)
		byProduct := map[string]int64{}
		for _, v := range views {
			byProduct[v.ProductID.String()] = v.Views
		}
		assert.Equal(t, map[string]int64{w.ids["iphone"]: 2, w.ids["samsung"]: 1, w.ids["shirt"]: 1, w.ids["non-la"]: 1,
			w.ids["ban-go"]: 1}, byProduct)
		shops, err := w.App.Search.DailyShopViews(context.Background(), time.Now(), time.Now())
		require.NoError(t, err)
		byShop := map[string]int64{}
		for _, v := range shops {
			byShop[v.ShopID.String()] = v.Views
		}
		assert.Equal(t, map[string]int64{w.hcm: 4, w.hanoi: 2}, byShop)
	})
	t.Run("retention drops old raw events, and only them", func(t *testing.T) {
		_, err := w.App.Pool.Exec(context.Background(), `UPDATE search.behavior SET at = now() - interval '1000 days'
			WHERE device_id = $1 AND kind = 'click'`, device)
		require.NoError(t, err)
		n, err := w.App.Search.DropOldBehavior(context.Background())
		require.NoError(t, err)
		assert.EqualValues(t, 1, n)
		n, err = w.App.Search.DropOldBehavior(context.Background())
		require.NoError(t, err)
		assert.EqualValues(t, 0, n, "running it again drops nothing")
	})
	t.Run("deleting a user removes their behaviour", func(t *testing.T) {
		res := w.Delete(t, "/users/"+alice.ID, alice.AccessToken)
		require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
		apptest.Eventually(t, func() bool {
			var n int
			require.NoError(t, w.App.Pool.QueryRow(context.Background(), "SELECT count(*) FROM search.behavior WHERE user_id = $1",
				uuid.MustParse(alice.ID)).Scan(&n))
			return n == 0
		}, "alice's behaviour is gone")
	})
}

// TestBehaviourIngestsBursts sends many events at once from many clients: every one answered
// 202 is stored, in far fewer transactions than events.
func TestBehaviourIngestsBursts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.catalog(t)
	const clients, each = 16, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				res := w.as(t, http.MethodPost, "/behavior/view-product", "", fmt.Sprintf("burst-client-%02d", c),
					map[string]any{"product_id": w.ids["iphone"]})
				if res.Status == http.StatusAccepted {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, clients*each, ok)
	var n int
	require.NoError(t, w.App.Pool.QueryRow(context.Background(), "SELECT count(*) FROM search.behavior WHERE kind = 'view'").Scan(&n))
	assert.Equal(t, ok, n)
	var views int64
	require.NoError(t, w.App.Pool.QueryRow(context.Background(), "SELECT sum(views) FROM search.daily_views").Scan(&views))
	assert.EqualValues(t, ok, views)
}

// TestBehaviourRateLimit: one user, or one anonymous device, records at most
// BEHAVIOR_RATE_PER_MINUTE events a minute; past that 429 with Retry-After, and nobody else's
// budget is spent.
func TestBehaviourRateLimit(t *testing.T) {
	t.Parallel()
	w := newWorld(t, apptest.WithEnv("BEHAVIOR_RATE_PER_MINUTE", "3"))
	w.catalog(t)
	alice, bob := w.Register(t, "Alice"), w.Register(t, "Bob")
	deviceA, deviceB := "device-a-"+uuid.NewString()[:8], "device-b-"+uuid.NewString()[:8]
	view := func(token, device string) *apptest.Response {
		return w.as(t, http.MethodPost, "/behavior/view-product", token, device, map[string]any{"product_id": w.ids["iphone"]})
	}
	for _, who := range []struct{ token, device string }{{alice.AccessToken, ""}, {"", deviceA}} {
		for i := range 3 {
			require.Equal(t, http.StatusAccepted, view(who.token, who.device).Status, "event %d", i)
		}
		res := w.as(t, http.MethodPost, "/behavior/search", who.token, who.device, map[string]any{"query": "iphone"})
		require.Equal(t, http.StatusTooManyRequests, res.Status, "%s", res.Body)
		assert.NotEmpty(t, res.Header.Get("Retry-After"))
	}
	assert.Equal(t, http.StatusTooManyRequests, view(alice.AccessToken, deviceB).Status, "signed in, the user's budget counts, not the device's")
	assert.Equal(t, http.StatusAccepted, view(bob.AccessToken, "").Status)
	assert.Equal(t, http.StatusAccepted, view("", deviceB).Status)
	var n int
	require.NoError(t, w.App.Pool.QueryRow(context.Background(), "SELECT count(*) FROM search.behavior").Scan(&n))
	assert.Equal(t, 8, n, "refused events are not recorded")
}
