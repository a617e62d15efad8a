package payment_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/gateway/sandbox"
)

// TestSandboxPaymentWalksTheGatewayPath: create, redirect and client secret, signed webhook,
// captured; the order is paid and its money held in escrow.
func TestSandboxPaymentWalksTheGatewayPath(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b := f.env.Register(t, "Buyer")
	stranger := f.env.Register(t, "Stranger")
	o := f.checkout(t, b, "card", "sandbox")[0]

	req := apptest.Req{Method: http.MethodPost, Path: "/payments", Token: b.AccessToken, Body: map[string]any{"order_id": o.ID},
		Header: map[string]string{"Idempotency-Key": "pay-1"}}
	res := f.env.Do(t, req)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	pay := res.Map(t)
	id := pay["id"].(string)
	assert.Equal(t, "pending", pay["status"])
	assert.Equal(t, "card", pay["method"])
	assert.Equal(t, "sandbox", pay["provider"])
	assert.Equal(t, "VND", pay["currency"])
	assert.EqualValues(t, o.Total, pay["amount"])
	assert.Equal(t, []any{o.ID}, pay["order_ids"])
	assert.True(t, strings.HasPrefix(pay["redirect_url"].(string), f.env.App.Cfg.SandboxPayURL+"/sbx_"), pay["redirect_url"])
	assert.NotEmpty(t, pay["client_secret"])

	// The same key replays the payment; the same key for another request is refused; another
	// payment of the same order is refused while this one is in progress.
	res = f.env.Do(t, req)
	require.Equal(t, http.StatusCreated, res.Status)
	assert.Equal(t, id, res.Map(t)["id"])
	req.Body = map[string]any{"order_id": o.ID, "capture": "manual"}
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Do(t, req).Status)
	res = f.env.Post(t, "/payments", b.AccessToken, map[string]any{"order_id": o.ID})
	assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	assert.Equal(t, http.StatusNotFound, f.env.Post(t, "/payments", stranger.AccessToken, map[string]any{"order_id": o.ID}).Status)

	page := f.env.Get(t, "/payments/sandbox/pay/"+pay["provider_ref"].(string), "")
	require.Equal(t, http.StatusOK, page.Status, "%s", page.Body)
	assert.EqualValues(t, o.Total, page.Map(t)["amount"])

	done := f.complete(t, pay, "captured")
	assert.Equal(t, "captured", done["outcome"])
	got := f.payment(t, b, id)
	assert.Equal(t, "captured", got["status"])
	assert.EqualValues(t, o.Total, got["captured_amount"])
	assert.NotContains(t, got, "client_secret", "a captured payment's secret is not shown again")
	hist := got["history"].([]any)
	require.Len(t, hist, 2)
	assert.Equal(t, "webhook", hist[1].(map[string]any)["source"])
	assert.Equal(t, "paid", f.orderOf(t, b, o.ID)["payment_status"], "the capture confirmed the order's payment")

	// The money is held in the order's escrow, out of the provider's clearing account.
	assert.Equal(t, o.Total, balance(t, f.env, "clearing:sandbox:VND"))
	assert.Equal(t, o.Total, balance(t, f.env, "escrow:"+o.ID))
	e := f.escrow(t, b, o.ID)
	assert.Equal(t, "held", e["status"])
	assert.EqualValues(t, o.Total, e["balance"])
	assert.Equal(t, "held", f.escrow(t, f.seller, o.ID)["status"], "the shop sees its order's escrow")
	assert.Equal(t, http.StatusNotFound, f.env.Get(t, "/payments/escrow/"+o.ID+"/status", stranger.AccessToken).Status)

	// Receipts, history and the ledger-backed transactions.
	res = f.env.Get(t, "/payments/receipts/"+id, b.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	rc := res.Map(t)
	assert.EqualValues(t, o.Total, rc["net_amount"])
	assert.Len(t, rc["lines"], 1)
	paidAt, err := time.Parse(time.RFC3339, rc["paid_at"].(string))
	require.NoError(t, err)
	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(rc["receipt_number"].(string), "GS-"+paidAt.In(hcm).Format("20060102")+"-"),
		"the receipt is numbered by the marketplace's day: %s paid at %s", rc["receipt_number"], paidAt)
	hs := f.env.Get(t, "/payments/history", b.AccessToken).Map(t)["items"].([]any)
	require.Len(t, hs, 1)
	assert.Equal(t, id, hs[0].(map[string]any)["id"])
	assert.Len(t, f.env.Get(t, "/payments/history?status=refunded", b.AccessToken).Map(t)["items"], 0)
	txs := f.env.Get(t, "/payments/transactions", b.AccessToken).Map(t)["items"].([]any)
	require.Len(t, txs, 1)
	tx := txs[0].(map[string]any)
	assert.Equal(t, "capture", tx["kind"])
	assert.EqualValues(t, o.Total, tx["amount"])
	assert.Len(t, tx["entries"], 2)
	for _, path := range []string{"/payments/history", "/payments/transactions"} {
		assert.Empty(t, f.env.Get(t, path, stranger.AccessToken).Map(t)["items"], path)
	}

	// A later notification of the same outcome changes nothing.
	again := f.complete(t, pay, "captured")
	assert.Equal(t, "ignored: already captured", again["outcome"])
	assert.Equal(t, 1, count(t, f.env, `SELECT count(*) FROM payment.ledger_transactions WHERE kind = 'capture'`))

	// Another user's payment does not exist for them; the unauthenticated are refused.
	for _, path := range []string{"/payments/" + id, "/payments/" + id + "/refund-status", "/payments/receipts/" + id} {
		assert.Equal(t, http.StatusNotFound, f.env.Get(t, path, stranger.AccessToken).Status, path)
		assert.Equal(t, http.StatusUnauthorized, f.env.Get(t, path, "").Status, path)
		assert.Equal(t, http.StatusOK, f.env.Get(t, path, f.admin.AccessToken).Status, "an admin sees it: %s", path)
	}
	assert.NotContains(t, f.payment(t, f.admin, id), "client_secret")
	for _, path := range []string{"/payments/not-a-uuid", "/payments/not-a-uuid/refund-status", "/payments/receipts/not-a-uuid",
		"/payments/escrow/not-a-uuid/status"} {
		assert.Equal(t, http.StatusNotFound, f.env.Get(t, path, b.AccessToken).Status, path)
	}
	assert.Equal(t, http.StatusNotFound, f.env.Delete(t, "/payments/methods/not-a-uuid", b.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, f.env.Post(t, "/payments", "", map[string]any{"order_id": o.ID}).Status)
	assert.Equal(t, http.StatusNotFound, f.env.Post(t, "/payments/sandbox/complete", "",
		map[string]any{"client_secret": "sbx_x_secret_forged", "outcome": "captured"}).Status, "a forged client secret completes nothing")
}

// TestSameWebhookFiveTimesConcurrently delivers one signed notification five times at once:
// it is applied once.
func TestSameWebhookFiveTimesConcurrently(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b := f.env.Register(t, "Buyer")
	o := f.checkout(t, b, "card", "sandbox")[0]
	pay := f.pay(t, b, o.ID, nil)
	body, header, err := sandboxGW(f.env).SignedWebhook(sandbox.Webhook{ID: "evt_once", Type: gateway.EventCaptured,
		PaymentRef: pay["provider_ref"].(string), PaymentID: pay["id"].(string), Amount: o.Total, Currency: "VND"})
	require.NoError(t, err)

	var applied, duplicates atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res := postRaw(t, f.env, "/payments/sandbox/webhook", header, body)
			if !assert.Equal(t, http.StatusOK, res.Status, "%s", res.Body) {
				return
			}
			if res.Map(t)["duplicate"] == true {
				duplicates.Add(1)
			} else {
				applied.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	assert.EqualValues(t, 1, applied.Load())
	assert.EqualValues(t, 4, duplicates.Load())
	assert.Equal(t, 1, count(t, f.env, `SELECT count(*) FROM payment.webhook_events`))
	assert.Equal(t, 1, count(t, f.env, `SELECT count(*) FROM payment.ledger_transactions WHERE kind = 'capture'`))
	assert.Equal(t, 1, count(t, f.env, `SELECT count(*) FROM payment.status_history WHERE to_status = 'captured'`))
	assert.Equal(t, o.Total, balance(t, f.env, "escrow:"+o.ID))
	assert.Equal(t, "captured", f.payment(t, b, pay["id"].(string))["status"])
}

// TestEventsOutOfOrderNeverMoveAPaymentBack: a late authorization or failure after the capture
// is recorded and ignored; money arriving after a failure is still captured.
func TestEventsOutOfOrderNeverMoveAPaymentBack(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b := f.env.Register(t, "Buyer")
	o := f.checkout(t, b, "card", "sandbox")[0]
	pay := f.pay(t, b, o.ID, nil)
	ref, id := pay["provider_ref"].(string), pay["id"].(string)
	send := func(typ gateway.EventType) map[string]any {
		res := sandboxEvent(t, f.env, sandbox.Webhook{Type: typ, PaymentRef: ref, Amount: o.Total, Currency: "VND"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		return res.Map(t)
	}
	assert.Equal(t, "captured", send(gateway.EventCaptured)["outcome"])
	assert.Equal(t, "ignored: already captured", send(gateway.EventAuthorized)["outcome"])
	assert.Equal(t, "ignored: already captured", send(gateway.EventFailed)["outcome"])
	assert.Equal(t, "captured", f.payment(t, b, id)["status"])

	// A second order: failed, then a late authorization is ignored, then money arrives.
	o2 := f.checkout(t, b, "card", "sandbox")[0]
	pay2 := f.pay(t, b, o2.ID, nil)
	ref = pay2["provider_ref"].(string)
	o.Total = o2.Total
	assert.Equal(t, "failed", send(gateway.EventFailed)["outcome"])
	assert.Equal(t, "failed", f.payment(t, b, pay2["id"].(string))["status"])
	assert.Equal(t, "ignored: already failed", send(gateway.EventAuthorized)["outcome"])
	assert.Equal(t, "captured", send(gateway.EventCaptured)["outcome"], "money after a failure is recorded")
	assert.Equal(t, "captured", f.payment(t, b, pay2["id"].(string))["status"])
	assert.Equal(t, "paid", f.orderOf(t, b, o2.ID)["payment_status"])

	// A capture of another amount than the payment's changes nothing.
	o3 := f.checkout(t, b, "card", "sandbox")[0]
	pay3 := f.pay(t, b, o3.ID, nil)
	res := sandboxEvent(t, f.env, sandbox.Webhook{Type: gateway.EventCaptured, PaymentRef: pay3["provider_ref"].(string),
		Amount: o3.Total - 1, Currency: "VND"})
	assert.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	assert.Equal(t, "pending", f.payment(t, b, pay3["id"].(string))["status"])
}

// TestRefundsAreBoundedAndIdempotent: the same Idempotency-Key twice, even at once, is one
// refund; refunds never exceed what was captured; they go through the provider and out of
// escrow.
func TestRefundsAreBoundedAndIdempotent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	b, o, id := f.paid(t)
	stranger := f.env.Register(t, "Stranger")
	path := "/payments/" + id + "/refund"
	req := apptest.Req{Method: http.MethodPost, Path: path, Token: f.admin.AccessToken,
		Body: map[string]any{"amount": 50_000, "reason": "damaged box"}, Header: map[string]string{"Idempotency-Key": "refund-1"}}

	answers := make([]*apptest.Response, 2)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() { defer wg.Done(); answers[i] = f.env.Do(t, req) }()
	}
	wg.Wait()
	ids := map[string]bool{}
	for _, a := range answers {
		if a.Status == http.StatusConflict { // the other request was still being processed
			continue
		}
		require.Equal(t, http.StatusCreated, a.Status, "%s", a.Body)
		ids[a.Map(t)["id"].(string)] = true
	}
	res := f.env.Do(t, req)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	first := res.Map(t)
	ids[first["id"].(string)] = true
	assert.Len(t, ids, 1, "one refund")
	assert.Equal(t, "succeeded", first["status"], "the sandbox refunds at once")
	assert.Equal(t, 1, count(t, f.env, `SELECT count(*) FROM payment.refunds`))

	rs := f.env.Get(t, "/payments/"+id+"/refund-status", b.AccessToken).Map(t)
	assert.Equal(t, "partially_refunded", rs["status"])
	assert.EqualValues(t, 50_000, rs["refunded_amount"])
	assert.EqualValues(t, o.Total-50_000, rs["refundable"])
	assert.Equal(t, "partially_refunded", f.orderOf(t, b, o.ID)["payment_status"])

	// More than is left is refused; the rest (no amount) is refunded whole.
	res = f.env.Post(t, path, f.admin.AccessToken, map[string]any{"amount": o.Total})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	res = f.env.Post(t, path, f.admin.AccessToken, map[string]any{"reason": "the rest"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	assert.EqualValues(t, o.Total-50_000, res.Map(t)["amount"])
	assert.Equal(t, http.StatusConflict, f.env.Post(t, path, f.admin.AccessToken, map[string]any{"amount": 1}).Status, "nothing is left")
	got := f.payment(t, b, id)
	assert.Equal(t, "refunded", got["status"])
	assert.EqualValues(t, o.Total, got["refunded_amount"])
	assert.Equal(t, "refunded", f.orderOf(t, b, o.ID)["payment_status"])
	assert.Zero(t, balance(t, f.env, "escrow:"+o.ID))
	assert.Zero(t, balance(t, f.env, "buyer_refunds:VND"), "every refund settled")
	assert.Zero(t, balance(t, f.env, "clearing:sandbox:VND"), "the money went back through the provider")
	assert.Equal(t, "refunded", f.escrow(t, b, o.ID)["status"])
	rc := f.env.Get(t, "/payments/receipts/"+id, b.AccessToken).Map(t)
	assert.Zero(t, num(rc["net_amount"]))
	assert.Len(t, rc["refunds"], 2)

	// Who may refund, and bad input.
	assert.Equal(t, http.StatusForbidden, f.env.Post(t, path, b.AccessToken, map[string]any{}).Status, "buyers ask the shop")
	assert.Equal(t, http.StatusForbidden, f.env.Post(t, path, stranger.AccessToken, map[string]any{}).Status)
	assert.Equal(t, http.StatusUnauthorized, f.env.Post(t, path, "", map[string]any{}).Status)
	assert.Equal(t, http.StatusNotFound, f.env.Post(t, "/payments/00000000-0000-0000-0000-000000000000/refund", f.admin.AccessToken,
		map[string]any{}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Post(t, path, f.admin.AccessToken, map[string]any{"amount": -5}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Post(t, path, f.admin.AccessToken, map[string]any{"amount": "all"}).Status)
	assert.Equal(t, http.StatusBadRequest, f.env.Post(t, path, f.admin.AccessToken, `{"amount":`).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Post(t, path, f.admin.AccessToken,
		map[string]any{"order_id": "00000000-0000-0000-0000-000000000000"}).Status)
	req.Body = map[string]any{"amount": 1}
	assert.Equal(t, http.StatusUnprocessableEntity, f.env.Do(t, req).Status, "the key was used with another body")

	// A pending payment cannot be refunded.
	b2 := f.env.Register(t, "Buyer 2")
	pending := f.pay(t, b2, f.checkout(t, b2, "card", "sandbox")[0].ID, nil)
	assert.Equal(t, http.StatusConflict, f.env.Post(t, "/payments/"+pending["id"].(string)+"/refund", f.admin.AccessToken,
		map[string]any{}).Status)
}
