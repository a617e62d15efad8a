package payment

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// A refund is made in two steps. Reserving it (in the caller's transaction, with the payment
// locked) checks the amount against what is left to refund, takes the money out of the order's
// escrow (or, once released, back from the shop) into the buyer-refunds account, and queues
// its submission. Submitting it asks the provider, with the refund's ID as the idempotency key,
// and settles it: succeeded (the money leaves through the provider's clearing account), failed
// (the money goes back where it came from), or pending until the provider's notification.

// RefundInput asks for a refund. The order is needed when the payment covers several; the
// amount defaults to what is left of that order.
type RefundInput struct {
	OrderID *uuid.UUID `json:"order_id"`
	Amount  *int64     `json:"amount" validate:"omitempty,gt=0"`
	Reason  string     `json:"reason" validate:"max=500"`
}

// refundMeta says who asks for a refund and how it is de-duplicated.
type refundMeta struct {
	source string // api, order, provider
	key    string // unique per payment
	reason string
	by     *uuid.UUID
	// settled: the provider already refunded (its notification told us); nothing to submit.
	settled bool
}

// Refund refunds part or all of an order's share of a captured payment through its provider.
// Admins make refunds (shops refund by accepting a return or cancelling, which the order context
// turns into an automatic refund). With an Idempotency-Key, the same request twice is one refund.
func (s *Service) Refund(ctx context.Context, p auth.Principal, key string, id uuid.UUID, in RefundInput) (int, Refund, error) {
	if err := adminOnly(p, "refund payments"); err != nil {
		return 0, Refund{}, err
	}
	req := struct {
		ID uuid.UUID
		In RefundInput
	}{id, in}
	fresh := false
	refundID, status, err := s.keyed(ctx, p, key, req, http.StatusCreated, func(tx pgx.Tx, q *store.Queries) (uuid.UUID, error) {
		pay, err := lockVisible(ctx, q, p, id)
		if err != nil {
			return uuid.Nil, err
		}
		refundKey := "api:" + uuid.NewString()
		if key != "" {
			refundKey = "api:" + p.UserID.String() + ":" + key
		}
		r, err := s.reserveRefundTx(ctx, tx, q, pay, in.OrderID, in.Amount, refundMeta{source: "api", key: refundKey,
			reason: in.Reason, by: &p.UserID})
		fresh = true
		return r.ID, err
	})
	if err != nil {
		return 0, Refund{}, err
	}
	if fresh {
		s.trySubmit(ctx, refundID)
	}
	row, err := s.q.GetRefund(ctx, refundID)
	return status, toRefund(row), err
}

// trySubmit submits a refund now, so the caller usually sees its outcome; when the provider
// cannot be reached the queued job tries again.
func (s *Service) trySubmit(ctx context.Context, refundID uuid.UUID) {
	if err := s.submitRefund(ctx, refundID); err != nil {
		s.log.WarnContext(ctx, "refund submission failed; the job will retry", "refund", refundID, "err", err)
	}
}

// reserveRefundTx reserves a refund of an order's share; a refund with the same key is the one
// already made.
func (s *Service) reserveRefundTx(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, orderID *uuid.UUID,
	amount *int64, m refundMeta) (store.PaymentRefund, error) {
	existing, err := q.RefundByKey(ctx, store.RefundByKeyParams{PaymentID: pay.ID, IdempotencyKey: m.key})
	if err == nil || !pgdb.IsNoRows(err) {
		return existing, err
	}
	switch {
	case pay.Method == events.MethodCOD && m.source != "order":
		return existing, apperr.New(apperr.Conflict, "cash on delivery is refunded in cash when the shop accepts a return, not through a provider")
	case pay.Stage != stageCaptured:
		return existing, apperr.New(apperr.Conflict, "a %s payment cannot be refunded; only a captured one", pay.Status)
	}
	orders, err := q.PaymentOrders(ctx, pay.ID)
	if err != nil {
		return existing, err
	}
	pending, err := q.PendingRefunds(ctx, pay.ID)
	if err != nil {
		return existing, err
	}
	o, err := pickOrder(orders, orderID)
	if err != nil {
		return existing, err
	}
	left := o.Amount - o.RefundedAmount - pendingFor(pending, o.OrderID)
	amt := left
	if amount != nil {
		amt = *amount
	}
	switch {
	case left <= 0:
		return existing, apperr.New(apperr.Conflict, "nothing of this order is left to refund")
	case amt > left:
		return existing, apperr.Field("amount", fmt.Sprintf("at most %d can be refunded", left))
	}
	held, err := balance(ctx, q, escrowAccount(o.OrderID, pay.Currency))
	if err != nil {
		return existing, err
	}
	fromEscrow := min(amt, max(held, 0))
	r, err := q.CreateRefund(ctx, store.CreateRefundParams{ID: uuid.New(), PaymentID: pay.ID, OrderID: o.OrderID, Amount: amt,
		Currency: pay.Currency, Source: m.source, Reason: m.reason, IdempotencyKey: m.key, RequestedBy: m.by,
		FromEscrow: fromEscrow, FromShop: amt - fromEscrow, Status: "pending"})
	if err != nil {
		return r, err
	}
	if err := post(ctx, q, ledgerTxn{kind: "refund_reserved", paymentID: &pay.ID, orderID: &o.OrderID, refundID: &r.ID, memo: m.reason},
		debit(escrowAccount(o.OrderID, pay.Currency), r.FromEscrow), debit(shopAccount(o.ShopID, pay.Currency), r.FromShop),
		credit(refundsAccount(pay.Currency), amt)); err != nil {
		return r, err
	}
	if err := s.escrowDrainedTx(ctx, q, o.OrderID, pay.Currency); err != nil {
		return r, err
	}
	if !m.settled {
		err = s.jobs.InsertTx(ctx, tx, refundArgs{RefundID: r.ID}, nil)
	}
	return r, err
}

func pickOrder(orders []store.PaymentPaymentOrder, orderID *uuid.UUID) (store.PaymentPaymentOrder, error) {
	if orderID == nil {
		if len(orders) == 1 {
			return orders[0], nil
		}
		return store.PaymentPaymentOrder{}, apperr.Field("order_id", "this payment covers several orders: name the one to refund")
	}
	for _, o := range orders {
		if o.OrderID == *orderID {
			return o, nil
		}
	}
	return store.PaymentPaymentOrder{}, apperr.Field("order_id", "is not an order of this payment")
}

func pendingFor(pending []store.PaymentRefund, orderID uuid.UUID) int64 {
	var n int64
	for _, r := range pending {
		if r.OrderID == orderID {
			n += r.Amount
		}
	}
	return n
}

// submitRefund asks the provider for a pending refund and settles it. The payment is locked
// first (as every money path does, so they never deadlock), then the refund; a refund already
// settled, or waiting for the provider's notification, is left alone.
func (s *Service) submitRefund(ctx context.Context, refundID uuid.UUID) error {
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		r, err := q.GetRefund(ctx, refundID)
		if pgdb.IsNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		pay, err := q.LockPayment(ctx, r.PaymentID)
		if err != nil {
			return err
		}
		if r, err = q.LockRefund(ctx, refundID); err != nil {
			return err
		}
		if r.Status != "pending" || r.ProviderRef != nil {
			return nil
		}
		c := change{source: "system", actor: r.RequestedBy, reason: "refund " + r.ID.String()}
		g, err := s.gateways.Get(pay.Provider)
		if err != nil {
			_, err = s.refundFailedTx(ctx, q, pay, r, "the provider is not available: "+err.Error())
			return err
		}
		res, err := g.Refund(ctx, gateway.RefundRequest{PaymentRef: deref(pay.ProviderRef), PaymentID: pay.ID.String(),
			TransactionID: deref(pay.TransactionID), PaymentCreatedAt: derefTime(pay.ProviderCreatedAt), Amount: r.Amount,
			CapturedAmount: pay.CapturedAmount, Currency: pay.Currency, Reason: r.Reason, IdempotencyKey: r.ID.String(),
			RequestedBy: "goshop", ClientIP: "127.0.0.1"})
		switch {
		case gateway.Temporary(err): // down or its breaker open: the job tries again later
			return err
		case err != nil:
			_, err = s.refundFailedTx(ctx, q, pay, r, err.Error())
			return err
		}
		switch res.Status {
		case gateway.StatusSucceeded:
			_, err = s.refundSucceededTx(ctx, tx, q, pay, r, res.RefundRef, c)
		case gateway.StatusFailed:
			_, err = s.refundFailedTx(ctx, q, pay, r, "the provider refused the refund")
		default:
			_, err = q.SettleRefund(ctx, store.SettleRefundParams{ID: r.ID, Status: "pending", ProviderRef: nonEmpty(res.RefundRef)})
		}
		return err
	})
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// refundSucceededTx settles a refund the provider made: the money leaves through the
// provider's clearing account, the order learns how much of it went back, and the payment's
// status follows. A refund an admin made settles the buyer's open dispute in the buyer's favour.
func (s *Service) refundSucceededTx(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, r store.PaymentRefund,
	ref string, c change) (store.PaymentPayment, error) {
	if _, err := q.SettleRefund(ctx, store.SettleRefundParams{ID: r.ID, Status: "succeeded", ProviderRef: nonEmpty(ref)}); err != nil {
		return pay, err
	}
	if err := post(ctx, q, ledgerTxn{kind: "refund_settled", paymentID: &pay.ID, orderID: &r.OrderID, refundID: &r.ID, memo: r.Reason},
		debit(refundsAccount(pay.Currency), r.Amount), credit(clearingAccount(pay.Provider, pay.Currency), r.Amount)); err != nil {
		return pay, err
	}
	if r.Source == "api" {
		if err := resolveBuyerDisputes(ctx, q, pay.ID, "lost"); err != nil {
			return pay, err
		}
	}
	return s.refundedTx(ctx, tx, q, pay, r.OrderID, r.Amount, &r.ID, r.Reason, c)
}

// refundedTx records that amount of an order's share went back to the buyer (a refund or a
// chargeback).
func (s *Service) refundedTx(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, orderID uuid.UUID, amount int64,
	refundID *uuid.UUID, reason string, c change) (store.PaymentPayment, error) {
	po, err := q.AddOrderRefunded(ctx, store.AddOrderRefundedParams{PaymentID: pay.ID, OrderID: orderID, Delta: amount})
	if err != nil {
		return pay, err
	}
	next := pay
	next.RefundedAmount += amount
	row, err := s.save(ctx, q, pay, next, c)
	if err != nil {
		return pay, err
	}
	if err := s.orders.RefundedTx(ctx, tx, orderID, po.RefundedAmount); err != nil {
		return pay, err
	}
	ev := events.PaymentRefunded{PaymentID: pay.ID.String(), OrderID: orderID.String(), BuyerID: pay.BuyerID.String(), Amount: amount,
		RefundedTotal: row.RefundedAmount, Currency: pay.Currency, Reason: reason, At: time.Now().UTC()}
	if refundID != nil {
		ev.RefundID = refundID.String()
	}
	return row, s.bus.Publish(ctx, tx, ev)
}

// refundFailedTx puts a refused refund's money back where it was taken from.
func (s *Service) refundFailedTx(ctx context.Context, q *store.Queries, pay store.PaymentPayment, r store.PaymentRefund, reason string) (store.PaymentRefund, error) {
	row, err := q.SettleRefund(ctx, store.SettleRefundParams{ID: r.ID, Status: "failed", FailureReason: &reason})
	if err != nil {
		return r, err
	}
	orders, err := q.PaymentOrders(ctx, pay.ID)
	if err != nil {
		return r, err
	}
	o, err := pickOrder(orders, &r.OrderID)
	if err != nil {
		return r, err
	}
	if err := post(ctx, q, ledgerTxn{kind: "refund_reversed", paymentID: &pay.ID, orderID: &r.OrderID, refundID: &r.ID, memo: reason},
		debit(refundsAccount(pay.Currency), r.Amount), credit(escrowAccount(r.OrderID, pay.Currency), r.FromEscrow),
		credit(shopAccount(o.ShopID, pay.Currency), r.FromShop)); err != nil {
		return r, err
	}
	if r.FromEscrow > 0 {
		err = q.SetEscrowStatus(ctx, store.SetEscrowStatusParams{OrderID: r.OrderID, Status: "held"})
	}
	return row, err
}

// refundNotifiedTx applies a provider's notification that money was refunded: a refund of
// ours is settled; one made at the provider directly (its dashboard) is recorded as it is,
// spread over the payment's orders.
func (s *Service) refundNotifiedTx(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, ev gateway.Event,
	c change) (store.PaymentPayment, string, error) {
	if ev.RefundRef != "" {
		r, err := q.RefundByProviderRef(ctx, store.RefundByProviderRefParams{PaymentID: pay.ID, ProviderRef: &ev.RefundRef})
		if pgdb.IsNoRows(err) {
			r, err = q.UnreferencedPendingRefund(ctx, store.UnreferencedPendingRefundParams{PaymentID: pay.ID, Amount: ev.Amount})
		}
		switch {
		case err == nil && r.Status == "pending":
			row, err := s.refundSucceededTx(ctx, tx, q, pay, r, ev.RefundRef, c)
			return row, "refund settled", err
		case err == nil:
			return pay, "ignored: refund already " + r.Status, nil
		case !pgdb.IsNoRows(err):
			return pay, "", err
		}
	}
	if pay.Stage != stageCaptured {
		return pay, "ignored: not captured", nil
	}
	pending, err := q.PendingRefunds(ctx, pay.ID)
	if err != nil {
		return pay, "", err
	}
	amount := ev.Amount
	if amount == 0 && ev.RefundedTotal > 0 {
		amount = ev.RefundedTotal - pay.RefundedAmount - sumPending(pending)
	}
	if amount <= 0 {
		return pay, "ignored: refunds already recorded", nil
	}
	orders, err := q.PaymentOrders(ctx, pay.ID)
	if err != nil {
		return pay, "", err
	}
	ref := ev.RefundRef
	for _, part := range allocate(orders, pending, amount) {
		r, err := s.reserveRefundTx(ctx, tx, q, pay, &part.orderID, &part.amount, refundMeta{source: "provider",
			key: "provider:" + ev.ID + ":" + part.orderID.String(), reason: "refunded at the provider", settled: true})
		if err != nil {
			return pay, "", err
		}
		if pay, err = s.refundSucceededTx(ctx, tx, q, pay, r, ref, c); err != nil {
			return pay, "", err
		}
		ref = "" // a provider's refund reference names one of our refunds
	}
	return pay, "refund recorded", nil
}

func sumPending(pending []store.PaymentRefund) int64 {
	var n int64
	for _, r := range pending {
		n += r.Amount
	}
	return n
}

type part struct {
	orderID uuid.UUID
	shopID  uuid.UUID
	amount  int64
}

// allocate spreads an amount over the orders, each up to what is left of it.
func allocate(orders []store.PaymentPaymentOrder, pending []store.PaymentRefund, amount int64) []part {
	var out []part
	for _, o := range orders {
		left := o.Amount - o.RefundedAmount - pendingFor(pending, o.OrderID)
		if take := min(left, amount); take > 0 {
			out = append(out, part{orderID: o.OrderID, shopID: o.ShopID, amount: take})
			amount -= take
		}
	}
	return out
}

// refundFailedNotifiedTx applies a provider's notification that a refund it had accepted failed.
func (s *Service) refundFailedNotifiedTx(ctx context.Context, q *store.Queries, pay store.PaymentPayment, ev gateway.Event) (string, error) {
	r, err := q.RefundByProviderRef(ctx, store.RefundByProviderRefParams{PaymentID: pay.ID, ProviderRef: &ev.RefundRef})
	if pgdb.IsNoRows(err) || err == nil && r.Status != "pending" {
		return "ignored: no pending refund", nil
	}
	if err != nil {
		return "", err
	}
	_, err = s.refundFailedTx(ctx, q, pay, r, or(ev.Reason, "the provider could not refund"))
	return "refund failed", err
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// RefundStatus is where a payment's refunds stand.
type RefundStatus struct {
	PaymentID      uuid.UUID `json:"payment_id"`
	Status         string    `json:"status"`
	Currency       string    `json:"currency"`
	CapturedAmount int64     `json:"captured_amount"`
	RefundedAmount int64     `json:"refunded_amount"`
	PendingAmount  int64     `json:"pending_amount"`
	Refundable     int64     `json:"refundable"`
	Refunds        []Refund  `json:"refunds"`
}

// RefundStatusOf answers a payment's refunds to its buyer or an admin.
func (s *Service) RefundStatusOf(ctx context.Context, p auth.Principal, id uuid.UUID) (RefundStatus, error) {
	pay, err := s.visible(ctx, p, id)
	if err != nil {
		return RefundStatus{}, err
	}
	rows, err := s.q.RefundsOf(ctx, id)
	if err != nil {
		return RefundStatus{}, err
	}
	out := RefundStatus{PaymentID: id, Status: pay.Status, Currency: pay.Currency, CapturedAmount: pay.CapturedAmount,
		RefundedAmount: pay.RefundedAmount, Refunds: make([]Refund, len(rows))}
	for i, r := range rows {
		out.Refunds[i] = toRefund(r)
		if r.Status == "pending" {
			out.PendingAmount += r.Amount
		}
	}
	out.Refundable = max(pay.CapturedAmount-pay.RefundedAmount-out.PendingAmount, 0)
	return out, nil
}

// RefundOrder refunds what is left of an order's share of its payment (order.refund_due: a
// paid order cancelled or returned). It is idempotent: one automatic refund per order.
func (s *Service) RefundOrder(ctx context.Context, orderID uuid.UUID, amount int64, reason string) error {
	pay, err := s.q.LivePaymentOfOrder(ctx, orderID)
	if pgdb.IsNoRows(err) {
		// A returned cash-on-delivery order whose delivery event has not been handled yet: the
		// cash was collected, so record that first rather than lose the refund.
		if pay, err = s.collectedBeforeRefund(ctx, orderID); pgdb.IsNoRows(err) {
			s.log.WarnContext(ctx, "refund due for an order no payment covers", "order", orderID)
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("payment: refund order %s: %w", orderID, err)
	}
	var r store.PaymentRefund
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if pay, err = q.LockPayment(ctx, pay.ID); err != nil {
			return err
		}
		orders, err := q.PaymentOrders(ctx, pay.ID)
		if err != nil {
			return err
		}
		pending, err := q.PendingRefunds(ctx, pay.ID)
		if err != nil {
			return err
		}
		o, err := pickOrder(orders, &orderID)
		if err != nil {
			return err
		}
		key := "order:" + orderID.String()
		if r, err = q.RefundByKey(ctx, store.RefundByKeyParams{PaymentID: pay.ID, IdempotencyKey: key}); err == nil || !pgdb.IsNoRows(err) {
			return err // made already
		}
		owed := pendingFor(pending, orderID)
		left := min(amount, o.Amount-o.RefundedAmount-owed)
		if left <= 0 {
			r = store.PaymentRefund{}
			if owed > 0 {
				return nil // the pending refunds tell the order when they settle
			}
			// Nothing left to send: the order's money is back already; tell the order so.
			return s.orders.RefundedTx(ctx, tx, orderID, o.RefundedAmount)
		}
		// Cash on delivery goes back in cash with the returned goods: there is no provider to ask,
		// so the refund settles at once, out of the escrow that holds the collected cash.
		cod := pay.Method == events.MethodCOD
		r, err = s.reserveRefundTx(ctx, tx, q, pay, &orderID, &left, refundMeta{source: "order", key: key, reason: reason, settled: cod})
		if err != nil || !cod {
			return err
		}
		_, err = s.refundSucceededTx(ctx, tx, q, pay, r, "cash", change{source: "system", reason: reason})
		r = store.PaymentRefund{}
		return err
	})
	if err != nil || r.ID == uuid.Nil {
		return err
	}
	s.trySubmit(ctx, r.ID)
	return nil
}

// collectedBeforeRefund records the cash collection of a delivered cash-on-delivery order
// (deliveries of events are not ordered, so the refund may come first) and answers its payment.
// It answers pgx.ErrNoRows for any other order without a payment.
func (s *Service) collectedBeforeRefund(ctx context.Context, orderID uuid.UUID) (store.PaymentPayment, error) {
	o, err := s.orders.Payable(ctx, orderID)
	if err != nil {
		return store.PaymentPayment{}, err
	}
	if o.PaymentMethod != events.MethodCOD || o.DeliveredAt == nil {
		return store.PaymentPayment{}, pgx.ErrNoRows
	}
	if err := s.collectCOD(ctx, o); err != nil {
		return store.PaymentPayment{}, err
	}
	return s.q.LivePaymentOfOrder(ctx, orderID)
}

// refundArgs submits a reserved refund to its provider until it is settled.
type refundArgs struct {
	RefundID uuid.UUID `json:"refund_id"`
}

func (refundArgs) Kind() string { return "payment_refund_submit" }

type refundWorker struct {
	river.WorkerDefaults[refundArgs]
	svc *Service
}

// Work submits the refund; it is idempotent (a settled refund is left alone, and the provider
// sees the refund's ID as the idempotency key).
func (w *refundWorker) Work(ctx context.Context, job *river.Job[refundArgs]) error {
	return w.svc.submitRefund(ctx, job.Args.RefundID)
}
