package geo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/breaker"
)

// Precision says how closely a Location places an address.
type Precision string

// Precisions, finest first.
const (
	PrecisionAddress  Precision = "address"  // the street or building (HTTP geocoders only)
	PrecisionDistrict Precision = "district" // the district's (or town's) centre
	PrecisionProvince Precision = "province" // the province's seat
)

// Location is where an address was placed.
type Location struct {
	Point
	Precision Precision `json:"precision"`
}

// Geocoder turns an address into a position.
type Geocoder interface {
	Geocode(ctx context.Context, a Address) (Location, error)
}

// Geocode places an address with the embedded gazetteer.
func Geocode(a Address) (Location, error) { return Default().Geocode(context.Background(), a) }

// Geocode places an address at its district's centre when the district is known, otherwise
// at its province's seat: the seat of the former unit when the address names one (a
// "Bình Dương" address is nearer Thủ Dầu Một than Hồ Chí Minh City's centre), else that of
// the current unit. Only an unknown or missing province is an error; a bad district or
// street only costs precision.
func (g *Gazetteer) Geocode(_ context.Context, a Address) (Location, error) {
	m, ok := g.LookupProvince(a.Province)
	if !ok {
		msg := "unknown province"
		if strings.TrimSpace(a.Province) == "" {
			msg = "the province is required"
		} else if s := g.SuggestProvinces(a.Province); len(s) > 0 {
			msg = fmt.Sprintf("unknown province; did you mean %s?", strings.Join(s, ", "))
		}
		return Location{}, apperr.Field("province", msg)
	}
	if a.District != "" {
		if d, ok := g.LookupDistrict(m.Province.Slug, a.District); ok {
			return Location{Point: d.Point(), Precision: PrecisionDistrict}, nil
		}
	}
	if m.Former != nil {
		return Location{Point: m.Former.Point(), Precision: PrecisionProvince}, nil
	}
	return Location{Point: m.Province.Point(), Precision: PrecisionProvince}, nil
}

// HTTPGeocoder asks a Nominatim-compatible server (`/search?q=...&format=json`). When the
// server fails or finds nothing and Fallback is set (typically the gazetteer), the fallback
// answers instead.
type HTTPGeocoder struct {
	BaseURL string // e.g. https://geocoder.example
	// UserAgent identifies the application, as Nominatim's usage policy requires.
	UserAgent string
	Client    *http.Client // default: one with a 5-second timeout
	Fallback  Geocoder
	// Breaker, when set, stops asking a server that keeps failing: the fallback answers at once
	// until the breaker tries the server again (NewBreaker).
	Breaker *breaker.Breaker
}

type nominatimPlace struct {
	Lat         string `json:"lat"`
	Lon         string `json:"lon"`
	Class       string `json:"class"`
	Type        string `json:"type"`
	AddressType string `json:"addresstype"`
	DisplayName string `json:"display_name"`
}

// Geocode implements Geocoder.
func (h HTTPGeocoder) Geocode(ctx context.Context, a Address) (Location, error) {
	loc, err := breaker.Do(h.Breaker, func() (Location, error) { return h.geocode(ctx, a) })
	if err != nil && h.Fallback != nil {
		return h.Fallback.Geocode(ctx, a)
	}
	return loc, err
}

func (h HTTPGeocoder) geocode(ctx context.Context, a Address) (Location, error) {
	var parts []string
	for _, p := range []string{a.Line1, a.Ward, a.District, a.Province} {
		if p = cleanName(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return Location{}, apperr.Field("province", "the address is empty")
	}
	q := url.Values{
		"q":            {strings.Join(append(parts, "Việt Nam"), ", ")},
		"format":       {"json"},
		"limit":        {"1"},
		"countrycodes": {"vn"},
	}
	u := strings.TrimRight(h.BaseURL, "/") + "/search?" + q.Encode()
	var places []nominatimPlace
	status, err := getJSON(ctx, clientOr(h.Client), u, h.UserAgent, &places)
	if err != nil {
		return Location{}, apperr.Wrap(err, apperr.Unavailable, "the geocoder did not answer")
	}
	if status != http.StatusOK {
		return Location{}, apperr.New(apperr.Unavailable, "the geocoder answered %d", status)
	}
	if len(places) == 0 {
		return Location{}, apperr.New(apperr.NotFound, "the geocoder found no such address")
	}
	p := places[0]
	lat, err1 := strconv.ParseFloat(p.Lat, 64)
	lng, err2 := strconv.ParseFloat(p.Lon, 64)
	pt := Point{Lat: lat, Lng: lng}
	if err1 != nil || err2 != nil || !pt.Valid() {
		return Location{}, apperr.New(apperr.Unavailable, "the geocoder answered a bad position %q,%q", p.Lat, p.Lon)
	}
	return Location{Point: pt, Precision: nominatimPrecision(p)}, nil
}

// nominatimPrecision reads how fine a Nominatim place is from its address type; places
// without one are administrative areas when their class is a boundary, else addresses.
func nominatimPrecision(p nominatimPlace) Precision {
	switch p.AddressType {
	case "state", "province", "region":
		return PrecisionProvince
	case "county", "district", "city_district", "city", "town", "municipality", "borough",
		"suburb", "quarter", "neighbourhood", "village", "hamlet":
		return PrecisionDistrict
	case "":
		if p.Class == "boundary" || p.Class == "place" {
			return PrecisionDistrict
		}
	}
	return PrecisionAddress
}
