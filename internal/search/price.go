package search

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/search/internal/store"
)

// Shipping is what price comparison needs of the shipping context: the standard fee of a
// parcel from a shop to the buyer's default address (ok false when they have none).
type Shipping interface {
	FeeToDefault(ctx context.Context, buyer, shopID uuid.UUID, weightGrams int64) (fee int64, ok bool, err error)
}

// MaxAlerts bounds a buyer's active price alerts.
const MaxAlerts = 50

// priceCheck is what a refresh knows of a product's prices now, for its alerts.
type priceCheck struct {
	product  uuid.UUID
	price    int64
	currency string
	variants map[uuid.UUID]int64
}

func priceCheckOf(p Source, price int64, campaign map[uuid.UUID]int64) priceCheck {
	c := priceCheck{product: p.ID, price: price, currency: p.Currency, variants: map[uuid.UUID]int64{}}
	for _, v := range p.Variants {
		c.variants[v.ID], _ = EffectivePrice([]SourceVariant{v}, campaign)
	}
	return c
}

// fireAlerts fires, in the refresh's transaction, the alerts whose target the new prices reach:
// each once (only active alerts move), each publishing price_alert.triggered.
func (s *Service) fireAlerts(ctx context.Context, tx pgx.Tx, q *store.Queries, checks []priceCheck) error {
	var evs []events.PriceAlertTriggered
	add := func(rows []store.SearchPriceAlert, currency string) {
		for _, a := range rows {
			ev := events.PriceAlertTriggered{AlertID: a.ID.String(), UserID: a.UserID.String(), ProductID: a.ProductID.String(),
				TargetPrice: a.TargetPrice, Price: *a.TriggeredPrice, Currency: currency, At: time.Now().UTC()}
			if a.VariantID != nil {
				ev.VariantID = a.VariantID.String()
			}
			evs = append(evs, ev)
		}
	}
	for _, c := range checks {
		rows, err := q.TriggerProductAlerts(ctx, store.TriggerProductAlertsParams{ProductID: c.product, Price: &c.price})
		if err != nil {
			return err
		}
		add(rows, c.currency)
		for vid, price := range c.variants {
			rows, err := q.TriggerVariantAlerts(ctx, store.TriggerVariantAlertsParams{VariantID: &vid, Price: &price})
			if err != nil {
				return err
			}
			add(rows, c.currency)
		}
	}
	for _, ev := range evs {
		if err := s.bus.Publish(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// Alert is a buyer's price alert.
type Alert struct {
	ID             uuid.UUID  `json:"id"`
	ProductID      uuid.UUID  `json:"product_id"`
	VariantID      *uuid.UUID `json:"variant_id"`
	TargetPrice    int64      `json:"target_price"`
	Status         string     `json:"status"`
	TriggeredPrice *int64     `json:"triggered_price"`
	TriggeredAt    *time.Time `json:"triggered_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

// AlertInput is a new price alert.
type AlertInput struct {
	ProductID   uuid.UUID  `json:"product_id" validate:"required"`
	VariantID   *uuid.UUID `json:"variant_id"`
	TargetPrice int64      `json:"target_price" validate:"required,gt=0,max=1000000000000"`
}

func toAlert(a store.SearchPriceAlert) Alert {
	out := Alert{ID: a.ID, ProductID: a.ProductID, VariantID: a.VariantID, TargetPrice: a.TargetPrice, Status: a.Status,
		TriggeredPrice: a.TriggeredPrice, TriggeredAt: a.TriggeredAt, CreatedAt: a.CreatedAt.UTC()}
	if out.TriggeredAt != nil {
		t := out.TriggeredAt.UTC()
		out.TriggeredAt = &t
	}
	return out
}

// CreateAlert sets a price alert for the caller on a listed product (or one of its variants),
// below its price now; a buyer has at most MaxAlerts active ones, one per product or variant.
func (s *Service) CreateAlert(ctx context.Context, p auth.Principal, in AlertInput) (Alert, error) {
	srcs, err := s.catalog.Products(ctx, []uuid.UUID{in.ProductID})
	if err != nil {
		return Alert{}, err
	}
	if len(srcs) == 0 || !srcs[0].Listed {
		return Alert{}, apperr.Field("product_id", "is not a product for sale")
	}
	src := srcs[0]
	var vids []uuid.UUID
	var variant *SourceVariant
	for i, v := range src.Variants {
		vids = append(vids, v.ID)
		if in.VariantID != nil && v.ID == *in.VariantID {
			variant = &src.Variants[i]
		}
	}
	if in.VariantID != nil && variant == nil {
		return Alert{}, apperr.Field("variant_id", "is not a variant of that product")
	}
	campaign, err := s.shops.CampaignPrices(ctx, vids)
	if err != nil {
		return Alert{}, err
	}
	now, _ := EffectivePrice(src.Variants, campaign)
	if variant != nil {
		now, _ = EffectivePrice([]SourceVariant{*variant}, campaign)
	}
	if in.TargetPrice >= now {
		return Alert{}, apperr.Field("target_price", fmt.Sprintf("must be below the price now (%d)", now))
	}
	var row store.SearchPriceAlert
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.LockAlertOwner(ctx, p.UserID.String()); err != nil {
			return err
		}
		n, err := q.CountActiveAlerts(ctx, p.UserID)
		if err != nil {
			return err
		}
		if n >= MaxAlerts {
			return apperr.New(apperr.TooManyRequests, "at most %d active price alerts; delete one first", MaxAlerts)
		}
		row, err = q.CreateAlert(ctx, store.CreateAlertParams{UserID: p.UserID, ProductID: in.ProductID, VariantID: in.VariantID,
			TargetPrice: in.TargetPrice})
		if pgdb.IsUniqueViolation(err, "price_alerts_once_key") {
			return apperr.New(apperr.Conflict, "you already have an active alert on this product or variant")
		}
		return err
	})
	if err != nil {
		return Alert{}, err
	}
	return toAlert(row), nil
}

// Alerts pages through the caller's alerts, newest first.
func (s *Service) Alerts(ctx context.Context, p auth.Principal, page httpx.Page) (httpx.List[Alert], error) {
	var cur httpx.Keyset
	has, err := httpx.DecodeCursor(page.Cursor, &cur)
	if err != nil {
		return httpx.List[Alert]{}, err
	}
	params := store.ListAlertsParams{UserID: p.UserID, Lim: int32(page.Limit + 1)}
	if has {
		params.AfterAt, params.AfterID = &cur.At, &cur.ID
	}
	rows, err := s.q.ListAlerts(ctx, params)
	if err != nil {
		return httpx.List[Alert]{}, err
	}
	out := make([]Alert, len(rows))
	for i, r := range rows {
		out[i] = toAlert(r)
	}
	return httpx.Paginate(out, page.Limit, func(a Alert) any { return httpx.Keyset{At: a.CreatedAt, ID: a.ID} }), nil
}

// DeleteAlert deletes one of the caller's alerts; another buyer's is not found.
func (s *Service) DeleteAlert(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	n, err := s.q.DeleteAlert(ctx, store.DeleteAlertParams{ID: id, UserID: p.UserID})
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.NotFoundf("price alert")
	}
	return nil
}

// Offer is the same product sold by another shop, as price comparison lists it.
type Offer struct {
	ProductID  uuid.UUID `json:"product_id"`
	ShopID     uuid.UUID `json:"shop_id"`
	ShopName   string    `json:"shop_name"`
	ShopRating float64   `json:"shop_rating"`
	Title      string    `json:"title"`
	Price      int64     `json:"price"`
	Currency   string    `json:"currency"`
	InStock    bool      `json:"in_stock"`
	// ShippingFee is the standard fee to the caller's default address (signed in, with one).
	ShippingFee *int64 `json:"shipping_fee"`
	// MatchedBy says how the offer was found: gtin, brand_model or title.
	MatchedBy string `json:"matched_by"`
}

// Comparison is a product's price comparison.
type Comparison struct {
	ProductID uuid.UUID `json:"product_id"`
	Price     int64     `json:"price"`
	Currency  string    `json:"currency"`
	Offers    []Offer   `json:"offers"`
}

// maxOffers bounds the offers a comparison lists.
const maxOffers = 50

// Compare lists the same product sold by other shops, cheapest first: matched by GTIN when it
// has one, else by brand and model, else by a close title in the same category.
func (s *Service) Compare(ctx context.Context, p *auth.Principal, id uuid.UUID) (Comparison, error) {
	d, err := s.readQ.GetDocument(ctx, id)
	if pgdb.IsNoRows(err) {
		return Comparison{}, apperr.NotFoundf("product")
	}
	if err != nil {
		return Comparison{}, err
	}
	var cond, by string
	args := []any{d.ShopID, d.ProductID}
	switch {
	case d.Gtin != "":
		cond, by = "d.gtin = $3", "gtin"
		args = append(args, d.Gtin)
	case d.Brand != "" && d.Model != "":
		cond, by = "d.brand <> '' AND d.model <> '' AND lower(d.brand) = lower($3) AND lower(d.model) = lower($4)", "brand_model"
		args = append(args, d.Brand, d.Model)
	default:
		cond, by = "d.category_id IS NOT DISTINCT FROM $3 AND search.fold(d.title) % search.fold($4) AND similarity(search.fold(d.title), search.fold($4)) >= 0.5", "title"
		args = append(args, d.CategoryID, d.Title)
	}
	rows, err := s.reads.Query(ctx, `SELECT d.product_id, d.shop_id, d.shop_name, d.shop_rating::float8, d.title, d.price, d.currency,
	d.in_stock, d.weight_grams FROM search.documents d
WHERE d.shop_id <> $1 AND d.product_id <> $2 AND `+cond+`
ORDER BY d.price, d.product_id LIMIT `+fmt.Sprint(maxOffers), args...)
	if err != nil {
		return Comparison{}, fmt.Errorf("search: compare: %w", err)
	}
	out := Comparison{ProductID: d.ProductID, Price: d.Price, Currency: d.Currency, Offers: []Offer{}}
	var weights []int32
	for rows.Next() {
		var o Offer
		var w int32
		if err := rows.Scan(&o.ProductID, &o.ShopID, &o.ShopName, &o.ShopRating, &o.Title, &o.Price, &o.Currency, &o.InStock, &w); err != nil {
			rows.Close()
			return Comparison{}, fmt.Errorf("search: compare: %w", err)
		}
		o.MatchedBy = by
		out.Offers = append(out.Offers, o)
		weights = append(weights, w)
	}
	if err := rows.Err(); err != nil {
		return Comparison{}, fmt.Errorf("search: compare: %w", err)
	}
	if p != nil && s.ship != nil {
		for i := range out.Offers {
			fee, ok, err := s.ship.FeeToDefault(ctx, p.UserID, out.Offers[i].ShopID, int64(weights[i]))
			if err != nil {
				return Comparison{}, err
			}
			if !ok {
				break
			}
			out.Offers[i].ShippingFee = &fee
		}
	}
	return out, nil
}

// SimilarPriceBandPercent is how far around a product's price similar-price looks, up and down.
const SimilarPriceBandPercent = 20

// SimilarPrice lists listed products of the same category whose price is within
// SimilarPriceBandPercent of the product's, closest price first.
func (s *Service) SimilarPrice(ctx context.Context, id uuid.UUID, limit int) ([]Item, error) {
	d, err := s.readQ.GetDocument(ctx, id)
	if pgdb.IsNoRows(err) {
		return nil, apperr.Field("product_id", "is not a product for sale")
	}
	if err != nil {
		return nil, err
	}
	lo, hi := d.Price*(100-SimilarPriceBandPercent)/100, d.Price*(100+SimilarPriceBandPercent)/100
	return s.items(ctx, `d.product_id <> $1 AND d.category_id IS NOT DISTINCT FROM $2 AND d.price BETWEEN $3 AND $4`,
		`abs(d.price - $5), d.product_id`, limit, d.ProductID, d.CategoryID, lo, hi, d.Price)
}

// Related lists products bought together with the product (by how many checkouts held both),
// then others of its category, best-selling first.
func (s *Service) Related(ctx context.Context, id uuid.UUID, limit int) ([]Item, error) {
	d, err := s.readQ.GetDocument(ctx, id)
	if pgdb.IsNoRows(err) {
		return nil, apperr.NotFoundf("product")
	}
	if err != nil {
		return nil, err
	}
	return s.items(ctx, `d.product_id <> $1 AND (d.category_id IS NOT DISTINCT FROM $2 AND $2::uuid IS NOT NULL
	OR d.product_id IN (SELECT b.product_id FROM search.sales a JOIN search.sales b ON b.checkout_id = a.checkout_id
		WHERE a.product_id = $1 AND b.product_id <> $1))`,
		`(SELECT count(*) FROM search.sales a JOIN search.sales b ON b.checkout_id = a.checkout_id
		WHERE a.product_id = $1 AND b.product_id = d.product_id) DESC, d.sold_count DESC, d.product_id`, limit, d.ProductID, d.CategoryID)
}

// items answers documents as result items.
func (s *Service) items(ctx context.Context, where, order string, limit int, args ...any) ([]Item, error) {
	sql := `SELECT d.product_id, d.shop_id, d.title, d.brand, d.model, d.category_id, d.price, d.list_price, d.currency, d.in_stock,
	d.rating::float8, d.rating_count, d.sold_count, d.shop_name, d.province, d.created_at
FROM search.documents d WHERE ` + where + ` ORDER BY ` + order + fmt.Sprintf(" LIMIT %d", limit)
	rows, err := s.reads.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("search: items: %w", err)
	}
	defer rows.Close()
	out := []Item{}
	for rows.Next() {
		var it Item
		var rc int32
		if err := rows.Scan(&it.ID, &it.ShopID, &it.Title, &it.Brand, &it.Model, &it.CategoryID, &it.Price, &it.ListPrice, &it.Currency,
			&it.InStock, &it.Rating, &rc, &it.SoldCount, &it.ShopName, &it.Province, &it.CreatedAt); err != nil {
			return nil, fmt.Errorf("search: items: %w", err)
		}
		it.RatingCount, it.OnSale, it.Highlight, it.CreatedAt = int(rc), it.Price < it.ListPrice, it.Title, it.CreatedAt.UTC()
		out = append(out, it)
	}
	return out, rows.Err()
}
