package geo_test

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/shipping/geo"
)

// The default price list: 15,000 base; up to 500 g +0, up to 1 kg +5,000, up to 2 kg
// +10,000, then +2,500 per started 500 g; 5 km included, then 50 per started km; standard
// ×1, express ×1.5, same-day ×2 (30 km, 10 kg, one province); totals rounded half up to
// 1,000 VND.
func TestQuoteWithTheDefaultPriceList(t *testing.T) {
	t.Parallel()
	cfg := geo.DefaultFeeConfig()
	require.NoError(t, cfg.Validate())
	for _, tc := range []struct {
		name string
		in   geo.Input
		want geo.Quote
	}{
		{
			name: "light parcel across town",
			in:   geo.Input{Method: geo.MethodStandard, WeightGrams: 400, DistanceKm: 3, SameProvince: true},
			want: geo.Quote{BaseFee: 15_000, WeightFee: 0, ChargeableKm: 0, DistanceFee: 0, Subtotal: 15_000, MultiplierPercent: 100, Total: 15_000, EstimatedDays: 2},
		},
		{
			name: "exactly 500 g and exactly the included distance",
			in:   geo.Input{Method: geo.MethodStandard, WeightGrams: 500, DistanceKm: 5, SameProvince: true},
			want: geo.Quote{BaseFee: 15_000, Subtotal: 15_000, MultiplierPercent: 100, Total: 15_000, EstimatedDays: 2},
		},
		{
			name: "1 kg, 12.3 km: 8 started km",
			in:   geo.Input{Method: geo.MethodStandard, WeightGrams: 1_000, DistanceKm: 12.3, SameProvince: true},
			want: geo.Quote{BaseFee: 15_000, WeightFee: 5_000, ChargeableKm: 8, DistanceFee: 400, Subtotal: 20_400, MultiplierPercent: 100, Total: 20_000, EstimatedDays: 2},
		},
		{
			name: "a half thousand rounds up",
			in:   geo.Input{Method: geo.MethodStandard, WeightGrams: 501, DistanceKm: 15, SameProvince: true},
			want: geo.Quote{BaseFee: 15_000, WeightFee: 5_000, ChargeableKm: 10, DistanceFee: 500, Subtotal: 20_500, MultiplierPercent: 100, Total: 21_000, EstimatedDays: 2},
		},
		{
			name: "express 2.6 kg to the next province: two extra steps",
			in:   geo.Input{Method: geo.MethodExpress, WeightGrams: 2_600, DistanceKm: 120},
			want: geo.Quote{BaseFee: 15_000, WeightFee: 15_000, ChargeableKm: 115, DistanceFee: 5_750, Subtotal: 35_750, MultiplierPercent: 150, Total: 54_000, EstimatedDays: 2},
		},
		{
			name: "same day 800 g 25 km",
			in:   geo.Input{Method: geo.MethodSameDay, WeightGrams: 800, DistanceKm: 25, SameProvince: true},
			want: geo.Quote{BaseFee: 15_000, WeightFee: 5_000, ChargeableKm: 20, DistanceFee: 1_000, Subtotal: 21_000, MultiplierPercent: 200, Total: 42_000, EstimatedDays: 0},
		},
		{
			name: "Hà Nội to Hồ Chí Minh City by road, 30 kg standard",
			in:   geo.Input{Method: geo.MethodStandard, WeightGrams: 30_000, DistanceKm: 1486.6},
			want: geo.Quote{BaseFee: 15_000, WeightFee: 10_000 + 56*2_500, ChargeableKm: 1482, DistanceFee: 74_100, Subtotal: 239_100, MultiplierPercent: 100, Total: 239_000, EstimatedDays: 5},
		},
		{
			name: "float noise over a whole kilometre is not another kilometre",
			in:   geo.Input{Method: geo.MethodStandard, WeightGrams: 100, DistanceKm: 7.0000000000001, SameProvince: true},
			want: geo.Quote{BaseFee: 15_000, ChargeableKm: 2, DistanceFee: 100, Subtotal: 15_100, MultiplierPercent: 100, Total: 15_000, EstimatedDays: 2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q, err := cfg.Quote(tc.in)
			require.NoError(t, err)
			tc.want.Method, tc.want.Currency = tc.in.Method, "VND"
			tc.want.WeightGrams, tc.want.DistanceKm = tc.in.WeightGrams, tc.in.DistanceKm
			assert.Equal(t, tc.want, q)
		})
	}
}

func TestQuoteLimits(t *testing.T) {
	t.Parallel()
	cfg := geo.DefaultFeeConfig()
	for _, tc := range []struct {
		name  string
		in    geo.Input
		cause error
		field string
	}{
		{"over the 30 kg limit", geo.Input{Method: geo.MethodStandard, WeightGrams: 30_001, DistanceKm: 10}, geo.ErrTooHeavy, "weight_grams"},
		{"same day over 10 kg", geo.Input{Method: geo.MethodSameDay, WeightGrams: 10_001, DistanceKm: 10, SameProvince: true}, geo.ErrTooHeavy, "weight_grams"},
		{"same day beyond 30 km", geo.Input{Method: geo.MethodSameDay, WeightGrams: 500, DistanceKm: 30.5, SameProvince: true}, geo.ErrTooFar, "distance_km"},
		{"same day to another province", geo.Input{Method: geo.MethodSameDay, WeightGrams: 500, DistanceKm: 12}, geo.ErrOutOfArea, "method"},
		{"beyond any road in the country", geo.Input{Method: geo.MethodExpress, WeightGrams: 500, DistanceKm: 3_001}, geo.ErrTooFar, "distance_km"},
		{"unknown method", geo.Input{Method: "drone", WeightGrams: 500, DistanceKm: 1}, nil, "method"},
		{"no weight", geo.Input{Method: geo.MethodStandard, DistanceKm: 1}, nil, "weight_grams"},
		{"negative weight", geo.Input{Method: geo.MethodStandard, WeightGrams: -1, DistanceKm: 1}, nil, "weight_grams"},
		{"negative distance", geo.Input{Method: geo.MethodStandard, WeightGrams: 1, DistanceKm: -1}, nil, "distance_km"},
		{"NaN distance", geo.Input{Method: geo.MethodStandard, WeightGrams: 1, DistanceKm: math.NaN()}, nil, "distance_km"},
		{"infinite distance", geo.Input{Method: geo.MethodStandard, WeightGrams: 1, DistanceKm: math.Inf(1)}, nil, "distance_km"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := cfg.Quote(tc.in)
			var ae *apperr.Error
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, apperr.Invalid, ae.Code)
			require.Len(t, ae.Fields, 1)
			assert.Equal(t, tc.field, ae.Fields[0].Field)
			if tc.cause != nil {
				assert.True(t, errors.Is(err, tc.cause), "%v wraps %v", err, tc.cause)
			}
		})
	}
	// Exactly at a limit is allowed.
	_, err := cfg.Quote(geo.Input{Method: geo.MethodSameDay, WeightGrams: 10_000, DistanceKm: 30, SameProvince: true})
	assert.NoError(t, err)
}

func TestQuoteWithAConfiguredPriceList(t *testing.T) {
	t.Parallel()
	cfg := geo.DefaultFeeConfig()
	cfg.BaseFee = 20_000
	cfg.WeightTiers = []geo.WeightTier{{UpToGrams: 1_000, Fee: 0}, {UpToGrams: 3_000, Fee: 7_000}}
	cfg.ExtraStepGrams, cfg.ExtraStepFee = 1_000, 4_000
	cfg.IncludedKm, cfg.PerKmFee = 0, 300
	cfg.RoundTo = 0
	cfg.Methods[geo.MethodExpress] = geo.MethodRule{MultiplierPercent: 175, MaxKm: 500, Days: geo.DeliveryDays{SameProvince: 1, Regional: 1, LongHaul: 2}}

	q, err := cfg.Quote(geo.Input{Method: geo.MethodExpress, WeightGrams: 4_200, DistanceKm: 9.2})
	require.NoError(t, err)
	// 20,000 + (7,000 + 2×4,000) + 10×300 = 38,000; ×1.75 = 66,500, no rounding.
	assert.Equal(t, int64(15_000), q.WeightFee)
	assert.Equal(t, int64(3_000), q.DistanceFee)
	assert.Equal(t, int64(38_000), q.Subtotal)
	assert.Equal(t, int64(66_500), q.Total)
	assert.Equal(t, 1, q.EstimatedDays)

	_, err = cfg.Quote(geo.Input{Method: geo.MethodExpress, WeightGrams: 1, DistanceKm: 501})
	assert.ErrorIs(t, err, geo.ErrTooFar)

	// The default list is untouched: Methods is a fresh map per call.
	q, err = geo.DefaultFeeConfig().Quote(geo.Input{Method: geo.MethodExpress, WeightGrams: 1, DistanceKm: 501})
	require.NoError(t, err)
	assert.Equal(t, int64(150), q.MultiplierPercent)
}

func TestFeeConfigValidate(t *testing.T) {
	t.Parallel()
	for name, mutate := range map[string]func(*geo.FeeConfig){
		"no currency":         func(c *geo.FeeConfig) { c.Currency = "" },
		"negative base":       func(c *geo.FeeConfig) { c.BaseFee = -1 },
		"no tiers":            func(c *geo.FeeConfig) { c.WeightTiers = nil },
		"tiers not ascending": func(c *geo.FeeConfig) { c.WeightTiers[1].UpToGrams = 500 },
		"zero step":           func(c *geo.FeeConfig) { c.ExtraStepGrams = 0 },
		"no max weight":       func(c *geo.FeeConfig) { c.MaxWeightGrams = 0 },
		"no methods":          func(c *geo.FeeConfig) { c.Methods = nil },
		"zero multiplier":     func(c *geo.FeeConfig) { c.Methods[geo.MethodStandard] = geo.MethodRule{} },
	} {
		cfg := geo.DefaultFeeConfig()
		mutate(&cfg)
		assert.Error(t, cfg.Validate(), name)
		_, err := cfg.Quote(geo.Input{Method: geo.MethodExpress, WeightGrams: 1, DistanceKm: 1})
		assert.True(t, apperr.Is(err, apperr.Internal), "a broken price list is the server's fault: %s", name)
	}
}
