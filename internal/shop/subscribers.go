package shop

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/shop/internal/store"
)

// shopRatingChanged keeps the shop's rating: the event carries the whole rating and its version,
// and only a newer version replaces the one held, so a late, repeated or reordered delivery
// changes nothing.
func (s *Service) shopRatingChanged(ctx context.Context, _ string, ev events.ShopRatingChanged) error {
	id, err := uuid.Parse(ev.ShopID)
	if err != nil {
		return river.JobCancel(fmt.Errorf("shop: %s with shop id %q: %w", ev.Topic(), ev.ShopID, err))
	}
	_, err = s.q.SetRatingVersion(ctx, store.SetRatingVersionParams{ID: id, Rating: ev.Rating, RatingCount: int32(ev.ReviewCount),
		Version: ev.Version})
	return err
}
