package catalog

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/catalog/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// ListQuery filters and sorts the product list. Category includes its subcategories, to any
// depth; prices are in minor units and compare with the stored effective price. Its tags are
// the list route's query parameters.
type ListQuery struct {
	CategoryID *uuid.UUID `query:"category" doc:"only products of this category or its subcategories, to any depth"`
	ShopID     *uuid.UUID `query:"shop" doc:"only this shop's products"`
	Brand      string     `query:"brand" validate:"max=100" doc:"only this brand (any case)"`
	MinPrice   *int64     `query:"min_price" validate:"omitempty,min=0" doc:"lowest price payable now, in minor units"`
	MaxPrice   *int64     `query:"max_price" validate:"omitempty,min=0" doc:"highest price payable now, in minor units"`
	InStock    bool       `query:"in_stock" doc:"only products with a variant in stock"`
	// Sort is SortNewest (the default), SortPriceAsc, SortPriceDesc or SortRating.
	Sort string `query:"sort" validate:"omitempty,oneof=newest price_asc price_desc rating" doc:"the order: newest (default), price_asc, price_desc or rating"`

	// unlisted shows a shop's drafts and archived products too (its owner's view), optionally
	// of one status only.
	unlisted bool
	status   string
}

// sortSpec is how one sort orders rows: by key, then by ID, both the same way. cast types the
// cursor's key so that the comparison stays on the indexed column's type.
type sortSpec struct {
	key  string
	cast string
	desc bool
}

var sorts = map[string]sortSpec{
	SortNewest:    {key: "p.created_at", cast: "timestamptz", desc: true},
	SortPriceAsc:  {key: "p.price", cast: "bigint"},
	SortPriceDesc: {key: "p.price", cast: "bigint", desc: true},
	SortRating:    {key: "p.rating", cast: "numeric", desc: true},
}

// listCursor is the keyset position after a page's last product, for the sort it was made for.
type listCursor struct {
	Sort   string     `json:"s"`
	Time   *time.Time `json:"t,omitempty"`
	Price  *int64     `json:"p,omitempty"`
	Rating *float64   `json:"r,omitempty"`
	ID     uuid.UUID  `json:"i"`
}

// key is the cursor's position in the sort's key column, or nil when the cursor was not made
// for sort: it must name that sort and carry that sort's key and no other, since a key of
// another type would reach the query's cast and fail there.
func (c listCursor) key(sort string) any {
	if c.Sort != sort {
		return nil
	}
	switch {
	case sort == SortNewest && c.Time != nil && c.Price == nil && c.Rating == nil:
		return *c.Time
	case (sort == SortPriceAsc || sort == SortPriceDesc) && c.Price != nil && c.Time == nil && c.Rating == nil:
		return *c.Price
	case sort == SortRating && c.Rating != nil && c.Time == nil && c.Price == nil:
		return *c.Rating
	}
	return nil
}

func cursorOf(sort string, r store.CatalogProduct) any {
	c := listCursor{Sort: sort, ID: r.ID}
	switch sort {
	case SortNewest:
		c.Time = &r.CreatedAt
	case SortRating:
		c.Rating = &r.Rating
	default:
		c.Price = &r.Price
	}
	return c
}

// List pages through listed products: active ones of live shops.
func (s *Service) List(ctx context.Context, q ListQuery, page httpx.Page) (httpx.List[Product], error) {
	q.unlisted, q.status = false, ""
	return s.list(ctx, q, page)
}

// ShopProducts pages through a shop's products, newest first: its listed ones for everyone,
// and for its owner and admins also its drafts and archived ones (status narrows that down).
func (s *Service) ShopProducts(ctx context.Context, p *auth.Principal, shopID uuid.UUID, status string, page httpx.Page) (httpx.List[Product], error) {
	owner, _, err := s.shops.ShopOwner(ctx, shopID)
	if err != nil {
		return httpx.List[Product]{}, err
	}
	q := ListQuery{ShopID: &shopID, Sort: SortNewest}
	if p != nil && (p.UserID == owner || p.IsAdmin()) {
		q.unlisted, q.status = true, status
	}
	return s.list(ctx, q, page)
}

func (s *Service) list(ctx context.Context, q ListQuery, page httpx.Page) (httpx.List[Product], error) {
	if q.Sort == "" {
		q.Sort = SortNewest
	}
	if _, ok := sorts[q.Sort]; !ok {
		return httpx.List[Product]{}, apperr.Field("sort", "must be one of: newest, price_asc, price_desc, rating")
	}
	if q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice {
		return httpx.List[Product]{}, apperr.Field("min_price", "must not be above max_price")
	}
	var cur listCursor
	has, err := httpx.DecodeCursor(page.Cursor, &cur)
	if err != nil {
		return httpx.List[Product]{}, err
	}
	if has && cur.key(q.Sort) == nil {
		return httpx.List[Product]{}, apperr.Field("cursor", "was made for another sort")
	}
	var after *listCursor
	if has {
		after = &cur
	}
	// Listings of listed products read from the replica; an owner's view of their unlisted ones
	// reads its own writes on the primary.
	db, dbq := s.reads, s.readQ
	if q.unlisted {
		db, dbq = s.pool, s.q
	}
	sql, args := listSQL(q, after, page.Limit+1)
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return httpx.List[Product]{}, fmt.Errorf("catalog: list products: %w", err)
	}
	prods, err := pgx.CollectRows(rows, pgx.RowToStructByName[store.CatalogProduct])
	if err != nil {
		return httpx.List[Product]{}, fmt.Errorf("catalog: list products: %w", err)
	}
	kept := httpx.Paginate(prods, page.Limit, func(r store.CatalogProduct) any { return cursorOf(q.Sort, r) })
	ids := make([]uuid.UUID, len(kept.Items))
	for i, r := range kept.Items {
		ids[i] = r.ID
	}
	vs, err := dbq.ListVariantsOf(ctx, ids)
	if err != nil {
		return httpx.List[Product]{}, err
	}
	byProduct := map[uuid.UUID][]store.CatalogVariant{}
	for _, v := range vs {
		byProduct[v.ProductID] = append(byProduct[v.ProductID], v)
	}
	now := time.Now()
	out := httpx.List[Product]{Items: make([]Product, len(kept.Items)), NextCursor: kept.NextCursor}
	shown := make([]*Product, len(kept.Items))
	for i, r := range kept.Items {
		out.Items[i] = toProduct(r, byProduct[r.ID], now)
		shown[i] = &out.Items[i]
	}
	return out, s.withMedia(ctx, !q.unlisted, shown...)
}

// productColumns are the products columns the list selects: those of the store's product row,
// by the names its db tags give, which is how the list scans them (RowToStructByName). Reading
// by name what the row holds, the list never depends on the table's column order, and a column
// added to the table before the row learns of it is simply not read.
var productColumns = func() string {
	t := reflect.TypeFor[store.CatalogProduct]()
	cols := make([]string, t.NumField())
	for i := range cols {
		cols[i] = "p." + t.Field(i).Tag.Get("db")
	}
	return strings.Join(cols, ", ")
}()

// listSQL builds the list query. It is written out here rather than in queries.sql because its
// shape varies with the filters and the sort: one catch-all statement with "$n IS NULL OR ..."
// conditions would be planned once for every combination and could read no index in order.
// Each shape instead walks one of the partial indexes of the products table in sort order and
// stops after limit rows. A category is answered per category of its subtree (a recursive
// CTE), each an ordered index walk of at most limit rows, merged and cut to limit.
func listSQL(q ListQuery, after *listCursor, limit int) (string, []any) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	spec, ok := sorts[q.Sort]
	if !ok {
		spec = sorts[SortNewest]
	}
	conds := []string{"p.deleted_at IS NULL"}
	switch {
	case !q.unlisted:
		conds = append(conds, "p.listed")
	case q.status != "":
		conds = append(conds, "p.status = "+arg(q.status))
	}
	var with string
	if q.CategoryID != nil {
		with = `WITH RECURSIVE sub AS (
	SELECT c.id FROM catalog.categories c WHERE c.id = ` + arg(*q.CategoryID) + `
	UNION ALL
	SELECT c.id FROM catalog.categories c JOIN sub ON c.parent_id = sub.id
)
`
		conds = append(conds, "p.category_id = sub.id")
	}
	if q.ShopID != nil {
		conds = append(conds, "p.shop_id = "+arg(*q.ShopID))
	}
	if q.Brand != "" {
		conds = append(conds, "lower(p.brand) = lower("+arg(q.Brand)+")")
	}
	if q.MinPrice != nil {
		conds = append(conds, "p.price >= "+arg(*q.MinPrice))
	}
	if q.MaxPrice != nil {
		conds = append(conds, "p.price <= "+arg(*q.MaxPrice))
	}
	if q.InStock {
		conds = append(conds, "EXISTS (SELECT 1 FROM catalog.variants v WHERE v.product_id = p.id AND v.stock > 0)")
	}
	dir, op := "ASC", ">"
	if spec.desc {
		dir, op = "DESC", "<"
	}
	if after != nil {
		conds = append(conds, fmt.Sprintf("(%s, p.id) %s (%s::%s, %s::uuid)", spec.key, op, arg(after.key(q.Sort)), spec.cast, arg(after.ID)))
	}
	order := fmt.Sprintf("%s %s, p.id %s", spec.key, dir, dir)
	lim := arg(limit)
	where := strings.Join(conds, "\n  AND ")
	if q.CategoryID == nil {
		return fmt.Sprintf("SELECT %s FROM catalog.products p\nWHERE %s\nORDER BY %s\nLIMIT %s", productColumns, where, order, lim), args
	}
	return fmt.Sprintf(`%sSELECT %s FROM sub CROSS JOIN LATERAL (
	SELECT %s FROM catalog.products p
	WHERE %s
	ORDER BY %s
	LIMIT %s
) p
ORDER BY %s
LIMIT %s`, with, productColumns, productColumns, where, order, lim, order, lim), args
}
