package order_test

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
)

type fixture struct {
	env    *apptest.Env
	seller apptest.User
	shopID string
	p      apptest.Product
}

func setup(t *testing.T, price, stock int64, opts ...apptest.Option) fixture {
	t.Helper()
	env := apptest.New(t, opts...)
	seller := env.Register(t, "Seller")
	shopID := env.CreateShop(t, seller, "Shop")
	return fixture{env: env, seller: seller, shopID: shopID, p: env.CreateProduct(t, seller, shopID, "Nón lá", price, stock)}
}

// buyerWith registers a buyer with an address and qty of p in the cart.
func (f fixture) buyerWith(t *testing.T, name string, qty int) (apptest.User, string) {
	t.Helper()
	b := f.env.Register(t, name)
	addr := f.env.CreateAddress(t, b)
	res := f.env.Post(t, "/cart/items", b.AccessToken, map[string]any{"product_id": f.p.ID, "quantity": qty})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	return b, addr
}

func (f fixture) stock(t *testing.T) int64 {
	t.Helper()
	var n int64
	require.NoError(t, f.env.App.Pool.QueryRow(t.Context(), "SELECT stock FROM catalog.variants WHERE id = $1", f.p.VariantID).Scan(&n))
	return n
}

func checkout(t *testing.T, env *apptest.Env, b apptest.User, addr string, extra map[string]any) *apptest.Response {
	t.Helper()
	body := map[string]any{"address_id": addr, "payment_method": "cod"}
	for k, v := range extra {
		body[k] = v
	}
	return env.Post(t, "/orders", b.AccessToken, body)
}

func TestCheckoutMakesOneOrderPerShop(t *testing.T) {
	t.Parallel()
	f := setup(t, 120_000, 10)
	shop2 := f.env.CreateShop(t, f.seller, "Second shop")
	p2 := f.env.CreateProduct(t, f.seller, shop2, "Khăn", 80_000, 5)
	b, addr := f.buyerWith(t, "Buyer", 2)
	f.env.Post(t, "/cart/items", b.AccessToken, map[string]any{"product_id": p2.ID, "quantity": 1})
	preview := f.env.Post(t, "/orders/calculate-preview", b.AccessToken, map[string]any{"address_id": addr}).Map(t)

	res := checkout(t, f.env, b, addr, map[string]any{"note": "Giao giờ hành chính"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	out := res.Map(t)
	orders := out["orders"].([]any)
	require.Len(t, orders, 2)
	var total int64
	for _, o := range orders {
		o := o.(map[string]any)
		assert.Equal(t, "pending", o["status"])
		assert.Equal(t, out["checkout_id"], o["checkout_id"])
		assert.Equal(t, b.ID, o["buyer_id"])
		assert.Equal(t, "cod", o["payment_method"])
		assert.Equal(t, "unpaid", o["payment_status"])
		assert.Equal(t, "VND", o["currency"])
		assert.Equal(t, "Hồ Chí Minh", o["address"].(map[string]any)["province"])
		total += int64(o["total"].(float64))
	}
	assert.EqualValues(t, preview["total"], total, "the preview and the checkout agree")
	assert.Equal(t, int64(8), f.stock(t))
	assert.Equal(t, []any{}, f.env.Get(t, "/cart", b.AccessToken).Map(t)["items"], "the cart is emptied")

	// The order keeps its snapshot when the product changes.
	id := orders[0].(map[string]any)["id"].(string)
	got := f.env.Get(t, "/orders/"+id, b.AccessToken)
	require.Equal(t, http.StatusOK, got.Status)
	calc := f.env.Get(t, "/orders/"+id+"/calculation", b.AccessToken).Map(t)
	assert.Equal(t, got.Map(t)["total"], calc["total"])
	fees := f.env.Get(t, "/orders/"+id+"/fees/breakdown", b.AccessToken).Map(t)
	assert.Equal(t, got.Map(t)["shipping_fee"], fees["shipping_fee"])
	hist := f.env.Get(t, "/orders/"+id+"/status-history", b.AccessToken).Map(t)["items"].([]any)
	require.Len(t, hist, 1)
	assert.Equal(t, "pending", hist[0].(map[string]any)["to"])

	list := f.env.Get(t, "/orders", b.AccessToken).Map(t)
	assert.Len(t, list["items"], 2)
	assert.Len(t, f.env.Get(t, "/shops/"+f.shopID+"/orders", f.seller.AccessToken).Map(t)["items"], 1)
	assert.Len(t, f.env.Get(t, "/shops/"+f.shopID+"/orders/pending", f.seller.AccessToken).Map(t)["items"], 1)

	// An empty cart cannot be checked out.
	res = checkout(t, f.env, b, addr, nil)
	assert.Equal(t, http.StatusConflict, res.Status)
}

// TestFiftyBuyersRaceForTenInStock is the proof that stock never oversells: 50 buyers check
// out at once for a variant with 10 in stock; exactly 10 orders are made, the others answer
// 409 insufficient_stock, and stock ends at 0.
func TestFiftyBuyersRaceForTenInStock(t *testing.T) {
	t.Parallel()
	f := setup(t, 99_000, 10)
	type buyer struct {
		u    apptest.User
		addr string
	}
	buyers := make([]buyer, 50)
	for i := range buyers {
		u, addr := f.buyerWith(t, fmt.Sprintf("Buyer %d", i), 1)
		buyers[i] = buyer{u, addr}
	}
	var ok, out atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, b := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res := checkout(t, f.env, b.u, b.addr, nil)
			switch {
			case res.Status == http.StatusCreated:
				ok.Add(1)
			case res.Status == http.StatusConflict && res.Code(t) == "insufficient_stock":
				out.Add(1)
			default:
				t.Errorf("unexpected answer %d: %s", res.Status, res.Body)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 10, ok.Load())
	assert.EqualValues(t, 40, out.Load())
	assert.Zero(t, f.stock(t))
	var orders int
	require.NoError(t, f.env.App.Pool.QueryRow(t.Context(), "SELECT count(*) FROM orders.orders").Scan(&orders))
	assert.Equal(t, 10, orders)
}

func TestConcurrentCancelsReturnStockOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, 50_000, 5)
	b, addr := f.buyerWith(t, "Buyer", 3)
	res := checkout(t, f.env, b, addr, nil)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	id := res.Map(t)["orders"].([]any)[0].(map[string]any)["id"].(string)
	require.Equal(t, int64(2), f.stock(t))

	var wg sync.WaitGroup
	var cancelled atomic.Int32
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.env.Put(t, "/orders/"+id+"/cancel", b.AccessToken, map[string]any{"reason": "changed my mind"})
			if r.Status == http.StatusOK {
				cancelled.Add(1)
			} else {
				assert.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 1, cancelled.Load())
	assert.Equal(t, int64(5), f.stock(t), "stock came back exactly once")
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := setup(t, 70_000, 10)
	b, addr := f.buyerWith(t, "Buyer", 1)
	body := map[string]any{"address_id": addr, "payment_method": "cod"}
	req := apptest.Req{Method: "POST", Path: "/orders", Token: b.AccessToken, Body: body, Header: map[string]string{"Idempotency-Key": "k-1"}}

	var wg sync.WaitGroup
	answers := make([]*apptest.Response, 2)
	for i := range answers {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = f.env.Do(t, req) }()
	}
	wg.Wait()
	for _, a := range answers {
		require.Equal(t, http.StatusCreated, a.Status, "%s", a.Body)
	}
	assert.Equal(t, answers[0].Map(t)["checkout_id"], answers[1].Map(t)["checkout_id"], "one checkout, replayed")
	assert.Equal(t, int64(9), f.stock(t))

	// A third time, later: the same answer again.
	assert.Equal(t, answers[0].Map(t)["checkout_id"], f.env.Do(t, req).Map(t)["checkout_id"])
	// The same key with another body is refused.
	req.Body = map[string]any{"address_id": addr, "payment_method": "cod", "note": "different"}
	res := f.env.Do(t, req)
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.Equal(t, "idempotency_key_reused", res.Code(t))
}

func TestStatusMachineAndWhoMayMove(t *testing.T) {
	t.Parallel()
	f := setup(t, 100_000, 10)
	b, addr := f.buyerWith(t, "Buyer", 1)
	stranger := f.env.Register(t, "Stranger")
	res := checkout(t, f.env, b, addr, nil)
	require.Equal(t, http.StatusCreated, res.Status)
	id := res.Map(t)["orders"].([]any)[0].(map[string]any)["id"].(string)
	put := func(u apptest.User, path string, body any) *apptest.Response {
		return f.env.Put(t, "/orders/"+id+path, u.AccessToken, body)
	}

	assert.Equal(t, http.StatusForbidden, put(b, "/confirm", nil).Status, "the buyer does not confirm")
	assert.Equal(t, http.StatusNotFound, put(stranger, "/confirm", nil).Status, "a stranger does not see the order")
	assert.Equal(t, http.StatusConflict, put(f.seller, "/deliver", nil).Status, "pending cannot be delivered")
	require.Equal(t, http.StatusOK, put(f.seller, "/confirm", nil).Status)
	assert.Equal(t, http.StatusForbidden, put(b, "/cancel", nil).Status, "the buyer cancels only pending orders")
	res = f.env.Post(t, "/shops/"+f.shopID+"/orders/"+id+"/fulfill", f.seller.AccessToken, map[string]any{"tracking_number": "GS123", "carrier": "GHN"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "shipped", res.Map(t)["status"])
	tr := f.env.Get(t, "/orders/"+id+"/tracking", b.AccessToken).Map(t)
	assert.Equal(t, "GS123", tr["tracking_number"])
	assert.Equal(t, "GHN", tr["carrier"])

	res = put(f.seller, "/deliver", map[string]any{"reason": "signed by buyer"})
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "paid", res.Map(t)["payment_status"], "cash on delivery is collected")

	// Return: the buyer asks with a reason; the shop accepts; a COD refund is marked by the shop.
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Post(t, "/orders/"+id+"/return", b.AccessToken, map[string]any{}).Status)
	assert.Equal(t, http.StatusNotFound, f.env.Post(t, "/orders/"+id+"/return", stranger.AccessToken, map[string]any{"reason": "x"}).Status)
	assert.Equal(t, http.StatusNotFound, f.env.Post(t, "/orders/"+id+"/return", f.seller.AccessToken, map[string]any{"reason": "x"}).Status,
		"only the buyer returns an order, not its shop")
	// The service itself refuses another user, whatever route or caller reaches it.
	_, err := f.env.App.Orders.RequestReturn(t.Context(), auth.Principal{UserID: uuid.MustParse(stranger.ID), Roles: []string{auth.RoleUser}},
		uuid.MustParse(id), "x")
	assert.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
	res = f.env.Post(t, "/orders/"+id+"/return", b.AccessToken, map[string]any{"reason": "wrong size"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "return_requested", res.Map(t)["status"])
	rs := f.env.Get(t, "/orders/"+id+"/return-status", b.AccessToken).Map(t)
	assert.Equal(t, "wrong size", rs["reason"])
	res = f.env.Post(t, "/orders/"+id+"/refund/request", b.AccessToken, map[string]any{"reason": "please", "amount": 1})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	assert.Equal(t, http.StatusConflict, f.env.Post(t, "/orders/"+id+"/refund/request", b.AccessToken, map[string]any{"reason": "again"}).Status)
	assert.Len(t, f.env.Get(t, "/orders/refunds", b.AccessToken).Map(t)["items"], 1)
	assert.Len(t, f.env.Get(t, "/orders/returns", b.AccessToken).Map(t)["items"], 1)

	res = f.env.Put(t, "/shops/"+f.shopID+"/orders/"+id+"/status", f.seller.AccessToken, map[string]any{"status": "returned"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	// The refund goes through the payment context (cash on delivery: in cash, at once), which
	// finishes the order; the shop cannot mark a paid order refunded by hand.
	res = f.env.Put(t, "/shops/"+f.shopID+"/orders/"+id+"/status", f.seller.AccessToken, map[string]any{"status": "refunded", "reason": "cash back"})
	assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	apptest.Eventually(t, func() bool {
		return f.env.Get(t, "/orders/"+id, b.AccessToken).Map(t)["status"] == "refunded"
	}, "the payment context refunds the returned order")
	assert.Equal(t, "refunded", f.env.Get(t, "/orders/"+id, b.AccessToken).Map(t)["payment_status"])

	moves := f.env.Get(t, "/orders/"+id+"/status-history", b.AccessToken).Map(t)["items"].([]any)
	var path []string
	for _, m := range moves {
		path = append(path, m.(map[string]any)["to"].(string))
	}
	assert.Equal(t, []string{"pending", "confirmed", "shipped", "delivered", "return_requested", "returned", "refunded"}, path)
	tl := f.env.Get(t, "/orders/"+id+"/timeline", b.AccessToken).Map(t)["items"].([]any)
	assert.GreaterOrEqual(t, len(tl), 7)

	// Finished: the buyer may hide it from history; summary counts it.
	sum := f.env.Get(t, "/orders/history/summary", b.AccessToken).Map(t)
	assert.EqualValues(t, 1, sum["orders"])
	assert.Len(t, f.env.Get(t, "/orders/history", b.AccessToken).Map(t)["items"], 1)
	require.Equal(t, http.StatusNoContent, f.env.Delete(t, "/orders/"+id, b.AccessToken).Status)
	assert.Len(t, f.env.Get(t, "/orders", b.AccessToken).Map(t)["items"], 0)
	assert.Equal(t, http.StatusOK, f.env.Get(t, "/orders/"+id, f.seller.AccessToken).Status, "the shop still has it")
}

func TestOrdersOfOthersAreNotFound(t *testing.T) {
	t.Parallel()
	f := setup(t, 100_000, 10)
	b, addr := f.buyerWith(t, "Buyer", 1)
	res := checkout(t, f.env, b, addr, nil)
	require.Equal(t, http.StatusCreated, res.Status)
	id := res.Map(t)["orders"].([]any)[0].(map[string]any)["id"].(string)
	other := f.env.Register(t, "Other buyer")
	otherSeller := f.env.Register(t, "Other seller")
	otherShop := f.env.CreateShop(t, otherSeller, "Other shop")

	for _, path := range []string{"", "/status-history", "/timeline", "/tracking", "/calculation", "/fees/breakdown", "/return-status"} {
		assert.Equal(t, http.StatusNotFound, f.env.Get(t, "/orders/"+id+path, other.AccessToken).Status, path)
		assert.Equal(t, http.StatusNotFound, f.env.Get(t, "/orders/"+id+path, otherSeller.AccessToken).Status, path)
	}
	assert.Equal(t, http.StatusNotFound, f.env.Get(t, "/orders/repeat/"+id, other.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, f.env.Delete(t, "/orders/"+id, other.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, f.env.Put(t, "/orders/"+id+"/cancel", other.AccessToken, nil).Status)
	assert.Equal(t, http.StatusNotFound, f.env.Post(t, "/orders/"+id+"/refund/request", other.AccessToken, map[string]any{"reason": "x"}).Status)
	// Another shop's owner cannot reach it through their shop, nor list this shop's orders.
	assert.Equal(t, http.StatusNotFound, f.env.Put(t, "/shops/"+otherShop+"/orders/"+id+"/status", otherSeller.AccessToken,
		map[string]any{"status": "confirmed"}).Status)
	assert.Equal(t, http.StatusForbidden, f.env.Get(t, "/shops/"+f.shopID+"/orders", otherSeller.AccessToken).Status)
	assert.Equal(t, http.StatusForbidden, f.env.Post(t, "/shops/"+f.shopID+"/orders/"+id+"/fulfill", otherSeller.AccessToken, nil).Status)
	assert.Equal(t, http.StatusUnauthorized, f.env.Get(t, "/orders/"+id, "").Status)
	assert.Equal(t, "pending", f.env.Get(t, "/orders/"+id, b.AccessToken).Map(t)["status"], "nothing moved")
}

func TestCheckoutBadInput(t *testing.T) {
	t.Parallel()
	f := setup(t, 100_000, 10)
	b, addr := f.buyerWith(t, "Buyer", 1)
	other := f.env.Register(t, "Other")
	otherAddr := f.env.CreateAddress(t, other)
	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"no address":        {map[string]any{"payment_method": "cod"}, "address_id"},
		"bad method":        {map[string]any{"address_id": addr, "payment_method": "barter"}, "payment_method"},
		"cod with provider": {map[string]any{"address_id": addr, "payment_method": "cod", "provider": "stripe"}, "provider"},
		"card via momo":     {map[string]any{"address_id": addr, "payment_method": "card", "provider": "momo"}, "provider"},
		"someone's address": {map[string]any{"address_id": otherAddr, "payment_method": "cod"}, "address_id"},
		"bad shipping":      {map[string]any{"address_id": addr, "payment_method": "cod", "shipping_method": "drone"}, "shipping_method"},
		"wrong type":        {`{"address_id": "` + addr + `", "payment_method": 3}`, "payment_method"},
	} {
		res := f.env.Post(t, "/orders", b.AccessToken, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
		assert.Equal(t, c.field, res.Map(t)["errors"].([]any)[0].(map[string]any)["field"], name)
	}
	assert.Equal(t, http.StatusBadRequest, f.env.Post(t, "/orders", b.AccessToken, `{"address_id":`).Status)
	assert.Equal(t, int64(10), f.stock(t), "nothing was reserved")
	assert.Len(t, f.env.Get(t, "/cart", b.AccessToken).Map(t)["items"], 1, "the cart is intact")
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Get(t, "/orders?status=lost", b.AccessToken).Status)
}

func TestUnpaidPrepaidOrderIsCancelledInTime(t *testing.T) {
	t.Parallel()
	f := setup(t, 100_000, 4, apptest.WithEnv("ORDER_PAYMENT_TIMEOUT", "300ms"))
	b, addr := f.buyerWith(t, "Buyer", 2)
	res := checkout(t, f.env, b, addr, map[string]any{"payment_method": "card", "provider": "sandbox"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	id := res.Map(t)["orders"].([]any)[0].(map[string]any)["id"].(string)
	assert.Equal(t, int64(2), f.stock(t))
	apptest.Eventually(t, func() bool {
		return f.env.Get(t, "/orders/"+id, b.AccessToken).Map(t)["status"] == "cancelled"
	}, "the unpaid order is cancelled by the system")
	assert.Equal(t, int64(4), f.stock(t))
	moves := f.env.Get(t, "/orders/"+id+"/status-history", b.AccessToken).Map(t)["items"].([]any)
	assert.Equal(t, "system", moves[len(moves)-1].(map[string]any)["actor_role"])
	// A prepaid order is not shipped unpaid.
	res = f.env.Put(t, "/orders/"+id+"/ship", f.seller.AccessToken, nil)
	assert.Equal(t, http.StatusConflict, res.Status)
}

func TestVoucherUsedAtCheckoutAndRepeat(t *testing.T) {
	t.Parallel()
	f := setup(t, 100_000, 20)
	now := time.Now().UTC()
	res := f.env.Post(t, "/shops/"+f.shopID+"/promotions", f.seller.AccessToken, map[string]any{
		"code": "ONCE", "name": "Once", "type": "fixed", "value": 20_000, "usage_limit": 1,
		"starts_at": now.Add(-time.Hour), "ends_at": now.Add(time.Hour),
	})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	b1, a1 := f.buyerWith(t, "First", 1)
	b2, a2 := f.buyerWith(t, "Second", 1)
	require.Equal(t, http.StatusOK, f.env.Post(t, "/cart/apply-coupon", b1.AccessToken, map[string]any{"code": "ONCE"}).Status)
	require.Equal(t, http.StatusOK, f.env.Post(t, "/cart/apply-coupon", b2.AccessToken, map[string]any{"code": "ONCE"}).Status)

	res = checkout(t, f.env, b1, a1, nil)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	o := res.Map(t)["orders"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 20_000, o["discount"])
	assert.Equal(t, "ONCE", o["voucher_code"])
	// The voucher is used up: the second checkout fails whole.
	res = checkout(t, f.env, b2, a2, nil)
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	assert.Equal(t, int64(19), f.stock(t))

	// Cancelling gives the use back.
	id := o["id"].(string)
	require.Equal(t, http.StatusOK, f.env.Put(t, "/orders/"+id+"/cancel", b1.AccessToken, nil).Status)
	res = checkout(t, f.env, b2, a2, nil)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

	// Repeat puts the cancelled order's items back in the cart at today's price.
	res = f.env.Post(t, "/orders/repeat/"+id, b1.AccessToken, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Len(t, res.Map(t)["added"], 1)
	items := f.env.Get(t, "/cart", b1.AccessToken).Map(t)["items"].([]any)
	require.Len(t, items, 1)
	assert.EqualValues(t, 100_000, items[0].(map[string]any)["unit_price"])
}

func TestOrderRoutesBadInput(t *testing.T) {
	t.Parallel()
	f := setup(t, 100_000, 10)
	b, addr := f.buyerWith(t, "Buyer", 1)
	other := f.env.Register(t, "Other")
	otherAddr := f.env.CreateAddress(t, other)
	res := checkout(t, f.env, b, addr, nil)
	require.Equal(t, http.StatusCreated, res.Status)
	id := res.Map(t)["orders"].([]any)[0].(map[string]any)["id"].(string)

	cases := []struct {
		method, path string
		user         apptest.User
		body         any
		status       int
	}{
		{"PUT", "/orders/" + id + "/status", b, map[string]any{"status": "teleported"}, 422},
		{"PUT", "/orders/" + id + "/status", b, map[string]any{}, 422},
		{"PUT", "/orders/" + id + "/status", b, `{"status":`, 400},
		{"PUT", "/orders/" + id + "/cancel", b, `{"reason": 7}`, 422},
		{"POST", "/orders/calculate-preview", b, map[string]any{"address_id": otherAddr}, 422},
		{"POST", "/orders/calculate-preview", b, map[string]any{"shipping_method": "rocket"}, 422},
		{"POST", "/orders/" + id + "/return", b, `{"reason":`, 400},
		{"POST", "/orders/" + id + "/refund/request", b, map[string]any{}, 422},
		{"POST", "/orders/" + id + "/refund/request", b, map[string]any{"reason": "x", "amount": -5}, 422},
		{"POST", "/shops/" + f.shopID + "/orders/" + id + "/fulfill", f.seller, `{"tracking_number": 5}`, 422},
		{"PUT", "/shops/" + f.shopID + "/orders/" + id + "/status", f.seller, map[string]any{"status": "lost"}, 422},
		{"GET", "/orders/not-a-uuid", b, nil, 404},
		{"GET", "/orders?limit=500", b, nil, 422},
		{"GET", "/shops/" + f.shopID + "/orders?status=misplaced", f.seller, nil, 422},
	}
	for _, c := range cases {
		res := f.env.Do(t, apptest.Req{Method: c.method, Path: c.path, Token: c.user.AccessToken, Body: c.body})
		assert.Equal(t, c.status, res.Status, "%s %s %v: %s", c.method, c.path, c.body, res.Body)
	}
	// A refund is asked only of a paid, delivered order, and never above its total.
	res = f.env.Post(t, "/orders/"+id+"/refund/request", b.AccessToken, map[string]any{"reason": "early"})
	assert.Equal(t, http.StatusConflict, res.Status)
	for _, move := range []string{"/confirm", "/ship", "/deliver"} {
		require.Equal(t, http.StatusOK, f.env.Put(t, "/orders/"+id+move, f.seller.AccessToken, nil).Status, move)
	}
	res = f.env.Post(t, "/orders/"+id+"/refund/request", b.AccessToken, map[string]any{"reason": "broken", "amount": 10_000_000})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	moves := f.env.Get(t, "/orders/"+id+"/status-history", b.AccessToken).Map(t)["items"].([]any)
	assert.Len(t, moves, 4, "bad requests moved nothing")
}
