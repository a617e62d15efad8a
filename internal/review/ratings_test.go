package review_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// TestRatingsReachTheCatalogAndTheShop follows reviews to the product list sorted by rating,
// the product page and the shop page, through the rating events.
func TestRatingsReachTheCatalogAndTheShop(t *testing.T) {
	t.Parallel()
	m := setup(t)
	env := m.env
	ps := m.products(t, 2)
	buyers := []apptest.User{m.buyer, env.Register(t, "Second buyer")}
	addrs := []string{m.addr, env.CreateAddress(t, buyers[1])}
	orders := make([]string, len(buyers))
	for i, b := range buyers {
		orders[i] = m.deliveredMany(t, b, addrs[i], ps)
	}
	// ps[1]: 5 and 4 stars (4.5); ps[0]: 2 and 3 stars (2.5); the shop: 5 and 3 (4).
	for i, b := range buyers {
		post(t, env, "/products/"+ps[1].ID+"/reviews", b.AccessToken, map[string]any{"rating": 5 - i}, http.StatusCreated)
		post(t, env, "/products/"+ps[0].ID+"/reviews", b.AccessToken, map[string]any{"rating": 2 + i}, http.StatusCreated)
		post(t, env, "/shops/"+m.shopID+"/reviews", b.AccessToken, map[string]any{"order_id": orders[i], "rating": 5 - 2*i},
			http.StatusCreated)
	}

	product := func(id string) map[string]any { return get(t, env, "/products/"+id, "") }
	apptest.Eventually(t, func() bool {
		return product(ps[1].ID)["rating"] == 4.5 && product(ps[0].ID)["rating"] == 2.5
	}, "the products' ratings reach the catalog")
	assert.EqualValues(t, 2, product(ps[1].ID)["rating_count"])

	list := items(get(t, env, "/products?sort=rating", ""))
	require.GreaterOrEqual(t, len(list), 3)
	assert.Equal(t, ps[1].ID, list[0]["id"], "the best rated first")
	assert.Equal(t, ps[0].ID, list[1]["id"])
	assert.EqualValues(t, 4.5, list[0]["rating"])

	apptest.Eventually(t, func() bool {
		s := get(t, env, "/shops/"+m.shopID, "")
		return s["rating"] == 4.0 && s["rating_count"] == 2.0
	}, "the shop's rating reaches the shop page")

	sum := get(t, env, "/shops/"+m.shopID+"/rating-summary", "")
	assert.EqualValues(t, 4, sum["average"])
	assert.EqualValues(t, 2, sum["count"])
	assert.EqualValues(t, map[string]any{"1": 0.0, "2": 0.0, "3": 1.0, "4": 0.0, "5": 1.0}, sum["stars"])
	products := sum["products"].(map[string]any)
	assert.EqualValues(t, 4, products["count"], "the shop's products taken together")
	assert.EqualValues(t, 3.5, products["average"])

	d := get(t, env, "/reviews/rating-distribution?product_id="+ps[1].ID, "")
	assert.EqualValues(t, 4.5, d["average"])
	assert.EqualValues(t, map[string]any{"1": 0.0, "2": 0.0, "3": 0.0, "4": 1.0, "5": 1.0}, d["stars"])
	assert.EqualValues(t, 4, get(t, env, "/reviews/rating-distribution?shop_id="+m.shopID, "")["average"])
	assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/reviews/rating-distribution", "").Status)

	// Late and repeated deliveries of older rating events change nothing.
	ctx := t.Context()
	require.NoError(t, pgdb.WithTx(ctx, env.App.Pool, func(tx pgx.Tx) error {
		return env.App.Bus.Publish(ctx, tx,
			events.ShopRatingChanged{ShopID: m.shopID, Rating: 1, ReviewCount: 1, Version: 1, At: time.Now()},
			events.ProductRatingChanged{ProductID: ps[1].ID, ShopID: m.shopID, Rating: 1, ReviewCount: 1, Version: 1, At: time.Now()})
	}))
	apptest.Eventually(t, func() bool {
		var left int
		require.NoError(t, env.App.Pool.QueryRow(ctx,
			"SELECT count(*) FROM river_job WHERE kind IN ('event_delivery', 'event_batch') AND state NOT IN ('completed', 'discarded', 'cancelled')").Scan(&left))
		return left == 0
	}, "the stale events are delivered")
	assert.EqualValues(t, 4, get(t, env, "/shops/"+m.shopID, "")["rating"])
	assert.EqualValues(t, 4.5, product(ps[1].ID)["rating"])
	assert.Equal(t, http.StatusUnprocessableEntity,
		env.Get(t, "/reviews/rating-distribution?product_id="+ps[1].ID+"&shop_id="+m.shopID, "").Status)
}
