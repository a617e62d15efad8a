package geo

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Address is a Vietnamese postal address as buyers and shops type it. Since 1 July 2025 an
// address is street, ward and province; older ones also name a district, and both are
// accepted.
type Address struct {
	Line1    string `json:"line1"`
	Ward     string `json:"ward,omitempty"`
	District string `json:"district,omitempty"`
	Province string `json:"province"`
	Country  string `json:"country,omitempty"` // empty or Viet Nam ("VN")
}

// Issue codes of a validation Result.
const (
	IssueRequired           = "required"
	IssueTooLong            = "too_long"
	IssueUnsupportedCountry = "unsupported_country"
	IssueUnknownProvince    = "unknown_province"
	IssueFormerProvince     = "former_province"  // warning: named by its pre-merger unit
	IssueUnknownDistrict    = "unknown_district" // error: no such district in the province
	IssueUnverifiedDistrict = "unverified_district"
	IssueFormerDistrict     = "former_district" // warning: merged or renamed since
	IssueUnverifiedWard     = "unverified_ward" // warning: the gazetteer lists no wards
)

// Issue is one problem found in an address: an error makes it invalid, a warning does not.
type Issue struct {
	Field       string   `json:"field"`
	Code        string   `json:"code"`
	Message     string   `json:"message"`
	Suggestions []string `json:"suggestions,omitempty"`
}

// Result is the verdict on an address.
type Result struct {
	Valid bool `json:"valid"`
	// Normalized is the address with white space tidied and the province and district
	// replaced by their official names when they were recognised.
	Normalized   Address `json:"normalized"`
	ProvinceSlug string  `json:"province_slug,omitempty"`
	// FormerProvince is the official name of the pre-merger unit the address named, if any.
	FormerProvince string  `json:"former_province,omitempty"`
	Errors         []Issue `json:"errors"`
	Warnings       []Issue `json:"warnings"`

	province ProvinceMatch
	district *District
}

// Field length limits, in characters, the same as the shop and user address forms.
const (
	maxLine1Len = 300
	maxNameLen  = 100
)

// ValidateAddress checks an address against the embedded gazetteer.
func ValidateAddress(a Address) Result { return Default().ValidateAddress(a) }

// ValidateAddress checks the structure of an address (required fields, lengths, country),
// that its province exists under its current or pre-merger name, and that its district, when
// given, lies in that province. Wards are not in the gazetteer: a ward is reported as a
// warning that it was not checked, never as an error. Near misses come with suggestions.
func (g *Gazetteer) ValidateAddress(a Address) Result {
	r := Result{
		Normalized: Address{
			Line1: cleanName(a.Line1), Ward: cleanName(a.Ward),
			District: cleanName(a.District), Province: cleanName(a.Province),
		},
		Errors: []Issue{}, Warnings: []Issue{},
	}
	fail := func(field, code, msg string, suggestions []string) {
		r.Errors = append(r.Errors, Issue{Field: field, Code: code, Message: msg, Suggestions: suggestions})
	}
	warn := func(field, code, msg string) {
		r.Warnings = append(r.Warnings, Issue{Field: field, Code: code, Message: msg})
	}

	n := r.Normalized
	if n.Line1 == "" {
		fail("line1", IssueRequired, "the street address is required", nil)
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{{"line1", n.Line1, maxLine1Len}, {"ward", n.Ward, maxNameLen}, {"district", n.District, maxNameLen}, {"province", n.Province, maxNameLen}} {
		if utf8.RuneCountInString(f.value) > f.max {
			fail(f.field, IssueTooLong, fmt.Sprintf("at most %d characters", f.max), nil)
		}
	}
	if c := cleanName(a.Country); c != "" {
		if !isVietnam(c) {
			fail("country", IssueUnsupportedCountry, "only addresses in Viet Nam (VN) are served", nil)
		}
		r.Normalized.Country = "VN"
	}

	switch m, ok := g.LookupProvince(n.Province); {
	case n.Province == "":
		fail("province", IssueRequired, "the province or centrally-run city is required", nil)
	case !ok:
		fail("province", IssueUnknownProvince, fmt.Sprintf("no province or city is called %q", n.Province), g.SuggestProvinces(n.Province))
	default:
		r.province = m
		r.ProvinceSlug = m.Province.Slug
		r.Normalized.Province = m.Province.Name
		if m.Former != nil {
			r.FormerProvince = m.Former.Name
			warn("province", IssueFormerProvince, fmt.Sprintf("%s is part of %s since the 2025 merger", m.Former.Name, m.Province.Name))
		}
		g.checkDistrict(&r, n.District, fail, warn)
	}

	if n.Ward != "" {
		warn("ward", IssueUnverifiedWard, "the ward was not checked: the gazetteer lists provinces and districts only")
	}
	r.Valid = len(r.Errors) == 0
	return r
}

// checkDistrict resolves the district within the matched province. A name that is not
// listed is an error where the gazetteer knows every district of the province, or where it
// is a near miss of a listed one (a typo); elsewhere the gazetteer lists only the major
// districts, so it is a warning.
func (g *Gazetteer) checkDistrict(r *Result, name string, fail func(string, string, string, []string), warn func(string, string, string)) {
	if name == "" {
		return
	}
	slug := r.province.Province.Slug
	if d, ok := g.LookupDistrict(slug, name); ok {
		r.district = d
		r.Normalized.District = d.Name
		if d.Note != "" {
			warn("district", IssueFormerDistrict, d.Name+": "+d.Note)
		}
		return
	}
	suggestions := g.SuggestDistricts(slug, name)
	if len(suggestions) > 0 || g.districtsComplete(slug) {
		fail("district", IssueUnknownDistrict, fmt.Sprintf("%s has no district called %q", r.province.Province.Name, name), suggestions)
		return
	}
	warn("district", IssueUnverifiedDistrict, fmt.Sprintf("the district was not checked: the gazetteer lists only the major districts of %s", r.province.Province.Name))
}

func isVietnam(country string) bool {
	switch strings.ReplaceAll(Fold(country), " ", "") {
	case "vn", "vnm", "vietnam":
		return true
	}
	return false
}
