package shipping

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"time"

	"github.com/boombuler/barcode/code128"
	"github.com/go-pdf/fpdf"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/fonts"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/shipping/internal/store"
)

// LabelInput asks for an order's shipping label.
type LabelInput struct {
	OrderID uuid.UUID `json:"order_id" validate:"required"`
}

// Label is a printable shipping label.
type Label struct {
	TrackingNumber string
	PDF            []byte
}

// Label prints an order's shipping label: the shop's owner, the assigned shipper and admins
// may. The shipment is opened first when the order is ready and its event is still queued.
func (s *Service) Label(ctx context.Context, p auth.Principal, in LabelInput) (Label, error) {
	row, err := s.q.GetShipment(ctx, in.OrderID)
	if pgdb.IsNoRows(err) {
		if _, err := s.managerRole(ctx, p, in.OrderID); err != nil {
			return Label{}, err
		}
		row, err = s.ensureShipment(ctx, in.OrderID)
	}
	if err != nil {
		return Label{}, err
	}
	if !(p.IsAdmin() || p.UserID == row.ShopOwnerID || (row.ShipperID != nil && *row.ShipperID == p.UserID)) {
		if p.UserID == row.BuyerID {
			return Label{}, apperr.New(apperr.Forbidden, "only the shop and the assigned shipper may print a delivery's label")
		}
		return Label{}, apperr.NotFoundf("shipment")
	}
	doc, err := renderLabel(row, time.Now().In(s.cfg.Location))
	if err != nil {
		return Label{}, err
	}
	return Label{TrackingNumber: row.TrackingNumber, PDF: doc}, nil
}

// Label geometry, in millimetres: a 100 × 150 mm (4 × 6 in) thermal label.
const (
	labelW, labelH = 100.0, 150.0
	margin         = 5.0
)

// renderLabel draws the label: the tracking number as a Code 128 barcode and in print, the
// sender, the recipient, the parcel and what the shipper collects.
func renderLabel(m store.ShippingShipment, now time.Time) ([]byte, error) {
	var to Recipient
	if err := json.Unmarshal(m.Recipient, &to); err != nil {
		return nil, fmt.Errorf("shipping: label recipient: %w", err)
	}
	bar, err := barcodePNG(m.TrackingNumber)
	if err != nil {
		return nil, err
	}

	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: labelW, Ht: labelH}})
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(false, margin)
	// The title and subject are in the document's plain metadata, so that the tracking number
	// can be found in the file without rendering it.
	pdf.SetTitle("GoShop shipping label "+m.TrackingNumber, false)
	pdf.SetSubject(m.TrackingNumber, false)
	pdf.SetCreator("GoShop", false)
	pdf.SetCreationDate(now)
	pdf.AddUTF8FontFromBytes("label", "", fonts.DejaVuSansCondensed)
	pdf.AddPage()
	w := labelW - 2*margin

	pdf.SetFont("label", "", 16)
	pdf.CellFormat(w*0.6, 8, "GoShop Express", "", 0, "L", false, 0, "")
	pdf.SetFont("label", "", 11)
	pdf.CellFormat(w*0.4, 8, strings.ToUpper(strings.ReplaceAll(m.Method, "_", " ")), "", 1, "R", false, 0, "")
	pdf.Line(margin, pdf.GetY()+1, labelW-margin, pdf.GetY()+1)

	pdf.RegisterImageOptionsReader("barcode", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(bar))
	pdf.ImageOptions("barcode", margin, pdf.GetY()+3, w, 28, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	pdf.SetY(pdf.GetY() + 32)
	pdf.SetFont("label", "", 14)
	pdf.CellFormat(w, 7, m.TrackingNumber, "", 1, "C", false, 0, "")
	pdf.Line(margin, pdf.GetY()+1, labelW-margin, pdf.GetY()+1)
	pdf.Ln(3)

	section := func(title string, lines ...string) {
		pdf.SetFont("label", "", 8)
		pdf.CellFormat(w, 4, title, "", 1, "L", false, 0, "")
		pdf.SetFont("label", "", 11)
		for _, l := range lines {
			if strings.TrimSpace(l) != "" {
				pdf.MultiCell(w, 5, l, "", "L", false)
			}
		}
		pdf.Ln(2)
	}
	section("TỪ / FROM", m.ShopName)
	section("ĐẾN / TO", to.Name+"  "+to.Phone, to.Line1, joinNonEmpty(", ", to.Ward, to.District), to.Province)
	pdf.Line(margin, pdf.GetY(), labelW-margin, pdf.GetY())
	pdf.Ln(2)

	collect := "Đã thanh toán / Prepaid"
	if m.CodAmount > 0 {
		collect = "Thu hộ / COD: " + formatMoney(m.CodAmount, m.Currency)
	}
	section("BƯU KIỆN / PARCEL",
		fmt.Sprintf("%s · %.1f km", formatWeight(m.WeightGrams), m.DistanceKm),
		"Đơn hàng / Order: "+m.OrderID.String(),
		"Ngày / Date: "+now.Format("2006-01-02"))
	pdf.SetFont("label", "", 14)
	pdf.MultiCell(w, 7, collect, "1", "C", false)

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("shipping: label: %w", err)
	}
	return buf.Bytes(), nil
}

// barcodePNG renders a Code 128 barcode as a grey-scale PNG, 3 pixels a module, with the
// ten-module quiet zones scanners need on both sides.
func barcodePNG(content string) ([]byte, error) {
	code, err := code128.Encode(content)
	if err != nil {
		return nil, fmt.Errorf("shipping: barcode: %w", err)
	}
	const scale, quiet, height = 3, 10, 90
	modules := code.Bounds().Dx()
	img := image.NewGray(image.Rect(0, 0, (modules+2*quiet)*scale, height))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for x := range modules {
		if c := color.GrayModel.Convert(code.At(code.Bounds().Min.X+x, 0)).(color.Gray); c.Y < 0x80 {
			for px := (x + quiet) * scale; px < (x+quiet+1)*scale; px++ {
				for y := range height {
					img.SetGray(px, y, color.Gray{})
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// formatMoney writes an amount the Vietnamese way: 250.000 ₫.
func formatMoney(amount int64, currency string) string {
	s := fmt.Sprint(amount)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if currency == "VND" {
		return b.String() + " ₫"
	}
	return b.String() + " " + currency
}

func formatWeight(grams int64) string {
	if grams < 1000 {
		return fmt.Sprintf("%d g", grams)
	}
	return fmt.Sprintf("%.2f kg", float64(grams)/1000)
}
