package geo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/shipping/geo"
)

func codes(issues []geo.Issue) []string {
	out := []string{}
	for _, i := range issues {
		out = append(out, i.Field+":"+i.Code)
	}
	return out
}

func TestValidateAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		in       geo.Address
		valid    bool
		errors   []string
		warnings []string
		want     geo.Address // checked when valid
	}{
		{
			name:  "a full current address, accents and all",
			in:    geo.Address{Line1: "  12  Lê Lợi ", Ward: "Phường Bến Nghé", District: "Quận 1", Province: "Thành phố Hồ Chí Minh", Country: "VN"},
			valid: true, errors: []string{}, warnings: []string{"ward:unverified_ward"},
			want: geo.Address{Line1: "12 Lê Lợi", Ward: "Phường Bến Nghé", District: "Quận 1", Province: "Thành phố Hồ Chí Minh", Country: "VN"},
		},
		{
			name:  "typed without accents and with short forms",
			in:    geo.Address{Line1: "12 Le Loi", District: "Q1", Province: "tp hcm", Country: "Viet Nam"},
			valid: true, errors: []string{}, warnings: []string{},
			want: geo.Address{Line1: "12 Le Loi", District: "Quận 1", Province: "Thành phố Hồ Chí Minh", Country: "VN"},
		},
		{
			name:  "the post-2025 form: street, ward, province",
			in:    geo.Address{Line1: "1 Tràng Tiền", Ward: "Phường Hoàn Kiếm", Province: "Ha Noi"},
			valid: true, errors: []string{}, warnings: []string{"ward:unverified_ward"},
			want: geo.Address{Line1: "1 Tràng Tiền", Ward: "Phường Hoàn Kiếm", Province: "Thành phố Hà Nội"},
		},
		{
			name:  "a former province is accepted and mapped, with a warning",
			in:    geo.Address{Line1: "5 Yersin", District: "TP Thủ Dầu Một", Province: "Bình Dương"},
			valid: true, errors: []string{}, warnings: []string{"province:former_province"},
			want: geo.Address{Line1: "5 Yersin", District: "Thành phố Thủ Dầu Một", Province: "Thành phố Hồ Chí Minh"},
		},
		{
			name:  "a district merged since is accepted with a warning",
			in:    geo.Address{Line1: "9 Thảo Điền", District: "Quan 2", Province: "HCM"},
			valid: true, errors: []string{}, warnings: []string{"district:former_district"},
			want: geo.Address{Line1: "9 Thảo Điền", District: "Quận 2", Province: "Thành phố Hồ Chí Minh"},
		},
		{
			name:  "an unlisted district where only major districts are known is a warning",
			in:    geo.Address{Line1: "3 Trần Phú", District: "Huyện Mường Khương", Province: "Lào Cai"},
			valid: true, errors: []string{}, warnings: []string{"district:unverified_district"},
			want: geo.Address{Line1: "3 Trần Phú", District: "Huyện Mường Khương", Province: "Tỉnh Lào Cai"},
		},
		{
			name:   "missing street and province",
			in:     geo.Address{Ward: "Phường 1"},
			errors: []string{"line1:required", "province:required"}, warnings: []string{"ward:unverified_ward"},
		},
		{
			name:   "unknown province",
			in:     geo.Address{Line1: "1 Main St", Province: "Paris"},
			errors: []string{"province:unknown_province"}, warnings: []string{},
		},
		{
			name:   "a district of another province, where every district is known",
			in:     geo.Address{Line1: "1 Hàng Bài", District: "Quận 1", Province: "Hà Nội"},
			errors: []string{"district:unknown_district"}, warnings: []string{},
		},
		{
			name:   "a district typo gets suggestions even where only major districts are known",
			in:     geo.Address{Line1: "1 Trần Phú", District: "Nha Tranng", Province: "Khánh Hòa"},
			errors: []string{"district:unknown_district"}, warnings: []string{},
		},
		{
			name:   "another country",
			in:     geo.Address{Line1: "1 Orchard Rd", Province: "Hà Nội", Country: "SG"},
			errors: []string{"country:unsupported_country"}, warnings: []string{},
		},
		{
			name:   "too long",
			in:     geo.Address{Line1: strings.Repeat("a", 301), Province: "Hà Nội", Ward: strings.Repeat("ư", 101)},
			errors: []string{"line1:too_long", "ward:too_long"}, warnings: []string{"ward:unverified_ward"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := geo.ValidateAddress(tc.in)
			assert.Equal(t, tc.valid, r.Valid)
			assert.Equal(t, tc.errors, codes(r.Errors))
			assert.Equal(t, tc.warnings, codes(r.Warnings))
			if tc.valid {
				assert.Equal(t, tc.want, r.Normalized)
			}
		})
	}
}

func TestValidateAddressDetails(t *testing.T) {
	t.Parallel()
	r := geo.ValidateAddress(geo.Address{Line1: "1 Lê Duẩn", Province: "Quảng Nam"})
	assert.True(t, r.Valid)
	assert.Equal(t, "da-nang", r.ProvinceSlug)
	assert.Equal(t, "Tỉnh Quảng Nam", r.FormerProvince)

	r = geo.ValidateAddress(geo.Address{Line1: "1 Lê Duẩn", Province: "Da Nagn"})
	require.Len(t, r.Errors, 1)
	assert.Contains(t, r.Errors[0].Suggestions, "Đà Nẵng")

	r = geo.ValidateAddress(geo.Address{Line1: "1", District: "Binh Thanhh", Province: "HCM"})
	require.Len(t, r.Errors, 1)
	require.NotEmpty(t, r.Errors[0].Suggestions)
	assert.Equal(t, "Quận Bình Thạnh", r.Errors[0].Suggestions[0], "the nearest miss comes first")

	r = geo.ValidateAddress(geo.Address{Line1: "1", Ward: "P. 12", Province: "HCM"})
	require.Len(t, r.Warnings, 1)
	assert.Contains(t, r.Warnings[0].Message, "not checked", "an unknown ward is said to be unchecked, not wrong")
}

func TestGeocodeOffline(t *testing.T) {
	t.Parallel()
	g := geo.Default()
	ctx := context.Background()
	var _ geo.Geocoder = g

	loc, err := g.Geocode(ctx, geo.Address{Line1: "1", District: "Q.1", Province: "tp hcm"})
	require.NoError(t, err)
	assert.Equal(t, geo.PrecisionDistrict, loc.Precision)
	assert.InDelta(t, 10.7757, loc.Lat, 1e-9)
	assert.InDelta(t, 106.7004, loc.Lng, 1e-9)

	loc, err = g.Geocode(ctx, geo.Address{Province: "Hà Nội"})
	require.NoError(t, err)
	assert.Equal(t, geo.PrecisionProvince, loc.Precision)
	assert.InDelta(t, 21.0285, loc.Lat, 1e-9)

	// A former unit places the address at its own seat, closer than the merged unit's.
	loc, err = geo.Geocode(geo.Address{Province: "Binh Duong"})
	require.NoError(t, err)
	assert.Equal(t, geo.PrecisionProvince, loc.Precision)
	assert.Less(t, geo.Haversine(loc.Point, geo.Point{Lat: 10.98, Lng: 106.65}), 2.0)

	// An unknown district costs precision, not the answer.
	loc, err = g.Geocode(ctx, geo.Address{District: "Quận 99", Province: "HCM"})
	require.NoError(t, err)
	assert.Equal(t, geo.PrecisionProvince, loc.Precision)

	_, err = g.Geocode(ctx, geo.Address{Province: "Ha Nio"})
	require.Error(t, err)
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, apperr.Invalid, ae.Code)
	require.Len(t, ae.Fields, 1)
	assert.Contains(t, ae.Fields[0].Message, "Hà Nội", "the error suggests the near miss")

	_, err = g.Geocode(ctx, geo.Address{})
	assert.True(t, apperr.Is(err, apperr.Invalid))
}
