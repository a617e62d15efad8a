package catalog

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/catalog/internal/store"
)

// Indexed is a product as the search context indexes it: the product with its variants priced
// now, the path of its category from the root, and whether buyers may see it.
type Indexed struct {
	Product Product
	Path    []CategoryRef
	Listed  bool
}

// IndexedProducts re-reads products for the search read model, whatever their state (a deleted
// or hidden one is answered with Listed false); IDs that never existed are left out.
func (s *Service) IndexedProducts(ctx context.Context, ids []uuid.UUID) ([]Indexed, error) {
	rows, err := s.q.ProductsByIDs(ctx, ids)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	pids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		pids[i] = r.ID
	}
	vs, err := s.q.ListVariantsOf(ctx, pids)
	if err != nil {
		return nil, err
	}
	byProduct := map[uuid.UUID][]store.CatalogVariant{}
	for _, v := range vs {
		byProduct[v.ProductID] = append(byProduct[v.ProductID], v)
	}
	paths := map[uuid.UUID][]CategoryRef{}
	now := time.Now()
	out := make([]Indexed, len(rows))
	for i, r := range rows {
		out[i] = Indexed{Product: toProduct(r, byProduct[r.ID], now), Listed: r.Listed && r.DeletedAt == nil}
		if r.CategoryID == nil {
			continue
		}
		path, ok := paths[*r.CategoryID]
		if !ok {
			anc, err := s.q.CategoryAncestors(ctx, *r.CategoryID)
			if err != nil {
				return nil, err
			}
			for _, a := range anc {
				path = append(path, CategoryRef{ID: a.ID, Name: a.Name})
			}
			paths[*r.CategoryID] = path
		}
		out[i].Path = path
	}
	return out, nil
}

// ListedProductIDs pages through listed products in ID order, after the given ID (uuid.Nil
// first): search's reindex walks the catalog with it.
func (s *Service) ListedProductIDs(ctx context.Context, after uuid.UUID, limit int) ([]uuid.UUID, error) {
	return s.q.ListedProductIDsAfter(ctx, store.ListedProductIDsAfterParams{After: after, Lim: int32(limit)})
}
