package cart

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/goshop/goshop/internal/cart/internal/store"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Service holds the rules of the cart context.
type Service struct {
	pool     *pgxpool.Pool
	q        *store.Queries
	catalog  catalog
	promos   promotions
	shipping ShippingQuoter
	interest Interest
	pricing  Pricing
}

// NewService builds the cart service over the catalog, the shop context's promotions and a
// shipping quoter.
func NewService(pool *pgxpool.Pool, cat catalog, promos promotions, shipping ShippingQuoter, pricing Pricing) *Service {
	if pricing.Currency == "" {
		pricing.Currency = "VND"
	}
	return &Service{pool: pool, q: newStore(pool), catalog: cat, promos: promos, shipping: shipping, pricing: pricing}
}

// SetShipping replaces the shipping quoter (the shipping context, once wired).
func (s *Service) SetShipping(q ShippingQuoter) { s.shipping = q }

// SetInterest sets where add-to-carts are counted (the search context, once wired); without one
// they are not recorded.
func (s *Service) SetInterest(i Interest) { s.interest = i }

// AddInput adds a product (one of its variants) to the cart.
type AddInput struct {
	ProductID uuid.UUID  `json:"product_id" validate:"required"`
	VariantID *uuid.UUID `json:"variant_id"`
	Quantity  int32      `json:"quantity" validate:"required,gte=1,lte=999"`
}

// Add puts a variant in the buyer's cart, or adds to its quantity, after checking that it
// exists, can be bought and is in stock for the whole quantity.
func (s *Service) Add(ctx context.Context, buyer uuid.UUID, in AddInput) (Line, error) {
	var (
		v       Variant
		row     store.CartItem
		offer   Offer
		onOffer bool
	)
	// BEGIN goes out with the first batch and COMMIT with the second: two round trips.
	err := pgdb.WithPipelinedTx(ctx, s.pool, func(tx *pgdb.PipelinedTx) error {
		// The variant, the buyer's lock and the cart's lines of the product: one round trip.
		var verr error
		var fill store.FillRow
		var b pgdb.Batch
		keep := func(got Variant, err error) error { v, verr = got, err; return nil } // a refusal, not the batch's failure
		if in.VariantID == nil {
			s.catalog.QueueOnlyVariant(ctx, &b, in.ProductID, keep)
		} else {
			s.catalog.QueueVariants(ctx, &b, []uuid.UUID{*in.VariantID}, func(vs map[uuid.UUID]Variant, err error) error {
				got, ok := vs[*in.VariantID]
				if err == nil && !ok {
					err = apperr.NotFoundf("variant")
				}
				return keep(got, err)
			})
		}
		pgdb.Queue(&b, func(db pgdb.DBTX) (struct{}, error) { return struct{}{}, newStore(db).LockCart(ctx, buyer) },
			func(_ struct{}, err error) error { return err })
		pgdb.Queue(&b, func(db pgdb.DBTX) (store.FillRow, error) {
			return newStore(db).Fill(ctx, store.FillParams{UserID: buyer, ProductID: in.ProductID})
		}, func(r store.FillRow, err error) error { fill = r; return err })
		if err := tx.Send(ctx, &b); err != nil {
			return fmt.Errorf("cart: add: %w", err)
		}
		if in.VariantID != nil && (apperr.Is(verr, apperr.NotFound) || (verr == nil && v.ProductID != in.ProductID)) {
			return apperr.Field("variant_id", "is not a variant of that product")
		}
		if verr != nil {
			return verr
		}
		if !v.Purchasable {
			return apperr.New(apperr.Conflict, "this product is not for sale now")
		}
		var held int32
		for i, id := range fill.VariantIds {
			if id == v.VariantID {
				held += fill.Quantities[i]
			}
		}
		if held == 0 && fill.Lines >= MaxLines {
			return lineLimit()
		}
		if err := checkQuantity(v, held+in.Quantity); err != nil {
			return err
		}
		// The line, the interest it shows and the campaign price, and COMMIT: one round trip.
		b = pgdb.Batch{}
		pgdb.Queue(&b, func(db pgdb.DBTX) (store.CartItem, error) {
			return newStore(db).AddItem(ctx, store.AddItemParams{UserID: buyer, VariantID: v.VariantID, ProductID: v.ProductID,
				ShopID: v.ShopID, Quantity: in.Quantity})
		}, func(r store.CartItem, err error) error { row = r; return err })
		if s.interest != nil {
			if err := s.interest.QueueCartAdd(ctx, &b, events.CartItemAdded{UserID: buyer.String(), ProductID: v.ProductID.String(),
				VariantID: v.VariantID.String(), ShopID: v.ShopID.String(), Quantity: int(in.Quantity), At: time.Now().UTC()}); err != nil {
				return err
			}
		}
		s.promos.QueueCampaignOffers(ctx, &b, []uuid.UUID{v.VariantID}, func(offers map[uuid.UUID]Offer, err error) error {
			offer, onOffer = offers[v.VariantID]
			return err
		})
		if err := tx.SendCommit(ctx, &b); err != nil {
			return fmt.Errorf("cart: add: %w", err)
		}
		return nil
	})
	if err != nil {
		return Line{}, err
	}
	return priceWith(row, v, offer, onOffer), nil
}

func checkQuantity(v Variant, qty int32) error {
	if qty > MaxQuantity {
		return apperr.Field("quantity", fmt.Sprintf("a line holds at most %d", MaxQuantity))
	}
	if qty > v.Stock {
		return apperr.New(apperr.InsufficientStock, "only %d of %s left in stock", v.Stock, v.Title)
	}
	return nil
}

// SetQuantity changes a line's quantity.
func (s *Service) SetQuantity(ctx context.Context, buyer, lineID uuid.UUID, qty int32) (Line, error) {
	row, err := s.q.GetItem(ctx, store.GetItemParams{ID: lineID, UserID: buyer})
	if err != nil {
		return Line{}, pgdb.NotFound(err, "cart line")
	}
	v, err := s.catalog.Variant(ctx, nil, row.VariantID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return Line{}, err
	}
	if err != nil || !v.Purchasable {
		return Line{}, apperr.New(apperr.Conflict, "this product is not for sale any more; remove it from the cart")
	}
	if err := checkQuantity(v, qty); err != nil {
		return Line{}, err
	}
	row, err = s.q.SetQuantity(ctx, store.SetQuantityParams{ID: lineID, UserID: buyer, Quantity: qty})
	if err != nil {
		return Line{}, pgdb.NotFound(err, "cart line")
	}
	return s.priceLine(ctx, nil, row, &v)
}

// Remove deletes a line.
func (s *Service) Remove(ctx context.Context, buyer, lineID uuid.UUID) error {
	n, err := s.q.DeleteItem(ctx, store.DeleteItemParams{ID: lineID, UserID: buyer})
	if err == nil && n == 0 {
		return apperr.NotFoundf("cart line")
	}
	return err
}

// Clear empties the cart and drops its vouchers.
func (s *Service) Clear(ctx context.Context, buyer uuid.UUID) error {
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error { return s.ClearTx(ctx, tx, buyer) })
}

// ClearTx empties the cart inside the caller's transaction (checkout).
func (s *Service) ClearTx(ctx context.Context, tx pgx.Tx, buyer uuid.UUID) error {
	q := newStore(tx)
	if err := q.Clear(ctx, buyer); err != nil {
		return err
	}
	return q.ClearCoupons(ctx, buyer)
}

// Quote prices the buyer's cart now.
func (s *Service) Quote(ctx context.Context, buyer uuid.UUID, o QuoteOptions) (Quote, error) {
	rows, err := s.q.Items(ctx, buyer)
	if err != nil {
		return Quote{}, err
	}
	coupons, err := s.q.Coupons(ctx, buyer)
	if err != nil {
		return Quote{}, err
	}
	return s.quote(ctx, nil, buyer, rows, coupons, o)
}

func (s *Service) quote(ctx context.Context, tx pgx.Tx, buyer uuid.UUID, rows []store.CartItem, coupons []store.CartCoupon, o QuoteOptions) (Quote, error) {
	lines := make([]Line, 0, len(rows))
	for _, r := range rows {
		l, err := s.priceLine(ctx, tx, r, nil)
		if err != nil {
			return Quote{}, err
		}
		lines = append(lines, l)
	}
	return s.total(lines, coupons, o, quoters{
		voucher: func(shopID uuid.UUID, code string, vl []VoucherLine) (VoucherQuote, error) {
			return s.promos.QuoteVoucher(ctx, tx, shopID, buyer, code, vl)
		},
		fee: func(r ShippingRequest) (int64, error) { r.BuyerID = buyer; return s.shipping.Fee(ctx, tx, r) },
	})
}

// quoters price a cart's vouchers and parcels: reading as they go (a quote), or from reads
// batched beforehand (checkout).
type quoters struct {
	voucher func(shopID uuid.UUID, code string, lines []VoucherLine) (VoucherQuote, error)
	fee     func(r ShippingRequest) (int64, error)
}

// total adds vouchers and shipping to priced lines and adds it all up.
func (s *Service) total(lines []Line, coupons []store.CartCoupon, o QuoteOptions, qs quoters) (Quote, error) {
	if o.ShippingMethod == "" {
		o.ShippingMethod = events.ShippingStandard
	}
	byShop := map[uuid.UUID][]VoucherLine{}
	weight := map[uuid.UUID]int64{}
	ships := map[uuid.UUID]bool{}
	for _, l := range lines {
		byShop[l.ShopID] = append(byShop[l.ShopID], VoucherLine{ProductID: l.ProductID, Amount: l.LineTotal})
		weight[l.ShopID] += l.WeightGrams * int64(l.Quantity)
		ships[l.ShopID] = ships[l.ShopID] || l.forSale
	}
	codes := map[uuid.UUID]string{}
	for _, c := range coupons {
		codes[c.ShopID] = c.Code
	}
	vouchers := map[uuid.UUID]VoucherQuote{}
	verrs := map[uuid.UUID]error{}
	for shopID, code := range codes {
		if _, inCart := byShop[shopID]; !inCart {
			continue
		}
		v, err := qs.voucher(shopID, code, byShop[shopID])
		if refused(err) || apperr.Is(err, apperr.NotFound) { // a code applied earlier may be gone since
			verrs[shopID] = err
			continue
		}
		if err != nil {
			return Quote{}, err
		}
		vouchers[shopID] = v
	}
	if o.ExtraCoupon != "" {
		shopID, v, err := findVoucher(qs.voucher, o.ExtraCoupon, byShop)
		if err != nil {
			return Quote{}, err
		}
		vouchers[shopID] = v
		delete(verrs, shopID)
	}
	fees := map[uuid.UUID]int64{}
	for shopID, w := range weight {
		// Nothing of the shop is for sale (checkout refuses such lines), so nothing ships from
		// it; a closed shop has no place to ship from, and pricing its parcel would fail the
		// whole cart. A line only short of stock still pays: the reservation may yet succeed.
		if !ships[shopID] {
			continue
		}
		fee, err := qs.fee(ShippingRequest{ShopID: shopID, WeightGrams: w, Method: o.ShippingMethod, AddressID: o.AddressID})
		if err != nil {
			return Quote{}, err
		}
		fees[shopID] = fee
	}
	return s.pricing.compute(lines, vouchers, verrs, fees), nil
}

// findVoucher finds which shop of the cart a code belongs to, and what it takes off there.
func findVoucher(quote func(shopID uuid.UUID, code string, lines []VoucherLine) (VoucherQuote, error), code string,
	byShop map[uuid.UUID][]VoucherLine) (uuid.UUID, VoucherQuote, error) {
	var lastErr error
	for shopID, lines := range byShop {
		v, err := quote(shopID, code, lines)
		switch {
		case err == nil:
			return shopID, v, nil
		case apperr.Is(err, apperr.NotFound): // another shop's code, or none
		case refused(err):
			lastErr = err
		default:
			return uuid.Nil, VoucherQuote{}, err
		}
	}
	if lastErr != nil {
		return uuid.Nil, VoucherQuote{}, lastErr
	}
	return uuid.Nil, VoucherQuote{}, apperr.Field("code", "no shop in your cart has this voucher")
}

// CouponInput applies a voucher code, optionally naming the shop it belongs to.
type CouponInput struct {
	Code   string     `json:"code" validate:"required,max=32"`
	ShopID *uuid.UUID `json:"shop_id"`
}

// ApplyCoupon checks a code against the cart and keeps it; a shop's newer code replaces its
// older one.
func (s *Service) ApplyCoupon(ctx context.Context, buyer uuid.UUID, in CouponInput) (Quote, error) {
	rows, err := s.q.Items(ctx, buyer)
	if err != nil {
		return Quote{}, err
	}
	byShop := map[uuid.UUID][]VoucherLine{}
	for _, r := range rows {
		l, err := s.priceLine(ctx, nil, r, nil)
		if err != nil {
			return Quote{}, err
		}
		if in.ShopID == nil || *in.ShopID == l.ShopID {
			byShop[l.ShopID] = append(byShop[l.ShopID], VoucherLine{ProductID: l.ProductID, Amount: l.LineTotal})
		}
	}
	if len(byShop) == 0 {
		return Quote{}, apperr.Field("code", "the cart has nothing from that shop")
	}
	shopID, _, err := findVoucher(func(shopID uuid.UUID, code string, lines []VoucherLine) (VoucherQuote, error) {
		return s.promos.QuoteVoucher(ctx, nil, shopID, buyer, code, lines)
	}, in.Code, byShop)
	if err != nil {
		return Quote{}, err
	}
	if err := s.q.SetCoupon(ctx, store.SetCouponParams{UserID: buyer, ShopID: shopID, Code: strings.ToUpper(strings.TrimSpace(in.Code))}); err != nil {
		return Quote{}, err
	}
	return s.Quote(ctx, buyer, QuoteOptions{})
}

// RemoveCoupon drops the applied code of one shop, or all of them.
func (s *Service) RemoveCoupon(ctx context.Context, buyer uuid.UUID, shopID *uuid.UUID) (Quote, error) {
	n, err := s.q.RemoveCoupon(ctx, store.RemoveCouponParams{UserID: buyer, ShopID: shopID})
	if err != nil {
		return Quote{}, err
	}
	if n == 0 {
		return Quote{}, apperr.NotFoundf("applied voucher")
	}
	return s.Quote(ctx, buyer, QuoteOptions{})
}

// priceLine prices a stored line at the current effective price: the running campaign price
// when the variant is in a campaign with stock left, else the catalog's effective price.
func (s *Service) priceLine(ctx context.Context, tx pgx.Tx, r store.CartItem, v *Variant) (Line, error) {
	if v == nil {
		got, err := s.catalog.Variant(ctx, tx, r.VariantID)
		if apperr.Is(err, apperr.NotFound) {
			return unavailable(r), nil
		}
		if err != nil {
			return Line{}, err
		}
		v = &got
	}
	offer, ok, err := s.promos.CampaignOffer(ctx, tx, r.VariantID)
	if err != nil {
		return Line{}, err
	}
	return priceWith(r, *v, offer, ok), nil
}

// unavailable is a line whose variant is gone.
func unavailable(r store.CartItem) Line {
	return Line{ID: r.ID, ProductID: r.ProductID, VariantID: r.VariantID, ShopID: r.ShopID, Quantity: r.Quantity,
		Problem: "this product is no longer available"}
}

// priceWith prices a line from its variant and its campaign offer (ok: there is one).
func priceWith(r store.CartItem, v Variant, offer Offer, ok bool) Line {
	l := Line{ID: r.ID, ProductID: r.ProductID, VariantID: r.VariantID, ShopID: r.ShopID, Quantity: r.Quantity}
	l.Title, l.VariantName, l.SKU, l.WeightGrams = v.Title, v.VariantName, v.SKU, v.WeightGrams
	l.UnitPrice, l.RegularPrice = v.UnitPrice, v.RegularPrice
	if ok && offer.Price < l.UnitPrice && offer.Remaining >= r.Quantity {
		l.UnitPrice = offer.Price
		l.CampaignID = &offer.CampaignID
	}
	l.LineTotal = l.UnitPrice * int64(r.Quantity)
	l.forSale = v.Purchasable
	switch {
	case !v.Purchasable:
		l.Problem = "this product is not for sale now"
	case v.Stock < r.Quantity:
		l.Problem = fmt.Sprintf("only %d left in stock", v.Stock)
	default:
		l.Available = true
	}
	return l
}

// Save keeps a named copy of the cart.
func (s *Service) Save(ctx context.Context, buyer uuid.UUID, name string) (SavedCart, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "Saved " + time.Now().In(s.pricing.Location).Format("2006-01-02 15:04")
	}
	var sc store.CartSavedCart
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.LockCart(ctx, buyer); err != nil {
			return fmt.Errorf("cart: lock: %w", err)
		}
		n, err := q.CountSavedCarts(ctx, buyer)
		if err != nil {
			return err
		}
		if n >= MaxSavedCarts {
			return apperr.New(apperr.Conflict, "you keep at most %d saved carts", MaxSavedCarts)
		}
		sc, err = q.CreateSavedCart(ctx, store.CreateSavedCartParams{UserID: buyer, Name: name})
		if err != nil {
			return err
		}
		copied, err := q.CopyItemsToSaved(ctx, store.CopyItemsToSavedParams{SavedCartID: sc.ID, UserID: buyer})
		if err != nil {
			return err
		}
		if copied == 0 {
			return apperr.New(apperr.Conflict, "the cart is empty: there is nothing to save")
		}
		return nil
	})
	if err != nil {
		return SavedCart{}, err
	}
	return s.savedCart(ctx, s.q, sc)
}

// Saved lists the buyer's saved carts, newest first.
func (s *Service) Saved(ctx context.Context, buyer uuid.UUID, page httpx.Page) (httpx.List[SavedCart], error) {
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[SavedCart]{}, err
	}
	rows, err := s.q.SavedCarts(ctx, store.SavedCartsParams{UserID: buyer, HasCursor: has, BeforeCreated: cur.At,
		BeforeID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[SavedCart]{}, err
	}
	out := make([]SavedCart, len(rows))
	for i, r := range rows {
		if out[i], err = s.savedCart(ctx, s.q, r); err != nil {
			return httpx.List[SavedCart]{}, err
		}
	}
	return httpx.Paginate(out, page.Limit, func(c SavedCart) any { return httpx.Keyset{At: c.CreatedAt, ID: c.ID} }), nil
}

// Restore puts a saved cart's lines back in the cart: replacing it, or merged into it (the
// larger quantity of a variant in both wins). Lines that can no longer be bought are skipped
// and reported on the answer's lines. A merge that would pass the line limit changes nothing.
func (s *Service) Restore(ctx context.Context, buyer, savedID uuid.UUID, merge bool) (Quote, error) {
	sc, err := s.q.GetSavedCart(ctx, store.GetSavedCartParams{ID: savedID, UserID: buyer})
	if err != nil {
		return Quote{}, pgdb.NotFound(err, "saved cart")
	}
	items, err := s.q.SavedItems(ctx, sc.ID)
	if err != nil {
		return Quote{}, err
	}
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.LockCart(ctx, buyer); err != nil {
			return fmt.Errorf("cart: lock: %w", err)
		}
		if !merge {
			if err := s.ClearTx(ctx, tx, buyer); err != nil {
				return err
			}
		}
		for _, it := range items {
			if existing, err := q.ItemByVariant(ctx, store.ItemByVariantParams{UserID: buyer, VariantID: it.VariantID}); err == nil {
				if existing.Quantity >= it.Quantity {
					continue
				}
				it.Quantity -= existing.Quantity
			} else if !pgdb.IsNoRows(err) {
				return fmt.Errorf("cart: restore: %w", err)
			}
			if _, err := q.AddItem(ctx, store.AddItemParams{UserID: buyer, VariantID: it.VariantID, ProductID: it.ProductID,
				ShopID: it.ShopID, Quantity: it.Quantity}); err != nil {
				return fmt.Errorf("cart: restore: %w", err)
			}
		}
		return withinLineLimit(ctx, q, buyer)
	})
	if err != nil {
		return Quote{}, err
	}
	return s.Quote(ctx, buyer, QuoteOptions{})
}

// withinLineLimit refuses a change that left the cart with more than MaxLines lines; the
// caller's transaction then rolls it back.
func withinLineLimit(ctx context.Context, q *store.Queries, buyer uuid.UUID) error {
	n, err := q.CountItems(ctx, buyer)
	if err != nil {
		return fmt.Errorf("cart: count lines: %w", err)
	}
	if n > MaxLines {
		return lineLimit()
	}
	return nil
}

func lineLimit() error { return apperr.New(apperr.Conflict, "a cart holds at most %d lines", MaxLines) }

func (s *Service) savedCart(ctx context.Context, q *store.Queries, sc store.CartSavedCart) (SavedCart, error) {
	rows, err := q.SavedItems(ctx, sc.ID)
	if err != nil {
		return SavedCart{}, err
	}
	out := SavedCart{ID: sc.ID, Name: sc.Name, CreatedAt: sc.CreatedAt.UTC(), Items: make([]SavedItem, len(rows))}
	for i, r := range rows {
		out.Items[i] = SavedItem{ProductID: r.ProductID, VariantID: r.VariantID, ShopID: r.ShopID, Quantity: r.Quantity}
		out.ItemCount += int(r.Quantity)
	}
	return out, nil
}

// refused reports whether err is a voucher's refusal of this cart (it has expired, it needs a
// larger spend ...), as opposed to a failure.
func refused(err error) bool {
	switch apperr.CodeOf(err) {
	case apperr.Invalid, apperr.VoucherExhausted, apperr.VoucherExpired, apperr.VoucherNotStarted, apperr.MinSpendNotMet:
		return true
	}
	return false
}

// message is an application error's message for the client.
func message(err error) string {
	if e, ok := err.(*apperr.Error); ok {
		if len(e.Fields) > 0 {
			return e.Fields[0].Message
		}
		return e.Message
	}
	return err.Error()
}

// newStore returns the cart store on db, the pool or a transaction, its errors naming the query
// that failed (pgdb.Named).
func newStore(db store.DBTX) *store.Queries { return store.New(pgdb.Named("cart", db)) }
