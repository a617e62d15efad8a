package app_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app"
	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/eventbus"
)

// TestEventsCarryWhatSearchNeeds checks the payloads search, trending and analytics read: an
// order's lines on order.placed, and a campaign's items and prices on its status changes. (An
// add-to-cart reaches search in the cart's transaction, cart.Interest, not as an event.)
func TestEventsCarryWhatSearchNeeds(t *testing.T) {
	t.Parallel()
	var (
		mu        sync.Mutex
		placed    []events.OrderPlaced
		campaigns []events.CampaignStatusChanged
	)
	env := apptest.New(t, apptest.WithHook(func(a *app.App) {
		eventbus.On(a.Bus, "test.order_placed", func(_ context.Context, _ string, ev events.OrderPlaced) error {
			mu.Lock()
			defer mu.Unlock()
			placed = append(placed, ev)
			return nil
		})
		eventbus.On(a.Bus, "test.campaign_status", func(_ context.Context, _ string, ev events.CampaignStatusChanged) error {
			mu.Lock()
			defer mu.Unlock()
			campaigns = append(campaigns, ev)
			return nil
		})
	}))
	seller, buyer := env.Register(t, "Seller"), env.Register(t, "Buyer")
	shopID := env.CreateShop(t, seller, "Shop")
	p := env.CreateProduct(t, seller, shopID, "Áo thun", 150_000, 10)

	res := env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": p.ID, "quantity": 2})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

	res = env.Post(t, "/orders", buyer.AccessToken, map[string]any{"address_id": env.CreateAddress(t, buyer), "payment_method": "cod"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	apptest.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(placed) == 1 }, "order.placed arrives")
	mu.Lock()
	assert.Equal(t, []events.OrderLine{{ProductID: p.ID, VariantID: p.VariantID, Quantity: 2, UnitPrice: 150_000}}, placed[0].Lines)
	mu.Unlock()

	now := time.Now().UTC()
	res = env.Post(t, "/shops/"+shopID+"/campaigns", seller.AccessToken, map[string]any{"name": "Flash", "starts_at": now.Add(time.Hour),
		"ends_at": now.Add(2 * time.Hour), "items": []any{map[string]any{"variant_id": p.VariantID, "campaign_price": 99_000, "campaign_stock": 3}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	cid := res.Map(t)["id"].(string)
	res = env.Put(t, "/shops/"+shopID+"/campaigns/"+cid+"/status", seller.AccessToken, map[string]any{"status": "scheduled"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	apptest.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(campaigns) == 1 }, "the campaign's move arrives")
	mu.Lock()
	assert.Equal(t, "scheduled", campaigns[0].To)
	assert.Equal(t, []events.CampaignItem{{ProductID: p.ID, VariantID: p.VariantID, Price: 99_000, Stock: 3}}, campaigns[0].Items)
	mu.Unlock()
}

// TestProductsHaveAnOptionalGTIN checks the barcode field: kept, changed, refused when malformed.
func TestProductsHaveAnOptionalGTIN(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	seller := env.Register(t, "Seller")
	shopID := env.CreateShop(t, seller, "Shop")
	res := env.Post(t, "/shops/"+shopID+"/products", seller.AccessToken, map[string]any{"title": "Sữa", "price": 30_000, "stock": 5,
		"gtin": "8934673123456"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	p := res.Map(t)
	assert.Equal(t, "8934673123456", p["gtin"])
	for _, bad := range []string{"12345", "1234567890", "abcdefgh", "123456789012345"} {
		res = env.Post(t, "/shops/"+shopID+"/products", seller.AccessToken, map[string]any{"title": "x", "price": 1, "gtin": bad})
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", bad, res.Body)
	}
	res = env.Put(t, "/products/"+p["id"].(string), seller.AccessToken, map[string]any{"title": "Sữa tươi", "gtin": "12345670"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "12345670", res.Map(t)["gtin"])
	res = env.Put(t, "/products/"+p["id"].(string), seller.AccessToken, map[string]any{"title": "Sữa tươi"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.NotContains(t, res.Map(t), "gtin", "a replace without a barcode clears it")
}
