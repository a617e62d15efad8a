package catalog

import (
	"bytes"
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/catalog/internal/store"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

func discountOf(r store.CatalogProduct) *Discount {
	return discountFrom(r.DiscountID, r.DiscountPercent, r.DiscountPrice, r.DiscountVariantID, r.DiscountStartsAt, r.DiscountEndsAt)
}

func discountFrom(id *uuid.UUID, percent *int32, price *int64, variant *uuid.UUID, starts, ends *time.Time) *Discount {
	if id == nil || starts == nil || ends == nil {
		return nil
	}
	d := &Discount{ID: *id, VariantID: variant, SalePrice: price, StartsAt: starts.UTC(), EndsAt: ends.UTC()}
	if percent != nil {
		pct := int(*percent)
		d.Percent = &pct
	}
	return d
}

// activeAt reports whether the discount is in force at t: from its start, up to (not
// including) its end.
func (d *Discount) activeAt(t time.Time) bool {
	return d != nil && !t.Before(d.StartsAt) && t.Before(d.EndsAt)
}

// price is the one place a variant's price under a discount is computed: what a variant listed
// at list costs at instant t. A percentage rounds the price down, in the buyer's favour.
func (d *Discount) price(variant uuid.UUID, list int64, t time.Time) int64 {
	if !d.activeAt(t) || (d.VariantID != nil && *d.VariantID != variant) {
		return list
	}
	if d.Percent != nil {
		return list - (list*int64(*d.Percent)+99)/100
	}
	return min(list, *d.SalePrice)
}

// reprice brings the stored effective prices of a product's variants, and the product's
// lowest price, to what they are at instant at, recording and publishing each change. The
// caller holds the product's row lock; variants are written in ID order, the order stock
// reservations lock them in, so that the two never deadlock.
func (s *Service) reprice(ctx context.Context, tx pgx.Tx, q *store.Queries, row store.CatalogProduct, vs []store.CatalogVariant,
	at time.Time, actor *uuid.UUID, reason string) (store.CatalogProduct, error) {
	d := discountOf(row)
	var evs []eventbus.Event
	lowest := int64(-1)
	for _, v := range inIDOrder(vs) {
		eff := d.price(v.ID, v.Price, at)
		if eff != v.EffectivePrice {
			if err := q.SetVariantEffectivePrice(ctx, store.SetVariantEffectivePriceParams{ID: v.ID, EffectivePrice: eff}); err != nil {
				return row, err
			}
			if err := q.AddPriceChange(ctx, store.AddPriceChangeParams{ProductID: row.ID, VariantID: v.ID, Kind: "effective",
				OldPrice: v.EffectivePrice, NewPrice: eff, Reason: reason, ChangedBy: actor, ChangedAt: at}); err != nil {
				return row, err
			}
			evs = append(evs, events.ProductPriceChanged{ProductID: row.ID.String(), VariantID: v.ID.String(),
				ShopID: row.ShopID.String(), OldPrice: v.EffectivePrice, NewPrice: eff, Currency: row.Currency, Reason: reason, At: at.UTC()})
			v.EffectivePrice = eff
		}
		if lowest < 0 || eff < lowest {
			lowest = eff
		}
	}
	if lowest >= 0 && lowest != row.Price {
		if err := q.SetProductPrice(ctx, store.SetProductPriceParams{ID: row.ID, Price: lowest}); err != nil {
			return row, err
		}
		row.Price = lowest
	}
	return row, s.bus.Publish(ctx, tx, evs...)
}

// inIDOrder returns pointers to vs's elements sorted by ID: the one order in which every
// writer locks several variant rows.
func inIDOrder(vs []store.CatalogVariant) []*store.CatalogVariant {
	out := make([]*store.CatalogVariant, len(vs))
	for i := range vs {
		out[i] = &vs[i]
	}
	slices.SortFunc(out, func(a, b *store.CatalogVariant) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out
}

// PriceInput sets the list price of one variant, or of every variant when VariantID is nil.
// Prices stop at 10^12 minor units, so that percentage arithmetic never overflows.
type PriceInput struct {
	Price     int64      `json:"price" validate:"gt=0,max=1000000000000"`
	VariantID *uuid.UUID `json:"variant_id"`
}

// SetPrice changes list prices; effective prices follow, with any discount applied.
func (s *Service) SetPrice(ctx context.Context, p auth.Principal, id uuid.UUID, in PriceInput) (Product, error) {
	var (
		row store.CatalogProduct
		vs  []store.CatalogVariant
	)
	err := s.managed(ctx, p, id, actionPrice, func(tx pgx.Tx, q *store.Queries, cur store.CatalogProduct) error {
		var err error
		if vs, err = q.ListVariants(ctx, id); err != nil {
			return err
		}
		if in.VariantID != nil && !slices.ContainsFunc(vs, func(v store.CatalogVariant) bool { return v.ID == *in.VariantID }) {
			return apperr.Field("variant_id", "is not a variant of this product")
		}
		now := time.Now()
		for _, v := range inIDOrder(vs) {
			if (in.VariantID != nil && v.ID != *in.VariantID) || v.Price == in.Price {
				continue
			}
			if err := q.SetVariantPrice(ctx, store.SetVariantPriceParams{ID: v.ID, Price: in.Price}); err != nil {
				return err
			}
			if err := q.AddPriceChange(ctx, store.AddPriceChangeParams{ProductID: id, VariantID: v.ID, Kind: "list",
				OldPrice: v.Price, NewPrice: in.Price, Reason: "price_set", ChangedBy: &p.UserID, ChangedAt: now}); err != nil {
				return err
			}
			v.Price = in.Price
		}
		row, err = s.reprice(ctx, tx, q, cur, vs, now, &p.UserID, "price_set")
		return err
	})
	if err != nil {
		return Product{}, err
	}
	out := toProduct(row, vs, time.Now())
	return out, s.withMedia(ctx, false, &out)
}

// DiscountInput puts a product on sale between StartsAt (default now) and EndsAt: a
// percentage off or a fixed sale price, for every variant or for VariantID only.
type DiscountInput struct {
	Percent   *int       `json:"percent" validate:"omitempty,min=1,max=99"`
	SalePrice *int64     `json:"sale_price" validate:"omitempty,gt=0,max=1000000000000"`
	VariantID *uuid.UUID `json:"variant_id"`
	StartsAt  *time.Time `json:"starts_at"`
	EndsAt    time.Time  `json:"ends_at" validate:"required"`
}

// discountBoundary is the River job that runs when a discount starts or ends: it brings the
// stored effective prices to what they are from then on.
type discountBoundary struct {
	ProductID  uuid.UUID `json:"product_id"`
	DiscountID uuid.UUID `json:"discount_id"`
	At         time.Time `json:"at"`
	End        bool      `json:"end"`
}

// Kind implements river.JobArgs.
func (discountBoundary) Kind() string { return "catalog.discount_boundary" }

type discountWorker struct {
	river.WorkerDefaults[discountBoundary]
	s *Service
}

func (w *discountWorker) Work(ctx context.Context, job *river.Job[discountBoundary]) error {
	return w.s.crossBoundary(ctx, job.Args)
}

// SetDiscount puts a product on sale, replacing any discount it had. The stored prices change
// now when the sale starts now, and otherwise when River runs the job scheduled at its start;
// another job at its end puts them back.
func (s *Service) SetDiscount(ctx context.Context, p auth.Principal, id uuid.UUID, in DiscountInput) (Discount, error) {
	now := time.Now()
	starts := now
	if in.StartsAt != nil && in.StartsAt.After(now) {
		starts = *in.StartsAt
	}
	switch {
	case (in.Percent == nil) == (in.SalePrice == nil):
		return Discount{}, apperr.Field("percent", "give either percent or sale_price")
	case !in.EndsAt.After(starts):
		return Discount{}, apperr.Field("ends_at", "must be after starts_at and in the future")
	}
	var out Discount
	err := s.managed(ctx, p, id, actionDiscount, func(tx pgx.Tx, q *store.Queries, _ store.CatalogProduct) error {
		vs, err := q.ListVariants(ctx, id)
		if err != nil {
			return err
		}
		if err := checkDiscountTargets(vs, in); err != nil {
			return err
		}
		d := Discount{ID: uuid.New(), VariantID: in.VariantID, Percent: in.Percent, SalePrice: in.SalePrice,
			StartsAt: starts.UTC(), EndsAt: in.EndsAt.UTC()}
		var pct *int32
		if in.Percent != nil {
			v := int32(*in.Percent)
			pct = &v
		}
		row, err := q.SetDiscount(ctx, store.SetDiscountParams{ID: id, DiscountID: &d.ID, DiscountPercent: pct,
			DiscountPrice: in.SalePrice, DiscountVariantID: in.VariantID, DiscountStartsAt: &d.StartsAt,
			DiscountEndsAt: &d.EndsAt, DiscountBy: &p.UserID})
		if err != nil {
			return err
		}
		if _, err := s.reprice(ctx, tx, q, row, vs, now, &p.UserID, "discount_set"); err != nil {
			return err
		}
		if starts.After(now) {
			if err := s.schedule(ctx, tx, discountBoundary{ProductID: id, DiscountID: d.ID, At: d.StartsAt}); err != nil {
				return err
			}
		}
		d.Active = d.activeAt(now)
		out = d
		return s.schedule(ctx, tx, discountBoundary{ProductID: id, DiscountID: d.ID, At: d.EndsAt, End: true})
	})
	return out, err
}

// checkDiscountTargets refuses a discount for another product's variant, and a sale price that
// would not lower the price of a variant it covers.
func checkDiscountTargets(vs []store.CatalogVariant, in DiscountInput) error {
	covered := 0
	for _, v := range vs {
		if in.VariantID != nil && v.ID != *in.VariantID {
			continue
		}
		covered++
		if in.SalePrice != nil && *in.SalePrice >= v.Price {
			return apperr.Field("sale_price", "must be below the list price of every variant it covers")
		}
	}
	if covered == 0 {
		return apperr.Field("variant_id", "is not a variant of this product")
	}
	return nil
}

func (s *Service) schedule(ctx context.Context, tx pgx.Tx, b discountBoundary) error {
	return s.jobs.InsertTx(ctx, tx, b, &river.InsertOpts{ScheduledAt: b.At})
}

// EndDiscount ends a product's current or scheduled discount now.
func (s *Service) EndDiscount(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	return s.managed(ctx, p, id, actionDiscount, func(tx pgx.Tx, q *store.Queries, row store.CatalogProduct) error {
		now := time.Now()
		d := discountOf(row)
		if d == nil || !now.Before(d.EndsAt) {
			return apperr.NotFoundf("discount")
		}
		row, err := q.ClearDiscount(ctx, store.ClearDiscountParams{ID: id, DiscountID: d.ID})
		if err != nil {
			return err
		}
		vs, err := q.ListVariants(ctx, id)
		if err != nil {
			return err
		}
		_, err = s.reprice(ctx, tx, q, row, vs, now, &p.UserID, "discount_ended")
		return err
	})
}

// crossBoundary is the discount job's work. It prices at the boundary or later, never
// earlier, so that a job run a moment early by a clock apart from the database's still applies
// what it was scheduled for; a stale job (its discount replaced or ended) only confirms the
// current prices.
func (s *Service) crossBoundary(ctx context.Context, b discountBoundary) error {
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		row, err := q.LockProduct(ctx, b.ProductID)
		if pgdb.IsNoRows(err) {
			return nil // deleted since: nothing to price
		}
		if err != nil {
			return err
		}
		at := time.Now()
		if at.Before(b.At) {
			at = b.At
		}
		reason := "discount_started"
		if b.End {
			reason = "discount_ended"
			if d := discountOf(row); d != nil && d.ID == b.DiscountID && !at.Before(d.EndsAt) {
				if row, err = q.ClearDiscount(ctx, store.ClearDiscountParams{ID: row.ID, DiscountID: d.ID}); err != nil {
					return err
				}
			}
		}
		vs, err := q.ListVariants(ctx, row.ID)
		if err != nil {
			return err
		}
		_, err = s.reprice(ctx, tx, q, row, vs, at, nil, reason)
		return err
	})
}

type historyCursor struct {
	ID int64 `json:"i"`
}

// PriceHistory pages through a product's price changes, newest first, for whoever may see it.
func (s *Service) PriceHistory(ctx context.Context, p *auth.Principal, id uuid.UUID, page httpx.Page) (httpx.List[PriceChange], error) {
	var cur historyCursor
	has, err := httpx.DecodeCursor(page.Cursor, &cur)
	if err != nil {
		return httpx.List[PriceChange]{}, err
	}
	row, err := s.visible(ctx, p, id)
	if err != nil {
		return httpx.List[PriceChange]{}, err
	}
	rows, err := s.q.ListPriceHistory(ctx, store.ListPriceHistoryParams{ProductID: id, HasCursor: has, BeforeID: cur.ID,
		Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[PriceChange]{}, err
	}
	out := make([]PriceChange, len(rows))
	for i, r := range rows {
		out[i] = PriceChange{ID: r.ID, VariantID: r.VariantID, Kind: r.Kind, OldPrice: r.OldPrice, NewPrice: r.NewPrice,
			Currency: row.Currency, Reason: r.Reason, ChangedBy: r.ChangedBy, ChangedAt: r.ChangedAt.UTC()}
	}
	return httpx.Paginate(out, page.Limit, func(c PriceChange) any { return historyCursor{c.ID} }), nil
}
