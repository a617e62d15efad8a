package shipping

import (
	"context"
	"math"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/shipping/geo"
)

// ValidateAddress checks an address against the gazetteer: structure, and that its province
// and district exist (accent-insensitively, under current or pre-2025 names).
func (s *Service) ValidateAddress(a geo.Address) geo.Result { return s.gaz.ValidateAddress(a) }

// Geocoded is where an address was placed, and how the gazetteer reads it.
type Geocoded struct {
	geo.Location
	Normalized   geo.Address `json:"normalized"`
	ProvinceSlug string      `json:"province_slug,omitempty"`
}

// Geocode places an address with the configured geocoder (the gazetteer, or an HTTP geocoder
// that falls back to it).
func (s *Service) Geocode(ctx context.Context, a geo.Address) (Geocoded, error) {
	loc, err := s.cfg.Geocoder.Geocode(ctx, a)
	if err != nil {
		return Geocoded{}, err
	}
	v := s.gaz.ValidateAddress(a)
	return Geocoded{Location: loc, Normalized: v.Normalized, ProvinceSlug: v.ProvinceSlug}, nil
}

// MaxMatrixPoints bounds each side of a distance matrix.
const MaxMatrixPoints = 25

// Leg is one cell of a distance matrix.
type Leg struct {
	DistanceKm      float64 `json:"distance_km"`
	DurationSeconds int64   `json:"duration_seconds"`
}

// DistanceMatrix is every origin's trip to every destination: Rows[i][j] goes from
// Origins[i] to Destinations[j].
type DistanceMatrix struct {
	Origins      []geo.Point `json:"origins"`
	Destinations []geo.Point `json:"destinations"`
	Rows         [][]Leg     `json:"rows"`
}

// DistanceMatrix routes every origin to every destination with the configured router (the
// straight line times the road factor, or a routing server).
func (s *Service) DistanceMatrix(ctx context.Context, origins, destinations []geo.Point) (DistanceMatrix, error) {
	switch {
	case len(origins) == 0 || len(origins) > MaxMatrixPoints:
		return DistanceMatrix{}, apperr.Field("origins", "give 1 to 25 points as lat,lng separated by |")
	case len(destinations) == 0 || len(destinations) > MaxMatrixPoints:
		return DistanceMatrix{}, apperr.Field("destinations", "give 1 to 25 points as lat,lng separated by |")
	}
	m, err := geo.Matrix(ctx, s.cfg.Router, origins, destinations)
	if err != nil {
		return DistanceMatrix{}, err
	}
	out := DistanceMatrix{Origins: origins, Destinations: destinations, Rows: make([][]Leg, len(m))}
	for i, row := range m {
		out.Rows[i] = make([]Leg, len(row))
		for j, r := range row {
			out.Rows[i][j] = Leg{DistanceKm: math.Round(r.DistanceKm*1000) / 1000, DurationSeconds: int64(r.Duration.Seconds())}
		}
	}
	return out, nil
}
