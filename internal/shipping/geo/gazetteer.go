// Package geo is the shipping context's map of Viet Nam, kept offline: an embedded gazetteer
// of province-level units before and after the 1 July 2025 merger and of major districts,
// accent-insensitive address validation and geocoding over it, great-circle and road
// distances, pluggable HTTP geocoders and routers, and the shipping fee computation.
//
// The merger is Resolution 202/2025/QH15 of the National Assembly (adopted 12 June 2025; the
// new provincial governments took office on 1 July 2025): 63 province-level units became 34
// (28 provinces and 6 centrally-run cities). Eleven units kept their territory (Hà Nội, Huế,
// Lai Châu, Điện Biên, Sơn La, Lạng Sơn, Quảng Ninh, Thanh Hóa, Nghệ An, Hà Tĩnh, Cao Bằng);
// the other 52 were merged into 23, each named after one of its members (Tuyên Quang = Tuyên
// Quang + Hà Giang; Lào Cai = Lào Cai + Yên Bái; Thái Nguyên = Thái Nguyên + Bắc Kạn; Phú Thọ
// = Phú Thọ + Vĩnh Phúc + Hòa Bình; Bắc Ninh = Bắc Ninh + Bắc Giang; Hưng Yên = Hưng Yên +
// Thái Bình; Hải Phòng = Hải Phòng + Hải Dương; Ninh Bình = Ninh Bình + Hà Nam + Nam Định;
// Quảng Trị = Quảng Trị + Quảng Bình; Đà Nẵng = Đà Nẵng + Quảng Nam; Quảng Ngãi = Quảng Ngãi
// + Kon Tum; Gia Lai = Gia Lai + Bình Định; Khánh Hòa = Khánh Hòa + Ninh Thuận; Lâm Đồng =
// Lâm Đồng + Đắk Nông + Bình Thuận; Đắk Lắk = Đắk Lắk + Phú Yên; Hồ Chí Minh City = Hồ Chí
// Minh City + Bình Dương + Bà Rịa - Vũng Tàu; Đồng Nai = Đồng Nai + Bình Phước; Tây Ninh =
// Tây Ninh + Long An; Cần Thơ = Cần Thơ + Sóc Trăng + Hậu Giang; Vĩnh Long = Vĩnh Long + Bến
// Tre + Trà Vinh; Đồng Tháp = Đồng Tháp + Tiền Giang; Cà Mau = Cà Mau + Bạc Liêu; An Giang =
// An Giang + Kiên Giang). Thừa Thiên Huế had already become the centrally-run Thành phố Huế
// on 1 January 2025 (Resolution 1314/NQ-UBTVQH15). The data file carries the same list as
// the `now` of each former unit, and the tests pin it.
package geo

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/agnivade/levenshtein"
)

//go:embed data/vietnam.json
var vietnamJSON []byte

// Province is a province-level unit: one of the 34 in force since 1 July 2025, or one of the
// 63 before (a former unit, whose Now names the unit it became).
type Province struct {
	Slug    string   `json:"slug"`
	Code    string   `json:"code,omitempty"` // statistical office code; former units only
	Name    string   `json:"name"`           // official name, e.g. "Thành phố Hồ Chí Minh"
	Short   string   `json:"short"`          // name without the unit word, e.g. "Hồ Chí Minh"
	Type    string   `json:"type"`           // "city" (centrally-run) or "province"
	Seat    string   `json:"seat,omitempty"` // where its government sits; current units only
	Lat     float64  `json:"lat"`
	Lng     float64  `json:"lng"`
	Aliases []string `json:"aliases"`
	Now     string   `json:"now,omitempty"` // former units: the slug of the current unit
}

// Point is where the unit's government sits, which the gazetteer uses as its centroid.
func (p *Province) Point() Point { return Point{Lat: p.Lat, Lng: p.Lng} }

// District is a district-level unit as it stood before the 2025 reform abolished that level;
// addresses still name them, and they locate a parcel far better than the province does.
type District struct {
	In      string   `json:"in"` // slug of its former province
	Name    string   `json:"name"`
	Lat     float64  `json:"lat"`
	Lng     float64  `json:"lng"`
	Aliases []string `json:"aliases,omitempty"`
	Note    string   `json:"note,omitempty"` // set when the unit has since been merged or renamed
}

// Point is the district's centre.
func (d *District) Point() Point { return Point{Lat: d.Lat, Lng: d.Lng} }

// Gazetteer answers which unit a name means. It is immutable once loaded and safe for
// concurrent use.
type Gazetteer struct {
	current   []*Province
	former    []*Province
	bySlug    map[string]*Province   // current units
	members   map[string][]*Province // current slug -> the former units it is made of
	curKeys   map[string]*Province
	formKeys  map[string]*Province
	districts map[string]map[string]*District // current slug -> key -> district
	complete  map[string]bool                 // former slugs whose districts are all listed
}

type gazetteerFile struct {
	Provinces         []*Province `json:"provinces"`
	CompleteDistricts []string    `json:"complete_districts"`
	Former            []*Province `json:"former"`
	Districts         []*District `json:"districts"`
}

// Default is the gazetteer shipped in the binary.
var Default = sync.OnceValue(func() *Gazetteer {
	g, err := Load(vietnamJSON)
	if err != nil {
		panic(err) // the embedded file is part of the build; its tests catch a bad edit
	}
	return g
})

// Load reads a gazetteer in the format of data/vietnam.json and checks that it hangs
// together: every former unit becomes a known current one, every current unit has members,
// and no name means two different units.
func Load(data []byte) (*Gazetteer, error) {
	var f gazetteerFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("geo: gazetteer: %w", err)
	}
	g := &Gazetteer{
		current: f.Provinces, former: f.Former,
		bySlug: map[string]*Province{}, members: map[string][]*Province{},
		curKeys: map[string]*Province{}, formKeys: map[string]*Province{},
		districts: map[string]map[string]*District{}, complete: map[string]bool{},
	}
	for _, p := range f.Provinces {
		if g.bySlug[p.Slug] != nil {
			return nil, fmt.Errorf("geo: gazetteer: duplicate province %q", p.Slug)
		}
		g.bySlug[p.Slug] = p
		if err := addKeys(g.curKeys, p, provinceKey, append([]string{p.Name, p.Short}, p.Aliases...)); err != nil {
			return nil, err
		}
	}
	formerBySlug := map[string]*Province{}
	for _, p := range f.Former {
		if formerBySlug[p.Slug] != nil {
			return nil, fmt.Errorf("geo: gazetteer: duplicate former province %q", p.Slug)
		}
		formerBySlug[p.Slug] = p
		if g.bySlug[p.Now] == nil {
			return nil, fmt.Errorf("geo: gazetteer: former province %q became unknown %q", p.Slug, p.Now)
		}
		g.members[p.Now] = append(g.members[p.Now], p)
		if err := addKeys(g.formKeys, p, provinceKey, append([]string{p.Name, p.Short}, p.Aliases...)); err != nil {
			return nil, err
		}
	}
	for _, p := range f.Provinces {
		if len(g.members[p.Slug]) == 0 {
			return nil, fmt.Errorf("geo: gazetteer: province %q has no former units", p.Slug)
		}
	}
	for _, slug := range f.CompleteDistricts {
		if formerBySlug[slug] == nil {
			return nil, fmt.Errorf("geo: gazetteer: complete_districts names unknown %q", slug)
		}
		g.complete[slug] = true
	}
	for _, d := range f.Districts {
		in := formerBySlug[d.In]
		if in == nil {
			return nil, fmt.Errorf("geo: gazetteer: district %q in unknown province %q", d.Name, d.In)
		}
		keys := g.districts[in.Now]
		if keys == nil {
			keys = map[string]*District{}
			g.districts[in.Now] = keys
		}
		if err := addKeys(keys, d, districtKey, append([]string{d.Name}, d.Aliases...)); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// addKeys indexes v under the key of each name; one key naming two values is a data error.
func addKeys[T comparable](index map[string]T, v T, keyOf func(string) string, names []string) error {
	var zero T
	for _, n := range names {
		k := keyOf(n)
		if k == "" {
			return fmt.Errorf("geo: gazetteer: name %q has an empty key", n)
		}
		if old := index[k]; old != zero && old != v {
			return fmt.Errorf("geo: gazetteer: %q means two units", n)
		}
		index[k] = v
	}
	return nil
}

// Provinces returns the 34 units in force since 1 July 2025.
func (g *Gazetteer) Provinces() []*Province { return g.current }

// FormerProvinces returns the 63 units before 1 July 2025.
func (g *Gazetteer) FormerProvinces() []*Province { return g.former }

// Province returns the current unit with the slug.
func (g *Gazetteer) Province(slug string) (*Province, bool) {
	p, ok := g.bySlug[slug]
	return p, ok
}

// Members returns the former units a current unit is made of.
func (g *Gazetteer) Members(slug string) []*Province { return g.members[slug] }

// Districts returns the districts the gazetteer lists in the current unit, by name.
func (g *Gazetteer) Districts(provinceSlug string) []*District {
	seen := map[*District]bool{}
	var out []*District
	for _, d := range g.districts[provinceSlug] {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ProvinceMatch is what a province name turned out to mean.
type ProvinceMatch struct {
	// Province is the unit in force now.
	Province *Province
	// Former is set when the name is only a former unit's (e.g. "Bình Dương"), which places
	// the address more precisely than its merged successor does.
	Former *Province
}

// LookupProvince finds the unit a name means, current names first, then former ones. The
// match ignores accents, case, punctuation, spacing and unit words ("TP.", "Tỉnh").
func (g *Gazetteer) LookupProvince(name string) (ProvinceMatch, bool) {
	k := provinceKey(name)
	if p := g.curKeys[k]; p != nil {
		return ProvinceMatch{Province: p}, true
	}
	if f := g.formKeys[k]; f != nil {
		return ProvinceMatch{Province: g.bySlug[f.Now], Former: f}, true
	}
	return ProvinceMatch{}, false
}

// LookupDistrict finds a district of the current unit with the slug, whichever of its
// former units the district belonged to.
func (g *Gazetteer) LookupDistrict(provinceSlug, name string) (*District, bool) {
	d := g.districts[provinceSlug][districtKey(name)]
	return d, d != nil
}

// districtsComplete reports whether every district of the unit is listed, so that a name
// not found is known not to exist.
func (g *Gazetteer) districtsComplete(provinceSlug string) bool {
	for _, f := range g.members[provinceSlug] {
		if !g.complete[f.Slug] {
			return false
		}
	}
	return true
}

// SuggestProvinces returns up to three unit names close to a name that matched none.
func (g *Gazetteer) SuggestProvinces(name string) []string {
	k := provinceKey(name)
	var c candidates
	for key, p := range g.curKeys {
		c.consider(k, key, p.Short)
	}
	for key, p := range g.formKeys {
		c.consider(k, key, p.Short)
	}
	return c.best(3)
}

// SuggestDistricts returns up to three district names of the unit close to a name that
// matched none.
func (g *Gazetteer) SuggestDistricts(provinceSlug, name string) []string {
	k := districtKey(name)
	var c candidates
	for key, d := range g.districts[provinceSlug] {
		c.consider(k, key, d.Name)
	}
	return c.best(3)
}

// candidates collects near misses by edit distance between keys; a key the input begins
// counts as one edit away, so a name cut short still finds its unit.
type candidates struct {
	byName map[string]int
}

func (c *candidates) consider(input, key, name string) {
	if input == "" {
		return
	}
	d := levenshtein.ComputeDistance(input, key)
	if len(input) >= 3 && len(key) > len(input) && strings.HasPrefix(key, input) {
		d = min(d, 1)
	}
	if d > tolerance(len(input)) {
		return
	}
	if c.byName == nil {
		c.byName = map[string]int{}
	}
	if old, ok := c.byName[name]; !ok || d < old {
		c.byName[name] = d
	}
}

// tolerance is how many edits a key of n letters may be off and still be suggested: short
// keys ("1", "hn") are easily near everything.
func tolerance(n int) int {
	switch {
	case n <= 4:
		return 1
	case n <= 8:
		return 2
	default:
		return 3
	}
}

func (c *candidates) best(n int) []string {
	names := make([]string, 0, len(c.byName))
	for name := range c.byName {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		di, dj := c.byName[names[i]], c.byName[names[j]]
		if di != dj {
			return di < dj
		}
		return names[i] < names[j]
	})
	if len(names) > n {
		names = names[:n]
	}
	return names
}
