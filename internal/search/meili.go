package search

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/meilisearch/meilisearch-go"
	"github.com/riverqueue/river"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/search/internal/store"
)

// Meili is the scale-out engine: a Meilisearch index mirroring search.documents, kept in step by
// River jobs that the document writes enqueue in their own transactions (so the index follows
// the same events as the read model, and a job lost to a crash is never lost). It answers the
// same shapes as the PostgreSQL engine. What it does not do as PostgreSQL does: did_you_mean
// (Meilisearch's typo tolerance answers the corrected matches instead), none_of in advanced
// search (its words are left out), and one price range (from the matches' lowest to highest)
// instead of quartile buckets.
type Meili struct {
	client meilisearch.ServiceManager
	uid    string
}

// NewMeili connects to the Meilisearch at url (key may be empty) and its index.
func NewMeili(url, key, index string) *Meili {
	return &Meili{client: meilisearch.New(url, meilisearch.WithAPIKey(key)), uid: index}
}

// index is a handle on the index for one call: meilisearch-go's handle remembers the primary
// key it was last given, so one shared by concurrent jobs and requests would race.
func (m *Meili) index() meilisearch.IndexManager { return m.client.Index(m.uid) }

// meiliPrimaryKey is the documents' primary key.
const meiliPrimaryKey = "id"

// meiliDoc is a document as the index holds it: the filters compare the *_key values (folded,
// lower case), the facets read category ("id|name"), brand, province and rating_floor.
type meiliDoc struct {
	ID           string    `json:"id"`
	ShopID       string    `json:"shop_id"`
	Title        string    `json:"title"`
	Description  string    `json:"description"`
	Brand        string    `json:"brand"`
	BrandKey     string    `json:"brand_key"`
	Model        string    `json:"model"`
	ModelKey     string    `json:"model_key"`
	CategoryID   *string   `json:"category_id"`
	Category     string    `json:"category"`
	CategoryIDs  []string  `json:"category_ids"`
	CategoryPath string    `json:"category_path"`
	Attrs        []string  `json:"attrs"`
	AttrsText    string    `json:"attrs_text"`
	Price        int64     `json:"price"`
	ListPrice    int64     `json:"list_price"`
	Currency     string    `json:"currency"`
	InStock      bool      `json:"in_stock"`
	Rating       float64   `json:"rating"`
	RatingFloor  int       `json:"rating_floor"`
	RatingCount  int32     `json:"rating_count"`
	SoldCount    int64     `json:"sold_count"`
	ShopName     string    `json:"shop_name"`
	Province     string    `json:"province"`
	ProvinceKey  string    `json:"province_key"`
	Geo          meiliGeo  `json:"_geo"`
	CreatedAt    int64     `json:"created_at"`
	Created      time.Time `json:"created"`
}

type meiliGeo struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

func meiliDocOf(r store.MeiliDocumentsRow) meiliDoc {
	d := meiliDoc{ID: r.ProductID.String(), ShopID: r.ShopID.String(), Title: r.Title, Description: r.Description,
		Brand: r.Brand, BrandKey: strings.ToLower(strings.TrimSpace(r.Brand)), Model: r.Model,
		ModelKey: strings.ToLower(strings.TrimSpace(r.Model)), CategoryPath: r.CategoryPath, Attrs: r.Attrs,
		AttrsText: r.AttrsText, Price: r.Price, ListPrice: r.ListPrice, Currency: r.Currency, InStock: r.InStock,
		Rating: r.Rating, RatingFloor: int(r.Rating), RatingCount: r.RatingCount, SoldCount: r.SoldCount,
		ShopName: r.ShopName, Province: r.Province, ProvinceKey: r.ProvinceKey, Geo: meiliGeo{r.Lat, r.Lng},
		CreatedAt: r.CreatedAt.Unix(), Created: r.CreatedAt.UTC(), CategoryIDs: []string{}}
	if r.CategoryID != nil {
		s := r.CategoryID.String()
		d.CategoryID, d.Category = &s, s+"|"+r.CategoryName
	}
	for _, c := range r.CategoryIds {
		d.CategoryIDs = append(d.CategoryIDs, c.String())
	}
	if d.Attrs == nil {
		d.Attrs = []string{}
	}
	return d
}

// ApplySettings sets what the index searches, filters, sorts and forgives (typos), and the
// shorthand synonyms; applying them twice changes nothing.
func (m *Meili) ApplySettings(ctx context.Context, synonyms map[string][]string) error {
	_, err := m.index().UpdateSettings(ctx, &meilisearch.Settings{
		SearchableAttributes: []string{"title", "brand", "model", "category_path", "attrs_text", "province", "description"},
		FilterableAttributes: []string{"category_ids", "shop_id", "brand_key", "model_key", "price", "rating", "in_stock",
			"province_key", "attrs", "_geo", "category", "brand", "province", "rating_floor"},
		SortableAttributes: []string{"price", "created_at", "rating", "sold_count", "_geo"},
		TypoTolerance:      &meilisearch.TypoTolerance{Enabled: true, MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{OneTypo: 4, TwoTypos: 8}},
		Synonyms:           synonyms,
	})
	if err != nil {
		return fmt.Errorf("search: meilisearch settings: %w", err)
	}
	return nil
}

// Put writes documents; Delete removes products. Both are idempotent.
func (m *Meili) Put(ctx context.Context, docs []meiliDoc) error {
	if len(docs) == 0 {
		return nil
	}
	pk := meiliPrimaryKey
	if _, err := m.index().AddDocuments(ctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk}); err != nil {
		return fmt.Errorf("search: meilisearch add: %w", err)
	}
	return nil
}

// Clear removes every document from the index.
func (m *Meili) Clear(ctx context.Context) error {
	if _, err := m.index().DeleteAllDocuments(ctx, nil); err != nil {
		return fmt.Errorf("search: meilisearch clear: %w", err)
	}
	return nil
}

// Delete removes products from the index.
func (m *Meili) Delete(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := m.index().DeleteDocuments(ctx, ids, nil); err != nil {
		return fmt.Errorf("search: meilisearch delete: %w", err)
	}
	return nil
}

// fold is search.fold in Go, for the values filters compare with the folded *_key fields:
// lower case, accents off, đ to d.
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, _ := transform.String(t, strings.ToLower(s))
	return strings.NewReplacer("đ", "d").Replace(out)
}

// quote makes a Meilisearch filter string literal.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// meiliFilter is the filters as a Meilisearch filter expression (all of them, ANDed).
func meiliFilter(f Filters) []string {
	var out []string
	if f.CategoryID != nil {
		out = append(out, "category_ids = "+quote(f.CategoryID.String()))
	}
	if f.ShopID != nil {
		out = append(out, "shop_id = "+quote(f.ShopID.String()))
	}
	if f.Brand != "" {
		out = append(out, "brand_key = "+quote(strings.ToLower(strings.TrimSpace(f.Brand))))
	}
	if f.Model != "" {
		out = append(out, "model_key = "+quote(strings.ToLower(strings.TrimSpace(f.Model))))
	}
	if f.MinPrice != nil {
		out = append(out, "price >= "+strconv.FormatInt(*f.MinPrice, 10))
	}
	if f.MaxPrice != nil {
		out = append(out, "price <= "+strconv.FormatInt(*f.MaxPrice, 10))
	}
	if f.MinRating != nil {
		out = append(out, "rating >= "+strconv.FormatFloat(*f.MinRating, 'f', -1, 64))
	}
	if f.InStock != nil {
		out = append(out, "in_stock = "+strconv.FormatBool(*f.InStock))
	}
	if f.Province != "" {
		out = append(out, "province_key = "+quote(fold(strings.TrimSpace(f.Province))))
	}
	if f.RadiusKM != nil && f.Lat != nil && f.Lng != nil {
		out = append(out, fmt.Sprintf("_geoRadius(%s, %s, %d)", strconv.FormatFloat(*f.Lat, 'f', -1, 64),
			strconv.FormatFloat(*f.Lng, 'f', -1, 64), int64(*f.RadiusKM*1000)))
	}
	names := make([]string, 0, len(f.Attrs))
	for name := range f.Attrs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		out = append(out, "attrs = "+quote(fold(attrPair(name, f.Attrs[name]))))
	}
	return out
}

// meiliSort is the sort as Meilisearch's; nil for relevance.
func meiliSort(q Query) []string {
	switch q.Sort {
	case SortPriceAsc:
		return []string{"price:asc"}
	case SortPriceDesc:
		return []string{"price:desc"}
	case SortNewest:
		return []string{"created_at:desc"}
	case SortRating:
		return []string{"rating:desc"}
	case SortBestSelling:
		return []string{"sold_count:desc"}
	case SortDistance:
		return []string{fmt.Sprintf("_geoPoint(%s, %s):asc", strconv.FormatFloat(*q.Lat, 'f', -1, 64), strconv.FormatFloat(*q.Lng, 'f', -1, 64))}
	}
	return nil
}

// meiliText is the words Meilisearch searches: the query, or an advanced query's all-of,
// any-of and fields' words, and its phrase in quotes (a phrase search).
func meiliText(q Query) string {
	a := q.Advanced
	if a == nil {
		return strings.TrimSpace(nfc(q.Text))
	}
	parts := append(append([]string{}, a.AllOf...), a.AnyOf...)
	if f := a.Fields; f != nil {
		parts = append(parts, f.Title, f.Brand, f.Model, f.Category, f.Description)
	}
	if ws := words(a.Phrase); len(ws) > 0 {
		parts = append(parts, `"`+strings.Join(ws, " ")+`"`)
	}
	return strings.Join(strings.Fields(nfc(strings.Join(parts, " "))), " ")
}

// meiliCursor is the offset of the next page.
type meiliCursor struct {
	Sort   string `json:"s"`
	Offset int64  `json:"o"`
}

type meiliHit struct {
	meiliDoc
	Score     float64  `json:"_rankingScore"`
	Distance  *float64 `json:"_geoDistance"`
	Formatted struct {
		Title string `json:"title"`
	} `json:"_formatted"`
}

// Search answers a page of the index's matches.
func (m *Meili) Search(ctx context.Context, q Query, page httpx.Page) (Results, error) {
	if err := q.check(); err != nil {
		return Results{}, err
	}
	var cur meiliCursor
	has, err := httpx.DecodeCursor(page.Cursor, &cur)
	if err != nil {
		return Results{}, err
	}
	if has && cur.Sort != q.Sort {
		return Results{}, apperr.Field("cursor", "was made for another sort")
	}
	res, err := m.index().Search(ctx, meiliText(q), &meilisearch.SearchRequest{
		Offset: cur.Offset, Limit: int64(page.Limit) + 1, Filter: meiliFilter(q.Filters), Sort: meiliSort(q),
		AttributesToHighlight: []string{"title"}, HighlightPreTag: "<em>", HighlightPostTag: "</em>", ShowRankingScore: true,
	})
	if err != nil {
		return Results{}, fmt.Errorf("search: meilisearch: %w", err)
	}
	var hits []meiliHit
	if err := res.Hits.DecodeInto(&hits); err != nil {
		return Results{}, fmt.Errorf("search: meilisearch hits: %w", err)
	}
	out := Results{Items: []Item{}}
	if len(hits) > page.Limit {
		hits = hits[:page.Limit]
		out.NextCursor = httpx.EncodeCursor(meiliCursor{Sort: q.Sort, Offset: cur.Offset + int64(page.Limit)})
	}
	for _, h := range hits {
		id, err := uuid.Parse(h.ID)
		if err != nil {
			return Results{}, fmt.Errorf("search: meilisearch hit id %q: %w", h.ID, err)
		}
		shop, _ := uuid.Parse(h.ShopID)
		it := Item{ID: id, ShopID: shop, Title: h.Title, Brand: h.Brand, Model: h.Model, Price: h.Price, ListPrice: h.ListPrice,
			OnSale: h.Price < h.ListPrice, Currency: h.Currency, InStock: h.InStock, Rating: h.Rating, RatingCount: int(h.RatingCount),
			SoldCount: h.SoldCount, ShopName: h.ShopName, Province: h.Province, CreatedAt: h.Created, Highlight: h.Formatted.Title}
		if q.tsquery(nil) != "" {
			it.Score = h.Score
		}
		if h.CategoryID != nil {
			if c, err := uuid.Parse(*h.CategoryID); err == nil {
				it.CategoryID = &c
			}
		}
		if h.Distance != nil {
			km := *h.Distance / 1000
			it.DistanceKM = &km
		}
		if it.Highlight == "" {
			it.Highlight = h.Title
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

// Facets counts the matches by category, brand, province and rating from the index's facet
// distribution; the price range is the matches' lowest to highest price.
func (m *Meili) Facets(ctx context.Context, q Query) (Facets, error) {
	if err := q.check(); err != nil {
		return Facets{}, err
	}
	none := int64(0) // no hits, only the counts (and, paged so, an exhaustive total)
	res, err := m.index().Search(ctx, meiliText(q), &meilisearch.SearchRequest{
		HitsPerPage: &none, Filter: meiliFilter(q.Filters), Facets: []string{"category", "brand", "province", "rating_floor", "price"},
	})
	if err != nil {
		return Facets{}, fmt.Errorf("search: meilisearch facets: %w", err)
	}
	var dist map[string]map[string]int
	var stats map[string]struct{ Min, Max float64 }
	if len(res.FacetDistribution) > 0 {
		if err := json.Unmarshal(res.FacetDistribution, &dist); err != nil {
			return Facets{}, fmt.Errorf("search: meilisearch facets: %w", err)
		}
	}
	if len(res.FacetStats) > 0 {
		if err := json.Unmarshal(res.FacetStats, &stats); err != nil {
			return Facets{}, fmt.Errorf("search: meilisearch facet stats: %w", err)
		}
	}
	total := int(max(res.EstimatedTotalHits, res.TotalHits))
	out := Facets{Total: total, Approximate: total > MaxExactFacets, Categories: []CategoryCount{}, Brands: top(dist["brand"]),
		Provinces: top(dist["province"]), PriceRanges: []PriceRange{}, Ratings: []RatingCount{}}
	for v, n := range dist["category"] {
		id, name, _ := strings.Cut(v, "|")
		if cid, err := uuid.Parse(id); err == nil {
			out.Categories = append(out.Categories, CategoryCount{ID: cid, Name: name, Count: n})
		}
	}
	sort.Slice(out.Categories, func(i, j int) bool {
		a, b := out.Categories[i], out.Categories[j]
		return a.Count > b.Count || (a.Count == b.Count && a.Name < b.Name)
	})
	if len(out.Categories) > 20 {
		out.Categories = out.Categories[:20]
	}
	if p, ok := stats["price"]; ok && total > 0 {
		out.PriceRanges = append(out.PriceRanges, PriceRange{Min: int64(p.Min), Max: int64(p.Max), Count: total})
	}
	floors := dist["rating_floor"]
	for min := 4; min >= 1; min-- {
		n := 0
		for f := min; f <= 5; f++ {
			n += floors[strconv.Itoa(f)]
		}
		out.Ratings = append(out.Ratings, RatingCount{MinRating: min, Count: n})
	}
	return out, nil
}

// top is a facet's 20 commonest values.
func top(counts map[string]int) []ValueCount {
	out := []ValueCount{}
	for v, n := range counts {
		if v != "" {
			out = append(out, ValueCount{Value: v, Count: n})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Count > out[j].Count || (out[i].Count == out[j].Count && out[i].Value < out[j].Value)
	})
	if len(out) > 20 {
		out = out[:20]
	}
	return out
}

// meiliSyncArgs names products whose document changed: the job copies each from
// search.documents to the index, or removes it from the index when it has no document.
type meiliSyncArgs struct {
	ProductIDs []uuid.UUID `json:"product_ids"`
}

// Kind implements river.JobArgs.
func (meiliSyncArgs) Kind() string { return "search.meili_sync" }

// meiliSyncWorker copies documents to the index; running it twice writes the same.
type meiliSyncWorker struct {
	river.WorkerDefaults[meiliSyncArgs]
	s *Service
}

// Work implements river.Worker.
func (w *meiliSyncWorker) Work(ctx context.Context, job *river.Job[meiliSyncArgs]) error {
	rows, err := w.s.q.MeiliDocuments(ctx, job.Args.ProductIDs)
	if err != nil {
		return err
	}
	found := map[uuid.UUID]bool{}
	docs := make([]meiliDoc, 0, len(rows))
	for _, r := range rows {
		found[r.ProductID] = true
		docs = append(docs, meiliDocOf(r))
	}
	var gone []string
	for _, id := range job.Args.ProductIDs {
		if !found[id] {
			gone = append(gone, id.String())
		}
	}
	if err := w.s.meili.Put(ctx, docs); err != nil {
		return err
	}
	return w.s.meili.Delete(ctx, gone)
}

// meiliSettingsArgs applies the index's settings (at start, then hourly: an admin's new
// synonyms reach the index).
type meiliSettingsArgs struct{}

// Kind implements river.JobArgs.
func (meiliSettingsArgs) Kind() string { return "search.meili_settings" }

type meiliSettingsWorker struct {
	river.WorkerDefaults[meiliSettingsArgs]
	s *Service
}

// Work implements river.Worker.
func (w *meiliSettingsWorker) Work(ctx context.Context, _ *river.Job[meiliSettingsArgs]) error {
	rows, err := w.s.q.AllSynonyms(ctx)
	if err != nil {
		return err
	}
	syn := map[string][]string{}
	for _, r := range rows {
		syn[r.Term] = []string{r.Expansion}
	}
	return w.s.meili.ApplySettings(ctx, syn)
}
