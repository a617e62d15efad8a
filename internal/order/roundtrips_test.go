package order_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// TestCheckoutRoundTrips: a checkout with an Idempotency-Key takes at most 7 round trips to
// PostgreSQL (BEGIN, which travels with the first batch, and COMMIT included; the bound
// is 8); it reads its lines' variants and campaign offers and its shops, and writes its orders,
// their items and their history, in one statement each; whatever the number of lines and shops,
// vouchers and campaign lines. And it still places every order with its lines, publishes
// order.placed with them, schedules the auto-cancel of prepaid orders, takes the stock and
// empties the cart.
func TestCheckoutRoundTrips(t *testing.T) {
	t.Parallel()
	var rt pgdb.RoundTrips
	log := &apptest.SQLLog{}
	env := apptest.New(t, apptest.WithRoundTrips(&rt), apptest.WithSQLLog(log))
	eventbus.On(env.App.Bus, "test.order_placed", func(context.Context, string, events.OrderPlaced) error { return nil })
	now := time.Now().UTC()
	type line struct {
		p   apptest.Product
		qty int
	}
	var shops [3]string
	var lines []line
	for i, name := range []string{"Shop A", "Shop B", "Shop C"} {
		seller := env.Register(t, name+" owner")
		shops[i] = env.CreateShop(t, seller, name)
		products := 1
		if i == 0 {
			products = 3
		}
		for j := range products {
			lines = append(lines, line{env.CreateProduct(t, seller, shops[i], name+" product "+string(rune('1'+j)), 100_000, 50), j + 1})
		}
		switch i {
		case 0: // a voucher for the cart's coupon field
			res := env.Post(t, "/shops/"+shops[i]+"/promotions", seller.AccessToken, map[string]any{"code": "TENOFF", "name": "Ten off",
				"type": "fixed", "value": 10_000, "starts_at": now.Add(-time.Hour), "ends_at": now.Add(time.Hour)})
			require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		case 1: // a flash sale on the shop's product
			res := env.Post(t, "/shops/"+shops[i]+"/campaigns", seller.AccessToken, map[string]any{
				"name": "Flash", "starts_at": now.Add(-time.Minute), "ends_at": now.Add(time.Hour),
				"items": []map[string]any{{"variant_id": lines[len(lines)-1].p.VariantID, "campaign_price": 80_000, "campaign_stock": 20}}})
			require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
			res = env.Put(t, "/shops/"+shops[i]+"/campaigns/"+res.Map(t)["id"].(string)+"/status", seller.AccessToken, map[string]any{"status": "scheduled"})
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		}
	}
	buyer := env.Register(t, "Buyer")
	addr := env.CreateAddress(t, buyer)
	bought := map[string]int{}
	fill := func(ls []line) {
		for _, l := range ls {
			bought[l.p.ID] += l.qty
			res := env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": l.p.ID, "quantity": l.qty})
			require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		}
	}
	buy := func(key, coupon string) map[string]any {
		body := map[string]any{"address_id": addr, "payment_method": "card"}
		if coupon != "" {
			body["coupon"] = coupon
		}
		res := env.Do(t, apptest.Req{Method: http.MethodPost, Path: "/orders", Token: buyer.AccessToken,
			Header: map[string]string{"Idempotency-Key": key}, Body: body})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		return res.Map(t)
	}
	// Warm the connections' statement caches, as a running server's are: a statement's first
	// use on a connection costs a round trip to describe it. With the workers stopped, requests
	// one after another take the same idle connections again.
	env.Quiet(t)
	for i := range 3 {
		fill(lines)
		buy("warm-up-"+string(rune('a'+i)), "TENOFF")
	}

	counted := func(t *testing.T, name string, ls []line, coupon string, orders int) map[string]any {
		fill(ls)
		log.Start()
		before := rt.N()
		out := buy(name, coupon)
		n := rt.N() - before
		if n > 7 {
			log.Show(t)
		}
		t.Logf("round trips: %d", n)
		assert.LessOrEqual(t, n, int64(7))
		for _, name := range []string{"VariantSnapshots", "ActiveCampaignItems", "GetShops", "CreateOrders", "AddItems", "AddPlacedHistory"} {
			assert.Equal(t, 1, log.Named(name), "the lines' variants and offers, the shops, the orders, their items and their history "+
				"go in one statement each: %s", name)
		}
		require.Len(t, out["orders"], orders)
		assert.Empty(t, env.Get(t, "/cart", buyer.AccessToken).Map(t)["items"], "the cart is emptied")
		return out
	}
	t.Run("2 lines, 2 shops", func(t *testing.T) {
		counted(t, "two", []line{lines[0], lines[3]}, "", 2)
	})
	t.Run("5 lines, 3 shops, a voucher and a campaign line", func(t *testing.T) {
		out := counted(t, "five", lines, "TENOFF", 3)
		var discount, campaignLines float64
		for _, o := range out["orders"].([]any) {
			o := o.(map[string]any)
			discount += o["discount"].(float64)
			for _, it := range o["items"].([]any) {
				if it.(map[string]any)["campaign_id"] != nil {
					campaignLines++
					assert.EqualValues(t, 80_000, it.(map[string]any)["unit_price"])
				}
			}
		}
		assert.EqualValues(t, 10_000, discount, "the voucher took its 10,000 off")
		assert.EqualValues(t, 1, campaignLines, "the flash sale priced its line")

		// The jobs went in with the orders: an auto-cancel a prepaid order, and one job carrying an
		// order.placed a shop (with its lines) and a stock change a line to their subscribers.
		var cancels, placedEvents int
		rows, err := env.App.Pool.Query(t.Context(), `SELECT kind, args FROM river_job WHERE state IN ('available', 'scheduled')`)
		require.NoError(t, err)
		ids := map[string]bool{}
		for _, o := range out["orders"].([]any) {
			ids[o.(map[string]any)["id"].(string)] = true
		}
		for rows.Next() {
			var kind string
			var args []byte
			require.NoError(t, rows.Scan(&kind, &args))
			type envelope struct {
				Topic   string          `json:"topic"`
				Payload json.RawMessage `json:"payload"`
			}
			var a struct {
				OrderID string `json:"order_id"`
				Events  []struct {
					Envelope    envelope `json:"envelope"`
					Subscribers []string `json:"subscribers"`
				} `json:"events"`
			}
			require.NoError(t, json.Unmarshal(args, &a))
			switch kind {
			case "order_auto_cancel":
				if ids[a.OrderID] {
					cancels++
				}
			case "event_batch":
				for _, e := range a.Events {
					if !slices.Contains(e.Subscribers, "test.order_placed") {
						continue
					}
					var ev events.OrderPlaced
					require.NoError(t, json.Unmarshal(e.Envelope.Payload, &ev))
					if ids[ev.OrderID] {
						placedEvents++
						assert.NotEmpty(t, ev.Lines)
					}
				}
			}
		}
		require.NoError(t, rows.Err())
		assert.Equal(t, 3, cancels)
		assert.Equal(t, 3, placedEvents)
		for _, l := range lines {
			p := env.Get(t, "/products/"+l.p.ID, "").Map(t)
			assert.EqualValues(t, 50-bought[l.p.ID], p["stock"], "the stock was taken")
		}
	})
}
