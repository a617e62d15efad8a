package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/breaker"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/idempotency"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Service holds the rules of the payment context.
type Service struct {
	pool     *pgxpool.Pool
	q        *store.Queries
	bus      *eventbus.Bus
	jobs     *jobs.Runner
	keys     idempotency.Keys
	gateways *gateway.Registry
	orders   orderPort
	shops    shopPort
	cfg      Config
	log      *slog.Logger
}

// NewService builds the payment service, registers its River workers and subscribes it to the
// order events it acts on.
func NewService(pool *pgxpool.Pool, bus *eventbus.Bus, runner *jobs.Runner, gateways *gateway.Registry, ports Ports,
	cfg Config, log *slog.Logger) *Service {
	s := &Service{pool: pool, q: newStore(pool), bus: bus, jobs: runner, keys: idempotency.New("payment.idempotency_keys"),
		gateways: gateways, orders: ports.Orders, shops: ports.Shops, cfg: cfg, log: log}
	river.AddWorker(runner.Workers, &releaseWorker{svc: s})
	river.AddWorker(runner.Workers, &refundWorker{svc: s})
	river.AddWorker(runner.Workers, &captureWorker{svc: s})
	eventbus.On(bus, "payment.on_order_status_changed", s.onOrderStatusChanged)
	eventbus.On(bus, "payment.on_order_refund_due", s.onRefundDue)
	return s
}

// The stages of a payment's provider-driven lifecycle and their rank: a stage only ever moves
// to a higher rank, so a notification that arrives late never undoes a later one. Failed
// outranks authorized (a void after an authorization) but not captured: money that arrives
// after a failure is still money, and is recorded.
const (
	stagePending    = "pending"
	stageAuthorized = "authorized"
	stageFailed     = "failed"
	stageCaptured   = "captured"
)

var rank = map[string]int{stagePending: 0, stageAuthorized: 1, stageFailed: 2, stageCaptured: 3}

// deriveStatus is the one computation of what clients see from the stage and the amounts.
func deriveStatus(stage string, captured, refunded int64, openDisputes bool) string {
	switch {
	case stage != stageCaptured:
		return stage
	case openDisputes:
		return StatusDisputed
	case refunded > 0 && refunded >= captured:
		return StatusRefunded
	case refunded > 0:
		return StatusPartiallyRefunded
	default:
		return StatusCaptured
	}
}

// change is a change of a payment's state and who made it.
type change struct {
	source        string // api, webhook, admin, system
	actor         *uuid.UUID
	reason        string
	eventID       *string
	transactionID *string
	failure       *string
}

// save writes a payment's state, recomputing its status, and records the status change.
func (s *Service) save(ctx context.Context, q *store.Queries, old, next store.PaymentPayment, c change) (store.PaymentPayment, error) {
	open, err := q.OpenDisputes(ctx, old.ID)
	if err != nil {
		return old, err
	}
	status := deriveStatus(next.Stage, next.CapturedAmount, next.RefundedAmount, len(open) > 0)
	row, err := q.SetPaymentState(ctx, store.SetPaymentStateParams{ID: old.ID, Stage: next.Stage, Status: status,
		CapturedAmount: next.CapturedAmount, RefundedAmount: next.RefundedAmount, TransactionID: c.transactionID,
		FailureReason: c.failure})
	if err != nil {
		return old, err
	}
	if row.Status != old.Status {
		err = q.AddHistory(ctx, store.AddHistoryParams{PaymentID: old.ID, FromStatus: &old.Status, ToStatus: row.Status,
			Source: c.source, ActorID: c.actor, Reason: c.reason, EventID: c.eventID})
	}
	return row, err
}

// restatus recomputes a payment's status after its disputes or refunds changed.
func (s *Service) restatus(ctx context.Context, q *store.Queries, p store.PaymentPayment, c change) (store.PaymentPayment, error) {
	return s.save(ctx, q, p, p, c)
}

// CreateInput starts a payment of one order or of a whole checkout. Method and provider
// default to what the buyer chose at checkout.
type CreateInput struct {
	OrderID    *uuid.UUID           `json:"order_id"`
	CheckoutID *uuid.UUID           `json:"checkout_id"`
	Method     events.PaymentMethod `json:"method" validate:"omitempty,oneof=card ewallet bank_transfer cod"`
	Provider   string               `json:"provider" validate:"omitempty,oneof=stripe paypal vnpay momo sandbox"`
	// Capture "manual" authorizes only; POST /payments/{id}/capture collects the money.
	Capture string `json:"capture" validate:"omitempty,oneof=automatic manual"`
	Locale  string `json:"locale" validate:"omitempty,oneof=vi en"`
}

// Create starts a payment: the orders are taken for it (an order has one live payment at a
// time), the provider is asked for a redirect URL or client secret, and the payment is pending
// until the provider's signed notification says how it went. With an Idempotency-Key a retry
// answers the same payment.
func (s *Service) Create(ctx context.Context, p auth.Principal, key, clientIP string, in CreateInput) (int, Payment, error) {
	if (in.OrderID == nil) == (in.CheckoutID == nil) {
		return 0, Payment{}, apperr.Field("order_id", "give either an order_id or a checkout_id")
	}
	orders, err := s.orders.Payables(ctx, p.UserID, in.OrderID, in.CheckoutID)
	if err != nil {
		return 0, Payment{}, err
	}
	orders, err = payableOrders(orders, in.CheckoutID != nil)
	if err != nil {
		return 0, Payment{}, err
	}
	if err := choose(&in, orders[0]); err != nil {
		return 0, Payment{}, err
	}
	var amount int64
	for _, o := range orders {
		amount += o.Total
	}
	if amount <= 0 {
		return 0, Payment{}, apperr.New(apperr.Conflict, "there is nothing to pay")
	}
	cur := orders[0].Currency
	g, err := s.gateways.Get(in.Provider)
	if err != nil || !gateway.Accepts(g, cur) {
		return 0, Payment{}, apperr.Field("provider", in.Provider+" is not available for "+cur+" payments")
	}
	id, status, err := s.keyed(ctx, p, key, in, http.StatusCreated, func(tx pgx.Tx, q *store.Queries) (uuid.UUID, error) {
		id := uuid.New()
		if _, err := q.CreatePayment(ctx, store.CreatePaymentParams{ID: id, BuyerID: p.UserID, CheckoutID: in.CheckoutID,
			Method: in.Method, Provider: in.Provider, Amount: amount, Currency: cur, CaptureMode: in.Capture}); err != nil {
			return id, err
		}
		for _, o := range orders {
			n, err := q.AddPaymentOrder(ctx, store.AddPaymentOrderParams{PaymentID: id, OrderID: o.OrderID, ShopID: o.ShopID, Amount: o.Total})
			if err != nil {
				return id, err
			}
			if n == 0 {
				return id, apperr.New(apperr.Conflict, "order %s already has a payment in progress", o.OrderID)
			}
		}
		created, err := g.Create(ctx, gateway.CreateRequest{PaymentID: id.String(), Amount: amount, Currency: cur,
			Description: describe(orders), Capture: gateway.CaptureMethod(in.Capture), CustomerIP: clientIP,
			Locale: in.Locale, IdempotencyKey: "goshop-payment-" + id.String()})
		if err != nil {
			return id, gatewayError(err)
		}
		if _, err = q.AttachProvider(ctx, store.AttachProviderParams{ID: id, ProviderRef: &created.PaymentRef,
			RedirectUrl: nonEmpty(created.RedirectURL), ClientSecret: nonEmpty(created.ClientSecret),
			CaptureRequired: created.CaptureRequired, ProviderCreatedAt: &created.CreatedAt}); err != nil {
			return id, err
		}
		return id, q.AddHistory(ctx, store.AddHistoryParams{PaymentID: id, ToStatus: StatusPending, Source: "api",
			ActorID: &p.UserID, Reason: "payment started"})
	})
	if err != nil {
		return 0, Payment{}, err
	}
	pay, err := s.Get(ctx, p, id)
	return status, pay, err
}

// keyed runs work in one transaction under the caller's Idempotency-Key (when there is one):
// the same request again does no work and answers the status and the ID of what the first one
// made; the same key with another request is refused. The record keeps only the ID, so that a
// replay answers the resource as it is now (a retry after the provider's notification sees
// the outcome).
func (s *Service) keyed(ctx context.Context, p auth.Principal, key string, req any, status int,
	work func(tx pgx.Tx, q *store.Queries) (uuid.UUID, error)) (uuid.UUID, int, error) {
	var id uuid.UUID
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if key != "" {
			replay, err := s.keys.Claim(ctx, tx, p.UserID, key, idempotency.Hash(req))
			if err != nil {
				return err
			}
			if replay != nil {
				status = replay.Status
				id, err = replayedID(replay)
				return err
			}
		}
		var err error
		if id, err = work(tx, newStore(tx)); err != nil || key == "" {
			return err
		}
		return s.keys.Save(ctx, tx, p.UserID, key, status, idOnly{ID: id})
	})
	return id, status, err
}

// idOnly is what an Idempotency-Key record keeps: the resource it made. A replay answers that
// resource as it is now, so that a retry after the provider's notification sees the outcome.
type idOnly struct {
	ID uuid.UUID `json:"id"`
}

func replayedID(r *idempotency.Replay) (uuid.UUID, error) {
	var v idOnly
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return uuid.Nil, fmt.Errorf("payment: idempotency record: %w", err)
	}
	return v.ID, nil
}

// payableOrders keeps the orders a payment may cover: for a checkout, the ones still to pay;
// for one order, that order if it is still to pay.
func payableOrders(orders []Payable, checkout bool) ([]Payable, error) {
	var out []Payable
	for _, o := range orders {
		open := o.PaymentStatus == events.PaymentStatusUnpaid && (o.Status == events.OrderPending || o.Status == events.OrderConfirmed)
		switch {
		case o.PaymentMethod == events.MethodCOD:
			return nil, apperr.Field("method", "cash on delivery is paid to the shipper on delivery; it needs no payment")
		case open:
			out = append(out, o)
		case !checkout && o.PaymentStatus != events.PaymentStatusUnpaid:
			return nil, apperr.New(apperr.Conflict, "the order is already paid")
		case !checkout:
			return nil, apperr.New(apperr.Conflict, "a %s order cannot be paid", o.Status)
		}
	}
	if len(out) == 0 {
		return nil, apperr.New(apperr.Conflict, "no order of this checkout is waiting for payment")
	}
	for _, o := range out[1:] {
		if o.Currency != out[0].Currency || o.PaymentMethod != out[0].PaymentMethod {
			return nil, apperr.New(apperr.Conflict, "the checkout's orders differ in currency or method; pay them one by one")
		}
	}
	return out, nil
}

// choose fills the method, provider and capture mode from the checkout's choice and checks them.
func choose(in *CreateInput, o Payable) error {
	if in.Method == "" {
		in.Method = o.PaymentMethod
	}
	if in.Method == events.MethodCOD {
		return apperr.Field("method", "cash on delivery is paid to the shipper on delivery; it needs no payment")
	}
	if in.Method != o.PaymentMethod {
		return apperr.Field("method", "the order is to be paid by "+string(o.PaymentMethod)+", as chosen at checkout")
	}
	allowed := in.Method.Providers()
	if in.Provider == "" {
		in.Provider = string(allowed[0])
		if o.Provider != nil && slices.Contains(allowed, *o.Provider) {
			in.Provider = string(*o.Provider)
		}
	}
	if !slices.Contains(allowed, events.Provider(in.Provider)) {
		return apperr.Field("provider", fmt.Sprintf("%s is paid through one of: %s", in.Method, in.Method.ProviderNames()))
	}
	if in.Capture == "" {
		in.Capture = string(gateway.CaptureAutomatic)
	}
	return nil
}

func describe(orders []Payable) string {
	if len(orders) == 1 {
		return "GoShop order " + orders[0].OrderID.String()
	}
	return fmt.Sprintf("GoShop checkout %s (%d orders)", orders[0].CheckoutID, len(orders))
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// gatewayError turns a provider's refusal into an application error.
func gatewayError(err error) error {
	var pe *gateway.ProviderError
	var open *breaker.OpenError
	switch {
	case errors.As(err, &open):
		return &apperr.Error{Code: apperr.ProviderUnavailable, Err: err, RetryAfter: open.RetryAfter,
			Message: "the payment provider is failing; try again later or pay with another provider"}
	case errors.Is(err, gateway.ErrUnavailable), errors.Is(err, gateway.ErrUnknown):
		return apperr.Wrap(err, apperr.Invalid, "the payment provider is not available")
	case errors.Is(err, gateway.ErrInvalidRequest):
		return &apperr.Error{Code: apperr.Invalid, Message: "the payment provider cannot take this payment",
			Fields: []apperr.FieldError{{Field: "provider", Message: err.Error()}}, Err: err}
	case errors.Is(err, gateway.ErrNotSupported):
		return apperr.Wrap(err, apperr.Conflict, "the payment provider does not support this")
	case errors.As(err, &pe) && pe.Temporary():
		return apperr.Wrap(err, apperr.Unavailable, "the payment provider cannot be reached; try again")
	case errors.As(err, &pe):
		return apperr.Wrap(err, apperr.Conflict, "the payment provider refused: %s", strings.TrimSpace(pe.Code+" "+pe.Message))
	}
	return err
}

// Get returns a payment to its buyer or an admin; anyone else does not see it.
func (s *Service) Get(ctx context.Context, p auth.Principal, id uuid.UUID) (Payment, error) {
	row, err := s.visible(ctx, p, id)
	if err != nil {
		return Payment{}, err
	}
	pay, err := s.load(ctx, row)
	if err != nil {
		return Payment{}, err
	}
	if row.BuyerID != p.UserID {
		pay.ClientSecret = nil // it completes the payment: the buyer's alone
	}
	hist, err := s.q.History(ctx, id)
	for _, h := range hist {
		pay.History = append(pay.History, StatusChange{From: h.FromStatus, To: h.ToStatus, Source: h.Source, ActorID: h.ActorID,
			Reason: h.Reason, EventID: h.EventID, At: h.CreatedAt.UTC()})
	}
	return pay, err
}

// adminOnly refuses what only admins may do. The router refuses others first; the service
// checks again, so that no other caller (another route, a job, a command) skips the rule.
func adminOnly(p auth.Principal, what string) error {
	if !p.IsAdmin() {
		return apperr.New(apperr.Forbidden, "only admins %s", what)
	}
	return nil
}

// visible reads a payment its buyer or an admin may see.
func (s *Service) visible(ctx context.Context, p auth.Principal, id uuid.UUID) (store.PaymentPayment, error) {
	row, err := s.q.GetPayment(ctx, id)
	if pgdb.IsNoRows(err) || err == nil && row.BuyerID != p.UserID && !p.IsAdmin() {
		return row, apperr.NotFoundf("payment")
	}
	return row, err
}

// lockVisible locks a payment its buyer or an admin may act on.
func lockVisible(ctx context.Context, q *store.Queries, p auth.Principal, id uuid.UUID) (store.PaymentPayment, error) {
	row, err := q.LockPayment(ctx, id)
	if pgdb.IsNoRows(err) || err == nil && row.BuyerID != p.UserID && !p.IsAdmin() {
		return row, apperr.NotFoundf("payment")
	}
	return row, err
}

func (s *Service) load(ctx context.Context, row store.PaymentPayment) (Payment, error) {
	orders, err := s.q.PaymentOrders(ctx, row.ID)
	return toPayment(row, orders), err
}

// HistoryFilter narrows the payment history.
type HistoryFilter struct {
	Status *string
}

// History lists the caller's payments, newest first.
func (s *Service) History(ctx context.Context, p auth.Principal, f HistoryFilter, page httpx.Page) (httpx.List[Payment], error) {
	c, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Payment]{}, err
	}
	rows, err := s.q.BuyerPayments(ctx, store.BuyerPaymentsParams{BuyerID: p.UserID, Status: f.Status, HasCursor: has,
		BeforeCreated: c.At, BeforeID: c.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Payment]{}, err
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	orders, err := s.q.PaymentOrdersOf(ctx, ids)
	if err != nil {
		return httpx.List[Payment]{}, err
	}
	out := make([]Payment, len(rows))
	for i, r := range rows {
		out[i] = toPayment(r, orders)
	}
	return httpx.Paginate(out, page.Limit, func(p Payment) any { return httpx.Keyset{At: p.CreatedAt, ID: p.ID} }), nil
}

// orderIDs lists a payment's live orders (a failed payment's were let go).
func orderIDs(orders []store.PaymentPaymentOrder) []uuid.UUID {
	out := make([]uuid.UUID, 0, len(orders))
	for _, o := range orders {
		out = append(out, o.OrderID)
	}
	return out
}

func strs(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// authorizeTx moves a payment to authorized and, when it captures automatically but the
// provider waits for a capture call (PayPal), schedules the capture.
func (s *Service) authorizeTx(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, c change) (store.PaymentPayment, string, error) {
	if rank[stageAuthorized] <= rank[pay.Stage] {
		return pay, "ignored: already " + pay.Stage, nil
	}
	row, orders, err := s.advance(ctx, q, pay, stageAuthorized, c)
	if err != nil {
		return pay, "", err
	}
	if row.CaptureMode == string(gateway.CaptureAutomatic) && row.CaptureRequired {
		if err := s.jobs.InsertTx(ctx, tx, captureArgs{PaymentID: row.ID}, nil); err != nil {
			return pay, "", err
		}
	}
	return row, "authorized", s.bus.Publish(ctx, tx, events.PaymentAuthorized{PaymentID: row.ID.String(), BuyerID: row.BuyerID.String(),
		OrderIDs: strs(orderIDs(orders)), Provider: events.Provider(row.Provider), Amount: row.Amount, Currency: row.Currency, At: time.Now().UTC()})
}

// advance moves a payment to a higher stage (the caller checked the rank) and answers it with
// its orders.
func (s *Service) advance(ctx context.Context, q *store.Queries, pay store.PaymentPayment, stage string,
	c change) (store.PaymentPayment, []store.PaymentPaymentOrder, error) {
	next := pay
	next.Stage = stage
	row, err := s.save(ctx, q, pay, next, c)
	if err != nil {
		return pay, nil, err
	}
	orders, err := q.PaymentOrders(ctx, pay.ID)
	return row, orders, err
}

// errAmountMismatch is a capture whose amount or currency is not the payment's.
var errAmountMismatch = errors.New("payment: the captured amount is not the payment's")

// captureTx records money collected: it moves from the provider's clearing account into each
// order's escrow, the orders are marked paid in the same transaction, and the payment is
// captured. A capture of a payment that had failed takes its orders back; an order that was
// meanwhile paid by another payment has this money refunded.
func (s *Service) captureTx(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, amount int64, cur string,
	c change) (store.PaymentPayment, string, error) {
	if pay.Stage == stageCaptured {
		return pay, "ignored: already captured", nil
	}
	if amount == 0 {
		amount = pay.Amount
	}
	if amount != pay.Amount || cur != "" && !strings.EqualFold(cur, pay.Currency) {
		return pay, "", fmt.Errorf("%w: %d %s, expected %d %s", errAmountMismatch, amount, cur, pay.Amount, pay.Currency)
	}
	orders, err := q.PaymentOrders(ctx, pay.ID)
	if err != nil {
		return pay, "", err
	}
	if pay.Stage == stageFailed {
		if _, err := q.RetakeOrders(ctx, pay.ID); err != nil {
			return pay, "", err
		}
	}
	live := map[uuid.UUID]bool{}
	for _, o := range orders {
		other, err := q.LivePaymentOfOrder(ctx, o.OrderID)
		if err != nil && !pgdb.IsNoRows(err) {
			return pay, "", err
		}
		live[o.OrderID] = err == nil && other.ID == pay.ID
	}
	entries := []entry{debit(clearingAccount(pay.Provider, pay.Currency), amount)}
	for _, o := range orders {
		entries = append(entries, credit(escrowAccount(o.OrderID, pay.Currency), o.Amount))
	}
	if err := post(ctx, q, ledgerTxn{kind: "capture", paymentID: &pay.ID, memo: "payment captured"}, entries...); err != nil {
		return pay, "", err
	}
	next := pay
	next.Stage, next.CapturedAmount = stageCaptured, amount
	row, err := s.save(ctx, q, pay, next, c)
	if err != nil {
		return pay, "", err
	}
	now := time.Now().UTC()
	var paid []uuid.UUID
	var evs []eventbus.Event
	for _, o := range orders {
		if !live[o.OrderID] {
			// Paid twice: this money goes back.
			if _, err := s.reserveRefundTx(ctx, tx, q, row, &o.OrderID, &o.Amount, refundMeta{source: "order",
				key: "duplicate:" + o.OrderID.String(), reason: "the order was paid by another payment"}); err != nil {
				return pay, "", err
			}
			continue
		}
		paid = append(paid, o.OrderID)
		if _, err := q.CreateEscrow(ctx, store.CreateEscrowParams{OrderID: o.OrderID, PaymentID: pay.ID, BuyerID: pay.BuyerID,
			ShopID: o.ShopID, Currency: pay.Currency, HeldAmount: o.Amount}); err != nil {
			return pay, "", err
		}
		evs = append(evs, events.EscrowHeld{OrderID: o.OrderID.String(), PaymentID: pay.ID.String(), ShopID: o.ShopID.String(),
			BuyerID: pay.BuyerID.String(), Amount: o.Amount, Currency: pay.Currency, At: now})
	}
	if len(paid) > 0 {
		if err := s.orders.MarkPaidTx(ctx, tx, paid); err != nil {
			return pay, "", err
		}
	}
	evs = append(evs, events.PaymentCaptured{PaymentID: pay.ID.String(), BuyerID: pay.BuyerID.String(), OrderIDs: strs(orderIDs(orders)),
		Method: pay.Method, Provider: events.Provider(pay.Provider), Amount: amount, Currency: pay.Currency, At: now})
	return row, "captured", s.bus.Publish(ctx, tx, evs...)
}

// failTx records that a payment failed or was abandoned; its orders may be paid again.
func (s *Service) failTx(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, reason string, c change) (store.PaymentPayment, string, error) {
	if rank[stageFailed] <= rank[pay.Stage] {
		return pay, "ignored: already " + pay.Stage, nil
	}
	if reason == "" {
		reason = "payment failed"
	}
	c.failure = &reason
	if c.reason == "" {
		c.reason = reason
	}
	row, orders, err := s.advance(ctx, q, pay, stageFailed, c)
	if err != nil {
		return pay, "", err
	}
	if err := q.LetGoOfOrders(ctx, pay.ID); err != nil {
		return pay, "", err
	}
	return row, "failed", s.bus.Publish(ctx, tx, events.PaymentFailed{PaymentID: pay.ID.String(), BuyerID: pay.BuyerID.String(),
		OrderIDs: strs(orderIDs(orders)), Provider: events.Provider(pay.Provider), Reason: reason, At: time.Now().UTC()})
}

// CaptureInput optionally names the amount to capture; only the whole amount is captured.
type CaptureInput struct {
	Amount *int64 `json:"amount" validate:"omitempty,gt=0"`
}

// Capture collects an authorized payment's money, for its buyer (a PayPal buyer back from
// approving) or an admin. Capturing a captured payment answers it as it is.
func (s *Service) Capture(ctx context.Context, p auth.Principal, key string, id uuid.UUID, in CaptureInput) (int, Payment, error) {
	req := struct {
		ID uuid.UUID
		In CaptureInput
	}{id, in}
	_, status, err := s.keyed(ctx, p, key, req, http.StatusOK, func(tx pgx.Tx, q *store.Queries) (uuid.UUID, error) {
		pay, err := lockVisible(ctx, q, p, id)
		if err != nil {
			return id, err
		}
		if in.Amount != nil && *in.Amount != pay.Amount {
			return id, apperr.Field("amount", fmt.Sprintf("only the whole amount (%d) is captured", pay.Amount))
		}
		source := "api"
		if pay.BuyerID != p.UserID {
			source = "admin"
		}
		return id, s.captureAtProvider(ctx, tx, q, pay, change{source: source, actor: &p.UserID, reason: "capture requested"})
	})
	if err != nil {
		return 0, Payment{}, err
	}
	pay, err := s.Get(ctx, p, id)
	return status, pay, err
}

// captureAtProvider asks the provider to capture an authorized payment (the payment row is
// locked by the caller, so concurrent captures wait) and records the answer.
func (s *Service) captureAtProvider(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, c change) error {
	switch pay.Stage {
	case stageCaptured:
		return nil
	case stageAuthorized:
	default:
		return apperr.New(apperr.Conflict, "a %s payment cannot be captured; only an authorized one", pay.Status)
	}
	g, err := s.gateways.Get(pay.Provider)
	if err != nil {
		return gatewayError(err)
	}
	res, err := g.Capture(ctx, gateway.CaptureRequest{PaymentRef: deref(pay.ProviderRef), Amount: pay.Amount, Currency: pay.Currency,
		IdempotencyKey: "goshop-capture-" + pay.ID.String()})
	if err != nil {
		return gatewayError(err)
	}
	if res.TransactionID != "" {
		c.transactionID = &res.TransactionID
	}
	switch res.Status {
	case gateway.StatusSucceeded:
		_, _, err = s.captureTx(ctx, tx, q, pay, res.Amount, res.Currency, c)
	case gateway.StatusFailed:
		_, _, err = s.failTx(ctx, tx, q, pay, "the provider refused the capture", c)
	}
	// Pending: the provider's notification settles it.
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// captureArgs captures an authorized payment that captures automatically at a provider that
// waits for a capture call (PayPal after the buyer approves).
type captureArgs struct {
	PaymentID uuid.UUID `json:"payment_id"`
}

func (captureArgs) Kind() string { return "payment_capture" }

type captureWorker struct {
	river.WorkerDefaults[captureArgs]
	svc *Service
}

// Work is idempotent: a captured payment is left alone, and the capture's idempotency key
// makes a retried provider call the same capture.
func (w *captureWorker) Work(ctx context.Context, job *river.Job[captureArgs]) error {
	s := w.svc
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		pay, err := q.LockPayment(ctx, job.Args.PaymentID)
		if pgdb.IsNoRows(err) || err == nil && pay.Stage != stageAuthorized {
			return nil
		}
		if err != nil {
			return err
		}
		err = s.captureAtProvider(ctx, tx, q, pay, change{source: "system", reason: "captured automatically"})
		if apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.Invalid) {
			s.log.WarnContext(ctx, "automatic capture refused", "payment", pay.ID, "err", err)
			_, _, err = s.failTx(ctx, tx, q, pay, "the provider refused the capture", change{source: "system"})
		}
		return err
	})
}

// newStore returns the payment store on db, the pool or a transaction, its errors naming the query
// that failed (pgdb.Named).
func newStore(db store.DBTX) *store.Queries { return store.New(pgdb.Named("payment", db)) }
