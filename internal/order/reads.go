package order

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/order/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Get returns an order to its buyer, its shop's owner or an admin; to anyone else it does not
// exist.
func (s *Service) Get(ctx context.Context, p auth.Principal, id uuid.UUID) (Order, error) {
	row, err := s.visible(ctx, p, id)
	if err != nil {
		return Order{}, err
	}
	return s.load(ctx, row)
}

// visible fetches an order the principal may see.
func (s *Service) visible(ctx context.Context, p auth.Principal, id uuid.UUID) (store.OrdersOrder, error) {
	row, err := s.q.GetOrder(ctx, id)
	if err != nil {
		return row, pgdb.NotFound(err, "order")
	}
	owner, err := s.ownerOf(ctx, row.ShopID)
	if err != nil {
		return row, err
	}
	if len(rolesOf(Actor{Principal: &p}, row, owner)) == 0 {
		return row, apperr.NotFoundf("order")
	}
	return row, nil
}

// ownOrder fetches an order of which the principal is the buyer.
func (s *Service) ownOrder(ctx context.Context, p auth.Principal, id uuid.UUID) (store.OrdersOrder, error) {
	row, err := s.q.GetOrder(ctx, id)
	if pgdb.IsNoRows(err) || (err == nil && row.BuyerID != p.UserID) {
		return row, apperr.NotFoundf("order")
	}
	return row, err
}

func (s *Service) load(ctx context.Context, row store.OrdersOrder) (Order, error) {
	items, err := s.q.Items(ctx, row.ID)
	if err != nil {
		return Order{}, err
	}
	return toOrder(row, items)
}

// ListFilter narrows a list of orders.
type ListFilter struct {
	Status       *events.OrderStatus
	FinishedOnly bool
	ReturnsOnly  bool
}

// BuyerOrders pages through the buyer's orders, newest first.
func (s *Service) BuyerOrders(ctx context.Context, buyer uuid.UUID, f ListFilter, page httpx.Page) (httpx.List[Order], error) {
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Order]{}, err
	}
	rows, err := s.q.BuyerOrders(ctx, store.BuyerOrdersParams{BuyerID: buyer, Status: (*string)(f.Status), FinishedOnly: f.FinishedOnly,
		ReturnsOnly: f.ReturnsOnly, HasCursor: has, BeforeCreated: cur.At, BeforeID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Order]{}, err
	}
	return s.page(ctx, rows, page.Limit)
}

// ShopOrders pages through a shop's orders for its owner or an admin.
func (s *Service) ShopOrders(ctx context.Context, p auth.Principal, shopID uuid.UUID, f ListFilter, page httpx.Page) (httpx.List[Order], error) {
	if _, err := s.authorizeShop(ctx, p, shopID, "see its orders"); err != nil {
		return httpx.List[Order]{}, err
	}
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Order]{}, err
	}
	rows, err := s.q.ShopOrders(ctx, store.ShopOrdersParams{ShopID: shopID, Status: (*string)(f.Status), FinishedOnly: f.FinishedOnly,
		HasCursor: has, BeforeCreated: cur.At, BeforeID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Order]{}, err
	}
	return s.page(ctx, rows, page.Limit)
}

// authorizeShop lets a shop's owner and admins through to do action ("see its orders"); a
// missing shop is not found, someone else's is forbidden, the refusal naming the action.
func (s *Service) authorizeShop(ctx context.Context, p auth.Principal, shopID uuid.UUID, action string) (uuid.UUID, error) {
	owner, err := s.promos.ShopOwner(ctx, shopID)
	if err != nil {
		return uuid.Nil, err
	}
	if owner != p.UserID && !p.IsAdmin() {
		return uuid.Nil, apperr.New(apperr.Forbidden, "only the shop's owner may %s", action)
	}
	return owner, nil
}

// ShopMove moves an order of the shop, for the shop's routes: an order of another shop is not
// found there.
func (s *Service) ShopMove(ctx context.Context, p auth.Principal, shopID, orderID uuid.UUID, to events.OrderStatus, reason string) (Order, error) {
	if _, err := s.authorizeShop(ctx, p, shopID, "move its orders"); err != nil {
		return Order{}, err
	}
	row, err := s.q.GetOrder(ctx, orderID)
	if pgdb.IsNoRows(err) || (err == nil && row.ShopID != shopID) {
		return Order{}, apperr.NotFoundf("order")
	}
	if err != nil {
		return Order{}, err
	}
	return s.Move(ctx, Actor{Principal: &p}, orderID, to, reason)
}

// RequestReturn asks, as the order's buyer, to return a delivered order. Only the buyer may:
// anyone else, its shop's owner included, is told the order does not exist.
func (s *Service) RequestReturn(ctx context.Context, p auth.Principal, id uuid.UUID, reason string) (Order, error) {
	if _, err := s.ownOrder(ctx, p, id); err != nil {
		return Order{}, err
	}
	return s.Move(ctx, Actor{Principal: &p}, id, events.OrderReturnRequested, reason)
}

// FulfillInput is the shop handing an order to the carrier.
type FulfillInput struct {
	TrackingNumber string `json:"tracking_number" validate:"max=64"`
	Carrier        string `json:"carrier" validate:"max=64"`
}

// Fulfill confirms a pending order if need be and ships it, with its tracking number, in one
// transaction.
func (s *Service) Fulfill(ctx context.Context, p auth.Principal, shopID, orderID uuid.UUID, in FulfillInput) (Order, error) {
	owner, err := s.authorizeShop(ctx, p, shopID, "fulfil its orders")
	if err != nil {
		return Order{}, err
	}
	var row store.OrdersOrder
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		cur, err := q.LockOrder(ctx, orderID)
		if pgdb.IsNoRows(err) || (err == nil && cur.ShopID != shopID) {
			return apperr.NotFoundf("order")
		}
		if err != nil {
			return err
		}
		a := Actor{Principal: &p}
		if cur.Status == events.OrderPending {
			if _, err := s.moveTx(ctx, tx, a, orderID, events.OrderConfirmed, "fulfilled", owner); err != nil {
				return err
			}
		}
		if err := q.SetShipment(ctx, store.SetShipmentParams{ID: orderID, TrackingNumber: nonEmpty(in.TrackingNumber),
			Carrier: nonEmpty(in.Carrier)}); err != nil {
			return err
		}
		row, err = s.moveTx(ctx, tx, a, orderID, events.OrderShipped, "handed to the carrier", owner)
		return err
	})
	if err != nil {
		return Order{}, err
	}
	return s.load(ctx, row)
}

func (s *Service) page(ctx context.Context, rows []store.OrdersOrder, limit int) (httpx.List[Order], error) {
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	items, err := s.q.ItemsOf(ctx, ids)
	if err != nil {
		return httpx.List[Order]{}, err
	}
	byOrder := map[uuid.UUID][]store.OrdersItem{}
	for _, it := range items {
		byOrder[it.OrderID] = append(byOrder[it.OrderID], it)
	}
	out := make([]Order, len(rows))
	for i, r := range rows {
		if out[i], err = toOrder(r, byOrder[r.ID]); err != nil {
			return httpx.List[Order]{}, err
		}
	}
	return httpx.Paginate(out, limit, func(o Order) any { return httpx.Keyset{At: o.CreatedAt, ID: o.ID} }), nil
}

// History returns an order's status moves, oldest first.
func (s *Service) History(ctx context.Context, p auth.Principal, id uuid.UUID) ([]Move, error) {
	if _, err := s.visible(ctx, p, id); err != nil {
		return nil, err
	}
	rows, err := s.q.History(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]Move, len(rows))
	for i, r := range rows {
		out[i] = Move{From: r.FromStatus, To: r.ToStatus, ActorID: r.ActorID, ActorRole: r.ActorRole, Reason: r.Reason, At: r.CreatedAt.UTC()}
	}
	return out, nil
}

// TimelineEntry is one thing that happened to an order.
type TimelineEntry struct {
	Kind string `json:"kind"` // status or payment
	// Status is the order's status a move reached, or the payment's "paid".
	Status string           `json:"status"`
	Title  string           `json:"title"`
	Detail string           `json:"detail,omitempty"`
	Actor  events.ActorRole `json:"actor,omitempty"`
	At     time.Time        `json:"at"`
}

var titles = map[events.OrderStatus]string{
	events.OrderPending: "Order placed", events.OrderConfirmed: "Confirmed by the shop", events.OrderShipped: "Handed to the carrier",
	events.OrderDelivered: "Delivered", events.OrderCancelled: "Cancelled", events.OrderReturnRequested: "Return requested", events.OrderReturned: "Returned", events.OrderRefunded: "Refunded",
}

// Timeline tells an order's story for people: its moves and its payment, in time order.
func (s *Service) Timeline(ctx context.Context, p auth.Principal, id uuid.UUID) ([]TimelineEntry, error) {
	row, err := s.visible(ctx, p, id)
	if err != nil {
		return nil, err
	}
	moves, err := s.History(ctx, p, id)
	if err != nil {
		return nil, err
	}
	var out []TimelineEntry
	for _, m := range moves {
		out = append(out, TimelineEntry{Kind: "status", Status: string(m.To), Title: titles[m.To], Detail: m.Reason, Actor: m.ActorRole, At: m.At})
	}
	if row.PaidAt != nil {
		paid := TimelineEntry{Kind: "payment", Status: string(events.PaymentStatusPaid), Title: "Payment received", At: row.PaidAt.UTC()}
		i := 0
		for i < len(out) && !out[i].At.After(paid.At) {
			i++
		}
		out = append(out[:i], append([]TimelineEntry{paid}, out[i:]...)...)
	}
	return out, nil
}

// Tracking is where an order is on its way.
type Tracking struct {
	OrderID        uuid.UUID             `json:"order_id"`
	Status         events.OrderStatus    `json:"status"`
	Carrier        *string               `json:"carrier"`
	TrackingNumber *string               `json:"tracking_number"`
	ShippingMethod events.ShippingMethod `json:"shipping_method"`
	ShippedAt      *time.Time            `json:"shipped_at"`
	DeliveredAt    *time.Time            `json:"delivered_at"`
	Moves          []Move                `json:"moves"`
}

// Track answers an order's delivery progress.
func (s *Service) Track(ctx context.Context, p auth.Principal, id uuid.UUID) (Tracking, error) {
	row, err := s.visible(ctx, p, id)
	if err != nil {
		return Tracking{}, err
	}
	moves, err := s.History(ctx, p, id)
	if err != nil {
		return Tracking{}, err
	}
	return Tracking{OrderID: row.ID, Status: row.Status, Carrier: row.Carrier, TrackingNumber: row.TrackingNumber,
		ShippingMethod: row.ShippingMethod, ShippedAt: utc(row.ShippedAt), DeliveredAt: utc(row.DeliveredAt), Moves: moves}, nil
}

// Calculation is how an order's total was made, recorded at checkout by the cart's computation.
type Calculation struct {
	OrderID      uuid.UUID  `json:"order_id"`
	Lines        []CalcLine `json:"lines"`
	Subtotal     int64      `json:"subtotal"`
	Discount     int64      `json:"discount"`
	VoucherCode  *string    `json:"voucher_code"`
	ShippingFee  int64      `json:"shipping_fee"`
	Tax          int64      `json:"tax"`
	TaxRateBPS   int64      `json:"tax_rate_bps"`
	TaxInclusive bool       `json:"tax_inclusive"`
	Total        int64      `json:"total"`
	Currency     string     `json:"currency"`
}

// CalcLine is one line of a calculation.
type CalcLine struct {
	Title        string `json:"title"`
	UnitPrice    int64  `json:"unit_price"`
	RegularPrice int64  `json:"regular_price"`
	Quantity     int32  `json:"quantity"`
	LineTotal    int64  `json:"line_total"`
	Saving       int64  `json:"saving"`
}

// Calculate answers an order's recorded calculation.
func (s *Service) Calculate(ctx context.Context, p auth.Principal, id uuid.UUID) (Calculation, error) {
	row, err := s.visible(ctx, p, id)
	if err != nil {
		return Calculation{}, err
	}
	items, err := s.q.Items(ctx, id)
	if err != nil {
		return Calculation{}, err
	}
	c := Calculation{OrderID: id, Subtotal: row.Subtotal, Discount: row.Discount, VoucherCode: row.VoucherCode,
		ShippingFee: row.ShippingFee, Tax: row.Tax, TaxRateBPS: row.TaxRateBps, TaxInclusive: row.TaxInclusive,
		Total: row.Total, Currency: row.Currency, Lines: make([]CalcLine, len(items))}
	for i, it := range items {
		c.Lines[i] = CalcLine{Title: it.Title, UnitPrice: it.UnitPrice, RegularPrice: it.RegularPrice, Quantity: it.Quantity,
			LineTotal: it.LineTotal, Saving: (it.RegularPrice - it.UnitPrice) * int64(it.Quantity)}
	}
	return c, nil
}

// Fees is the fee part of an order's calculation.
type Fees struct {
	OrderID        uuid.UUID             `json:"order_id"`
	ShippingFee    int64                 `json:"shipping_fee"`
	ShippingMethod events.ShippingMethod `json:"shipping_method"`
	WeightGrams    int64                 `json:"weight_grams"`
	Tax            int64                 `json:"tax"`
	TaxRateBPS     int64                 `json:"tax_rate_bps"`
	TaxInclusive   bool                  `json:"tax_inclusive"`
	Discount       int64                 `json:"discount"`
	Total          int64                 `json:"total"`
	Currency       string                `json:"currency"`
}

// FeesOf answers an order's fees.
func (s *Service) FeesOf(ctx context.Context, p auth.Principal, id uuid.UUID) (Fees, error) {
	row, err := s.visible(ctx, p, id)
	if err != nil {
		return Fees{}, err
	}
	return Fees{OrderID: id, ShippingFee: row.ShippingFee, ShippingMethod: row.ShippingMethod, WeightGrams: row.WeightGrams,
		Tax: row.Tax, TaxRateBPS: row.TaxRateBps, TaxInclusive: row.TaxInclusive, Discount: row.Discount, Total: row.Total,
		Currency: row.Currency}, nil
}

// Preview is what checking out now would make: one order a shop.
type Preview struct {
	Orders       []PreviewOrder `json:"orders"`
	Subtotal     int64          `json:"subtotal"`
	Discount     int64          `json:"discount"`
	ShippingFee  int64          `json:"shipping_fee"`
	Tax          int64          `json:"tax"`
	TaxInclusive bool           `json:"tax_inclusive"`
	Total        int64          `json:"total"`
	Currency     string         `json:"currency"`
	Purchasable  bool           `json:"purchasable"`
}

// PreviewOrder is one order of a preview.
type PreviewOrder struct {
	ShopID      uuid.UUID  `json:"shop_id"`
	Items       []CalcLine `json:"items"`
	Subtotal    int64      `json:"subtotal"`
	Discount    int64      `json:"discount"`
	VoucherCode string     `json:"voucher_code,omitempty"`
	ShippingFee int64      `json:"shipping_fee"`
	Tax         int64      `json:"tax"`
	Total       int64      `json:"total"`
}

// PreviewInput asks for a preview.
type PreviewInput struct {
	AddressID      *uuid.UUID            `json:"address_id"`
	ShippingMethod events.ShippingMethod `json:"shipping_method" validate:"omitempty,oneof=standard express same_day"`
	Coupon         string                `json:"coupon" validate:"max=32"`
}

// PreviewCheckout prices the cart as checkout would, without ordering.
func (s *Service) PreviewCheckout(ctx context.Context, buyer uuid.UUID, in PreviewInput) (Preview, error) {
	if in.AddressID != nil {
		if _, err := s.addresses.Address(ctx, buyer, *in.AddressID); apperr.Is(err, apperr.NotFound) {
			return Preview{}, apperr.Field("address_id", "is not one of your addresses")
		} else if err != nil {
			return Preview{}, err
		}
	}
	pc, err := s.cart.Price(ctx, buyer, PriceRequest{ShippingMethod: in.ShippingMethod, AddressID: in.AddressID, Coupon: in.Coupon})
	if err != nil {
		return Preview{}, err
	}
	out := Preview{Subtotal: pc.Subtotal, Discount: pc.Discount, ShippingFee: pc.ShippingFee, Tax: pc.Tax, TaxInclusive: pc.TaxInclusive,
		Total: pc.Total, Currency: pc.Currency, Purchasable: pc.Purchasable, Orders: []PreviewOrder{}}
	for _, g := range pc.Shops {
		po := PreviewOrder{ShopID: g.ShopID, Subtotal: g.Subtotal, Discount: g.Discount, VoucherCode: g.VoucherCode,
			ShippingFee: g.ShippingFee, Tax: g.Tax, Total: g.Total}
		for _, l := range g.Lines {
			po.Items = append(po.Items, CalcLine{Title: l.Title, UnitPrice: l.UnitPrice, RegularPrice: l.RegularPrice,
				Quantity: l.Quantity, LineTotal: l.LineTotal, Saving: (l.RegularPrice - l.UnitPrice) * int64(l.Quantity)})
		}
		out.Orders = append(out.Orders, po)
	}
	return out, nil
}

// ReturnStatus is where an order's return stands.
type ReturnStatus struct {
	OrderID        uuid.UUID            `json:"order_id"`
	Status         events.OrderStatus   `json:"status"`
	Reason         *string              `json:"reason"`
	Decision       *string              `json:"decision"`
	RequestedAt    *time.Time           `json:"requested_at"`
	ReturnedAt     *time.Time           `json:"returned_at"`
	RefundedAt     *time.Time           `json:"refunded_at"`
	PaymentStatus  events.PaymentStatus `json:"payment_status"`
	RefundRequests []RefundRequest      `json:"refund_requests"`
}

// RefundRequest is a buyer's request for their money back.
type RefundRequest struct {
	ID        uuid.UUID `json:"id"`
	OrderID   uuid.UUID `json:"order_id"`
	Amount    int64     `json:"amount"`
	Reason    string    `json:"reason"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ReturnOf answers an order's return status.
func (s *Service) ReturnOf(ctx context.Context, p auth.Principal, id uuid.UUID) (ReturnStatus, error) {
	row, err := s.visible(ctx, p, id)
	if err != nil {
		return ReturnStatus{}, err
	}
	if row.ReturnRequestedAt == nil {
		return ReturnStatus{}, apperr.NotFoundf("return")
	}
	reqs, err := s.q.OrderRefundRequests(ctx, id)
	if err != nil {
		return ReturnStatus{}, err
	}
	rs := ReturnStatus{OrderID: id, Status: row.Status, Reason: row.ReturnReason, Decision: row.ReturnDecision,
		RequestedAt: utc(row.ReturnRequestedAt), ReturnedAt: utc(row.ReturnedAt), RefundedAt: utc(row.RefundedAt),
		PaymentStatus: row.PaymentStatus, RefundRequests: make([]RefundRequest, len(reqs))}
	for i, r := range reqs {
		rs.RefundRequests[i] = toRefund(r)
	}
	return rs, nil
}

// RefundInput asks for money back; the amount defaults to the order's total.
type RefundInput struct {
	Reason string `json:"reason" validate:"required,max=1000"`
	Amount *int64 `json:"amount" validate:"omitempty,gt=0"`
}

// RequestRefund records a buyer's refund request on a delivered or returned order that was paid.
func (s *Service) RequestRefund(ctx context.Context, p auth.Principal, id uuid.UUID, in RefundInput) (RefundRequest, error) {
	var req store.OrdersRefundRequest
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		o, err := q.LockOrder(ctx, id)
		if pgdb.IsNoRows(err) || (err == nil && o.BuyerID != p.UserID) {
			return apperr.NotFoundf("order")
		}
		if err != nil {
			return err
		}
		switch {
		case o.Status != events.OrderDelivered && o.Status != events.OrderReturnRequested && o.Status != events.OrderReturned:
			return apperr.New(apperr.Conflict, "a %s order cannot be refunded on request", o.Status)
		case o.PaymentStatus != events.PaymentStatusPaid:
			return apperr.New(apperr.Conflict, "this order has no payment to refund (%s)", o.PaymentStatus)
		}
		amount := o.Total
		if in.Amount != nil {
			amount = *in.Amount
		}
		if amount > o.Total {
			return apperr.Field("amount", "must not exceed the order's total")
		}
		req, err = q.CreateRefundRequest(ctx, store.CreateRefundRequestParams{OrderID: id, BuyerID: p.UserID, Amount: amount,
			Reason: strings.TrimSpace(in.Reason)})
		if pgdb.IsUniqueViolation(err, "refund_requests_open") {
			return apperr.New(apperr.Conflict, "a refund request for this order is already open")
		}
		if err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.OrderRefundRequested{RequestID: req.ID.String(), OrderID: id.String(),
			BuyerID: p.UserID.String(), Amount: amount, Reason: req.Reason, At: req.CreatedAt})
	})
	if err != nil {
		return RefundRequest{}, err
	}
	return toRefund(req), nil
}

// Refunds pages through the buyer's refund requests.
func (s *Service) Refunds(ctx context.Context, buyer uuid.UUID, page httpx.Page) (httpx.List[RefundRequest], error) {
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[RefundRequest]{}, err
	}
	rows, err := s.q.RefundRequests(ctx, store.RefundRequestsParams{BuyerID: buyer, HasCursor: has, BeforeCreated: cur.At,
		BeforeID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[RefundRequest]{}, err
	}
	out := make([]RefundRequest, len(rows))
	for i, r := range rows {
		out[i] = toRefund(r)
	}
	return httpx.Paginate(out, page.Limit, func(r RefundRequest) any { return httpx.Keyset{At: r.CreatedAt, ID: r.ID} }), nil
}

// Summary is a buyer's orders counted and added up.
type Summary struct {
	Orders   int64                               `json:"orders"`
	Amount   int64                               `json:"amount"`
	Currency string                              `json:"currency"`
	ByStatus map[events.OrderStatus]StatusTotals `json:"by_status"`
	ByMonth  []MonthTotals                       `json:"by_month"`
}

// StatusTotals counts and adds up orders of one status.
type StatusTotals struct {
	Orders int64 `json:"orders"`
	Amount int64 `json:"amount"`
}

// MonthTotals counts and adds up one month's orders, by status too. Months are the
// marketplace's (MARKETPLACE_TZ), as its buyers live them, not UTC's.
type MonthTotals struct {
	Month    string                              `json:"month"`
	Orders   int64                               `json:"orders"`
	Amount   int64                               `json:"amount"`
	ByStatus map[events.OrderStatus]StatusTotals `json:"by_status"`
}

// SummaryOf answers the buyer's order summary.
func (s *Service) SummaryOf(ctx context.Context, buyer uuid.UUID) (Summary, error) {
	rows, err := s.q.BuyerSummary(ctx, store.BuyerSummaryParams{BuyerID: buyer, Tz: s.cfg.Location.String()})
	if err != nil {
		return Summary{}, err
	}
	out := Summary{Currency: "VND", ByStatus: map[events.OrderStatus]StatusTotals{}, ByMonth: []MonthTotals{}}
	idx := map[string]int{}
	for _, r := range rows {
		out.Orders += r.Orders
		out.Amount += r.Amount
		st := out.ByStatus[r.Status]
		st.Orders += r.Orders
		st.Amount += r.Amount
		out.ByStatus[r.Status] = st
		i, ok := idx[r.Month]
		if !ok {
			i = len(out.ByMonth)
			idx[r.Month] = i
			out.ByMonth = append(out.ByMonth, MonthTotals{Month: r.Month, ByStatus: map[events.OrderStatus]StatusTotals{}})
		}
		m := &out.ByMonth[i]
		m.Orders += r.Orders
		m.Amount += r.Amount
		m.ByStatus[r.Status] = StatusTotals{Orders: r.Orders, Amount: r.Amount}
	}
	return out, nil
}

// Hide removes a finished order from the buyer's own lists; the order itself stays.
func (s *Service) Hide(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	if _, err := s.ownOrder(ctx, p, id); err != nil {
		return err
	}
	n, err := s.q.HideForBuyer(ctx, store.HideForBuyerParams{ID: id, BuyerID: p.UserID})
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.Conflict, "only a delivered, cancelled or refunded order can be removed from your history")
	}
	return nil
}

func toOrder(r store.OrdersOrder, items []store.OrdersItem) (Order, error) {
	addr, err := addressOf(r)
	if err != nil {
		return Order{}, err
	}
	o := Order{ID: r.ID, CheckoutID: r.CheckoutID, BuyerID: r.BuyerID, ShopID: r.ShopID, Status: r.Status, Subtotal: r.Subtotal,
		ShippingFee: r.ShippingFee, Tax: r.Tax, TaxInclusive: r.TaxInclusive, Discount: r.Discount, Total: r.Total, Currency: r.Currency,
		PaymentMethod: r.PaymentMethod, PaymentProvider: r.PaymentProvider, PaymentStatus: r.PaymentStatus,
		ShippingMethod: r.ShippingMethod, VoucherCode: r.VoucherCode, Address: addr, Note: r.Note,
		TrackingNumber: r.TrackingNumber, Carrier: r.Carrier, ReturnReason: r.ReturnReason, PaidAt: utc(r.PaidAt),
		DeliveredAt: utc(r.DeliveredAt), ReturnRequestedAt: utc(r.ReturnRequestedAt), CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(), Items: make([]Item, len(items))}
	for i, it := range items {
		o.Items[i] = Item{ID: it.ID, ProductID: it.ProductID, VariantID: it.VariantID, Title: it.Title, VariantName: it.VariantName,
			SKU: it.Sku, UnitPrice: it.UnitPrice, RegularPrice: it.RegularPrice, CampaignID: it.CampaignID, Quantity: it.Quantity,
			LineTotal: it.LineTotal}
	}
	return o, nil
}

// addressOf reads the delivery address copied into an order at checkout.
func addressOf(r store.OrdersOrder) (Address, error) {
	var a Address
	if err := json.Unmarshal(r.Address, &a); err != nil {
		return Address{}, fmt.Errorf("order: read address: %w", err)
	}
	return a, nil
}

func toRefund(r store.OrdersRefundRequest) RefundRequest {
	return RefundRequest{ID: r.ID, OrderID: r.OrderID, Amount: r.Amount, Reason: r.Reason, Status: r.Status,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func nonEmpty(s string) *string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return &s
}

// DeliveredItem is one item of a buyer's delivered order: what the review context rests a
// verified review on.
type DeliveredItem struct {
	OrderID, ItemID, ProductID, VariantID, ShopID uuid.UUID
	VariantName                                   string
	DeliveredAt                                   time.Time
}

// DeliveredItems lists a buyer's items of delivered orders (also those returned since: they
// were delivered), optionally of one order and of one product; at most 100, oldest delivery first.
// Another buyer's orders, pending and cancelled ones are never among them.
func (s *Service) DeliveredItems(ctx context.Context, buyer uuid.UUID, orderID, productID *uuid.UUID) ([]DeliveredItem, error) {
	rows, err := s.q.DeliveredItems(ctx, store.DeliveredItemsParams{BuyerID: buyer, OrderID: orderID, ProductID: productID})
	if err != nil {
		return nil, err
	}
	out := make([]DeliveredItem, len(rows))
	for i, r := range rows {
		out[i] = DeliveredItem{OrderID: r.OrderID, ItemID: r.ItemID, ProductID: r.ProductID, VariantID: r.VariantID,
			ShopID: r.ShopID, VariantName: r.VariantName, DeliveredAt: r.DeliveredAt.UTC()}
	}
	return out, nil
}
