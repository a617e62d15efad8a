package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/search/internal/store"
)

// Behaviour kinds.
const (
	KindView   = "view"
	KindSearch = "search"
	KindClick  = "click"
)

// Visitor is who did something: a signed-in user, else an anonymous visitor's device (the
// client-chosen X-Device-ID).
type Visitor struct {
	UserID   *uuid.UUID
	DeviceID string
}

var deviceIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// VisitorOf is the caller: the signed-in user (the device ID is then ignored), or the device.
func VisitorOf(p *auth.Principal, deviceID string) (Visitor, error) {
	if p != nil {
		id := p.UserID
		return Visitor{UserID: &id}, nil
	}
	if deviceID == "" {
		return Visitor{}, apperr.New(apperr.Unauthorized, "sign in, or name this device in the X-Device-ID header")
	}
	if !deviceIDRE.MatchString(deviceID) {
		return Visitor{}, apperr.Field("X-Device-ID", "must be 8 to 64 letters, digits, - or _")
	}
	return Visitor{DeviceID: deviceID}, nil
}

// Event is one behaviour event.
type Event struct {
	Kind      string
	Visitor   Visitor
	ProductID *uuid.UUID
	Query     string
	QueryNorm string
	Results   *int
	Position  *int
	At        time.Time
}

// Ingester writes behaviour events by group commit: each request hands its event over and
// waits until the batch holding it has committed, so that an answered event is on disk (a
// kill -9 loses none) while bursts cost one transaction per batch, not per event.
type Ingester struct {
	pool  *pgxpool.Pool
	loc   *time.Location
	queue chan pending
	wait  time.Duration
	log   *slog.Logger
}

type pending struct {
	ev   Event
	done chan error
}

// maxBatch bounds the events one transaction writes.
const maxBatch = 1000

// ErrBusy is the answer when the ingestion queue is full.
var ErrBusy = &apperr.Error{Code: apperr.Unavailable, Message: "too many behaviour events are waiting; try again shortly",
	RetryAfter: time.Second}

// NewIngester starts the batching loop; it stops when ctx ends.
func NewIngester(ctx context.Context, pool *pgxpool.Pool, loc *time.Location, queue int, wait time.Duration, log *slog.Logger) *Ingester {
	in := &Ingester{pool: pool, loc: loc, queue: make(chan pending, queue), wait: wait, log: log}
	go in.run(ctx)
	return in
}

// Record writes ev and returns once it is committed. A product view or click of a product
// that is not listed is apperr.NotFound.
func (in *Ingester) Record(ctx context.Context, ev Event) error {
	p := pending{ev: ev, done: make(chan error, 1)}
	select {
	case in.queue <- p:
	default:
		return ErrBusy
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (in *Ingester) run(ctx context.Context) {
	for {
		if ctx.Err() != nil { // stopping: take no new batch, even with events queued
			return
		}
		var first pending
		select {
		case <-ctx.Done():
			return
		case first = <-in.queue:
		}
		batch := []pending{first}
		timer := time.NewTimer(in.wait)
	fill:
		for len(batch) < maxBatch {
			select {
			case p := <-in.queue:
				batch = append(batch, p)
			case <-timer.C:
				break fill
			}
		}
		timer.Stop()
		in.flush(context.WithoutCancel(ctx), batch)
	}
}

// flush writes a batch in one transaction: the events of listed products (others are told
// not found), and the day's view counts.
func (in *Ingester) flush(ctx context.Context, batch []pending) {
	var ids []uuid.UUID
	for _, p := range batch {
		if p.ev.ProductID != nil {
			ids = append(ids, *p.ev.ProductID)
		}
	}
	results := make([]error, len(batch))
	err := pgdb.WithTx(ctx, in.pool, func(tx pgx.Tx) error {
		shops := map[uuid.UUID]uuid.UUID{}
		if len(ids) > 0 {
			rows, err := tx.Query(ctx, "SELECT product_id, shop_id FROM search.documents WHERE product_id = ANY($1)", ids)
			if err != nil {
				return err
			}
			var pid, sid uuid.UUID
			if _, err := pgx.ForEachRow(rows, []any{&pid, &sid}, func() error { shops[pid] = sid; return nil }); err != nil {
				return err
			}
		}
		var rows [][]any
		views := map[[2]any]int64{}
		for i, p := range batch {
			ev := p.ev
			var shop *uuid.UUID
			if ev.ProductID != nil {
				s, ok := shops[*ev.ProductID]
				if !ok {
					results[i] = apperr.NotFoundf("product")
					continue
				}
				shop = &s
			}
			var device *string
			if ev.Visitor.DeviceID != "" {
				device = &ev.Visitor.DeviceID
			}
			var query, norm *string
			if ev.Kind == KindSearch || ev.Query != "" {
				query, norm = &ev.Query, &ev.QueryNorm
			}
			rows = append(rows, []any{ev.At, ev.Kind, ev.Visitor.UserID, device, ev.ProductID, shop, query, norm, ev.Results, ev.Position})
			if ev.Kind == KindView {
				day := ev.At.In(in.loc).Format(time.DateOnly)
				views[[2]any{day, *ev.ProductID}]++
			}
		}
		if len(rows) > 0 {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"search", "behavior"},
				[]string{"at", "kind", "user_id", "device_id", "product_id", "shop_id", "query", "query_norm", "results", "position"},
				pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("search: behaviour copy: %w", err)
			}
		}
		if len(views) > 0 {
			var days []string
			var pids, sids []uuid.UUID
			var counts []int64
			for k, n := range views {
				pid := k[1].(uuid.UUID)
				days, pids, sids, counts = append(days, k[0].(string)), append(pids, pid), append(sids, shops[pid]), append(counts, n)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO search.daily_views (day, product_id, shop_id, views)
SELECT d::date, p, s, n FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::bigint[]) AS x(d, p, s, n)
ON CONFLICT (day, product_id) DO UPDATE SET views = search.daily_views.views + EXCLUDED.views`, days, pids, sids, counts); err != nil {
				return fmt.Errorf("search: daily views: %w", err)
			}
		}
		return nil
	})
	for i, p := range batch {
		if err != nil {
			p.done <- err
		} else {
			p.done <- results[i]
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		in.log.ErrorContext(ctx, "behaviour batch failed", "events", len(batch), "err", err)
	}
}

// normQuery is a query's normal form for recent and popular searches: its words, lower case,
// accents kept.
func normQuery(q string) string { return strings.Join(words(q), " ") }

// ViewInput records a product view.
type ViewInput struct {
	ProductID uuid.UUID `json:"product_id" validate:"required"`
}

// SearchInput records a search the client made.
type SearchInput struct {
	Query   string `json:"query" validate:"required,max=200"`
	Results *int   `json:"results" validate:"omitempty,min=0,max=1000000000"`
}

// ClickInput records a click on a search result or recommendation.
type ClickInput struct {
	ProductID uuid.UUID `json:"product_id" validate:"required"`
	Query     string    `json:"query" validate:"max=200"`
	Position  *int      `json:"position" validate:"omitempty,min=0,max=10000"`
}

// Accepted is the answer of a recorded event.
type Accepted struct {
	Accepted bool `json:"accepted"`
}

// record spends one of v's events a minute, then hands ev to the ingester.
func (s *Service) record(ctx context.Context, v Visitor, ev Event) error {
	if s.cfg.Limiter != nil {
		key := "d:" + v.DeviceID
		if v.UserID != nil {
			key = "u:" + v.UserID.String()
		}
		if err := s.cfg.Limiter.Allow(ctx, "behavior", key, s.cfg.RatePerMinute); err != nil {
			return err
		}
	}
	return s.ingest.Record(ctx, ev)
}

// RecordView records that v viewed a product.
func (s *Service) RecordView(ctx context.Context, v Visitor, in ViewInput) error {
	return s.record(ctx, v, Event{Kind: KindView, Visitor: v, ProductID: &in.ProductID, At: time.Now()})
}

// RecordSearch records that v searched.
func (s *Service) RecordSearch(ctx context.Context, v Visitor, in SearchInput) error {
	q := nfc(strings.TrimSpace(in.Query))
	n := normQuery(q)
	if n == "" {
		return apperr.Field("query", "has no word")
	}
	return s.record(ctx, v, Event{Kind: KindSearch, Visitor: v, Query: q, QueryNorm: n, Results: in.Results, At: time.Now()})
}

// RecordClick records that v clicked a product.
func (s *Service) RecordClick(ctx context.Context, v Visitor, in ClickInput) error {
	q := nfc(strings.TrimSpace(in.Query))
	return s.record(ctx, v, Event{Kind: KindClick, Visitor: v, ProductID: &in.ProductID, Query: q, QueryNorm: normQuery(q),
		Position: in.Position, At: time.Now()})
}

// RecentProduct is a product the caller viewed.
type RecentProduct struct {
	ProductID uuid.UUID `json:"product_id"`
	Title     string    `json:"title"`
	Price     int64     `json:"price"`
	Currency  string    `json:"currency"`
	InStock   bool      `json:"in_stock"`
	ViewedAt  time.Time `json:"viewed_at"`
}

// RecentSearch is a query the caller searched.
type RecentSearch struct {
	Query      string    `json:"query"`
	SearchedAt time.Time `json:"searched_at"`
}

type recentCursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i,omitempty"`
	Q  string    `json:"q,omitempty"`
}

func visitorArgs(v Visitor) (*uuid.UUID, *string) {
	if v.UserID != nil {
		return v.UserID, nil
	}
	d := v.DeviceID
	return nil, &d
}

// RecentProducts pages through the products v viewed, each once, most recent first.
func (s *Service) RecentProducts(ctx context.Context, v Visitor, page httpx.Page) (httpx.List[RecentProduct], error) {
	var cur recentCursor
	has, err := httpx.DecodeCursor(page.Cursor, &cur)
	if err != nil {
		return httpx.List[RecentProduct]{}, err
	}
	u, d := visitorArgs(v)
	p := store.RecentProductsParams{UserID: u, DeviceID: d, Lim: int32(page.Limit + 1)}
	if has {
		p.AfterAt, p.AfterID = &cur.At, &cur.ID
	}
	rows, err := s.q.RecentProducts(ctx, p)
	if err != nil {
		return httpx.List[RecentProduct]{}, err
	}
	kept := httpx.Paginate(rows, page.Limit, func(r store.RecentProductsRow) any { return recentCursor{At: r.ViewedAt, ID: *r.ProductID} })
	out := httpx.List[RecentProduct]{Items: make([]RecentProduct, len(kept.Items)), NextCursor: kept.NextCursor}
	for i, r := range kept.Items {
		out.Items[i] = RecentProduct{ProductID: *r.ProductID, Title: r.Title, Price: r.Price, Currency: r.Currency, InStock: r.InStock,
			ViewedAt: r.ViewedAt.UTC()}
	}
	return out, nil
}

// RecentSearches pages through the queries v searched, each once, most recent first.
func (s *Service) RecentSearches(ctx context.Context, v Visitor, page httpx.Page) (httpx.List[RecentSearch], error) {
	var cur recentCursor
	has, err := httpx.DecodeCursor(page.Cursor, &cur)
	if err != nil {
		return httpx.List[RecentSearch]{}, err
	}
	u, d := visitorArgs(v)
	p := store.RecentSearchesParams{UserID: u, DeviceID: d, Lim: int32(page.Limit + 1)}
	if has {
		p.AfterAt, p.AfterQ = &cur.At, &cur.Q
	}
	rows, err := s.q.RecentSearches(ctx, p)
	if err != nil {
		return httpx.List[RecentSearch]{}, err
	}
	kept := httpx.Paginate(rows, page.Limit, func(r store.RecentSearchesRow) any { return recentCursor{At: r.SearchedAt, Q: *r.QueryNorm} })
	out := httpx.List[RecentSearch]{Items: make([]RecentSearch, len(kept.Items)), NextCursor: kept.NextCursor}
	for i, r := range kept.Items {
		out.Items[i] = RecentSearch{Query: *r.QueryNorm, SearchedAt: r.SearchedAt.UTC()}
	}
	return out, nil
}

// DailyView is one product's views on one day.
type DailyView struct {
	Day       string
	ProductID uuid.UUID
	ShopID    uuid.UUID
	Views     int64
}

// DailyShopView is one shop's product views on one day.
type DailyShopView struct {
	Day    string
	ShopID uuid.UUID
	Views  int64
}

// DailyViews answers views per product and day (the marketplace's days, YYYY-MM-DD, both
// included): what analytics reads instead of views on the event bus.
func (s *Service) DailyViews(ctx context.Context, from, to time.Time) ([]DailyView, error) {
	rows, err := s.q.DailyViews(ctx, store.DailyViewsParams{FromDay: s.dateOf(from), ToDay: s.dateOf(to)})
	if err != nil {
		return nil, err
	}
	out := make([]DailyView, len(rows))
	for i, r := range rows {
		out[i] = DailyView{Day: r.Day.Time.Format(time.DateOnly), ProductID: r.ProductID, ShopID: r.ShopID, Views: r.Views}
	}
	return out, nil
}

// DailyShopViews answers views per shop and day.
func (s *Service) DailyShopViews(ctx context.Context, from, to time.Time) ([]DailyShopView, error) {
	rows, err := s.q.DailyShopViews(ctx, store.DailyShopViewsParams{FromDay: s.dateOf(from), ToDay: s.dateOf(to)})
	if err != nil {
		return nil, err
	}
	out := make([]DailyShopView, len(rows))
	for i, r := range rows {
		out[i] = DailyShopView{Day: r.Day.Time.Format(time.DateOnly), ShopID: r.ShopID, Views: r.Views}
	}
	return out, nil
}

// ForgetUser removes a deleted user's behaviour: it is personal data (daily counts are not).
func (s *Service) ForgetUser(ctx context.Context, userID uuid.UUID) error {
	return s.q.ForgetUser(ctx, &userID)
}

type retentionArgs struct{}

// Kind implements river.JobArgs.
func (retentionArgs) Kind() string { return "search.behavior_retention" }

// retentionWorker drops raw behaviour past the retention; running it twice drops nothing more.
type retentionWorker struct {
	river.WorkerDefaults[retentionArgs]
	s *Service
}

func (w *retentionWorker) Work(ctx context.Context, _ *river.Job[retentionArgs]) error {
	_, err := w.s.DropOldBehavior(ctx)
	return err
}

// DropOldBehavior drops raw behaviour older than the retention, in bounded batches.
func (s *Service) DropOldBehavior(ctx context.Context) (int64, error) {
	before := time.Now().Add(-s.cfg.Retention)
	var total int64
	for {
		n, err := s.q.DropBehaviorBefore(ctx, before)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// dateOf is t's day in the marketplace's time zone, as a date.
func (s *Service) dateOf(t time.Time) pgtype.Date {
	y, m, d := t.In(s.cfg.Location).Date()
	return pgtype.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Valid: true}
}
