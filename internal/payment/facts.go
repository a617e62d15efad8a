package payment

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// RefundFact is a refund that went through, as the analytics context reads it.
type RefundFact struct {
	ID, OrderID uuid.UUID
	Amount      int64
	At          time.Time
}

// ReleaseFact is an order's escrow released to its shop, with the platform's commission.
type ReleaseFact struct {
	OrderID    uuid.UUID
	Commission int64
	At         time.Time
}

// MoneyFactsTx reads, through the caller's transaction, the settled refunds and the escrow
// releases of some orders.
func (s *Service) MoneyFactsTx(ctx context.Context, tx pgx.Tx, orderIDs []uuid.UUID) ([]RefundFact, []ReleaseFact, error) {
	q := newStore(tx)
	refunds, err := q.SettledRefundsOf(ctx, orderIDs)
	if err != nil {
		return nil, nil, fmt.Errorf("payment refund facts: %w", err)
	}
	releases, err := q.ReleasedEscrowsOf(ctx, orderIDs)
	if err != nil {
		return nil, nil, fmt.Errorf("payment release facts: %w", err)
	}
	rf := make([]RefundFact, len(refunds))
	for i, r := range refunds {
		rf[i] = RefundFact{ID: r.ID, OrderID: r.OrderID, Amount: r.Amount, At: r.SettledAt}
	}
	rl := make([]ReleaseFact, len(releases))
	for i, r := range releases {
		rl[i] = ReleaseFact{OrderID: r.OrderID, Commission: r.Commission, At: r.ReleasedAt}
	}
	return rf, rl, nil
}
