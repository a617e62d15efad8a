package cart

import (
	"context"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/goshop/goshop/internal/cart/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// CheckoutQuote is CheckoutQuoteTx in two batched steps, so that a checkout prices the cart in
// two round trips whatever its lines and shops: QueueCheckoutQuote queues the locked read of
// the lines and the coupons on the checkout's first batch; once it is sent, QueueReads queues
// every line's variant and campaign offer, the vouchers and the shops' places on the second;
// once that is sent, Quote adds it all up with the same computation as any quote.
type CheckoutQuote struct {
	s       *Service
	buyer   uuid.UUID
	o       QuoteOptions
	rows    []store.CartItem
	coupons []store.CartCoupon
	reads   []lineRead
	checks  map[voucherKey]VoucherCheck
	fees    map[uuid.UUID]FeeCheck
}

type lineRead struct {
	v     Variant
	gone  bool
	offer Offer
	ok    bool
}

type voucherKey struct {
	shop uuid.UUID
	code string
}

// QueueCheckoutQuote queues, on b, the read of the buyer's lines, locked so that the cart cannot
// change between pricing and ordering, and of the applied coupons.
func (s *Service) QueueCheckoutQuote(ctx context.Context, b *pgdb.Batch, buyer uuid.UUID, o QuoteOptions) *CheckoutQuote {
	c := &CheckoutQuote{s: s, buyer: buyer, o: o}
	pgdb.Queue(b, func(db pgdb.DBTX) ([]store.CartItem, error) { return newStore(db).ItemsForUpdate(ctx, buyer) },
		func(rows []store.CartItem, err error) error {
			c.rows = rows
			return err
		})
	pgdb.Queue(b, func(db pgdb.DBTX) ([]store.CartCoupon, error) { return newStore(db).Coupons(ctx, buyer) },
		func(rows []store.CartCoupon, err error) error {
			c.coupons = rows
			return err
		})
	return c
}

// QueueReads queues, on b, what pricing the lines read needs, one statement a kind whatever the
// number of lines and shops: the lines' variants and campaign offers, the shops' places for
// their parcels' fees, and each applied voucher (and the checkout's extra code in each shop of
// the cart).
func (c *CheckoutQuote) QueueReads(ctx context.Context, b *pgdb.Batch) {
	c.reads = make([]lineRead, len(c.rows))
	variants := make([]uuid.UUID, len(c.rows))
	var shops []uuid.UUID
	var fees []ShippingRequest
	for i, r := range c.rows {
		variants[i] = r.VariantID
		if !slices.Contains(shops, r.ShopID) {
			shops = append(shops, r.ShopID)
			fees = append(fees, ShippingRequest{ShopID: r.ShopID, Method: c.o.ShippingMethod, AddressID: c.o.AddressID,
				BuyerID: c.buyer})
		}
	}
	if len(c.rows) > 0 {
		c.s.catalog.QueueVariants(ctx, b, variants, func(vs map[uuid.UUID]Variant, err error) error {
			for i, r := range c.rows {
				v, found := vs[r.VariantID]
				c.reads[i].v, c.reads[i].gone = v, !found
			}
			return err
		})
		c.s.promos.QueueCampaignOffers(ctx, b, variants, func(offers map[uuid.UUID]Offer, err error) error {
			for i, r := range c.rows {
				c.reads[i].offer, c.reads[i].ok = offers[r.VariantID]
			}
			return err
		})
	}
	c.fees = c.s.shipping.QueueFees(ctx, b, fees, c.o.Destination)
	c.checks = map[voucherKey]VoucherCheck{}
	voucher := func(shop uuid.UUID, code string) {
		if k := (voucherKey{shop, code}); c.checks[k] == nil {
			c.checks[k] = c.s.promos.QueueVoucher(ctx, b, shop, c.buyer, code)
		}
	}
	for _, cp := range c.coupons {
		if slices.Contains(shops, cp.ShopID) {
			voucher(cp.ShopID, cp.Code)
		}
	}
	if c.o.ExtraCoupon != "" {
		for _, shop := range shops {
			voucher(shop, c.o.ExtraCoupon)
		}
	}
}

// Quote prices the cart from the batched reads.
func (c *CheckoutQuote) Quote(ctx context.Context) (Quote, error) {
	lines := make([]Line, len(c.rows))
	for i, r := range c.rows {
		if c.reads[i].gone {
			lines[i] = unavailable(r)
			continue
		}
		lines[i] = priceWith(r, c.reads[i].v, c.reads[i].offer, c.reads[i].ok)
	}
	return c.s.total(lines, c.coupons, c.o, quoters{
		voucher: func(shopID uuid.UUID, code string, vl []VoucherLine) (VoucherQuote, error) {
			chk := c.checks[voucherKey{shopID, code}]
			if chk == nil {
				return VoucherQuote{}, apperr.NotFoundf("voucher")
			}
			return chk.Quote(vl)
		},
		fee: func(r ShippingRequest) (int64, error) { return c.fees[r.ShopID].Fee(ctx, r.WeightGrams) },
	})
}

// QueueClear queues ClearTx's emptying of the cart and dropping of its vouchers on b.
func (s *Service) QueueClear(ctx context.Context, b *pgdb.Batch, buyer uuid.UUID) {
	pgdb.Queue(b, func(db pgdb.DBTX) (pgconn.CommandTag, error) {
		return pgconn.CommandTag{}, newStore(db).Clear(ctx, buyer)
	},
		func(_ pgconn.CommandTag, err error) error { return err })
	pgdb.Queue(b, func(db pgdb.DBTX) (pgconn.CommandTag, error) {
		return pgconn.CommandTag{}, newStore(db).ClearCoupons(ctx, buyer)
	},
		func(_ pgconn.CommandTag, err error) error { return err })
}
