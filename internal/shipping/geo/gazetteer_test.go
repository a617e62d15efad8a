package geo_test

import (
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/shipping/geo"
)

// merger is Resolution 202/2025/QH15 (National Assembly, 12 June 2025; in force for the new
// provincial governments from 1 July 2025), written out independently of the data file so
// that an edit of either is caught: each current unit and the former units it is made of.
// Thừa Thiên Huế had become Thành phố Huế on 1 January 2025 (Resolution 1314/NQ-UBTVQH15).
// Checked against public summaries of the resolution (63 -> 34 units: 28 provinces and 6
// centrally-run cities, 11 unchanged).
var merger = map[string][]string{
	"Hà Nội": {"Hà Nội"}, "Huế": {"Thừa Thiên Huế"}, "Lai Châu": {"Lai Châu"},
	"Điện Biên": {"Điện Biên"}, "Sơn La": {"Sơn La"}, "Lạng Sơn": {"Lạng Sơn"},
	"Quảng Ninh": {"Quảng Ninh"}, "Thanh Hóa": {"Thanh Hóa"}, "Nghệ An": {"Nghệ An"},
	"Hà Tĩnh": {"Hà Tĩnh"}, "Cao Bằng": {"Cao Bằng"},
	"Tuyên Quang": {"Tuyên Quang", "Hà Giang"},
	"Lào Cai":     {"Lào Cai", "Yên Bái"},
	"Thái Nguyên": {"Thái Nguyên", "Bắc Kạn"},
	"Phú Thọ":     {"Phú Thọ", "Vĩnh Phúc", "Hòa Bình"},
	"Bắc Ninh":    {"Bắc Ninh", "Bắc Giang"},
	"Hưng Yên":    {"Hưng Yên", "Thái Bình"},
	"Hải Phòng":   {"Hải Phòng", "Hải Dương"},
	"Ninh Bình":   {"Ninh Bình", "Hà Nam", "Nam Định"},
	"Quảng Trị":   {"Quảng Trị", "Quảng Bình"},
	"Đà Nẵng":     {"Đà Nẵng", "Quảng Nam"},
	"Quảng Ngãi":  {"Quảng Ngãi", "Kon Tum"},
	"Gia Lai":     {"Gia Lai", "Bình Định"},
	"Khánh Hòa":   {"Khánh Hòa", "Ninh Thuận"},
	"Lâm Đồng":    {"Lâm Đồng", "Đắk Nông", "Bình Thuận"},
	"Đắk Lắk":     {"Đắk Lắk", "Phú Yên"},
	"Hồ Chí Minh": {"Hồ Chí Minh", "Bình Dương", "Bà Rịa - Vũng Tàu"},
	"Đồng Nai":    {"Đồng Nai", "Bình Phước"},
	"Tây Ninh":    {"Tây Ninh", "Long An"},
	"Cần Thơ":     {"Cần Thơ", "Sóc Trăng", "Hậu Giang"},
	"Vĩnh Long":   {"Vĩnh Long", "Bến Tre", "Trà Vinh"},
	"Đồng Tháp":   {"Đồng Tháp", "Tiền Giang"},
	"Cà Mau":      {"Cà Mau", "Bạc Liêu"},
	"An Giang":    {"An Giang", "Kiên Giang"},
}

func TestGazetteerHoldsTheMergerExactly(t *testing.T) {
	t.Parallel()
	g := geo.Default()
	require.Len(t, g.Provinces(), 34)
	require.Len(t, g.FormerProvinces(), 63)

	cities, codes := 0, map[string]bool{}
	for _, f := range g.FormerProvinces() {
		assert.Len(t, f.Code, 2, f.Name)
		assert.False(t, codes[f.Code], "code %s twice", f.Code)
		codes[f.Code] = true
	}
	got := map[string][]string{}
	for _, p := range g.Provinces() {
		if p.Type == "city" {
			cities++
		}
		for _, m := range g.Members(p.Slug) {
			got[p.Short] = append(got[p.Short], m.Short)
		}
		assert.True(t, p.Point().Valid(), p.Name)
		assert.True(t, p.Lat > 8 && p.Lat < 23.5 && p.Lng > 102 && p.Lng < 110, "%s is not in Viet Nam", p.Name)
	}
	assert.Equal(t, 6, cities, "six centrally-run cities")
	want := map[string][]string{}
	for k, v := range merger {
		want[k] = append([]string(nil), v...)
		sort.Strings(want[k])
	}
	for k := range got {
		sort.Strings(got[k])
	}
	assert.Equal(t, want, got)
}

func TestFormerNamesMapToTheirMergedUnit(t *testing.T) {
	t.Parallel()
	g := geo.Default()
	for _, tc := range []struct{ name, now, nowName string }{
		{"Hà Giang", "Tuyên Quang", "Tỉnh Tuyên Quang"},
		{"Bình Dương", "Hồ Chí Minh", "Thành phố Hồ Chí Minh"},
		{"Bà Rịa - Vũng Tàu", "Hồ Chí Minh", "Thành phố Hồ Chí Minh"},
		{"Ba Ria Vung Tau", "Hồ Chí Minh", "Thành phố Hồ Chí Minh"},
		{"BR-VT", "Hồ Chí Minh", "Thành phố Hồ Chí Minh"},
		{"Quảng Nam", "Đà Nẵng", "Thành phố Đà Nẵng"},
		{"Thừa Thiên Huế", "Huế", "Thành phố Huế"},
		{"Tỉnh Thừa Thiên - Huế", "Huế", "Thành phố Huế"},
		{"Yên Bái", "Lào Cai", "Tỉnh Lào Cai"},
		{"Bắc Giang", "Bắc Ninh", "Tỉnh Bắc Ninh"},
		{"Hải Dương", "Hải Phòng", "Thành phố Hải Phòng"},
		{"Nam Định", "Ninh Bình", "Tỉnh Ninh Bình"},
		{"Quảng Bình", "Quảng Trị", "Tỉnh Quảng Trị"},
		{"Kon Tum", "Quảng Ngãi", "Tỉnh Quảng Ngãi"},
		{"Bình Định", "Gia Lai", "Tỉnh Gia Lai"},
		{"Đắk Nông", "Lâm Đồng", "Tỉnh Lâm Đồng"},
		{"Long An", "Tây Ninh", "Tỉnh Tây Ninh"},
		{"Sóc Trăng", "Cần Thơ", "Thành phố Cần Thơ"},
		{"Bến Tre", "Vĩnh Long", "Tỉnh Vĩnh Long"},
		{"Tiền Giang", "Đồng Tháp", "Tỉnh Đồng Tháp"},
		{"Bạc Liêu", "Cà Mau", "Tỉnh Cà Mau"},
		{"Kiên Giang", "An Giang", "Tỉnh An Giang"},
		{"Bac Can", "Thái Nguyên", "Tỉnh Thái Nguyên"},
	} {
		m, ok := g.LookupProvince(tc.name)
		if assert.True(t, ok, tc.name) {
			assert.Equal(t, tc.now, m.Province.Short, tc.name)
			assert.Equal(t, tc.nowName, m.Province.Name, tc.name)
			assert.NotNil(t, m.Former, "%s is a former name", tc.name)
		}
	}
}

func TestProvinceMatchingIgnoresAccentsCasePunctuationAndUnitWords(t *testing.T) {
	t.Parallel()
	g := geo.Default()
	for _, tc := range []struct{ in, short string }{
		{"Hà Nội", "Hà Nội"}, {"Ha Noi", "Hà Nội"}, {"HA NOI", "Hà Nội"}, {"hanoi", "Hà Nội"},
		{"Hanoi", "Hà Nội"}, {"TP. Hà Nội", "Hà Nội"}, {"Thành phố Hà Nội", "Hà Nội"}, {"Ha Noi City", "Hà Nội"},
		{"tp ho chi minh", "Hồ Chí Minh"}, {"Thành phố Hồ Chí Minh", "Hồ Chí Minh"}, {"TP.HCM", "Hồ Chí Minh"},
		{"TPHCM", "Hồ Chí Minh"}, {"HCM", "Hồ Chí Minh"}, {"Ho Chi Minh City", "Hồ Chí Minh"},
		{"Sài Gòn", "Hồ Chí Minh"}, {"saigon", "Hồ Chí Minh"}, {"  tp.   hồ  chí minh ", "Hồ Chí Minh"},
		{"Đà Nẵng", "Đà Nẵng"}, {"da nang", "Đà Nẵng"}, {"DANANG", "Đà Nẵng"}, {"đà-nẵng", "Đà Nẵng"},
		{"Tỉnh Đắk Lắk", "Đắk Lắk"}, {"Dak Lak", "Đắk Lắk"}, {"Daklak", "Đắk Lắk"}, {"Đắc Lắc", "Đắk Lắk"},
		{"Thanh Hoá", "Thanh Hóa"}, {"Khanh Hoa", "Khánh Hòa"}, {"Huế", "Huế"}, {"hue", "Huế"},
		{"Can Tho", "Cần Thơ"}, {"Hai Phong", "Hải Phòng"}, {"Haiphong", "Hải Phòng"},
	} {
		m, ok := g.LookupProvince(tc.in)
		if assert.True(t, ok, tc.in) {
			assert.Equal(t, tc.short, m.Province.Short, tc.in)
		}
	}
	for _, in := range []string{"", "Hà Nộii Mới", "Paris", "tp", "Quận 1"} {
		_, ok := g.LookupProvince(in)
		assert.False(t, ok, in)
	}
}

func TestFold(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Thành phố Hồ Chí Minh": "thanh pho ho chi minh",
		"ĐỒNG THÁP":             "dong thap",
		"đường Điện Biên Phủ":   "duong dien bien phu",
		"Q.1":                   "q 1",
		"Q1":                    "q 1",
		"P12":                   "p 12",
		"Bà Rịa–Vũng Tàu":       "ba ria vung tau",
		"Thừa Thiên - Huế":      "thua thien hue",
		// decomposed input (NFD, as some keyboards send it) folds the same
		"Ha\u0300 No\u0323\u0302i": "ha noi",
		"Ho Chi Minh City":         "ho chi minh city",
	} {
		assert.Equal(t, want, geo.Fold(in), in)
	}
}

// TestFoldInParallel: the folding chains are reused, one caller at a time, so folds running
// at once never see each other's text (run it with -race).
func TestFoldInParallel(t *testing.T) {
	t.Parallel()
	cases := map[string]string{"Thành phố Hồ Chí Minh": "thanh pho ho chi minh", "ĐỒNG THÁP": "dong thap",
		"Bà Rịa–Vũng Tàu": "ba ria vung tau", "Hanoi": "hanoi", "Thừa Thiên - Huế": "thua thien hue"}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				for in, want := range cases {
					if got := geo.Fold(in); got != want {
						t.Errorf("Fold(%q) = %q, want %q", in, got, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkLookupProvince looks up the province names of a checkout's addresses, accented and
// not, as the shipping fee does for the shop and the buyer.
func BenchmarkLookupProvince(b *testing.B) {
	g := geo.Default()
	b.ReportAllocs()
	for b.Loop() {
		for _, in := range []string{"Thành phố Hồ Chí Minh", "Hà Nội", "Ho Chi Minh City", "Da Nang"} {
			if _, ok := g.LookupProvince(in); !ok {
				b.Fatal(in)
			}
		}
	}
}

func TestDistrictMatching(t *testing.T) {
	t.Parallel()
	g := geo.Default()
	for _, tc := range []struct{ province, in, want string }{
		{"ho-chi-minh", "Quận 1", "Quận 1"},
		{"ho-chi-minh", "Quan 1", "Quận 1"},
		{"ho-chi-minh", "Q1", "Quận 1"},
		{"ho-chi-minh", "Q.1", "Quận 1"},
		{"ho-chi-minh", "q. 1", "Quận 1"},
		{"ho-chi-minh", "District 1", "Quận 1"},
		{"ho-chi-minh", "quan 10", "Quận 10"},
		{"ho-chi-minh", "Binh Thanh", "Quận Bình Thạnh"},
		{"ho-chi-minh", "Q. Bình Thạnh", "Quận Bình Thạnh"},
		{"ho-chi-minh", "Binh Thanh District", "Quận Bình Thạnh"},
		{"ho-chi-minh", "TP Thủ Đức", "Thành phố Thủ Đức"},
		{"ho-chi-minh", "Thu Duc City", "Thành phố Thủ Đức"},
		{"ho-chi-minh", "H. Củ Chi", "Huyện Củ Chi"},
		// the districts of the units merged into Hồ Chí Minh City are found under it
		{"ho-chi-minh", "Thủ Dầu Một", "Thành phố Thủ Dầu Một"},
		{"ho-chi-minh", "TP Vũng Tàu", "Thành phố Vũng Tàu"},
		{"ha-noi", "Ba Dinh", "Quận Ba Đình"},
		{"ha-noi", "quận đống đa", "Quận Đống Đa"},
		{"ha-noi", "TX Sơn Tây", "Thị xã Sơn Tây"},
		{"da-nang", "Hai Chau", "Quận Hải Châu"},
		{"da-nang", "Hội An", "Thành phố Hội An"},
		{"hai-phong", "Ngo Quyen", "Quận Ngô Quyền"},
		{"can-tho", "Ninh Kieu", "Quận Ninh Kiều"},
		{"hue", "Thành phố Huế", "Quận Thuận Hóa"},
		{"dak-lak", "Ban Me Thuot", "Thành phố Buôn Ma Thuột"},
		{"ninh-binh", "TP Ninh Bình", "Thành phố Hoa Lư"},
	} {
		d, ok := g.LookupDistrict(tc.province, tc.in)
		if assert.True(t, ok, "%s in %s", tc.in, tc.province) {
			assert.Equal(t, tc.want, d.Name, tc.in)
		}
	}
	_, ok := g.LookupDistrict("ha-noi", "Quận 1")
	assert.False(t, ok, "Quận 1 is not in Hà Nội")
	_, ok = g.LookupDistrict("ho-chi-minh", "Ba Đình")
	assert.False(t, ok, "Ba Đình is not in Hồ Chí Minh City")
}

func TestEveryProvincialCapitalIsADistrict(t *testing.T) {
	t.Parallel()
	g := geo.Default()
	for _, f := range g.FormerProvinces() {
		found := false
		for _, d := range g.Districts(f.Now) {
			if d.In == f.Slug && geo.Haversine(d.Point(), f.Point()) < 5 {
				found = true
			}
		}
		assert.True(t, found, "no district at the seat of %s", f.Name)
	}
}

func TestSuggestionsForNearMisses(t *testing.T) {
	t.Parallel()
	g := geo.Default()
	assert.Contains(t, g.SuggestProvinces("Ha Nio"), "Hà Nội")
	assert.Contains(t, g.SuggestProvinces("Da Nagn"), "Đà Nẵng")
	assert.Contains(t, g.SuggestProvinces("Quang Ngai x"), "Quảng Ngãi")
	assert.Contains(t, g.SuggestProvinces("ho chi"), "Hồ Chí Minh", "a name cut short")
	assert.Contains(t, g.SuggestProvinces("Binh Duongg"), "Bình Dương", "former names too")
	assert.Empty(t, g.SuggestProvinces("Paris"))
	assert.Contains(t, g.SuggestDistricts("ho-chi-minh", "Binh Thanhh"), "Quận Bình Thạnh")
	assert.LessOrEqual(t, len(g.SuggestDistricts("ho-chi-minh", "Quận 13")), 3)
	assert.NotEmpty(t, g.SuggestDistricts("ho-chi-minh", "Quận 13"))
}

func TestLoadRejectsInconsistentData(t *testing.T) {
	t.Parallel()
	for name, data := range map[string]string{
		"not json":         `{`,
		"unknown now":      `{"provinces":[{"slug":"a","name":"A","short":"A"}],"former":[{"slug":"a","name":"A","short":"A","now":"b"}]}`,
		"no members":       `{"provinces":[{"slug":"a","name":"A","short":"A"},{"slug":"b","name":"B","short":"B"}],"former":[{"slug":"a","name":"A","short":"A","now":"a"}]}`,
		"name twice":       `{"provinces":[{"slug":"a","name":"Ha Noi","short":"A"},{"slug":"b","name":"Hà Nội","short":"B"}],"former":[]}`,
		"district nowhere": `{"provinces":[{"slug":"a","name":"A","short":"A"}],"former":[{"slug":"a","name":"A","short":"A","now":"a"}],"districts":[{"in":"x","name":"Quận 1"}]}`,
	} {
		_, err := geo.Load([]byte(data))
		assert.Error(t, err, name)
	}
}
