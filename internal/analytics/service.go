package analytics

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/analytics/internal/store"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/settle"
)

// Service holds the rules of the analytics context.
type Service struct {
	pool *pgxpool.Pool
	q    *store.Queries
	// readQ runs the reads of figures and reports: the pool, or a read replica (UseReads).
	readQ *store.Queries
	bus   *eventbus.Bus
	jobs  *jobs.Runner
	ports Ports
	cfg   Config
	// renders holds a slot for each export this process is writing (Config.ExportWorkers).
	renders chan struct{}
	// dirty recomputes the shop-days that event deliveries marked (recomputePass) a moment
	// after the first of them; nil without a bus.
	dirty *settle.Loop
}

// UseReads runs the reads of figures and reports on db, a pgdb.Reads over a replica: the
// rollups are written by jobs a moment after the orders anyway, so a little more lag changes
// nothing a reader can tell. Exports (their status, their files) stay on the primary, so that
// the one who asked sees their export at once.
func (s *Service) UseReads(db pgdb.DBTX) { s.readQ = newStore(db) }

// NewService builds the analytics context: it subscribes to the events that change an order's
// figures, starts the recomputer of the days they mark (until ctx ends) and registers the
// periodic copy of the search context's view counts. bus and runner may be nil (a service that
// only reads and rebuilds).
func NewService(ctx context.Context, pool *pgxpool.Pool, bus *eventbus.Bus, runner *jobs.Runner, ports Ports, cfg Config) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.MaxRange <= 0 {
		cfg.MaxRange = 366
	}
	if cfg.ViewsEvery <= 0 {
		cfg.ViewsEvery = 15 * time.Minute
	}
	if ports.PromisedDays == nil {
		ports.PromisedDays = func(events.ShippingMethod) int { return 5 }
	}
	if cfg.InlineRows <= 0 {
		cfg.InlineRows = 10_000
	}
	if cfg.ExportTTL <= 0 {
		cfg.ExportTTL = 24 * time.Hour
	}
	if cfg.ExportsPerUser <= 0 {
		cfg.ExportsPerUser = 2
	}
	if cfg.ExportWorkers <= 0 {
		cfg.ExportWorkers = 2
	}
	s := &Service{pool: pool, q: newStore(pool), bus: bus, jobs: runner, ports: ports, cfg: cfg,
		renders: make(chan struct{}, cfg.ExportWorkers)}
	s.readQ = s.q
	if bus != nil {
		s.dirty = settle.New("analytics.dirty_days", dirtyWait, s.recomputePass, nil)
		go s.dirty.Run(ctx)
		// The read model is made again from the orders whenever asked: its writes need not wait
		// for the disk (a crash of PostgreSQL that takes some back leaves their jobs to run again).
		bus.CommitAsync("analytics.")
		// A checkout's orders, one a shop, are refreshed together: one transaction.
		bus.SubscribeMany("analytics.order_placed", func(ctx context.Context, envs []eventbus.Envelope) error {
			ids := make([]string, 0, len(envs))
			for _, env := range envs {
				ev, err := eventbus.Decode[events.OrderPlaced](env)
				if err != nil {
					return river.JobCancel(err)
				}
				ids = append(ids, ev.OrderID)
			}
			return s.refreshIDs(ctx, ids...)
		}, events.OrderPlaced{}.Topic())
		eventbus.On(bus, "analytics.order_status_changed", func(ctx context.Context, _ string, ev events.OrderStatusChanged) error {
			return s.refreshIDs(ctx, ev.OrderID)
		})
		eventbus.On(bus, "analytics.order_paid", func(ctx context.Context, _ string, ev events.OrderPaid) error {
			return s.refreshIDs(ctx, ev.OrderID)
		})
		eventbus.On(bus, "analytics.payment_captured", func(ctx context.Context, _ string, ev events.PaymentCaptured) error {
			return s.refreshIDs(ctx, ev.OrderIDs...)
		})
		eventbus.On(bus, "analytics.payment_refunded", func(ctx context.Context, _ string, ev events.PaymentRefunded) error {
			return s.refreshIDs(ctx, ev.OrderID)
		})
		eventbus.On(bus, "analytics.escrow_released", func(ctx context.Context, _ string, ev events.EscrowReleased) error {
			return s.refreshIDs(ctx, ev.OrderID)
		})
	}
	if runner != nil {
		river.AddWorker(runner.Workers, &viewsWorker{s: s})
		runner.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(cfg.ViewsEvery),
			func() (river.JobArgs, *river.InsertOpts) { return viewsArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}))
		river.AddWorker(runner.Workers, &sweepWorker{s: s})
		runner.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(dirtySweepEvery),
			func() (river.JobArgs, *river.InsertOpts) { return sweepArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}))
		river.AddWorker(runner.Workers, &exportWorker{s: s})
		river.AddWorker(runner.Workers, &exportSweepWorker{s: s})
		runner.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(exportSweepEvery),
			func() (river.JobArgs, *river.InsertOpts) { return exportSweepArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}))
	}
	return s
}

// refreshIDs records the facts of the orders an event names and leaves their days to the
// recomputer (refreshLater). It parses the IDs first: a malformed one can never succeed, so its
// job is cancelled rather than retried.
func (s *Service) refreshIDs(ctx context.Context, raw ...string) error {
	ids := make([]uuid.UUID, 0, len(raw))
	for _, r := range raw {
		id, err := uuid.Parse(r)
		if err != nil {
			return river.JobCancel(fmt.Errorf("analytics: order id %q: %w", r, err))
		}
		ids = append(ids, id)
	}
	return s.refreshLater(ctx, ids)
}

// Settled reports whether the recompute of dirty days has nothing under way in this process
// (settle.Loop.Resting): for the tests that count a request's round trips.
func (s *Service) Settled() bool { return s.dirty == nil || s.dirty.Resting() }

// Refresh reads the orders' facts again from the source and recomputes every shop-day they
// touch, before and after. Running it twice, or with facts older than the rows it finds, leaves
// the same figures: it always writes what the source says now.
//
// The facts are written under the orders' locks, and their days marked dirty, in one
// transaction (record); the days are recomputed in a second one by whoever holds the shop. A
// refresh that finds its shop held leaves its days to the holder, which recomputes again as long
// as it finds days marked, so no refresh waits for another's. The holder may have looked for the
// last time just before this refresh's mark; the sweep (RecomputeDirty, every dirtySweepEvery)
// catches that.
func (s *Service) Refresh(ctx context.Context, ids []uuid.UUID) error {
	shops, err := s.record(ctx, ids)
	if err != nil {
		return err
	}
	return s.recomputeShops(ctx, shops, false, true)
}

// dirtyWait is how long the recomputer lets event deliveries mark days after the first of them,
// so that one pass sums a busy shop's day once for all the orders of that moment: the lag of a
// shop's figures behind its orders. Each order used to recount its whole day (the costliest
// statement of a checkout's jobs).
const dirtyWait = time.Second

// refreshLater records the orders' facts and marks their days, as Refresh does, and kicks the
// recomputer to sum the days dirtyWait later. The marks are rows: what a crash leaves before
// that, the sweep takes.
func (s *Service) refreshLater(ctx context.Context, ids []uuid.UUID) error {
	if _, err := s.record(ctx, ids); err != nil {
		return err
	}
	s.dirty.Kick()
	return nil
}

// recomputePass recomputes the marked days of every shop no one else holds, once, and says
// whether there were any: while there are, the recomputer looks again dirtyWait later. Days
// marked during the pass wait for that next pass, so that under a steady stream of orders a busy
// shop's day is summed once a dirtyWait rather than again as soon as each sum ends (it was 10
// sums a second in the checkout bench's drain, each of the whole day).
func (s *Service) recomputePass(ctx context.Context) (bool, error) {
	shops, err := s.q.DirtyShops(ctx)
	if err != nil {
		return true, fmt.Errorf("analytics dirty shops: %w", err)
	}
	return len(shops) > 0, s.recomputeShops(ctx, shops, false, false)
}

// record writes the orders' facts under their locks and marks the days they touch, before and
// after, in one transaction; it answers the shops of those days.
func (s *Service) record(ctx context.Context, ids []uuid.UUID) ([]uuid.UUID, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var shops []uuid.UUID
	err := pgdb.WithPipelinedTx(ctx, s.pool, func(tx *pgdb.PipelinedTx) error {
		// BEGIN, the orders' locks, then the days their facts touch now and the facts themselves:
		// one round trip. A batch's statements run in order, so the facts are read under the locks.
		// The lookups by the orders' primary keys run under their generic plans (pgdb.QueueGeneric):
		// the custom ones were made again at every delivery, and cost more to make than to run.
		var old []store.OrderDaysRow
		var refundDays []store.RefundDaysRow
		var orders []Order
		var refunds []Refund
		var releases []Release
		var b pgdb.Batch
		queueLocks(ctx, &b, "analytics.order:", ids)
		pgdb.Queue(&b, func(db pgdb.DBTX) ([]store.RefundDaysRow, error) { return newStore(db).RefundDays(ctx, ids) },
			func(rows []store.RefundDaysRow, err error) error { refundDays = rows; return err })
		pgdb.QueueGeneric(&b, func(db pgdb.DBTX) ([]store.OrderDaysRow, error) { return newStore(db).OrderDays(ctx, ids) },
			func(rows []store.OrderDaysRow, err error) error { old = rows; return err })
		s.ports.Source.QueueOrders(ctx, &b, ids, func(o []Order, err error) error { orders = o; return err })
		s.ports.Source.QueueMoney(ctx, &b, ids, func(rf []Refund, rl []Release, err error) error {
			refunds, releases = rf, rl
			return err
		})
		if err := tx.Send(ctx, &b); err != nil {
			return fmt.Errorf("analytics refresh: %w", err)
		}
		touched := days{}
		for _, r := range old {
			touched.add(r.ShopID, r.Day)
		}
		for _, r := range refundDays {
			touched.add(r.ShopID, r.Day)
		}
		// The old facts out, the new in, their days marked, and COMMIT: one round trip.
		queueExecBy(pgdb.QueueGeneric[struct{}], &b, "refresh", func(q *store.Queries) error { return q.DeleteOrders(ctx, ids) })
		s.queueWrite(ctx, &b, orders, refunds, releases, touched)
		var mark store.MarkDirtyParams
		for shop, set := range touched {
			shops = append(shops, shop)
			for d := range set {
				mark.ShopIds = append(mark.ShopIds, shop)
				mark.Days = append(mark.Days, pgtype.Date{Time: d, Valid: true})
			}
		}
		queueExec(&b, "mark dirty", func(q *store.Queries) error { return q.MarkDirty(ctx, mark) })
		return tx.SendCommit(ctx, &b)
	})
	return shops, err
}

// dirtySweepEvery is how often the sweep recomputes the days no refresh was left to.
const dirtySweepEvery = 2 * time.Second

// RecomputeDirty recomputes every shop-day marked dirty, waiting for shops held by others.
func (s *Service) RecomputeDirty(ctx context.Context) error {
	shops, err := s.q.DirtyShops(ctx)
	if err != nil {
		return fmt.Errorf("analytics dirty shops: %w", err)
	}
	return s.recomputeShops(ctx, shops, true, true)
}

// recomputeShops recomputes the shops' dirty days, each shop in transactions of its own under
// its lock; with drain, again until none is marked. Without wait, a shop another transaction
// holds is left to it.
func (s *Service) recomputeShops(ctx context.Context, shops []uuid.UUID, wait, drain bool) error {
	slices.SortFunc(shops, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	for _, shop := range shops {
		for first := true; ; first = false {
			if !first {
				if !drain {
					break
				}
				// Days marked while this one recomputed are its to take: one read to ask,
				// most often answered no.
				more, err := s.q.ShopDirty(ctx, shop)
				if err != nil {
					return fmt.Errorf("analytics dirty days: %w", err)
				}
				if !more {
					break
				}
			}
			took := false
			err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
				q := newStore(tx)
				key := "analytics.shop:" + shop.String()
				var list []pgtype.Date
				var err error
				if wait {
					if err := q.Lock(ctx, key); err != nil {
						return fmt.Errorf("analytics lock shop: %w", err)
					}
					list, err = q.TakeDirty(ctx, shop)
				} else {
					list, err = q.TakeDirtyIfFree(ctx, store.TakeDirtyIfFreeParams{ShopID: shop, Key: key})
				}
				if err != nil {
					return fmt.Errorf("analytics take dirty days: %w", err)
				}
				if len(list) == 0 {
					return nil
				}
				took = true
				return recompute(ctx, tx, days{shop: dayset(list)})
			})
			if err != nil {
				return err
			}
			if !took {
				break
			}
		}
	}
	return nil
}

// queueLocks queues the advisory locks of ids under prefix, in one statement whatever their
// number, taken in one order (the ids', sorted), so that two transactions never wait on each
// other crosswise.
func queueLocks(ctx context.Context, b *pgdb.Batch, prefix string, ids []uuid.UUID) {
	ids = slices.Clone(ids)
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	keys := make([]string, 0, len(ids))
	for _, id := range slices.Compact(ids) {
		keys = append(keys, prefix+id.String())
	}
	queueExec(b, "lock", func(q *store.Queries) error { return q.LockKeys(ctx, keys) })
}

func dayset(list []pgtype.Date) map[time.Time]bool {
	set := make(map[time.Time]bool, len(list))
	for _, d := range list {
		set[d.Time] = true
	}
	return set
}

// days is a set of shop-days.
type days map[uuid.UUID]map[time.Time]bool

func (d days) add(shop uuid.UUID, day pgtype.Date) {
	if !day.Valid {
		return
	}
	if d[shop] == nil {
		d[shop] = map[time.Time]bool{}
	}
	d[shop][day.Time] = true
}

// fact is an order's row in the read model, its days cut (its refreshed_at is the database's).
type fact struct {
	row     store.AnalyticsOrder
	refunds []store.AnalyticsRefund
}

// derive turns an order's facts into its read-model row: the rules of which day counts.
func (s *Service) derive(o Order, refunds []Refund, rel *Release) fact {
	loc := s.cfg.Location
	f := fact{row: store.AnalyticsOrder{OrderID: o.ID, ShopID: o.ShopID, BuyerID: o.BuyerID, Status: o.Status,
		PaymentMethod: o.PaymentMethod, ShippingMethod: o.ShippingMethod, Subtotal: o.Subtotal, Discount: o.Discount,
		ShippingFee: o.ShippingFee, Total: o.Total, Currency: o.Currency, PlacedAt: o.PlacedAt,
		PlacedDay: dayOf(o.PlacedAt, loc), ConfirmedAt: o.ConfirmedAt, ShippedAt: o.ShippedAt,
		DeliveredAt: o.DeliveredAt, CancelledAt: o.CancelledAt, ReturnedAt: o.ReturnedAt}}
	if at := SaleAt(o); at != nil {
		f.row.SaleAt = at
		f.row.SaleDay = dayOf(*at, loc)
	}
	if o.ShippedAt != nil && o.DeliveredAt != nil {
		late := daysBetween(dayOf(*o.ShippedAt, loc), dayOf(*o.DeliveredAt, loc)) > s.ports.PromisedDays(o.ShippingMethod)
		f.row.OnTime = ptr(!late)
	}
	if rel != nil {
		f.row.Commission = rel.Commission
		f.row.ReleasedDay = dayOf(rel.At, loc)
	}
	for _, r := range refunds {
		f.refunds = append(f.refunds, store.AnalyticsRefund{RefundID: r.ID, OrderID: o.ID, ShopID: o.ShopID,
			Amount: r.Amount, Day: dayOf(r.At, loc), Counted: f.row.SaleAt != nil})
	}
	return f
}

// SaleAt is when an order counts as a sale: when it was paid, or, paid in cash on delivery, when
// it was delivered; never when it is cancelled.
func SaleAt(o Order) *time.Time {
	switch {
	case o.Status == events.OrderCancelled:
		return nil
	case o.PaymentMethod == events.MethodCOD:
		return o.DeliveredAt
	default:
		return o.PaidAt
	}
}

// queueWrite queues, on b, the inserts of the orders' rows, lines and refunds, one statement
// each whatever the number of orders (none for an empty set), and adds the days they touch to
// touched.
func (s *Service) queueWrite(ctx context.Context, b *pgdb.Batch, orders []Order, refunds []Refund, releases []Release, touched days) {
	byOrder := map[uuid.UUID][]Refund{}
	for _, r := range refunds {
		byOrder[r.OrderID] = append(byOrder[r.OrderID], r)
	}
	released := map[uuid.UUID]*Release{}
	for i := range releases {
		released[releases[i].OrderID] = &releases[i]
	}
	var (
		rows  store.InsertOrdersParams
		lines store.InsertLinesParams
		money store.InsertRefundsParams
	)
	for _, o := range orders {
		f := s.derive(o, byOrder[o.ID], released[o.ID])
		addOrder(&rows, f.row)
		for i, l := range o.Lines {
			lines.OrderIds = append(lines.OrderIds, o.ID)
			lines.LineNos = append(lines.LineNos, int32(i))
			lines.ProductIds = append(lines.ProductIds, l.ProductID)
			lines.Titles = append(lines.Titles, l.Title)
			lines.Quantities = append(lines.Quantities, l.Quantity)
			lines.Revenues = append(lines.Revenues, l.Revenue)
		}
		for _, r := range f.refunds {
			money.RefundIds = append(money.RefundIds, r.RefundID)
			money.OrderIds = append(money.OrderIds, r.OrderID)
			money.ShopIds = append(money.ShopIds, r.ShopID)
			money.Amounts = append(money.Amounts, r.Amount)
			money.Days = append(money.Days, r.Day)
			money.Counted = append(money.Counted, r.Counted)
			touched.add(o.ShopID, r.Day)
		}
		touched.add(o.ShopID, f.row.PlacedDay)
		touched.add(o.ShopID, f.row.SaleDay)
		touched.add(o.ShopID, f.row.ReleasedDay)
	}
	// The orders first: their lines and refunds refer to them.
	if len(rows.OrderIds) > 0 {
		queueExec(b, "write orders", func(q *store.Queries) error { return q.InsertOrders(ctx, rows) })
	}
	if len(lines.OrderIds) > 0 {
		queueExec(b, "write lines", func(q *store.Queries) error { return q.InsertLines(ctx, lines) })
	}
	if len(money.RefundIds) > 0 {
		queueExec(b, "write refunds", func(q *store.Queries) error { return q.InsertRefunds(ctx, money) })
	}
}

// addOrder appends an order's row to InsertOrders' arrays: a NULL time as a zero one, and
// on_time with whether it is known (arrived), as the query reads them.
func addOrder(p *store.InsertOrdersParams, r store.AnalyticsOrder) {
	p.OrderIds = append(p.OrderIds, r.OrderID)
	p.ShopIds = append(p.ShopIds, r.ShopID)
	p.BuyerIds = append(p.BuyerIds, r.BuyerID)
	p.Statuses = append(p.Statuses, string(r.Status))
	p.PaymentMethods = append(p.PaymentMethods, string(r.PaymentMethod))
	p.ShippingMethods = append(p.ShippingMethods, string(r.ShippingMethod))
	p.Subtotals = append(p.Subtotals, r.Subtotal)
	p.Discounts = append(p.Discounts, r.Discount)
	p.ShippingFees = append(p.ShippingFees, r.ShippingFee)
	p.Totals = append(p.Totals, r.Total)
	p.Currencies = append(p.Currencies, r.Currency)
	p.PlacedAts = append(p.PlacedAts, r.PlacedAt)
	p.PlacedDays = append(p.PlacedDays, r.PlacedDay)
	p.SaleAts = append(p.SaleAts, orZero(r.SaleAt))
	p.SaleDays = append(p.SaleDays, r.SaleDay)
	p.ConfirmedAts = append(p.ConfirmedAts, orZero(r.ConfirmedAt))
	p.ShippedAts = append(p.ShippedAts, orZero(r.ShippedAt))
	p.DeliveredAts = append(p.DeliveredAts, orZero(r.DeliveredAt))
	p.CancelledAts = append(p.CancelledAts, orZero(r.CancelledAt))
	p.ReturnedAts = append(p.ReturnedAts, orZero(r.ReturnedAt))
	p.Arrived = append(p.Arrived, r.OnTime != nil)
	p.OnTimes = append(p.OnTimes, orZero(r.OnTime))
	p.Commissions = append(p.Commissions, r.Commission)
	p.ReleasedDays = append(p.ReleasedDays, r.ReleasedDay)
}

// queueExec queues a statement whose answer is only its error, named with what for the log.
func queueExec(b *pgdb.Batch, what string, call func(q *store.Queries) error) {
	queueExecBy(pgdb.Queue[struct{}], b, what, call)
}

// queueExecBy is queueExec through queue: pgdb.Queue, or pgdb.QueueGeneric for a statement by
// primary keys.
func queueExecBy(queue func(*pgdb.Batch, func(pgdb.DBTX) (struct{}, error), func(struct{}, error) error),
	b *pgdb.Batch, what string, call func(q *store.Queries) error) {
	queue(b, func(db pgdb.DBTX) (struct{}, error) { return struct{}{}, call(newStore(db)) },
		func(_ struct{}, err error) error {
			if err != nil {
				return fmt.Errorf("analytics %s: %w", what, err)
			}
			return nil
		})
}

// recompute makes the rollup rows of the touched shop-days again from the read model's facts.
func recompute(ctx context.Context, tx pgx.Tx, touched days) error {
	var b pgdb.Batch
	exec := func(call func(q *store.Queries) error) { queueExec(&b, "recompute", call) }
	for shop, set := range touched {
		list := make([]pgtype.Date, 0, len(set))
		for d := range set {
			list = append(list, pgtype.Date{Time: d, Valid: true})
		}
		exec(func(q *store.Queries) error {
			return q.DeleteShopDays(ctx, store.DeleteShopDaysParams{ShopID: shop, Days: list})
		})
		exec(func(q *store.Queries) error {
			return q.ComputeShopDays(ctx, store.ComputeShopDaysParams{ShopID: shop, Days: list})
		})
		exec(func(q *store.Queries) error {
			return q.DeleteProductDays(ctx, store.DeleteProductDaysParams{ShopID: shop, Days: list})
		})
		exec(func(q *store.Queries) error {
			return q.ComputeProductDays(ctx, store.ComputeProductDaysParams{ShopID: shop, Days: list})
		})
	}
	return b.Send(ctx, tx)
}

// rebuildPage is how many orders the rebuild reads at a time.
const rebuildPage = 1000

// Rebuild makes the whole read model again from the source contexts, in one transaction (the
// figures switch at once; refreshes wait for it and then apply on top), and copies the view
// counts of the last MaxRange days. progress, when not nil, hears how many orders are done.
func (s *Service) Rebuild(ctx context.Context, progress func(int)) (int, error) {
	n := 0
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.Truncate(ctx); err != nil {
			return fmt.Errorf("analytics rebuild: %w", err)
		}
		touched := days{}
		after := uuid.Nil
		for {
			orders, err := s.ports.Source.OrdersAfter(ctx, tx, after, rebuildPage)
			if err != nil {
				return err
			}
			if len(orders) == 0 {
				break
			}
			ids := make([]uuid.UUID, len(orders))
			for i, o := range orders {
				ids[i] = o.ID
			}
			var refunds []Refund
			var releases []Release
			var b pgdb.Batch
			s.ports.Source.QueueMoney(ctx, &b, ids, func(rf []Refund, rl []Release, err error) error {
				refunds, releases = rf, rl
				return err
			})
			if err := b.Send(ctx, tx); err != nil {
				return err
			}
			s.queueWrite(ctx, &b, orders, refunds, releases, touched)
			if err := b.Send(ctx, tx); err != nil {
				return err
			}
			n += len(orders)
			after = orders[len(orders)-1].ID
			if progress != nil {
				progress(n)
			}
		}
		return recompute(ctx, tx, touched)
	})
	if err != nil {
		return n, err
	}
	now := time.Now()
	return n, s.SyncViews(ctx, now.AddDate(0, 0, -s.cfg.MaxRange), now)
}

// SyncViews copies the search context's daily view counts between two instants' days. The
// counts are absolute, so a copy made twice leaves the same rows.
func (s *Service) SyncViews(ctx context.Context, from, to time.Time) error {
	views, err := s.ports.Views.DailyViews(ctx, from, to)
	if err != nil {
		return err
	}
	const batch = 5000
	for len(views) > 0 {
		part := views[:min(batch, len(views))]
		views = views[len(part):]
		p := store.UpsertViewsParams{}
		for _, v := range part {
			d, err := time.Parse(time.DateOnly, v.Day)
			if err != nil {
				return fmt.Errorf("analytics views: day %q: %w", v.Day, err)
			}
			p.ProductIds = append(p.ProductIds, v.ProductID)
			p.Days = append(p.Days, pgtype.Date{Time: d, Valid: true})
			p.ShopIds = append(p.ShopIds, v.ShopID)
			p.Views = append(p.Views, v.Views)
		}
		if err := s.q.UpsertViews(ctx, p); err != nil {
			return fmt.Errorf("analytics views: %w", err)
		}
	}
	return nil
}

type viewsArgs struct{}

// Kind implements river.JobArgs.
func (viewsArgs) Kind() string { return "analytics_views" }

// viewsWorker copies yesterday's and today's view counts; running it twice copies the same.
type viewsWorker struct {
	river.WorkerDefaults[viewsArgs]
	s *Service
}

func (w *viewsWorker) Work(ctx context.Context, _ *river.Job[viewsArgs]) error {
	now := time.Now()
	return w.s.SyncViews(ctx, now.AddDate(0, 0, -1), now)
}

// sweepArgs is the periodic job that recomputes the shop-days no refresh was left to.
type sweepArgs struct{}

// Kind implements river.JobArgs.
func (sweepArgs) Kind() string { return "analytics_dirty_sweep" }

type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	s *Service
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	return w.s.RecomputeDirty(ctx)
}

// dayOf is t's marketplace day.
func dayOf(t time.Time, loc *time.Location) pgtype.Date {
	y, m, d := t.In(loc).Date()
	return pgtype.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Valid: true}
}

// daysBetween counts the calendar days from a to b.
func daysBetween(a, b pgtype.Date) int { return int(b.Time.Sub(a.Time).Hours()+12) / 24 }

func ptr[T any](v T) *T { return &v }

// orZero is *p, or T's zero value when p is nil.
func orZero[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// newStore returns the analytics store on db, its errors naming the query that failed.
func newStore(db store.DBTX) *store.Queries { return store.New(pgdb.Named("analytics", db)) }
