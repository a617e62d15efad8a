package analytics

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"time"
)

// Table is a report as rows of cells, the one shape every file format is written from.
type Table struct {
	Title  string
	Header []string
	Rows   [][]string
}

// bom is UTF-8's byte-order mark: spreadsheet programs read a CSV file that starts with it as
// UTF-8, so that Vietnamese shows as written.
const bom = "\ufeff"

// CSV writes the table as CSV, UTF-8 with a byte-order mark.
func (t Table) CSV() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(bom)
	w := csv.NewWriter(&b)
	if err := w.Write(t.Header); err != nil {
		return nil, err
	}
	if err := w.WriteAll(t.Rows); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func i64(v int64) string { return strconv.FormatInt(v, 10) }

func pct(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + "%" }

// SalesTable is the sales report's rows as a table.
func SalesTable(r SalesReport) Table {
	t := Table{Title: "Sales " + r.From + " – " + r.To,
		Header: []string{"order_id", "placed_at", "status", "payment_method", "sale_day", "units", "subtotal", "discount",
			"shipping_fee", "total", "refunded", "commission", "currency"}}
	for _, s := range r.Rows {
		day := ""
		if s.SaleDay != nil {
			day = *s.SaleDay
		}
		t.Rows = append(t.Rows, []string{s.OrderID.String(), s.PlacedAt.Format(time.RFC3339), s.Status, s.PaymentMethod, day,
			i64(s.Units), i64(s.Subtotal), i64(s.Discount), i64(s.ShippingFee), i64(s.Total), i64(s.Refunded),
			i64(s.Commission), r.Currency})
	}
	return t
}

// PerformanceTable is the performance report as a table: one row per figure, the period and
// the one before side by side.
func PerformanceTable(r PerformanceReport) Table {
	c, p := r.Current.Totals, r.Previous.Totals
	secs := func(v int64) string { return i64(v) }
	t := Table{Title: "Performance " + r.Current.From + " – " + r.Current.To,
		Header: []string{"figure", r.Current.From + " – " + r.Current.To, r.Previous.From + " – " + r.Previous.To}}
	t.Rows = [][]string{
		{"average_confirm_seconds", secs(c.AverageConfirmSeconds), secs(p.AverageConfirmSeconds)},
		{"average_ship_seconds", secs(c.AverageShipSeconds), secs(p.AverageShipSeconds)},
		{"delivered", strconv.Itoa(c.Delivered), strconv.Itoa(p.Delivered)},
		{"on_time_rate", pct(c.OnTimeRate), pct(p.OnTimeRate)},
		{"return_rate", pct(c.ReturnRate), pct(p.ReturnRate)},
		{"cancellation_rate", pct(c.CancellationRate), pct(p.CancellationRate)},
		{"rating", strconv.FormatFloat(r.Rating, 'f', 2, 64), ""},
		{"review_count", strconv.Itoa(r.ReviewCount), ""},
	}
	return t
}
