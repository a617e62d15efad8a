package search_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app"
	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/eventbus"
)

// TestPriceComparisonSimilarAndRelated checks the three ways of matching offers, the shipping
// fee to the caller's default address, similar prices and related products.
func TestPriceComparisonSimilarAndRelated(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.catalog(t)
	// The Samsung again at two other shops: by GTIN, and by brand and model.
	w.product(t, "samsung-gtin", w.hcm, map[string]any{"title": "Galaxy S24 chính hãng", "price": 18_500_000, "gtin": "8806095307812"})
	w.product(t, "op-lung-2", w.hcm, map[string]any{"title": "Ốp lưng điện thoại silicone", "price": 45_000, "category_id": w.phones})
	w.product(t, "iphone-2", w.hanoi, map[string]any{"title": "Apple iPhone 15 Pro Max", "price": 28_990_000, "brand": "apple",
		"model": "a3106", "category_id": w.phones})
	w.indexed(t)
	type comparison struct {
		Price  int64 `json:"price"`
		Offers []struct {
			ProductID   string `json:"product_id"`
			ShopName    string `json:"shop_name"`
			Price       int64  `json:"price"`
			ShippingFee *int64 `json:"shipping_fee"`
			MatchedBy   string `json:"matched_by"`
		} `json:"offers"`
	}
	compare := func(label, token string) comparison {
		res := w.Get(t, "/products/"+w.ids[label]+"/price-comparison", token)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var c comparison
		res.JSON(t, &c)
		return c
	}
	c := compare("samsung", "")
	require.Len(t, c.Offers, 1)
	assert.Equal(t, w.ids["samsung-gtin"], c.Offers[0].ProductID)
	assert.Equal(t, "gtin", c.Offers[0].MatchedBy)
	assert.Nil(t, c.Offers[0].ShippingFee, "no fee without a signed-in buyer")
	c = compare("iphone", "")
	require.Len(t, c.Offers, 1)
	assert.Equal(t, "brand_model", c.Offers[0].MatchedBy)
	assert.Equal(t, w.ids["iphone-2"], c.Offers[0].ProductID)
	c = compare("op-lung", "")
	require.Len(t, c.Offers, 1, "a close title in the same category, another shop")
	assert.Equal(t, "title", c.Offers[0].MatchedBy)
	buyer := w.Register(t, "Buyer")
	w.CreateAddress(t, buyer)
	c = compare("iphone", buyer.AccessToken)
	require.NotNil(t, c.Offers[0].ShippingFee, "the fee to the buyer's default address")
	assert.Positive(t, *c.Offers[0].ShippingFee)
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/"+uuid.NewString()+"/price-comparison", "").Status)

	type products struct {
		Items []hit `json:"items"`
	}
	list := func(path string) []string {
		res := w.Get(t, path, "")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var p products
		res.JSON(t, &p)
		return w.labels(results{Items: p.Items})
	}
	assert.Equal(t, []string{"iphone-2"}, list("/products/similar-price?product_id="+w.ids["iphone"]),
		"same category within 20%: not the 50,000 case nor the 19,990,000 phone")
	assert.Equal(t, http.StatusUnprocessableEntity, w.Get(t, "/products/similar-price", "").Status)
	assert.Equal(t, http.StatusUnprocessableEntity, w.Get(t, "/products/similar-price?product_id="+uuid.NewString(), "").Status)

	// Bought together: the shirt and the hat; related to the shirt is the hat first.
	res := w.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": w.ids["shirt"], "quantity": 1})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res = w.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": w.ids["non-la"], "quantity": 1})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res = w.Post(t, "/orders", buyer.AccessToken, map[string]any{"address_id": w.CreateAddress(t, buyer), "payment_method": "cod"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	apptest.Eventually(t, func() bool {
		got := list("/products/" + w.ids["shirt"] + "/related")
		return len(got) == 1 && got[0] == "non-la"
	}, "the hat is related to the shirt")
	rel := list("/products/" + w.ids["samsung"] + "/related")
	assert.ElementsMatch(t, []string{"iphone", "op-lung", "op-lung-2", "iphone-2"}, rel, "same category")
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/"+uuid.NewString()+"/related", "").Status)
}

// TestPriceAlerts sets alerts, fires them once when the price drops, and keeps them private.
func TestPriceAlerts(t *testing.T) {
	t.Parallel()
	var (
		mu    sync.Mutex
		fired []events.PriceAlertTriggered
	)
	env := apptest.New(t, apptest.WithHook(func(a *app.App) {
		eventbus.On(a.Bus, "test.price_alert", func(_ context.Context, _ string, ev events.PriceAlertTriggered) error {
			mu.Lock()
			defer mu.Unlock()
			fired = append(fired, ev)
			return nil
		})
	}))
	seller, alice, bob := env.Register(t, "Seller"), env.Register(t, "Alice"), env.Register(t, "Bob")
	shop := env.CreateShop(t, seller, "Shop")
	p := env.CreateProduct(t, seller, shop, "Nồi chiên không dầu", 2_000_000, 10)
	var alert map[string]any
	apptest.Eventually(t, func() bool {
		res := env.Post(t, "/price-alerts", alice.AccessToken, map[string]any{"product_id": p.ID, "target_price": 1_500_000})
		if res.Status == http.StatusCreated {
			alert = res.Map(t)
		}
		return res.Status == http.StatusCreated
	}, "the product is indexed and the alert set")
	assert.Equal(t, "active", alert["status"])
	res := env.Post(t, "/price-alerts", bob.AccessToken, map[string]any{"product_id": p.ID, "variant_id": p.VariantID, "target_price": 1_000_000})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	bobAlert := res.Map(t)["id"].(string)

	for name, body := range map[string]map[string]any{
		"not below the price": {"product_id": p.ID, "target_price": 2_000_000},
		"no product":          {"product_id": uuid.NewString(), "target_price": 1},
		"another's variant":   {"product_id": p.ID, "variant_id": uuid.NewString(), "target_price": 1},
		"zero":                {"product_id": p.ID, "target_price": 0},
	} {
		res := env.Post(t, "/price-alerts", alice.AccessToken, body)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
	}
	res = env.Post(t, "/price-alerts", alice.AccessToken, map[string]any{"product_id": p.ID, "target_price": 1_000})
	assert.Equal(t, http.StatusConflict, res.Status, "one active alert per product: %s", res.Body)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/price-alerts", "", map[string]any{"product_id": p.ID, "target_price": 1}).Status)

	list := func(u apptest.User) []map[string]any {
		res := env.Get(t, "/price-alerts", u.AccessToken)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var out []map[string]any
		for _, it := range res.Map(t)["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		return out
	}
	require.Len(t, list(alice), 1)
	assert.Equal(t, http.StatusNotFound, env.Delete(t, "/price-alerts/"+bobAlert, alice.AccessToken).Status, "another buyer's alert")

	// A discount brings the price to 1,400,000: Alice's alert fires, once; Bob's (1,000,000) waits.
	res = env.Post(t, "/products/"+p.ID+"/discount", seller.AccessToken, map[string]any{"percent": 30, "ends_at": time.Now().Add(time.Hour).UTC()})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	apptest.Eventually(t, func() bool { return list(alice)[0]["status"] == "triggered" }, "Alice's alert fires")
	assert.EqualValues(t, 1_400_000, list(alice)[0]["triggered_price"])
	assert.Equal(t, "active", list(bob)[0]["status"])
	res = env.Put(t, "/products/"+p.ID+"/price", seller.AccessToken, map[string]any{"price": 1_900_000})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = env.Put(t, "/products/"+p.ID+"/price", seller.AccessToken, map[string]any{"price": 1_800_000})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	apptest.Eventually(t, func() bool {
		res := env.Get(t, "/search?q="+"n%E1%BB%93i", "")
		return res.Status == http.StatusOK && res.Map(t)["items"].([]any)[0].(map[string]any)["price"] == float64(1_260_000)
	}, "the new price is indexed")
	mu.Lock()
	require.Len(t, fired, 1, "fired once, whatever the later changes")
	assert.Equal(t, alice.ID, fired[0].UserID)
	assert.Equal(t, int64(1_400_000), fired[0].Price)
	mu.Unlock()

	assert.Equal(t, http.StatusNoContent, env.Delete(t, "/price-alerts/"+alert["id"].(string), alice.AccessToken).Status)
	assert.Empty(t, list(alice))
	assert.Equal(t, http.StatusNotFound, env.Delete(t, "/price-alerts/"+alert["id"].(string), alice.AccessToken).Status)

	t.Run("a buyer's alerts are limited, also when set concurrently", func(t *testing.T) {
		carol := env.Register(t, "Carol")
		var ps []string
		for i := range 55 {
			ps = append(ps, env.CreateProduct(t, seller, shop, "Sản phẩm "+uuid.NewString()[:6], int64(100_000+i), 1).ID)
		}
		apptest.Eventually(t, func() bool {
			res := env.Get(t, "/search?limit=100&shop="+shop, "")
			return len(res.Map(t)["items"].([]any)) == 56
		}, "indexed")
		var wg sync.WaitGroup
		var n, limited int
		for _, id := range ps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := env.Post(t, "/price-alerts", carol.AccessToken, map[string]any{"product_id": id, "target_price": 1_000})
				mu.Lock()
				defer mu.Unlock()
				switch res.Status {
				case http.StatusCreated:
					n++
				case http.StatusTooManyRequests:
					limited++
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, 50, n)
		assert.Equal(t, 5, limited)
	})
}
