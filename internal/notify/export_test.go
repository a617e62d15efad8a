package notify

import (
	"context"

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
