package order_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// BenchmarkCheckout times POST /orders of a 2-line, 2-shop cart, one buyer at a time, with the
// workers stopped (the jobs it leaves are not its cost here), and reports the statements and
// round trips each checkout sends to PostgreSQL. The cart is refilled between checkouts, off the
// clock.
func BenchmarkCheckout(b *testing.B) {
	var rt pgdb.RoundTrips
	log := &apptest.SQLLog{}
	env := apptest.New(b, apptest.WithRoundTrips(&rt), apptest.WithSQLLog(log))
	var products []apptest.Product
	for _, name := range []string{"Shop A", "Shop B"} {
		seller := env.Register(b, name+" owner")
		shop := env.CreateShop(b, seller, name)
		products = append(products, env.CreateProduct(b, seller, shop, name+" product", 100_000, 1_000_000))
	}
	buyer := env.Register(b, "Buyer")
	body := map[string]any{"address_id": env.CreateAddress(b, buyer), "payment_method": "cod"}
	env.Quiet(b)
	var statements, trips int64
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for _, p := range products {
			res := env.Post(b, "/cart/items", buyer.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1})
			require.Equal(b, http.StatusCreated, res.Status, "%s", res.Body)
		}
		log.Start()
		before := rt.N()
		b.StartTimer()
		res := env.Post(b, "/orders", buyer.AccessToken, body)
		b.StopTimer()
		require.Equal(b, http.StatusCreated, res.Status, "%s", res.Body)
		statements += int64(log.Statements())
		trips += rt.N() - before
		b.StartTimer()
	}
	b.ReportMetric(float64(statements)/float64(b.N), "statements/op")
	b.ReportMetric(float64(trips)/float64(b.N), "round-trips/op")
}
