package apptest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// CheckoutCardPaid puts qty of a product in the buyer's cart, checks it out by card through the
// sandbox provider and has the payment captured, as a buyer's browser would; it returns the
// order's ID: paid, and pending for its shop (the cart must hold one shop's products).
func (e *Env) CheckoutCardPaid(t testing.TB, buyer User, addressID, productID string, qty int) string {
	t.Helper()
	res := e.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": productID, "quantity": qty})
	require.Equal(t, http.StatusCreated, res.Status, "add to cart: %s", res.Body)
	res = e.Post(t, "/orders", buyer.AccessToken, map[string]any{"address_id": addressID, "payment_method": "card", "provider": "sandbox"})
	require.Equal(t, http.StatusCreated, res.Status, "checkout: %s", res.Body)
	order := res.Map(t)["orders"].([]any)[0].(map[string]any)["id"].(string)
	res = e.Post(t, "/payments", buyer.AccessToken, map[string]any{"order_id": order})
	require.Equal(t, http.StatusCreated, res.Status, "pay: %s", res.Body)
	res = e.Post(t, "/payments/sandbox/complete", "", map[string]any{"client_secret": res.Map(t)["client_secret"], "outcome": "captured"})
	require.Equal(t, http.StatusOK, res.Status, "capture: %s", res.Body)
	return order
}
