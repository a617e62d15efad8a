package analytics

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/xuri/excelize/v2"

	"github.com/goshop/goshop/internal/platform/fonts"
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

// Write writes the table in format: csv, xlsx or pdf.
func (t Table) Write(format string) ([]byte, error) {
	switch format {
	case FormatCSV:
		return t.CSV()
	case FormatXLSX:
		return t.XLSX()
	case FormatPDF:
		return t.PDF()
	}
	return nil, fmt.Errorf("analytics: no %q files", format)
}

// XLSX writes the table as an Excel workbook of one sheet, the header row bold and frozen.
// Cells that are whole numbers are written as numbers, so that a spreadsheet sums them.
func (t Table) XLSX() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Sheet1"
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	head := make([]any, len(t.Header))
	for i, h := range t.Header {
		head[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return nil, err
	}
	for r, row := range t.Rows {
		cells := make([]any, len(row))
		for i, c := range row {
			if n, err := strconv.ParseInt(c, 10, 64); err == nil {
				cells[i] = n
			} else {
				cells[i] = c
			}
		}
		cell, err := excelize.CoordinatesToCellName(1, r+2)
		if err != nil {
			return nil, err
		}
		if err := sw.SetRow(cell, cells); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// PDF writes the table as an A4 landscape document in a font that covers Vietnamese, its
// columns sized to fit the page and the header repeated on every page.
func (t Table) PDF() ([]byte, error) {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("report", "", fonts.DejaVuSansCondensed)
	pdf.SetMargins(10, 10, 10)
	pdf.SetAutoPageBreak(true, 10)
	width, _ := pdf.GetPageSize()
	usable := width - 20
	widths := make([]float64, len(t.Header))
	for i := range widths {
		widths[i] = usable / float64(len(t.Header))
	}
	if len(t.Header) > 0 && t.Header[0] == "order_id" {
		// An order ID is long: give it a third more than the others.
		widths[0] = usable / float64(len(t.Header)) * 2.2
		for i := 1; i < len(widths); i++ {
			widths[i] = (usable - widths[0]) / float64(len(widths)-1)
		}
	}
	header := func() {
		pdf.SetFont("report", "", 7)
		pdf.SetFillColor(230, 230, 230)
		for i, h := range t.Header {
			pdf.CellFormat(widths[i], 6, h, "1", 0, "L", true, 0, "")
		}
		pdf.Ln(-1)
	}
	pdf.SetHeaderFunc(func() {
		if pdf.PageNo() > 1 {
			header()
		}
	})
	pdf.AddPage()
	pdf.SetFont("report", "", 13)
	pdf.CellFormat(0, 9, t.Title, "", 1, "L", false, 0, "")
	header()
	pdf.SetFont("report", "", 7)
	for _, row := range t.Rows {
		for i, c := range row {
			pdf.CellFormat(widths[i], 5, c, "1", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
	}
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
