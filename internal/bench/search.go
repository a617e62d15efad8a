package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/search"
)

// searchClients are the closed-loop client counts every search row runs at: the targets are
// given at 4 (a small shop's traffic), and 32 shows how the engine holds past the cores.
var searchClients = []int{4, 32}

// searchQuery is one search row: a path and query string over the seeded catalog (titles
// "Sản phẩm mẫu N", categories such as "Điện thoại & Phụ kiện").
type searchQuery struct {
	name string
	url  func(f *fixture) []string
}

var searchQueries = []searchQuery{
	// Every product holds these words: the worst case of ranking.
	{"search common word", func(*fixture) []string { return []string{"/api/v1/search?q=" + url.QueryEscape("sản phẩm")} }},
	// Typed without diacritics: "điện thoại" is one category of eight (12,500 products).
	{"search no diacritics", func(*fixture) []string { return []string{"/api/v1/search?q=dien+thoai"} }},
	{"search filtered, price sort", func(f *fixture) []string {
		return []string{"/api/v1/search?q=san+pham&category=" + f.categoryID + "&min_price=100000&max_price=3000000&in_stock=true&sort=price_asc"}
	}},
	{"search facets", func(*fixture) []string {
		return []string{"/api/v1/search/filters/available?q=" + url.QueryEscape("sản phẩm"), "/api/v1/search/filters/available?q=dien+thoai"}
	}},
	{"search autocomplete", func(*fixture) []string {
		var out []string
		for _, q := range []string{"s", "sa", "điện th", "may t", "th", "app"} {
			out = append(out, "/api/v1/search/autocomplete?q="+url.QueryEscape(q))
		}
		return out
	}},
}

func init() {
	scenarios = append(scenarios,
		scenario{
			// Each search row at each client count, GoShop then the reference (the PostgreSQL
			// engine's own SQL, called from the bare mux).
			name:      "search",
			reference: true,
			setup:     (*runner).pickCategory,
			rows: func(o options) []string {
				var rows []string
				for _, q := range searchQueries {
					for _, c := range searchClients {
						rows = append(rows, searchRow(q.name, c, "goshop"), searchRow(q.name, c, "bare pgx"))
					}
				}
				return rows
			},
			measure: measureSearch,
		},
		scenario{
			// Behaviour events ingested a second: anonymous product views from many devices,
			// each answered once its batch has committed.
			name:    "behaviour events",
			setup:   (*runner).pickProducts,
			targets: behaviourTargets,
		})
}

func searchRow(name string, clients int, who string) string {
	return fmt.Sprintf("%s, %d clients (%s)", name, clients, who)
}

func measureSearch(ctx context.Context, r *runner, emit func(stats) error) error {
	for _, q := range searchQueries {
		for _, c := range searchClients {
			load := r.load
			load.Concurrency = c
			for _, side := range []struct{ who, base string }{{"goshop", r.f.goshop}, {"bare pgx", r.f.bare}} {
				var ts []vegeta.Target
				for _, u := range q.url(r.f) {
					ts = append(ts, vegeta.Target{Method: http.MethodGet, URL: side.base + u})
				}
				name := searchRow(q.name, c, side.who)
				tr := vegeta.NewStaticTargeter(ts...)
				if err := checkTarget(ctx, load.Client, name, tr); err != nil {
					return err
				}
				s, err := runLoad(ctx, load, name, tr)
				if err != nil {
					return err
				}
				if err := emit(s); err != nil {
					return err
				}
			}
			r.rep.compare(searchRow(q.name, c, "goshop"), searchRow(q.name, c, "bare pgx"))
		}
	}
	return nil
}

// behaviourTargets posts product views from 1,000 devices over the bench's products.
func behaviourTargets(f *fixture, base string) vegeta.Targeter {
	var ts []vegeta.Target
	for i := range 1000 {
		id := f.productIDs[i%len(f.productIDs)]
		ts = append(ts, vegeta.Target{Method: http.MethodPost, URL: base + "/api/v1/behavior/view-product",
			Body:   []byte(`{"product_id":"` + id + `"}`),
			Header: http.Header{"Content-Type": {"application/json"}, "X-Device-ID": {fmt.Sprintf("bench-device-%04d", i)}}})
	}
	return vegeta.NewStaticTargeter(ts...)
}

// The reference's search routes: the query string read by hand, then the PostgreSQL engine's
// own statements (search.Postgres), answered with encoding/json. What the reference leaves out
// is GoShop's HTTP stack: chi, the middleware, the declared-parameter decoding and validation.
func (ref *reference) searchRoutes() {
	engine := search.NewPostgres(ref.pool)
	ref.mux.HandleFunc("GET /api/v1/search", func(w http.ResponseWriter, r *http.Request) {
		q, err := refSearchQuery(r.URL.Query())
		if err != nil {
			writeProblem(w, r, http.StatusUnprocessableEntity, "invalid", err.Error())
			return
		}
		res, err := engine.Search(r.Context(), q, httpx.Page{Limit: httpx.DefaultLimit})
		ref.answer(w, r, res, err)
	})
	ref.mux.HandleFunc("GET /api/v1/search/filters/available", func(w http.ResponseWriter, r *http.Request) {
		q, err := refSearchQuery(r.URL.Query())
		if err != nil {
			writeProblem(w, r, http.StatusUnprocessableEntity, "invalid", err.Error())
			return
		}
		res, err := engine.Facets(r.Context(), q)
		ref.answer(w, r, res, err)
	})
	ref.mux.HandleFunc("GET /api/v1/search/autocomplete", func(w http.ResponseWriter, r *http.Request) {
		res, err := engine.Autocomplete(r.Context(), r.URL.Query().Get("q"), 10)
		ref.answer(w, r, res, err)
	})
}

func (ref *reference) answer(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		writeProblem(w, r, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	writeJSON(w, v)
}

// refSearchQuery reads the parameters the bench sends: q, category, min_price, max_price,
// in_stock, sort.
func refSearchQuery(v url.Values) (search.Query, error) {
	q := search.Query{Text: strings.TrimSpace(v.Get("q")), Sort: v.Get("sort")}
	if c := v.Get("category"); c != "" {
		id, err := uuid.Parse(c)
		if err != nil {
			return q, errors.New("category must be a UUID")
		}
		q.CategoryID = &id
	}
	for name, dst := range map[string]**int64{"min_price": &q.MinPrice, "max_price": &q.MaxPrice} {
		if s := v.Get(name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return q, fmt.Errorf("%s must be an integer", name)
			}
			*dst = &n
		}
	}
	if s := v.Get("in_stock"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, errors.New("in_stock must be true or false")
		}
		q.InStock = &b
	}
	return q, nil
}
