package catalog

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/catalog/internal/store"
	"github.com/goshop/goshop/internal/events"
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
