package search

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Recommendation windows and bounds.
const (
	// neighboursPerProduct is how many neighbours a product keeps per kind.
	neighboursPerProduct = 20
	// coViewWindow is how far back co-views look; a visitor's last coViewPerVisitor views count.
	coViewWindow     = 30 * 24 * time.Hour
	coViewPerVisitor = 50
	// boughtWindow: nothing bought in it is recommended, and purchases in it are seeds.
	boughtWindow = 90 * 24 * time.Hour
	// sessionWindow is the "recent session" of based-on-behaviour.
	sessionWindow = 2 * time.Hour
)

// neighboursSQL recomputes co-views and co-purchases, keeping the strongest of each product.
const neighboursSQL = `
INSERT INTO search.neighbours (kind, product_id, other_id, weight)
SELECT kind, product_id, other_id, weight FROM (
	SELECT kind, product_id, other_id, weight,
		row_number() OVER (PARTITION BY kind, product_id ORDER BY weight DESC, other_id) AS rn
	FROM (
		SELECT 'view' AS kind, a.product_id, b.product_id AS other_id, count(DISTINCT a.who)::float8 AS weight
		FROM (
			SELECT v.product_id, v.who FROM (
				SELECT b.product_id, coalesce(b.user_id::text, b.device_id) AS who,
					row_number() OVER (PARTITION BY coalesce(b.user_id::text, b.device_id) ORDER BY b.at DESC) AS n
				FROM search.behavior b WHERE b.kind = 'view' AND b.at > now() - $1::interval
			) v WHERE v.n <= $2
		) a JOIN (
			SELECT v.product_id, v.who FROM (
				SELECT b.product_id, coalesce(b.user_id::text, b.device_id) AS who,
					row_number() OVER (PARTITION BY coalesce(b.user_id::text, b.device_id) ORDER BY b.at DESC) AS n
				FROM search.behavior b WHERE b.kind = 'view' AND b.at > now() - $1::interval
			) v WHERE v.n <= $2
		) b ON b.who = a.who AND b.product_id <> a.product_id
		GROUP BY a.product_id, b.product_id
		UNION ALL
		SELECT 'purchase', a.product_id, b.product_id, count(DISTINCT a.checkout_id)::float8
		FROM search.sales a JOIN search.sales b ON b.checkout_id = a.checkout_id AND b.product_id <> a.product_id
		WHERE a.sold_at > now() - $3::interval
		GROUP BY a.product_id, b.product_id
	) pairs
) ranked WHERE rn <= $4`

// recomputeNeighbours replaces the neighbour tables in tx.
func recomputeNeighbours(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, "DELETE FROM search.neighbours"); err != nil {
		return fmt.Errorf("search: neighbours: %w", err)
	}
	if _, err := tx.Exec(ctx, neighboursSQL, coViewWindow.String(), coViewPerVisitor, boughtWindow.String(), neighboursPerProduct); err != nil {
		return fmt.Errorf("search: neighbours: %w", err)
	}
	return nil
}

// Recommended is a recommended product and why.
type Recommended struct {
	Product Item `json:"product"`
	// Reason says why, for people ("because you viewed Áo khoác").
	Reason string `json:"reason"`
	// Because is the product the recommendation comes from, when one does.
	Because *uuid.UUID `json:"because_product_id"`
}

// Recommendations is a list of recommended products.
type Recommendations struct {
	Items []Recommended `json:"items"`
}

// RecommendedShop is a recommended shop and why.
type RecommendedShop struct {
	ShopID   uuid.UUID `json:"shop_id"`
	Name     string    `json:"name"`
	Province string    `json:"province"`
	Reason   string    `json:"reason"`
}

// ShopRecommendations is a list of recommended shops.
type ShopRecommendations struct {
	Items []RecommendedShop `json:"items"`
}

// recommendSQL ranks candidates: the neighbours of the seeds ($2: product IDs, $3: "viewed" or
// "bought" each, $4: their titles), then trending products of the seeds' categories; none
// the visitor bought lately ($5) nor a seed. $1 is the limit.
const recommendSQL = `
WITH seeds AS (
	SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[]) AS s(id, how, title)
), cand AS (
	SELECT n.other_id AS id, sum(n.weight) AS score,
		(array_agg(s.id ORDER BY n.weight DESC))[1] AS because,
		(array_agg('because you ' || s.how || ' ' || s.title ORDER BY n.weight DESC))[1] AS reason
	FROM seeds s JOIN search.neighbours n ON n.product_id = s.id AND n.kind = CASE s.how WHEN 'bought' THEN 'purchase' ELSE 'view' END
	GROUP BY n.other_id
	UNION ALL
	SELECT t.id, t.score / 1000, NULL, 'trending in ' || d.category_name
	FROM search.trending t JOIN search.documents d ON d.product_id = t.id
	WHERE t.kind = 'product' AND d.category_id IN (SELECT sd.category_id FROM seeds JOIN search.documents sd ON sd.product_id = seeds.id)
), best AS (
	SELECT DISTINCT ON (id) id, score, because, reason FROM cand ORDER BY id, score DESC
)
SELECT b.id, b.because, b.reason FROM best b JOIN search.documents d ON d.product_id = b.id
WHERE b.id <> ALL ($2::uuid[]) AND b.id <> ALL ($5::uuid[])
ORDER BY b.score DESC, b.id
LIMIT $1`

type seed struct {
	id    uuid.UUID
	how   string
	title string
}

// seedsOf are v's recently viewed (within since) and, for a user, bought products.
func (s *Service) seedsOf(ctx context.Context, v Visitor, since time.Duration, withBought bool) ([]seed, []uuid.UUID, error) {
	u, d := visitorArgs(v)
	rows, err := s.reads.Query(ctx, `SELECT v.product_id, 'viewed', doc.title FROM (
	SELECT b.product_id, max(b.at) AS at FROM search.behavior b
	WHERE b.kind IN ('view', 'click') AND b.at > now() - $3::interval
	  AND (($1::uuid IS NOT NULL AND b.user_id = $1) OR ($1::uuid IS NULL AND b.device_id = $2))
	GROUP BY b.product_id ORDER BY max(b.at) DESC LIMIT 20
) v JOIN search.documents doc ON doc.product_id = v.product_id`, u, d, since.String())
	if err != nil {
		return nil, nil, fmt.Errorf("search: seeds: %w", err)
	}
	var out []seed
	var sd seed
	if _, err := pgx.ForEachRow(rows, []any{&sd.id, &sd.how, &sd.title}, func() error { out = append(out, sd); return nil }); err != nil {
		return nil, nil, fmt.Errorf("search: seeds: %w", err)
	}
	var bought []uuid.UUID
	if u != nil {
		rows, err := s.reads.Query(ctx, `SELECT DISTINCT s.product_id, coalesce(d.title, '') FROM search.sales s
LEFT JOIN search.documents d ON d.product_id = s.product_id WHERE s.buyer_id = $1 AND s.sold_at > now() - $2::interval`, u,
			boughtWindow.String())
		if err != nil {
			return nil, nil, fmt.Errorf("search: seeds: %w", err)
		}
		var id uuid.UUID
		var title string
		if _, err := pgx.ForEachRow(rows, []any{&id, &title}, func() error {
			bought = append(bought, id)
			if withBought && title != "" {
				out = append(out, seed{id: id, how: "bought", title: title})
			}
			return nil
		}); err != nil {
			return nil, nil, fmt.Errorf("search: seeds: %w", err)
		}
	}
	return out, bought, nil
}

func (s *Service) recommend(ctx context.Context, seeds []seed, bought []uuid.UUID, limit int) (Recommendations, error) {
	ids, hows, titles := make([]uuid.UUID, len(seeds)), make([]string, len(seeds)), make([]string, len(seeds))
	for i, sd := range seeds {
		ids[i], hows[i], titles[i] = sd.id, sd.how, sd.title
	}
	if bought == nil {
		bought = []uuid.UUID{}
	}
	rows, err := s.reads.Query(ctx, recommendSQL, limit, ids, hows, titles, bought)
	if err != nil {
		return Recommendations{}, fmt.Errorf("search: recommend: %w", err)
	}
	var out []Recommended
	var r Recommended
	if _, err := pgx.ForEachRow(rows, []any{&r.Product.ID, &r.Because, &r.Reason}, func() error {
		out = append(out, r)
		return nil
	}); err != nil {
		return Recommendations{}, fmt.Errorf("search: recommend: %w", err)
	}
	if len(out) == 0 && len(seeds) == 0 {
		return s.trendingNow(ctx, bought, limit)
	}
	return s.withItems(ctx, out)
}

// trendingNow recommends trending products, for a visitor without history.
func (s *Service) trendingNow(ctx context.Context, bought []uuid.UUID, limit int) (Recommendations, error) {
	rows, err := s.reads.Query(ctx, `SELECT t.id FROM search.trending t JOIN search.documents d ON d.product_id = t.id
WHERE t.kind = 'product' AND t.id <> ALL ($2::uuid[]) ORDER BY t.score DESC, t.id LIMIT $1`, limit, bought)
	if err != nil {
		return Recommendations{}, fmt.Errorf("search: trending now: %w", err)
	}
	var out []Recommended
	var r Recommended
	if _, err := pgx.ForEachRow(rows, []any{&r.Product.ID}, func() error {
		r.Reason = "trending now"
		out = append(out, r)
		return nil
	}); err != nil {
		return Recommendations{}, fmt.Errorf("search: trending now: %w", err)
	}
	return s.withItems(ctx, out)
}

// withItems fills the recommendations' product summaries, keeping their order.
func (s *Service) withItems(ctx context.Context, recs []Recommended) (Recommendations, error) {
	out := Recommendations{Items: []Recommended{}}
	if len(recs) == 0 {
		return out, nil
	}
	ids := make([]uuid.UUID, len(recs))
	for i, r := range recs {
		ids[i] = r.Product.ID
	}
	items, err := s.items(ctx, "d.product_id = ANY ($1)", "d.product_id", len(ids), ids)
	if err != nil {
		return out, err
	}
	byID := map[uuid.UUID]Item{}
	for _, it := range items {
		byID[it.ID] = it
	}
	for _, r := range recs {
		if it, ok := byID[r.Product.ID]; ok {
			r.Product = it
			out.Items = append(out.Items, r)
		}
	}
	return out, nil
}

// RecommendProducts recommends products to v: neighbours of what they viewed and bought, then
// trending in their categories; nothing they bought in the last 90 days; trending for a visitor
// without history.
func (s *Service) RecommendProducts(ctx context.Context, v Visitor, limit int) (Recommendations, error) {
	seeds, bought, err := s.seedsOf(ctx, v, coViewWindow, true)
	if err != nil {
		return Recommendations{}, err
	}
	return s.recommend(ctx, seeds, bought, limit)
}

// RecommendFromSession recommends from the recent session only: what v viewed or clicked in the
// last sessionWindow.
func (s *Service) RecommendFromSession(ctx context.Context, v Visitor, limit int) (Recommendations, error) {
	seeds, bought, err := s.seedsOf(ctx, v, sessionWindow, false)
	if err != nil {
		return Recommendations{}, err
	}
	return s.recommend(ctx, seeds, bought, limit)
}

// RecommendFromSimilarUsers recommends what buyers whose purchases overlap the caller's bought,
// most overlapping buyers first; it names no buyer.
func (s *Service) RecommendFromSimilarUsers(ctx context.Context, userID uuid.UUID, limit int) (Recommendations, error) {
	rows, err := s.reads.Query(ctx, `WITH mine AS (
	SELECT DISTINCT product_id FROM search.sales WHERE buyer_id = $1
), peers AS (
	SELECT s.buyer_id, count(DISTINCT s.product_id) AS overlap, (array_agg(s.product_id))[1] AS via
	FROM search.sales s JOIN mine m ON m.product_id = s.product_id
	WHERE s.buyer_id IS NOT NULL AND s.buyer_id <> $1 GROUP BY s.buyer_id
), cand AS (
	SELECT s.product_id, sum(p.overlap) AS score, (array_agg(p.via ORDER BY p.overlap DESC))[1] AS via
	FROM peers p JOIN search.sales s ON s.buyer_id = p.buyer_id
	WHERE s.product_id NOT IN (SELECT product_id FROM mine) GROUP BY s.product_id
)
SELECT c.product_id, c.via, 'bought by buyers who also bought ' || coalesce(v.title, 'what you bought')
FROM cand c JOIN search.documents d ON d.product_id = c.product_id LEFT JOIN search.documents v ON v.product_id = c.via
ORDER BY c.score DESC, c.product_id LIMIT $2`, userID, limit)
	if err != nil {
		return Recommendations{}, fmt.Errorf("search: similar users: %w", err)
	}
	var out []Recommended
	var r Recommended
	if _, err := pgx.ForEachRow(rows, []any{&r.Product.ID, &r.Because, &r.Reason}, func() error {
		out = append(out, r)
		return nil
	}); err != nil {
		return Recommendations{}, fmt.Errorf("search: similar users: %w", err)
	}
	return s.withItems(ctx, out)
}

// RecommendShops recommends the shops of the products recommended to v, each once, with the
// first product's reason; trending shops for a visitor without history.
func (s *Service) RecommendShops(ctx context.Context, v Visitor, limit int) (ShopRecommendations, error) {
	recs, err := s.RecommendProducts(ctx, v, 100)
	if err != nil {
		return ShopRecommendations{}, err
	}
	out := ShopRecommendations{Items: []RecommendedShop{}}
	seen := map[uuid.UUID]bool{}
	for _, r := range recs.Items {
		if seen[r.Product.ShopID] || len(out.Items) >= limit {
			continue
		}
		seen[r.Product.ShopID] = true
		out.Items = append(out.Items, RecommendedShop{ShopID: r.Product.ShopID, Name: r.Product.ShopName, Province: r.Product.Province,
			Reason: "sells " + r.Product.Title + ", " + r.Reason})
	}
	return out, nil
}
