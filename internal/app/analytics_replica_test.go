package app_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// TestAnalyticsReadsGoToTheReplica: with DATABASE_READ_URL set, a shop's analytics and reports
// read their rollups on the replica (they follow the orders through jobs, so they lag a moment
// anyway), the owner's as well as an admin's.
func TestAnalyticsReadsGoToTheReplica(t *testing.T) {
	t.Parallel()
	env, _ := withReplica(t)

	seller, buyer := env.Register(t, "Seller"), env.Register(t, "Buyer")
	admin := env.Admin(t, env.Register(t, "Admin"))
	shopID := env.CreateShop(t, seller, "Replica shop")
	p := env.CreateProduct(t, seller, shopID, "Nón lá", 120_000, 5)
	shipper := env.NewShipper(t, "Shipper", apptest.NearShop, true)
	orderID := env.CheckoutCOD(t, buyer, env.CreateAddress(t, buyer), p.ID, 1)
	env.Deliver(t, orderID, seller, shipper)
	base := "/shops/" + shopID
	apptest.Eventually(t, func() bool {
		res := env.Get(t, base+"/analytics/revenue", seller.AccessToken)
		return res.Status == http.StatusOK && res.Map(t)["current"].(map[string]any)["totals"].(map[string]any)["sales"] == float64(1)
	}, "the delivered order counts as a sale, read from the replica")

	for _, who := range []apptest.User{seller, admin} {
		for _, path := range []string{"/analytics/revenue", "/analytics/orders", "/analytics/products", "/reports/sales",
			"/reports/sales?format=csv", "/reports/performance", "/reports/performance?format=xlsx"} {
			before := queriesOn(t, env, "replica")
			res := env.Get(t, base+path, who.AccessToken)
			require.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
			assert.Greater(t, queriesOn(t, env, "replica"), before, "%s did not read from the replica", path)
		}
	}
}
