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
// reads the variant in one round trip and writes in a transaction of two, whose BEGIN and COMMIT
// travel with its batches: BEGIN with the buyer's lock, what the cart holds and the campaign
// price, then the line with the interest search counts, and COMMIT (it was five round trips).
// The interest is written in that transaction, not carried by a job.
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
		if !assert.LessOrEqual(t, n, int64(3)) {
			log.Show(t)
		}
		assert.Equal(t, 1, log.Count("RecordCartAdd"), "the add-to-cart is counted with the line")
		assert.Zero(t, log.Count("river_job"), "no job carries it")
		assert.EqualValues(t, 150_000, line["unit_price"])
	}
	assert.EqualValues(t, 10, env.Get(t, "/cart", buyer.AccessToken).Map(t)["items"].([]any)[0].(map[string]any)["quantity"])
}
