package payment_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// TestCheckoutPaymentAndEscrowRelease pays a two-shop checkout with one payment; each order's
// escrow is released to its shop less the commission: one when the buyer confirms receipt,
// the other by an admin after a hold.
func TestCheckoutPaymentAndEscrowRelease(t *testing.T) {
	t.Parallel()
	f := setup(t)
	seller2 := f.env.Register(t, "Seller 2")
	shop2 := f.env.CreateShop(t, seller2, "Shop 2")
	p2 := f.env.CreateProduct(t, seller2, shop2, "Áo dài", 450_000, 10)
	b := f.env.Register(t, "Buyer")
	stranger := f.env.Register(t, "Stranger")
	orders := f.checkout(t, b, "ewallet", "sandbox", f.p, p2)
	require.Len(t, orders, 2)

	res := f.env.Post(t, "/payments", b.AccessToken, map[string]any{"checkout_id": orders[0].CheckoutID})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	pay := res.Map(t)
	assert.EqualValues(t, orders[0].Total+orders[1].Total, pay["amount"])
	assert.Len(t, pay["order_ids"], 2)
	assert.Equal(t, "ewallet", pay["method"])
	f.complete(t, pay, "captured")
	for _, o := range orders {
		assert.Equal(t, "paid", f.orderOf(t, b, o.ID)["payment_status"])
		assert.Equal(t, o.Total, balance(t, f.env, "escrow:"+o.ID))
	}
	// Which order is whose depends on the checkout's order of shops.
	mine, theirs := orders[0], orders[1]
	if f.orderOf(t, b, mine.ID)["shop_id"] != f.shopID {
		mine, theirs = theirs, mine
	}

	// Release needs a delivered order.
	release := func(u apptest.User, orderID string) *apptest.Response {
		return f.env.Post(t, "/payments/escrow/release", u.AccessToken, map[string]any{"order_id": orderID})
	}
	assert.Equal(t, http.StatusConflict, release(b, mine.ID).Status)
	f.deliver(t, mine.ID)
	assert.Equal(t, http.StatusNotFound, release(stranger, mine.ID).Status)
	assert.Equal(t, http.StatusNotFound, release(f.seller, mine.ID).Status, "the shop does not release its own money")
	res = release(b, mine.ID)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	e := res.Map(t)
	commission := mine.Total * 500 / 10_000
	assert.Equal(t, "released", e["status"])
	assert.Equal(t, "buyer", e["released_by"])
	assert.EqualValues(t, commission, e["commission"])
	assert.EqualValues(t, mine.Total-commission, e["released_amount"])
	assert.Zero(t, num(e["balance"]))
	assert.Equal(t, mine.Total-commission, balance(t, f.env, "shop_payable:"+f.shopID+":VND"))
	assert.Equal(t, commission, balance(t, f.env, "platform_commission:VND"))
	assert.Equal(t, http.StatusConflict, release(b, mine.ID).Status, "released once")

	// The other order: an admin holds it; the buyer cannot release it then, an admin can.
	hold := func(u apptest.User, body any) *apptest.Response {
		return f.env.Post(t, "/payments/escrow/hold", u.AccessToken, body)
	}
	assert.Equal(t, http.StatusForbidden, hold(b, map[string]any{"order_id": theirs.ID}).Status)
	assert.Equal(t, http.StatusUnauthorized, hold(apptest.User{}, map[string]any{"order_id": theirs.ID}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, hold(f.admin, map[string]any{}).Status)
	assert.Equal(t, http.StatusBadRequest, hold(f.admin, `{"order_id":`).Status)
	assert.Equal(t, http.StatusNotFound, hold(f.admin, map[string]any{"order_id": "5b0c3c7e-4f43-4c38-9b3e-7f1d6a1e0a11"}).Status)
	res = hold(f.admin, map[string]any{"order_id": theirs.ID, "reason": "fraud check"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, true, res.Map(t)["on_hold"])
	for _, step := range []string{"confirm", "ship", "deliver"} {
		require.Equal(t, http.StatusOK, f.env.Put(t, "/orders/"+theirs.ID+"/"+step, seller2.AccessToken, nil).Status)
	}
	assert.Equal(t, http.StatusConflict, release(b, theirs.ID).Status, "held for review")
	res = release(f.admin, theirs.ID)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "admin", res.Map(t)["released_by"])
	assert.Equal(t, "released", f.escrow(t, seller2, theirs.ID)["status"])
	assert.Equal(t, http.StatusNotFound, f.env.Get(t, "/payments/escrow/"+theirs.ID+"/status", f.seller.AccessToken).Status,
		"another shop's escrow")
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Post(t, "/payments/escrow/release", b.AccessToken, map[string]any{}).Status)
	assert.Equal(t, http.StatusUnauthorized, f.env.Post(t, "/payments/escrow/release", "", map[string]any{"order_id": mine.ID}).Status)
	assert.Equal(t, http.StatusUnauthorized, f.env.Get(t, "/payments/escrow/"+mine.ID+"/status", "").Status)
	assert.Zero(t, balance(t, f.env, "escrow:"+theirs.ID))

	txs := f.env.Get(t, "/payments/transactions", b.AccessToken).Map(t)["items"].([]any)
	assert.Len(t, txs, 3, "capture and two releases")
	assert.Equal(t, "release", txs[0].(map[string]any)["kind"])
}

// TestEscrowIsReleasedWhenTheReturnWindowPasses: delivery schedules the release job.
func TestEscrowIsReleasedWhenTheReturnWindowPasses(t *testing.T) {
	t.Parallel()
	f := setup(t, apptest.WithEnv("ORDER_RETURN_WINDOW", "300ms"), apptest.WithEnv("PLATFORM_COMMISSION_BPS", "1000"))
	b, o, _ := f.paid(t)
	f.deliver(t, o.ID)
	apptest.Eventually(t, func() bool { return f.escrow(t, b, o.ID)["status"] == "released" }, "released by the job")
	e := f.escrow(t, b, o.ID)
	assert.Equal(t, "system", e["released_by"])
	assert.NotNil(t, e["release_after"])
	assert.Equal(t, o.Total-o.Total/10, balance(t, f.env, "shop_payable:"+f.shopID+":VND"))
	assert.Equal(t, o.Total/10, balance(t, f.env, "platform_commission:VND"))
}

// TestAcceptedReturnIsRefundedFromEscrow: the order context's refund_due is refunded through
// the provider, out of the order's escrow, and the order becomes refunded.
func TestAcceptedReturnIsRefundedFromEscrow(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b, o, id := f.paid(t)
	f.deliver(t, o.ID)
	res := f.env.Post(t, "/orders/"+o.ID+"/return", b.AccessToken, map[string]any{"reason": "wrong size"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = f.env.Put(t, "/shops/"+f.shopID+"/orders/"+o.ID+"/status", f.seller.AccessToken, map[string]any{"status": "returned"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	apptest.Eventually(t, func() bool { return f.orderOf(t, b, o.ID)["status"] == "refunded" }, "the return is refunded")
	assert.Equal(t, "refunded", f.orderOf(t, b, o.ID)["payment_status"])
	got := f.payment(t, b, id)
	assert.Equal(t, "refunded", got["status"])
	rs := f.env.Get(t, "/payments/"+id+"/refund-status", b.AccessToken).Map(t)
	require.Len(t, rs["refunds"], 1)
	assert.Equal(t, "order", rs["refunds"].([]any)[0].(map[string]any)["source"])
	assert.Zero(t, balance(t, f.env, "escrow:"+o.ID))
	assert.Equal(t, "refunded", f.escrow(t, b, o.ID)["status"])
	assert.Zero(t, balance(t, f.env, "shop_payable:"+f.shopID+":VND"), "the shop got nothing")
}

// TestCancelledOrderLetsGoOfItsPayment: an order cancelled before its capture fails the
// payment; if the buyer pays anyway, the money is captured and refunded.
func TestCancelledOrderLetsGoOfItsPayment(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b := f.env.Register(t, "Buyer")
	o := f.checkout(t, b, "card", "sandbox")[0]
	pay := f.pay(t, b, o.ID, nil)
	id := pay["id"].(string)
	require.Equal(t, http.StatusOK, f.env.Put(t, "/orders/"+o.ID+"/cancel", b.AccessToken, map[string]any{"reason": "changed my mind"}).Status)
	apptest.Eventually(t, func() bool { return f.payment(t, b, id)["status"] == "failed" }, "the payment is given up")
	assert.Equal(t, http.StatusConflict, f.env.Post(t, "/payments", b.AccessToken, map[string]any{"order_id": o.ID}).Status,
		"a cancelled order is not paid")

	// The buyer pays on the provider's page all the same.
	f.complete(t, pay, "captured")
	apptest.Eventually(t, func() bool { return f.payment(t, b, id)["status"] == "refunded" }, "the money goes back")
	assert.Equal(t, "refunded", f.orderOf(t, b, o.ID)["payment_status"])
	assert.Zero(t, balance(t, f.env, "escrow:"+o.ID))
}

// TestCashOnDelivery: delivery records the cash the shipper collected and owes, held in escrow.
func TestCashOnDelivery(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b := f.env.Register(t, "Buyer")
	o := f.checkout(t, b, "cod", "")[0]
	res := f.env.Post(t, "/payments", b.AccessToken, map[string]any{"order_id": o.ID})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "cash on delivery needs no payment: %s", res.Body)
	f.deliver(t, o.ID)

	var pay map[string]any
	apptest.Eventually(t, func() bool {
		items := f.env.Get(t, "/payments/history", b.AccessToken).Map(t)["items"].([]any)
		if len(items) == 1 {
			pay = items[0].(map[string]any)
		}
		return pay != nil
	}, "the collection is recorded")
	assert.Equal(t, "cod", pay["method"])
	assert.Equal(t, "captured", pay["status"])
	assert.EqualValues(t, o.Total, pay["amount"])
	assert.Equal(t, o.Total, balance(t, f.env, "shipper_cash:unassigned:VND"), "the shipper owes the cash")
	assert.Equal(t, o.Total, balance(t, f.env, "escrow:"+o.ID))
	apptest.Eventually(t, func() bool { return f.escrow(t, b, o.ID)["release_after"] != nil }, "the release is scheduled")
	assert.Equal(t, http.StatusConflict, f.env.Post(t, "/payments/"+pay["id"].(string)+"/refund", f.admin.AccessToken,
		map[string]any{}).Status, "cash is refunded in cash")
	res = f.env.Post(t, "/payments/escrow/release", b.AccessToken, map[string]any{"order_id": o.ID})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, o.Total, balance(t, f.env, "shipper_cash:unassigned:VND"), "still owed until remitted")
}

// TestCashOnDeliveryReturnIsRefundedInCash: an accepted return of a cash-on-delivery order is
// refunded in cash at once, out of the escrow holding the collected cash; the order finishes.
func TestCashOnDeliveryReturnIsRefundedInCash(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b := f.env.Register(t, "Buyer")
	o := f.checkout(t, b, "cod", "")[0]
	f.deliver(t, o.ID)
	apptest.Eventually(t, func() bool { return balance(t, f.env, "escrow:"+o.ID) == o.Total }, "the collected cash is held")
	res := f.env.Post(t, "/orders/"+o.ID+"/return", b.AccessToken, map[string]any{"reason": "torn"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = f.env.Put(t, "/shops/"+f.shopID+"/orders/"+o.ID+"/status", f.seller.AccessToken, map[string]any{"status": "returned"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	apptest.Eventually(t, func() bool { return f.orderOf(t, b, o.ID)["status"] == "refunded" }, "the return is refunded")
	assert.Equal(t, "refunded", f.orderOf(t, b, o.ID)["payment_status"])
	assert.Zero(t, balance(t, f.env, "escrow:"+o.ID), "nothing stays held")
	assert.Zero(t, balance(t, f.env, "shop_payable:"+f.shopID+":VND"))
}

// TestEscrowReleaseNeedsOneConnection releases an escrow with one free connection in the pool:
// the release must not hold its transaction while it asks the order context for the order.
func TestEscrowReleaseNeedsOneConnection(t *testing.T) {
	t.Parallel()
	f := setup(t, apptest.WithEnv("REQUEST_TIMEOUT", "5s"))
	b, o, _ := f.paid(t)
	f.deliver(t, o.ID)
	release := f.env.StarvePool(t)
	res := f.env.Post(t, "/payments/escrow/release", b.AccessToken, map[string]any{"order_id": o.ID})
	release()
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "released", res.Map(t)["status"])
}

// TestPathsNameTheIDTheyTake: escrow is held per order and a receipt is a payment's, so the
// document names those paths' parameters after what a client passes, not after the path.
func TestPathsNameTheIDTheyTake(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name        string `json:"name"`
				In          string `json:"in"`
				Description string `json:"description"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	res := env.Get(t, "/openapi.json", "")
	require.Equal(t, http.StatusOK, res.Status)
	res.JSON(t, &doc)
	for path, want := range map[string]string{
		"/api/v1/payments/escrow/{order_id}/status": "order_id",
		"/api/v1/payments/receipts/{payment_id}":    "payment_id",
	} {
		ps := doc.Paths[path]["get"].Parameters
		require.Len(t, ps, 1, path)
		assert.Equal(t, want, ps[0].Name, path)
		assert.Equal(t, "path", ps[0].In, path)
		assert.Equal(t, "the "+strings.TrimSuffix(want, "_id")+"'s ID", ps[0].Description, path)
	}
	assert.NotContains(t, doc.Paths, "/api/v1/payments/escrow/{id}/status")
}

// TestCashOnDeliveryRefundBeforeCollection: events are not delivered in order, so the refund of
// a returned cash-on-delivery order may come before its delivery is handled. The refund then
// records the collection itself instead of being dropped, and the order still finishes.
func TestCashOnDeliveryRefundBeforeCollection(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b := f.env.Register(t, "Buyer")
	o := f.checkout(t, b, "cod", "")[0]
	// Delivered and returned as the order context records them, with none of its events handled.
	_, err := f.env.App.Pool.Exec(t.Context(), `UPDATE orders.orders SET status = 'returned', delivered_at = now(),
		payment_status = 'refund_pending' WHERE id = $1`, o.ID)
	require.NoError(t, err)

	require.NoError(t, f.env.App.Payments.RefundOrder(t.Context(), uuid.MustParse(o.ID), o.Total, "order returned"))
	apptest.Eventually(t, func() bool { return f.orderOf(t, b, o.ID)["status"] == "refunded" }, "the return is refunded")
	items := f.env.Get(t, "/payments/history", b.AccessToken).Map(t)["items"].([]any)
	require.Len(t, items, 1, "the collection is recorded once")
	assert.Equal(t, "refunded", items[0].(map[string]any)["status"])
	assert.Zero(t, balance(t, f.env, "escrow:"+o.ID), "nothing stays held")
	assert.Equal(t, o.Total, balance(t, f.env, "shipper_cash:unassigned:VND"), "the shipper still owes the cash collected")

	// The refund delivered again records nothing more.
	require.NoError(t, f.env.App.Payments.RefundOrder(t.Context(), uuid.MustParse(o.ID), o.Total, "again"))
	assert.Len(t, f.env.Get(t, "/payments/history", b.AccessToken).Map(t)["items"], 1)
}
