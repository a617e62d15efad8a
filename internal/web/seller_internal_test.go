package web

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSellerTextsAreTranslated: every text of the seller center exists in both languages.
func TestSellerTextsAreTranslated(t *testing.T) {
	for _, lang := range sellerLangCodes {
		v := reflect.ValueOf(*sellerLangs[lang])
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() && f.Type.Kind() == reflect.String {
				assert.NotEmpty(t, v.Field(i).String(), "%s lacks %s", lang, f.Name)
			}
		}
		assert.NotNil(t, sellerLangs[lang].printer, lang)
	}
	assert.NotEqual(t, textsVI.SignIn, textsEN.SignIn)
}

func TestSellerMoneyIsWrittenAsEachLanguageWritesIt(t *testing.T) {
	assert.Equal(t, "1.250.000 ₫", textsVI.money(1_250_000))
	assert.Equal(t, "₫1,250,000", textsEN.money(1_250_000))
	assert.Equal(t, "0 ₫", textsVI.money(0))
	assert.Equal(t, "-5.000 ₫", textsVI.money(-5000), "a refund-heavy day")
}

func TestSellerLanguageChoice(t *testing.T) {
	for _, c := range []struct {
		name, asked, cookie, accept, want string
	}{
		{"nothing: Vietnamese", "", "", "", "vi"},
		{"asked", "en", "vi", "vi", "en"},
		{"the cookie", "", "en", "vi", "en"},
		{"a cookie of no language", "", "xx", "en-US", "en"},
		{"Accept-Language", "", "", "en-US,en;q=0.9", "en"},
		{"Accept-Language with both", "", "", "fr;q=1, vi;q=0.8, en;q=0.5", "vi"},
		{"Accept-Language with neither", "", "", "ja,fr", "vi"},
		{"malformed Accept-Language", "", "", ";;;q=zz", "vi"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/seller", nil)
		if c.cookie != "" {
			r.AddCookie(&http.Cookie{Name: sellerLangCookie, Value: c.cookie})
		}
		if c.accept != "" {
			r.Header.Set("Accept-Language", c.accept)
		}
		w := httptest.NewRecorder()
		assert.Equal(t, c.want, sellerLang(w, r, c.asked, false), c.name)
		if c.asked != "" {
			assert.Contains(t, w.Header().Get("Set-Cookie"), sellerLangCookie+"="+c.asked, c.name)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[int64]int64{0: 1, -3: 1, 1: 1, 7: 10, 10: 10, 11: 20, 180_000: 200_000, 250_000: 500_000,
		500_000: 500_000, 999_999: 1_000_000} {
		assert.Equal(t, want, niceCeil(in), "%d", in)
	}
}

// TestRevenueChartIsWellFormedSVG: the chart parses as XML, draws one point a day, and escapes
// what it writes.
func TestRevenueChartIsWellFormedSVG(t *testing.T) {
	day := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	for _, n := range []int{0, 1, 30} {
		points := make([]chartPoint, n)
		for i := range points {
			points[i] = chartPoint{Day: day.AddDate(0, 0, i), Value: int64(i%7) * 125_000}
		}
		svg := string(revenueChart(points, &textsVI))
		dec := xml.NewDecoder(strings.NewReader(svg))
		circles := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				require.ErrorContains(t, err, "EOF", "%d points: %s", n, svg)
				break
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "circle" {
				circles++
			}
		}
		assert.Equal(t, n, circles, "%d points", n)
		assert.True(t, strings.HasPrefix(svg, `<svg id="revenue-chart"`))
	}
	svg := string(revenueChart([]chartPoint{{Day: day, Value: 750_000}}, &textsEN))
	assert.Contains(t, svg, "Nov 3, 2026: ₫750,000")
	assert.Contains(t, svg, ">1M<", "the top gridline on a round figure")
	assert.Equal(t, "1,5tr", chartFigure(1_500_000, &textsVI))
	assert.Equal(t, "250k", chartFigure(250_000, &textsEN))
	assert.Equal(t, "2 tỷ", chartFigure(2_000_000_000, &textsVI))
	assert.Equal(t, "0", chartFigure(0, &textsVI))
}
