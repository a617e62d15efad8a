package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/catalog/internal/store"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// hideShopProducts hides a closed shop's products from buyers. It is idempotent: products
// already hidden keep the time they were first hidden, so a redelivery changes nothing.
func (s *Service) hideShopProducts(ctx context.Context, _ string, ev events.ShopDeleted) error {
	id, err := uuid.Parse(ev.ShopID)
	if err != nil {
		return river.JobCancel(fmt.Errorf("catalog: shop.deleted with shop id %q: %w", ev.ShopID, err))
	}
	_, err = s.q.HideShopProducts(ctx, store.HideShopProductsParams{ShopID: id, At: ev.At})
	return err
}

// ratingSource answers a product's current rating (the review context's summary), read through
// the caller's transaction.
type ratingSource interface {
	ProductRatingTx(ctx context.Context, tx pgx.Tx, productID uuid.UUID) (rating float64, count int, err error)
}

// SetRatings hands the catalog the review context's ratings, once both exist.
func (s *Service) SetRatings(r ratingSource) { s.ratings = r }

// productRatingChanged copies a product's rating into the product and publishes
// product.updated in the same transaction, so the search read model refreshes. It holds the
// product's row lock while it reads the current rating from its source, so of two deliveries
// the later one writes the newer rating, whatever order they arrive in; one that finds the
// rating already there changes and publishes nothing, so a redelivery is harmless.
func (s *Service) productRatingChanged(ctx context.Context, _ string, ev events.ProductRatingChanged) error {
	id, err := uuid.Parse(ev.ProductID)
	if err != nil {
		return river.JobCancel(fmt.Errorf("catalog: %s with product id %q: %w", ev.Topic(), ev.ProductID, err))
	}
	if s.ratings == nil {
		return fmt.Errorf("catalog: %s: no rating source wired", ev.Topic())
	}
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		cur, err := q.LockProductRating(ctx, id)
		if pgdb.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		rating, count, err := s.ratings.ProductRatingTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if rating == cur.Rating && count == int(cur.RatingCount) {
			return nil
		}
		if err := q.SetProductRating(ctx, store.SetProductRatingParams{ID: id, Rating: rating, RatingCount: int32(count)}); err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.ProductUpdated{ProductID: id.String(), ShopID: cur.ShopID.String(), Status: cur.Status,
			At: time.Now().UTC()})
	})
}
