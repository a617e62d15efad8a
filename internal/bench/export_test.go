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

// InstallLimitFunction creates bench.checkout for buyers (user and address ids) and the variants
// of two shops.
func InstallLimitFunction(ctx context.Context, pool *pgxpool.Pool, users, addresses []string, shops [2][]string) error {
	fx := &checkoutFixture{}
	for i := range users {
		fx.buyers = append(fx.buyers, checkoutBuyer{userID: users[i], addressID: addresses[i]})
	}
	for i, vs := range shops {
		for _, v := range vs {
			fx.shops[i] = append(fx.shops[i], checkoutProduct{variantID: v})
		}
	}
	return (&runner{pool: pool}).installLimitFunction(ctx, fx)
}
