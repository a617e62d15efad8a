package shop_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/shop"
)

func ptr[T any](v T) *T { return &v }

func TestDiscount(t *testing.T) {
	t.Parallel()
	a, b := uuid.New(), uuid.New()
	lines := []shop.VoucherLine{{ProductID: a, Amount: 300_000}, {ProductID: b, Amount: 200_000}}
	cases := []struct {
		name string
		p    shop.Promotion
		want int64
		err  apperr.Code
	}{
		{"10% of the shop", shop.Promotion{Type: "percentage", Value: 10, Scope: "shop"}, 50_000, ""},
		{"percent capped", shop.Promotion{Type: "percentage", Value: 50, Scope: "shop", MaxDiscount: ptr[int64](100_000)}, 100_000, ""},
		{"percent rounds down", shop.Promotion{Type: "percentage", Value: 33, Scope: "shop"}, 165_000, ""},
		{"fixed", shop.Promotion{Type: "fixed", Value: 30_000, Scope: "shop"}, 30_000, ""},
		{"fixed never above the eligible amount", shop.Promotion{Type: "fixed", Value: 900_000, Scope: "shop"}, 500_000, ""},
		{"listed products only", shop.Promotion{Type: "percentage", Value: 10, Scope: "products", ProductIDs: []uuid.UUID{b}}, 20_000, ""},
		{"minimum spend met", shop.Promotion{Type: "fixed", Value: 10_000, Scope: "shop", MinSpend: 500_000}, 10_000, ""},
		{"minimum spend missed", shop.Promotion{Type: "fixed", Value: 10_000, Scope: "shop", MinSpend: 500_001}, 0, apperr.MinSpendNotMet},
		{"minimum spend counts only the scope", shop.Promotion{Type: "fixed", Value: 10_000, Scope: "products", ProductIDs: []uuid.UUID{b}, MinSpend: 300_000}, 0, apperr.MinSpendNotMet},
		{"nothing in scope", shop.Promotion{Type: "fixed", Value: 10_000, Scope: "products", ProductIDs: []uuid.UUID{uuid.New()}}, 0, apperr.Invalid},
	}
	for _, c := range cases {
		got, err := shop.Discount(c.p, lines)
		if c.err != "" {
			assert.Equal(t, c.err, apperr.CodeOf(err), c.name)
			continue
		}
		assert.NoError(t, err, c.name)
		assert.Equal(t, c.want, got, c.name)
	}
}
