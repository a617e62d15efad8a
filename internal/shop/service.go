package shop

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/shop/internal/store"
)

// productCatalog is what promotions and campaigns need of the catalog context.
type productCatalog interface {
	// ProductShop returns the shop a live product belongs to.
	ProductShop(ctx context.Context, productID uuid.UUID) (uuid.UUID, error)
	// VariantOf returns a live variant's product, shop and regular price.
	VariantOf(ctx context.Context, variantID uuid.UUID) (VariantRef, error)
}

// Service holds the rules of the shop context.
type Service struct {
	pool     *pgxpool.Pool
	q        *store.Queries
	bus      *eventbus.Bus
	jobs     *jobs.Runner
	products productCatalog
	// readQ runs the public reads that tolerate a little lag (a read replica when one is
	// configured): anonymous shop pages, the shop list and search. A signed-in user's reads,
	// their own shops among them, stay on the primary.
	readQ *store.Queries
}

// NewService builds the shop service and registers its River workers; products answers which
// shop a product belongs to (the catalog context), for promotions and campaigns.
func NewService(pool *pgxpool.Pool, bus *eventbus.Bus, runner *jobs.Runner, products productCatalog) *Service {
	s := &Service{pool: pool, q: newStore(pool), bus: bus, jobs: runner, products: products}
	s.UseReads(pool)
	river.AddWorker(runner.Workers, &campaignTransitionWorker{svc: s})
	eventbus.On(bus, "shop.rating", s.shopRatingChanged)
	return s
}

// UseReads sends the public reads to db, a pgdb.Reads over a replica.
func (s *Service) UseReads(db store.DBTX) { s.readQ = newStore(db) }

// ShopInput is a shop's editable core.
type ShopInput struct {
	Name        string      `json:"name" validate:"required,max=120"`
	Description string      `json:"description" validate:"max=5000"`
	Address     Address     `json:"address" validate:"required"`
	Lat         *float64    `json:"lat" validate:"required,latitude"`
	Lng         *float64    `json:"lng" validate:"required,longitude"`
	CategoryIDs []uuid.UUID `json:"category_ids" validate:"max=20"`
}

// Create opens a shop owned by the caller.
func (s *Service) Create(ctx context.Context, p auth.Principal, in ShopInput) (Shop, error) {
	in, err := clean(in)
	if err != nil {
		return Shop{}, err
	}
	var row store.ShopShop
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		row, err = newStore(tx).CreateShop(ctx, store.CreateShopParams{
			OwnerID: p.UserID, Name: in.Name, Description: in.Description, Line1: in.Address.Line1,
			Ward: in.Address.Ward, District: in.Address.District, Province: in.Address.Province,
			Country: in.Address.Country, Lat: *in.Lat, Lng: *in.Lng, CategoryIds: in.CategoryIDs,
		})
		if err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.ShopCreated{ShopID: row.ID.String(), OwnerID: p.UserID.String(), Name: row.Name, At: row.CreatedAt})
	})
	if err != nil {
		return Shop{}, err
	}
	return toShop(row), nil
}

// Get returns an active shop to anyone; a suspended one only to its owner and admins.
func (s *Service) Get(ctx context.Context, p *auth.Principal, id uuid.UUID) (Shop, error) {
	q := s.q
	if p == nil {
		q = s.readQ
	}
	row, err := q.GetShop(ctx, id)
	if err != nil {
		return Shop{}, pgdb.NotFound(err, "shop")
	}
	if row.Status != StatusActive && (p == nil || !canManage(*p, row.OwnerID)) {
		return Shop{}, apperr.NotFoundf("shop")
	}
	return toShop(row), nil
}

// Info returns what other contexts need of a live (not deleted) shop.
func (s *Service) Info(ctx context.Context, id uuid.UUID) (Info, error) {
	return s.InfoTx(ctx, nil, id)
}

// InfoTx is Info read through the caller's transaction (nil: none), for callers that hold one.
func (s *Service) InfoTx(ctx context.Context, tx pgx.Tx, id uuid.UUID) (Info, error) {
	row, err := s.queries(tx).GetShop(ctx, id)
	if err != nil {
		return Info{}, pgdb.NotFound(err, "shop")
	}
	return Info{ID: row.ID, OwnerID: row.OwnerID, Name: row.Name, Status: row.Status, Province: row.Province, Lat: row.Lat,
		Lng: row.Lng, Rating: row.Rating}, nil
}

// Update changes a shop's core fields.
func (s *Service) Update(ctx context.Context, p auth.Principal, id uuid.UUID, in ShopInput) (Shop, error) {
	in, err := clean(in)
	if err != nil {
		return Shop{}, err
	}
	var row store.ShopShop
	err = s.managed(ctx, p, id, "change it", func(q *store.Queries, tx pgx.Tx) error {
		row, err = q.UpdateShop(ctx, store.UpdateShopParams{
			ID: id, Name: in.Name, Description: in.Description, Line1: in.Address.Line1,
			Ward: in.Address.Ward, District: in.Address.District, Province: in.Address.Province,
			Country: in.Address.Country, Lat: *in.Lat, Lng: *in.Lng, CategoryIds: in.CategoryIDs,
		})
		if err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.ShopUpdated{ShopID: id.String(), At: row.UpdatedAt})
	})
	if err != nil {
		return Shop{}, err
	}
	return toShop(row), nil
}

// UpdateProfile replaces a shop's storefront profile.
func (s *Service) UpdateProfile(ctx context.Context, p auth.Principal, id uuid.UUID, in Profile) (Shop, error) {
	var row store.ShopShop
	err := s.managed(ctx, p, id, "change its profile", func(q *store.Queries, _ pgx.Tx) error {
		var err error
		row, err = q.UpdateShopProfile(ctx, store.UpdateShopProfileParams{
			ID: id, LogoUrl: in.LogoURL, BannerUrl: in.BannerURL, ContactPhone: strings.ReplaceAll(in.ContactPhone, " ", ""),
			ContactEmail: in.ContactEmail, OpeningHours: strings.TrimSpace(in.OpeningHours), ReturnPolicy: strings.TrimSpace(in.ReturnPolicy),
		})
		return err
	})
	if err != nil {
		return Shop{}, err
	}
	return toShop(row), nil
}

// Delete closes a shop: buyers no longer see it or its products; orders keep their snapshots.
func (s *Service) Delete(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	return s.managed(ctx, p, id, "close it", func(q *store.Queries, tx pgx.Tx) error {
		if _, err := q.DeleteShop(ctx, id); err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.ShopDeleted{ShopID: id.String(), By: p.UserID.String(), At: time.Now().UTC()})
	})
}

// List pages through active shops, newest first, or through one owner's live shops.
func (s *Service) List(ctx context.Context, owner *uuid.UUID, page httpx.Page) (httpx.List[Shop], error) {
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Shop]{}, err
	}
	q := s.readQ
	if owner != nil {
		q = s.q // the caller's own shops: read their own writes
	}
	rows, err := q.ListShops(ctx, store.ListShopsParams{OwnerID: owner, HasCursor: has, BeforeCreated: cur.At,
		BeforeID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Shop]{}, err
	}
	out := make([]Shop, len(rows))
	for i, r := range rows {
		out[i] = toShop(r)
	}
	return httpx.Paginate(out, page.Limit, func(s Shop) any { return httpx.Keyset{At: s.CreatedAt, ID: s.ID} }), nil
}

// SearchQuery finds shops near a point.
type SearchQuery struct {
	Lat, Lng   float64
	RadiusKM   float64
	CategoryID *uuid.UUID
}

type searchCursor struct {
	Distance float64   `json:"d"`
	ID       uuid.UUID `json:"i"`
}

// Search answers active shops within the radius, nearest first.
func (s *Service) Search(ctx context.Context, q SearchQuery, page httpx.Page) (httpx.List[Shop], error) {
	var cur searchCursor
	has, err := httpx.DecodeCursor(page.Cursor, &cur)
	if err != nil {
		return httpx.List[Shop]{}, err
	}
	rows, err := s.readQ.SearchShops(ctx, store.SearchShopsParams{Lat: q.Lat, Lng: q.Lng, Radius: q.RadiusKM * 1000,
		CategoryID: q.CategoryID, HasCursor: has, AfterDistance: cur.Distance, AfterID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Shop]{}, err
	}
	out := make([]Shop, len(rows))
	dist := make(map[uuid.UUID]float64, len(rows))
	for i, r := range rows {
		out[i] = toShop(r.ShopShop)
		km := float64(int64(r.DistanceM+0.5)) / 1000
		out[i].DistanceKM = &km
		dist[r.ShopShop.ID] = r.DistanceM
	}
	return httpx.Paginate(out, page.Limit, func(s Shop) any { return searchCursor{dist[s.ID], s.ID} }), nil
}

// managed runs fn in a transaction holding the shop's row lock, after checking that p may
// manage the shop: a missing shop is not found, someone else's is forbidden, the refusal
// naming action ("change its vouchers"; shops are public, so saying so reveals nothing).
func (s *Service) managed(ctx context.Context, p auth.Principal, id uuid.UUID, action string, fn func(q *store.Queries, tx pgx.Tx) error) error {
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		row, err := q.LockShop(ctx, id)
		if pgdb.IsNoRows(err) {
			return apperr.NotFoundf("shop")
		}
		if err != nil {
			return err
		}
		if !canManage(p, row.OwnerID) {
			return apperr.New(apperr.Forbidden, "only the shop's owner may %s", action)
		}
		return fn(q, tx)
	})
}

// queries reads through tx when there is one, else through the pool.
func (s *Service) queries(tx pgx.Tx) *store.Queries {
	if tx != nil {
		return newStore(tx)
	}
	return s.q
}

func canManage(p auth.Principal, owner uuid.UUID) bool { return p.UserID == owner || p.IsAdmin() }

func clean(in ShopInput) (ShopInput, error) {
	in.Name = strings.TrimSpace(in.Name)
	in.Description = strings.TrimSpace(in.Description)
	in.Address.Line1 = strings.TrimSpace(in.Address.Line1)
	in.Address.Ward = strings.TrimSpace(in.Address.Ward)
	in.Address.District = strings.TrimSpace(in.Address.District)
	in.Address.Province = strings.TrimSpace(in.Address.Province)
	in.Address.Country = strings.ToUpper(strings.TrimSpace(in.Address.Country))
	if in.Address.Country == "" {
		in.Address.Country = "VN"
	}
	if in.CategoryIDs == nil {
		in.CategoryIDs = []uuid.UUID{}
	}
	switch {
	case in.Name == "":
		return in, apperr.Field("name", "is required")
	case in.Address.Line1 == "":
		return in, apperr.Field("address.line1", "is required")
	case in.Address.Province == "":
		return in, apperr.Field("address.province", "is required")
	}
	return in, nil
}

func toShop(r store.ShopShop) Shop {
	return Shop{
		ID: r.ID, OwnerID: r.OwnerID, Name: r.Name, Description: r.Description,
		Address: Address{Line1: r.Line1, Ward: r.Ward, District: r.District, Province: r.Province, Country: r.Country},
		Lat:     r.Lat, Lng: r.Lng, CategoryIDs: r.CategoryIds, Status: r.Status, Rating: r.Rating, RatingCount: int(r.RatingCount),
		Profile: Profile{LogoURL: r.LogoUrl, BannerURL: r.BannerUrl, ContactPhone: r.ContactPhone, ContactEmail: r.ContactEmail,
			OpeningHours: r.OpeningHours, ReturnPolicy: r.ReturnPolicy},
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// newStore returns the shop store on db, the pool or a transaction, its errors naming the query
// that failed (pgdb.Named).
func newStore(db store.DBTX) *store.Queries { return store.New(pgdb.Named("shop", db)) }
