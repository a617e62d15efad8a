// Package payment is the payment context: payments through the providers of package gateway
// (card, e-wallet, bank transfer, and the built-in sandbox) and cash on delivery; verified,
// de-duplicated provider notifications; capture, refunds, disputes and chargebacks; receipts,
// history and transactions; saved payment methods; and escrow on a double-entry ledger whose
// balance the database enforces. It owns the `payment` schema.
package payment

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/payment/internal/store"
)

// Payment statuses, as clients see them.
const (
	StatusPending           = "pending"
	StatusAuthorized        = "authorized"
	StatusCaptured          = "captured"
	StatusFailed            = "failed"
	StatusRefunded          = "refunded"
	StatusPartiallyRefunded = "partially_refunded"
	StatusDisputed          = "disputed"
)

// Payment is a payment as its buyer (or an admin) sees it.
type Payment struct {
	ID             uuid.UUID            `json:"id"`
	BuyerID        uuid.UUID            `json:"buyer_id"`
	CheckoutID     *uuid.UUID           `json:"checkout_id,omitempty"`
	OrderIDs       []uuid.UUID          `json:"order_ids"`
	Orders         []PaymentOrder       `json:"orders"`
	Amount         int64                `json:"amount"`
	Currency       string               `json:"currency"`
	Method         events.PaymentMethod `json:"method"`
	Provider       string               `json:"provider"`
	Status         string               `json:"status"`
	CaptureMode    string               `json:"capture_mode"`
	ProviderRef    *string              `json:"provider_ref,omitempty"`
	RedirectURL    *string              `json:"redirect_url,omitempty"`
	ClientSecret   *string              `json:"client_secret,omitempty"`
	CapturedAmount int64                `json:"captured_amount"`
	RefundedAmount int64                `json:"refunded_amount"`
	FailureReason  *string              `json:"failure_reason,omitempty"`
	AuthorizedAt   *time.Time           `json:"authorized_at,omitempty"`
	CapturedAt     *time.Time           `json:"captured_at,omitempty"`
	FailedAt       *time.Time           `json:"failed_at,omitempty"`
	CreatedAt      time.Time            `json:"created_at"`
	UpdatedAt      time.Time            `json:"updated_at"`
	History        []StatusChange       `json:"history,omitempty"`
}

// PaymentOrder is one order's share of a payment.
type PaymentOrder struct {
	OrderID        uuid.UUID `json:"order_id"`
	ShopID         uuid.UUID `json:"shop_id"`
	Amount         int64     `json:"amount"`
	RefundedAmount int64     `json:"refunded_amount"`
}

// StatusChange is one recorded change of a payment's status.
type StatusChange struct {
	From    *string    `json:"from"`
	To      string     `json:"to"`
	Source  string     `json:"source"`
	ActorID *uuid.UUID `json:"actor_id,omitempty"`
	Reason  string     `json:"reason"`
	EventID *string    `json:"event_id,omitempty"`
	At      time.Time  `json:"at"`
}

// Refund is money of one order going back to the buyer.
type Refund struct {
	ID            uuid.UUID  `json:"id"`
	PaymentID     uuid.UUID  `json:"payment_id"`
	OrderID       uuid.UUID  `json:"order_id"`
	Amount        int64      `json:"amount"`
	Currency      string     `json:"currency"`
	Status        string     `json:"status"`
	Source        string     `json:"source"`
	Reason        string     `json:"reason"`
	ProviderRef   *string    `json:"provider_ref,omitempty"`
	FailureReason *string    `json:"failure_reason,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	SettledAt     *time.Time `json:"settled_at,omitempty"`
}

// Dispute is a dispute or chargeback of a payment.
type Dispute struct {
	ID         uuid.UUID  `json:"id"`
	PaymentID  uuid.UUID  `json:"payment_id"`
	BuyerID    *uuid.UUID `json:"buyer_id,omitempty"`
	Provider   string     `json:"provider,omitempty"`
	Amount     int64      `json:"amount"`
	Currency   string     `json:"currency"`
	Reason     string     `json:"reason"`
	Status     string     `json:"status"`
	OpenedBy   string     `json:"opened_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

// Payable is what payments need to know of an order they collect money for.
type Payable struct {
	OrderID       uuid.UUID
	CheckoutID    uuid.UUID
	BuyerID       uuid.UUID
	ShopID        uuid.UUID
	Status        events.OrderStatus
	PaymentMethod events.PaymentMethod
	Provider      *events.Provider
	PaymentStatus events.PaymentStatus
	Total         int64
	Currency      string
	DeliveredAt   *time.Time
}

// orderPort is what payments need of the order context.
type orderPort interface {
	// Payables answers the buyer's orders one payment covers (one order or a checkout);
	// someone else's are not found.
	Payables(ctx context.Context, buyer uuid.UUID, orderID, checkoutID *uuid.UUID) ([]Payable, error)
	// Payable answers one order, whoever its buyer.
	Payable(ctx context.Context, orderID uuid.UUID) (Payable, error)
	// MarkPaidTx marks the orders paid in the capture's transaction.
	MarkPaidTx(ctx context.Context, tx pgx.Tx, orderIDs []uuid.UUID) error
	// RefundedTx records, in the refund's transaction, how much of the order went back in all.
	RefundedTx(ctx context.Context, tx pgx.Tx, orderID uuid.UUID, refunded int64) error
}

// shopPort answers who manages a shop (a shop's owner may see its orders' escrow).
type shopPort interface {
	ShopOwner(ctx context.Context, shopID uuid.UUID) (uuid.UUID, error)
}

// Ports are the other contexts payments reach.
type Ports struct {
	Orders orderPort
	Shops  shopPort
}

// Config holds the payment context's settings.
type Config struct {
	// CommissionBPS is the platform's cut of released escrow, in basis points.
	CommissionBPS int64
	// ReleaseDelay is how long after delivery escrow waits for a return before it is released
	// (the orders' return window).
	ReleaseDelay time.Duration
	// Sandbox mounts the sandbox provider's routes (its webhook, pay page and completion), which
	// exist in development and test only: whoever holds a sandbox client secret may complete it.
	Sandbox bool
	// Location is the marketplace's time zone: the day in a receipt's number, the month a card
	// expires at the end of.
	Location *time.Location
}

func toPayment(p store.PaymentPayment, orders []store.PaymentPaymentOrder) Payment {
	out := Payment{ID: p.ID, BuyerID: p.BuyerID, CheckoutID: p.CheckoutID, Amount: p.Amount, Currency: p.Currency,
		Method: p.Method, Provider: p.Provider, Status: p.Status, CaptureMode: p.CaptureMode, ProviderRef: p.ProviderRef,
		RedirectURL: p.RedirectUrl, ClientSecret: p.ClientSecret, CapturedAmount: p.CapturedAmount,
		RefundedAmount: p.RefundedAmount, FailureReason: p.FailureReason, AuthorizedAt: utc(p.AuthorizedAt),
		CapturedAt: utc(p.CapturedAt), FailedAt: utc(p.FailedAt), CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
		OrderIDs: []uuid.UUID{}, Orders: []PaymentOrder{}}
	for _, o := range orders {
		if o.PaymentID != p.ID {
			continue
		}
		out.OrderIDs = append(out.OrderIDs, o.OrderID)
		out.Orders = append(out.Orders, PaymentOrder{OrderID: o.OrderID, ShopID: o.ShopID, Amount: o.Amount, RefundedAmount: o.RefundedAmount})
	}
	// The client secret completes a payment; once it cannot be completed any more it is not
	// shown again.
	if p.Stage != stagePending && p.Stage != stageAuthorized {
		out.ClientSecret, out.RedirectURL = nil, nil
	}
	return out
}

func toRefund(r store.PaymentRefund) Refund {
	return Refund{ID: r.ID, PaymentID: r.PaymentID, OrderID: r.OrderID, Amount: r.Amount, Currency: r.Currency, Status: r.Status,
		Source: r.Source, Reason: r.Reason, ProviderRef: r.ProviderRef, FailureReason: r.FailureReason,
		CreatedAt: r.CreatedAt.UTC(), SettledAt: utc(r.SettledAt)}
}

func toDispute(d store.PaymentDispute) Dispute {
	return Dispute{ID: d.ID, PaymentID: d.PaymentID, Amount: d.Amount, Currency: d.Currency, Reason: d.Reason, Status: d.Status,
		OpenedBy: d.OpenedBy, CreatedAt: d.CreatedAt.UTC(), ResolvedAt: utc(d.ResolvedAt)}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func ptr[T any](v T) *T { return &v }
