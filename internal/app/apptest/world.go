package apptest

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// Caller is a signed-in user the route-walking suites act as. A route may end its session
// (sign-out, a password change): Renew signs it in again.
type Caller struct {
	User
	// Name says who it is in failure messages ("B (another user)").
	Name string
	env  *Env
	mu   sync.Mutex
}

// Token is the caller's current access token.
func (c *Caller) Token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.AccessToken
}

// Renew signs the caller in again when its token no longer works, and says whether it did (not
// when the token still works, nor when the account is gone).
func (c *Caller) Renew(t testing.TB) bool {
	t.Helper()
	if c.env.Get(t, "/users/profile", c.Token()).Status != http.StatusUnauthorized {
		return false
	}
	res := c.env.Post(t, "/auth/login", "", map[string]any{"email": c.Email, "password": c.Password})
	if res.Status != http.StatusOK {
		return false
	}
	c.mu.Lock()
	c.AccessToken = res.Map(t)["access_token"].(string)
	c.mu.Unlock()
	return true
}

// Resource is one thing of the world: its ID and who owns it.
type Resource struct {
	ID    string
	Owner *Caller
}

// World is a marketplace with one of everything, built through the API as its users would, for
// the suites that call every route: A owns a shop with a product, a voucher and a campaign, and
// buys from it (an address, a cart line and a saved cart, a paid order on its way with shipper
// S1, a delivered order with a return, a refund request and a dispute, another order S1 delivered
// with A's reviews of the product, the shop and the delivery, a saved payment method, an export
// of the shop's sales report, the notifications all that made); B is
// another plain user who owns none of it; C is a plain user for the routes about the caller's
// own things; S2 is a shipper who carries nothing of A's; Admin is an admin.
type World struct {
	Env                    *Env
	A, B, C, Admin, S1, S2 *Caller
	ids                    map[string]Resource
	params                 map[string]string
}

// Kind aliases: the names routes may give a kind of resource (Op.IDs, body fields), folded to
// the world's own.
var kindAliases = map[string]string{
	"promotion": "voucher", "promo": "voucher", "coupon": "voucher",
	"delivery": "shipment", "paymentmethod": "payment method", "savedmethod": "payment method", "method": "payment method",
	"cartline": "cart line", "cartitem": "cart line", "line": "cart line", "item": "cart line",
	"savedcart": "saved cart", "subcategory": "category", "parent": "category", "refundrequest": "refund",
	"account": "user", "deliveredorder": "delivered order", "alert": "price alert",
}

// normKind folds a kind's spelling: "Payment_Method", "payment-method" and "paymentmethod" are
// one kind.
func normKind(kind string) string {
	k := strings.ToLower(kind)
	folded := strings.NewReplacer(" ", "", "_", "", "-", "").Replace(k)
	if a, ok := kindAliases[folded]; ok {
		return a
	}
	for _, own := range []string{"payment method", "cart line", "saved cart", "delivered order", "price alert", "review media"} {
		if folded == strings.ReplaceAll(own, " ", "") {
			return own
		}
	}
	return folded
}

// ID returns the world's resource of a kind (as Op.IDs names it).
func (w *World) ID(kind string) (Resource, bool) {
	r, ok := w.ids[normKind(kind)]
	return r, ok
}

// Kinds lists the kinds of resource the world has.
func (w *World) Kinds() []string {
	var out []string
	for k := range w.ids {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Param returns the value of a path parameter that is not a UUID, by its name.
func (w *World) Param(name string) (string, bool) {
	v, ok := w.params[name]
	return v, ok
}

// FieldID returns the ID for a body or query field named after a kind ("order_id", "shop_id",
// "product_ids"); it is the Sampler's IDOf.
func (w *World) FieldID(field string) (string, bool) {
	f := strings.TrimSuffix(strings.TrimSuffix(field, "_ids"), "_id")
	if f == field || f == "" {
		return "", false
	}
	r, ok := w.ID(f)
	return r.ID, ok
}

// Sampler returns a sampler that fills ID fields from the world.
func (w *World) Sampler() *Sampler { return &Sampler{IDOf: w.FieldID, Now: time.Now()} }

// NewWorld starts an app for t (with opts) and builds the world in it.
func NewWorld(t testing.TB, opts ...Option) *World {
	t.Helper()
	// The delivered order's shipment finds no shipper free and must not look again while the
	// test runs: S1 is for the order on its way.
	env := New(t, append([]Option{WithEnv("SHIPPING_ASSIGN_RETRY", "1h")}, opts...)...)
	caller := func(u User, name string) *Caller { return &Caller{User: u, Name: name, env: env} }
	w := &World{Env: env, ids: map[string]Resource{}, params: map[string]string{}}
	w.Admin = caller(env.Admin(t, env.Register(t, "Admin")), "the admin")
	w.A = caller(env.Register(t, "Alice Owner"), "A (the owner)")
	w.B = caller(env.Register(t, "Bob Other"), "B (another user)")
	w.C = caller(env.Register(t, "Carol Caller"), "C (a signed-in user)")
	w.S1 = w.shipper(t, caller(env.Register(t, "Shipper One"), "S1 (the assigned shipper)"))
	w.S2 = w.shipper(t, caller(env.Register(t, "Shipper Two"), "S2 (another shipper)"))
	a := w.A
	put := func(kind, id string, owner *Caller) { w.ids[kind] = Resource{ID: id, Owner: owner} }
	put("user", a.ID, a)
	put("shipper", w.S1.ID, w.S1)

	shop := env.CreateShop(t, a.User, "Authz Shop")
	put("shop", shop, a)
	p := env.CreateProduct(t, a.User, shop, "Áo dài", 200_000, 1000)
	put("product", p.ID, a)
	put("variant", p.VariantID, a)
	put("address", env.CreateAddress(t, a.User), a)
	up := env.Upload(t, "/products/"+p.ID+"/media", a.Token(), "photo.jpg", JPEG(t, 200, 150), "alt", "Áo dài")
	require.Equal(t, http.StatusCreated, up.Status, "world: upload a product image: %s", up.Body)
	put("media", up.Map(t)["id"].(string), a)
	w.params["file"] = "original.jpg"
	now := time.Now().UTC()
	res := w.must(t, a, http.MethodPost, "/shops/"+shop+"/promotions", http.StatusCreated, map[string]any{
		"code": "AUTHZ" + strings.ToUpper(uuid.NewString()[:6]), "name": "Authz voucher", "type": "fixed", "value": 1000,
		"starts_at": now.Add(-time.Hour), "ends_at": now.Add(24 * time.Hour)})
	put("voucher", res["id"].(string), a)
	w.params["code"] = res["code"].(string)
	res = w.must(t, a, http.MethodPost, "/shops/"+shop+"/campaigns", http.StatusCreated, map[string]any{
		"name": "Authz campaign", "starts_at": now.Add(24 * time.Hour), "ends_at": now.Add(48 * time.Hour),
		"items": []any{map[string]any{"variant_id": p.VariantID, "campaign_price": 150_000, "campaign_stock": 5}}})
	put("campaign", res["id"].(string), a)
	// A price alert of A's, once search has indexed the product.
	Eventually(t, func() bool {
		res := env.Post(t, "/price-alerts", a.Token(), map[string]any{"product_id": p.ID, "target_price": 100_000})
		if res.Status == http.StatusCreated {
			put("price alert", res.Map(t)["id"].(string), a)
		}
		return res.Status == http.StatusCreated
	}, "A sets a price alert")
	res = w.must(t, w.Admin, http.MethodPost, "/products/categories", http.StatusCreated, map[string]any{"name": "Authz category"})
	put("category", res["id"].(string), w.Admin)
	res = w.must(t, a, http.MethodPost, "/payments/methods", http.StatusCreated, map[string]any{
		"method": "card", "provider": "sandbox", "token": "tok_authz_" + uuid.NewString()[:8], "brand": "visa", "last4": "4242",
		"exp_month": 12, "exp_year": now.Year() + 2})
	put("payment method", res["id"].(string), a)

	// The delivered order, its refund request and its dispute; S1 is offline meanwhile, so its
	// shipment waits for a shipper.
	delivered, deliveredPay := w.paidOrder(t, p)
	put("delivered order", delivered, a)
	for _, status := range []string{"confirmed", "shipped", "delivered"} {
		w.must(t, a, http.MethodPut, "/orders/"+delivered+"/status", http.StatusOK, map[string]any{"status": status})
	}
	w.must(t, a, http.MethodPost, "/orders/"+delivered+"/return", http.StatusOK, map[string]any{"reason": "the wrong size"})
	res = w.must(t, a, http.MethodPost, "/orders/"+delivered+"/refund/request", http.StatusCreated, map[string]any{"reason": "the wrong size"})
	put("refund", res["id"].(string), a)
	res = w.must(t, a, http.MethodPost, "/payments/"+deliveredPay+"/dispute", http.StatusCreated, map[string]any{"reason": "never arrived"})
	put("dispute", res["id"].(string), a)

	// The order on its way: paid, confirmed, carried by S1 (the only shipper available).
	order, pay := w.paidOrder(t, p)
	put("order", order, a)
	put("shipment", order, a)
	put("payment", pay, a)
	w.must(t, w.S1, http.MethodPut, "/shipping/shippers/"+w.S1.ID+"/status", http.StatusOK,
		map[string]any{"status": "available", "lat": 10.7800, "lng": 106.7050})
	w.reviews(t, p, shop)
	w.must(t, a, http.MethodPut, "/orders/"+order+"/status", http.StatusOK, map[string]any{"status": "confirmed"})
	Eventually(t, func() bool {
		res := env.Get(t, "/shipping/"+order+"/tracking", a.Token())
		return res.Status == http.StatusOK && res.Map(t)["shipper_id"] == w.S1.ID
	}, "S1 is assigned the order")

	// A cart line and a saved cart.
	w.must(t, a, http.MethodPost, "/cart/items", http.StatusCreated, map[string]any{"product_id": p.ID, "quantity": 1})
	res = w.must(t, a, http.MethodPost, "/cart/save", http.StatusCreated, map[string]any{"name": "Later"})
	put("saved cart", res["id"].(string), a)
	res = w.must(t, a, http.MethodGet, "/cart", http.StatusOK, nil)
	if items, _ := res["items"].([]any); len(items) == 0 {
		w.must(t, a, http.MethodPost, "/cart/items", http.StatusCreated, map[string]any{"product_id": p.ID, "quantity": 1})
		res = w.must(t, a, http.MethodGet, "/cart", http.StatusOK, nil)
	}
	put("cart line", res["items"].([]any)[0].(map[string]any)["id"].(string), a)

	// An export of A's shop's sales report, asked for by A.
	res = w.must(t, a, http.MethodPost, "/shops/"+shop+"/reports/exports", http.StatusAccepted, map[string]any{
		"report": "sales", "format": "csv"})
	put("export", res["id"].(string), a)

	// A notification of A's (its orders made several).
	Eventually(t, func() bool {
		res := env.Get(t, "/notifications", a.Token())
		items, _ := res.Map(t)["items"].([]any)
		if res.Status == http.StatusOK && len(items) > 0 {
			put("notification", items[0].(map[string]any)["id"].(string), a)
		}
		return len(items) > 0
	}, "A has a notification")
	return w
}

// reviews has S1 deliver another order of A's product to A, and A review the product, the shop
// and the delivery; the product review is the world's review, with a photo (its "review media").
func (w *World) reviews(t testing.TB, p Product, shop string) {
	t.Helper()
	a := w.A
	id, _ := w.paidOrder(t, p)
	w.Env.Deliver(t, id, a.User, w.S1.User)
	res := w.must(t, a, http.MethodPost, "/products/"+p.ID+"/reviews", http.StatusCreated, map[string]any{
		"order_id": id, "rating": 5, "comment": "Áo đẹp, giao hàng nhanh"})
	w.ids["review"] = Resource{ID: res["id"].(string), Owner: a}
	up := w.Env.Upload(t, "/reviews/"+res["id"].(string)+"/media", a.Token(), "photo.jpg", JPEG(t, 120, 90))
	require.Equal(t, http.StatusCreated, up.Status, "world: upload a review photo: %s", up.Body)
	w.ids["review media"] = Resource{ID: up.Map(t)["id"].(string), Owner: a}
	w.must(t, a, http.MethodPost, "/shops/"+shop+"/reviews", http.StatusCreated, map[string]any{"order_id": id, "rating": 4})
	w.must(t, a, http.MethodPost, "/delivery/"+id+"/review", http.StatusCreated, map[string]any{"rating": 5})
}

// shipper registers c as a shipper through the identity route and keeps the token with the role.
func (w *World) shipper(t testing.TB, c *Caller) *Caller {
	t.Helper()
	res := w.must(t, c, http.MethodPost, "/users/shipper/register", http.StatusCreated, map[string]any{
		"vehicle_type": "motorbike", "vehicle_plate": "59X1-23456", "id_number": "079123456789", "service_area": "Hồ Chí Minh"})
	c.AccessToken = res["access_token"].(string)
	return c
}

// paidOrder checks A's product out by card through the sandbox and pays it; it returns the
// order's and the payment's IDs.
func (w *World) paidOrder(t testing.TB, p Product) (order, payment string) {
	t.Helper()
	a := w.A
	w.must(t, a, http.MethodPost, "/cart/items", http.StatusCreated, map[string]any{"product_id": p.ID, "quantity": 1})
	addr := w.ids["address"].ID
	res := w.must(t, a, http.MethodPost, "/orders", http.StatusCreated, map[string]any{
		"address_id": addr, "payment_method": "card", "provider": "sandbox"})
	order = res["orders"].([]any)[0].(map[string]any)["id"].(string)
	w.ids["checkout"] = Resource{ID: res["checkout_id"].(string), Owner: a}
	pay := w.must(t, a, http.MethodPost, "/payments", http.StatusCreated, map[string]any{"order_id": order})
	if ref, ok := pay["provider_ref"].(string); ok {
		w.params["ref"] = ref
	}
	w.must(t, nil, http.MethodPost, "/payments/sandbox/complete", http.StatusOK, map[string]any{
		"client_secret": pay["client_secret"], "outcome": "captured"})
	return order, pay["id"].(string)
}

// must sends a request as c (nil: no token), requires the status and returns the JSON object
// answered.
func (w *World) must(t testing.TB, c *Caller, method, path string, status int, body any) map[string]any {
	t.Helper()
	tok := ""
	if c != nil {
		tok = c.Token()
	}
	res := w.Env.Do(t, Req{Method: method, Path: path, Token: tok, Body: body})
	require.Equal(t, status, res.Status, "world: %s %s: %s", method, path, res.Body)
	if len(res.Body) == 0 {
		return nil
	}
	return res.Map(t)
}
