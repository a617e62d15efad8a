package payment_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/sandbox"
)

// TestBuyerDisputeAndAdminDecision: the buyer opens a dispute, the escrow stays held, admins
// list it and reject it by marking the payment captured again.
func TestBuyerDisputeAndAdminDecision(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b, o, id := f.paid(t)
	stranger := f.env.Register(t, "Stranger")
	path := "/payments/" + id + "/dispute"

	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Post(t, path, b.AccessToken, map[string]any{}).Status, "a reason is needed")
	assert.Equal(t, http.StatusBadRequest, f.env.Post(t, path, b.AccessToken, `{"reason":`).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Post(t, path, b.AccessToken,
		map[string]any{"reason": "x", "amount": o.Total + 1}).Status)
	assert.Equal(t, http.StatusNotFound, f.env.Post(t, path, stranger.AccessToken, map[string]any{"reason": "x"}).Status)
	assert.Equal(t, http.StatusUnauthorized, f.env.Post(t, path, "", map[string]any{"reason": "x"}).Status)
	res := f.env.Post(t, path, b.AccessToken, map[string]any{"reason": "the item never arrived"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	d := res.Map(t)
	assert.Equal(t, "open", d["status"])
	assert.Equal(t, "buyer", d["opened_by"])
	assert.EqualValues(t, o.Total, d["amount"])
	assert.Equal(t, http.StatusConflict, f.env.Post(t, path, b.AccessToken, map[string]any{"reason": "again"}).Status)
	assert.Equal(t, "disputed", f.payment(t, b, id)["status"])
	assert.Equal(t, true, f.escrow(t, b, o.ID)["open_dispute"])

	f.deliver(t, o.ID)
	assert.Equal(t, http.StatusConflict, f.env.Post(t, "/payments/escrow/release", b.AccessToken, map[string]any{"order_id": o.ID}).Status,
		"a disputed escrow is not released by the buyer")

	res = f.env.Get(t, "/payments/chargebacks?status=open", f.admin.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	items := res.Map(t)["items"].([]any)
	require.Len(t, items, 1)
	assert.Equal(t, b.ID, items[0].(map[string]any)["buyer_id"])
	assert.Equal(t, http.StatusForbidden, f.env.Get(t, "/payments/chargebacks", b.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, f.env.Get(t, "/payments/chargebacks", "").Status)
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Get(t, "/payments/chargebacks?status=maybe", f.admin.AccessToken).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Get(t, "/payments/chargebacks?limit=0", f.admin.AccessToken).Status)

	// The admin rejects the dispute: a recorded correction.
	status := "/payments/" + id + "/status"
	assert.Equal(t, http.StatusForbidden, f.env.Put(t, status, b.AccessToken, map[string]any{"status": "captured", "reason": "x"}).Status)
	assert.Equal(t, http.StatusUnauthorized, f.env.Put(t, status, "", map[string]any{"status": "captured", "reason": "x"}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Put(t, status, f.admin.AccessToken, map[string]any{"status": "captured"}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Put(t, status, f.admin.AccessToken,
		map[string]any{"status": "lost", "reason": "x"}).Status)
	assert.Equal(t, http.StatusConflict, f.env.Put(t, status, f.admin.AccessToken,
		map[string]any{"status": "refunded", "reason": "refunds go through the refund route"}).Status)
	assert.Equal(t, http.StatusNotFound, f.env.Put(t, "/payments/5b0c3c7e-4f43-4c38-9b3e-7f1d6a1e0a11/status", f.admin.AccessToken,
		map[string]any{"status": "captured", "reason": "x"}).Status)
	res = f.env.Put(t, status, f.admin.AccessToken, map[string]any{"status": "captured", "reason": "tracking shows delivery"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	got := res.Map(t)
	assert.Equal(t, "captured", got["status"])
	last := got["history"].([]any)[len(got["history"].([]any))-1].(map[string]any)
	assert.Equal(t, "admin", last["source"])
	assert.Equal(t, f.admin.ID, last["actor_id"])
	assert.Equal(t, "tracking shows delivery", last["reason"])
	assert.Len(t, f.env.Get(t, "/payments/chargebacks?status=won", f.admin.AccessToken).Map(t)["items"], 1)
	assert.Equal(t, http.StatusOK, f.env.Post(t, "/payments/escrow/release", b.AccessToken, map[string]any{"order_id": o.ID}).Status)
}

// TestProviderChargeback: the provider opens a dispute and the merchant loses it: the money
// leaves through the clearing account, taken from the order's escrow.
func TestProviderChargeback(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b, o, id := f.paid(t)
	ref := f.payment(t, b, id)["provider_ref"].(string)
	send := func(typ gateway.EventType) map[string]any {
		res := sandboxEvent(t, f.env, sandbox.Webhook{Type: typ, PaymentRef: ref, DisputeRef: "dp_1", Amount: o.Total,
			Currency: "VND", Reason: "fraudulent"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		return res.Map(t)
	}
	send(gateway.EventDisputed)
	assert.Equal(t, "ignored: dispute known", send(gateway.EventDisputed)["outcome"], "a second notice of the same dispute")
	assert.Equal(t, "disputed", f.payment(t, b, id)["status"])
	res := f.env.Put(t, "/payments/"+id+"/status", f.admin.AccessToken, map[string]any{"status": "captured", "reason": "x"})
	assert.Equal(t, http.StatusConflict, res.Status, "a provider's chargeback closes with the provider's notification")

	assert.Equal(t, "chargeback", send(gateway.EventDisputeLost)["outcome"])
	assert.Equal(t, "ignored: dispute already lost", send(gateway.EventDisputeWon)["outcome"], "out of order: ignored")
	got := f.payment(t, b, id)
	assert.Equal(t, "refunded", got["status"])
	assert.EqualValues(t, o.Total, got["refunded_amount"])
	assert.Equal(t, "refunded", f.orderOf(t, b, o.ID)["payment_status"])
	assert.Zero(t, balance(t, f.env, "escrow:"+o.ID))
	assert.Zero(t, balance(t, f.env, "clearing:sandbox:VND"))
	cb := f.env.Get(t, "/payments/chargebacks", f.admin.AccessToken).Map(t)["items"].([]any)
	require.Len(t, cb, 1)
	assert.Equal(t, "lost", cb[0].(map[string]any)["status"])
	assert.Equal(t, "provider", cb[0].(map[string]any)["opened_by"])
}

// TestManualCaptureAndCorrections: a payment authorized only is captured on request, once;
// an admin may record what a lost notification would have done.
func TestManualCaptureAndCorrections(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b := f.env.Register(t, "Buyer")
	stranger := f.env.Register(t, "Stranger")
	o := f.checkout(t, b, "card", "sandbox")[0]
	pay := f.pay(t, b, o.ID, map[string]any{"capture": "manual"})
	id := pay["id"].(string)
	path := "/payments/" + id + "/capture"
	assert.Equal(t, http.StatusConflict, f.env.Post(t, path, b.AccessToken, nil).Status, "not authorized yet")
	f.complete(t, pay, "authorized")
	assert.Equal(t, "authorized", f.payment(t, b, id)["status"])
	assert.Equal(t, "unpaid", f.orderOf(t, b, o.ID)["payment_status"])
	assert.Zero(t, count(t, f.env, `SELECT count(*) FROM payment.ledger_entries`), "authorization moves no money")

	assert.Equal(t, http.StatusNotFound, f.env.Post(t, path, stranger.AccessToken, nil).Status)
	assert.Equal(t, http.StatusUnauthorized, f.env.Post(t, path, "", nil).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Post(t, path, b.AccessToken, map[string]any{"amount": 1}).Status,
		"only the whole amount")
	assert.Equal(t, http.StatusBadRequest, f.env.Post(t, path, b.AccessToken, `{"amount":`).Status)
	req := apptest.Req{Method: http.MethodPost, Path: path, Token: b.AccessToken, Header: map[string]string{"Idempotency-Key": "cap-1"}}
	res := f.env.Do(t, req)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "captured", res.Map(t)["status"])
	res = f.env.Do(t, req)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "captured", res.Map(t)["status"])
	assert.Equal(t, 1, count(t, f.env, `SELECT count(*) FROM payment.ledger_transactions WHERE kind = 'capture'`))
	assert.Equal(t, "paid", f.orderOf(t, b, o.ID)["payment_status"])

	// A payment whose notification was lost: an admin marks it captured, with the reason.
	o2 := f.checkout(t, b, "card", "sandbox")[0]
	pay2 := f.pay(t, b, o2.ID, nil)
	status := "/payments/" + pay2["id"].(string) + "/status"
	res = f.env.Put(t, status, f.admin.AccessToken, map[string]any{"status": "captured", "reason": "provider dashboard shows it paid"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "captured", res.Map(t)["status"])
	assert.Equal(t, "paid", f.orderOf(t, b, o2.ID)["payment_status"])
	assert.Equal(t, http.StatusConflict, f.env.Put(t, status, f.admin.AccessToken,
		map[string]any{"status": "failed", "reason": "no going back"}).Status)
}
