package shipping_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/shipping/geo"
)

func point(p [2]float64) map[string]any { return map[string]any{"lat": p[0], "lng": p[1]} }

// quote is what the one fee computation says, for comparing with what a route answered.
func quote(t *testing.T, m geo.Method, grams int64, km float64, same bool) geo.Quote {
	t.Helper()
	q, err := geo.DefaultFeeConfig().Quote(geo.Input{Method: m, WeightGrams: grams, DistanceKm: km, SameProvince: same})
	require.NoError(t, err)
	return q
}

// Hà Nội to Hồ Chí Minh City is about 1,140 km as the crow flies and about 1,480 km by the
// offline road estimate (× 1.3); every fee route prices it the same way.
func TestFeesBetweenVietnameseCities(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)

	res := env.Get(t, fmt.Sprintf("/shipping/distance-matrix?origins=%g,%g&destinations=%g,%g|%g,%g",
		farAway[0], farAway[1], shopPoint[0], shopPoint[1], farAway[0], farAway[1]), "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	row := res.Map(t)["rows"].([]any)[0].([]any)
	hanoiSaigon := row[0].(map[string]any)["distance_km"].(float64)
	assert.InDelta(t, 1140*geo.DefaultRoadFactor, hanoiSaigon, 20)
	assert.InDelta(t, hanoiSaigon/30*3600, row[0].(map[string]any)["duration_seconds"], 2, "at a motorbike's 30 km/h")
	assert.Zero(t, row[1].(map[string]any)["distance_km"])

	res = env.Post(t, "/shipping/calculate", "", map[string]any{"from": point(farAway), "to": point(shopPoint), "weight_grams": 1000})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	m := res.Map(t)
	assert.InDelta(t, hanoiSaigon, m["distance_km"], 0.01)
	assert.Equal(t, "standard", m["method"])
	assert.Equal(t, false, m["same_province"])
	want := quote(t, geo.MethodStandard, 1000, m["distance_km"].(float64), false)
	assert.EqualValues(t, want.Total, m["total"])
	// 15,000 base + 5,000 for the second half kilo + ~1,478 km × 50 ≈ 94,000 đ.
	assert.InDelta(t, 94_000, m["total"], 1_000)
	assert.EqualValues(t, 5, m["estimated_days"], "a long haul")

	// By named places: provinces written with or without accents, before or after the merger.
	res = env.Post(t, "/shipping/calculate", "", map[string]any{
		"from":   map[string]any{"address": map[string]any{"line1": "1 Tràng Tiền", "province": "Ha Noi"}},
		"to":     map[string]any{"address": map[string]any{"line1": "12 Nguyễn Huệ", "district": "Quan 1", "province": "TP HCM"}},
		"method": "express", "weight_grams": 2500})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	m = res.Map(t)
	assert.InDelta(t, hanoiSaigon, m["distance_km"], 30)
	assert.EqualValues(t, quote(t, geo.MethodExpress, 2500, m["distance_km"].(float64), false).Total, m["total"])

	// Same-day stays within one province and 30 km.
	res = env.Post(t, "/shipping/calculate", "", map[string]any{"from": point(farAway), "to": point(shopPoint), "method": "same_day", "weight_grams": 500})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	res = env.Post(t, "/shipping/calculate", "", map[string]any{"from": point(shopPoint), "to": point(across), "method": "same_day", "weight_grams": 500})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	m = res.Map(t)
	assert.Equal(t, true, m["same_province"])
	assert.EqualValues(t, quote(t, geo.MethodSameDay, 500, m["distance_km"].(float64), true).Total, m["total"])

	// The calculator compares every method for one trip, the cheapest that can carry it first.
	res = env.Get(t, "/shipping/cost-calculator?from_province=H%C3%A0%20N%E1%BB%99i&to_province=ho%20chi%20minh&weight_grams=500", "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	m = res.Map(t)
	opts := m["options"].([]any)
	require.Len(t, opts, 3)
	assert.Equal(t, "standard", opts[0].(map[string]any)["method"])
	assert.Equal(t, "express", opts[1].(map[string]any)["method"])
	sameDay := opts[2].(map[string]any)
	assert.Equal(t, "same_day", sameDay["method"])
	assert.Equal(t, false, sameDay["available"])
	assert.NotEmpty(t, sameDay["reason"])
	km := m["distance_km"].(float64)
	assert.InDelta(t, hanoiSaigon, km, 30)
	assert.EqualValues(t, quote(t, geo.MethodStandard, 500, km, false).Total, opts[0].(map[string]any)["quote"].(map[string]any)["total"])

	// Several parcels at once: each quote and their sum.
	res = env.Post(t, "/shipping/calculate-fees", "", map[string]any{"parcels": []any{
		map[string]any{"from": point(shopPoint), "to": point(across), "weight_grams": 300},
		map[string]any{"from": point(farAway), "to": point(shopPoint), "weight_grams": 1000, "method": "express"},
	}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	m = res.Map(t)
	items := m["items"].([]any)
	require.Len(t, items, 2)
	a, b := items[0].(map[string]any)["total"].(float64), items[1].(map[string]any)["total"].(float64)
	assert.EqualValues(t, a+b, m["total"])
	assert.Equal(t, "VND", m["currency"])
	res = env.Post(t, "/shipping/calculate-fees", "", map[string]any{"parcels": []any{
		map[string]any{"from": point(shopPoint), "to": point(across), "weight_grams": 300},
		map[string]any{"from": point(farAway), "to": point(shopPoint), "weight_grams": 40_000},
	}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	assert.Equal(t, "parcels[1].weight_grams", res.Map(t)["errors"].([]any)[0].(map[string]any)["field"])

	// Bad input on each.
	assert.Equal(t, http.StatusBadRequest, env.Post(t, "/shipping/calculate", "", `{"from":`).Status)
	for name, body := range map[string]any{
		"no weight":      map[string]any{"from": point(farAway), "to": point(shopPoint)},
		"weight as text": map[string]any{"from": point(farAway), "to": point(shopPoint), "weight_grams": "1kg"},
		"unknown method": map[string]any{"from": point(farAway), "to": point(shopPoint), "weight_grams": 1, "method": "drone"},
		"empty place":    map[string]any{"from": map[string]any{}, "to": point(shopPoint), "weight_grams": 1},
		"lat alone":      map[string]any{"from": map[string]any{"lat": 10.0}, "to": point(shopPoint), "weight_grams": 1},
		"unknown place":  map[string]any{"from": map[string]any{"address": map[string]any{"province": "Atlantis"}}, "to": point(shopPoint), "weight_grams": 1},
	} {
		res := env.Post(t, "/shipping/calculate", "", body)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
	}
	assert.Equal(t, http.StatusUnprocessableEntity, env.Post(t, "/shipping/calculate-fees", "", map[string]any{"parcels": []any{}}).Status)
	assert.Equal(t, http.StatusBadRequest, env.Post(t, "/shipping/calculate-fees", "", `[`).Status)
	for _, q := range []string{"", "?from_lat=10&from_lng=106&to_lat=10&to_lng=106", "?from_lat=10&to_lat=10&to_lng=106&weight_grams=1",
		"?from_shop_id=x&to_lat=10&to_lng=106&weight_grams=1", "?from_lat=10&from_lng=106&to_lat=10&to_lng=106&weight_grams=heavy"} {
		assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/shipping/cost-calculator"+q, "").Status, q)
	}
	for _, q := range []string{"", "?origins=10,106", "?origins=10,106&destinations=north", "?origins=100,106&destinations=10,106"} {
		assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/shipping/distance-matrix"+q, "").Status, q)
	}
}

func TestFeesFromShopsAndAddresses(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	owner := env.Register(t, "Owner")
	shopID := env.CreateShop(t, owner, "Saigon shop")
	buyer := env.Register(t, "Buyer")
	addr := env.CreateAddress(t, buyer) // Quận 1, Hồ Chí Minh: geocoded to the district's centre
	other := env.Register(t, "Other")

	body := map[string]any{"from": map[string]any{"shop_id": shopID}, "to": map[string]any{"address_id": addr}, "weight_grams": 800, "method": "same_day"}
	res := env.Post(t, "/shipping/calculate", buyer.AccessToken, body)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	m := res.Map(t)
	assert.Equal(t, true, m["same_province"])
	assert.Less(t, m["distance_km"], 3.0)
	assert.EqualValues(t, quote(t, geo.MethodSameDay, 800, m["distance_km"].(float64), true).Total, m["total"])

	res = env.Get(t, "/shipping/cost-calculator?from_shop_id="+shopID+"&to_address_id="+addr+"&weight_grams=800", buyer.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	for _, o := range res.Map(t)["options"].([]any) {
		assert.Equal(t, true, o.(map[string]any)["available"], "every method serves a trip across town")
	}

	assert.Equal(t, http.StatusNotFound, env.Post(t, "/shipping/calculate", other.AccessToken, body).Status, "another user's address")
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/shipping/calculate", "", body).Status, "an address needs a token")
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/shipping/calculate", "not-a-token", body).Status)
	res = env.Post(t, "/shipping/calculate", buyer.AccessToken, map[string]any{"from": map[string]any{"shop_id": buyer.ID},
		"to": point(across), "weight_grams": 1})
	assert.Equal(t, http.StatusNotFound, res.Status)
}

func TestPriceListRoutes(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.WithEnv("SHIPPING_FEES", `{"base_fee": 20000, "methods": {"express": {"multiplier_percent": 180}}}`))

	res := env.Get(t, "/shipping/methods", "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	ms := res.Map(t)["items"].([]any)
	require.Len(t, ms, 3)
	std, exp := ms[0].(map[string]any), ms[1].(map[string]any)
	assert.Equal(t, "standard", std["method"])
	assert.EqualValues(t, 20_000, std["from_price"], "the configured base fee")
	assert.EqualValues(t, 180, exp["rule"].(map[string]any)["multiplier_percent"])
	assert.EqualValues(t, 36_000, exp["from_price"])
	assert.EqualValues(t, 30, ms[2].(map[string]any)["rule"].(map[string]any)["max_km"], "same-day keeps its built-in limits")

	res = env.Get(t, "/shipping/providers", "")
	require.Equal(t, http.StatusOK, res.Status)
	ps := res.Map(t)["items"].([]any)
	require.Len(t, ps, 1)
	assert.Len(t, ps[0].(map[string]any)["methods"], 3)

	res = env.Get(t, "/shipping/weight-pricing", "")
	require.Equal(t, http.StatusOK, res.Status)
	m := res.Map(t)
	assert.EqualValues(t, 20_000, m["base_fee"])
	assert.Len(t, m["weight_tiers"], 3)
	assert.Nil(t, m["examples"])
	res = env.Get(t, "/shipping/weight-pricing?weight_grams=2600", "")
	require.Equal(t, http.StatusOK, res.Status)
	ex := res.Map(t)["examples"].([]any)
	require.Len(t, ex, 3)
	// 20,000 + 10,000 (up to 2 kg) + 2 × 2,500 (two started half kilos) = 35,000 đ.
	assert.EqualValues(t, 35_000, ex[0].(map[string]any)["quote"].(map[string]any)["total"])
	assert.EqualValues(t, 15_000, ex[0].(map[string]any)["quote"].(map[string]any)["weight_fee"])
	for _, q := range []string{"?weight_grams=heavy", "?weight_grams=-5", "?weight_grams=0"} {
		assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/shipping/weight-pricing"+q, "").Status, q)
	}
}

func TestAddressRoutes(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)

	res := env.Post(t, "/shipping/validate-address", "", map[string]any{"line1": " 1  Tràng Tiền ", "district": "Hoan Kiem", "province": "ha noi"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	m := res.Map(t)
	assert.Equal(t, true, m["valid"])
	n := m["normalized"].(map[string]any)
	assert.Equal(t, "Thành phố Hà Nội", n["province"])
	assert.Equal(t, "Quận Hoàn Kiếm", n["district"])
	assert.Equal(t, "1 Tràng Tiền", n["line1"])

	res = env.Post(t, "/shipping/validate-address", "", map[string]any{"line1": "1 Hùng Vương", "province": "Bình Dương"})
	require.Equal(t, http.StatusOK, res.Status)
	m = res.Map(t)
	assert.Equal(t, true, m["valid"], "a pre-merger province is still an address")
	assert.Equal(t, "former_province", m["warnings"].([]any)[0].(map[string]any)["code"])

	res = env.Post(t, "/shipping/validate-address", "", map[string]any{"line1": "x", "province": "Ha Nol"})
	require.Equal(t, http.StatusOK, res.Status)
	m = res.Map(t)
	assert.Equal(t, false, m["valid"])
	issue := m["errors"].([]any)[0].(map[string]any)
	assert.Equal(t, "unknown_province", issue["code"])
	assert.Contains(t, issue["suggestions"], "Hà Nội")

	res = env.Post(t, "/shipping/geocode", "", map[string]any{"line1": "12 Nguyễn Huệ", "district": "Quận 1", "province": "Hồ Chí Minh"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	m = res.Map(t)
	assert.Equal(t, "district", m["precision"])
	assert.InDelta(t, shopPoint[0], m["lat"], 0.03)
	assert.InDelta(t, shopPoint[1], m["lng"], 0.03)
	assert.Equal(t, "Thành phố Hồ Chí Minh", m["normalized"].(map[string]any)["province"])
	res = env.Post(t, "/shipping/geocode", "", map[string]any{"province": "Da Nang"})
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "province", res.Map(t)["precision"])

	res = env.Post(t, "/shipping/geocode", "", map[string]any{"province": "Atlantis"})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.Equal(t, "province", res.Map(t)["errors"].([]any)[0].(map[string]any)["field"])
	for _, route := range []string{"/shipping/validate-address", "/shipping/geocode"} {
		assert.Equal(t, http.StatusBadRequest, env.Post(t, route, "", `{"province":`).Status, route)
		assert.Equal(t, http.StatusUnprocessableEntity, env.Post(t, route, "", map[string]any{"province": 12}).Status, route)
	}
}
