package cart_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// TestAddRoundTrips: putting a product in the cart, the checkout row's most frequent request,
// takes a transaction of two round trips, whose BEGIN and COMMIT travel with its batches: BEGIN
// with the variant, the buyer's lock and the cart's lines of the product, then the line with the
// interest search counts and the campaign price, and COMMIT (it was five round trips, then
// three with the variant read first). The interest is written in that transaction, not carried
// by a job. What the line holds already counts against the stock.
func TestAddRoundTrips(t *testing.T) {
	t.Parallel()
	var rt pgdb.RoundTrips
	log := &apptest.SQLLog{}
	env := apptest.New(t, apptest.WithRoundTrips(&rt), apptest.WithSQLLog(log))
	env.Quiet(t)
	_, _, shirt := shopWith(t, env, 150_000, 50)
	buyer := env.Register(t, "Buyer")
	add := func(body map[string]any) map[string]any {
		res := env.Post(t, "/cart/items", buyer.AccessToken, body)
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		return res.Map(t)
	}
	// Warm the statement caches of the connections the requests take.
	for range 3 {
		add(map[string]any{"product_id": shirt.ID, "quantity": 1})
		add(map[string]any{"product_id": shirt.ID, "variant_id": shirt.VariantID, "quantity": 1})
	}
	for _, body := range []map[string]any{
		{"product_id": shirt.ID, "quantity": 2},
		{"product_id": shirt.ID, "variant_id": shirt.VariantID, "quantity": 2},
	} {
		log.Start()
		before := rt.N()
		line := add(body)
		n := rt.N() - before
		t.Logf("round trips: %d", n)
		if !assert.LessOrEqual(t, n, int64(2)) {
			log.Show(t)
		}
		assert.Equal(t, 1, log.Count("RecordCartAdd"), "the add-to-cart is counted with the line")
		assert.Zero(t, log.Count("river_job"), "no job carries it")
		assert.EqualValues(t, 150_000, line["unit_price"])
	}
	assert.EqualValues(t, 10, env.Get(t, "/cart", buyer.AccessToken).Map(t)["items"].([]any)[0].(map[string]any)["quantity"])

	// 10 held and 41 more is past the stock of 50, by product or by variant: refused, nothing kept.
	for _, body := range []map[string]any{
		{"product_id": shirt.ID, "quantity": 41},
		{"product_id": shirt.ID, "variant_id": shirt.VariantID, "quantity": 41},
	} {
		res := env.Post(t, "/cart/items", buyer.AccessToken, body)
		assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	}
	add(map[string]any{"product_id": shirt.ID, "quantity": 40})
	assert.EqualValues(t, 50, env.Get(t, "/cart", buyer.AccessToken).Map(t)["items"].([]any)[0].(map[string]any)["quantity"])
}
