package apptest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// ShopPoint is where CreateShop puts shops (Quận 1, Hồ Chí Minh City); NearShop is about 0.6 km
// from it, well within the automatic assignment's radius.
var (
	ShopPoint = [2]float64{10.7769, 106.7009}
	NearShop  = [2]float64{10.7800, 106.7050}
)

// NewShipper registers a user as a shipper through the shipping route, placed at pt and, when
// available, ready to be assigned; its token carries the shipper role.
func (e *Env) NewShipper(t testing.TB, name string, pt [2]float64, available bool) User {
	t.Helper()
	u := e.Register(t, name)
	res := e.Post(t, "/shipping/shippers/register", u.AccessToken, map[string]any{"vehicle_type": "motorbike",
		"vehicle_plate": "59X1-23456", "id_number": "079123456789", "service_area": "Hồ Chí Minh", "lat": pt[0], "lng": pt[1]})
	require.Equal(t, http.StatusCreated, res.Status, "register shipper: %s", res.Body)
	u.AccessToken = res.Map(t)["access_token"].(string)
	if available {
		res = e.Put(t, "/shipping/shippers/"+u.ID+"/status", u.AccessToken, map[string]any{"status": "available"})
		require.Equal(t, http.StatusOK, res.Status, "shipper available: %s", res.Body)
	}
	return u
}

// CheckoutCOD puts qty of a product in the buyer's cart and checks it out, cash on delivery, to
// the address; it returns the order's ID (the cart must hold one shop's products).
func (e *Env) CheckoutCOD(t testing.TB, buyer User, addressID, productID string, qty int) string {
	t.Helper()
	e.addToCart(t, buyer, productID, qty)
	_, orders := e.checkoutCOD(t, buyer, addressID)
	return orders[0]
}

// CheckoutCODCart puts one of each product in the buyer's cart and checks it out, cash on
// delivery, to the address: one order a shop. It returns the checkout's ID and its orders' IDs.
func (e *Env) CheckoutCODCart(t testing.TB, buyer User, addressID string, productIDs ...string) (string, []string) {
	t.Helper()
	for _, id := range productIDs {
		e.addToCart(t, buyer, id, 1)
	}
	return e.checkoutCOD(t, buyer, addressID)
}

func (e *Env) addToCart(t testing.TB, buyer User, productID string, qty int) {
	t.Helper()
	res := e.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": productID, "quantity": qty})
	require.Equal(t, http.StatusCreated, res.Status, "add to cart: %s", res.Body)
}

// checkoutCOD checks the buyer's cart out, cash on delivery, and returns the checkout's ID and
// its orders' IDs.
func (e *Env) checkoutCOD(t testing.TB, buyer User, addressID string) (string, []string) {
	t.Helper()
	res := e.Post(t, "/orders", buyer.AccessToken, map[string]any{"address_id": addressID, "payment_method": "cod"})
	require.Equal(t, http.StatusCreated, res.Status, "checkout: %s", res.Body)
	out := res.Map(t)
	var orders []string
	for _, o := range out["orders"].([]any) {
		orders = append(orders, o.(map[string]any)["id"].(string))
	}
	return out["checkout_id"].(string), orders
}

// Deliver has an order delivered the way it is in production: the shop confirms it, the server
// assigns the nearest available shipper (one of shippers, which must be free near the shop),
// who picks it up, carries it and delivers it. It returns the shipper who did.
func (e *Env) Deliver(t testing.TB, orderID string, seller User, shippers ...User) User {
	t.Helper()
	res := e.Put(t, "/orders/"+orderID+"/confirm", seller.AccessToken, nil)
	require.Equal(t, http.StatusOK, res.Status, "confirm: %s", res.Body)
	var shipperID string
	Eventually(t, func() bool {
		res := e.Get(t, "/shipping/"+orderID+"/tracking", seller.AccessToken)
		if res.Status != http.StatusOK {
			return false
		}
		id, _ := res.Map(t)["shipper_id"].(string)
		shipperID = id
		return id != ""
	}, "the order gets a shipper")
	var by User
	for _, s := range shippers {
		if s.ID == shipperID {
			by = s
		}
	}
	require.NotEmpty(t, by.ID, "the order went to shipper %s, not one of those given", shipperID)
	for _, step := range []string{"picked_up", "in_transit", "delivered"} {
		res := e.Put(t, "/shipping/"+orderID+"/status", by.AccessToken, map[string]any{"status": step})
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", step, res.Body)
	}
	return by
}
