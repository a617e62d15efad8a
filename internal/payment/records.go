package payment

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/payment/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// DisputeInput opens a buyer's dispute of a captured payment.
type DisputeInput struct {
	Reason string `json:"reason" validate:"required,max=1000"`
	Amount *int64 `json:"amount" validate:"omitempty,gt=0"`
}

// OpenDispute opens the buyer's dispute of their captured payment: the payment shows as
// disputed and its escrow stays held until an admin settles it (a refund settles it for the
// buyer; PUT /payments/{id}/status "captured" rejects it).
func (s *Service) OpenDispute(ctx context.Context, p auth.Principal, id uuid.UUID, in DisputeInput) (Dispute, error) {
	var d store.PaymentDispute
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		pay, err := q.LockPayment(ctx, id)
		if pgdb.IsNoRows(err) || err == nil && pay.BuyerID != p.UserID {
			return apperr.NotFoundf("payment")
		}
		if err != nil {
			return err
		}
		left := pay.CapturedAmount - pay.RefundedAmount
		switch {
		case pay.Stage != stageCaptured:
			return apperr.New(apperr.Conflict, "a %s payment cannot be disputed; only a paid one", pay.Status)
		case left <= 0:
			return apperr.New(apperr.Conflict, "the payment is refunded already")
		case in.Amount != nil && *in.Amount > left:
			return apperr.Field("amount", fmt.Sprintf("at most %d can be disputed", left))
		}
		amount := left
		if in.Amount != nil {
			amount = *in.Amount
		}
		d, err = s.openDisputeTx(ctx, tx, q, pay, nil, amount, strings.TrimSpace(in.Reason), "buyer", &p.UserID,
			change{source: "api", actor: &p.UserID, reason: "dispute opened by the buyer"})
		return err
	})
	if err != nil {
		return Dispute{}, err
	}
	return toDispute(d), nil
}

// ChargebackFilter narrows the chargebacks list.
type ChargebackFilter struct {
	Status *string
}

// Chargebacks lists disputes and chargebacks, newest first, for admins.
func (s *Service) Chargebacks(ctx context.Context, p auth.Principal, f ChargebackFilter, page httpx.Page) (httpx.List[Dispute], error) {
	if err := adminOnly(p, "list chargebacks"); err != nil {
		return httpx.List[Dispute]{}, err
	}
	c, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Dispute]{}, err
	}
	rows, err := s.q.ListDisputes(ctx, store.ListDisputesParams{Status: f.Status, HasCursor: has, BeforeCreated: c.At,
		BeforeID: c.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Dispute]{}, err
	}
	out := make([]Dispute, len(rows))
	for i, r := range rows {
		out[i] = Dispute{ID: r.ID, PaymentID: r.PaymentID, BuyerID: &r.BuyerID, Provider: r.Provider, Amount: r.Amount,
			Currency: r.Currency, Reason: r.Reason, Status: r.Status, OpenedBy: r.OpenedBy, CreatedAt: r.CreatedAt.UTC(),
			ResolvedAt: utc(r.ResolvedAt)}
	}
	return httpx.Paginate(out, page.Limit, func(d Dispute) any { return httpx.Keyset{At: d.CreatedAt, ID: d.ID} }), nil
}

// StatusInput is an admin's correction of a payment's status.
type StatusInput struct {
	Status string `json:"status" validate:"required,oneof=pending authorized captured failed refunded partially_refunded disputed"`
	Reason string `json:"reason" validate:"required,max=1000"`
}

// corrections are the moves an admin may make by hand, from a payment's status: what a lost
// notification would have done. Refunds and disputes have their own routes.
var corrections = map[string][]string{
	StatusPending:    {StatusAuthorized, StatusCaptured, StatusFailed},
	StatusAuthorized: {StatusCaptured, StatusFailed},
	StatusFailed:     {StatusCaptured},
	StatusDisputed:   {StatusCaptured},
}

// SetStatus applies an admin's correction, recorded with who and why. Marking a payment
// captured does what a capture notification does (ledger, escrow, orders paid); marking a
// disputed payment captured rejects the buyer's dispute.
func (s *Service) SetStatus(ctx context.Context, p auth.Principal, id uuid.UUID, in StatusInput) (Payment, error) {
	if err := adminOnly(p, "correct payment statuses"); err != nil {
		return Payment{}, err
	}
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		pay, err := q.LockPayment(ctx, id)
		if err != nil {
			return pgdb.NotFound(err, "payment")
		}
		allowed := false
		for _, to := range corrections[pay.Status] {
			allowed = allowed || to == in.Status
		}
		if !allowed || pay.Method == events.MethodCOD {
			return apperr.New(apperr.Conflict, "a %s payment cannot be marked %s by hand", pay.Status, in.Status)
		}
		c := change{source: "admin", actor: &p.UserID, reason: in.Reason}
		switch {
		case pay.Status == StatusDisputed:
			open, err := q.OpenDisputes(ctx, id)
			if err != nil {
				return err
			}
			for _, d := range open {
				if d.OpenedBy != "buyer" {
					return apperr.New(apperr.Conflict, "a provider's chargeback closes with the provider's notification")
				}
			}
			if err := resolveBuyerDisputes(ctx, q, id, "won"); err != nil {
				return err
			}
			if _, err := s.restatus(ctx, q, pay, c); err != nil {
				return err
			}
			return s.rearmReleasesTx(ctx, tx, q, id)
		case in.Status == StatusAuthorized:
			_, _, err = s.authorizeTx(ctx, tx, q, pay, c)
		case in.Status == StatusCaptured:
			_, _, err = s.captureTx(ctx, tx, q, pay, pay.Amount, pay.Currency, c)
		case in.Status == StatusFailed:
			_, _, err = s.failTx(ctx, tx, q, pay, in.Reason, c)
		}
		return err
	})
	if err != nil {
		return Payment{}, err
	}
	return s.Get(ctx, p, id)
}

// Receipt is the proof of a captured payment.
type Receipt struct {
	Number         string               `json:"receipt_number"`
	PaymentID      uuid.UUID            `json:"payment_id"`
	BuyerID        uuid.UUID            `json:"buyer_id"`
	Method         events.PaymentMethod `json:"method"`
	Provider       string               `json:"provider"`
	TransactionID  *string              `json:"transaction_id,omitempty"`
	Currency       string               `json:"currency"`
	Amount         int64                `json:"amount"`
	RefundedAmount int64                `json:"refunded_amount"`
	NetAmount      int64                `json:"net_amount"`
	PaidAt         *time.Time           `json:"paid_at"`
	Lines          []ReceiptLine        `json:"lines"`
	Refunds        []Refund             `json:"refunds"`
	IssuedAt       time.Time            `json:"issued_at"`
}

// ReceiptLine is one order of a receipt.
type ReceiptLine struct {
	OrderID        uuid.UUID `json:"order_id"`
	ShopID         uuid.UUID `json:"shop_id"`
	Amount         int64     `json:"amount"`
	RefundedAmount int64     `json:"refunded_amount"`
}

// ReceiptOf answers the receipt of a captured payment to its buyer or an admin.
func (s *Service) ReceiptOf(ctx context.Context, p auth.Principal, id uuid.UUID) (Receipt, error) {
	pay, err := s.visible(ctx, p, id)
	if err != nil {
		return Receipt{}, err
	}
	if pay.Stage != stageCaptured {
		return Receipt{}, apperr.New(apperr.Conflict, "a %s payment has no receipt yet", pay.Status)
	}
	orders, err := s.q.PaymentOrders(ctx, id)
	if err != nil {
		return Receipt{}, err
	}
	refunds, err := s.q.RefundsOf(ctx, id)
	if err != nil {
		return Receipt{}, err
	}
	at := pay.CreatedAt
	if pay.CapturedAt != nil {
		at = *pay.CapturedAt
	}
	out := Receipt{Number: fmt.Sprintf("GS-%s-%s", at.In(s.cfg.Location).Format("20060102"), strings.ToUpper(strings.ReplaceAll(id.String(), "-", "")[:12])),
		PaymentID: id, BuyerID: pay.BuyerID, Method: pay.Method, Provider: pay.Provider, TransactionID: pay.TransactionID,
		Currency: pay.Currency, Amount: pay.CapturedAmount, RefundedAmount: pay.RefundedAmount,
		NetAmount: pay.CapturedAmount - pay.RefundedAmount, PaidAt: utc(pay.CapturedAt), Lines: []ReceiptLine{}, Refunds: []Refund{},
		IssuedAt: time.Now().UTC()}
	for _, o := range orders {
		out.Lines = append(out.Lines, ReceiptLine{OrderID: o.OrderID, ShopID: o.ShopID, Amount: o.Amount, RefundedAmount: o.RefundedAmount})
	}
	for _, r := range refunds {
		if r.Status == "succeeded" {
			out.Refunds = append(out.Refunds, toRefund(r))
		}
	}
	return out, nil
}

// Transaction is one ledger transaction of the caller's payments.
type Transaction struct {
	ID        uuid.UUID  `json:"id"`
	Kind      string     `json:"kind"`
	PaymentID *uuid.UUID `json:"payment_id"`
	OrderID   *uuid.UUID `json:"order_id,omitempty"`
	RefundID  *uuid.UUID `json:"refund_id,omitempty"`
	Memo      string     `json:"memo"`
	// Amount is how much money the transaction moved (the sum of its debits).
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	Entries   []Entry   `json:"entries"`
	CreatedAt time.Time `json:"created_at"`
}

// Entry is one line of a ledger transaction: a positive amount debits the account, a negative
// one credits it.
type Entry struct {
	Account string `json:"account"`
	Kind    string `json:"kind"`
	Amount  int64  `json:"amount"`
}

// Transactions lists the ledger transactions of the caller's payments, newest first: what was
// captured, held, refunded, released to shops and charged back.
func (s *Service) Transactions(ctx context.Context, p auth.Principal, page httpx.Page) (httpx.List[Transaction], error) {
	c, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Transaction]{}, err
	}
	rows, err := s.q.BuyerTransactions(ctx, store.BuyerTransactionsParams{BuyerID: p.UserID, HasCursor: has, BeforeCreated: c.At,
		BeforeID: c.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Transaction]{}, err
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	entries, err := s.q.EntriesOf(ctx, ids)
	if err != nil {
		return httpx.List[Transaction]{}, err
	}
	out := make([]Transaction, len(rows))
	for i, r := range rows {
		t := Transaction{ID: r.ID, Kind: r.Kind, PaymentID: r.PaymentID, OrderID: r.OrderID, RefundID: r.RefundID, Memo: r.Memo,
			Currency: r.Currency, Entries: []Entry{}, CreatedAt: r.CreatedAt.UTC()}
		for _, e := range entries {
			if e.TransactionID != r.ID {
				continue
			}
			t.Entries = append(t.Entries, Entry{Account: e.Code, Kind: e.Kind, Amount: e.Amount})
			if e.Amount > 0 {
				t.Amount += e.Amount
			}
		}
		out[i] = t
	}
	return httpx.Paginate(out, page.Limit, func(t Transaction) any { return httpx.Keyset{At: t.CreatedAt, ID: t.ID} }), nil
}
