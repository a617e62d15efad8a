package payment_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// shopFixture is a shop with a product, on an app whose ledger is checked when the test ends.
type shopFixture struct {
	env    *apptest.Env
	seller apptest.User
	admin  apptest.User
	shopID string
	p      apptest.Product
}

func setup(t *testing.T, o ...apptest.Option) shopFixture {
	t.Helper()
	env := moneyEnv(t, o...)
	seller := env.Register(t, "Seller")
	shopID := env.CreateShop(t, seller, "Shop")
	return shopFixture{env: env, seller: seller, admin: env.Admin(t, env.Register(t, "Admin")), shopID: shopID,
		p: env.CreateProduct(t, seller, shopID, "Nón lá", 200_000, 100)}
}

// order is an order as checkout answered it.
type order struct {
	ID, CheckoutID string
	Total          int64
}

// checkout puts qty of each product in a new buyer's cart and checks out with the method.
func (f shopFixture) checkout(t *testing.T, b apptest.User, method, provider string, products ...apptest.Product) []order {
	t.Helper()
	if len(products) == 0 {
		products = []apptest.Product{f.p}
	}
	for _, p := range products {
		res := f.env.Post(t, "/cart/items", b.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	}
	body := map[string]any{"address_id": f.env.CreateAddress(t, b), "payment_method": method}
	if provider != "" {
		body["provider"] = provider
	}
	res := f.env.Post(t, "/orders", b.AccessToken, body)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var out []order
	m := res.Map(t)
	for _, o := range m["orders"].([]any) {
		o := o.(map[string]any)
		out = append(out, order{ID: o["id"].(string), CheckoutID: m["checkout_id"].(string), Total: int64(o["total"].(float64))})
	}
	return out
}

// pay starts a payment of one order.
func (f shopFixture) pay(t *testing.T, b apptest.User, orderID string, extra map[string]any) map[string]any {
	t.Helper()
	body := map[string]any{"order_id": orderID}
	for k, v := range extra {
		body[k] = v
	}
	res := f.env.Post(t, "/payments", b.AccessToken, body)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	return res.Map(t)
}

// complete completes a sandbox payment as its buyer's client would.
func (f shopFixture) complete(t *testing.T, pay map[string]any, outcome string) map[string]any {
	t.Helper()
	res := f.env.Post(t, "/payments/sandbox/complete", "", map[string]any{"client_secret": pay["client_secret"], "outcome": outcome})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	return res.Map(t)
}

// paid is a captured sandbox payment of a new buyer's order.
func (f shopFixture) paid(t *testing.T) (apptest.User, order, string) {
	t.Helper()
	b := f.env.Register(t, "Buyer")
	o := f.checkout(t, b, "card", "sandbox")[0]
	pay := f.pay(t, b, o.ID, nil)
	f.complete(t, pay, "captured")
	return b, o, pay["id"].(string)
}

func (f shopFixture) payment(t *testing.T, u apptest.User, id string) map[string]any {
	t.Helper()
	res := f.env.Get(t, "/payments/"+id, u.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	return res.Map(t)
}

func (f shopFixture) orderOf(t *testing.T, u apptest.User, id string) map[string]any {
	t.Helper()
	res := f.env.Get(t, "/orders/"+id, u.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	return res.Map(t)
}

// deliver takes an order through confirm, ship and deliver as its shop.
func (f shopFixture) deliver(t *testing.T, orderID string) {
	t.Helper()
	for _, step := range []string{"confirm", "ship", "deliver"} {
		res := f.env.Put(t, "/orders/"+orderID+"/"+step, f.seller.AccessToken, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", step, res.Body)
	}
}

func (f shopFixture) escrow(t *testing.T, u apptest.User, orderID string) map[string]any {
	t.Helper()
	res := f.env.Get(t, "/payments/escrow/"+orderID+"/status", u.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	return res.Map(t)
}

func num(v any) int64 { return int64(v.(float64)) }
