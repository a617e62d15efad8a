package order_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// TestSummaryMonthsAreTheMarketplaces: an order placed at 03:00 on 1 February in Hồ Chí Minh
// City is placed at 20:00 on 31 January in UTC. The buyer's summary counts it in February, the
// marketplace's month (MARKETPLACE_TZ), and in January only where the marketplace is set to UTC.
func TestSummaryMonthsAreTheMarketplaces(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		opts  []apptest.Option
		month string
	}{
		{"Ho Chi Minh City by default", nil, "2026-02"},
		{"UTC when configured", []apptest.Option{apptest.WithEnv("MARKETPLACE_TZ", "UTC")}, "2026-01"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, 150_000, 5, c.opts...)
			b, addr := f.buyerWith(t, "Buyer", 1)
			res := checkout(t, f.env, b, addr, nil)
			require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
			id := res.Map(t)["orders"].([]any)[0].(map[string]any)["id"].(string)
			_, err := f.env.App.Pool.Exec(t.Context(), "UPDATE orders.orders SET created_at = '2026-01-31T20:00:00Z' WHERE id = $1", id)
			require.NoError(t, err)

			res = f.env.Get(t, "/orders/history/summary", b.AccessToken)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			months := res.Map(t)["by_month"].([]any)
			require.Len(t, months, 1)
			m := months[0].(map[string]any)
			assert.Equal(t, c.month, m["month"])
			assert.EqualValues(t, 1, m["orders"])
			assert.Contains(t, m["by_status"], "pending")
		})
	}
}
