package search

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/search/internal/store"
)

// The trending score (README): each event of the last TrendingWindow counts its weight, halved
// for every TrendingHalfLife of its age: score = Σ weight × 2^(−age / half-life).
const (
	TrendingHalfLife = 24 * time.Hour
	TrendingWindow   = 7 * 24 * time.Hour
	// PopularWindow is how far back popular searches look.
	PopularWindow = 7 * 24 * time.Hour
	// Weights of the events: a purchase counts per unit bought.
	weightView     = 1
	weightClick    = 2
	weightCartAdd  = 5
	weightPurchase = 10
	// trendingEvery is how often the periodic job recomputes trending and popular searches.
	trendingEvery = 10 * time.Minute
)

// QueueCartAdd queues, on the cart's batch, the record of an add-to-cart for trending and
// recommendations (cart.Interest): it commits with the cart line, in the cart's transaction. An
// add it cannot record (an ID that is not one) queues nothing and is refused.
func (s *Service) QueueCartAdd(ctx context.Context, b *pgdb.Batch, add events.CartItemAdded) error {
	p, err := cartAddParams(uuid.NewString(), add)
	if err != nil {
		return err
	}
	pgdb.Queue(b, func(db pgdb.DBTX) (struct{}, error) { return struct{}{}, newStore(db).RecordCartAdd(ctx, p) },
		func(_ struct{}, err error) error { return err })
	return nil
}

// recordCartAdd keeps an add-to-cart delivered as a cart.item_added event (once per event). The
// cart now records its adds through QueueCartAdd; the subscription stays for the deliveries
// queued before that.
func (s *Service) recordCartAdd(ctx context.Context, id string, ev events.CartItemAdded) error {
	p, err := cartAddParams(id, ev)
	if err != nil {
		return river.JobCancel(err)
	}
	return s.q.RecordCartAdd(ctx, p)
}

// cartAddParams is the row of an add-to-cart.
func cartAddParams(id string, ev events.CartItemAdded) (store.RecordCartAddParams, error) {
	pid, err1 := uuid.Parse(ev.ProductID)
	sid, err2 := uuid.Parse(ev.ShopID)
	if err1 != nil || err2 != nil {
		return store.RecordCartAddParams{}, fmt.Errorf("search: cart add with bad ids %q %q", ev.ProductID, ev.ShopID)
	}
	var user *uuid.UUID
	if u, err := uuid.Parse(ev.UserID); err == nil {
		user = &u
	}
	return store.RecordCartAddParams{EventID: id, UserID: user, ProductID: pid, ShopID: sid, Quantity: int32(ev.Quantity),
		At: ev.At}, nil
}

// recomputeSQL replaces trending products, shops and categories and popular searches, from the
// events of the window; it reads only what it needs and is the same whenever it runs twice.
const recomputeSQL = `
WITH ev AS (
	SELECT b.product_id, b.at, CASE b.kind WHEN 'view' THEN $1::float8 ELSE $2::float8 END AS w
	FROM search.behavior b WHERE b.kind IN ('view', 'click') AND b.product_id IS NOT NULL AND b.at > now() - $6::interval
	UNION ALL
	SELECT c.product_id, c.at, $3::float8 * c.quantity FROM search.cart_adds c WHERE c.at > now() - $6::interval
	UNION ALL
	SELECT s.product_id, s.sold_at, $4::float8 * s.quantity FROM search.sales s WHERE s.sold_at > now() - $6::interval
), p AS (
	SELECT ev.product_id, sum(ev.w * power(2, -extract(epoch FROM now() - ev.at) / $5::float8)) AS score
	FROM ev GROUP BY ev.product_id
), scored AS (
	SELECT d.product_id, d.shop_id, d.category_id, p.score FROM p JOIN search.documents d ON d.product_id = p.product_id
), prods AS (
	INSERT INTO search.trending (kind, id, score) SELECT 'product', product_id, score FROM scored
), shops AS (
	INSERT INTO search.trending (kind, id, score) SELECT 'shop', shop_id, sum(score) FROM scored GROUP BY shop_id
)
INSERT INTO search.trending (kind, id, score)
SELECT 'category', category_id, sum(score) FROM scored WHERE category_id IS NOT NULL GROUP BY category_id`

const popularSQL = `
WITH q AS (
	SELECT b.query_norm AS query, count(*) AS n FROM search.behavior b
	WHERE b.kind = 'search' AND b.at > now() - $1::interval AND b.query_norm <> '' AND coalesce(b.results, 1) > 0
	GROUP BY b.query_norm
)
INSERT INTO search.popular_queries (query, folded, searches)
SELECT q.query, search.fold(q.query), q.n FROM q ORDER BY q.n DESC LIMIT 10000`

// RecomputeTrending recomputes trending and popular searches in one transaction.
func (s *Service) RecomputeTrending(ctx context.Context) error {
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		// The tables are replaced whole; readers see the old ones until this commits. Two
		// recomputes at once (the periodic job and a call, or two workers) take turns: the
		// second would otherwise delete only what its snapshot saw and then insert rows the
		// first had just committed (a duplicate key). EXCLUSIVE lets readers through.
		if _, err := tx.Exec(ctx, "LOCK TABLE search.trending, search.popular_queries, search.neighbours IN EXCLUSIVE MODE"); err != nil {
			return fmt.Errorf("search: trending: lock: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM search.trending"); err != nil {
			return fmt.Errorf("search: trending: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM search.popular_queries"); err != nil {
			return fmt.Errorf("search: popular searches: %w", err)
		}
		if _, err := tx.Exec(ctx, recomputeSQL, weightView, weightClick, weightCartAdd, weightPurchase,
			TrendingHalfLife.Seconds(), TrendingWindow.String()); err != nil {
			return fmt.Errorf("search: trending: %w", err)
		}
		if _, err := tx.Exec(ctx, popularSQL, PopularWindow.String()); err != nil {
			return fmt.Errorf("search: popular searches: %w", err)
		}
		return recomputeNeighbours(ctx, tx)
	})
}

type trendingArgs struct{}

// Kind implements river.JobArgs.
func (trendingArgs) Kind() string { return "search.trending" }

// trendingWorker recomputes trending every trendingEvery; twice in a row computes the same.
type trendingWorker struct {
	river.WorkerDefaults[trendingArgs]
	s *Service
}

func (w *trendingWorker) Work(ctx context.Context, _ *river.Job[trendingArgs]) error {
	return w.s.RecomputeTrending(ctx)
}

// TrendingProduct is a trending product.
type TrendingProduct struct {
	ID         uuid.UUID  `json:"id"`
	ShopID     uuid.UUID  `json:"shop_id"`
	CategoryID *uuid.UUID `json:"category_id"`
	Title      string     `json:"title"`
	Price      int64      `json:"price"`
	Currency   string     `json:"currency"`
	Rating     float64    `json:"rating"`
	SoldCount  int64      `json:"sold_count"`
	Score      float64    `json:"score"`
}

// TrendingShop is a trending shop.
type TrendingShop struct {
	ID       uuid.UUID `json:"id"`
	Name     string    `json:"name"`
	Province string    `json:"province"`
	Score    float64   `json:"score"`
}

// TrendingCategory is a trending category.
type TrendingCategory struct {
	ID    uuid.UUID `json:"id"`
	Name  string    `json:"name"`
	Score float64   `json:"score"`
}

// PopularSearch is a query buyers searched often lately.
type PopularSearch struct {
	Query    string `json:"query"`
	Searches int    `json:"searches"`
}

type scoreCursor struct {
	Score float64   `json:"s"`
	ID    uuid.UUID `json:"i"`
}

func afterScore(page httpx.Page) (*float64, *uuid.UUID, error) {
	var c scoreCursor
	has, err := httpx.DecodeCursor(page.Cursor, &c)
	if err != nil || !has {
		return nil, nil, err
	}
	return &c.Score, &c.ID, nil
}

// TrendingProducts pages through trending products, optionally of a category's subtree.
func (s *Service) TrendingProducts(ctx context.Context, category *uuid.UUID, page httpx.Page) (httpx.List[TrendingProduct], error) {
	sc, id, err := afterScore(page)
	if err != nil {
		return httpx.List[TrendingProduct]{}, err
	}
	rows, err := s.readQ.TrendingProducts(ctx, store.TrendingProductsParams{Category: category, AfterScore: sc, AfterID: id, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[TrendingProduct]{}, err
	}
	kept := httpx.Paginate(rows, page.Limit, func(r store.TrendingProductsRow) any { return scoreCursor{Score: r.Score, ID: r.ID} })
	out := httpx.List[TrendingProduct]{Items: make([]TrendingProduct, len(kept.Items)), NextCursor: kept.NextCursor}
	for i, r := range kept.Items {
		out.Items[i] = TrendingProduct{ID: r.ID, ShopID: r.ShopID, CategoryID: r.CategoryID, Title: r.Title, Price: r.Price,
			Currency: r.Currency, Rating: r.Rating, SoldCount: r.SoldCount, Score: r.Score}
	}
	return out, nil
}

func (s *Service) trendingOf(ctx context.Context, kind string, page httpx.Page) (httpx.List[store.TrendingOfRow], error) {
	sc, id, err := afterScore(page)
	if err != nil {
		return httpx.List[store.TrendingOfRow]{}, err
	}
	rows, err := s.readQ.TrendingOf(ctx, store.TrendingOfParams{Kind: kind, AfterScore: sc, AfterID: id, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[store.TrendingOfRow]{}, err
	}
	return httpx.Paginate(rows, page.Limit, func(r store.TrendingOfRow) any { return scoreCursor{Score: r.Score, ID: r.ID} }), nil
}

// TrendingShops pages through trending shops.
func (s *Service) TrendingShops(ctx context.Context, page httpx.Page) (httpx.List[TrendingShop], error) {
	l, err := s.trendingOf(ctx, "shop", page)
	if err != nil {
		return httpx.List[TrendingShop]{}, err
	}
	ids := make([]uuid.UUID, len(l.Items))
	for i, r := range l.Items {
		ids[i] = r.ID
	}
	names, err := s.readQ.ShopNames(ctx, ids)
	if err != nil {
		return httpx.List[TrendingShop]{}, err
	}
	byID := map[uuid.UUID]store.ShopNamesRow{}
	for _, n := range names {
		byID[n.ShopID] = n
	}
	out := httpx.List[TrendingShop]{Items: make([]TrendingShop, len(l.Items)), NextCursor: l.NextCursor}
	for i, r := range l.Items {
		out.Items[i] = TrendingShop{ID: r.ID, Name: byID[r.ID].ShopName, Province: byID[r.ID].Province, Score: r.Score}
	}
	return out, nil
}

// TrendingCategories pages through trending categories.
func (s *Service) TrendingCategories(ctx context.Context, page httpx.Page) (httpx.List[TrendingCategory], error) {
	l, err := s.trendingOf(ctx, "category", page)
	if err != nil {
		return httpx.List[TrendingCategory]{}, err
	}
	ids := make([]uuid.UUID, len(l.Items))
	for i, r := range l.Items {
		ids[i] = r.ID
	}
	names, err := s.readQ.CategoryNames(ctx, ids)
	if err != nil {
		return httpx.List[TrendingCategory]{}, err
	}
	byID := map[uuid.UUID]string{}
	for _, n := range names {
		if n.CategoryID != nil {
			byID[*n.CategoryID] = n.CategoryName
		}
	}
	out := httpx.List[TrendingCategory]{Items: make([]TrendingCategory, len(l.Items)), NextCursor: l.NextCursor}
	for i, r := range l.Items {
		out.Items[i] = TrendingCategory{ID: r.ID, Name: byID[r.ID], Score: r.Score}
	}
	return out, nil
}

// PopularSearches answers the most searched queries of the last PopularWindow that found
// something.
func (s *Service) PopularSearches(ctx context.Context, limit int) ([]PopularSearch, error) {
	rows, err := s.readQ.PopularQueries(ctx, int32(limit))
	if err != nil {
		return nil, err
	}
	out := make([]PopularSearch, len(rows))
	for i, r := range rows {
		out[i] = PopularSearch{Query: r.Query, Searches: int(r.Searches)}
	}
	return out, nil
}

// Suggestions proposes whole queries for what has been typed: popular searches that start with
// it, then those that contain it, then its spelling corrected.
func (s *Service) Suggestions(ctx context.Context, text string, limit int) (Completions, error) {
	out := Completions{Items: []Completion{}}
	ws := words(text)
	if len(ws) == 0 || len(ws) > maxWords {
		return out, nil
	}
	input := nfc(text)
	rows, err := s.readQ.PopularMatching(ctx, store.PopularMatchingParams{Input: normQuery(input), Lim: int32(limit)})
	if err != nil {
		return out, err
	}
	for _, r := range rows {
		out.Items = append(out.Items, Completion{Text: r.Query, Kind: "popular"})
	}
	if len(out.Items) < limit {
		fixed, err := s.pg.correct(ctx, ws)
		if err != nil {
			return out, err
		}
		if fixed != "" {
			out.Items = append(out.Items, Completion{Text: fixed, Kind: "correction"})
		}
	}
	return out, nil
}
