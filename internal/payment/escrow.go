package payment

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/payment/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Escrow: a captured payment puts each order's share in that order's escrow account. The money
// stays there until the order is delivered and its return window has passed (a River job
// scheduled at delivery), or the buyer confirms receipt, or an admin releases it; then it goes
// to the shop's payable account less the platform's commission. A refund before that takes it
// back out of escrow. An admin's hold, an open dispute or a pending return keep the job from
// releasing it.
//
// Who may do what: the buyer may release their order's escrow once the order is delivered
// (unless an admin holds it or a dispute is open); admins may hold and release any; the buyer,
// the shop's owner and admins may see an escrow's status.

// Escrow is an order's escrow as the status route shows it.
type Escrow struct {
	OrderID        uuid.UUID         `json:"order_id"`
	PaymentID      uuid.UUID         `json:"payment_id"`
	BuyerID        uuid.UUID         `json:"buyer_id"`
	ShopID         uuid.UUID         `json:"shop_id"`
	Status         string            `json:"status"`
	Currency       string            `json:"currency"`
	HeldAmount     int64             `json:"held_amount"`
	Balance        int64             `json:"balance"`
	ReleasedAmount int64             `json:"released_amount"`
	Commission     int64             `json:"commission"`
	OnHold         bool              `json:"on_hold"`
	HoldReason     string            `json:"hold_reason,omitempty"`
	OpenDispute    bool              `json:"open_dispute"`
	ReleaseAfter   *time.Time        `json:"release_after,omitempty"`
	ReleasedBy     *events.ActorRole `json:"released_by,omitempty"`
	ReleasedAt     *time.Time        `json:"released_at,omitempty"`
}

// EscrowInput names the order whose escrow is held or released.
type EscrowInput struct {
	OrderID uuid.UUID `json:"order_id" validate:"required"`
	Reason  string    `json:"reason" validate:"max=500"`
}

func (s *Service) escrowView(ctx context.Context, q *store.Queries, e store.PaymentEscrow) (Escrow, error) {
	bal, err := balance(ctx, q, escrowAccount(e.OrderID, e.Currency))
	if err != nil {
		return Escrow{}, err
	}
	open, err := q.OpenDisputes(ctx, e.PaymentID)
	return Escrow{OrderID: e.OrderID, PaymentID: e.PaymentID, BuyerID: e.BuyerID, ShopID: e.ShopID, Status: e.Status,
		Currency: e.Currency, HeldAmount: e.HeldAmount, Balance: bal, ReleasedAmount: e.ReleasedAmount, Commission: e.Commission,
		OnHold: e.OnHold, HoldReason: e.HoldReason, OpenDispute: len(open) > 0, ReleaseAfter: utc(e.ReleaseAfter),
		ReleasedBy: e.ReleasedBy, ReleasedAt: utc(e.ReleasedAt)}, err
}

// EscrowStatus answers an order's escrow to its buyer, the shop's owner or an admin.
func (s *Service) EscrowStatus(ctx context.Context, p auth.Principal, orderID uuid.UUID) (Escrow, error) {
	e, err := s.q.GetEscrow(ctx, orderID)
	if err != nil {
		return Escrow{}, pgdb.NotFound(err, "escrow")
	}
	if e.BuyerID != p.UserID && !p.IsAdmin() {
		owner, err := s.shops.ShopOwner(ctx, e.ShopID)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return Escrow{}, err
		}
		if err != nil || owner != p.UserID {
			return Escrow{}, apperr.NotFoundf("escrow")
		}
	}
	return s.escrowView(ctx, s.q, e)
}

// lockEscrow locks an order's escrow and its payment, payment first as every money path does.
func lockEscrow(ctx context.Context, q *store.Queries, orderID uuid.UUID) (store.PaymentPayment, store.PaymentEscrow, error) {
	e, err := q.GetEscrow(ctx, orderID)
	if err != nil {
		return store.PaymentPayment{}, e, pgdb.NotFound(err, "escrow")
	}
	pay, err := q.LockPayment(ctx, e.PaymentID)
	if err != nil {
		return pay, e, err
	}
	e, err = q.LockEscrow(ctx, orderID)
	return pay, e, err
}

// Hold keeps an order's escrow from being released until an admin releases it.
func (s *Service) Hold(ctx context.Context, p auth.Principal, in EscrowInput) (Escrow, error) {
	if err := adminOnly(p, "hold escrow"); err != nil {
		return Escrow{}, err
	}
	var out Escrow
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		_, e, err := lockEscrow(ctx, q, in.OrderID)
		if err != nil {
			return err
		}
		if e.Status != "held" {
			return apperr.New(apperr.Conflict, "the escrow is %s already", e.Status)
		}
		reason := or(in.Reason, "held by an admin")
		if e, err = q.SetEscrowHold(ctx, store.SetEscrowHoldParams{OrderID: e.OrderID, OnHold: true, HoldReason: reason}); err != nil {
			return err
		}
		out, err = s.escrowView(ctx, q, e)
		return err
	})
	return out, err
}

// Release gives an order's escrow to its shop now: the buyer confirming receipt of a delivered
// order, or an admin (who also lifts a hold).
func (s *Service) Release(ctx context.Context, p auth.Principal, in EscrowInput) (Escrow, error) {
	// The order is asked for before the transaction (the order context reads through the pool:
	// a transaction waiting on a second connection starves the pool under load); what it
	// answers is used only once the caller has been checked inside.
	o, orderErr := s.orders.Payable(ctx, in.OrderID)
	var out Escrow
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		pay, e, err := lockEscrow(ctx, q, in.OrderID)
		if err != nil {
			return err
		}
		by := events.ActorAdmin
		switch {
		case p.IsAdmin():
		case e.BuyerID == p.UserID:
			by = events.ActorBuyer
		default:
			return apperr.NotFoundf("escrow")
		}
		if e.Status != "held" {
			return apperr.New(apperr.Conflict, "the escrow is %s already", e.Status)
		}
		if orderErr != nil {
			return orderErr
		}
		if o.Status != events.OrderDelivered {
			return apperr.New(apperr.Conflict, "escrow is released once the order is delivered; this one is %s", o.Status)
		}
		if by == events.ActorBuyer {
			open, err := q.OpenDisputes(ctx, pay.ID)
			if err != nil {
				return err
			}
			if e.OnHold || len(open) > 0 {
				return apperr.New(apperr.Conflict, "the escrow is held for review")
			}
		}
		if e, err = s.releaseTx(ctx, tx, q, pay, e, by); err != nil {
			return err
		}
		out, err = s.escrowView(ctx, q, e)
		return err
	})
	return out, err
}

// releaseTx moves what an order's escrow holds to its shop, less the platform's commission
// (basis points of the released amount, rounded down: the shop is never short-changed).
func (s *Service) releaseTx(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, e store.PaymentEscrow,
	by events.ActorRole) (store.PaymentEscrow, error) {
	held, err := balance(ctx, q, escrowAccount(e.OrderID, e.Currency))
	if err != nil {
		return e, err
	}
	if held <= 0 {
		return e, q.SetEscrowStatus(ctx, store.SetEscrowStatusParams{OrderID: e.OrderID, Status: "refunded"})
	}
	commission := held * s.cfg.CommissionBPS / 10_000
	if err := post(ctx, q, ledgerTxn{kind: "release", paymentID: &pay.ID, orderID: &e.OrderID, memo: "escrow released by " + string(by)},
		debit(escrowAccount(e.OrderID, e.Currency), held), credit(shopAccount(e.ShopID, e.Currency), held-commission),
		credit(commissionAccount(e.Currency), commission)); err != nil {
		return e, err
	}
	row, err := q.ReleaseEscrow(ctx, store.ReleaseEscrowParams{OrderID: e.OrderID, ReleasedAmount: held - commission,
		Commission: commission, ReleasedBy: &by})
	if err != nil {
		return e, err
	}
	return row, s.bus.Publish(ctx, tx, events.EscrowReleased{OrderID: e.OrderID.String(), PaymentID: pay.ID.String(),
		ShopID: e.ShopID.String(), Amount: held - commission, Commission: commission, Currency: e.Currency, By: by, At: time.Now().UTC()})
}

// escrowDrainedTx marks an escrow refunded once refunds emptied it.
func (s *Service) escrowDrainedTx(ctx context.Context, q *store.Queries, orderID uuid.UUID, cur string) error {
	held, err := balance(ctx, q, escrowAccount(orderID, cur))
	if err != nil || held > 0 {
		return err
	}
	e, err := q.GetEscrow(ctx, orderID)
	if pgdb.IsNoRows(err) || err == nil && e.Status != "held" {
		return nil
	}
	if err != nil {
		return err
	}
	return q.SetEscrowStatus(ctx, store.SetEscrowStatusParams{OrderID: orderID, Status: "refunded"})
}

// delivered starts an order's release timer, and records the cash a shipper collected for a
// cash-on-delivery order.
func (s *Service) delivered(ctx context.Context, orderID uuid.UUID) error {
	o, err := s.orders.Payable(ctx, orderID)
	if err != nil {
		return err
	}
	if o.PaymentMethod == events.MethodCOD {
		if err := s.collectCOD(ctx, o); err != nil {
			return err
		}
	}
	return s.scheduleRelease(ctx, o)
}

// scheduleRelease sets when an order's escrow may be released (its delivery plus the return
// window) and queues the job that releases it then. A re-delivery (a refused return) schedules
// again from the first delivery; the job is idempotent.
func (s *Service) scheduleRelease(ctx context.Context, o Payable) error {
	at := time.Now()
	if o.DeliveredAt != nil {
		at = *o.DeliveredAt
	}
	at = at.Add(s.cfg.ReleaseDelay)
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		e, err := q.GetEscrow(ctx, o.OrderID)
		if pgdb.IsNoRows(err) || err == nil && e.Status != "held" {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := q.SetReleaseAfter(ctx, store.SetReleaseAfterParams{OrderID: o.OrderID, ReleaseAfter: &at}); err != nil {
			return err
		}
		return s.jobs.InsertTx(ctx, tx, releaseArgs{OrderID: o.OrderID}, &river.InsertOpts{ScheduledAt: at})
	})
}

// rearmReleasesTx queues the release of a payment's held escrows whose time has come (a
// dispute closed in the shop's favour).
func (s *Service) rearmReleasesTx(ctx context.Context, tx pgx.Tx, q *store.Queries, paymentID uuid.UUID) error {
	orders, err := q.PaymentOrders(ctx, paymentID)
	if err != nil {
		return err
	}
	for _, o := range orders {
		e, err := q.GetEscrow(ctx, o.OrderID)
		if pgdb.IsNoRows(err) || err == nil && (e.Status != "held" || e.ReleaseAfter == nil) {
			continue
		}
		if err != nil {
			return err
		}
		if err := s.jobs.InsertTx(ctx, tx, releaseArgs{OrderID: o.OrderID}, &river.InsertOpts{ScheduledAt: *e.ReleaseAfter}); err != nil {
			return err
		}
	}
	return nil
}

// collectCOD records cash on delivery: a captured COD payment, the cash owed by the shipper
// (debit) held in the order's escrow (credit). A second delivery of the same order finds the
// order taken by the first payment and records nothing.
func (s *Service) collectCOD(ctx context.Context, o Payable) error {
	if o.Total <= 0 {
		return nil
	}
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if _, err := q.LivePaymentOfOrder(ctx, o.OrderID); err == nil || !pgdb.IsNoRows(err) {
			return err // recorded already
		}
		id := uuid.New()
		pay, err := q.CreateCODPayment(ctx, store.CreateCODPaymentParams{ID: id, BuyerID: o.BuyerID, Amount: o.Total, Currency: o.Currency})
		if err != nil {
			return err
		}
		n, err := q.AddPaymentOrder(ctx, store.AddPaymentOrderParams{PaymentID: id, OrderID: o.OrderID, ShopID: o.ShopID, Amount: o.Total})
		if err != nil {
			return err
		}
		if n == 0 {
			return errRecorded // by a concurrent delivery of the same event
		}
		if err := post(ctx, q, ledgerTxn{kind: "cod_collected", paymentID: &id, orderID: &o.OrderID, memo: "cash collected on delivery"},
			debit(shipperCashAccount(nil, o.Currency), o.Total), credit(escrowAccount(o.OrderID, o.Currency), o.Total)); err != nil {
			return err
		}
		if _, err := q.CreateEscrow(ctx, store.CreateEscrowParams{OrderID: o.OrderID, PaymentID: id, BuyerID: o.BuyerID, ShopID: o.ShopID,
			Currency: o.Currency, HeldAmount: o.Total}); err != nil {
			return err
		}
		if err := q.AddHistory(ctx, store.AddHistoryParams{PaymentID: id, ToStatus: StatusCaptured, Source: "system",
			Reason: "cash collected on delivery"}); err != nil {
			return err
		}
		now := time.Now().UTC()
		return s.bus.Publish(ctx, tx,
			events.PaymentCaptured{PaymentID: id.String(), BuyerID: o.BuyerID.String(), OrderIDs: []string{o.OrderID.String()},
				Method: events.MethodCOD, Provider: events.Provider(pay.Provider), Amount: o.Total, Currency: o.Currency, At: now},
			events.EscrowHeld{OrderID: o.OrderID.String(), PaymentID: id.String(), ShopID: o.ShopID.String(), BuyerID: o.BuyerID.String(),
				Amount: o.Total, Currency: o.Currency, At: now})
	})
	if errors.Is(err, errRecorded) {
		return nil
	}
	return err
}

var errRecorded = errors.New("payment: recorded already")

// releaseArgs releases an order's escrow when its time comes.
type releaseArgs struct {
	OrderID uuid.UUID `json:"order_id"`
}

func (releaseArgs) Kind() string { return "escrow_release" }

type releaseWorker struct {
	river.WorkerDefaults[releaseArgs]
	svc *Service
}

// Work releases the escrow if it is still held, its time has come, the order is delivered (not
// being returned), and neither an admin's hold nor an open dispute keeps it. Otherwise it does
// nothing: whatever changes that (a refused return, a dispute won, an admin) schedules it again.
func (w *releaseWorker) Work(ctx context.Context, job *river.Job[releaseArgs]) error {
	s := w.svc
	o, err := s.orders.Payable(ctx, job.Args.OrderID)
	if apperr.Is(err, apperr.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if o.Status != events.OrderDelivered {
		return nil
	}
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		pay, e, err := lockEscrow(ctx, q, job.Args.OrderID)
		if apperr.Is(err, apperr.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if e.Status != "held" || e.OnHold || e.ReleaseAfter == nil {
			return nil
		}
		if wait := time.Until(*e.ReleaseAfter); wait > 0 {
			return river.JobSnooze(wait)
		}
		open, err := q.OpenDisputes(ctx, pay.ID)
		if err != nil || len(open) > 0 {
			return err
		}
		_, err = s.releaseTx(ctx, tx, q, pay, e, events.ActorSystem)
		return err
	})
}
