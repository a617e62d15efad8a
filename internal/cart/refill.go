package cart

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/cart/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Availability of a variant for a refill, as a buyer reads it.
const (
	InStock     = "in_stock"     // enough for the whole quantity
	LowStock    = "low_stock"    // some, less than the quantity
	OutOfStock  = "out_of_stock" // none left
	Unavailable = "unavailable"  // not for sale now, or no longer sold at all
)

// Refill is one line of an earlier order as it goes back in the cart: what the cart holds
// already, what would be (or was) added at today's price, and why not when nothing is.
type Refill struct {
	ProductID   uuid.UUID
	VariantID   uuid.UUID
	ShopID      uuid.UUID
	Title       string // empty when the variant no longer exists
	VariantName string
	SKU         string
	// Quantity is what was asked; the cart is topped up to it, within the stock and a line's
	// limit, so refilling twice adds nothing the second time.
	Quantity    int32
	InCart      int32
	AddQuantity int32
	// UnitPrice is today's effective price (a running campaign included); nil when the variant
	// no longer exists.
	UnitPrice    *int64
	CampaignID   *uuid.UUID
	Currency     string
	Stock        int32
	Availability string
	Addable      bool
	// Reason says why nothing is added, or why less than Quantity is.
	Reason string
}

// PlanRefill says how each item would go back in the buyer's cart now, changing nothing: one
// Refill per item, in the items' order.
func (s *Service) PlanRefill(ctx context.Context, buyer uuid.UUID, items []SavedItem) ([]Refill, error) {
	rows, err := s.q.Items(ctx, buyer)
	if err != nil {
		return nil, fmt.Errorf("cart: load lines: %w", err)
	}
	return s.planRefill(ctx, nil, rows, items)
}

// Refill puts back in the buyer's cart every item that can be bought now, as PlanRefill
// would say, in one transaction that holds the cart's lock (so that its line limit holds
// against concurrent adds), and reports what became of each.
func (s *Service) Refill(ctx context.Context, buyer uuid.UUID, items []SavedItem) ([]Refill, error) {
	var out []Refill
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.LockCart(ctx, buyer); err != nil {
			return fmt.Errorf("cart: lock: %w", err)
		}
		rows, err := q.ItemsForUpdate(ctx, buyer)
		if err != nil {
			return fmt.Errorf("cart: lock lines: %w", err)
		}
		if out, err = s.planRefill(ctx, tx, rows, items); err != nil {
			return err
		}
		for _, f := range out {
			if !f.Addable {
				continue
			}
			if _, err := q.AddItem(ctx, store.AddItemParams{UserID: buyer, VariantID: f.VariantID, ProductID: f.ProductID,
				ShopID: f.ShopID, Quantity: f.AddQuantity}); err != nil {
				return fmt.Errorf("cart: add line: %w", err)
			}
		}
		return nil
	})
	return out, err
}

// planRefill is the one computation behind PlanRefill and Refill: rows are the cart's lines
// now, and tx (nil outside one) is where the catalog and the campaigns are read.
func (s *Service) planRefill(ctx context.Context, tx pgx.Tx, rows []store.CartItem, items []SavedItem) ([]Refill, error) {
	inCart := make(map[uuid.UUID]int32, len(rows))
	for _, r := range rows {
		inCart[r.VariantID] = r.Quantity
	}
	lines := len(rows)
	out := make([]Refill, len(items))
	for i, it := range items {
		f := Refill{ProductID: it.ProductID, VariantID: it.VariantID, ShopID: it.ShopID, Quantity: it.Quantity,
			InCart: inCart[it.VariantID], Availability: Unavailable}
		v, err := s.catalog.Variant(ctx, tx, it.VariantID)
		if apperr.Is(err, apperr.NotFound) {
			f.Reason = "this product is no longer sold"
			out[i] = f
			continue
		}
		if err != nil {
			return nil, err
		}
		f.ProductID, f.ShopID, f.Title, f.VariantName, f.SKU = v.ProductID, v.ShopID, v.Title, v.VariantName, v.SKU
		f.Currency, f.Stock = v.Currency, max(v.Stock, 0)
		target := min(it.Quantity, f.Stock, MaxQuantity)
		switch {
		case !v.Purchasable:
		case f.Stock == 0:
			f.Availability = OutOfStock
		case f.Stock < it.Quantity:
			f.Availability = LowStock
		default:
			f.Availability = InStock
		}
		switch {
		case !v.Purchasable:
			f.Reason = "this product is not for sale now"
		case f.Stock == 0:
			f.Reason = "sold out"
		case f.InCart >= target:
			f.Reason = "already in your cart"
		case f.InCart == 0 && lines >= MaxLines:
			f.Reason = fmt.Sprintf("a cart holds at most %d lines", MaxLines)
		default:
			f.Addable, f.AddQuantity = true, target-f.InCart
			if target < it.Quantity {
				f.Reason = fmt.Sprintf("only %d left in stock", f.Stock)
			}
			if f.InCart == 0 {
				lines++
			}
			inCart[it.VariantID] = target
		}
		// Priced as the cart would price the line: at the quantity it would hold.
		qty := it.Quantity
		if f.Addable {
			qty = target
		}
		l, err := s.priceLine(ctx, tx, store.CartItem{ProductID: v.ProductID, VariantID: v.VariantID, ShopID: v.ShopID, Quantity: qty}, &v)
		if err != nil {
			return nil, err
		}
		f.UnitPrice, f.CampaignID = &l.UnitPrice, l.CampaignID
		out[i] = f
	}
	return out, nil
}
