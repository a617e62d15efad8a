package payment

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// WebhookResult says what a provider's notification did.
type WebhookResult struct {
	// Duplicate: the event was applied before; nothing changed.
	Duplicate bool `json:"duplicate"`
	// Matched: the notification is about a payment of ours.
	Matched   bool       `json:"matched"`
	PaymentID *uuid.UUID `json:"payment_id,omitempty"`
	Outcome   string     `json:"outcome"`
}

// Webhook errors the HTTP layer answers in each provider's way.
var (
	// ErrBadSignature: the notification does not verify; nothing was read or changed.
	ErrBadSignature = apperr.New(apperr.BadRequest, "the notification's signature does not verify")
	// ErrAmountMismatch: a capture of another amount than the payment's; nothing changed.
	ErrAmountMismatch = apperr.New(apperr.BadRequest, "the notification's amount is not the payment's")
)

// HandleWebhook verifies a provider's notification (before reading anything of it) and applies
// it once: the event's ID is inserted first, in the transaction that applies it, so a
// redelivery, even a concurrent one, changes nothing. The payment is locked while it is
// applied, and its stage only moves up, so events arriving out of order never move it back.
func (s *Service) HandleWebhook(ctx context.Context, provider string, header http.Header, body []byte, query url.Values) (WebhookResult, error) {
	g, err := s.gateways.Get(provider)
	if errors.Is(err, gateway.ErrUnknown) {
		return WebhookResult{}, apperr.NotFoundf("provider")
	}
	if err != nil {
		return WebhookResult{}, apperr.Wrap(err, apperr.Unavailable, "%s is not configured here", provider)
	}
	ev, err := g.ParseWebhook(ctx, header, body, query)
	var pe *gateway.ProviderError
	switch {
	case errors.Is(err, gateway.ErrBadSignature):
		return WebhookResult{}, ErrBadSignature
	case errors.Is(err, gateway.ErrMalformed):
		return WebhookResult{}, apperr.Wrap(err, apperr.BadRequest, "the notification cannot be read")
	case errors.As(err, &pe):
		// PayPal verifies through its API: when it cannot answer, the provider must retry.
		return WebhookResult{}, apperr.Wrap(err, apperr.Unavailable, "the notification cannot be verified now")
	case err != nil:
		return WebhookResult{}, err
	}
	return s.applyEvent(ctx, ev)
}

func (s *Service) applyEvent(ctx context.Context, ev gateway.Event) (WebhookResult, error) {
	var res WebhookResult
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		n, err := q.InsertWebhookEvent(ctx, store.InsertWebhookEventParams{Provider: ev.Provider, EventID: ev.ID,
			Type: string(ev.Type), ProviderType: ev.ProviderType, Payload: string(ev.Raw)})
		if err != nil {
			return err
		}
		if n == 0 {
			res = WebhookResult{Duplicate: true, Outcome: "duplicate"}
			return nil
		}
		pay, err := findPayment(ctx, q, ev)
		if pgdb.IsNoRows(err) {
			res.Outcome = "unmatched"
			return q.SetWebhookOutcome(ctx, store.SetWebhookOutcomeParams{Provider: ev.Provider, EventID: ev.ID, Outcome: res.Outcome})
		}
		if err != nil {
			return err
		}
		res.Matched, res.PaymentID = true, &pay.ID
		if res.Outcome, err = s.apply(ctx, tx, q, pay, ev); err != nil {
			return err
		}
		return q.SetWebhookOutcome(ctx, store.SetWebhookOutcomeParams{Provider: ev.Provider, EventID: ev.ID, PaymentID: &pay.ID,
			Outcome: res.Outcome})
	})
	if errors.Is(err, errAmountMismatch) {
		return WebhookResult{Matched: true, Outcome: "amount mismatch"}, apperr.Wrap(err, apperr.BadRequest, "%s", ErrAmountMismatch.Message)
	}
	return res, err
}

// findPayment locks the payment a notification is about: by our ID when the provider echoed
// it, else by the provider's payment reference, else by its transaction ID.
func findPayment(ctx context.Context, q *store.Queries, ev gateway.Event) (store.PaymentPayment, error) {
	if id, err := uuid.Parse(ev.PaymentID); err == nil {
		pay, err := q.LockPayment(ctx, id)
		if err == nil && pay.Provider == ev.Provider {
			return pay, nil
		}
		if err != nil && !pgdb.IsNoRows(err) {
			return pay, err
		}
	}
	var (
		pay store.PaymentPayment
		err = pgx.ErrNoRows
	)
	if ev.PaymentRef != "" {
		pay, err = q.PaymentByRef(ctx, store.PaymentByRefParams{Provider: ev.Provider, ProviderRef: &ev.PaymentRef})
	}
	if pgdb.IsNoRows(err) && ev.TransactionID != "" {
		pay, err = q.PaymentByTransaction(ctx, store.PaymentByTransactionParams{Provider: ev.Provider, TransactionID: &ev.TransactionID})
	}
	if err != nil {
		return pay, err
	}
	return q.LockPayment(ctx, pay.ID)
}

// apply acts on a verified, new notification of a payment and says what it did.
func (s *Service) apply(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, ev gateway.Event) (string, error) {
	c := change{source: "webhook", eventID: &ev.ID, reason: ev.Provider + " " + ev.ProviderType}
	if ev.TransactionID != "" {
		c.transactionID = &ev.TransactionID
	}
	var (
		outcome string
		err     error
	)
	switch ev.Type {
	case gateway.EventAuthorized:
		_, outcome, err = s.authorizeTx(ctx, tx, q, pay, c)
	case gateway.EventCaptured:
		_, outcome, err = s.captureTx(ctx, tx, q, pay, ev.Amount, ev.Currency, c)
	case gateway.EventFailed, gateway.EventCanceled:
		_, outcome, err = s.failTx(ctx, tx, q, pay, or(ev.Reason, string(ev.Type)), c)
	case gateway.EventRefunded:
		_, outcome, err = s.refundNotifiedTx(ctx, tx, q, pay, ev, c)
	case gateway.EventRefundFailed:
		outcome, err = s.refundFailedNotifiedTx(ctx, q, pay, ev)
	case gateway.EventDisputed:
		outcome, err = s.disputeNotifiedTx(ctx, tx, q, pay, ev, c)
	case gateway.EventDisputeWon, gateway.EventDisputeLost:
		outcome, err = s.disputeClosedTx(ctx, tx, q, pay, ev, ev.Type == gateway.EventDisputeWon, c)
	default:
		outcome = "ignored: " + ev.ProviderType
	}
	return outcome, err
}

// disputeNotifiedTx records a dispute or chargeback the provider opened.
func (s *Service) disputeNotifiedTx(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, ev gateway.Event, c change) (string, error) {
	if ev.DisputeRef != "" {
		_, err := q.DisputeByRef(ctx, store.DisputeByRefParams{PaymentID: pay.ID, ProviderRef: &ev.DisputeRef})
		if err == nil {
			return "ignored: dispute known", nil
		}
		if !pgdb.IsNoRows(err) {
			return "", err
		}
	}
	d, err := s.openDisputeTx(ctx, tx, q, pay, nonEmpty(ev.DisputeRef), ev.Amount, ev.Reason, "provider", nil, c)
	if err != nil {
		return "", err
	}
	return "dispute " + d.ID.String() + " opened", nil
}

// openDisputeTx records an open dispute and publishes payment.disputed; the payment shows as
// disputed and its escrow is not released while it is open.
func (s *Service) openDisputeTx(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, ref *string, amount int64,
	reason, by string, opener *uuid.UUID, c change) (store.PaymentDispute, error) {
	if amount <= 0 {
		amount = pay.CapturedAmount - pay.RefundedAmount
	}
	if amount <= 0 {
		amount = pay.Amount
	}
	d, err := q.CreateDispute(ctx, store.CreateDisputeParams{ID: uuid.New(), PaymentID: pay.ID, ProviderRef: ref, Amount: amount,
		Currency: pay.Currency, Reason: reason, OpenedBy: by, OpenerID: opener})
	if pgdb.IsUniqueViolation(err, "disputes_one_open_by_buyer") {
		return d, apperr.New(apperr.Conflict, "this payment already has an open dispute")
	}
	if err != nil {
		return d, err
	}
	if _, err := s.restatus(ctx, q, pay, c); err != nil {
		return d, err
	}
	return d, s.bus.Publish(ctx, tx, events.PaymentDisputed{PaymentID: pay.ID.String(), DisputeID: d.ID.String(),
		BuyerID: pay.BuyerID.String(), OpenedBy: by, Amount: amount, Currency: pay.Currency, Reason: reason, At: time.Now().UTC()})
}

// disputeClosedTx applies a dispute's outcome: won, the money stays and the escrow may be
// released again; lost, the provider took the money back (a chargeback): it leaves through the
// clearing account, from the orders' escrow or, once released, from their shops.
func (s *Service) disputeClosedTx(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, ev gateway.Event, won bool,
	c change) (string, error) {
	d, err := q.DisputeByRef(ctx, store.DisputeByRefParams{PaymentID: pay.ID, ProviderRef: &ev.DisputeRef})
	if pgdb.IsNoRows(err) {
		// Opened and closed before we heard of it opening (or the notifications crossed).
		d, err = q.CreateDispute(ctx, store.CreateDisputeParams{ID: uuid.New(), PaymentID: pay.ID, ProviderRef: nonEmpty(ev.DisputeRef),
			Amount: max(ev.Amount, 1), Currency: pay.Currency, Reason: ev.Reason, OpenedBy: "provider"})
	}
	if err != nil {
		return "", err
	}
	if d.Status != "open" {
		return "ignored: dispute already " + d.Status, nil
	}
	status := "lost"
	if won {
		status = "won"
	}
	if d, err = q.ResolveDispute(ctx, store.ResolveDisputeParams{ID: d.ID, Status: status}); err != nil {
		return "", err
	}
	if won {
		if _, err := s.restatus(ctx, q, pay, c); err != nil {
			return "", err
		}
		return "dispute won", s.rearmReleasesTx(ctx, tx, q, pay.ID)
	}
	amount := d.Amount
	if ev.Amount > 0 {
		amount = ev.Amount
	}
	return "chargeback", s.chargebackTx(ctx, tx, q, pay, amount, d.ID, c)
}

// chargebackTx takes back what the provider took from the payment's orders.
func (s *Service) chargebackTx(ctx context.Context, tx pgx.Tx, q *store.Queries, pay store.PaymentPayment, amount int64,
	disputeID uuid.UUID, c change) error {
	orders, err := q.PaymentOrders(ctx, pay.ID)
	if err != nil {
		return err
	}
	pending, err := q.PendingRefunds(ctx, pay.ID)
	if err != nil {
		return err
	}
	parts := allocate(orders, pending, amount)
	if len(parts) == 0 {
		_, err := s.restatus(ctx, q, pay, c)
		return err
	}
	for _, p := range parts {
		held, err := balance(ctx, q, escrowAccount(p.orderID, pay.Currency))
		if err != nil {
			return err
		}
		fromEscrow := min(p.amount, max(held, 0))
		if err := post(ctx, q, ledgerTxn{kind: "chargeback", paymentID: &pay.ID, orderID: &p.orderID, disputeID: &disputeID,
			memo: "chargeback"}, debit(escrowAccount(p.orderID, pay.Currency), fromEscrow),
			debit(shopAccount(p.shopID, pay.Currency), p.amount-fromEscrow),
			credit(clearingAccount(pay.Provider, pay.Currency), p.amount)); err != nil {
			return err
		}
		if err := s.escrowDrainedTx(ctx, q, p.orderID, pay.Currency); err != nil {
			return err
		}
		if pay, err = s.refundedTx(ctx, tx, q, pay, p.orderID, p.amount, nil, "chargeback", c); err != nil {
			return err
		}
	}
	return nil
}

// resolveBuyerDisputes closes a payment's open buyer disputes with an outcome.
func resolveBuyerDisputes(ctx context.Context, q *store.Queries, paymentID uuid.UUID, status string) error {
	open, err := q.OpenDisputes(ctx, paymentID)
	if err != nil {
		return err
	}
	for _, d := range open {
		if d.OpenedBy != "buyer" {
			continue
		}
		if _, err := q.ResolveDispute(ctx, store.ResolveDisputeParams{ID: d.ID, Status: status}); err != nil {
			return err
		}
	}
	return nil
}
