package notify

import (
	"context"
	"errors"

	"github.com/google/uuid"
)

// DispatchOrderPlaced tells each of users that an order was placed, as one event (eventID)
// does, through the subscribers' dispatch: for the tests that count its round trips.
func (s *Service) DispatchOrderPlaced(ctx context.Context, eventID, orderID string, users ...uuid.UUID) error {
	msgs := make([]message, len(users))
	for i, u := range users {
		msgs[i] = message{user: u, kind: KindOrderPlaced, data: orderData(orderID, 100_000, "VND")}
	}
	return s.dispatch(ctx, eventID, msgs...)
}

// SendDeliveries sends the deliveries among ids as a send job does, and answers the first
// delivery's error: for the tests that count its round trips.
func (s *Service) SendDeliveries(ctx context.Context, ids ...uuid.UUID) error {
	errs, err := s.sendAll(ctx, ids)
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// OwnersOf answers the owners of shops as the order_placed subscriber reads them: for the
// test that counts its round trips.
func (s *Service) OwnersOf(ctx context.Context, shopIDs ...string) (map[uuid.UUID]uuid.UUID, error) {
	return s.ownersOf(ctx, shopIDs)
}
