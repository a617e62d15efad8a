// Package search is the search and discovery context: a read model of its own (one document per
// listed product, in the `search` schema) fed by catalog, shop and order events, and the engine
// that answers full-text search with filters, facets and autocomplete over it.
//
// The documents are never the source of truth: every event makes the context re-read the
// product from the catalog and its shop from the shop context (through the interfaces below),
// so deliveries that repeat or overtake one another leave the newest state, and `goshop search
// reindex` rebuilds them from scratch.
package search

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/httpx"
)

// Source is a product as the catalog answers it to search.
type Source struct {
	ID          uuid.UUID
	ShopID      uuid.UUID
	Title       string
	Description string
	Brand       string
	Model       string
	GTIN        string
	CategoryID  *uuid.UUID
	// Path is the product's category and its ancestors, root first.
	Path        []Category
	Attributes  map[string]json.RawMessage
	Currency    string
	Rating      float64
	RatingCount int
	WeightGrams int
	Variants    []SourceVariant
	// Listed: active, not deleted, its shop not closed.
	Listed    bool
	CreatedAt time.Time
}

// SourceVariant is one variant of a Source: its price payable now without campaigns (the
// running discount applied), its list price and its stock.
type SourceVariant struct {
	ID        uuid.UUID
	Price     int64
	ListPrice int64
	Stock     int
}

// Category names a category.
type Category struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// ShopSource is a shop as search needs it.
type ShopSource struct {
	ID       uuid.UUID
	Name     string
	Province string
	Lat, Lng float64
	Rating   float64
	Active   bool
}

// Catalog is what search needs of the catalog context.
type Catalog interface {
	// Products re-reads products by ID whatever their state; IDs that never existed are absent.
	Products(ctx context.Context, ids []uuid.UUID) ([]Source, error)
	// ListedProductIDs pages through listed products in ID order after the given ID.
	ListedProductIDs(ctx context.Context, after uuid.UUID, limit int) ([]uuid.UUID, error)
}

// Shops is what search needs of the shop context. A missing shop is apperr.NotFound.
type Shops interface {
	Shop(ctx context.Context, id uuid.UUID) (ShopSource, error)
	// CampaignPrices answers the live campaign price of those variants in a running campaign
	// with stock left for them.
	CampaignPrices(ctx context.Context, variantIDs []uuid.UUID) (map[uuid.UUID]int64, error)
}

// EffectivePrice is the one definition of what a product costs for search, sorting, price
// comparison and price alerts: for each variant, its live campaign price (a running campaign
// with stock left for it), else its price with the running discount, else its list price; the
// product's is the lowest over its variants, with that variant's list price.
func EffectivePrice(vs []SourceVariant, campaign map[uuid.UUID]int64) (price, list int64) {
	for i, v := range vs {
		p := v.Price
		if c, ok := campaign[v.ID]; ok && c < p {
			p = c
		}
		if i == 0 || p < price {
			price, list = p, v.ListPrice
		}
	}
	return price, list
}

// Item is one product of a search answer: the product summary (as its search document holds
// it), its score for the query and its title with the matched words marked.
type Item struct {
	ID          uuid.UUID  `json:"id"`
	ShopID      uuid.UUID  `json:"shop_id"`
	Title       string     `json:"title"`
	Brand       string     `json:"brand"`
	Model       string     `json:"model"`
	CategoryID  *uuid.UUID `json:"category_id"`
	Price       int64      `json:"price"`
	ListPrice   int64      `json:"list_price"`
	OnSale      bool       `json:"on_sale"`
	Currency    string     `json:"currency"`
	InStock     bool       `json:"in_stock"`
	Rating      float64    `json:"rating"`
	RatingCount int        `json:"rating_count"`
	SoldCount   int64      `json:"sold_count"`
	ShopName    string     `json:"shop_name"`
	Province    string     `json:"province"`
	DistanceKM  *float64   `json:"distance_km,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	// Score is the relevance to the query (0 without one).
	Score float64 `json:"score"`
	// Highlight is the title with the words that matched between <em> and </em>.
	Highlight string `json:"highlight"`
}

// Results is a page of search results. DidYouMean is the corrected query when the query as
// typed found little: the items are then the corrected query's when it found none.
type Results struct {
	Items      []Item `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
	DidYouMean string `json:"did_you_mean,omitempty"`
}

// Facets count the matches of a query and its filters by category, brand, price range, rating
// and province. Counts are exact up to MaxExactFacets matches; past that Approximate is set and
// they are scaled from the first MaxExactFacets.
type Facets struct {
	Total       int             `json:"total"`
	Approximate bool            `json:"approximate"`
	Categories  []CategoryCount `json:"categories"`
	Brands      []ValueCount    `json:"brands"`
	PriceRanges []PriceRange    `json:"price_ranges"`
	Ratings     []RatingCount   `json:"ratings"`
	Provinces   []ValueCount    `json:"provinces"`
}

// MaxExactFacets is how many matches facets count exactly.
const MaxExactFacets = 10_000

// CategoryCount is a category facet.
type CategoryCount struct {
	ID    uuid.UUID `json:"id"`
	Name  string    `json:"name"`
	Count int       `json:"count"`
}

// ValueCount is a brand or province facet.
type ValueCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// PriceRange is a price bucket, Min and Max included.
type PriceRange struct {
	Min   int64 `json:"min"`
	Max   int64 `json:"max"`
	Count int   `json:"count"`
}

// RatingCount counts the matches rated at least MinRating.
type RatingCount struct {
	MinRating int `json:"min_rating"`
	Count     int `json:"count"`
}

// Completion is an autocomplete or suggestion proposal.
type Completion struct {
	Text string `json:"text"`
	// Kind says where it comes from: "term" (the catalog's vocabulary), "popular" (what buyers
	// search), "correction" (a spelling fix).
	Kind string `json:"kind"`
}

// Completions is the answer of autocomplete and suggestions.
type Completions struct {
	Items []Completion `json:"items"`
}

// Searcher is a search engine over the documents: PostgreSQL by default, Meilisearch when
// configured. Both answer the same shapes.
type Searcher interface {
	Search(ctx context.Context, q Query, page httpx.Page) (Results, error)
	Facets(ctx context.Context, q Query) (Facets, error)
}
