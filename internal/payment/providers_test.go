package payment_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRealProvidersThroughTheirProtocols pays orders through Stripe, VNPay and MoMo: each one's
// create call goes to a local server answering as the provider documents, and each one's
// notification is signed with its scheme and verified by the route.
func TestRealProvidersThroughTheirProtocols(t *testing.T) {
	t.Parallel()
	f := setup(t, opts(withStripe(t), withVNPay(), withMoMo(t), withPayPal("https://paypal.invalid"))...)
	b := f.env.Register(t, "Buyer")

	t.Run("stripe", func(t *testing.T) {
		o := f.checkout(t, b, "card", "stripe")[0]
		pay := f.pay(t, b, o.ID, nil)
		id, ref := pay["id"].(string), pay["provider_ref"].(string)
		assert.True(t, strings.HasPrefix(ref, "pi_"), ref)
		assert.Equal(t, ref+"_secret_test", pay["client_secret"], "Stripe.js confirms with the PaymentIntent's client secret")
		body, header := stripeEvent("payment_intent.succeeded", fmt.Sprintf(`{"id":%q,"object":"payment_intent","amount":%d,
			"amount_received":%d,"currency":"vnd","latest_charge":"ch_1","metadata":{"payment_id":%q}}`, ref, o.Total, o.Total, id))
		res := postRaw(t, f.env, "/payments/stripe/webhook", header, body)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, "captured", res.Map(t)["outcome"])
		assert.Equal(t, "paid", f.orderOf(t, b, o.ID)["payment_status"])

		res = f.env.Post(t, "/payments/"+id+"/refund", f.admin.AccessToken, map[string]any{"amount": 20_000})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		assert.Equal(t, "succeeded", res.Map(t)["status"], "refunded through Stripe's API")
		assert.True(t, strings.HasPrefix(res.Map(t)["provider_ref"].(string), "re_"))
		// Stripe then notifies the charge's refunded total: our refund explains it.
		body, header = stripeEvent("charge.refunded", fmt.Sprintf(`{"id":"ch_1","object":"charge","amount":%d,
			"amount_refunded":20000,"currency":"vnd","payment_intent":%q,"metadata":{}}`, o.Total, ref))
		res = postRaw(t, f.env, "/payments/stripe/webhook", header, body)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, "ignored: refunds already recorded", res.Map(t)["outcome"])
		assert.EqualValues(t, 20_000, f.payment(t, b, id)["refunded_amount"])
	})

	t.Run("vnpay", func(t *testing.T) {
		o := f.checkout(t, b, "bank_transfer", "vnpay")[0]
		pay := f.pay(t, b, o.ID, nil)
		id := pay["id"].(string)
		u, err := url.Parse(pay["redirect_url"].(string))
		require.NoError(t, err)
		assert.Equal(t, "sandbox.vnpayment.vn", u.Host)
		assert.Equal(t, fmt.Sprint(o.Total*100), u.Query().Get("vnp_Amount"), "VNPay takes VND times 100")
		assert.Equal(t, id, u.Query().Get("vnp_TxnRef"))
		assert.Len(t, u.Query().Get("vnp_SecureHash"), 128, "HMAC-SHA512")

		// An IPN of another amount, properly signed, is answered 04 and changes nothing.
		res := f.env.Get(t, "/payments/vnpay/webhook?"+vnpayIPN(id, o.Total+1, "00").Encode(), "")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, "04", res.Map(t)["RspCode"])
		assert.Equal(t, "pending", f.payment(t, b, id)["status"])

		ipn := vnpayIPN(id, o.Total, "00").Encode()
		res = f.env.Get(t, "/payments/vnpay/webhook?"+ipn, "")
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, map[string]any{"RspCode": "00", "Message": "Confirm Success"}, res.Map(t))
		assert.Equal(t, "02", f.env.Get(t, "/payments/vnpay/webhook?"+ipn, "").Map(t)["RspCode"], "delivered again")
		got := f.payment(t, b, id)
		assert.Equal(t, "captured", got["status"])
		assert.Equal(t, "paid", f.orderOf(t, b, o.ID)["payment_status"])
	})

	t.Run("momo", func(t *testing.T) {
		o := f.checkout(t, b, "ewallet", "momo")[0]
		pay := f.pay(t, b, o.ID, nil)
		id := pay["id"].(string)
		assert.True(t, strings.HasPrefix(pay["redirect_url"].(string), "https://test-payment.momo.vn/"), pay["redirect_url"])
		res := postRaw(t, f.env, "/payments/momo/webhook", nil, momoIPN(t, id, o.Total, 0))
		require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
		assert.Equal(t, "captured", f.payment(t, b, id)["status"])
	})

	t.Run("paypal takes no VND", func(t *testing.T) {
		o := f.checkout(t, b, "ewallet", "paypal")[0]
		res := f.env.Post(t, "/payments", b.AccessToken, map[string]any{"order_id": o.ID})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		assert.Equal(t, "provider", res.Map(t)["errors"].([]any)[0].(map[string]any)["field"])
		// The buyer may pay the same e-wallet order through another provider.
		res = f.env.Post(t, "/payments", b.AccessToken, map[string]any{"order_id": o.ID, "provider": "momo"})
		assert.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	})
}

// TestCreatePaymentBadInput covers what POST /payments refuses.
func TestCreatePaymentBadInput(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b := f.env.Register(t, "Buyer")
	o := f.checkout(t, b, "card", "sandbox")[0]
	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"neither order nor checkout": {map[string]any{}, "order_id"},
		"both":                       {map[string]any{"order_id": o.ID, "checkout_id": o.CheckoutID}, "order_id"},
		"another method":             {map[string]any{"order_id": o.ID, "method": "bank_transfer"}, "method"},
		"card through momo":          {map[string]any{"order_id": o.ID, "provider": "momo"}, "provider"},
		"unknown provider":           {map[string]any{"order_id": o.ID, "provider": "bitcoin"}, "provider"},
		"stripe not configured":      {map[string]any{"order_id": o.ID, "provider": "stripe"}, "provider"},
		"bad capture":                {map[string]any{"order_id": o.ID, "capture": "later"}, "capture"},
		"wrong type":                 {map[string]any{"order_id": o.ID, "locale": 5}, "locale"},
	} {
		res := f.env.Post(t, "/payments", b.AccessToken, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
		assert.Equal(t, c.field, res.Map(t)["errors"].([]any)[0].(map[string]any)["field"], name)
	}
	assert.Equal(t, http.StatusBadRequest, f.env.Post(t, "/payments", b.AccessToken, `{"order_id":`).Status)
	assert.Equal(t, http.StatusBadRequest, f.env.Post(t, "/payments", b.AccessToken, map[string]any{"order_id": "nope"}).Status)
	assert.Equal(t, http.StatusNotFound, f.env.Post(t, "/payments", b.AccessToken,
		map[string]any{"checkout_id": "5b0c3c7e-4f43-4c38-9b3e-7f1d6a1e0a11"}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Get(t, "/payments/history?status=lost", b.AccessToken).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Get(t, "/payments/history?cursor=zzz", b.AccessToken).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Get(t, "/payments/transactions?limit=500", b.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, f.env.Get(t, "/payments/history", "").Status)
	assert.Equal(t, http.StatusUnauthorized, f.env.Get(t, "/payments/transactions", "").Status)
	assert.Zero(t, count(t, f.env, `SELECT count(*) FROM payment.payments`), "nothing was started")

	// A pending payment has no receipt; pages of history follow the cursor.
	pay := f.pay(t, b, o.ID, nil)
	assert.Equal(t, http.StatusConflict, f.env.Get(t, "/payments/receipts/"+pay["id"].(string), b.AccessToken).Status)
	f.pay(t, b, f.checkout(t, b, "card", "sandbox")[0].ID, nil)
	page := f.env.Get(t, "/payments/history?limit=1", b.AccessToken).Map(t)
	require.Len(t, page["items"], 1)
	next := f.env.Get(t, "/payments/history?limit=1&cursor="+page["next_cursor"].(string), b.AccessToken).Map(t)
	require.Len(t, next["items"], 1)
	assert.NotEqual(t, page["items"].([]any)[0].(map[string]any)["id"], next["items"].([]any)[0].(map[string]any)["id"])
}
