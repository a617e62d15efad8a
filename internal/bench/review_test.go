package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// fakeSeedReviews imitates `goshop seed -products N -reviews R` once the products are there:
// one product's summary row says R reviews, with one review row that names its shop.
func fakeSeedReviews(arg string) int {
	n, err := strconv.Atoi(arg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake seed:", err)
		return 2
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake seed:", err)
		return 1
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		WITH p AS (SELECT id, shop_id FROM catalog.products ORDER BY id LIMIT 1),
		     r AS (INSERT INTO review.reviews (target, target_id, author_id, order_id, order_item_id, product_id, shop_id,
		               delivered_at, rating, status, counted_rating)
		           SELECT 'product', id, gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), id, shop_id, now(), 5, 'approved', 5
		           FROM p RETURNING target_id)
		INSERT INTO review.rating_summaries (target, target_id, star5) SELECT 'product', target_id, $1::int FROM r`, n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake seed:", err)
		return 1
	}
	return 0
}

// fakeReviews answers the review rows' reads: a product's reviews, its rating and its shop's.
func fakeReviews(mux *http.ServeMux, pool *pgxpool.Pool) {
	known := func(w http.ResponseWriter, r *http.Request, sql, id string) bool {
		var found bool
		if err := pool.QueryRow(r.Context(), sql, id).Scan(&found); err != nil || !found {
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		return true
	}
	const product = `SELECT EXISTS (SELECT 1 FROM review.rating_summaries WHERE target = 'product' AND target_id::text = $1)`
	mux.HandleFunc("GET /api/v1/products/{id}/reviews", func(w http.ResponseWriter, r *http.Request) {
		if known(w, r, product, r.PathValue("id")) {
			_, _ = w.Write([]byte(`{"items":[]}`))
		}
	})
	mux.HandleFunc("GET /api/v1/reviews/rating-distribution", func(w http.ResponseWriter, r *http.Request) {
		if known(w, r, product, r.URL.Query().Get("product_id")) {
			_, _ = w.Write([]byte(`{"count":1}`))
		}
	})
	mux.HandleFunc("GET /api/v1/shops/{id}/rating-summary", func(w http.ResponseWriter, r *http.Request) {
		if known(w, r, `SELECT EXISTS (SELECT 1 FROM review.reviews WHERE shop_id::text = $1)`, r.PathValue("id")) {
			_, _ = w.Write([]byte(`{"count":0}`))
		}
	})
}
