package analytics

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/goshop/goshop/internal/analytics/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
)

// Granularities a series may be cut in.
const (
	ByDay   = "day"
	ByWeek  = "week"
	ByMonth = "month"
)

// RangeInput is a date range as a client names it: days in the marketplace's time zone.
type RangeInput struct {
	From        string
	To          string
	Granularity string
}

// Range is a checked date range: both days included.
type Range struct {
	From, To    time.Time
	Granularity string
}

// Days is how many days the range covers.
func (r Range) Days() int { return int(r.To.Sub(r.From).Hours()/24+0.5) + 1 }

// Previous is the range of the same length just before r.
func (r Range) Previous() Range {
	n := r.Days()
	return Range{From: r.From.AddDate(0, 0, -n), To: r.From.AddDate(0, 0, -1), Granularity: r.Granularity}
}

func (r Range) dates() (pgtype.Date, pgtype.Date) {
	return pgtype.Date{Time: r.From, Valid: true}, pgtype.Date{Time: r.To, Valid: true}
}

// CheckRange reads a range: days as YYYY-MM-DD, the end not before the start, at most MaxRange
// days; the last 30 days up to today when left out.
func (s *Service) CheckRange(in RangeInput, now time.Time) (Range, error) {
	today := dayOf(now, s.cfg.Location).Time
	r := Range{To: today, Granularity: in.Granularity}
	if r.Granularity == "" {
		r.Granularity = ByDay
	}
	switch r.Granularity {
	case ByDay, ByWeek, ByMonth:
	default:
		return Range{}, apperr.Field("granularity", "must be day, week or month")
	}
	var err error
	if in.To != "" {
		if r.To, err = time.Parse(time.DateOnly, in.To); err != nil {
			return Range{}, apperr.Field("to", "must be a date, YYYY-MM-DD")
		}
	}
	r.From = r.To.AddDate(0, 0, -29)
	if in.From != "" {
		if r.From, err = time.Parse(time.DateOnly, in.From); err != nil {
			return Range{}, apperr.Field("from", "must be a date, YYYY-MM-DD")
		}
	}
	if r.To.Before(r.From) {
		return Range{}, apperr.Field("to", "must not be before from")
	}
	if r.Days() > s.cfg.MaxRange {
		return Range{}, apperr.Field("to", fmt.Sprintf("the range may cover at most %d days", s.cfg.MaxRange))
	}
	return r, nil
}

// authorize lets the shop's owner and admins through; a missing shop is not found, someone
// else's forbidden.
func (s *Service) authorize(ctx context.Context, p auth.Principal, shopID uuid.UUID) error {
	owner, err := s.ports.Shops.ShopOwner(ctx, shopID)
	if err != nil {
		return err
	}
	if owner != p.UserID && !p.IsAdmin() {
		return apperr.New(apperr.Forbidden, "only the shop's owner may see its analytics")
	}
	return nil
}

// Money is a period's revenue: net is gross sales less discounts, refunds and the platform's
// commission.
type Money struct {
	Sales      int   `json:"sales"`
	Gross      int64 `json:"gross"`
	Discounts  int64 `json:"discounts"`
	Refunds    int64 `json:"refunds"`
	Commission int64 `json:"commission"`
	Net        int64 `json:"net"`
}

func (m *Money) add(d store.AnalyticsShopDay) {
	m.Sales += int(d.Sales)
	m.Gross += d.Gross
	m.Discounts += d.Discounts
	m.Refunds += d.Refunds
	m.Commission += d.Commission
	m.Net += d.Gross - d.Discounts - d.Refunds - d.Commission
}

// Point is one bucket of a series: the day it starts (the range's first day for the first).
type Point[T any] struct {
	Start   string `json:"start"`
	Figures T      `json:"figures"`
}

// Period is a range's totals and its series.
type Period[T any] struct {
	From   string     `json:"from"`
	To     string     `json:"to"`
	Totals T          `json:"totals"`
	Series []Point[T] `json:"series"`
}

// Comparison is the asked period with the one of the same length just before it.
type Comparison[T any] struct {
	ShopID      uuid.UUID `json:"shop_id"`
	Currency    string    `json:"currency"`
	Granularity string    `json:"granularity"`
	Current     Period[T] `json:"current"`
	Previous    Period[T] `json:"previous"`
}

// Currency is the marketplace's: every figure is in its minor unit.
const Currency = "VND"

// bucket is the start of the bucket day falls in, no earlier than the range's start.
func bucket(day time.Time, r Range) time.Time {
	b := day
	switch r.Granularity {
	case ByWeek:
		b = day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7)) // Monday
	case ByMonth:
		b = time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	if b.Before(r.From) {
		return r.From
	}
	return b
}

// period sums rows into r's totals and its series, with a point for every bucket, empty or not.
func period[T any](r Range, rows []store.AnalyticsShopDay, add func(*T, store.AnalyticsShopDay), finish func(*T)) Period[T] {
	p := Period[T]{From: r.From.Format(time.DateOnly), To: r.To.Format(time.DateOnly)}
	index := map[time.Time]int{}
	for d := r.From; !d.After(r.To); d = d.AddDate(0, 0, 1) {
		b := bucket(d, r)
		if _, ok := index[b]; !ok {
			index[b] = len(p.Series)
			p.Series = append(p.Series, Point[T]{Start: b.Format(time.DateOnly)})
		}
	}
	for _, row := range rows {
		add(&p.Totals, row)
		add(&p.Series[index[bucket(row.Day.Time, r)]].Figures, row)
	}
	if finish != nil {
		finish(&p.Totals)
		for i := range p.Series {
			finish(&p.Series[i].Figures)
		}
	}
	return p
}

// compare reads the shop's rollups for r and the period before it and sums them.
func compare[T any](ctx context.Context, s *Service, shopID uuid.UUID, r Range, add func(*T, store.AnalyticsShopDay), finish func(*T)) (Comparison[T], error) {
	out := Comparison[T]{ShopID: shopID, Currency: Currency, Granularity: r.Granularity}
	for i, rr := range []Range{r, r.Previous()} {
		from, to := rr.dates()
		rows, err := s.readQ.ShopDays(ctx, store.ShopDaysParams{ShopID: shopID, FromDay: from, ToDay: to})
		if err != nil {
			return out, fmt.Errorf("analytics shop days: %w", err)
		}
		p := period(rr, rows, add, finish)
		if i == 0 {
			out.Current = p
		} else {
			out.Previous = p
		}
	}
	return out, nil
}

// Revenue answers a shop's revenue over a range, by day, week or month, beside the period before.
func (s *Service) Revenue(ctx context.Context, p auth.Principal, shopID uuid.UUID, r Range) (Comparison[Money], error) {
	if err := s.authorize(ctx, p, shopID); err != nil {
		return Comparison[Money]{}, err
	}
	return compare(ctx, s, shopID, r, (*Money).add, nil)
}

// OrderStats are a period's orders: counts by current status of the orders placed in it, the
// average order value of its sales (after discounts), and its cancellation and return rates
// (of the orders placed).
type OrderStats struct {
	Placed           int            `json:"placed"`
	ByStatus         map[string]int `json:"by_status"`
	Sales            int            `json:"sales"`
	AverageOrder     int64          `json:"average_order_value"`
	CancellationRate float64        `json:"cancellation_rate"`
	ReturnRate       float64        `json:"return_rate"`
	sold             int64
}

func (o *OrderStats) add(d store.AnalyticsShopDay) {
	if o.ByStatus == nil {
		o.ByStatus = map[string]int{}
	}
	o.Placed += int(d.Placed)
	for k, v := range map[string]int32{"pending": d.Pending, "confirmed": d.Confirmed, "shipped": d.Shipped,
		"delivered": d.Delivered, "cancelled": d.Cancelled, "returned": d.Returned} {
		o.ByStatus[k] += int(v)
	}
	o.Sales += int(d.Sales)
	o.sold += d.Gross - d.Discounts
}

func (o *OrderStats) finish() {
	if o.ByStatus == nil {
		o.ByStatus = map[string]int{"pending": 0, "confirmed": 0, "shipped": 0, "delivered": 0, "cancelled": 0, "returned": 0}
	}
	if o.Sales > 0 {
		o.AverageOrder = o.sold / int64(o.Sales)
	}
	o.CancellationRate = rate(o.ByStatus["cancelled"], o.Placed)
	o.ReturnRate = rate(o.ByStatus["returned"], o.Placed)
}

// Orders answers a shop's order figures over a range, beside the period before.
func (s *Service) Orders(ctx context.Context, p auth.Principal, shopID uuid.UUID, r Range) (Comparison[OrderStats], error) {
	if err := s.authorize(ctx, p, shopID); err != nil {
		return Comparison[OrderStats]{}, err
	}
	return compare(ctx, s, shopID, r, (*OrderStats).add, (*OrderStats).finish)
}

// ProductStat is one product's sales over a range, its views and conversion (orders per view).
type ProductStat struct {
	ProductID  uuid.UUID `json:"product_id"`
	Title      string    `json:"title"`
	Units      int64     `json:"units"`
	Revenue    int64     `json:"revenue"`
	Orders     int64     `json:"orders"`
	Views      int64     `json:"views"`
	Conversion float64   `json:"conversion"`
}

// Products is a shop's best sellers by units and by revenue, its views and its low stock.
type Products struct {
	ShopID     uuid.UUID      `json:"shop_id"`
	Currency   string         `json:"currency"`
	From       string         `json:"from"`
	To         string         `json:"to"`
	Views      int64          `json:"views"`
	ByUnits    []ProductStat  `json:"top_by_units"`
	ByRevenue  []ProductStat  `json:"top_by_revenue"`
	LowStock   []LowStockItem `json:"low_stock"`
	Conversion float64        `json:"conversion"`
}

// ProductsOf answers a shop's product figures over a range: the top limit by units and by
// revenue.
func (s *Service) ProductsOf(ctx context.Context, p auth.Principal, shopID uuid.UUID, r Range, limit int) (Products, error) {
	if err := s.authorize(ctx, p, shopID); err != nil {
		return Products{}, err
	}
	from, to := r.dates()
	out := Products{ShopID: shopID, Currency: Currency, From: r.From.Format(time.DateOnly), To: r.To.Format(time.DateOnly)}
	for _, byRevenue := range []bool{false, true} {
		rows, err := s.readQ.TopProducts(ctx, store.TopProductsParams{ShopID: shopID, FromDay: from, ToDay: to,
			ByRevenue: byRevenue, MaxRows: int32(limit)})
		if err != nil {
			return out, fmt.Errorf("analytics top products: %w", err)
		}
		list := make([]ProductStat, len(rows))
		for i, row := range rows {
			list[i] = ProductStat{ProductID: row.ProductID, Title: row.Title, Units: row.Units, Revenue: row.Revenue,
				Orders: row.Orders, Views: row.Views, Conversion: rate(int(row.Orders), int(row.Views))}
		}
		if byRevenue {
			out.ByRevenue = list
		} else {
			out.ByUnits = list
		}
	}
	views, err := s.readQ.ShopViews(ctx, store.ShopViewsParams{ShopID: shopID, FromDay: from, ToDay: to})
	if err != nil {
		return out, fmt.Errorf("analytics shop views: %w", err)
	}
	out.Views = views
	days, err := s.readQ.ShopDays(ctx, store.ShopDaysParams{ShopID: shopID, FromDay: from, ToDay: to})
	if err != nil {
		return out, fmt.Errorf("analytics shop days: %w", err)
	}
	var m Money
	for _, d := range days {
		m.add(d)
	}
	out.Conversion = rate(m.Sales, int(views))
	if out.LowStock, err = s.ports.Stock.LowStock(ctx, p, shopID, limit); err != nil {
		return out, err
	}
	return out, nil
}

// Performance is how a shop serves its buyers over a range, of the orders placed in it.
type Performance struct {
	AverageConfirmSeconds int64   `json:"average_confirm_seconds"`
	AverageShipSeconds    int64   `json:"average_ship_seconds"`
	Delivered             int     `json:"delivered"`
	OnTimeRate            float64 `json:"on_time_rate"`
	ReturnRate            float64 `json:"return_rate"`
	CancellationRate      float64 `json:"cancellation_rate"`
	placed, returned      int
	cancelled, onTime     int
	confirms, ships       int64
	confirmSum, shipSum   int64
}

func (f *Performance) add(d store.AnalyticsShopDay) {
	f.placed += int(d.Placed)
	f.returned += int(d.Returned)
	f.cancelled += int(d.Cancelled)
	f.Delivered += int(d.Arrived)
	f.onTime += int(d.OnTime)
	f.confirms += int64(d.ConfirmCount)
	f.confirmSum += d.ConfirmSeconds
	f.ships += int64(d.ShipCount)
	f.shipSum += d.ShipSeconds
}

func (f *Performance) finish() {
	if f.confirms > 0 {
		f.AverageConfirmSeconds = f.confirmSum / f.confirms
	}
	if f.ships > 0 {
		f.AverageShipSeconds = f.shipSum / f.ships
	}
	f.OnTimeRate = rate(f.onTime, f.Delivered)
	f.ReturnRate = rate(f.returned, f.placed)
	f.CancellationRate = rate(f.cancelled, f.placed)
}

// PerformanceReport is a shop's performance over a range beside the period before, with its
// rating from the review context (now, not of the range: ratings are not dated).
type PerformanceReport struct {
	Comparison[Performance]
	Rating      float64 `json:"rating"`
	ReviewCount int     `json:"review_count"`
}

// PerformanceOf answers a shop's performance report.
func (s *Service) PerformanceOf(ctx context.Context, p auth.Principal, shopID uuid.UUID, r Range) (PerformanceReport, error) {
	if err := s.authorize(ctx, p, shopID); err != nil {
		return PerformanceReport{}, err
	}
	return s.performance(ctx, shopID, r)
}

func (s *Service) performance(ctx context.Context, shopID uuid.UUID, r Range) (PerformanceReport, error) {
	c, err := compare(ctx, s, shopID, r, (*Performance).add, (*Performance).finish)
	if err != nil {
		return PerformanceReport{}, err
	}
	avg, n, err := s.ports.Ratings.ShopRating(ctx, shopID)
	if err != nil {
		return PerformanceReport{}, err
	}
	return PerformanceReport{Comparison: c, Rating: avg, ReviewCount: n}, nil
}

// SaleRow is one order of the sales report.
type SaleRow struct {
	OrderID       uuid.UUID `json:"order_id"`
	PlacedAt      time.Time `json:"placed_at"`
	Status        string    `json:"status"`
	PaymentMethod string    `json:"payment_method"`
	SaleDay       *string   `json:"sale_day,omitempty"`
	Units         int64     `json:"units"`
	Subtotal      int64     `json:"subtotal"`
	Discount      int64     `json:"discount"`
	ShippingFee   int64     `json:"shipping_fee"`
	Total         int64     `json:"total"`
	Refunded      int64     `json:"refunded"`
	Commission    int64     `json:"commission"`
}

// SalesReport is the orders placed in a range, line by line, with the range's revenue.
type SalesReport struct {
	ShopID   uuid.UUID `json:"shop_id"`
	Currency string    `json:"currency"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Revenue  Money     `json:"revenue"`
	Rows     []SaleRow `json:"rows"`
	// TotalRows is how many orders the range has: all of them are in Rows (a range of more
	// than a report answers at once is an export instead, see SalesOf).
	TotalRows int64 `json:"total_rows"`
}

// sales reads a shop's sales report, at most limit rows of it.
func (s *Service) sales(ctx context.Context, shopID uuid.UUID, r Range, limit int) (SalesReport, error) {
	from, to := r.dates()
	out := SalesReport{ShopID: shopID, Currency: Currency, From: r.From.Format(time.DateOnly), To: r.To.Format(time.DateOnly)}
	n, err := s.readQ.CountSalesRows(ctx, store.CountSalesRowsParams{ShopID: shopID, FromDay: from, ToDay: to})
	if err != nil {
		return out, fmt.Errorf("analytics sales count: %w", err)
	}
	out.TotalRows = n
	days, err := s.readQ.ShopDays(ctx, store.ShopDaysParams{ShopID: shopID, FromDay: from, ToDay: to})
	if err != nil {
		return out, fmt.Errorf("analytics shop days: %w", err)
	}
	for _, d := range days {
		out.Revenue.add(d)
	}
	out.Rows = []SaleRow{}
	params := store.SalesRowsParams{ShopID: shopID, FromDay: from, ToDay: to, MaxRows: 1000}
	for len(out.Rows) < limit {
		params.MaxRows = int32(min(1000, limit-len(out.Rows)))
		rows, err := s.readQ.SalesRows(ctx, params)
		if err != nil {
			return out, fmt.Errorf("analytics sales rows: %w", err)
		}
		for _, row := range rows {
			sr := SaleRow{OrderID: row.OrderID, PlacedAt: row.PlacedAt.UTC(), Status: string(row.Status),
				PaymentMethod: string(row.PaymentMethod), Units: row.Units, Subtotal: row.Subtotal, Discount: row.Discount,
				ShippingFee: row.ShippingFee, Total: row.Total, Refunded: row.Refunded, Commission: row.Commission}
			if row.SaleDay.Valid {
				sr.SaleDay = ptr(row.SaleDay.Time.Format(time.DateOnly))
			}
			out.Rows = append(out.Rows, sr)
		}
		if len(rows) < int(params.MaxRows) {
			break
		}
		last := rows[len(rows)-1]
		params.HasCursor, params.AfterAt, params.AfterID = true, last.PlacedAt, last.OrderID
	}
	return out, nil
}

// rate is part over whole, rounded to four places; zero when whole is.
func rate(part, whole int) float64 {
	if whole <= 0 {
		return 0
	}
	return math.Round(float64(part)/float64(whole)*10_000) / 10_000
}
