package cart

import (
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// Pricing holds the configured parts of the computation.
type Pricing struct {
	// TaxRateBPS is the tax rate in basis points (1000 = 10% VAT).
	TaxRateBPS int64
	// TaxInclusive says whether prices already include tax (as Vietnamese retail prices do):
	// then tax is shown but not added.
	TaxInclusive bool
	Currency     string
	// Location is the marketplace's time zone, in which the cart dates what it names for the
	// buyer (a saved cart's default name).
	Location *time.Location
}

// taxOf is the tax in an amount: carved out of it when prices include tax, added on top when
// they do not; rounded half up to the minor unit.
func (p Pricing) taxOf(taxable int64) int64 {
	if taxable <= 0 || p.TaxRateBPS <= 0 {
		return 0
	}
	if p.TaxInclusive {
		d := 10_000 + p.TaxRateBPS
		return (taxable*p.TaxRateBPS + d/2) / d
	}
	return (taxable*p.TaxRateBPS + 5_000) / 10_000
}

// compute is the one place a cart's money is added up. Lines are already priced; vouchers and
// fees are per shop. Goods are taxed after discounts; shipping is not taxed.
func (p Pricing) compute(lines []Line, vouchers map[uuid.UUID]VoucherQuote, voucherErrs map[uuid.UUID]error,
	fees map[uuid.UUID]int64) Quote {
	q := Quote{Items: lines, Currency: p.Currency, TaxInclusive: p.TaxInclusive, TaxRateBPS: p.TaxRateBPS,
		Purchasable: len(lines) > 0, Coupons: []string{}, Shops: []ShopGroup{}}
	if q.Items == nil {
		q.Items = []Line{}
	}
	groups := map[uuid.UUID]*ShopGroup{}
	var order []uuid.UUID
	for _, l := range lines {
		g, ok := groups[l.ShopID]
		if !ok {
			g = &ShopGroup{ShopID: l.ShopID}
			groups[l.ShopID] = g
			order = append(order, l.ShopID)
		}
		g.Lines = append(g.Lines, l)
		g.Subtotal += l.LineTotal
		g.WeightGrams += l.WeightGrams * int64(l.Quantity)
		q.ItemCount += l.Quantity
		if !l.Available {
			q.Purchasable = false
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].String() < order[j].String() })
	for _, id := range order {
		g := groups[id]
		if v, ok := vouchers[id]; ok {
			v.Discount = min(v.Discount, g.Subtotal)
			g.Coupon = &v
			g.Discount = v.Discount
			q.Coupons = append(q.Coupons, v.Code)
		}
		if err := voucherErrs[id]; err != nil {
			g.CouponError, g.CouponErrorCode = message(err), apperr.CodeOf(err)
			if g.CouponErrorCode == apperr.NotFound {
				g.CouponErrorCode = apperr.Invalid
			}
		}
		g.ShippingFee = fees[id]
		g.Tax = p.taxOf(g.Subtotal - g.Discount)
		g.Total = g.Subtotal - g.Discount + g.ShippingFee
		if !p.TaxInclusive {
			g.Total += g.Tax
		}
		q.Subtotal += g.Subtotal
		q.Discount += g.Discount
		q.ShippingFee += g.ShippingFee
		q.Tax += g.Tax
		q.Total += g.Total
		q.Shops = append(q.Shops, *g)
	}
	if len(q.Coupons) > 0 {
		q.Coupon = &q.Coupons[0]
	}
	return q
}
