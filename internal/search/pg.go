package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/search/internal/store"
)

// Postgres is the default engine: PostgreSQL full-text search over search.documents. Matching
// is on the folded tsvector (accents off, so "dien thoai" finds "điện thoại"); ranking adds the
// exact tsvector's rank, so that a match with the accents as typed comes first.
type Postgres struct {
	pool *pgxpool.Pool
	// reads and q run the searches: the pool, or a read replica (UseReads).
	reads pgdb.DBTX
	q     *store.Queries
}

// NewPostgres returns the PostgreSQL engine.
func NewPostgres(pool *pgxpool.Pool) *Postgres {
	return &Postgres{pool: pool, reads: pool, q: newStore(pool)}
}

// UseReads runs the searches, facets and completions on db, a pgdb.Reads over a replica: a
// document indexed a moment ago may be found a moment later. The spelling correction, which
// needs a transaction of its own, stays on the primary.
func (e *Postgres) UseReads(db pgdb.DBTX) { e.reads, e.q = db, newStore(db) }

// maxRanked is how many matches a relevance sort ranks (the best-selling ones): past that,
// the rest are not reached by paging.
const maxRanked = 1000

// fewResults is the count under which a first page offers a spelling correction.
const fewResults = 3

// sortSpec is how a sort orders documents: by an expression (an indexed column where it can be)
// then by ID, both the same way; cast types the cursor's key for the comparison.
type sortSpec struct {
	key  string
	cast string
	desc bool
}

var sortSpecs = map[string]sortSpec{
	SortRelevance:   {key: "score", cast: "real", desc: true},
	SortPriceAsc:    {key: "d.price", cast: "bigint"},
	SortPriceDesc:   {key: "d.price", cast: "bigint", desc: true},
	SortNewest:      {key: "d.created_at", cast: "timestamptz", desc: true},
	SortRating:      {key: "d.rating", cast: "numeric", desc: true},
	SortBestSelling: {key: "d.sold_count", cast: "bigint", desc: true},
	SortDistance:    {key: "dist", cast: "double precision"},
}

// cursor is the position after a page's last item: its sort, its key (as text, so that every
// key type round-trips exactly) and its ID, and the corrected query when the page answered one.
type cursor struct {
	Sort      string    `json:"s"`
	Key       string    `json:"k"`
	ID        uuid.UUID `json:"i"`
	Corrected string    `json:"c,omitempty"`
}

// custom runs a search statement unprepared (an unnamed statement, planned for its values every
// time): a cached statement soon gets a generic plan, which cannot tell a common word or a
// large category from a rare one, and chose a bitmap of 12,500 rows sorted by price where the
// values' plan walks the price index for 21 (97 ms against 6 ms on the seeded catalog).
func custom(args []any) []any { return append([]any{pgx.QueryExecModeExec}, args...) }

// sqlBuilder collects positional arguments.
type sqlBuilder struct{ args []any }

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// where builds the match and filter conditions; tsq is the text of the tsquery ("" for none).
func (b *sqlBuilder) where(tsq string, f Filters) (conds []string, tq string) {
	if tsq != "" {
		tq = b.arg(tsq)
		conds = append(conds, "d.tsv @@ to_tsquery('search.folded', "+tq+")")
	}
	if f.CategoryID != nil {
		conds = append(conds, "d.category_ids @> ARRAY["+b.arg(*f.CategoryID)+"::uuid]")
	}
	if f.ShopID != nil {
		conds = append(conds, "d.shop_id = "+b.arg(*f.ShopID))
	}
	if f.Brand != "" {
		conds = append(conds, "lower(d.brand) = lower("+b.arg(strings.TrimSpace(f.Brand))+")")
	}
	if f.Model != "" {
		conds = append(conds, "lower(d.model) = lower("+b.arg(strings.TrimSpace(f.Model))+")")
	}
	if f.MinPrice != nil {
		conds = append(conds, "d.price >= "+b.arg(*f.MinPrice))
	}
	if f.MaxPrice != nil {
		conds = append(conds, "d.price <= "+b.arg(*f.MaxPrice))
	}
	if f.MinRating != nil {
		conds = append(conds, "d.rating >= "+b.arg(strconv.FormatFloat(*f.MinRating, 'f', -1, 64))+"::numeric")
	}
	if f.InStock != nil {
		conds = append(conds, "d.in_stock = "+b.arg(*f.InStock))
	}
	if f.Province != "" {
		conds = append(conds, "search.fold(d.province) = search.fold("+b.arg(strings.TrimSpace(f.Province))+")")
	}
	if f.RadiusKM != nil && f.Lat != nil && f.Lng != nil {
		here := "public.ll_to_earth(" + b.arg(*f.Lat) + ", " + b.arg(*f.Lng) + ")"
		r := b.arg(*f.RadiusKM * 1000)
		conds = append(conds, "public.earth_box("+here+", "+r+") @> public.ll_to_earth(d.lat, d.lng)",
			"public.earth_distance("+here+", public.ll_to_earth(d.lat, d.lng)) <= "+r)
	}
	for name, value := range f.Attrs {
		conds = append(conds, "d.attrs @> ARRAY[search.fold("+b.arg(attrPair(name, value))+")]")
	}
	if len(conds) == 0 {
		conds = append(conds, "true")
	}
	return conds, tq
}

// Search answers a page of documents matching q.
func (e *Postgres) Search(ctx context.Context, q Query, page httpx.Page) (Results, error) {
	if err := q.check(); err != nil {
		return Results{}, err
	}
	var cur cursor
	has, err := httpx.DecodeCursor(page.Cursor, &cur)
	if err != nil {
		return Results{}, err
	}
	if has && cur.Sort != q.Sort {
		return Results{}, apperr.Field("cursor", "was made for another sort")
	}
	syn, err := e.synonyms(ctx, q.allWords())
	if err != nil {
		return Results{}, err
	}
	if has && cur.Corrected != "" {
		q.Text, q.Advanced = cur.Corrected, nil
	}
	var after *cursor
	if has {
		after = &cur
	}
	res, err := e.page(ctx, q, q.tsquery(syn), after, page.Limit)
	if err != nil || has || len(res.Items) >= fewResults || q.tsquery(syn) == "" {
		return res, err
	}
	corrected, err := e.correct(ctx, q.allWords())
	if err != nil || corrected == "" {
		return res, err
	}
	res.DidYouMean = corrected
	if len(res.Items) > 0 {
		return res, nil
	}
	cq := q
	cq.Text, cq.Advanced = corrected, nil
	if syn, err = e.synonyms(ctx, words(corrected)); err != nil {
		return Results{}, err
	}
	again, err := e.page(ctx, cq, cq.tsquery(syn), nil, page.Limit)
	if err != nil {
		return Results{}, err
	}
	again.DidYouMean = corrected
	if again.NextCursor != "" {
		var c cursor
		_, _ = httpx.DecodeCursor(again.NextCursor, &c)
		c.Corrected = corrected
		again.NextCursor = httpx.EncodeCursor(c)
	}
	return again, nil
}

// row is a document as a page reads it.
type row struct {
	ProductID   uuid.UUID
	ShopID      uuid.UUID
	Title       string
	Brand       string
	Model       string
	CategoryID  *uuid.UUID
	Price       int64
	ListPrice   int64
	Currency    string
	InStock     bool
	Rating      float64
	RatingCount int32
	SoldCount   int64
	ShopName    string
	Province    string
	CreatedAt   time.Time
	Score       float32
	Dist        *float64
	Key         string
	Highlight   string
}

func (e *Postgres) page(ctx context.Context, q Query, tsq string, after *cursor, limit int) (Results, error) {
	var b sqlBuilder
	conds, tq := b.where(tsq, q.Filters)
	score := "0::real"
	highlight := "d.title"
	if tq != "" {
		// The rank of the folded match, plus that of the match with the accents as typed, plus
		// a bonus for a title that starts with the words typed (a phone before its case).
		score = "(ts_rank(d.tsv, to_tsquery('search.folded', " + tq + ")) + ts_rank(d.tsv_exact, to_tsquery('simple', " + tq + "))"
		if ws := words(q.Text); q.Advanced == nil && len(ws) > 0 {
			score += " + CASE WHEN d.title_folded LIKE search.fold(" + b.arg(strings.Join(ws, " ")) + ") || '%' THEN 0.1 ELSE 0 END"
		}
		score += ")::real"
		highlight = "ts_headline('search.folded', d.title, to_tsquery('search.folded', " + tq + "), 'StartSel=<em>, StopSel=</em>, HighlightAll=true')"
	}
	dist := "NULL::double precision"
	if q.Lat != nil && q.Lng != nil {
		dist = "public.earth_distance(public.ll_to_earth(" + b.arg(*q.Lat) + ", " + b.arg(*q.Lng) + "), public.ll_to_earth(d.lat, d.lng))"
	}
	spec := sortSpecs[q.Sort]
	key := spec.key
	switch key {
	case "score":
		key = score
	case "dist":
		key = dist
	}
	dir, op := "ASC", ">"
	if spec.desc {
		dir, op = "DESC", "<"
	}
	from := "search.documents d"
	if q.Sort == SortRelevance && tq != "" {
		// Ranking reads every match's two tsvectors: for a common word that is the whole
		// catalog (800 ms at 100,000 products). Only the maxRanked best-selling matches are
		// ranked: an index walk that stops there for a common word, a bitmap of the few for a
		// rare one, and the same set for every page of one query.
		from = fmt.Sprintf("(SELECT * FROM search.documents d WHERE %s ORDER BY d.sold_count DESC, d.product_id DESC LIMIT %d) d",
			strings.Join(conds, " AND "), maxRanked)
		conds = []string{"true"}
	}
	if after != nil {
		conds = append(conds, fmt.Sprintf("(%s, d.product_id) %s (%s::%s, %s::uuid)", key, op, b.arg(after.Key), spec.cast, b.arg(after.ID)))
	}
	sql := fmt.Sprintf(`SELECT x.product_id, x.shop_id, x.title, x.brand, x.model, x.category_id, x.price, x.list_price, x.currency,
       x.in_stock, x.rating::float8, x.rating_count, x.sold_count, x.shop_name, x.province, x.created_at, x.score, x.dist,
       x.k, %s
FROM (
	SELECT d.*, %s AS score, %s AS dist, (%s)::text AS k, row_number() OVER (ORDER BY %s %s, d.product_id %s) AS ord
	FROM %s
	WHERE %s
	ORDER BY %s %s, d.product_id %s
	LIMIT %s
) x
ORDER BY x.ord`, strings.ReplaceAll(highlight, "d.title", "x.title"), score, dist, key, key, dir, dir, from,
		strings.Join(conds, "\n\t  AND "), key, dir, dir, b.arg(limit+1))
	rows, err := e.reads.Query(ctx, sql, custom(b.args)...)
	if err != nil {
		return Results{}, fmt.Errorf("search: query: %w", err)
	}
	rs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return Results{}, fmt.Errorf("search: query: %w", err)
	}
	kept := httpx.Paginate(rs, limit, func(r row) any { return cursor{Sort: q.Sort, Key: r.Key, ID: r.ProductID} })
	out := Results{Items: make([]Item, len(kept.Items)), NextCursor: kept.NextCursor}
	for i, r := range kept.Items {
		out.Items[i] = Item{ID: r.ProductID, ShopID: r.ShopID, Title: r.Title, Brand: r.Brand, Model: r.Model, CategoryID: r.CategoryID,
			Price: r.Price, ListPrice: r.ListPrice, OnSale: r.Price < r.ListPrice, Currency: r.Currency, InStock: r.InStock,
			Rating: r.Rating, RatingCount: int(r.RatingCount), SoldCount: r.SoldCount, ShopName: r.ShopName, Province: r.Province,
			CreatedAt: r.CreatedAt.UTC(), Score: float64(r.Score), Highlight: r.Highlight}
		if r.Dist != nil {
			km := *r.Dist / 1000
			out.Items[i].DistanceKM = &km
		}
	}
	return out, nil
}

// synonyms looks up the shorthand among the query's words.
func (e *Postgres) synonyms(ctx context.Context, ws []string) (map[string]string, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	rows, err := e.q.Synonyms(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Term] = r.Expansion
	}
	return out, nil
}

// correct replaces each word the vocabulary does not know (accents aside) with its closest
// known word; "" when nothing changed or nothing close enough was found.
func (e *Postgres) correct(ctx context.Context, ws []string) (string, error) {
	if len(ws) == 0 || len(ws) > maxWords {
		return "", nil
	}
	known, err := e.q.KnownTerms(ctx, ws)
	if err != nil {
		return "", err
	}
	have := map[string]bool{}
	for _, k := range known {
		have[k] = true
	}
	changed := false
	out := make([]string, len(ws))
	err = pgdb.WithTx(ctx, e.pool, func(tx pgx.Tx) error {
		// Typos of short words share few trigrams; 0.25 catches "samsumg" and "iphnoe".
		if _, err := tx.Exec(ctx, "SET LOCAL pg_trgm.similarity_threshold = 0.25"); err != nil {
			return err
		}
		q := newStore(tx)
		for i, w := range ws {
			out[i] = w
			if have[w] || len([]rune(w)) < 3 || !vocabularyWord(w) {
				continue
			}
			t, err := q.ClosestTerm(ctx, w)
			if pgdb.IsNoRows(err) {
				continue
			}
			if err != nil {
				return err
			}
			out[i], changed = t.Word, true
		}
		return nil
	})
	if err != nil || !changed {
		return "", err
	}
	return strings.Join(out, " "), nil
}

// Facets counts the matches of q by category, brand, price range, rating and province.
func (e *Postgres) Facets(ctx context.Context, q Query) (Facets, error) {
	if err := q.check(); err != nil {
		return Facets{}, err
	}
	syn, err := e.synonyms(ctx, q.allWords())
	if err != nil {
		return Facets{}, err
	}
	var b sqlBuilder
	conds, _ := b.where(q.tsquery(syn), q.Filters)
	where := strings.Join(conds, " AND ")
	sql := fmt.Sprintf(`WITH m AS MATERIALIZED (
	SELECT d.category_id, d.category_name, d.brand, d.price, d.rating, d.province
	FROM search.documents d WHERE %s LIMIT %d
), e AS (
	SELECT (percentile_disc(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY price))::bigint[] AS t FROM m
)
SELECT (SELECT count(*) FROM m),
	(SELECT coalesce(json_agg(c), '[]') FROM (SELECT category_id AS id, category_name AS name, count(*) AS count FROM m
		WHERE category_id IS NOT NULL GROUP BY 1, 2 ORDER BY 3 DESC, 2 LIMIT 20) c),
	(SELECT coalesce(json_agg(c), '[]') FROM (SELECT brand AS value, count(*) AS count FROM m
		WHERE brand <> '' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20) c),
	(SELECT coalesce(json_agg(c), '[]') FROM (SELECT province AS value, count(*) AS count FROM m
		WHERE province <> '' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20) c),
	(SELECT coalesce(json_agg(c ORDER BY c.min), '[]') FROM (SELECT min(price) AS min, max(price) AS max, count(*) AS count
		FROM m, e WHERE e.t IS NOT NULL GROUP BY width_bucket(m.price, e.t)) c),
	(SELECT json_build_array(count(*) FILTER (WHERE rating >= 4), count(*) FILTER (WHERE rating >= 3),
		count(*) FILTER (WHERE rating >= 2), count(*) FILTER (WHERE rating >= 1)) FROM m)`, where, MaxExactFacets+1)
	var (
		n                               int
		cats, brands, provs, prices, rt []byte
	)
	if err := e.reads.QueryRow(ctx, sql, custom(b.args)...).Scan(&n, &cats, &brands, &provs, &prices, &rt); err != nil {
		return Facets{}, fmt.Errorf("search: facets: %w", err)
	}
	out := Facets{Total: n}
	var ratings []int
	for _, x := range []struct {
		raw []byte
		v   any
	}{{cats, &out.Categories}, {brands, &out.Brands}, {provs, &out.Provinces}, {prices, &out.PriceRanges}, {rt, &ratings}} {
		if err := json.Unmarshal(x.raw, x.v); err != nil {
			return Facets{}, fmt.Errorf("search: facets: %w", err)
		}
	}
	for i, c := range ratings {
		out.Ratings = append(out.Ratings, RatingCount{MinRating: 4 - i, Count: c})
	}
	if n > MaxExactFacets {
		// Past the exact bound, counting every match would read them all (800 ms for a word
		// the whole catalog holds): the planner's estimate of the matches stands for the
		// total, and the sample's counts are scaled to it.
		total, err := e.estimate(ctx, "SELECT 1 FROM search.documents d WHERE "+where, b.args)
		if err != nil {
			return Facets{}, err
		}
		out.Total, out.Approximate = max(total, n), true
		scale := float64(out.Total) / float64(n)
		sc := func(c int) int { return int(math.Round(float64(c) * scale)) }
		for i := range out.Categories {
			out.Categories[i].Count = sc(out.Categories[i].Count)
		}
		for i := range out.Brands {
			out.Brands[i].Count = sc(out.Brands[i].Count)
		}
		for i := range out.Provinces {
			out.Provinces[i].Count = sc(out.Provinces[i].Count)
		}
		for i := range out.PriceRanges {
			out.PriceRanges[i].Count = sc(out.PriceRanges[i].Count)
		}
		for i := range out.Ratings {
			out.Ratings[i].Count = sc(out.Ratings[i].Count)
		}
	}
	return out, nil
}

// estimate answers the planner's estimate of the rows sql reads (EXPLAIN, nothing run).
func (e *Postgres) estimate(ctx context.Context, sql string, args []any) (int, error) {
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := e.reads.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, custom(args)...).Scan(&plan); err != nil {
		return 0, fmt.Errorf("search: facets estimate: %w", err)
	}
	if len(plan) == 0 {
		return 0, errors.New("search: facets estimate: no plan")
	}
	return int(math.Round(plan[0].Plan.Rows)), nil
}

// Autocomplete completes the last word of text from the catalog's vocabulary, commonest words
// first, each proposal the text with its last word completed.
func (e *Postgres) Autocomplete(ctx context.Context, text string, limit int) (Completions, error) {
	ws := words(text)
	out := Completions{Items: []Completion{}}
	if len(ws) == 0 || len(ws) > maxWords {
		return out, nil
	}
	last := ws[len(ws)-1]
	head := strings.Join(ws[:len(ws)-1], " ")
	rows, err := e.q.CompleteTerm(ctx, store.CompleteTermParams{Prefix: last, Lim: int32(limit)})
	if err != nil {
		return out, err
	}
	for _, r := range rows {
		t := r.Word
		if head != "" {
			t = head + " " + t
		}
		out.Items = append(out.Items, Completion{Text: t, Kind: "term"})
	}
	return out, nil
}
