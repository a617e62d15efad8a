package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/catalog/internal/store"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// seedRoots are the top categories of the seeded tree; each gets seedFanout children and as
// many grandchildren under each child, and products go to the grandchildren.
var seedRoots = []string{
	"Điện thoại & Phụ kiện", "Máy tính & Laptop", "Thời trang nam", "Thời trang nữ",
	"Nhà cửa & Đời sống", "Sắc đẹp", "Mẹ & Bé", "Thể thao & Du lịch",
}

const (
	seedFanout = 4
	seedBatch  = 20000
)

// Seed fills the catalog for benchmarks and demos: a three-level category tree and products
// (one default variant each) spread over shops, made by the creator. It tops up rather than
// adds: products already there count towards n, so running it twice adds nothing. Rows are
// made by the database itself (INSERT ... SELECT over generate_series), in batches, so that a
// hundred thousand products take seconds. It answers how many products it added.
func (s *Service) Seed(ctx context.Context, creator uuid.UUID, shops []uuid.UUID, n int) (int, error) {
	if len(shops) == 0 {
		return 0, errors.New("catalog: seed needs at least one shop")
	}
	leaves, err := s.seedCategories(ctx)
	if err != nil {
		return 0, err
	}
	have, err := s.q.CountProducts(ctx)
	if err != nil {
		return 0, err
	}
	added := 0
	for from := int(have) + 1; from <= n; from += seedBatch {
		until := min(from+seedBatch-1, n)
		m, err := s.q.SeedProducts(ctx, store.SeedProductsParams{Shops: shops, Categories: leaves, CreatedBy: creator,
			FromN: int32(from), UntilN: int32(until)})
		if err != nil {
			return added, fmt.Errorf("catalog: seed products %d-%d: %w", from, until, err)
		}
		added += int(m)
	}
	if added > 0 {
		// Fresh statistics, so that the planner picks the list indexes from the first request.
		if _, err := s.pool.Exec(ctx, "ANALYZE catalog.products; ANALYZE catalog.variants; ANALYZE catalog.categories"); err != nil {
			return added, fmt.Errorf("catalog: seed: analyze: %w", err)
		}
	}
	return added, nil
}

// seedCategories makes (or finds) the seeded tree and returns its leaves.
func (s *Service) seedCategories(ctx context.Context) ([]uuid.UUID, error) {
	var leaves []uuid.UUID
	for _, root := range seedRoots {
		r, err := s.seedCategory(ctx, nil, root)
		if err != nil {
			return nil, err
		}
		for i := 1; i <= seedFanout; i++ {
			c, err := s.seedCategory(ctx, &r, fmt.Sprintf("%s %d", root, i))
			if err != nil {
				return nil, err
			}
			for j := 1; j <= seedFanout; j++ {
				l, err := s.seedCategory(ctx, &c, fmt.Sprintf("%s %d.%d", root, i, j))
				if err != nil {
					return nil, err
				}
				leaves = append(leaves, l)
			}
		}
	}
	return leaves, nil
}

func (s *Service) seedCategory(ctx context.Context, parent *uuid.UUID, name string) (uuid.UUID, error) {
	c, err := s.q.FindCategory(ctx, store.FindCategoryParams{ParentID: parent, Name: name})
	if pgdb.IsNoRows(err) {
		c, err = s.q.CreateCategory(ctx, store.CreateCategoryParams{ParentID: parent, Name: name})
	}
	return c.ID, err
}
