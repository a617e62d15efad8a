package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/catalog/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// CategoryInput is a category's editable fields. ParentID nil makes a root category.
type CategoryInput struct {
	Name        string     `json:"name" validate:"required,max=120"`
	Description string     `json:"description" validate:"max=2000"`
	ParentID    *uuid.UUID `json:"parent_id"`
}

// Category returns a category with its path from the root.
func (s *Service) Category(ctx context.Context, id uuid.UUID) (Category, error) {
	row, err := s.readQ.GetCategory(ctx, id)
	if err != nil {
		return Category{}, pgdb.NotFound(err, "category")
	}
	path, err := s.readQ.CategoryAncestors(ctx, id)
	if err != nil {
		return Category{}, err
	}
	c := toCategory(row)
	for _, a := range path {
		c.Path = append(c.Path, CategoryRef{ID: a.ID, Name: a.Name})
	}
	return c, nil
}

type categoryCursor struct {
	Name string    `json:"n"`
	ID   uuid.UUID `json:"i"`
}

// Categories pages through the root categories (parent nil) or a category's children, by name.
func (s *Service) Categories(ctx context.Context, parent *uuid.UUID, page httpx.Page) (httpx.List[Category], error) {
	var cur categoryCursor
	has, err := httpx.DecodeCursor(page.Cursor, &cur)
	if err != nil {
		return httpx.List[Category]{}, err
	}
	if parent != nil {
		if err := s.mustCategory(ctx, *parent, apperr.NotFoundf("category")); err != nil {
			return httpx.List[Category]{}, err
		}
	}
	rows, err := s.readQ.ListCategories(ctx, store.ListCategoriesParams{ParentID: parent, HasCursor: has, AfterName: cur.Name,
		AfterID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Category]{}, err
	}
	out := make([]Category, len(rows))
	for i, r := range rows {
		out[i] = toCategory(r)
	}
	return httpx.Paginate(out, page.Limit, func(c Category) any { return categoryCursor{c.Name, c.ID} }), nil
}

// CreateCategory adds a category (admins only) under in.ParentID, or under parent when the
// route names it (a subcategory).
func (s *Service) CreateCategory(ctx context.Context, p auth.Principal, parent *uuid.UUID, in CategoryInput) (Category, error) {
	if err := adminOnly(p); err != nil {
		return Category{}, err
	}
	if parent != nil {
		if err := s.mustCategory(ctx, *parent, apperr.NotFoundf("category")); err != nil {
			return Category{}, err
		}
		in.ParentID = parent
	}
	if err := s.cleanCategory(ctx, &in); err != nil {
		return Category{}, err
	}
	row, err := s.q.CreateCategory(ctx, store.CreateCategoryParams{ParentID: in.ParentID, Name: in.Name, Description: in.Description})
	if err != nil {
		return Category{}, categoryError(err)
	}
	return s.Category(ctx, row.ID)
}

// UpdateCategory renames, describes or moves a category (admins only); it may not move under
// itself or its own descendants.
func (s *Service) UpdateCategory(ctx context.Context, p auth.Principal, id uuid.UUID, in CategoryInput) (Category, error) {
	if err := adminOnly(p); err != nil {
		return Category{}, err
	}
	if err := s.cleanCategory(ctx, &in); err != nil {
		return Category{}, err
	}
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		// One move at a time, so that two concurrent moves cannot make a cycle between them.
		if _, err := tx.Exec(ctx, "LOCK TABLE catalog.categories IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return fmt.Errorf("catalog: lock categories: %w", err)
		}
		if in.ParentID != nil {
			cycle, err := q.InSubtree(ctx, store.InSubtreeParams{Root: id, Candidate: *in.ParentID})
			if err != nil {
				return err
			}
			if cycle {
				return apperr.Field("parent_id", "would put the category under itself")
			}
		}
		_, err := q.UpdateCategory(ctx, store.UpdateCategoryParams{ID: id, ParentID: in.ParentID, Name: in.Name, Description: in.Description})
		if pgdb.IsNoRows(err) {
			return apperr.NotFoundf("category")
		}
		return categoryError(err)
	})
	if err != nil {
		return Category{}, err
	}
	return s.Category(ctx, id)
}

// DeleteCategory removes a category (admins only) that has neither subcategories nor
// products; otherwise it answers conflict, since deleting it would orphan them.
func (s *Service) DeleteCategory(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	if err := adminOnly(p); err != nil {
		return err
	}
	use, err := s.q.CategoryUsage(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case use.HasChildren:
		return apperr.New(apperr.Conflict, "the category has subcategories: delete or move them first")
	case use.HasProducts:
		return apperr.New(apperr.Conflict, "the category has products: move them to another category first")
	}
	n, err := s.q.DeleteCategory(ctx, id)
	if pgdb.IsForeignKeyViolation(err) { // a product or subcategory arrived meanwhile
		return apperr.New(apperr.Conflict, "the category has products or subcategories")
	}
	if err == nil && n == 0 {
		return apperr.NotFoundf("category")
	}
	return err
}

func (s *Service) cleanCategory(ctx context.Context, in *CategoryInput) error {
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	if in.Name == "" {
		return apperr.Field("name", "is required")
	}
	if in.ParentID == nil {
		return nil
	}
	return s.mustCategory(ctx, *in.ParentID, apperr.Field("parent_id", "is not a category"))
}

// mustCategory answers missing when the category does not exist.
func (s *Service) mustCategory(ctx context.Context, id uuid.UUID, missing error) error {
	_, err := s.q.GetCategory(ctx, id)
	if pgdb.IsNoRows(err) {
		return missing
	}
	return err
}

func categoryError(err error) error {
	if pgdb.IsUniqueViolation(err, "categories_sibling_name_key") {
		return apperr.New(apperr.Conflict, "a category of that name already exists here")
	}
	return err
}

func adminOnly(p auth.Principal) error {
	if !p.IsAdmin() {
		return apperr.New(apperr.Forbidden, "only admins manage categories")
	}
	return nil
}

// ShopCategories lists the categories a shop's listed products are in, with counts.
func (s *Service) ShopCategories(ctx context.Context, shopID uuid.UUID) (httpx.List[ShopCategory], error) {
	if _, _, err := s.shops.ShopOwner(ctx, shopID); err != nil {
		return httpx.List[ShopCategory]{}, err
	}
	rows, err := s.readQ.ShopCategories(ctx, shopID)
	if err != nil {
		return httpx.List[ShopCategory]{}, err
	}
	out := httpx.List[ShopCategory]{Items: make([]ShopCategory, len(rows))}
	for i, r := range rows {
		out.Items[i] = ShopCategory{ID: r.ID, Name: r.Name, ProductCount: int(r.ProductCount)}
	}
	return out, nil
}

func toCategory(r store.CatalogCategory) Category {
	return Category{ID: r.ID, ParentID: r.ParentID, Name: r.Name, Description: r.Description,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}
