package geo_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/breaker"
	"github.com/goshop/goshop/internal/shipping/geo"
)

// flaky is a geocoding and routing server that answers 502 while down, and counts the requests
// that reach it.
type flaky struct {
	down atomic.Bool
	hits atomic.Int64
}

func (f *flaky) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		if f.down.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		if r.URL.Path == "/search" {
			fmt.Fprint(w, `[{"lat":"10.7769","lon":"106.7009","class":"place","type":"house","addresstype":"house"}]`)
			return
		}
		fmt.Fprint(w, `{"code":"Ok","routes":[{"distance":1234000,"duration":86400}]}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestOutagesFallBackAtOnceAndHeal: once the geocoder (or router) has failed three times in a
// row, the offline fallback answers without asking it; after the open time a probe asks again
// and, the server healed, its answers are used again.
func TestOutagesFallBackAtOnceAndHeal(t *testing.T) {
	t.Parallel()
	cfg := breaker.Config{Failures: 3, OpenFor: 200 * time.Millisecond, Probes: 1}
	ctx := context.Background()
	hn, hcm := seat(t, "Hà Nội"), seat(t, "Hồ Chí Minh")
	addr := geo.Address{Line1: "1 Lê Lợi", District: "Quận 1", Province: "Hồ Chí Minh"}

	f := &flaky{}
	srv := f.server(t)
	g := geo.HTTPGeocoder{BaseURL: srv.URL, Fallback: geo.Default(), Breaker: geo.NewBreaker("geocoder", cfg)}
	r := geo.OSRMRouter{BaseURL: srv.URL, Fallback: geo.OfflineRouter{RoadFactor: 1.3}, Breaker: geo.NewBreaker("router", cfg)}
	fromServer := func() bool {
		loc, err := g.Geocode(ctx, addr)
		require.NoError(t, err)
		route, err := r.Route(ctx, hn, hcm)
		require.NoError(t, err)
		return loc.Precision == geo.PrecisionAddress && route.DistanceKm == 1234
	}
	require.True(t, fromServer(), "up: the server answers")

	f.down.Store(true)
	for range 3 {
		assert.False(t, fromServer(), "down: the fallback answers")
	}
	reached := f.hits.Load()
	for range 20 {
		assert.False(t, fromServer())
	}
	assert.Equal(t, reached, f.hits.Load(), "open breakers ask the server nothing")
	assert.Equal(t, 2, g.Breaker.State())
	assert.Equal(t, 2, r.Breaker.State())

	f.down.Store(false)
	require.Eventually(t, fromServer, 5*time.Second, 20*time.Millisecond, "healed: after the open time a probe asks it again")
	assert.Equal(t, 0, g.Breaker.State())
	assert.Equal(t, 0, r.Breaker.State())
}
