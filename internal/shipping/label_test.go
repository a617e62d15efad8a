package shipping

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/shipping/internal/store"
)

// DecodeLabelBarcode finds the barcode image in a label PDF and reads it back with a Code 128
// reader, as a scanner at the depot would. Tests of the HTTP route use it through export.
func DecodeLabelBarcode(t testing.TB, pdf []byte) string {
	t.Helper()
	img := labelImage(t, pdf)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	res, err := oned.NewCode128Reader().Decode(bmp, nil)
	require.NoError(t, err)
	return res.GetText()
}

var imageObject = regexp.MustCompile(`/Subtype /Image\n/Width (\d+)\n/Height (\d+)\n/ColorSpace /DeviceGray\n` +
	`/BitsPerComponent 8\n/Filter /FlateDecode\n/DecodeParms <<[^>]*>>\n/Length (\d+)>>\nstream\n`)

// labelImage rebuilds the PNG the label embeds: a PDF image from a PNG keeps the PNG's IDAT
// stream as it was (zlib data of filtered scanlines), so the stream plus a grey-scale header
// is a PNG again.
func labelImage(t testing.TB, pdf []byte) image.Image {
	t.Helper()
	m := imageObject.FindSubmatchIndex(pdf)
	require.NotNil(t, m, "the label holds a grey-scale image")
	num := func(i int) int {
		n, err := strconv.Atoi(string(pdf[m[2*i]:m[2*i+1]]))
		require.NoError(t, err)
		return n
	}
	w, h, n := num(1), num(2), num(3)
	data := pdf[m[1] : m[1]+n]

	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, body []byte) {
		_ = binary.Write(&buf, binary.BigEndian, uint32(len(body)))
		crc := crc32.NewIEEE()
		buf.WriteString(kind)
		crc.Write([]byte(kind))
		buf.Write(body)
		crc.Write(body)
		_ = binary.Write(&buf, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 0 // 8-bit grey
	chunk("IHDR", ihdr)
	chunk("IDAT", data)
	chunk("IEND", nil)
	img, err := png.Decode(&buf)
	require.NoError(t, err)
	return img
}

func TestLabelPrintsAScannableBarcode(t *testing.T) {
	t.Parallel()
	tn := trackingNumber()
	assert.Regexp(t, `^GS[0-9A-HJKMNP-TV-Z]{13}$`, tn)
	assert.NotEqual(t, tn, trackingNumber())

	doc, err := renderLabel(store.ShippingShipment{
		OrderID: uuid.New(), TrackingNumber: tn, ShopName: "Cửa hàng Đồ Gốm Bát Tràng", Method: "same_day",
		Currency: "VND", CodAmount: 1_250_000, DistanceKm: 4.2, WeightGrams: 1500,
		Recipient: []byte(`{"name":"Nguyễn Thị Hương","phone":"0901234567","line1":"12 Nguyễn Huệ","ward":"Bến Nghé",` +
			`"district":"Quận 1","province":"Hồ Chí Minh"}`),
	}, time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(doc, []byte("%PDF-")), "a PDF")
	assert.True(t, bytes.HasSuffix(bytes.TrimSpace(doc), []byte("%%EOF")), "a whole PDF")
	assert.Contains(t, string(doc), tn, "the tracking number is in the document's metadata")
	assert.Contains(t, string(doc), "/FontFile2", "the Vietnamese font is embedded")
	assert.Equal(t, tn, DecodeLabelBarcode(t, doc))
}

func TestBarcodeAndFormatting(t *testing.T) {
	t.Parallel()
	raw, err := barcodePNG("GS0123456789ABC")
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(raw))
	require.NoError(t, err)
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	res, err := oned.NewCode128Reader().Decode(bmp, nil)
	require.NoError(t, err)
	assert.Equal(t, "GS0123456789ABC", res.GetText())

	assert.Equal(t, "1.250.000 ₫", formatMoney(1_250_000, "VND"))
	assert.Equal(t, "999 ₫", formatMoney(999, "VND"))
	assert.Equal(t, "1.000 USD", formatMoney(1000, "USD"))
	assert.Equal(t, "750 g", formatWeight(750))
	assert.Equal(t, "1.50 kg", formatWeight(1500))
	assert.Equal(t, "a, b", joinNonEmpty(", ", " a ", "", "b"))
	assert.False(t, strings.Contains(joinNonEmpty(", ", "", ""), ","))
}
