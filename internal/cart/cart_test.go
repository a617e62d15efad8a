package cart_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/cart"
)

// shopWith opens a shop for a new seller with one product and returns them.
func shopWith(t *testing.T, env *apptest.Env, price, stock int64) (apptest.User, string, apptest.Product) {
	t.Helper()
	seller := env.Register(t, "Seller")
	shopID := env.CreateShop(t, seller, "Shop")
	return seller, shopID, env.CreateProduct(t, seller, shopID, "Áo thun", price, stock)
}

func num(m map[string]any, k string) int64 { return int64(m[k].(float64)) }

func TestCartLinesAndTotals(t *testing.T) {
	t.Parallel()
	env := apptest.New(t) // 10% VAT included; shipping by the shipping context's default price list
	_, shopA, shirt := shopWith(t, env, 150_000, 10)
	_, shopB, mug := shopWith(t, env, 90_000, 3)
	buyer := env.Register(t, "Buyer")

	res := env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": shirt.ID, "quantity": 2})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	line := res.Map(t)
	assert.Equal(t, shirt.VariantID, line["variant_id"])
	assert.Equal(t, shopA, line["shop_id"])
	assert.EqualValues(t, 150_000, line["unit_price"])
	assert.EqualValues(t, 300_000, line["line_total"])

	// The same variant again adds to its line.
	res = env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": shirt.ID, "variant_id": shirt.VariantID, "quantity": 1})
	require.Equal(t, http.StatusCreated, res.Status)
	assert.EqualValues(t, 3, res.Map(t)["quantity"])
	require.Equal(t, http.StatusCreated, env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": mug.ID, "quantity": 1}).Status)

	cart := env.Get(t, "/cart", buyer.AccessToken).Map(t)
	require.Len(t, cart["items"], 2)
	assert.EqualValues(t, 540_000, cart["subtotal"])
	// Without an address, each parcel pays the base without distance (15,000) and its weight
	// tier: shop A 3 × 500 g = 1.5 kg -> +10,000; shop B 500 g -> +0.
	assert.EqualValues(t, 40_000, cart["shipping_fee"])
	// Tax included: 450,000 × 10/110 = 40,909.09 -> 40,909; 90,000 × 10/110 = 8,181.8 -> 8,182.
	assert.EqualValues(t, 49_091, cart["tax"])
	assert.EqualValues(t, 580_000, cart["total"])
	assert.Equal(t, "VND", cart["currency"])
	assert.Len(t, cart["shops"], 2)
	_ = shopB

	// summary and calculate-total come from the same computation.
	for _, path := range []string{"/cart/summary", "/cart/calculate-total"} {
		s := env.Get(t, path, buyer.AccessToken).Map(t)
		for _, k := range []string{"subtotal", "shipping_fee", "tax", "total"} {
			assert.Equal(t, cart[k], s[k], "%s %s", path, k)
		}
		assert.EqualValues(t, 4, s["item_count"])
	}
	express := env.Get(t, "/cart/calculate-total?shipping_method=express", buyer.AccessToken).Map(t)
	assert.Greater(t, num(express, "shipping_fee"), num(cart, "shipping_fee"))

	// Quantities: more than in stock is refused; a change updates the line.
	lineID := line["id"].(string)
	res = env.Put(t, "/cart/items/"+lineID, buyer.AccessToken, map[string]any{"quantity": 11})
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Equal(t, "insufficient_stock", res.Code(t))
	res = env.Put(t, "/cart/items/"+lineID, buyer.AccessToken, map[string]any{"quantity": 1})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.EqualValues(t, 150_000, res.Map(t)["line_total"])

	require.Equal(t, http.StatusNoContent, env.Delete(t, "/cart/items/"+lineID, buyer.AccessToken).Status)
	assert.Len(t, env.Get(t, "/cart", buyer.AccessToken).Map(t)["items"], 1)
	require.Equal(t, http.StatusNoContent, env.Delete(t, "/cart/clear", buyer.AccessToken).Status)
	cart = env.Get(t, "/cart", buyer.AccessToken).Map(t)
	assert.Equal(t, []any{}, cart["items"])
	assert.EqualValues(t, 0, cart["total"])
}

func TestCartBadInputAndOtherBuyers(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	_, _, p := shopWith(t, env, 50_000, 5)
	buyer := env.Register(t, "Buyer")
	other := env.Register(t, "Other")
	res := env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1})
	require.Equal(t, http.StatusCreated, res.Status)
	lineID := res.Map(t)["id"].(string)

	for name, body := range map[string]any{
		"no product":       map[string]any{"quantity": 1},
		"zero quantity":    map[string]any{"product_id": p.ID, "quantity": 0},
		"huge quantity":    map[string]any{"product_id": p.ID, "quantity": 1000},
		"wrong type":       `{"product_id": "` + p.ID + `", "quantity": "two"}`,
		"variant mismatch": map[string]any{"product_id": p.ID, "variant_id": "00000000-0000-0000-0000-000000000001", "quantity": 1},
	} {
		res := env.Post(t, "/cart/items", buyer.AccessToken, body)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
	}
	assert.Equal(t, http.StatusBadRequest, env.Post(t, "/cart/items", buyer.AccessToken, `{"product_id":`).Status)
	res = env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": "00000000-0000-0000-0000-000000000001", "quantity": 1})
	assert.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	res = env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": p.ID, "quantity": 6})
	assert.Equal(t, "insufficient_stock", res.Code(t), "1 in the cart + 6 > 5 in stock")
	assert.Equal(t, http.StatusUnprocessableEntity, env.Put(t, "/cart/items/"+lineID, buyer.AccessToken, map[string]any{"quantity": -1}).Status)

	// Another buyer's line does not exist for them.
	assert.Equal(t, http.StatusNotFound, env.Put(t, "/cart/items/"+lineID, other.AccessToken, map[string]any{"quantity": 2}).Status)
	assert.Equal(t, http.StatusNotFound, env.Delete(t, "/cart/items/"+lineID, other.AccessToken).Status)
	assert.Equal(t, []any{}, env.Get(t, "/cart", other.AccessToken).Map(t)["items"])
	require.Equal(t, http.StatusNoContent, env.Delete(t, "/cart/clear", other.AccessToken).Status)
	assert.Len(t, env.Get(t, "/cart", buyer.AccessToken).Map(t)["items"], 1, "the other buyer's clear left this cart alone")

	for _, r := range []struct{ m, p string }{{"GET", "/cart"}, {"POST", "/cart/items"}, {"PUT", "/cart/items/" + lineID},
		{"DELETE", "/cart/items/" + lineID}, {"DELETE", "/cart/clear"}, {"GET", "/cart/summary"}, {"POST", "/cart/save"},
		{"GET", "/cart/saved"}, {"POST", "/cart/restore/" + lineID}, {"GET", "/cart/calculate-total"},
		{"POST", "/cart/apply-coupon"}, {"DELETE", "/cart/remove-coupon"}} {
		assert.Equal(t, http.StatusUnauthorized, env.Do(t, apptest.Req{Method: r.m, Path: r.p}).Status, r.p)
	}
	assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/cart?shipping_method=teleport", buyer.AccessToken).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/cart?address_id=home", buyer.AccessToken).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Delete(t, "/cart/remove-coupon?shop_id=mine", buyer.AccessToken).Status)

	// Shipping is priced to the buyer's own addresses only.
	mine, theirs := env.CreateAddress(t, buyer), env.CreateAddress(t, other)
	res = env.Get(t, "/cart/calculate-total?address_id="+mine, buyer.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = env.Get(t, "/cart?address_id="+theirs, buyer.AccessToken)
	assert.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
}

func TestSaveAndRestoreCarts(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	_, _, a := shopWith(t, env, 10_000, 50)
	_, _, b := shopWith(t, env, 20_000, 50)
	buyer := env.Register(t, "Buyer")
	other := env.Register(t, "Other")

	assert.Equal(t, http.StatusConflict, env.Post(t, "/cart/save", buyer.AccessToken, map[string]any{"name": "empty"}).Status)
	env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": a.ID, "quantity": 2})
	res := env.Post(t, "/cart/save", buyer.AccessToken, map[string]any{"name": "Tết shopping"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	saved := res.Map(t)
	assert.EqualValues(t, 2, saved["item_count"])
	assert.Equal(t, http.StatusUnprocessableEntity, env.Post(t, "/cart/save", buyer.AccessToken, map[string]any{"name": 5}).Status)

	list := env.Get(t, "/cart/saved", buyer.AccessToken).Map(t)
	require.Len(t, list["items"], 1)
	assert.Len(t, env.Get(t, "/cart/saved", other.AccessToken).Map(t)["items"], 0)

	// Change the cart, then restore: replace by default, merge on request.
	require.Equal(t, http.StatusNoContent, env.Delete(t, "/cart/clear", buyer.AccessToken).Status)
	env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": b.ID, "quantity": 1})
	res = env.Post(t, "/cart/restore/"+saved["id"].(string)+"?mode=merge", buyer.AccessToken, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Len(t, res.Map(t)["items"], 2)
	res = env.Post(t, "/cart/restore/"+saved["id"].(string), buyer.AccessToken, nil)
	require.Equal(t, http.StatusOK, res.Status)
	items := res.Map(t)["items"].([]any)
	require.Len(t, items, 1)
	assert.Equal(t, a.VariantID, items[0].(map[string]any)["variant_id"])

	assert.Equal(t, http.StatusNotFound, env.Post(t, "/cart/restore/"+saved["id"].(string), other.AccessToken, nil).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Post(t, "/cart/restore/"+saved["id"].(string)+"?mode=shuffle", buyer.AccessToken, nil).Status)
}

func TestCartCouponsAndCampaignPrices(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	seller, shopID, p := shopWith(t, env, 200_000, 20)
	buyer := env.Register(t, "Buyer")
	now := time.Now().UTC()
	res := env.Post(t, "/shops/"+shopID+"/promotions", seller.AccessToken, map[string]any{
		"code": "TET10", "name": "Tết 10%", "type": "percentage", "value": 10, "max_discount": 30_000, "min_spend": 100_000,
		"starts_at": now.Add(-time.Hour), "ends_at": now.Add(24 * time.Hour),
	})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

	env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": p.ID, "quantity": 2})
	res = env.Post(t, "/cart/apply-coupon", buyer.AccessToken, map[string]any{"code": "tet10"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	c := res.Map(t)
	assert.EqualValues(t, 30_000, c["discount"], "10% of 400,000 capped at 30,000")
	assert.Equal(t, "TET10", c["coupon"])
	assert.EqualValues(t, 400_000-30_000+20_000, c["total"], "1 kg ships for 15,000 + 5,000")

	res = env.Post(t, "/cart/apply-coupon", buyer.AccessToken, map[string]any{"code": "NOPE"})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Post(t, "/cart/apply-coupon", buyer.AccessToken, map[string]any{}).Status)

	res = env.Delete(t, "/cart/remove-coupon", buyer.AccessToken)
	require.Equal(t, http.StatusOK, res.Status)
	assert.EqualValues(t, 0, res.Map(t)["discount"])
	assert.Equal(t, http.StatusNotFound, env.Delete(t, "/cart/remove-coupon", buyer.AccessToken).Status)

	// A flash sale running now prices the line at the campaign price.
	res = env.Post(t, "/shops/"+shopID+"/campaigns", seller.AccessToken, map[string]any{
		"name": "Flash 12.12", "starts_at": now.Add(-time.Minute), "ends_at": now.Add(time.Hour),
		"items": []map[string]any{{"variant_id": p.VariantID, "campaign_price": 150_000, "campaign_stock": 5}},
	})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	campaign := res.Map(t)
	assert.Equal(t, "draft", campaign["status"])
	assert.EqualValues(t, 200_000, env.Get(t, "/cart", buyer.AccessToken).Map(t)["items"].([]any)[0].(map[string]any)["unit_price"],
		"a draft campaign prices nothing")
	res = env.Put(t, "/shops/"+shopID+"/campaigns/"+campaign["id"].(string)+"/status", seller.AccessToken, map[string]any{"status": "scheduled"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "active", res.Map(t)["status"], "scheduling a campaign whose start has passed starts it")
	line := env.Get(t, "/cart", buyer.AccessToken).Map(t)["items"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 150_000, line["unit_price"])
	assert.EqualValues(t, 200_000, line["regular_price"])
}

// TestCartFollowsSalePricesAndOutlivesRedis: lines are priced at the effective price now (a
// running sale), and the cart lives in PostgreSQL, so losing every Redis key loses no line.
func TestCartFollowsSalePricesAndOutlivesRedis(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	seller, _, p := shopWith(t, env, 200_000, 10)
	buyer := env.Register(t, "Buyer")
	require.Equal(t, http.StatusCreated, env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1}).Status)

	res := env.Post(t, "/products/"+p.ID+"/discount", seller.AccessToken, map[string]any{"percent": 25, "ends_at": time.Now().Add(time.Hour).UTC()})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	line := env.Get(t, "/cart", buyer.AccessToken).Map(t)["items"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 150_000, line["unit_price"])
	assert.EqualValues(t, 200_000, line["regular_price"])

	ctx := t.Context()
	keys, err := env.App.Redis.Keys(ctx, env.App.Cfg.RedisPrefix+"*").Result()
	require.NoError(t, err)
	if len(keys) > 0 {
		require.NoError(t, env.App.Redis.Del(ctx, keys...).Err())
	}
	cart := env.Get(t, "/cart", buyer.AccessToken).Map(t)
	assert.Len(t, cart["items"], 1)
	assert.EqualValues(t, 150_000, cart["subtotal"])
}

// TestConcurrentAddsKeepCartLimits sends adds at once, each in its own goroutine through the
// API: the line limit, a line's quantity cap and the saved-cart limit hold however they
// interleave, and every add either succeeds or is refused with a 4xx, never a 500.
func TestConcurrentAddsKeepCartLimits(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	seller, shopID, first := shopWith(t, env, 10_000, 5000)
	products := []apptest.Product{first}
	for i := range 7 {
		products = append(products, env.CreateProduct(t, seller, shopID, fmt.Sprintf("Món %d", i), 10_000, 5000))
	}
	ctx := t.Context()
	// at runs fn n times at once and returns the answers' statuses.
	at := func(n int, fn func(i int) *apptest.Response) map[int]int {
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			start  = make(chan struct{})
			counts = map[int]int{}
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res := fn(i)
				mu.Lock()
				counts[res.Status]++
				mu.Unlock()
			}()
		}
		close(start)
		wg.Wait()
		return counts
	}

	t.Run("lines", func(t *testing.T) {
		buyer := env.Register(t, "Buyer")
		// Two lines short of the limit (lines of variants the catalog no longer knows do count).
		_, err := env.App.Pool.Exec(ctx, `INSERT INTO cart.items (user_id, variant_id, product_id, shop_id, quantity)
			SELECT $1, gen_random_uuid(), gen_random_uuid(), $2, 1 FROM generate_series(1, $3)`, buyer.ID, shopID, cart.MaxLines-2)
		require.NoError(t, err)
		got := at(len(products), func(i int) *apptest.Response {
			return env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": products[i].ID, "quantity": 1})
		})
		assert.Equal(t, map[int]int{http.StatusCreated: 2, http.StatusConflict: len(products) - 2}, got)
		var n int
		require.NoError(t, env.App.Pool.QueryRow(ctx, "SELECT count(*) FROM cart.items WHERE user_id = $1", buyer.ID).Scan(&n))
		assert.Equal(t, cart.MaxLines, n)
	})

	t.Run("quantity", func(t *testing.T) {
		buyer := env.Register(t, "Buyer")
		got := at(8, func(int) *apptest.Response {
			return env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": first.ID, "quantity": 200})
		})
		assert.Equal(t, map[int]int{http.StatusCreated: 4, http.StatusUnprocessableEntity: 4}, got, "4 × 200 fit under 999")
		var qty int
		require.NoError(t, env.App.Pool.QueryRow(ctx, "SELECT quantity FROM cart.items WHERE user_id = $1", buyer.ID).Scan(&qty))
		assert.Equal(t, 800, qty)
	})

	t.Run("saved carts", func(t *testing.T) {
		buyer := env.Register(t, "Buyer")
		require.Equal(t, http.StatusCreated, env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": first.ID, "quantity": 1}).Status)
		_, err := env.App.Pool.Exec(ctx, `INSERT INTO cart.saved_carts (user_id, name)
			SELECT $1, 'old ' || g FROM generate_series(1, $2) g`, buyer.ID, cart.MaxSavedCarts-2)
		require.NoError(t, err)
		got := at(6, func(i int) *apptest.Response {
			return env.Post(t, "/cart/save", buyer.AccessToken, map[string]any{"name": fmt.Sprintf("new %d", i)})
		})
		assert.Equal(t, map[int]int{http.StatusCreated: 2, http.StatusConflict: 4}, got)
	})

	t.Run("restore past the limit", func(t *testing.T) {
		buyer := env.Register(t, "Buyer")
		for _, p := range products[:2] {
			require.Equal(t, http.StatusCreated, env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1}).Status)
		}
		res := env.Post(t, "/cart/save", buyer.AccessToken, map[string]any{"name": "two"})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		saved := res.Map(t)["id"].(string)
		require.Equal(t, http.StatusNoContent, env.Delete(t, "/cart/clear", buyer.AccessToken).Status)
		_, err := env.App.Pool.Exec(ctx, `INSERT INTO cart.items (user_id, variant_id, product_id, shop_id, quantity)
			SELECT $1, gen_random_uuid(), gen_random_uuid(), $2, 1 FROM generate_series(1, $3)`, buyer.ID, shopID, cart.MaxLines-1)
		require.NoError(t, err)
		res = env.Post(t, "/cart/restore/"+saved+"?mode=merge", buyer.AccessToken, nil)
		assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
		var n int
		require.NoError(t, env.App.Pool.QueryRow(ctx, "SELECT count(*) FROM cart.items WHERE user_id = $1", buyer.ID).Scan(&n))
		assert.Equal(t, cart.MaxLines-1, n, "a refused merge changes nothing")
	})
}

// TestCartOfAClosedShop: a shop closing does not break its buyers' carts: the cart still
// answers, its line says it cannot be bought, and nothing ships from the closed shop.
func TestCartOfAClosedShop(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	seller, shopID, p := shopWith(t, env, 100_000, 5)
	_, _, q := shopWith(t, env, 50_000, 5)
	buyer := env.Register(t, "Buyer")
	for _, id := range []string{p.ID, q.ID} {
		require.Equal(t, http.StatusCreated, env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": id, "quantity": 1}).Status)
	}
	require.Equal(t, http.StatusNoContent, env.Delete(t, "/shops/"+shopID, seller.AccessToken).Status)

	var cart map[string]any
	apptest.Eventually(t, func() bool {
		res := env.Get(t, "/cart", buyer.AccessToken)
		if res.Status != http.StatusOK {
			return false
		}
		cart = res.Map(t)
		return cart["purchasable"] == false
	}, "the cart answers, and says it cannot be bought as it is")
	for _, it := range cart["items"].([]any) {
		line := it.(map[string]any)
		if line["shop_id"] == shopID {
			assert.Equal(t, false, line["available"])
			assert.NotEmpty(t, line["problem"])
		} else {
			assert.Equal(t, true, line["available"])
		}
	}
	for _, g := range cart["shops"].([]any) {
		group := g.(map[string]any)
		if group["shop_id"] == shopID {
			assert.EqualValues(t, 0, group["shipping_fee"], "nothing ships from a closed shop")
		} else {
			assert.Positive(t, num(group, "shipping_fee"))
		}
	}
	for _, path := range []string{"/cart/summary", "/cart/calculate-total"} {
		assert.Equal(t, http.StatusOK, env.Get(t, path, buyer.AccessToken).Status, path)
	}
}
