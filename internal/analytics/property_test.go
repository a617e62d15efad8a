package analytics

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/settle"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// world is an in-memory order and payment context: the source of truth the property test
// drives, read by the service through its Source port as the real contexts are.
type world struct {
	mu       sync.Mutex
	orders   map[uuid.UUID]*Order
	refunds  []Refund
	releases map[uuid.UUID]Release
}

// atSend runs read when b is sent, in its place among b's statements (after the locks queued
// before it), as the real contexts' queued reads answer: a world read at queue time would hand a
// refresh facts older than those of one that took the locks first.
func atSend(ctx context.Context, b *pgdb.Batch, read func() error) {
	pgdb.Queue(b, func(db pgdb.DBTX) (pgconn.CommandTag, error) { return db.Exec(ctx, "SELECT 1") },
		func(_ pgconn.CommandTag, err error) error {
			if err != nil {
				return err
			}
			return read()
		})
}

func (w *world) QueueOrders(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID, done func([]Order, error) error) {
	atSend(ctx, b, func() error { return done(w.ordersOf(ids), nil) })
}

func (w *world) ordersOf(ids []uuid.UUID) []Order {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []Order
	for _, id := range ids {
		if o, ok := w.orders[id]; ok {
			c := *o
			c.Lines = append([]Line(nil), o.Lines...)
			out = append(out, c)
		}
	}
	return out
}

func (w *world) OrdersAfter(_ context.Context, _ pgx.Tx, after uuid.UUID, limit int) ([]Order, error) {
	w.mu.Lock()
	var ids []uuid.UUID
	for id := range w.orders {
		if string(id[:]) > string(after[:]) {
			ids = append(ids, id)
		}
	}
	w.mu.Unlock()
	sortIDs(ids)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	return w.ordersOf(ids), nil
}

func (w *world) QueueMoney(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID, done func([]Refund, []Release, error) error) {
	atSend(ctx, b, func() error {
		rf, rl := w.moneyOf(ids)
		return done(rf, rl, nil)
	})
}

func (w *world) moneyOf(ids []uuid.UUID) ([]Refund, []Release) {
	w.mu.Lock()
	defer w.mu.Unlock()
	want := map[uuid.UUID]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var rf []Refund
	for _, r := range w.refunds {
		if want[r.OrderID] {
			rf = append(rf, r)
		}
	}
	var rl []Release
	for id, r := range w.releases {
		if want[id] {
			rl = append(rl, r)
		}
	}
	return rf, rl
}

func sortIDs(ids []uuid.UUID) {
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
}

// noViews is a search context nobody has looked at anything in.
type noViews struct{}

func (noViews) DailyViews(context.Context, time.Time, time.Time) ([]DailyView, error) {
	return nil, nil
}

func promised(m events.ShippingMethod) int {
	if m == events.ShippingExpress {
		return 1
	}
	return 2
}

// rollup is one shop-day's expected figures.
type rollup struct {
	placed, pending, confirmed, shipped, delivered, cancelled, returned int32
	confirmCount, shipCount, arrived, onTime, sales                     int32
	confirmSeconds, shipSeconds, gross, discounts, refunds, commission  int64
}

type productKey struct {
	shop, product uuid.UUID
	day           time.Time
}

type productRollup struct {
	units, revenue int64
	orders         int32
}

// recount computes every rollup straight from the world's orders, by the rules in Go.
func (w *world) recount(loc *time.Location) (map[uuid.UUID]map[time.Time]*rollup, map[productKey]*productRollup) {
	day := func(t time.Time) time.Time { return dayOf(t, loc).Time }
	shops := map[uuid.UUID]map[time.Time]*rollup{}
	at := func(shop uuid.UUID, d time.Time) *rollup {
		if shops[shop] == nil {
			shops[shop] = map[time.Time]*rollup{}
		}
		if shops[shop][d] == nil {
			shops[shop][d] = &rollup{}
		}
		return shops[shop][d]
	}
	products := map[productKey]*productRollup{}
	sold := map[uuid.UUID]bool{}
	for _, o := range w.orders {
		r := at(o.ShopID, day(o.PlacedAt))
		r.placed++
		switch o.Status {
		case events.OrderPending:
			r.pending++
		case events.OrderConfirmed:
			r.confirmed++
		case events.OrderShipped:
			r.shipped++
		case events.OrderDelivered:
			r.delivered++
		case events.OrderCancelled:
			r.cancelled++
		default:
			r.returned++
		}
		if o.ConfirmedAt != nil {
			r.confirmCount++
			r.confirmSeconds += int64(o.ConfirmedAt.Sub(o.PlacedAt).Seconds())
		}
		if o.ShippedAt != nil {
			r.shipCount++
			r.shipSeconds += int64(o.ShippedAt.Sub(o.PlacedAt).Seconds())
			if o.DeliveredAt != nil {
				r.arrived++
				if int(day(*o.DeliveredAt).Sub(day(*o.ShippedAt)).Hours()/24) <= promised(o.ShippingMethod) {
					r.onTime++
				}
			}
		}
		var saleAt *time.Time
		switch {
		case o.Status == events.OrderCancelled:
		case o.PaymentMethod == events.MethodCOD:
			saleAt = o.DeliveredAt
		default:
			saleAt = o.PaidAt
		}
		if saleAt != nil {
			sold[o.ID] = true
			s := at(o.ShopID, day(*saleAt))
			s.sales++
			s.gross += o.Subtotal
			s.discounts += o.Discount
			seen := map[uuid.UUID]bool{}
			for _, l := range o.Lines {
				k := productKey{o.ShopID, l.ProductID, day(*saleAt)}
				if products[k] == nil {
					products[k] = &productRollup{}
				}
				products[k].units += int64(l.Quantity)
				products[k].revenue += l.Revenue
				if !seen[l.ProductID] {
					products[k].orders++
					seen[l.ProductID] = true
				}
			}
		}
		if rel, ok := w.releases[o.ID]; ok {
			at(o.ShopID, day(rel.At)).commission += rel.Commission
		}
	}
	for _, f := range w.refunds {
		o := w.orders[f.OrderID]
		if sold[o.ID] {
			at(o.ShopID, day(f.At)).refunds += f.Amount
		}
	}
	return shops, products
}

// TestRollupsEqualARecount drives random orders, payments, confirmations, deliveries,
// cancellations, refunds and escrow releases over several days (across midnight in
// MARKETPLACE_TZ) and three shops; their events reach the service late, twice, out of order and
// at once. Afterwards every shop-day and product-day rollup equals a recount straight from the
// orders, and so does a rebuild. The seed is ANALYTICS_PROPERTY_SEED (default 1).
func TestRollupsEqualARecount(t *testing.T) {
	t.Parallel()
	seed := uint64(1)
	if v := os.Getenv("ANALYTICS_PROPERTY_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err)
		seed = n
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b9))
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testdb.New(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	require.NoError(t, err)
	w := &world{orders: map[uuid.UUID]*Order{}, releases: map[uuid.UUID]Release{}}
	s := NewService(context.Background(), pool, nil, nil, Ports{Source: w, Views: noViews{}, PromisedDays: promised}, Config{Location: loc})

	shops := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	products := map[uuid.UUID][]uuid.UUID{}
	for _, sh := range shops {
		products[sh] = []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	}
	// 22:00 local on the first day, so that the first hours already cross a midnight.
	clock := time.Date(2026, 3, 1, 22, 0, 0, 0, loc).UTC()
	var queue []uuid.UUID // events published, not yet delivered
	publish := func(id uuid.UUID) { queue = append(queue, id) }
	deliver := func(n int) {
		// Deliver up to n queued events, picked at random, some twice, some at once.
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for range n {
			if len(queue) == 0 {
				break
			}
			i := rng.IntN(len(queue))
			id := queue[i]
			if rng.IntN(4) > 0 { // else: delivered now and again later
				queue = append(queue[:i], queue[i+1:]...)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.Refresh(ctx, []uuid.UUID{id})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	pick := func(ok func(*Order) bool) *Order {
		var c []*Order
		for _, o := range w.orders {
			if ok(o) {
				c = append(c, o)
			}
		}
		if len(c) == 0 {
			return nil
		}
		return c[rng.IntN(len(c))]
	}
	refunded := func(id uuid.UUID) int64 {
		var n int64
		for _, r := range w.refunds {
			if r.OrderID == id {
				n += r.Amount
			}
		}
		return n
	}
	now := func() *time.Time { t := clock; return &t }
	for step := 0; step < 160; step++ {
		clock = clock.Add(time.Duration(rng.IntN(180)) * time.Minute)
		w.mu.Lock()
		var touched *Order
		switch op := rng.IntN(8); op {
		case 0, 1: // place
			sh := shops[rng.IntN(len(shops))]
			o := &Order{ID: uuid.New(), ShopID: sh, BuyerID: uuid.New(), Status: events.OrderPending,
				PaymentMethod:  []events.PaymentMethod{events.MethodCOD, events.MethodCard}[rng.IntN(2)],
				ShippingMethod: []events.ShippingMethod{events.ShippingStandard, events.ShippingExpress}[rng.IntN(2)],
				Currency:       "VND", PlacedAt: clock}
			for _, p := range products[sh][:1+rng.IntN(3)] {
				q := int32(1 + rng.IntN(3))
				price := int64(10_000 * (1 + rng.IntN(20)))
				o.Lines = append(o.Lines, Line{ProductID: p, Title: "Sản phẩm", Quantity: q, Revenue: price * int64(q)})
				o.Subtotal += price * int64(q)
			}
			o.Discount = int64(rng.IntN(3)) * 5_000
			o.Total = o.Subtotal - o.Discount + 15_000
			w.orders[o.ID] = o
			touched = o
		case 2: // pay by card
			if o := pick(func(o *Order) bool {
				return o.PaymentMethod == events.MethodCard && o.PaidAt == nil && o.Status == events.OrderPending
			}); o != nil {
				o.PaidAt = now()
				touched = o
			}
		case 3: // confirm, ship, deliver
			if o := pick(func(o *Order) bool {
				return o.Status == events.OrderPending || o.Status == events.OrderConfirmed || o.Status == events.OrderShipped
			}); o != nil {
				switch o.Status {
				case events.OrderPending:
					o.Status, o.ConfirmedAt = events.OrderConfirmed, now()
				case events.OrderConfirmed:
					o.Status, o.ShippedAt = events.OrderShipped, now()
				default:
					o.Status, o.DeliveredAt = events.OrderDelivered, now()
					if o.PaymentMethod == events.MethodCOD {
						o.PaidAt = now()
					}
				}
				touched = o
			}
		case 4: // cancel, refunding what was paid
			if o := pick(func(o *Order) bool {
				return o.Status == events.OrderPending || o.Status == events.OrderConfirmed
			}); o != nil {
				o.Status, o.CancelledAt = events.OrderCancelled, now()
				if o.PaidAt != nil {
					w.refunds = append(w.refunds, Refund{ID: uuid.New(), OrderID: o.ID, Amount: o.Total, At: clock})
				}
				touched = o
			}
		case 5: // a return, refunded in part or in full
			if o := pick(func(o *Order) bool {
				return (o.Status == events.OrderDelivered || o.Status == events.OrderReturned) && refunded(o.ID) < o.Total
			}); o != nil {
				amount := 1 + rng.Int64N(o.Total-refunded(o.ID))
				w.refunds = append(w.refunds, Refund{ID: uuid.New(), OrderID: o.ID, Amount: amount, At: clock})
				o.Status, o.ReturnedAt = events.OrderReturned, now()
				if refunded(o.ID) == o.Total {
					o.Status = events.OrderRefunded
				}
				touched = o
			}
		case 6: // escrow released
			if o := pick(func(o *Order) bool {
				_, done := w.releases[o.ID]
				return o.Status == events.OrderDelivered && !done
			}); o != nil {
				w.releases[o.ID] = Release{OrderID: o.ID, Commission: o.Total / 20, At: clock}
				touched = o
			}
		case 7: // a quiet while: events catch up
		}
		w.mu.Unlock()
		if touched != nil {
			publish(touched.ID)
		}
		deliver(rng.IntN(3))
	}
	for len(queue) > 0 {
		deliver(len(queue))
	}
	// A refresh that found its shop held left its days to the holder, or to the sweep, which
	// River runs every few seconds and this test (without River) runs once.
	require.NoError(t, s.RecomputeDirty(ctx))
	dirty, err := s.q.DirtyShops(ctx)
	require.NoError(t, err)
	require.Empty(t, dirty, "the sweep leaves nothing marked")

	check := func(t *testing.T) {
		wantShops, wantProducts := w.recount(loc)
		rows, err := s.q.AllShopDays(ctx, shops)
		require.NoError(t, err)
		got := map[uuid.UUID]map[time.Time]*rollup{}
		for _, r := range rows {
			if got[r.ShopID] == nil {
				got[r.ShopID] = map[time.Time]*rollup{}
			}
			got[r.ShopID][r.Day.Time] = &rollup{placed: r.Placed, pending: r.Pending, confirmed: r.Confirmed, shipped: r.Shipped,
				delivered: r.Delivered, cancelled: r.Cancelled, returned: r.Returned, confirmCount: r.ConfirmCount,
				shipCount: r.ShipCount, arrived: r.Arrived, onTime: r.OnTime, sales: r.Sales, confirmSeconds: r.ConfirmSeconds,
				shipSeconds: r.ShipSeconds, gross: r.Gross, discounts: r.Discounts, refunds: r.Refunds, commission: r.Commission}
			require.NotNil(t, r.Net)
			require.Equal(t, r.Gross-r.Discounts-r.Refunds-r.Commission, *r.Net)
		}
		require.Equal(t, wantShops, got, "seed %d: shop-day rollups differ from a recount", seed)
		prows, err := s.q.AllProductDays(ctx, shops)
		require.NoError(t, err)
		gotProducts := map[productKey]*productRollup{}
		for _, r := range prows {
			gotProducts[productKey{r.ShopID, r.ProductID, r.Day.Time}] = &productRollup{units: r.Units, revenue: r.Revenue, orders: r.Orders}
		}
		require.Equal(t, wantProducts, gotProducts, "seed %d: product-day rollups differ from a recount", seed)
	}
	t.Run("events", check)
	t.Run("rebuild", func(t *testing.T) {
		n, err := s.Rebuild(ctx, nil)
		require.NoError(t, err)
		require.Equal(t, len(w.orders), n)
		check(t)
	})
}

// oneShop is a service over a fresh database whose source holds the orders of one shop.
type oneShop struct {
	s    *Service
	pool *pgxpool.Pool
	shop uuid.UUID
	w    *world
}

func newOneShop(t *testing.T) *oneShop { return newOneShopTraced(t, nil) }

// newOneShopTraced is newOneShop whose pool's statements go through tracer (when not nil).
func newOneShopTraced(t *testing.T, tracer pgx.QueryTracer) *oneShop {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testdb.New(t))
	require.NoError(t, err)
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	w := &world{orders: map[uuid.UUID]*Order{}, releases: map[uuid.UUID]Release{}}
	s := NewService(context.Background(), pool, nil, nil, Ports{Source: w, Views: noViews{}, PromisedDays: promised}, Config{Location: time.UTC})
	return &oneShop{s: s, pool: pool, shop: uuid.New(), w: w}
}

// place adds a cash-on-delivery order of the shop, placed now, to the source.
func (o *oneShop) place() uuid.UUID {
	ord := &Order{ID: uuid.New(), ShopID: o.shop, BuyerID: uuid.New(), Status: events.OrderPending, PaymentMethod: events.MethodCOD,
		ShippingMethod: events.ShippingStandard, Currency: "VND", PlacedAt: time.Now().UTC(), Subtotal: 10_000,
		Lines: []Line{{ProductID: uuid.New(), Title: "Áo", Quantity: 1, Revenue: 10_000}}}
	o.w.mu.Lock()
	o.w.orders[ord.ID] = ord
	o.w.mu.Unlock()
	return ord.ID
}

// placed is the shop's placed orders in its rollups.
func (o *oneShop) placed(t *testing.T) int64 {
	t.Helper()
	rows, err := o.s.q.AllShopDays(context.Background(), []uuid.UUID{o.shop})
	require.NoError(t, err)
	var n int64
	for _, r := range rows {
		n += int64(r.Placed)
	}
	return n
}

func (o *oneShop) dirty(t *testing.T) bool {
	t.Helper()
	dirty, err := o.s.q.ShopDirty(context.Background(), o.shop)
	require.NoError(t, err)
	return dirty
}

// TestRefreshLeavesAHeldShopToItsHolder: a refresh that finds its shop's lock taken writes the
// order's facts and marks its day without waiting, and the next recompute of the shop (its
// holder's, or the sweep's) counts it; one that finds the shop free counts it at once.
func TestRefreshLeavesAHeldShopToItsHolder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newOneShop(t)

	require.NoError(t, o.s.Refresh(ctx, []uuid.UUID{o.place()}))
	assert.EqualValues(t, 1, o.placed(t), "a free shop's day is recomputed at once")

	holder, err := o.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = holder.Rollback(ctx) }()
	_, err = holder.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "analytics.shop:"+o.shop.String())
	require.NoError(t, err)
	require.NoError(t, o.s.Refresh(ctx, []uuid.UUID{o.place()}), "a held shop does not make the refresh wait")
	assert.EqualValues(t, 1, o.placed(t), "the day is the holder's to recompute")
	assert.True(t, o.dirty(t))

	require.NoError(t, holder.Rollback(ctx))
	require.NoError(t, o.s.RecomputeDirty(ctx))
	assert.EqualValues(t, 2, o.placed(t), "the sweep counts it")
}

// TestDeliveriesOfAMomentAreSummedInOnePass: an event's delivery records its order's facts and
// marks the day, and leaves the sum to the recomputer; one pass of it sums the day once for
// every order marked meanwhile, and the next finds nothing to do.
func TestDeliveriesOfAMomentAreSummedInOnePass(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newOneShop(t)
	o.s.dirty = settle.New("test", time.Hour, o.s.recomputePass, nil) // never run: the test runs the passes

	for range 3 {
		require.NoError(t, o.s.refreshLater(ctx, []uuid.UUID{o.place()}))
	}
	assert.Zero(t, o.placed(t), "a delivery does not sum the day")
	assert.True(t, o.dirty(t), "it marks it")

	found, err := o.s.recomputePass(ctx)
	require.NoError(t, err)
	assert.True(t, found)
	assert.EqualValues(t, 3, o.placed(t), "one pass sums every order marked")
	assert.False(t, o.dirty(t))

	found, err = o.s.recomputePass(ctx)
	require.NoError(t, err)
	assert.False(t, found, "the next pass finds nothing: the recomputer rests")
}

// sums counts the statements that sum a shop's days (ComputeShopDays).
type sums struct{ n atomic.Int64 }

func (c *sums) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.count(d.SQL)
	return ctx
}

func (c *sums) count(sql string) {
	if strings.Contains(sql, "name: ComputeShopDays ") {
		c.n.Add(1)
	}
}

func (c *sums) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *sums) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (c *sums) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	c.count(d.SQL)
}

func (c *sums) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TestAPassSumsAShopOnceWhileOrdersKeepComing: orders that keep coming while a pass sums their
// shop's day wait for the next pass, dirtyWait later, instead of making this one sum the whole
// day again as soon as it ends, however fast they come; none is lost.
func TestAPassSumsAShopOnceWhileOrdersKeepComing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var c sums
	o := newOneShopTraced(t, &c)
	o.s.dirty = settle.New("test", time.Hour, o.s.recomputePass, nil) // never run: the test runs the passes
	require.NoError(t, o.s.Record(ctx, o.place()))

	var placed atomic.Int64
	placed.Add(1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if !assert.NoError(t, o.s.Record(ctx, o.place())) {
				return
			}
			placed.Add(1)
		}
	})
	for placed.Load() < 5 { // orders are coming
		time.Sleep(time.Millisecond)
	}
	found, err := o.s.recomputePass(ctx)
	require.NoError(t, err)
	assert.True(t, found)
	for n := placed.Load(); placed.Load() < n+3; { // and kept coming after the pass
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	assert.EqualValues(t, 1, c.n.Load(), "the pass summed the shop's day once")
	assert.True(t, o.dirty(t), "what came during and after it is marked for the next pass")

	found, err = o.s.recomputePass(ctx)
	require.NoError(t, err)
	assert.True(t, found)
	assert.EqualValues(t, 2, c.n.Load())
	assert.Equal(t, placed.Load(), o.placed(t), "every order is counted")
	found, err = o.s.recomputePass(ctx)
	require.NoError(t, err)
	assert.False(t, found, "then the recomputer rests")
}

// TestAnOrdersUnknownsAreWrittenNULL: the facts of a refresh's orders go in one statement whose
// arrays cannot hold NULLs, so an order's unknown times and on-time are sent as zeros; they are
// written NULL, and known ones (on time or late: false is not NULL) as they are.
func TestAnOrdersUnknownsAreWrittenNULL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newOneShop(t)
	at := time.Now().UTC().Truncate(time.Microsecond)
	hours := func(h int) *time.Time { return ptr(at.Add(time.Duration(h) * time.Hour)) }
	placeAs := func(change func(*Order)) uuid.UUID {
		id := o.place()
		o.w.mu.Lock()
		change(o.w.orders[id])
		o.w.mu.Unlock()
		return id
	}
	placed := o.place()
	returned := placeAs(func(ord *Order) {
		ord.Status, ord.ReturnedAt = events.OrderReturned, hours(4)
		ord.ConfirmedAt, ord.ShippedAt, ord.DeliveredAt = hours(1), hours(2), hours(3)
	})
	late := placeAs(func(ord *Order) {
		ord.Status, ord.ConfirmedAt, ord.ShippedAt, ord.DeliveredAt = events.OrderDelivered, hours(1), hours(2), hours(200)
	})
	cancelled := placeAs(func(ord *Order) { ord.Status, ord.CancelledAt = events.OrderCancelled, hours(1) })
	require.NoError(t, o.s.Refresh(ctx, []uuid.UUID{placed, returned, late, cancelled}))

	type facts struct {
		Sale, Confirmed, Shipped, Delivered, Cancelled, Returned *time.Time
		OnTime                                                   *bool
	}
	read := func(id uuid.UUID) facts {
		var f facts
		require.NoError(t, o.pool.QueryRow(ctx, `SELECT sale_at, confirmed_at, shipped_at, delivered_at, cancelled_at, returned_at,
			on_time FROM analytics.orders WHERE order_id = $1`, id).Scan(&f.Sale, &f.Confirmed, &f.Shipped, &f.Delivered,
			&f.Cancelled, &f.Returned, &f.OnTime))
		for _, p := range []**time.Time{&f.Sale, &f.Confirmed, &f.Shipped, &f.Delivered, &f.Cancelled, &f.Returned} {
			if *p != nil {
				*p = ptr((*p).UTC())
			}
		}
		return f
	}
	assert.Equal(t, facts{}, read(placed), "a placed order knows none of them")
	assert.Equal(t, facts{Sale: hours(3), Confirmed: hours(1), Shipped: hours(2), Delivered: hours(3), Returned: hours(4),
		OnTime: ptr(true)}, read(returned), "a returned order, delivered on time, its sale when delivered")
	assert.Equal(t, facts{Sale: hours(200), Confirmed: hours(1), Shipped: hours(2), Delivered: hours(200), OnTime: ptr(false)},
		read(late), "a late delivery")
	assert.Equal(t, facts{Cancelled: hours(1)}, read(cancelled), "a cancelled order is no sale")
}

// TestLockKeysLocksInTheArraysOrder: LockKeys takes its keys one after another in the array's
// order (queueLocks sorts it), so that two refreshes of some of the same orders queue for the
// first they share rather than each hold a key the other waits for: blocked on its first key,
// it holds none of the others.
func TestLockKeysLocksInTheArraysOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	o := newOneShop(t)
	first, second := "test.order:"+uuid.NewString(), "test.order:"+uuid.NewString()
	holder, err := o.pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = holder.Rollback(ctx) }()
	require.NoError(t, newStore(holder).Lock(ctx, first))

	done := make(chan error, 1)
	go func() {
		done <- pgdb.WithTx(ctx, o.pool, func(tx pgx.Tx) error { return newStore(tx).LockKeys(ctx, []string{first, second}) })
	}()
	require.Eventually(t, func() bool {
		var waiting bool
		require.NoError(t, o.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database
			WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted)`).Scan(&waiting))
		return waiting
	}, 10*time.Second, 10*time.Millisecond, "LockKeys waits for the first key")
	var free bool
	require.NoError(t, pgdb.WithTx(ctx, o.pool, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`, second).Scan(&free)
	}))
	assert.True(t, free, "waiting for the first key, it holds not the second")
	require.NoError(t, holder.Rollback(ctx))
	require.NoError(t, <-done, "then it takes both")
}
