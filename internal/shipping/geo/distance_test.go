package geo_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/shipping/geo"
)

func seat(t *testing.T, name string) geo.Point {
	t.Helper()
	m, ok := geo.Default().LookupProvince(name)
	require.True(t, ok, name)
	return m.Province.Point()
}

// The gazetteer's points must give the distances everybody knows, as the crow flies.
func TestHaversineBetweenVietnameseCities(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		km   float64
	}{
		{"Hà Nội", "Hồ Chí Minh", 1140},
		{"Hà Nội", "Hải Phòng", 100},
		{"Hồ Chí Minh", "Cần Thơ", 130},
		{"Đà Nẵng", "Huế", 80},
	} {
		a, b := seat(t, tc.a), seat(t, tc.b)
		assert.InDelta(t, tc.km, geo.Haversine(a, b), 15, "%s–%s", tc.a, tc.b)
		assert.InDelta(t, geo.Haversine(a, b), geo.Haversine(b, a), 1e-9, "symmetric")
	}
	p := seat(t, "Hà Nội")
	assert.Zero(t, geo.Haversine(p, p))
	// A degree of latitude is 111.2 km on the mean sphere.
	assert.InDelta(t, 111.19, geo.Haversine(geo.Point{Lat: 10, Lng: 106}, geo.Point{Lat: 11, Lng: 106}), 0.01)
	// Antipodes: half the circumference, without NaN from rounding past 1.
	assert.InDelta(t, 20015.1, geo.Haversine(geo.Point{Lat: 0, Lng: 0}, geo.Point{Lat: 0, Lng: 180}), 0.1)
}

func TestRoadDistanceAndOfflineRouter(t *testing.T) {
	t.Parallel()
	hn, hcm := seat(t, "Hà Nội"), seat(t, "HCM")
	assert.InDelta(t, geo.Haversine(hn, hcm)*1.3, geo.RoadDistance(hn, hcm), 1e-9)

	r, err := geo.OfflineRouter{}.Route(context.Background(), hn, hcm)
	require.NoError(t, err)
	assert.InDelta(t, geo.RoadDistance(hn, hcm), r.DistanceKm, 1e-9, "default factor 1.3")
	assert.InDelta(t, r.DistanceKm/30, r.Duration.Hours(), 1e-6, "default 30 km/h")

	r, err = geo.OfflineRouter{RoadFactor: 1.5, SpeedKmh: 60}.Route(context.Background(), hn, hcm)
	require.NoError(t, err)
	assert.InDelta(t, geo.Haversine(hn, hcm)*1.5, r.DistanceKm, 1e-9)
	assert.InDelta(t, r.DistanceKm/60, r.Duration.Hours(), 1e-6)

	_, err = geo.OfflineRouter{}.Route(context.Background(), geo.Point{Lat: 91}, hn)
	assert.True(t, apperr.Is(err, apperr.Invalid))

	m, err := geo.Matrix(context.Background(), geo.OfflineRouter{}, []geo.Point{hn, hcm}, []geo.Point{hcm, hn, hn})
	require.NoError(t, err)
	require.Len(t, m, 2)
	require.Len(t, m[0], 3)
	assert.InDelta(t, m[0][0].DistanceKm, m[1][1].DistanceKm, 1e-9)
	assert.Zero(t, m[0][1].DistanceKm)
}

func TestOSRMRouter(t *testing.T) {
	t.Parallel()
	var path atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path.Store(r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/route/v1/driving/105.854200,21.028500;106.700900,10.776900":
			_, _ = w.Write([]byte(`{"code":"Ok","routes":[{"distance":1655432.1,"duration":98765.4}],"waypoints":[]}`))
		case "/route/v1/driving/106.000000,10.000000;107.000000,11.000000":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"code":"NoRoute","message":"Impossible route between points"}`))
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	hn, hcm := seat(t, "Hà Nội"), seat(t, "HCM")

	r, err := geo.OSRMRouter{BaseURL: srv.URL + "/"}.Route(ctx, hn, hcm)
	require.NoError(t, err)
	assert.InDelta(t, 1655.4321, r.DistanceKm, 1e-9)
	assert.Equal(t, time.Duration(98765.4*float64(time.Second)), r.Duration)

	_, err = geo.OSRMRouter{BaseURL: srv.URL}.Route(ctx, geo.Point{Lat: 10, Lng: 106}, geo.Point{Lat: 11, Lng: 107})
	assert.True(t, apperr.Is(err, apperr.NotFound), "no route is not found: %v", err)

	// A failing server with no fallback is unavailable; with one, the fallback answers.
	_, err = geo.OSRMRouter{BaseURL: srv.URL}.Route(ctx, hcm, hn)
	assert.True(t, apperr.Is(err, apperr.Unavailable), "%v", err)
	r, err = geo.OSRMRouter{BaseURL: srv.URL, Fallback: geo.OfflineRouter{}}.Route(ctx, hcm, hn)
	require.NoError(t, err)
	assert.InDelta(t, geo.RoadDistance(hcm, hn), r.DistanceKm, 1e-9)

	_, err = geo.OSRMRouter{BaseURL: "http://127.0.0.1:1"}.Route(ctx, hn, hcm)
	assert.True(t, apperr.Is(err, apperr.Unavailable), "%v", err)
}

func TestHTTPGeocoder(t *testing.T) {
	t.Parallel()
	var gotQuery, gotUA atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/search" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		gotQuery.Store(q.Get("q"))
		gotUA.Store(r.UserAgent())
		if q.Get("format") != "json" || q.Get("countrycodes") != "vn" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var out []map[string]any
		switch q.Get("q") {
		case "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP.HCM, Việt Nam":
			out = []map[string]any{{"lat": "10.7731", "lon": "106.7030", "class": "highway", "type": "residential", "addresstype": "road", "display_name": "Lê Lợi"}}
		case "Hà Nội, Việt Nam":
			out = []map[string]any{{"lat": "21.0283", "lon": "105.8540", "class": "boundary", "type": "administrative", "addresstype": "city"}}
		case "Bình Dương, Việt Nam":
			out = []map[string]any{{"lat": "11.1", "lon": "106.6", "class": "boundary", "type": "administrative", "addresstype": "province"}}
		case "Lỗi, Việt Nam":
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	h := geo.HTTPGeocoder{BaseURL: srv.URL, UserAgent: "goshop-test/1"}
	var _ geo.Geocoder = h

	loc, err := h.Geocode(ctx, geo.Address{Line1: "12 Lê Lợi", Ward: "Phường Bến Nghé", District: "Quận 1", Province: "TP.HCM"})
	require.NoError(t, err)
	assert.Equal(t, "12 Lê Lợi, Phường Bến Nghé, Quận 1, TP.HCM, Việt Nam", gotQuery.Load())
	assert.Equal(t, "goshop-test/1", gotUA.Load())
	assert.Equal(t, geo.Location{Point: geo.Point{Lat: 10.7731, Lng: 106.7030}, Precision: geo.PrecisionAddress}, loc)

	loc, err = h.Geocode(ctx, geo.Address{Province: "Hà Nội"})
	require.NoError(t, err)
	assert.Equal(t, geo.PrecisionDistrict, loc.Precision)
	loc, err = h.Geocode(ctx, geo.Address{Province: "Bình Dương"})
	require.NoError(t, err)
	assert.Equal(t, geo.PrecisionProvince, loc.Precision)

	_, err = h.Geocode(ctx, geo.Address{Province: "Nowhere"})
	assert.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
	_, err = h.Geocode(ctx, geo.Address{Province: "Lỗi"})
	assert.True(t, apperr.Is(err, apperr.Unavailable), "%v", err)
	_, err = h.Geocode(ctx, geo.Address{})
	assert.True(t, apperr.Is(err, apperr.Invalid), "%v", err)

	// With the gazetteer as fallback, what the server cannot place is placed offline.
	h.Fallback = geo.Default()
	_, err = h.Geocode(ctx, geo.Address{District: "Quận 1", Province: "Lỗi"})
	require.Error(t, err, "the fallback does not know Lỗi either")
	loc, err = h.Geocode(ctx, geo.Address{Line1: "nowhere street", Province: "Cần Thơ"})
	require.NoError(t, err)
	assert.Equal(t, geo.PrecisionProvince, loc.Precision)
	assert.InDelta(t, 10.0452, loc.Lat, 1e-9)
}
