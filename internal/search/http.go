package search

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// Handler serves the search routes.
type Handler struct {
	svc   *Service
	authn *auth.Authenticator
}

// NewHandler returns the search HTTP handler.
func NewHandler(svc *Service, authn *auth.Authenticator) *Handler {
	return &Handler{svc: svc, authn: authn}
}

// Routes mounts the search routes. GET /search, /products/search and /products/filter are one
// behaviour under three names: the brief's aliases (price_min, price_max, rating, location)
// are accepted on all three.
func (h *Handler) Routes(r chi.Router) {
	const ok = http.StatusOK
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodGet, "/price-alerts", httpx.Endpoint(ok, h.alerts).
			Doc("The caller's price alerts, newest first").For(httpx.AnyUser).Paged())
		r.Method(http.MethodPost, "/price-alerts", httpx.WithBody(http.StatusCreated, h.createAlert).
			Doc("Be told once when a product's (or variant's) price drops to or below a target").For(httpx.AnyUser).
			Can(apperr.Conflict, apperr.TooManyRequests))
		r.Method(http.MethodGet, "/recommendations/similar-users", httpx.Endpoint(ok, h.recommendSimilar).
			Doc("Products bought by buyers whose purchases overlap the caller's (never who they are); each says why").
			For(httpx.AnyUser).Params(limitParams{}))
		r.Method(http.MethodDelete, "/price-alerts/{id}", httpx.WithID(http.StatusNoContent, "id", "price alert", h.deleteAlert).
			Doc("Delete one of the caller's price alerts").For(httpx.Owner))
	})
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Optional)
		r.Method(http.MethodGet, "/search", httpx.Endpoint(ok, h.search).
			Doc("Search listed products: words (accents optional), filters and a sort; did_you_mean when it found little").
			For(httpx.Public).Params(searchParams{}))
		r.Method(http.MethodGet, "/products/search", httpx.Endpoint(ok, h.search).
			Doc("Search products: the same as GET /search").For(httpx.Public).Params(searchParams{}))
		r.Method(http.MethodGet, "/products/filter", httpx.Endpoint(ok, h.search).
			Doc("Filter products, with or without words: the same as GET /search").For(httpx.Public).Params(searchParams{}))
		r.Method(http.MethodPost, "/search/advanced", httpx.WithBody(ok, h.advanced).
			Doc("Search with a structured query: all of, any of, none of, a phrase, per-field words; the same filters").
			For(httpx.Public).Paged())
		r.Method(http.MethodGet, "/search/filters/available", httpx.Endpoint(ok, h.facets).
			Doc("Facet counts of a query and its filters: categories, brands, price ranges, ratings, provinces").
			For(httpx.Public).Params(facetParams{}))
		r.Method(http.MethodGet, "/search/autocomplete", httpx.Endpoint(ok, h.autocomplete).
			Doc("Complete the word being typed from the catalog's vocabulary").For(httpx.Public).Params(completeParams{}))
		r.Method(http.MethodGet, "/search/suggestions", httpx.Endpoint(ok, h.suggestions).
			Doc("Whole queries for what has been typed: popular searches that start with or contain it, its spelling corrected").
			For(httpx.Public).Params(completeParams{}))
		r.Method(http.MethodGet, "/trending/products", httpx.Endpoint(ok, h.trendingProducts).
			Doc("Products by time-decayed score of views, clicks, add-to-carts and purchases").For(httpx.Public).Params(trendingParams{}))
		r.Method(http.MethodGet, "/trending/shops", httpx.Endpoint(ok, h.trendingShops).
			Doc("Shops by the time-decayed score of their products").For(httpx.Public).Paged())
		r.Method(http.MethodGet, "/trending/categories", httpx.Endpoint(ok, h.trendingCategories).
			Doc("Categories by the time-decayed score of their products").For(httpx.Public).Paged())
		r.Method(http.MethodGet, "/popular/searches", httpx.Endpoint(ok, h.popular).
			Doc("The most searched queries of the last days that found something").For(httpx.Public).Params(popularParams{}))
		r.Method(http.MethodGet, "/products/{id}/price-comparison", httpx.WithID(ok, "id", "product", h.compare).
			Doc("The same product sold by other shops (by GTIN, else brand and model, else a close title), cheapest first, "+
				"with the shipping fee to the caller's default address").For(httpx.Public))
		r.Method(http.MethodGet, "/products/similar-price", httpx.Endpoint(ok, h.similarPrice).
			Doc("Products of the same category priced within 20% of a product's price, closest first").For(httpx.Public).
			Params(similarParams{}))
		r.Method(http.MethodGet, "/products/{id}/related", httpx.WithID(ok, "id", "product", h.related).
			Doc("Products bought together with this one, then others of its category").For(httpx.Public).Params(limitParams{}))

		r.Method(http.MethodGet, "/recommendations/products", withVisitor(h, httpx.Endpoint(ok, h.recommendProducts)).
			Doc("Products for the caller: neighbours of what they viewed and bought, trending in their categories; each says why").
			For(httpx.Public).Params(limitParams{}))
		r.Method(http.MethodGet, "/recommendations/shops", withVisitor(h, httpx.Endpoint(ok, h.recommendShops)).
			Doc("Shops selling what is recommended to the caller; each says why").For(httpx.Public).Params(limitParams{}))
		r.Method(http.MethodGet, "/recommendations/based-on-behavior", withVisitor(h, httpx.Endpoint(ok, h.recommendSession)).
			Doc("Products from the caller's recent session (the last two hours); each says why").For(httpx.Public).Params(limitParams{}))

		const accepted = http.StatusAccepted
		r.Method(http.MethodPost, "/behavior/view-product", withVisitor(h, httpx.WithBody(accepted, h.view)).
			Doc("Record that the caller (signed in, or the X-Device-ID device) viewed a product").For(httpx.Public).
			Can(apperr.NotFound).Can(apperr.TooManyRequests))
		r.Method(http.MethodPost, "/behavior/search", withVisitor(h, httpx.WithBody(accepted, h.searched)).
			Doc("Record that the caller searched").For(httpx.Public).Can(apperr.TooManyRequests))
		r.Method(http.MethodPost, "/behavior/click", withVisitor(h, httpx.WithBody(accepted, h.click)).
			Doc("Record that the caller clicked a product (a search result, a recommendation)").For(httpx.Public).
			Can(apperr.NotFound).Can(apperr.TooManyRequests))
		r.Method(http.MethodGet, "/recent/products", withVisitor(h, httpx.Endpoint(ok, h.recentProducts)).
			Doc("The products the caller viewed, each once, most recent first").For(httpx.Public).Paged())
		r.Method(http.MethodGet, "/recent/searches", withVisitor(h, httpx.Endpoint(ok, h.recentSearches)).
			Doc("The caller's searches, each once, most recent first").For(httpx.Public).Paged())
	})
}

// filterParams are the filters as query parameters: the common names, the brief's aliases,
// attributes and the filters JSON object.
type filterParams struct {
	paramFilters
	PriceMin *int64            `query:"price_min" validate:"omitempty,min=0,max=1000000000000" doc:"alias of min_price"`
	PriceMax *int64            `query:"price_max" validate:"omitempty,min=0,max=1000000000000" doc:"alias of max_price"`
	Rating   *float64          `query:"rating" validate:"omitempty,min=0,max=5" doc:"alias of min_rating"`
	Location string            `query:"location" validate:"max=100" doc:"alias of province"`
	Attr     map[string]string `query:"attr.*" validate:"max=20,dive,keys,min=1,max=100,endkeys,max=200" doc:"keep the products whose attribute <name> is <value> (an array attribute: holds it), accents and case aside; up to 20"`
	JSON     string            `query:"filters" validate:"max=4000" doc:"the same filters as one JSON object, attributes as \"attr.<name>\" keys"`
}

// paramFilters are the Filters read from the query string (a type of its own, so that its
// embedded name cannot be taken for the "filters" parameter).
type paramFilters Filters

type searchParams struct {
	Q    string `query:"q" validate:"max=200" doc:"the words to search for, with or without accents"`
	Sort string `query:"sort" validate:"omitempty,oneof=relevance price_asc price_desc newest rating best_selling distance" doc:"relevance (the default with q), price_asc, price_desc, newest (the default without q), rating, best_selling, distance (needs lat and lng)"`
	filterParams
	httpx.PageQuery
}

type facetParams struct {
	Q string `query:"q" validate:"max=200" doc:"the words to search for"`
	filterParams
}

type completeParams struct {
	Q     string `query:"q" validate:"required,max=100" doc:"what has been typed so far"`
	Limit *int   `query:"limit" validate:"omitempty,min=1,max=20" doc:"proposals, 1 to 20 (default 10)"`
}

// filters merges the parameters into one Filters: the JSON object first, then the parameters,
// which win.
func (p filterParams) filters() (Filters, error) {
	var f Filters
	if p.JSON != "" {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(p.JSON), &raw); err != nil {
			return f, apperr.Field("filters", "is not a JSON object")
		}
		attrs := map[string]string{}
		for k, v := range raw {
			if name, ok := strings.CutPrefix(k, "attr."); ok {
				var s string
				if json.Unmarshal(v, &s) != nil {
					return f, apperr.Field("filters", k+" must be a string")
				}
				attrs[name] = s
				delete(raw, k)
			}
		}
		rest, _ := json.Marshal(raw)
		if err := json.Unmarshal(rest, &f); err != nil {
			return f, apperr.Field("filters", "has a filter of the wrong type")
		}
		for k, v := range attrs {
			if f.Attrs == nil {
				f.Attrs = map[string]string{}
			}
			f.Attrs[k] = v
		}
		if err := httpx.Validate(&f); err != nil {
			return f, apperr.Field("filters", err.Error())
		}
	}
	q := Filters(p.paramFilters)
	set := func(dst **int64, a, b *int64) {
		if a != nil {
			*dst = a
		} else if b != nil {
			*dst = b
		}
	}
	set(&f.MinPrice, q.MinPrice, p.PriceMin)
	set(&f.MaxPrice, q.MaxPrice, p.PriceMax)
	if q.MinRating != nil {
		f.MinRating = q.MinRating
	} else if p.Rating != nil {
		f.MinRating = p.Rating
	}
	if q.Brand != "" {
		f.Brand = q.Brand
	}
	if q.Model != "" {
		f.Model = q.Model
	}
	if p.Location != "" {
		f.Province = p.Location
	}
	if q.Province != "" {
		f.Province = q.Province
	}
	if q.CategoryID != nil {
		f.CategoryID = q.CategoryID
	}
	if q.ShopID != nil {
		f.ShopID = q.ShopID
	}
	if q.InStock != nil {
		f.InStock = q.InStock
	}
	if q.Lat != nil {
		f.Lat = q.Lat
	}
	if q.Lng != nil {
		f.Lng = q.Lng
	}
	if q.RadiusKM != nil {
		f.RadiusKM = q.RadiusKM
	}
	for name, value := range p.Attr {
		if f.Attrs == nil {
			f.Attrs = map[string]string{}
		}
		f.Attrs[name] = value
	}
	if len(f.Attrs) > 20 {
		return f, apperr.Field("attr", "at most 20 attribute filters")
	}
	return f, nil
}

func (h *Handler) search(r *http.Request) (Results, error) {
	p, err := httpx.QueryOf[searchParams](r)
	if err != nil {
		return Results{}, err
	}
	f, err := p.filters()
	if err != nil {
		return Results{}, err
	}
	return h.svc.Search(r.Context(), Query{Text: p.Q, Filters: f, Sort: p.Sort}, p.Page())
}

// AdvancedInput is a structured search.
type AdvancedInput struct {
	Advanced
	Filters Filters `json:"filters"`
	Sort    string  `json:"sort" validate:"omitempty,oneof=relevance price_asc price_desc newest rating best_selling distance"`
}

func (h *Handler) advanced(r *http.Request, in AdvancedInput) (Results, error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return Results{}, err
	}
	a := in.Advanced
	q := Query{Advanced: &a, Filters: in.Filters, Sort: in.Sort}
	if q.tsquery(nil) == "" && (len(a.AllOf)+len(a.AnyOf)+len(a.NoneOf) > 0 || a.Phrase != "" || a.Fields != nil) {
		return Results{}, apperr.Field("all_of", "the query has no word to search for")
	}
	return h.svc.Search(r.Context(), q, page)
}

func (h *Handler) facets(r *http.Request) (Facets, error) {
	p, err := httpx.QueryOf[facetParams](r)
	if err != nil {
		return Facets{}, err
	}
	f, err := p.filters()
	if err != nil {
		return Facets{}, err
	}
	return h.svc.Facets(r.Context(), Query{Text: p.Q, Filters: f, Sort: SortNewest})
}

func (h *Handler) autocomplete(r *http.Request) (Completions, error) {
	p, err := httpx.QueryOf[completeParams](r)
	if err != nil {
		return Completions{}, err
	}
	limit := 10
	if p.Limit != nil {
		limit = *p.Limit
	}
	return h.svc.Autocomplete(r.Context(), p.Q, limit)
}

// deviceHeader names an anonymous visitor's device.
const deviceHeader = "X-Device-ID"

// withVisitor declares the device header on a behaviour route.
func withVisitor(_ *Handler, op *httpx.Op) *httpx.Op {
	return op.Header(deviceHeader, "an anonymous visitor's device, a client-chosen ID of 8 to 64 letters, digits, - or _ (ignored when signed in)").
		Can(apperr.Unauthorized, apperr.Unavailable)
}

func visitor(r *http.Request) (Visitor, error) {
	return VisitorOf(auth.Maybe(r), r.Header.Get(deviceHeader))
}

func (h *Handler) view(r *http.Request, in ViewInput) (Accepted, error) {
	v, err := visitor(r)
	if err != nil {
		return Accepted{}, err
	}
	return Accepted{Accepted: true}, h.svc.RecordView(r.Context(), v, in)
}

func (h *Handler) searched(r *http.Request, in SearchInput) (Accepted, error) {
	v, err := visitor(r)
	if err != nil {
		return Accepted{}, err
	}
	return Accepted{Accepted: true}, h.svc.RecordSearch(r.Context(), v, in)
}

func (h *Handler) click(r *http.Request, in ClickInput) (Accepted, error) {
	v, err := visitor(r)
	if err != nil {
		return Accepted{}, err
	}
	return Accepted{Accepted: true}, h.svc.RecordClick(r.Context(), v, in)
}

func (h *Handler) recentProducts(r *http.Request) (httpx.List[RecentProduct], error) {
	v, err := visitor(r)
	if err != nil {
		return httpx.List[RecentProduct]{}, err
	}
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[RecentProduct]{}, err
	}
	return h.svc.RecentProducts(r.Context(), v, page)
}

func (h *Handler) recentSearches(r *http.Request) (httpx.List[RecentSearch], error) {
	v, err := visitor(r)
	if err != nil {
		return httpx.List[RecentSearch]{}, err
	}
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[RecentSearch]{}, err
	}
	return h.svc.RecentSearches(r.Context(), v, page)
}

type trendingParams struct {
	Category *uuid.UUID `query:"category" doc:"only products of this category or its subcategories"`
	httpx.PageQuery
}

type popularParams struct {
	Limit *int `query:"limit" validate:"omitempty,min=1,max=50" doc:"queries, 1 to 50 (default 10)"`
}

// PopularSearches is the answer of /popular/searches.
type PopularSearches struct {
	Items []PopularSearch `json:"items"`
}

func (h *Handler) suggestions(r *http.Request) (Completions, error) {
	p, err := httpx.QueryOf[completeParams](r)
	if err != nil {
		return Completions{}, err
	}
	limit := 10
	if p.Limit != nil {
		limit = *p.Limit
	}
	return h.svc.Suggestions(r.Context(), p.Q, limit)
}

func (h *Handler) trendingProducts(r *http.Request) (httpx.List[TrendingProduct], error) {
	p, err := httpx.QueryOf[trendingParams](r)
	if err != nil {
		return httpx.List[TrendingProduct]{}, err
	}
	return h.svc.TrendingProducts(r.Context(), p.Category, p.Page())
}

func (h *Handler) trendingShops(r *http.Request) (httpx.List[TrendingShop], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[TrendingShop]{}, err
	}
	return h.svc.TrendingShops(r.Context(), page)
}

func (h *Handler) trendingCategories(r *http.Request) (httpx.List[TrendingCategory], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[TrendingCategory]{}, err
	}
	return h.svc.TrendingCategories(r.Context(), page)
}

func (h *Handler) popular(r *http.Request) (PopularSearches, error) {
	p, err := httpx.QueryOf[popularParams](r)
	if err != nil {
		return PopularSearches{}, err
	}
	limit := 10
	if p.Limit != nil {
		limit = *p.Limit
	}
	items, err := h.svc.PopularSearches(r.Context(), limit)
	return PopularSearches{Items: items}, err
}

type similarParams struct {
	ProductID uuid.UUID `query:"product_id" validate:"required" doc:"the product whose price the others are near"`
	Limit     *int      `query:"limit" validate:"omitempty,min=1,max=100" doc:"products, 1 to 100 (default 20)"`
}

type limitParams struct {
	Limit *int `query:"limit" validate:"omitempty,min=1,max=100" doc:"products, 1 to 100 (default 20)"`
}

// Products is a list of products.
type Products struct {
	Items []Item `json:"items"`
}

func limitOf(l *int) int {
	if l == nil {
		return httpx.DefaultLimit
	}
	return *l
}

func (h *Handler) compare(r *http.Request, id uuid.UUID) (Comparison, error) {
	return h.svc.Compare(r.Context(), auth.Maybe(r), id)
}

func (h *Handler) similarPrice(r *http.Request) (Products, error) {
	p, err := httpx.QueryOf[similarParams](r)
	if err != nil {
		return Products{}, err
	}
	items, err := h.svc.SimilarPrice(r.Context(), p.ProductID, limitOf(p.Limit))
	return Products{Items: items}, err
}

func (h *Handler) related(r *http.Request, id uuid.UUID) (Products, error) {
	p, err := httpx.QueryOf[limitParams](r)
	if err != nil {
		return Products{}, err
	}
	items, err := h.svc.Related(r.Context(), id, limitOf(p.Limit))
	return Products{Items: items}, err
}

func (h *Handler) alerts(r *http.Request) (httpx.List[Alert], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Alert]{}, err
	}
	return h.svc.Alerts(r.Context(), auth.Of(r), page)
}

func (h *Handler) createAlert(r *http.Request, in AlertInput) (Alert, error) {
	return h.svc.CreateAlert(r.Context(), auth.Of(r), in)
}

func (h *Handler) deleteAlert(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.DeleteAlert(r.Context(), auth.Of(r), id)
}

// optionalVisitor is the caller for recommendations: no user nor device is a visitor without
// history (trending), not an error.
func optionalVisitor(r *http.Request) (*Visitor, error) {
	if auth.Maybe(r) == nil && r.Header.Get(deviceHeader) == "" {
		return nil, nil
	}
	v, err := visitor(r)
	return &v, err
}

func (h *Handler) recommendFor(r *http.Request, fn func(Visitor, int) (Recommendations, error)) (Recommendations, error) {
	p, err := httpx.QueryOf[limitParams](r)
	if err != nil {
		return Recommendations{}, err
	}
	v, err := optionalVisitor(r)
	if err != nil {
		return Recommendations{}, err
	}
	if v == nil {
		return h.svc.trendingNow(r.Context(), []uuid.UUID{}, limitOf(p.Limit))
	}
	return fn(*v, limitOf(p.Limit))
}

func (h *Handler) recommendProducts(r *http.Request) (Recommendations, error) {
	return h.recommendFor(r, func(v Visitor, n int) (Recommendations, error) { return h.svc.RecommendProducts(r.Context(), v, n) })
}

func (h *Handler) recommendSession(r *http.Request) (Recommendations, error) {
	return h.recommendFor(r, func(v Visitor, n int) (Recommendations, error) { return h.svc.RecommendFromSession(r.Context(), v, n) })
}

func (h *Handler) recommendShops(r *http.Request) (ShopRecommendations, error) {
	p, err := httpx.QueryOf[limitParams](r)
	if err != nil {
		return ShopRecommendations{}, err
	}
	v, err := optionalVisitor(r)
	if err != nil {
		return ShopRecommendations{}, err
	}
	if v == nil {
		v = &Visitor{DeviceID: "-"} // no history: trending products' shops
	}
	return h.svc.RecommendShops(r.Context(), *v, limitOf(p.Limit))
}

func (h *Handler) recommendSimilar(r *http.Request) (Recommendations, error) {
	p, err := httpx.QueryOf[limitParams](r)
	if err != nil {
		return Recommendations{}, err
	}
	return h.svc.RecommendFromSimilarUsers(r.Context(), auth.Of(r).UserID, limitOf(p.Limit))
}
