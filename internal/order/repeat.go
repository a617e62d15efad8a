package order

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/auth"
)

// RepeatLine is a line of an earlier order as it goes back in the cart, at today's price and
// stock.
type RepeatLine struct {
	ProductID   uuid.UUID `json:"product_id"`
	VariantID   uuid.UUID `json:"variant_id"`
	Title       string    `json:"title"`
	VariantName string    `json:"variant_name"`
	// Quantity is what the order had. The cart is topped up to it, within the stock: InCart is
	// what the cart holds already and AddQuantity what goes in, so repeating twice adds nothing
	// the second time.
	Quantity    int32 `json:"quantity"`
	InCart      int32 `json:"in_cart"`
	AddQuantity int32 `json:"add_quantity"`
	// UnitPrice is today's price (a running campaign included); null when the product is no
	// longer sold at all. PaidUnitPrice is what the order paid.
	UnitPrice     *int64     `json:"unit_price"`
	PaidUnitPrice int64      `json:"paid_unit_price"`
	CampaignID    *uuid.UUID `json:"campaign_id,omitempty"`
	Currency      string     `json:"currency"`
	Stock         int32      `json:"stock"`
	// Availability is in_stock, low_stock (less than Quantity), out_of_stock or unavailable
	// (not for sale now, or no longer sold).
	Availability string `json:"availability"`
	CanAdd       bool   `json:"can_add"`
	// Reason says why nothing is added, or why less than Quantity is.
	Reason string `json:"reason,omitempty"`
}

// RepeatPreview is what repeating an order would put in the cart now; nothing is changed.
type RepeatPreview struct {
	OrderID uuid.UUID    `json:"order_id"`
	Lines   []RepeatLine `json:"lines"`
	// Subtotal is what the lines that can be added cost at today's prices, for what is added.
	Subtotal int64  `json:"subtotal"`
	Currency string `json:"currency"`
}

// RepeatResult is what repeating an order put in the cart, and what it left out and why.
type RepeatResult struct {
	OrderID  uuid.UUID    `json:"order_id"`
	Added    []RepeatLine `json:"added"`
	Skipped  []RepeatLine `json:"skipped"`
	Subtotal int64        `json:"subtotal"`
	Currency string       `json:"currency"`
}

// RepeatPreview shows the buyer how their order would go back in the cart at today's prices
// and stock, changing nothing. Another buyer's order does not exist for them.
func (s *Service) RepeatPreview(ctx context.Context, p auth.Principal, id uuid.UUID) (RepeatPreview, error) {
	lines, currency, err := s.repeat(ctx, p, id, s.cart.PlanRefill)
	if err != nil {
		return RepeatPreview{}, err
	}
	out := RepeatPreview{OrderID: id, Lines: lines, Currency: currency}
	for _, l := range lines {
		out.Subtotal += addedCost(l)
	}
	return out, nil
}

// Repeat puts the buyer's order back in the cart: every line that can be bought now, at
// today's price, as RepeatPreview says; the answer lists what was added and what was skipped.
func (s *Service) Repeat(ctx context.Context, p auth.Principal, id uuid.UUID) (RepeatResult, error) {
	lines, currency, err := s.repeat(ctx, p, id, s.cart.Refill)
	if err != nil {
		return RepeatResult{}, err
	}
	out := RepeatResult{OrderID: id, Added: []RepeatLine{}, Skipped: []RepeatLine{}, Currency: currency}
	for _, l := range lines {
		if l.CanAdd {
			out.Added = append(out.Added, l)
			out.Subtotal += addedCost(l)
		} else {
			out.Skipped = append(out.Skipped, l)
		}
	}
	return out, nil
}

// repeat hands the buyer's order's lines to the cart (plan or refill) and completes its answer
// from the order's snapshot: the title of a product the catalog no longer has, the price paid.
func (s *Service) repeat(ctx context.Context, p auth.Principal, id uuid.UUID,
	cart func(context.Context, uuid.UUID, []RefillLine) ([]RepeatLine, error)) ([]RepeatLine, string, error) {
	row, err := s.ownOrder(ctx, p, id)
	if err != nil {
		return nil, "", err
	}
	items, err := s.q.Items(ctx, id)
	if err != nil {
		return nil, "", fmt.Errorf("order: load items: %w", err)
	}
	in := make([]RefillLine, len(items))
	for i, it := range items {
		in[i] = RefillLine{ProductID: it.ProductID, VariantID: it.VariantID, ShopID: row.ShopID, Quantity: it.Quantity}
	}
	lines, err := cart(ctx, p.UserID, in)
	if err != nil {
		return nil, "", err
	}
	if len(lines) != len(items) {
		return nil, "", fmt.Errorf("order: repeat: the cart answered %d lines for %d items", len(lines), len(items))
	}
	for i := range lines {
		it := items[i]
		if lines[i].Title == "" {
			lines[i].Title, lines[i].VariantName = it.Title, it.VariantName
		}
		if lines[i].Currency == "" {
			lines[i].Currency = row.Currency
		}
		lines[i].PaidUnitPrice = it.UnitPrice
	}
	return lines, row.Currency, nil
}

func addedCost(l RepeatLine) int64 {
	if !l.CanAdd || l.UnitPrice == nil {
		return 0
	}
	return *l.UnitPrice * int64(l.AddQuantity)
}
