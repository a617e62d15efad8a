package bench

import (
	"context"
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
)

// NewReference is the reference server's handler, for the tests that compare it with GoShop
// (they import the app, which imports this package, so they live in package bench_test).
func NewReference(pool *pgxpool.Pool, secret, issuer string) http.Handler {
	return newReference(pool, secret, issuer)
}

// InstallLimitFunction creates bench.checkout for buyers (user and address ids) and the products
// of two shops (each a product id and its variant's id).
func InstallLimitFunction(ctx context.Context, pool *pgxpool.Pool, users, addresses []string, shops [2][][2]string) error {
	fx := &checkoutFixture{}
	for i := range users {
		fx.buyers = append(fx.buyers, checkoutBuyer{userID: users[i], addressID: addresses[i]})
	}
	for i, ps := range shops {
		for _, p := range ps {
			fx.shops[i] = append(fx.shops[i], checkoutProduct{id: p[0], variantID: p[1]})
		}
	}
	return (&runner{pool: pool}).installLimitFunction(ctx, fx)
}
