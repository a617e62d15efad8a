package review

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/review/internal/store"
)

// seedComments are what seeded reviews say, in turn.
var seedComments = []string{
	"Sản phẩm rất đẹp, giao hàng nhanh", "Hàng tạm được so với giá", "Đóng gói sơ sài, hộp bị móp",
	"Great quality, would buy again", "It's okay, nothing special", "Chất lượng tốt, shop tư vấn nhiệt tình",
	"Giao hàng chậm, hơi thất vọng", "Love it, fast shipping", "", "Not worth the price",
}

// SeedProductReviews tops a product's reviews up to n published ones, for benchmarks and demos
// (`goshop seed -reviews`): made up buyers and purchases, one COPY, and the summary moved by the
// stars added, in one transaction; the catalog hears of the new rating as from any review.
// It answers how many it added.
func (s *Service) SeedProductReviews(ctx context.Context, productID, variantID, shopID uuid.UUID, n int) (int, error) {
	have, err := s.q.CountProductReviews(ctx, productID)
	if err != nil || int(have) >= n {
		return 0, err
	}
	now := time.Now().UTC()
	var d [6]int32
	rows := make([]store.CopyReviewsParams, 0, n-int(have))
	for i := int(have); i < n; i++ {
		key := productID.String() + "/" + strconv.Itoa(i)
		item := uuid.NewSHA1(uuid.NameSpaceOID, []byte("goshop-seed-item/"+key))
		rating := int16(5 - i*i%5) // mostly high, some low: a skewed spread like real ratings
		comment := seedComments[i%len(seedComments)]
		sent := analyze(comment)
		at := now.Add(-time.Duration(i) * time.Minute)
		d[rating]++
		rows = append(rows, store.CopyReviewsParams{Target: string(events.ReviewOfProduct), TargetID: productID,
			AuthorID: uuid.NewSHA1(uuid.NameSpaceOID, []byte("goshop-seed-buyer/"+key)), OrderID: item, OrderItemID: &item,
			ProductID: &productID, VariantID: &variantID, ShopID: shopID, DeliveredAt: at, Rating: rating, Comment: comment,
			Status: StatusApproved, CountedRating: &rating, SentimentScore: float32(sent.Score), SentimentLabel: sent.Label,
			CreatedAt: at, UpdatedAt: at})
	}
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if _, err := q.CopyReviews(ctx, rows); err != nil {
			return err
		}
		var sum store.ReviewRatingSummary
		for _, t := range []struct {
			target events.ReviewTarget
			id     uuid.UUID
		}{{events.ReviewOfProduct, productID}, {targetShopProducts, shopID}} {
			r, err := q.AdjustSummary(ctx, store.AdjustSummaryParams{Target: string(t.target), TargetID: t.id,
				D1: d[1], D2: d[2], D3: d[3], D4: d[4], D5: d[5]})
			if err != nil {
				return err
			}
			if t.target == events.ReviewOfProduct {
				sum = r
			}
		}
		r := toRating(sum)
		return s.bus.Publish(ctx, tx, events.ProductRatingChanged{ProductID: productID.String(), ShopID: shopID.String(),
			Rating: r.Average, ReviewCount: r.Count, Version: r.Version, At: sum.UpdatedAt})
	})
	return len(rows), err
}

// MostReviewedProduct is the product with the most counted reviews (ok false: none has any);
// the seeder tops it up, so that every run of the bench reads the same product.
func (s *Service) MostReviewedProduct(ctx context.Context) (uuid.UUID, bool, error) {
	id, err := s.q.MostReviewedProduct(ctx)
	if pgdb.IsNoRows(err) {
		return uuid.Nil, false, nil
	}
	return id, err == nil, err
}
