package geo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/breaker"
)

// Point is a WGS 84 position in degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Valid reports whether the point is a position on Earth.
func (p Point) Valid() bool {
	return p.Lat >= -90 && p.Lat <= 90 && p.Lng >= -180 && p.Lng <= 180 &&
		!math.IsNaN(p.Lat) && !math.IsNaN(p.Lng)
}

// earthRadiusKm is the IUGG mean radius, which keeps the spherical error under 0.5%.
const earthRadiusKm = 6371.0088

// Haversine is the great-circle distance between two points, in kilometres.
func Haversine(a, b Point) float64 {
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLng := (b.Lng - a.Lng) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) +
		math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}

// DefaultRoadFactor is how much longer a road trip is than the straight line, on average.
// Roads in Viet Nam follow the coast and the valleys; 1.3 matches Hà Nội–Hồ Chí Minh City
// (about 1,140 km straight, about 1,500 km by National Route 1A) and city trips alike.
const DefaultRoadFactor = 1.3

// RoadDistance estimates the road distance in kilometres with the default road factor.
func RoadDistance(a, b Point) float64 { return Haversine(a, b) * DefaultRoadFactor }

// Route is a trip between two points.
type Route struct {
	DistanceKm float64       `json:"distance_km"`
	Duration   time.Duration `json:"duration"`
}

// Router finds the road distance and travel time between two points.
type Router interface {
	Route(ctx context.Context, from, to Point) (Route, error)
}

// OfflineRouter estimates routes without a map: the straight line times RoadFactor, driven
// at SpeedKmh. Zero fields take the defaults (1.3 and 30 km/h, a delivery motorbike's
// average in town).
type OfflineRouter struct {
	RoadFactor float64
	SpeedKmh   float64
}

// Route implements Router.
func (r OfflineRouter) Route(_ context.Context, from, to Point) (Route, error) {
	if !from.Valid() || !to.Valid() {
		return Route{}, apperr.New(apperr.Invalid, "a point is not a position on Earth")
	}
	factor, speed := r.RoadFactor, r.SpeedKmh
	if factor <= 0 {
		factor = DefaultRoadFactor
	}
	if speed <= 0 {
		speed = 30
	}
	km := Haversine(from, to) * factor
	return Route{DistanceKm: km, Duration: time.Duration(km / speed * float64(time.Hour))}, nil
}

// OSRMRouter asks an OSRM-compatible server (`/route/v1/{profile}/lng,lat;lng,lat`) for
// the route. When the server fails and Fallback is set, the fallback answers instead, so a
// routing outage degrades fees to estimates rather than failing checkouts.
type OSRMRouter struct {
	BaseURL  string       // e.g. http://router.example:5000
	Profile  string       // default "driving"
	Client   *http.Client // default: one with a 5-second timeout
	Fallback Router
	// Breaker, when set, stops asking a server that keeps failing: the fallback answers at once
	// until the breaker tries the server again (NewBreaker).
	Breaker *breaker.Breaker
}

type osrmResponse struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Routes  []struct {
		Distance float64 `json:"distance"` // metres
		Duration float64 `json:"duration"` // seconds
	} `json:"routes"`
}

// Route implements Router.
func (r OSRMRouter) Route(ctx context.Context, from, to Point) (Route, error) {
	if !from.Valid() || !to.Valid() {
		return Route{}, apperr.New(apperr.Invalid, "a point is not a position on Earth")
	}
	route, err := breaker.Do(r.Breaker, func() (Route, error) { return r.route(ctx, from, to) })
	if err != nil && r.Fallback != nil {
		return r.Fallback.Route(ctx, from, to)
	}
	return route, err
}

func (r OSRMRouter) route(ctx context.Context, from, to Point) (Route, error) {
	profile := r.Profile
	if profile == "" {
		profile = "driving"
	}
	u := fmt.Sprintf("%s/route/v1/%s/%s,%s;%s,%s?overview=false&alternatives=false&steps=false",
		strings.TrimRight(r.BaseURL, "/"), profile, coord(from.Lng), coord(from.Lat), coord(to.Lng), coord(to.Lat))
	var body osrmResponse
	status, err := getJSON(ctx, clientOr(r.Client), u, "", &body)
	if err != nil {
		return Route{}, apperr.Wrap(err, apperr.Unavailable, "the router did not answer")
	}
	// OSRM answers 400 with a code for trips it cannot route; anything else is its failure.
	if body.Code != "Ok" || len(body.Routes) == 0 {
		if status == http.StatusBadRequest || body.Code == "NoRoute" {
			return Route{}, apperr.New(apperr.NotFound, "no road route between the points (%s)", body.Code)
		}
		return Route{}, apperr.New(apperr.Unavailable, "the router answered %d %s", status, body.Code)
	}
	return Route{
		DistanceKm: body.Routes[0].Distance / 1000,
		Duration:   time.Duration(body.Routes[0].Duration * float64(time.Second)),
	}, nil
}

// Matrix routes every origin to every destination: out[i][j] is origins[i] to
// destinations[j].
func Matrix(ctx context.Context, r Router, origins, destinations []Point) ([][]Route, error) {
	out := make([][]Route, len(origins))
	for i, o := range origins {
		out[i] = make([]Route, len(destinations))
		for j, d := range destinations {
			route, err := r.Route(ctx, o, d)
			if err != nil {
				return nil, err
			}
			out[i][j] = route
		}
	}
	return out, nil
}

func coord(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

// NewBreaker is the circuit breaker of a geocoding or routing server: only its failures to
// answer (no answer, a 5xx, a body that is not its JSON: apperr.Unavailable) count, not an
// address it does not know or a trip it cannot route.
func NewBreaker(name string, cfg breaker.Config) *breaker.Breaker {
	return breaker.New(name, cfg, func(err error) bool { return apperr.Is(err, apperr.Unavailable) })
}

var defaultClient = &http.Client{Timeout: 5 * time.Second}

func clientOr(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return defaultClient
}

// getJSON fetches url and decodes a JSON body into out whatever the status, which it
// returns: OSRM explains its 400s in the body. A body that is not JSON is an error only
// for a successful status.
func getJSON(ctx context.Context, c *http.Client, url, userAgent string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/json")
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(out); err != nil && res.StatusCode < 300 {
		return res.StatusCode, fmt.Errorf("decoding %s: %w", url, err)
	}
	return res.StatusCode, nil
}
