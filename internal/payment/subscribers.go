package payment

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// onOrderStatusChanged starts escrow's release timer when an order is delivered (recording a
// cash-on-delivery collection first), and gives up the payment of an order cancelled before its
// money was captured. Both are idempotent: deliveries are at least once.
func (s *Service) onOrderStatusChanged(ctx context.Context, _ string, ev events.OrderStatusChanged) error {
	orderID, err := uuid.Parse(ev.OrderID)
	if err != nil {
		return nil // not an order of ours to act on
	}
	switch ev.To {
	case events.OrderDelivered:
		return s.delivered(ctx, orderID)
	case events.OrderCancelled:
		return s.orderCancelled(ctx, orderID)
	}
	return nil
}

// orderCancelled fails the live, uncaptured payment of a cancelled order, so that the rest of
// its checkout may be paid again. The provider is not asked to cancel: if the buyer still pays,
// the capture is recorded and the order context asks for the refund (order.refund_due).
func (s *Service) orderCancelled(ctx context.Context, orderID uuid.UUID) error {
	pay, err := s.q.LivePaymentOfOrder(ctx, orderID)
	if pgdb.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		pay, err := q.LockPayment(ctx, pay.ID)
		if err != nil {
			return err
		}
		if pay.Stage != stagePending && pay.Stage != stageAuthorized {
			return nil
		}
		_, _, err = s.failTx(ctx, tx, q, pay, "order "+orderID.String()+" was cancelled", change{source: "system"})
		return err
	})
}

// onRefundDue refunds a paid order that was cancelled or returned.
func (s *Service) onRefundDue(ctx context.Context, _ string, ev events.OrderRefundDue) error {
	orderID, err := uuid.Parse(ev.OrderID)
	if err != nil {
		return nil
	}
	return s.RefundOrder(ctx, orderID, ev.Amount, ev.Reason)
}
