package search

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"golang.org/x/text/unicode/norm"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/settle"
	"github.com/goshop/goshop/internal/search/internal/store"
)

// Service keeps the search documents in step with the catalog and answers searches through its
// engine.
type Service struct {
	pool *pgxpool.Pool
	q    *store.Queries
	// reads and readQ run the public reads that tolerate a little lag (trending, popular
	// searches, recommendations, price comparisons, related products): a read replica when one
	// is configured (UseReads). A visitor's own history and price alerts stay on the primary.
	reads   pgdb.DBTX
	readQ   *store.Queries
	engine  Searcher
	pg      *Postgres
	catalog Catalog
	shops   Shops
	ingest  *Ingester
	jobs    *jobs.Runner
	// meili is the Meilisearch engine when MEILI_URL is set (then also engine); nil otherwise.
	meili *Meili
	bus   *eventbus.Bus
	ship  Shipping
	// stale re-indexes the products marked stale (refreshStalePass) a moment after a sale
	// kicks it.
	stale *settle.Loop
	cfg   Config
	log   *slog.Logger
}

// Config is the search context's configuration.
type Config struct {
	// Location is the marketplace's time zone: daily view counts are cut in it.
	Location *time.Location
	// Retention is how long raw behaviour events are kept.
	Retention time.Duration
	// BatchWait is how long the first event of a behaviour batch waits for more.
	BatchWait time.Duration
	// Queue bounds the behaviour events waiting for a batch in this process (503 past it).
	Queue int
	// Limiter and RatePerMinute bound the behaviour events one user, or one anonymous device,
	// records a minute (429 past it); a nil Limiter or a rate of 0 sets no bound.
	Limiter       Limiter
	RatePerMinute int
	// MeiliURL, when set, makes Meilisearch the engine (index MeiliIndex, key MeiliKey).
	MeiliURL, MeiliKey, MeiliIndex string
}

// Limiter spends one of key's n requests a minute under name, answering
// apperr.TooManyRequests (with the wait) when they are spent: ratelimit.Limiter.
type Limiter interface {
	Allow(ctx context.Context, name, key string, n int) error
}

// NewService builds the search context: it subscribes to the catalog, shop and order events
// that change a document and to user deletions, registers its periodic River jobs (vocabulary
// recount, behaviour retention), and starts the behaviour ingester, which runs until ctx ends.
func NewService(ctx context.Context, pool *pgxpool.Pool, bus *eventbus.Bus, runner *jobs.Runner, cat Catalog, shops Shops,
	ship Shipping, cfg Config, log *slog.Logger) *Service {
	pg := NewPostgres(pool)
	s := &Service{pool: pool, q: newStore(pool), reads: pool, readQ: newStore(pool), engine: pg, pg: pg, catalog: cat, shops: shops, bus: bus, ship: ship, cfg: cfg, log: log,
		ingest: NewIngester(ctx, pool, cfg.Location, cfg.Queue, cfg.BatchWait, log), jobs: runner}
	s.stale = settle.New("search.stale", staleWait, func(ctx context.Context) (bool, error) {
		_, found, err := s.refreshStalePass(ctx, time.Now())
		return found, err
	}, log)
	go s.stale.Run(ctx)
	if cfg.MeiliURL != "" {
		s.meili = NewMeili(cfg.MeiliURL, cfg.MeiliKey, cmp.Or(cfg.MeiliIndex, "products"))
		s.engine = s.meili
		river.AddWorker(runner.Workers, &meiliSyncWorker{s: s})
		river.AddWorker(runner.Workers, &meiliSettingsWorker{s: s})
		runner.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return meiliSettingsArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}))
	}
	eventbus.On(bus, "search.forget_user", func(ctx context.Context, _ string, ev events.UserDeleted) error {
		id, err := uuid.Parse(ev.UserID)
		if err != nil {
			return river.JobCancel(fmt.Errorf("search: user id %q: %w", ev.UserID, err))
		}
		return s.ForgetUser(ctx, id)
	})
	eventbus.On(bus, "search.cart_item_added", s.recordCartAdd)
	river.AddWorker(runner.Workers, &trendingWorker{s: s})
	runner.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(trendingEvery),
		func() (river.JobArgs, *river.InsertOpts) { return trendingArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}))
	river.AddWorker(runner.Workers, &retentionWorker{s: s})
	runner.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return retentionArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}))
	eventbus.On(bus, "search.product_created", func(ctx context.Context, _ string, ev events.ProductCreated) error {
		return s.refreshOne(ctx, ev.ProductID)
	})
	eventbus.On(bus, "search.product_updated", func(ctx context.Context, _ string, ev events.ProductUpdated) error {
		return s.refreshOne(ctx, ev.ProductID)
	})
	eventbus.On(bus, "search.product_deleted", func(ctx context.Context, _ string, ev events.ProductDeleted) error {
		return s.refreshOne(ctx, ev.ProductID)
	})
	eventbus.On(bus, "search.product_price_changed", func(ctx context.Context, _ string, ev events.ProductPriceChanged) error {
		return s.refreshOne(ctx, ev.ProductID)
	})
	eventbus.On(bus, "search.campaign_status_changed", func(ctx context.Context, _ string, ev events.CampaignStatusChanged) error {
		ids := make([]uuid.UUID, 0, len(ev.Items))
		for _, it := range ev.Items {
			if id, err := uuid.Parse(it.ProductID); err == nil {
				ids = append(ids, id)
			}
		}
		return s.Refresh(ctx, ids)
	})
	eventbus.On(bus, "search.shop_changed", func(ctx context.Context, _ string, ev events.ShopUpdated) error {
		return s.refreshShop(ctx, ev.ShopID)
	})
	eventbus.On(bus, "search.shop_deleted", func(ctx context.Context, _ string, ev events.ShopDeleted) error {
		return s.refreshShop(ctx, ev.ShopID)
	})
	// The index and the counts of sales and interest are derived: their writes need not wait for
	// the disk (a crash of PostgreSQL that takes some back leaves their jobs to run again).
	bus.CommitAsync("search.")
	bus.SubscribeMany("search.sales_and_stock", s.salesAndStock, events.OrderPlaced{}.Topic(), events.StockChanged{}.Topic())
	bus.Retire("search.order_placed", "search.sales_and_stock")
	bus.Retire("search.stock_changed", "search.sales_and_stock")
	river.AddWorker(runner.Workers, &staleSweepWorker{s: s})
	runner.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(staleSweepEvery),
		func() (river.JobArgs, *river.InsertOpts) { return staleSweepArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}))
	river.AddWorker(runner.Workers, &recountWorker{s: s})
	runner.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return recountArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: false}))
	return s
}

// UseReads sends the public reads, and the PostgreSQL engine's searches, to db, a pgdb.Reads
// over a replica.
func (s *Service) UseReads(db pgdb.DBTX) {
	s.reads, s.readQ = db, newStore(db)
	s.pg.UseReads(db)
}

func (s *Service) refreshOne(ctx context.Context, id string) error {
	pid, err := uuid.Parse(id)
	if err != nil {
		return river.JobCancel(fmt.Errorf("search: product id %q: %w", id, err))
	}
	return s.Refresh(ctx, []uuid.UUID{pid})
}

// refreshShop re-reads every indexed product of a shop: its name, province and location are
// theirs, and a closed shop's products go.
func (s *Service) refreshShop(ctx context.Context, id string) error {
	sid, err := uuid.Parse(id)
	if err != nil {
		return river.JobCancel(fmt.Errorf("search: shop id %q: %w", id, err))
	}
	ids, err := s.q.ShopDocumentIDs(ctx, sid)
	if err != nil {
		return err
	}
	for chunk := range slices.Chunk(ids, refreshBatch) {
		if err := s.Refresh(ctx, chunk); err != nil {
			return err
		}
	}
	return nil
}

// salesAndStock is search's subscriber to the checkout's events (and to every stock change):
// it records the orders' units sold and marks stale the products they or the stock changes
// touch, in one batch, and kicks the refresher, which re-indexes each of them once for all the
// sales of a moment (a delivery each used to re-index a checkout's products twice).
func (s *Service) salesAndStock(ctx context.Context, envs []eventbus.Envelope) error {
	var orders []events.OrderPlaced
	var ids []uuid.UUID
	for _, env := range envs {
		switch env.Topic {
		case events.OrderPlaced{}.Topic():
			ev, err := eventbus.Decode[events.OrderPlaced](env)
			if err != nil {
				return river.JobCancel(err)
			}
			orders = append(orders, ev)
		case events.StockChanged{}.Topic():
			ev, err := eventbus.Decode[events.StockChanged](env)
			if err != nil {
				return river.JobCancel(err)
			}
			id, err := uuid.Parse(ev.ProductID)
			if err != nil {
				return river.JobCancel(fmt.Errorf("search: product id %q: %w", ev.ProductID, err))
			}
			ids = append(ids, id)
		}
	}
	if err := s.recordSales(ctx, orders, ids); err != nil {
		return err
	}
	s.stale.Kick()
	return nil
}

// recordSales keeps the orders' units sold (once per order and product, whatever the
// redeliveries) and marks stale the products sold (their sold count, and a campaign's stock
// left, change) and those of stock changes, all in one batch: one statement for the sales and
// one for the marks, whatever the orders and their lines.
func (s *Service) recordSales(ctx context.Context, orders []events.OrderPlaced, stocked []uuid.UUID) error {
	var sales store.RecordSalesParams
	for _, ev := range orders {
		order, err1 := uuid.Parse(ev.OrderID)
		shop, err2 := uuid.Parse(ev.ShopID)
		buyer, err3 := uuid.Parse(ev.BuyerID)
		checkout, err4 := uuid.Parse(ev.CheckoutID)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return river.JobCancel(fmt.Errorf("search: order.placed with bad ids %q %q %q", ev.OrderID, ev.ShopID, ev.BuyerID))
		}
		qty := map[uuid.UUID]int{}
		var products []uuid.UUID
		for _, l := range ev.Lines {
			if p, err := uuid.Parse(l.ProductID); err == nil {
				if _, seen := qty[p]; !seen {
					products = append(products, p)
				}
				qty[p] += l.Quantity
			}
		}
		for _, p := range products {
			sales.OrderIds = append(sales.OrderIds, order)
			sales.CheckoutIds = append(sales.CheckoutIds, checkout)
			sales.ProductIds = append(sales.ProductIds, p)
			sales.ShopIds = append(sales.ShopIds, shop)
			sales.BuyerIds = append(sales.BuyerIds, buyer)
			sales.Quantities = append(sales.Quantities, int32(qty[p]))
			sales.SoldAts = append(sales.SoldAts, ev.At)
		}
	}
	stale := append(slices.Clone(stocked), sales.ProductIds...)
	if len(stale) == 0 {
		return nil
	}
	slices.SortFunc(stale, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	stale = slices.Compact(stale)
	// One batch, so one implicit transaction: all the rows and marks or none.
	var b pgdb.Batch
	if len(sales.OrderIds) > 0 {
		pgdb.Queue(&b, func(db pgdb.DBTX) (struct{}, error) { return struct{}{}, newStore(db).RecordSales(ctx, sales) },
			func(_ struct{}, err error) error { return err })
	}
	pgdb.Queue(&b, func(db pgdb.DBTX) (struct{}, error) { return struct{}{}, newStore(db).MarkStale(ctx, stale) },
		func(_ struct{}, err error) error { return err })
	if err := b.Send(ctx, s.pool); err != nil {
		return fmt.Errorf("search: record sales: %w", err)
	}
	return nil
}

// refreshBatch is how many products one refresh reads and writes at a time.
const refreshBatch = 200

// Refresh re-reads products from the catalog and their shops, and writes their documents, or
// removes those buyers may no longer see. It is what every event leads to, and it is safe in
// any order: a write carries the time its source was read and never replaces a newer one.
func (s *Service) Refresh(ctx context.Context, ids []uuid.UUID) error {
	if len(ids) == 0 {
		return nil
	}
	plan, err := s.readRefresh(ctx, ids)
	if err != nil {
		return err
	}
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error { return s.writeRefresh(ctx, tx, newStore(tx), plan) })
}

// refreshPlan is what a refresh read: the documents to write, the products to remove, the words
// to learn and the prices to check against alerts.
type refreshPlan struct {
	ids        []uuid.UUID
	readAt     time.Time
	upserts    []store.UpsertDocumentParams
	checks     []priceCheck
	removes    []uuid.UUID
	vocabulary []string
}

// readRefresh reads what a refresh of ids writes, from the catalog and the shops, outside any
// transaction of search's.
func (s *Service) readRefresh(ctx context.Context, ids []uuid.UUID) (refreshPlan, error) {
	plan := refreshPlan{ids: ids, readAt: time.Now()}
	srcs, err := s.catalog.Products(ctx, ids)
	if err != nil {
		return plan, fmt.Errorf("search: read products: %w", err)
	}
	found := map[uuid.UUID]bool{}
	shops := map[uuid.UUID]*ShopSource{}
	var vids []uuid.UUID
	for _, p := range srcs {
		found[p.ID] = true
		if _, ok := shops[p.ShopID]; !ok && p.Listed {
			sh, err := s.shops.Shop(ctx, p.ShopID)
			switch {
			case apperr.Is(err, apperr.NotFound):
				shops[p.ShopID] = nil
			case err != nil:
				return plan, fmt.Errorf("search: read shop: %w", err)
			default:
				shops[p.ShopID] = &sh
			}
		}
		for _, v := range p.Variants {
			vids = append(vids, v.ID)
		}
	}
	campaign, err := s.shops.CampaignPrices(ctx, vids)
	if err != nil {
		return plan, fmt.Errorf("search: read campaigns: %w", err)
	}
	for _, id := range ids {
		if !found[id] {
			plan.removes = append(plan.removes, id)
		}
	}
	for _, p := range srcs {
		sh := shops[p.ShopID]
		if !p.Listed || sh == nil || !sh.Active || len(p.Variants) == 0 {
			plan.removes = append(plan.removes, p.ID)
			continue
		}
		d := document(p, *sh, campaign, plan.readAt)
		plan.upserts = append(plan.upserts, d)
		plan.checks = append(plan.checks, priceCheckOf(p, d.Price, campaign))
		for _, w := range words(p.Title + " " + p.Brand + " " + p.Model) {
			if vocabularyWord(w) {
				plan.vocabulary = append(plan.vocabulary, w)
			}
		}
	}
	slices.Sort(plan.vocabulary)
	plan.vocabulary = slices.Compact(plan.vocabulary)
	return plan, nil
}

// only narrows the plan to the products in keep (its vocabulary stays whole: learning a word
// twice is harmless).
func (p refreshPlan) only(keep map[uuid.UUID]bool) refreshPlan {
	out := refreshPlan{readAt: p.readAt, vocabulary: p.vocabulary}
	for _, id := range p.ids {
		if keep[id] {
			out.ids = append(out.ids, id)
		}
	}
	for i, d := range p.upserts {
		if keep[d.ProductID] {
			out.upserts = append(out.upserts, d)
			out.checks = append(out.checks, p.checks[i])
		}
	}
	for _, id := range p.removes {
		if keep[id] {
			out.removes = append(out.removes, id)
		}
	}
	return out
}

// writeRefresh writes a plan's documents and removals in tx.
func (s *Service) writeRefresh(ctx context.Context, tx pgx.Tx, q *store.Queries, plan refreshPlan) error {
	for _, d := range plan.upserts {
		if err := q.UpsertDocument(ctx, d); err != nil {
			return err
		}
		if err := q.ForgetRemoval(ctx, store.ForgetRemovalParams{ProductID: d.ProductID, SourceAt: plan.readAt}); err != nil {
			return err
		}
	}
	for _, id := range plan.removes {
		if err := q.RemoveDocument(ctx, store.RemoveDocumentParams{ProductID: id, SourceAt: plan.readAt}); err != nil {
			return err
		}
		if err := q.MarkRemoved(ctx, store.MarkRemovedParams{ProductID: id, SourceAt: plan.readAt}); err != nil {
			return err
		}
	}
	if len(plan.vocabulary) > 0 {
		if err := q.AddTerms(ctx, plan.vocabulary); err != nil {
			return err
		}
	}
	if s.meili != nil && len(plan.ids) > 0 {
		// The index follows in a job of this transaction: it exists if the write does.
		if err := s.jobs.InsertTx(ctx, tx, meiliSyncArgs{ProductIDs: plan.ids}, nil); err != nil {
			return err
		}
	}
	return s.fireAlerts(ctx, tx, q, plan.checks)
}

// staleKey is the advisory lock of the one refresher of marked products at a time.
const staleKey = "search.stale"

// stalePasses bounds the passes one RefreshStale (the sweep) makes while marks keep coming, so
// that a job under a steady stream of old marks ends; what it leaves, the next sweep takes.
const stalePasses = 20

// staleWait is how long the refresher (stale) lets sales mark their products after the first
// kick, so that one pass re-indexes a busy product once for all of them: the lag of a sold count
// or a stock level in search results. Under a stream of sales a pass takes a second's marks at
// once. The marks are in the database: what a crash leaves, the sweep takes once they are
// staleSweepAge old.
const staleWait = time.Second

// staleSweepEvery is how often the sweep re-indexes the products whose marks no refresher took
// (their process crashed first); staleSweepAge is how old a mark must be for the sweep to take
// it, so that it does not take the marks a refresher is gathering.
const (
	staleSweepEvery = 2 * time.Second
	staleSweepAge   = 5 * staleWait
)

// Settled reports whether the re-indexing of stale products has nothing under way in this
// process (settle.Loop.Resting): for the tests that count a request's round trips.
func (s *Service) Settled() bool { return s.stale.Resting() }

// RefreshStale re-indexes the products marked stale before the given time, pass after pass
// while it gets the refresher's lock and marks remain (at most stalePasses). When another
// transaction holds the lock it leaves at once: the holder looks again, so it sees every mark
// committed before this call asked. A crash rolls the take back with the write: the marks stay.
func (s *Service) RefreshStale(ctx context.Context, before time.Time) error {
	for range stalePasses {
		took, _, err := s.refreshStalePass(ctx, before)
		if err != nil || !took {
			return err
		}
	}
	return nil
}

// refreshStalePass re-indexes up to refreshBatch of the products marked stale before a time. It
// says whether it took marks, and whether it found any: while it finds some, someone must look
// again, as a holder of the lock may have left them or more may have come.
func (s *Service) refreshStalePass(ctx context.Context, before time.Time) (took, found bool, err error) {
	rows, err := s.q.StaleProducts(ctx, store.StaleProductsParams{Before: before, Max: refreshBatch})
	if err != nil {
		return false, false, fmt.Errorf("search: stale products: %w", err)
	}
	if len(rows) == 0 {
		return false, false, nil
	}
	ids := make([]uuid.UUID, len(rows))
	var upto int64
	for i, r := range rows {
		ids[i], upto = r.ProductID, max(upto, r.Upto)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	// Read after the marks: the catalog is at least as new as the changes they stand for.
	plan, err := s.readRefresh(ctx, ids)
	if err != nil {
		return false, true, err
	}
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		taken, err := q.TakeStaleIfFree(ctx, store.TakeStaleIfFreeParams{Ids: ids, Upto: upto, Key: staleKey})
		if err != nil || len(taken) == 0 {
			return err
		}
		took = true
		keep := make(map[uuid.UUID]bool, len(taken))
		for _, id := range taken {
			keep[id] = true
		}
		return s.writeRefresh(ctx, tx, q, plan.only(keep))
	})
	return took && err == nil, true, err
}

// document is a product's search document.
func document(p Source, sh ShopSource, campaign map[uuid.UUID]int64, readAt time.Time) store.UpsertDocumentParams {
	price, list := EffectivePrice(p.Variants, campaign)
	var stock int64
	for _, v := range p.Variants {
		stock += int64(v.Stock)
	}
	pairs, attrText := documentAttrs(p.Attributes)
	attrs, _ := json.Marshal(p.Attributes)
	if p.Attributes == nil {
		attrs = []byte("{}")
	}
	d := store.UpsertDocumentParams{ProductID: p.ID, ShopID: p.ShopID, Title: nfc(p.Title), Description: nfc(p.Description),
		Brand: nfc(p.Brand), Model: nfc(p.Model), Gtin: p.GTIN, CategoryID: p.CategoryID, CategoryIds: []uuid.UUID{},
		Attributes: attrs, Attrs: pairs, AttrsText: nfc(attrText), Price: price, ListPrice: list, Currency: p.Currency,
		Rating: p.Rating, RatingCount: int32(p.RatingCount), Stock: stock, WeightGrams: int32(p.WeightGrams), ShopName: sh.Name,
		ShopRating: sh.Rating, Province: nfc(sh.Province),
		Lat: sh.Lat, Lng: sh.Lng, CreatedAt: p.CreatedAt, SourceAt: readAt}
	if d.Attrs == nil {
		d.Attrs = []string{}
	}
	var names []string
	for _, c := range p.Path {
		d.CategoryIds = append(d.CategoryIds, c.ID)
		names = append(names, nfc(c.Name))
	}
	if n := len(p.Path); n > 0 {
		d.CategoryName = names[n-1]
	}
	d.CategoryPath = strings.Join(names, " ")
	return d
}

func nfc(s string) string { return norm.NFC.String(s) }

// Reindex rebuilds the read model from scratch: it empties it, then walks every listed product
// of the catalog. Sales are kept (they come from orders, not from the catalog).
func (s *Service) Reindex(ctx context.Context, progress func(done int)) (int, error) {
	if err := s.q.TruncateIndex(ctx); err != nil {
		return 0, err
	}
	if s.meili != nil {
		// Emptied first (Meilisearch runs its tasks in order), the index then holds exactly
		// what the sync jobs of the rebuild copy.
		if err := s.meili.Clear(ctx); err != nil {
			return 0, err
		}
	}
	after, done := uuid.Nil, 0
	for {
		ids, err := s.catalog.ListedProductIDs(ctx, after, refreshBatch)
		if err != nil {
			return done, err
		}
		if len(ids) == 0 {
			break
		}
		if err := s.Refresh(ctx, ids); err != nil {
			return done, err
		}
		done += len(ids)
		after = ids[len(ids)-1]
		if progress != nil {
			progress(done)
		}
	}
	return done, s.RecountTerms(ctx)
}

// RecountTerms recounts the vocabulary from the documents (how many hold each word), and drops
// words none holds any more.
func (s *Service) RecountTerms(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `WITH stat AS (
	-- Numbers stay searchable but out of the vocabulary (see vocabularyWord).
	SELECT word, ndoc FROM ts_stat('SELECT tsv_exact FROM search.documents') WHERE word !~ '^[0-9]+$'
), up AS (
	INSERT INTO search.terms (word, folded, docs)
	SELECT word, search.fold(word), ndoc FROM stat
	ON CONFLICT (word) DO UPDATE SET docs = EXCLUDED.docs
)
DELETE FROM search.terms t WHERE NOT EXISTS (SELECT 1 FROM stat WHERE stat.word = t.word)`)
	if err != nil {
		return fmt.Errorf("search: recount terms: %w", err)
	}
	return nil
}

type recountArgs struct{}

// Kind implements river.JobArgs.
func (recountArgs) Kind() string { return "search.recount_terms" }

// recountWorker recounts the vocabulary hourly; running it twice counts the same.
type recountWorker struct {
	river.WorkerDefaults[recountArgs]
	s *Service
}

func (w *recountWorker) Work(ctx context.Context, _ *river.Job[recountArgs]) error {
	return w.s.RecountTerms(ctx)
}

// Search answers a page of results.
func (s *Service) Search(ctx context.Context, q Query, page httpx.Page) (Results, error) {
	return s.engine.Search(ctx, q, page)
}

// Facets answers the facet counts of a query.
func (s *Service) Facets(ctx context.Context, q Query) (Facets, error) {
	return s.engine.Facets(ctx, q)
}

// Autocomplete completes what is being typed: popular searches that start with it first (the
// query vocabulary), then its last word completed from the catalog's vocabulary.
func (s *Service) Autocomplete(ctx context.Context, text string, limit int) (Completions, error) {
	out, err := s.pg.Autocomplete(ctx, text, limit)
	if err != nil || len(words(text)) == 0 || len(words(text)) > maxWords {
		return out, err
	}
	rows, err := s.q.PopularPrefixed(ctx, store.PopularPrefixedParams{Input: normQuery(nfc(text)), Lim: int32(limit)})
	if err != nil {
		return out, err
	}
	var items []Completion
	seen := map[string]bool{}
	for _, r := range rows {
		items, seen[r] = append(items, Completion{Text: r, Kind: "popular"}), true
	}
	for _, c := range out.Items {
		if !seen[c.Text] && len(items) < limit {
			items = append(items, c)
		}
	}
	out.Items = items
	return out, nil
}

func newStore(db store.DBTX) *store.Queries { return store.New(pgdb.Named("search", db)) }

// staleSweepArgs is the periodic job that re-indexes the products no refresher was left to.
type staleSweepArgs struct{}

// Kind implements river.JobArgs.
func (staleSweepArgs) Kind() string { return "search_stale_sweep" }

type staleSweepWorker struct {
	river.WorkerDefaults[staleSweepArgs]
	s *Service
}

func (w *staleSweepWorker) Work(ctx context.Context, _ *river.Job[staleSweepArgs]) error {
	return w.s.RefreshStale(ctx, time.Now().Add(-staleSweepAge))
}
