package shop

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/shop/internal/store"
)

// The Queue* methods below queue the shop context's part of a checkout on a batch the caller
// sends, so that the checkout's reads and writes of several contexts share round trips. Each
// answers through its callback (or the value it returns) once the batch is sent.

// QueueInfos queues the reads of Info for several shops on b, in one statement whatever their
// number (a checkout's parcels); once b is sent, done gets them by shop. A shop gone is not in it.
func (s *Service) QueueInfos(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID, done func(map[uuid.UUID]Info, error) error) {
	pgdb.Queue(b, func(db pgdb.DBTX) ([]store.ShopShop, error) { return newStore(db).GetShops(ctx, ids) },
		func(rows []store.ShopShop, err error) error {
			if err != nil {
				return done(nil, fmt.Errorf("shop: shops: %w", err))
			}
			out := make(map[uuid.UUID]Info, len(rows))
			for _, row := range rows {
				out[row.ID] = Info{ID: row.ID, OwnerID: row.OwnerID, Name: row.Name, Status: row.Status, Province: row.Province,
					Lat: row.Lat, Lng: row.Lng}
			}
			return done(out, nil)
		})
}

// QueueCampaignOffers queues CampaignOffer's read for several variants on b, in one statement
// whatever their number; once b is sent, done gets the offers by variant: a variant with no
// campaign running, or whose campaign stock is sold out, is not in it.
func (s *Service) QueueCampaignOffers(ctx context.Context, b *pgdb.Batch, variantIDs []uuid.UUID,
	done func(map[uuid.UUID]CampaignOffer, error) error) {
	pgdb.Queue(b, func(db pgdb.DBTX) ([]store.ActiveCampaignItemsRow, error) {
		return newStore(db).ActiveCampaignItems(ctx, variantIDs)
	},
		func(rows []store.ActiveCampaignItemsRow, err error) error {
			if err != nil {
				return done(nil, fmt.Errorf("shop: campaign offers: %w", err))
			}
			out := make(map[uuid.UUID]CampaignOffer, len(rows))
			for _, row := range rows {
				if left := row.CampaignStock - row.Sold; left > 0 {
					out[row.VariantID] = CampaignOffer{CampaignID: row.CampaignID, Price: row.CampaignPrice, Remaining: left, EndsAt: row.EndsAt}
				}
			}
			return done(out, nil)
		})
}

// VoucherCheck is a voucher read queued on a batch (QueueVoucher): the code's voucher in a shop
// and the buyer's uses of it.
type VoucherCheck struct {
	row   store.ShopPromotion
	err   error
	count int64
}

// QueueVoucher queues the reads QuoteVoucher makes on b; once b is sent, Quote prices lines
// with it.
func (s *Service) QueueVoucher(ctx context.Context, b *pgdb.Batch, shopID, buyer uuid.UUID, code string) *VoucherCheck {
	c := &VoucherCheck{}
	code = strings.TrimSpace(code)
	pgdb.Queue(b, func(db pgdb.DBTX) (store.ShopPromotion, error) {
		return newStore(db).GetPromotionByCode(ctx, store.GetPromotionByCodeParams{ShopID: shopID, Code: code})
	}, func(row store.ShopPromotion, err error) error {
		c.row, c.err = row, err
		if err != nil && !pgdb.IsNoRows(err) {
			return err
		}
		return nil
	})
	pgdb.Queue(b, func(db pgdb.DBTX) (int64, error) {
		return newStore(db).CountUserRedemptionsByCode(ctx, store.CountUserRedemptionsByCodeParams{ShopID: shopID, Code: code, UserID: buyer})
	}, func(n int64, err error) error {
		c.count = n
		return err
	})
	return c
}

// Quote is QuoteVoucher's answer from the batched reads: not found for a code the shop does not
// have, a refusal the buyer can act on, or what the voucher takes off lines.
func (c *VoucherCheck) Quote(lines []VoucherLine) (VoucherQuote, error) {
	if c.err != nil {
		return VoucherQuote{}, pgdb.NotFound(c.err, "voucher")
	}
	return quoteVoucher(c.row, lines, func() (int64, error) { return c.count, nil })
}

// QueueRedeemVoucher queues, on b, the use of a voucher for an order, quoted in the same
// transaction (its promotion and discount), inside the checkout's transaction: the use is taken with a conditional update, so a
// voucher is never used past its limits however many checkouts race for it, and the voucher
// must still take off exactly what was quoted. The buyer's own uses were counted with the quote,
// under the checkout's lock of the buyer's cart, so they cannot have changed since.
func (s *Service) QueueRedeemVoucher(ctx context.Context, b *pgdb.Batch, promotionID, buyer, orderID uuid.UUID, lines []VoucherLine, quoted int64) {
	pgdb.Queue(b, func(db pgdb.DBTX) (store.ShopPromotion, error) { return newStore(db).UsePromotion(ctx, promotionID) },
		func(used store.ShopPromotion, err error) error {
			if pgdb.IsNoRows(err) { // the update takes a use only from a running voucher with one left
				return usedUp()
			}
			if err != nil {
				return err
			}
			d, err := Discount(toPromotion(used), lines)
			if err != nil {
				return err
			}
			if d != quoted {
				return apperr.New(apperr.Conflict, "voucher %s changed while you checked out; review your cart", used.Code)
			}
			return nil
		})
	pgdb.Queue(b, func(db pgdb.DBTX) (pgconn.CommandTag, error) {
		return pgconn.CommandTag{}, newStore(db).CreateRedemption(ctx, store.CreateRedemptionParams{PromotionID: promotionID, UserID: buyer,
			OrderID: orderID, Amount: quoted})
	}, func(_ pgconn.CommandTag, err error) error { return err })
}

// QueueSellCampaignStock queues, on b, the taking of qty of a variant's campaign stock in the
// checkout's transaction; once b is sent, a campaign sold out or ended meanwhile fails it with
// insufficient_stock.
func (s *Service) QueueSellCampaignStock(ctx context.Context, b *pgdb.Batch, campaignID, variantID uuid.UUID, qty int32) {
	pgdb.Queue(b, func(db pgdb.DBTX) (int64, error) {
		return newStore(db).SellCampaignStock(ctx, store.SellCampaignStockParams{Qty: qty, CampaignID: campaignID, VariantID: variantID})
	}, func(n int64, err error) error {
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.InsufficientStock, "the campaign stock of variant %s is sold out or the campaign has ended", variantID)
		}
		return nil
	})
}
