package bench

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// benchReviews is how many reviews the reviewed product holds (seeded in bulk by
// `goshop seed -reviews`, once: seeding tops up).
const benchReviews = 10_000

func init() {
	scenarios = append(scenarios,
		scenario{
			// The first page of the reviews of a product with benchReviews of them: a walk of the
			// target index, newest first.
			name:  "product reviews",
			setup: (*runner).pickReviewed,
			targets: func(f *fixture, base string) vegeta.Targeter {
				return vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet,
					URL: base + "/api/v1/products/" + f.reviewed + "/reviews"})
			},
		},
		scenario{
			// Rating summaries: one row each, never a scan of the reviews.
			name:  "rating summary",
			setup: (*runner).pickReviewed,
			targets: func(f *fixture, base string) vegeta.Targeter {
				return vegeta.NewStaticTargeter(
					vegeta.Target{Method: http.MethodGet, URL: base + "/api/v1/reviews/rating-distribution?product_id=" + f.reviewed},
					vegeta.Target{Method: http.MethodGet, URL: base + "/api/v1/shops/" + f.reviewedShop + "/rating-summary"})
			},
		})
}

// mostReviewedSQL is the product with the most counted reviews and its shop.
const mostReviewedSQL = `
SELECT s.target_id::text, r.shop_id::text, s.star1 + s.star2 + s.star3 + s.star4 + s.star5
FROM review.rating_summaries s
JOIN LATERAL (SELECT shop_id FROM review.reviews WHERE target = 'product' AND target_id = s.target_id LIMIT 1) r ON true
WHERE s.target = 'product'
ORDER BY 3 DESC, 1
LIMIT 1`

// pickReviewed finds the product with benchReviews reviews, seeding them when it has fewer.
func (r *runner) pickReviewed(ctx context.Context) error {
	if r.f.reviewed != "" {
		return nil
	}
	if err := ensureCatalog(ctx, r.o, r.env, r.pool); err != nil {
		return err
	}
	var count int
	err := r.pool.QueryRow(ctx, mostReviewedSQL).Scan(&r.f.reviewed, &r.f.reviewedShop, &count)
	if err == nil && count >= benchReviews {
		return nil
	}
	fmt.Fprintf(r.o.ServerOutput, "bench: seeding %d reviews on one product\n", benchReviews)
	if err := runSeed(ctx, r.o, r.env, "-products", strconv.Itoa(r.o.Products), "-reviews", strconv.Itoa(benchReviews)); err != nil {
		return err
	}
	if err := r.pool.QueryRow(ctx, mostReviewedSQL).Scan(&r.f.reviewed, &r.f.reviewedShop, &count); err != nil {
		return fmt.Errorf("bench: the reviewed product: %w", err)
	}
	if count < benchReviews {
		return fmt.Errorf("bench: the reviewed product has %d reviews, want %d", count, benchReviews)
	}
	return nil
}
