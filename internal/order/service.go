package order

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/order/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/idempotency"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Config holds the order context's settings.
type Config struct {
	// PaymentTimeout is how long a prepaid order may stay unpaid before it is cancelled.
	PaymentTimeout time.Duration
	// ReturnWindow is how long after delivery a buyer may ask to return an order.
	ReturnWindow time.Duration
	// Location is the marketplace's time zone, where the months of a summary begin.
	Location *time.Location
}

// Service holds the rules of the order context.
type Service struct {
	pool      *pgxpool.Pool
	q         *store.Queries
	bus       *eventbus.Bus
	jobs      *jobs.Runner
	keys      idempotency.Keys
	cart      cartPort
	stock     stockPort
	promos    promoPort
	addresses addressPort
	cfg       Config
}

// Ports are the other contexts an order reaches.
type Ports struct {
	Cart      cartPort
	Stock     stockPort
	Promos    promoPort
	Addresses addressPort
}

// NewService builds the order service and registers its River workers.
func NewService(pool *pgxpool.Pool, bus *eventbus.Bus, runner *jobs.Runner, ports Ports, cfg Config) *Service {
	s := &Service{pool: pool, q: newStore(pool), bus: bus, jobs: runner, keys: idempotency.New("orders.idempotency_keys"),
		cart: ports.Cart, stock: ports.Stock, promos: ports.Promos, addresses: ports.Addresses, cfg: cfg}
	river.AddWorker(runner.Workers, &autoCancelWorker{svc: s})
	return s
}

// CheckoutInput checks out the whole cart.
type CheckoutInput struct {
	AddressID      uuid.UUID             `json:"address_id" validate:"required"`
	PaymentMethod  events.PaymentMethod  `json:"payment_method" validate:"required,oneof=cod card ewallet bank_transfer"`
	Provider       events.Provider       `json:"provider" validate:"omitempty,oneof=stripe paypal vnpay momo sandbox"`
	ShippingMethod events.ShippingMethod `json:"shipping_method" validate:"omitempty,oneof=standard express same_day"`
	Coupon         string                `json:"coupon" validate:"max=32"`
	Note           string                `json:"note" validate:"max=500"`
}

// CheckoutResult is the answer to a checkout: one order a shop.
type CheckoutResult struct {
	CheckoutID uuid.UUID `json:"checkout_id"`
	Orders     []Order   `json:"orders"`
}

// Checkout turns the buyer's cart into one order per shop in ONE transaction: the cart is
// re-priced with its lines locked, stock and campaign stock are reserved with conditional
// updates, vouchers are redeemed, orders are written with snapshots of items, prices and the
// address, the cart is emptied and order.placed is published. Any failure leaves no trace.
// With an Idempotency-Key, a repeat of the same request replays the first answer.
//
// Whatever the number of lines and shops, it takes six round trips to PostgreSQL: BEGIN with the
// key's claim, the address and the locked cart (one batch); every line's variant and campaign
// offer, the vouchers and the shops (one batch); the vouchers' uses, the orders, their items and
// history, and the emptied cart (one batch); the stock, its movements, the campaign stock and the
// saved answer (one batch, last, so that popular rows stay locked only from there to the
// commit); the jobs and events (one River insert, and one more when it wakes the workers, at
// most once per fetch cooldown); COMMIT. A statement that fails in a batch
// fails the batch and the transaction is rolled back: nothing of a refused checkout commits.
func (s *Service) Checkout(ctx context.Context, buyer uuid.UUID, key string, in CheckoutInput) (int, any, error) {
	if err := checkProvider(&in); err != nil {
		return 0, nil, err
	}
	if in.ShippingMethod == "" {
		in.ShippingMethod = events.ShippingStandard
	}
	var (
		result CheckoutResult
		replay *idempotency.Replay
	)
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			b       pgdb.Batch
			claim   *idempotency.Claimed
			addr    Address
			addrErr error
		)
		if key != "" {
			claim = s.keys.QueueClaim(ctx, &b, buyer, key, idempotency.Hash(in))
		}
		s.addresses.QueueAddress(ctx, &b, buyer, in.AddressID, func(a Address, err error) error {
			addr, addrErr = a, err
			if apperr.Is(err, apperr.NotFound) {
				return nil
			}
			return err
		})
		pricing := s.cart.QueuePrice(ctx, &b, buyer, PriceRequest{ShippingMethod: in.ShippingMethod, AddressID: &in.AddressID,
			Coupon: in.Coupon, Destination: &addr})
		if err := b.Send(ctx, tx); err != nil {
			return err
		}
		if claim != nil {
			var err error
			if replay, err = claim.Replay(ctx, tx); err != nil || replay != nil {
				return err
			}
		}
		if addrErr != nil {
			return apperr.Field("address_id", "is not one of your addresses")
		}
		pricing.QueueReads(ctx, &b)
		if err := b.Send(ctx, tx); err != nil {
			return err
		}
		priced, err := pricing.Priced(ctx)
		if err != nil {
			return err
		}
		if err := checkPriced(priced); err != nil {
			return err
		}
		addrJSON, err := json.Marshal(addr)
		if err != nil {
			return err
		}
		result.CheckoutID = uuid.New()
		placed := s.queueOrders(ctx, &b, buyer, result.CheckoutID, priced, in, addrJSON)
		s.cart.QueueClear(ctx, &b, buyer)
		if err := b.Send(ctx, tx); err != nil {
			return err
		}
		for _, p := range placed {
			sort.Slice(p.items, func(i, j int) bool { // as an order's reads list them
				a, b := p.items[i], p.items[j]
				return a.Title < b.Title || (a.Title == b.Title && a.ID.String() < b.ID.String())
			})
			o, err := toOrder(p.row, p.items)
			if err != nil {
				return err
			}
			result.Orders = append(result.Orders, o)
		}
		// Stock is taken last: a popular variant's row stays locked only from here to the commit,
		// not while the orders are written, so checkouts of the same item queue for less time.
		stock, err := s.queueReserve(ctx, &b, priced)
		if err != nil {
			return err
		}
		if key != "" {
			if err := s.keys.QueueSave(ctx, &b, buyer, key, http.StatusCreated, result); err != nil {
				return err
			}
		}
		if err := b.Send(ctx, tx); err != nil {
			return err
		}
		stockEvents, err := stock.Done(ctx, tx)
		if err != nil {
			return err
		}
		return s.insertJobs(ctx, tx, placed, stockEvents)
	})
	if err != nil {
		return 0, nil, err
	}
	if replay != nil {
		return replay.Status, replay.Body, nil
	}
	return http.StatusCreated, result, nil
}

// checkPriced refuses a cart checkout cannot turn into orders: an empty one, one with a voucher
// that no longer applies (the buyer would pay more than they saw), or one with a line that
// cannot be bought.
func checkPriced(priced PricedCart) error {
	if len(priced.Shops) == 0 {
		return apperr.New(apperr.Conflict, "the cart is empty")
	}
	for _, g := range priced.Shops {
		if g.VoucherError != "" {
			return apperr.FieldCode(g.VoucherErrorCode, "coupon",
				"a voucher in your cart no longer applies ("+g.VoucherError+"); remove it or try again")
		}
	}
	return checkAvailable(priced)
}

func checkProvider(in *CheckoutInput) error {
	if in.PaymentMethod == events.MethodCOD {
		if in.Provider != "" {
			return apperr.Field("provider", "cash on delivery takes no provider")
		}
		return nil
	}
	allowed := in.PaymentMethod.Providers()
	if in.Provider == "" {
		in.Provider = allowed[0]
	}
	if !slices.Contains(allowed, in.Provider) {
		return apperr.Field("provider", fmt.Sprintf("%s is paid through one of: %s", in.PaymentMethod, in.PaymentMethod.ProviderNames()))
	}
	return nil
}

// checkAvailable refuses a cart with a line that cannot be bought for a reason other than stock
// (stock is decided by the reservation itself, which sees concurrent checkouts).
func checkAvailable(priced PricedCart) error {
	for _, g := range priced.Shops {
		for _, l := range g.Lines {
			if !l.Available && !strings.Contains(l.Problem, "stock") {
				return apperr.New(apperr.Conflict, "%s cannot be bought now (%s): remove it from the cart", l.Title, l.Problem)
			}
		}
	}
	return nil
}

// queueReserve queues the taking of the stock of every line, in variant order so that
// concurrent checkouts lock rows in one order and cannot deadlock, and the campaign stock of
// campaign-priced lines.
func (s *Service) queueReserve(ctx context.Context, b *pgdb.Batch, priced PricedCart) (StockReservation, error) {
	var lines []StockLine
	for _, g := range priced.Shops {
		for _, l := range g.Lines {
			lines = append(lines, StockLine{VariantID: l.VariantID, Quantity: l.Quantity})
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].VariantID.String() < lines[j].VariantID.String() })
	r, err := s.stock.QueueReserveStock(ctx, b, lines)
	if err != nil {
		return nil, err
	}
	for _, g := range priced.Shops {
		for _, l := range g.Lines {
			if l.CampaignID != nil {
				s.promos.QueueSellCampaignStock(ctx, b, *l.CampaignID, l.VariantID, l.Quantity)
			}
		}
	}
	return r, nil
}

// placedOrder is an order queued on checkout's writing batch, filled in once it is sent.
type placedOrder struct {
	row     store.OrdersOrder
	items   []store.OrdersItem
	event   events.OrderPlaced
	prepaid bool
}

// queueOrders queues, on b, the writing of the checkout's orders, one a shop: the vouchers'
// uses, then the orders, their items and their first history entries in three statements
// whatever the number of shops and lines. The rows written come back in the same statements,
// matched to their orders by the ids made here.
func (s *Service) queueOrders(ctx context.Context, b *pgdb.Batch, buyer, checkoutID uuid.UUID, priced PricedCart,
	in CheckoutInput, addr []byte) []*placedOrder {
	placed := make([]*placedOrder, len(priced.Shops))
	byID := make(map[uuid.UUID]*placedOrder, len(priced.Shops))
	var (
		orders  store.CreateOrdersParams
		items   store.AddItemsParams
		history = store.AddPlacedHistoryParams{ActorID: buyer, ToStatus: string(events.OrderPending),
			ActorRole: string(events.ActorBuyer), Reason: "order placed"}
	)
	for i, g := range priced.Shops {
		id := uuid.New()
		p := &placedOrder{prepaid: in.PaymentMethod != events.MethodCOD, items: make([]store.OrdersItem, 0, len(g.Lines))}
		placed[i], byID[id] = p, p
		voucherID := uuid.Nil
		if g.VoucherCode != "" {
			vl := make([]VoucherLine, len(g.Lines))
			for i, l := range g.Lines {
				vl[i] = VoucherLine{ProductID: l.ProductID, Amount: l.LineTotal}
			}
			s.promos.QueueRedeemVoucher(ctx, b, g.VoucherID, buyer, id, vl, g.Discount)
			voucherID = g.VoucherID
		}
		orders.Ids = append(orders.Ids, id)
		orders.ShopIds = append(orders.ShopIds, g.ShopID)
		orders.Subtotals = append(orders.Subtotals, g.Subtotal)
		orders.Discounts = append(orders.Discounts, g.Discount)
		orders.ShippingFees = append(orders.ShippingFees, g.ShippingFee)
		orders.Taxes = append(orders.Taxes, g.Tax)
		orders.Totals = append(orders.Totals, g.Total)
		orders.WeightsGrams = append(orders.WeightsGrams, g.WeightGrams)
		orders.VoucherIds = append(orders.VoucherIds, voucherID)
		orders.VoucherCodes = append(orders.VoucherCodes, g.VoucherCode)
		history.OrderIds = append(history.OrderIds, id)
		lines := make([]events.OrderLine, len(g.Lines))
		for i, l := range g.Lines {
			lines[i] = events.OrderLine{ProductID: l.ProductID.String(), VariantID: l.VariantID.String(), Quantity: int(l.Quantity),
				UnitPrice: l.UnitPrice}
			items.Ids = append(items.Ids, uuid.New())
			items.OrderIds = append(items.OrderIds, id)
			items.ProductIds = append(items.ProductIds, l.ProductID)
			items.VariantIds = append(items.VariantIds, l.VariantID)
			items.Titles = append(items.Titles, l.Title)
			items.VariantNames = append(items.VariantNames, l.VariantName)
			items.Skus = append(items.Skus, l.SKU)
			items.UnitPrices = append(items.UnitPrices, l.UnitPrice)
			items.RegularPrices = append(items.RegularPrices, l.RegularPrice)
			campaign := uuid.Nil
			if l.CampaignID != nil {
				campaign = *l.CampaignID
			}
			items.CampaignIds = append(items.CampaignIds, campaign)
			items.Quantities = append(items.Quantities, l.Quantity)
			items.LineTotals = append(items.LineTotals, l.LineTotal)
			items.WeightsGrams = append(items.WeightsGrams, l.WeightGrams)
		}
		p.event = events.OrderPlaced{OrderID: id.String(), CheckoutID: checkoutID.String(), BuyerID: buyer.String(),
			ShopID: g.ShopID.String(), Total: g.Total, Currency: priced.Currency, PaymentMethod: in.PaymentMethod, Lines: lines}
	}
	orders.CheckoutID, orders.BuyerID, orders.PaymentMethod = checkoutID, buyer, string(in.PaymentMethod)
	if in.Provider != "" {
		orders.PaymentProvider = ptr(string(in.Provider))
	}
	orders.ShippingMethod, orders.TaxInclusive, orders.TaxRateBps = string(in.ShippingMethod), priced.TaxInclusive, priced.TaxRateBPS
	orders.Currency, orders.Address, orders.Note = priced.Currency, addr, strings.TrimSpace(in.Note)
	pgdb.Queue(b, func(db pgdb.DBTX) ([]store.OrdersOrder, error) { return newStore(db).CreateOrders(ctx, orders) },
		func(rows []store.OrdersOrder, err error) error {
			if err != nil {
				return fmt.Errorf("order create orders: %w", err)
			}
			for _, row := range rows {
				p := byID[row.ID]
				p.row, p.event.At = row, row.CreatedAt
			}
			return nil
		})
	pgdb.Queue(b, func(db pgdb.DBTX) ([]store.OrdersItem, error) { return newStore(db).AddItems(ctx, items) },
		func(rows []store.OrdersItem, err error) error {
			if err != nil {
				return fmt.Errorf("order add items: %w", err)
			}
			for _, it := range rows {
				p := byID[it.OrderID]
				p.items = append(p.items, it)
			}
			return nil
		})
	pgdb.Queue(b, func(db pgdb.DBTX) (pgconn.CommandTag, error) {
		return pgconn.CommandTag{}, newStore(db).AddPlacedHistory(ctx, history)
	}, func(_ pgconn.CommandTag, err error) error {
		if err != nil {
			return fmt.Errorf("order add history: %w", err)
		}
		return nil
	})
	return placed
}

// insertJobs inserts, in one River call, the checkout's jobs: each prepaid order's auto-cancel,
// and the deliveries of its order.placed events and of the stock's events.
func (s *Service) insertJobs(ctx context.Context, tx pgx.Tx, placed []*placedOrder, stockEvents []eventbus.Event) error {
	evs := make([]eventbus.Event, 0, len(placed)+len(stockEvents))
	var params []river.InsertManyParams
	for _, p := range placed {
		evs = append(evs, p.event)
		if p.prepaid {
			params = append(params, river.InsertManyParams{Args: autoCancelArgs{OrderID: p.row.ID},
				InsertOpts: &river.InsertOpts{ScheduledAt: time.Now().Add(s.cfg.PaymentTimeout)}})
		}
	}
	deliveries, err := s.bus.Jobs(append(evs, stockEvents...)...)
	if err != nil {
		return err
	}
	return s.jobs.InsertManyTx(ctx, tx, append(params, deliveries...))
}

// Actor is who asks for a move.
type Actor struct {
	Principal *auth.Principal  // nil for the system
	Role      events.ActorRole // set for the system and the shipping flow; otherwise worked out
}

// moves lists, for each status, where it may go and who may take it there.
var moves = map[events.OrderStatus]map[events.OrderStatus][]events.ActorRole{
	events.OrderPending:         {events.OrderConfirmed: {events.ActorShop, events.ActorAdmin}, events.OrderCancelled: {events.ActorBuyer, events.ActorShop, events.ActorAdmin, events.ActorSystem}},
	events.OrderConfirmed:       {events.OrderShipped: {events.ActorShop, events.ActorAdmin, events.ActorShipper, events.ActorSystem}, events.OrderCancelled: {events.ActorShop, events.ActorAdmin}},
	events.OrderShipped:         {events.OrderDelivered: {events.ActorShop, events.ActorAdmin, events.ActorShipper, events.ActorSystem}},
	events.OrderDelivered:       {events.OrderReturnRequested: {events.ActorBuyer}},
	events.OrderReturnRequested: {events.OrderReturned: {events.ActorShop, events.ActorAdmin}, events.OrderDelivered: {events.ActorShop, events.ActorAdmin}},
	events.OrderReturned:        {events.OrderRefunded: {events.ActorShop, events.ActorAdmin, events.ActorSystem}},
}

// ownerOf answers who owns the shop of an order (uuid.Nil when the shop is gone). It reads
// through the pool, so callers ask before they open a transaction: a transaction that waits for
// a second connection can starve the pool under load.
func (s *Service) ownerOf(ctx context.Context, shopID uuid.UUID) (uuid.UUID, error) {
	owner, err := s.promos.ShopOwner(ctx, shopID)
	if apperr.Is(err, apperr.NotFound) {
		return uuid.Nil, nil
	}
	return owner, err
}

// rolesOf works out which parts the caller plays in an order whose shop owner is owner.
func rolesOf(a Actor, o store.OrdersOrder, owner uuid.UUID) []events.ActorRole {
	if a.Principal == nil {
		return []events.ActorRole{a.Role}
	}
	p := *a.Principal
	var roles []events.ActorRole
	if p.UserID == o.BuyerID {
		roles = append(roles, events.ActorBuyer)
	}
	if owner != uuid.Nil && owner == p.UserID {
		roles = append(roles, events.ActorShop)
	}
	if p.IsAdmin() {
		roles = append(roles, events.ActorAdmin)
	}
	if a.Role != "" {
		roles = append(roles, a.Role)
	}
	return roles
}

// Move takes an order to status `to`, if the move is allowed from where it is and the actor may
// make it; it records who, when and why, and publishes order.status_changed. Cancelling gives the
// stock, the campaign stock and the voucher back exactly once: the conditional update lets only
// one of concurrent cancellations through.
func (s *Service) Move(ctx context.Context, a Actor, orderID uuid.UUID, to events.OrderStatus, reason string) (Order, error) {
	o, err := s.q.GetOrder(ctx, orderID)
	if err != nil {
		return Order{}, pgdb.NotFound(err, "order")
	}
	owner, err := s.ownerOf(ctx, o.ShopID)
	if err != nil {
		return Order{}, err
	}
	var row store.OrdersOrder
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		row, err = s.moveTx(ctx, tx, a, orderID, to, reason, owner)
		return err
	})
	if err != nil {
		return Order{}, err
	}
	return s.load(ctx, row)
}

func (s *Service) moveTx(ctx context.Context, tx pgx.Tx, a Actor, orderID uuid.UUID, to events.OrderStatus, reason string, owner uuid.UUID) (store.OrdersOrder, error) {
	q := newStore(tx)
	cur, err := q.LockOrder(ctx, orderID)
	if err != nil {
		return cur, pgdb.NotFound(err, "order")
	}
	roles := rolesOf(a, cur, owner)
	if len(roles) == 0 {
		return cur, apperr.NotFoundf("order")
	}
	allowed, known := moves[cur.Status][to]
	if !known {
		return cur, apperr.New(apperr.Conflict, "a %s order cannot become %s", cur.Status, to)
	}
	var role events.ActorRole
	for _, r := range roles {
		if slices.Contains(allowed, r) {
			role = r
			break
		}
	}
	if role == "" {
		return cur, apperr.New(apperr.Forbidden, "you may not make a %s order %s", cur.Status, to)
	}
	if err := s.checkMove(cur, to, role, reason); err != nil {
		return cur, err
	}
	row, err := q.MoveStatus(ctx, store.MoveStatusParams{ID: orderID, FromStatus: cur.Status, ToStatus: to})
	if err != nil {
		return cur, err
	}
	var actorID *uuid.UUID
	if a.Principal != nil {
		actorID = &a.Principal.UserID
	}
	if err := q.AddHistory(ctx, store.AddHistoryParams{OrderID: orderID, FromStatus: &cur.Status, ToStatus: to, ActorID: actorID,
		ActorRole: role, Reason: reason}); err != nil {
		return cur, err
	}
	if row, err = s.afterMove(ctx, tx, q, cur, row, reason); err != nil {
		return cur, err
	}
	return row, s.bus.Publish(ctx, tx, events.OrderStatusChanged{OrderID: orderID.String(), BuyerID: row.BuyerID.String(),
		ShopID: row.ShopID.String(), From: cur.Status, To: to, ActorRole: role, Reason: reason,
		PaymentMethod: row.PaymentMethod, PaymentStatus: row.PaymentStatus, Total: row.Total, At: row.UpdatedAt})
}

// checkMove holds the rules a move needs beyond the table.
func (s *Service) checkMove(cur store.OrdersOrder, to events.OrderStatus, role events.ActorRole, reason string) error {
	switch {
	case to == events.OrderShipped && cur.PaymentMethod != events.MethodCOD && cur.PaymentStatus != events.PaymentStatusPaid:
		return apperr.New(apperr.Conflict, "a prepaid order ships only once it is paid")
	case to == events.OrderReturnRequested && cur.ReturnRequestedAt != nil:
		return apperr.New(apperr.Conflict, "a return was already requested for this order")
	case to == events.OrderReturnRequested && cur.DeliveredAt != nil && time.Since(*cur.DeliveredAt) > s.cfg.ReturnWindow:
		return apperr.New(apperr.Conflict, "the return window of this order has closed")
	case to == events.OrderReturnRequested && strings.TrimSpace(reason) == "":
		return apperr.Field("reason", "say why you return the order")
	case cur.Status == events.OrderReturnRequested && to == events.OrderDelivered && strings.TrimSpace(reason) == "":
		return apperr.Field("reason", "say why the return is refused")
	case to == events.OrderRefunded && role != events.ActorSystem && (cur.PaymentStatus == events.PaymentStatusPaid || cur.PaymentStatus == events.PaymentStatusRefundPending):
		return apperr.New(apperr.Conflict, "a paid order is refunded through its payment; it moves when the refund is done")
	}
	return nil
}

// afterMove does what a move entails: give back what a cancellation frees, mark cash on
// delivery collected, ask for the refunds a cancellation or return makes due.
func (s *Service) afterMove(ctx context.Context, tx pgx.Tx, q *store.Queries, cur, row store.OrdersOrder, reason string) (store.OrdersOrder, error) {
	var err error
	switch row.Status {
	case events.OrderCancelled:
		if err := s.giveBack(ctx, tx, q, row); err != nil {
			return row, err
		}
		if row.PaymentStatus == events.PaymentStatusPaid {
			row, err = s.refundDue(ctx, tx, q, row, "order cancelled: "+reason)
		}
	case events.OrderDelivered:
		if row.PaymentMethod == events.MethodCOD && row.PaymentStatus == events.PaymentStatusUnpaid {
			row, err = q.SetPaymentStatus(ctx, store.SetPaymentStatusParams{ID: row.ID, PaymentStatus: events.PaymentStatusPaid})
		}
		if cur.Status == events.OrderReturnRequested {
			err = q.SetReturn(ctx, store.SetReturnParams{ID: row.ID, Decision: ptr("rejected: " + reason)})
		}
	case events.OrderReturnRequested:
		err = q.SetReturn(ctx, store.SetReturnParams{ID: row.ID, Reason: &reason})
	case events.OrderReturned:
		// Returned goods are not put back on sale by themselves: the shop inspects them and
		// adjusts its inventory.
		if err := q.SetReturn(ctx, store.SetReturnParams{ID: row.ID, Decision: ptr("accepted")}); err != nil {
			return row, err
		}
		if row.PaymentStatus == events.PaymentStatusPaid {
			row, err = s.refundDue(ctx, tx, q, row, "order returned: "+reason)
		}
	case events.OrderRefunded:
		if err := q.SetRefundRequestsStatus(ctx, store.SetRefundRequestsStatusParams{OrderID: row.ID, Status: "refunded"}); err != nil {
			return row, err
		}
		row, err = q.SetPaymentStatus(ctx, store.SetPaymentStatusParams{ID: row.ID, PaymentStatus: events.PaymentStatusRefunded})
	}
	return row, err
}

// giveBack returns a cancelled order's stock, campaign stock and voucher use.
func (s *Service) giveBack(ctx context.Context, tx pgx.Tx, q *store.Queries, o store.OrdersOrder) error {
	items, err := q.Items(ctx, o.ID)
	if err != nil {
		return err
	}
	lines := make([]StockLine, len(items))
	for i, it := range items {
		lines[i] = StockLine{VariantID: it.VariantID, Quantity: it.Quantity}
		if it.CampaignID != nil {
			if err := s.promos.ReturnCampaignStockTx(ctx, tx, *it.CampaignID, it.VariantID, it.Quantity); err != nil {
				return err
			}
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].VariantID.String() < lines[j].VariantID.String() })
	if err := s.stock.ReleaseStockTx(ctx, tx, lines); err != nil {
		return err
	}
	if o.VoucherID != nil {
		return s.promos.ReleaseVoucherTx(ctx, tx, *o.VoucherID, o.ID)
	}
	return nil
}

// refundDue marks a paid order's money as owed back and says so to the payment context.
func (s *Service) refundDue(ctx context.Context, tx pgx.Tx, q *store.Queries, o store.OrdersOrder, reason string) (store.OrdersOrder, error) {
	row, err := q.SetPaymentStatus(ctx, store.SetPaymentStatusParams{ID: o.ID, PaymentStatus: events.PaymentStatusRefundPending})
	if err != nil {
		return o, err
	}
	return row, s.bus.Publish(ctx, tx, events.OrderRefundDue{OrderID: o.ID.String(), BuyerID: o.BuyerID.String(),
		Amount: o.Total, Currency: o.Currency, Reason: reason, At: time.Now().UTC()})
}

// autoCancelArgs cancels a prepaid order still unpaid when its time is up.
type autoCancelArgs struct {
	OrderID uuid.UUID `json:"order_id"`
}

func (autoCancelArgs) Kind() string { return "order_auto_cancel" }

type autoCancelWorker struct {
	river.WorkerDefaults[autoCancelArgs]
	svc *Service
}

// Work is idempotent: a paid, or already moved, order is left alone.
func (w *autoCancelWorker) Work(ctx context.Context, job *river.Job[autoCancelArgs]) error {
	o, err := w.svc.q.GetOrder(ctx, job.Args.OrderID)
	if pgdb.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if o.Status != events.OrderPending || o.PaymentStatus != events.PaymentStatusUnpaid {
		return nil
	}
	_, err = w.svc.Move(ctx, Actor{Role: events.ActorSystem}, o.ID, events.OrderCancelled, "not paid in time")
	if apperr.Is(err, apperr.Conflict) { // paid or moved meanwhile
		return nil
	}
	return err
}

// Payables answers the buyer's orders that one payment covers: one order, or a whole checkout.
// Someone else's orders do not exist for them.
func (s *Service) Payables(ctx context.Context, buyer uuid.UUID, orderID, checkoutID *uuid.UUID) ([]Payable, error) {
	rows, err := s.q.Payables(ctx, store.PayablesParams{OrderID: orderID, CheckoutID: checkoutID, BuyerID: buyer})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, apperr.NotFoundf("order")
	}
	out := make([]Payable, len(rows))
	for i, r := range rows {
		out[i] = toPayable(r)
	}
	return out, nil
}

// Payable answers one order for the payment context, whoever its buyer.
func (s *Service) Payable(ctx context.Context, orderID uuid.UUID) (Payable, error) {
	r, err := s.q.GetOrder(ctx, orderID)
	if err != nil {
		return Payable{}, pgdb.NotFound(err, "order")
	}
	return toPayable(r), nil
}

// Delivery answers what shipping needs to deliver an order: where it goes, how heavy it is, and
// whether it may leave (confirmed, and paid unless cash on delivery).
func (s *Service) Delivery(ctx context.Context, orderID uuid.UUID) (Delivery, error) {
	r, err := s.q.GetOrder(ctx, orderID)
	if err != nil {
		return Delivery{}, pgdb.NotFound(err, "order")
	}
	addr, err := addressOf(r)
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{Payable: toPayable(r), Address: addr, WeightGrams: r.WeightGrams, ShippingMethod: r.ShippingMethod,
		ReadyToShip: r.Status == events.OrderConfirmed && (r.PaymentMethod == events.MethodCOD || r.PaymentStatus == events.PaymentStatusPaid)}, nil
}

// AttachCarrierTx records the platform's delivery of an order, its carrier and tracking
// number, inside the shipping context's transaction that opens the delivery, so that the order
// and its tracking show them from then on. Only a confirmed order without a carrier of the
// shop's own takes one; for any other the answer is a conflict, and the delivery is not
// opened: the order was cancelled or handed to another carrier meanwhile.
func (s *Service) AttachCarrierTx(ctx context.Context, tx pgx.Tx, orderID uuid.UUID, carrier, trackingNumber string) error {
	n, err := newStore(tx).AttachCarrier(ctx, store.AttachCarrierParams{ID: orderID, ReadyStatus: Confirmed,
		Carrier: &carrier, TrackingNumber: &trackingNumber})
	if err != nil {
		return fmt.Errorf("order: attach carrier: %w", err)
	}
	if n == 0 {
		return apperr.New(apperr.Conflict, "the order no longer waits for a carrier")
	}
	return nil
}

// ShipperMoveTx moves an order as the shipping flow sees it happen (picked up: shipped; handed
// over: delivered), recorded with the shipper's, an admin's or the system's role, in the
// shipment's transaction: the two commit together, and the shipment's transaction never waits
// on a second connection. An order there already, or delivered when the move is to shipped (a
// retried step, or the shop marked it), is left as it is.
func (s *Service) ShipperMoveTx(ctx context.Context, tx pgx.Tx, shipper *auth.Principal, orderID uuid.UUID, to events.OrderStatus, reason string) error {
	cur, err := newStore(tx).LockOrder(ctx, orderID)
	if err != nil {
		return pgdb.NotFound(err, "order")
	}
	if cur.Status == to || (to == events.OrderShipped && cur.Status == events.OrderDelivered) {
		return nil
	}
	a := Actor{Role: events.ActorSystem}
	if shipper != nil {
		a = Actor{Principal: shipper, Role: events.ActorShipper}
	}
	// No shop owner (it is asked through the pool): a delivery's move is never the shop's.
	_, err = s.moveTx(ctx, tx, a, orderID, to, reason, uuid.Nil)
	return err
}

func toPayable(r store.OrdersOrder) Payable {
	return Payable{OrderID: r.ID, CheckoutID: r.CheckoutID, BuyerID: r.BuyerID, ShopID: r.ShopID, Status: r.Status,
		PaymentMethod: r.PaymentMethod, Provider: r.PaymentProvider, PaymentStatus: r.PaymentStatus, Total: r.Total,
		Currency: r.Currency, DeliveredAt: utc(r.DeliveredAt)}
}

// MarkPaidTx records, in the payment's transaction, that the orders' payment was captured, so
// that the capture and the orders' payment status commit together. Orders already paid are left
// as they are; a cancelled order's capture is owed back (order.refund_due).
func (s *Service) MarkPaidTx(ctx context.Context, tx pgx.Tx, orderIDs []uuid.UUID) error {
	q := newStore(tx)
	for _, id := range orderIDs {
		o, err := q.LockOrder(ctx, id)
		if pgdb.IsNoRows(err) {
			return apperr.NotFoundf("order")
		}
		if err != nil {
			return err
		}
		if o.PaymentStatus != events.PaymentStatusUnpaid {
			continue
		}
		row, err := q.SetPaymentStatus(ctx, store.SetPaymentStatusParams{ID: id, PaymentStatus: events.PaymentStatusPaid})
		if err != nil {
			return err
		}
		if err := s.bus.Publish(ctx, tx, events.OrderPaid{OrderID: id.String(), BuyerID: row.BuyerID.String(),
			ShopID: row.ShopID.String(), Status: row.Status, Total: row.Total, At: time.Now().UTC()}); err != nil {
			return err
		}
		if row.Status == events.OrderCancelled {
			if _, err := s.refundDue(ctx, tx, q, row, "paid after the order was cancelled"); err != nil {
				return err
			}
		}
	}
	return nil
}

// RefundedTx records, in the refund's transaction, that money went back to the buyer: a full
// refund of a returned order finishes it (returned -> refunded, by the system).
func (s *Service) RefundedTx(ctx context.Context, tx pgx.Tx, orderID uuid.UUID, amount int64) error {
	q := newStore(tx)
	o, err := q.LockOrder(ctx, orderID)
	if pgdb.IsNoRows(err) {
		return apperr.NotFoundf("order")
	}
	if err != nil {
		return err
	}
	status := events.PaymentStatusPartiallyRefunded
	if amount >= o.Total {
		status = events.PaymentStatusRefunded
	}
	if _, err := q.SetPaymentStatus(ctx, store.SetPaymentStatusParams{ID: orderID, PaymentStatus: status}); err != nil {
		return err
	}
	if status == events.PaymentStatusRefunded && o.Status == events.OrderReturned {
		_, err = s.moveTx(ctx, tx, Actor{Role: events.ActorSystem}, orderID, events.OrderRefunded, "refund completed", uuid.Nil)
	}
	return err
}

func ptr[T any](v T) *T { return &v }

// newStore returns the order store on db, the pool or a transaction, its errors naming the query
// that failed (pgdb.Named).
func newStore(db store.DBTX) *store.Queries { return store.New(pgdb.Named("order", db)) }
