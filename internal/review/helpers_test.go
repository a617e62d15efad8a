package review_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// market is a shop with a product, a shipper near it, and a buyer with an address.
type market struct {
	env     *apptest.Env
	seller  apptest.User
	shopID  string
	p       apptest.Product
	shipper apptest.User
	buyer   apptest.User
	addr    string
}

func setup(t *testing.T, opts ...apptest.Option) *market {
	t.Helper()
	env := apptest.New(t, opts...)
	m := &market{env: env, seller: env.Register(t, "Seller")}
	m.shopID = env.CreateShop(t, m.seller, "Gốm Bát Tràng")
	m.p = env.CreateProduct(t, m.seller, m.shopID, "Bình gốm", 250_000, 1000)
	m.shipper = env.NewShipper(t, "Shipper", apptest.NearShop, true)
	m.buyer = env.Register(t, "Buyer")
	m.addr = env.CreateAddress(t, m.buyer)
	return m
}

// delivered checks the product out for buyer (cash on delivery) and has the shipper deliver it.
func (m *market) delivered(t *testing.T, buyer apptest.User, addr string) string {
	t.Helper()
	id := m.env.CheckoutCOD(t, buyer, addr, m.p.ID, 1)
	m.env.Deliver(t, id, m.seller, m.shipper)
	return id
}

// post sends a request and requires the status; it answers the JSON object.
func post(t *testing.T, env *apptest.Env, path, token string, body any, status int) map[string]any {
	t.Helper()
	res := env.Post(t, path, token, body)
	require.Equal(t, status, res.Status, "POST %s: %s", path, res.Body)
	return res.Map(t)
}

func get(t *testing.T, env *apptest.Env, path, token string) map[string]any {
	t.Helper()
	res := env.Get(t, path, token)
	require.Equal(t, http.StatusOK, res.Status, "GET %s: %s", path, res.Body)
	return res.Map(t)
}

func items(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, it := range m["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func uuidOf(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	require.NoError(t, err)
	return id
}

// products adds n more products to the market's shop.
func (m *market) products(t *testing.T, n int) []apptest.Product {
	t.Helper()
	out := make([]apptest.Product, n)
	for i := range out {
		out[i] = m.env.CreateProduct(t, m.seller, m.shopID, "Chén gốm "+strconv.Itoa(i), int64(100_000+i*1000), 1000)
	}
	return out
}

// deliveredMany checks out one of each product in one order (cash on delivery) for buyer and has
// the shipper deliver it; it returns the order's ID.
func (m *market) deliveredMany(t *testing.T, buyer apptest.User, addr string, products []apptest.Product) string {
	t.Helper()
	for _, p := range products[1:] {
		res := m.env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	}
	id := m.env.CheckoutCOD(t, buyer, addr, products[0].ID, 1)
	m.env.Deliver(t, id, m.seller, m.shipper)
	return id
}
