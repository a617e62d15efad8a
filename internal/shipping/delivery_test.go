package shipping_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/shipping"
	"github.com/goshop/goshop/internal/shipping/geo"
)

// store is a seller with a shop at shopPoint and a product of 500 g.
type store struct {
	env    *apptest.Env
	seller apptest.User
	shopID string
	p      apptest.Product
}

func openStore(t *testing.T, env *apptest.Env) store {
	t.Helper()
	seller := env.Register(t, "Seller")
	shopID := env.CreateShop(t, seller, "Gốm Bát Tràng")
	return store{env: env, seller: seller, shopID: shopID, p: env.CreateProduct(t, seller, shopID, "Bình gốm", 250_000, 100)}
}

// buyer is a customer with an address in Quận 1.
type buyer struct {
	apptest.User
	addr string
}

func (s store) newBuyer(t *testing.T, name string) buyer {
	t.Helper()
	u := s.env.Register(t, name)
	return buyer{User: u, addr: s.env.CreateAddress(t, u)}
}

// order checks out qty of the store's product, cash on delivery, and returns the order's ID.
func (s store) order(t *testing.T, b buyer, qty int) string {
	t.Helper()
	res := s.env.Post(t, "/cart/items", b.AccessToken, map[string]any{"product_id": s.p.ID, "quantity": qty})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res = s.env.Post(t, "/orders", b.AccessToken, map[string]any{"address_id": b.addr, "payment_method": "cod"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	return res.Map(t)["orders"].([]any)[0].(map[string]any)["id"].(string)
}

// confirm has the shop confirm an order, which makes a cash-on-delivery order ready to ship.
func (s store) confirm(t *testing.T, orderID string) {
	t.Helper()
	res := s.env.Put(t, "/orders/"+orderID+"/confirm", s.seller.AccessToken, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
}

// readyOrder is an order confirmed by the shop.
func (s store) readyOrder(t *testing.T, b buyer) string {
	t.Helper()
	id := s.order(t, b, 1)
	s.confirm(t, id)
	return id
}

// assignedTo waits for the order's shipment to have a shipper and returns it.
func assignedTo(t *testing.T, env *apptest.Env, orderID, token string) map[string]any {
	t.Helper()
	var m map[string]any
	apptest.Eventually(t, func() bool {
		res := env.Get(t, "/shipping/"+orderID+"/tracking", token)
		if res.Status != http.StatusOK {
			return false
		}
		m = res.Map(t)
		return m["shipper_id"] != nil
	}, "the order gets a shipper")
	return m
}

func shipmentOf(t *testing.T, env *apptest.Env, orderID, token string) map[string]any {
	t.Helper()
	res := env.Get(t, "/shipping/"+orderID+"/tracking", token)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	return res.Map(t)
}

func shipperStatus(t *testing.T, env *apptest.Env, s shipper) string {
	t.Helper()
	return env.Get(t, "/shipping/shippers/"+s.ID, s.AccessToken).Map(t)["status"].(string)
}

func TestReadyOrderIsDeliveredByTheNearestShipper(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	st := openStore(t, env)
	near := newShipper(t, env, "Near", nearby, true)
	mid := newShipper(t, env, "Mid", across, true)
	newShipper(t, env, "Offline", shopPoint, false)
	b := st.newBuyer(t, "Buyer")
	other := st.newBuyer(t, "Other buyer")
	admin := env.Admin(t, env.Register(t, "Admin"))

	id := st.order(t, b, 2)
	res := env.Get(t, "/shipping/"+id+"/tracking", b.AccessToken)
	assert.Equal(t, http.StatusNotFound, res.Status, "no shipment before the shop confirms")
	assert.Contains(t, res.Map(t)["detail"], "no shipment yet")
	st.confirm(t, id)

	m := assignedTo(t, env, id, b.AccessToken)
	assert.Equal(t, near.ID, m["shipper_id"], "the nearest available shipper, not the offline one nearer still")
	assert.Equal(t, "awaiting_pickup", m["status"])
	assert.EqualValues(t, 1000, m["weight_grams"])
	assert.Less(t, m["distance_km"], 3.0)
	assert.EqualValues(t, quote(t, geo.MethodStandard, 1000, m["distance_km"].(float64), true).Total, m["fee"])
	assert.Regexp(t, `^GS[0-9A-Z]{13}$`, m["tracking_number"])
	assert.Equal(t, env.Get(t, "/orders/"+id, b.AccessToken).Map(t)["total"], m["cod_amount"], "the shipper collects the order's total")
	assert.Nil(t, m["last_location"])
	kinds := []string{}
	for _, e := range m["events"].([]any) {
		kinds = append(kinds, e.(map[string]any)["kind"].(string))
	}
	assert.Equal(t, []string{"created", "assigned"}, kinds)
	assert.Equal(t, "busy", shipperStatus(t, env, near))
	assert.Equal(t, "available", shipperStatus(t, env, mid))
	assert.Contains(t, env.Get(t, "/shipping/shippers/"+near.ID, near.AccessToken).Map(t)["active_deliveries"], id)

	// Whom the delivery is hidden from, and who may not move it.
	for name, tok := range map[string]string{"another shipper": mid.AccessToken, "another buyer": other.AccessToken} {
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/"+id+"/tracking", tok).Status, name)
		assert.Equal(t, http.StatusNotFound, env.Put(t, "/shipping/"+id+"/status", tok, map[string]any{"status": "picked_up"}).Status, name)
		assert.Equal(t, http.StatusNotFound, env.Post(t, "/shipping/"+id+"/location", tok, point(nearby)).Status, name)
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/shipper/"+near.ID+"/location", tok).Status, name)
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/shippers/"+near.ID, tok).Status, name)
	}
	assert.Equal(t, http.StatusForbidden, env.Put(t, "/shipping/"+id+"/status", b.AccessToken, map[string]any{"status": "delivered"}).Status)
	assert.Equal(t, http.StatusForbidden, env.Post(t, "/shipping/"+id+"/location", st.seller.AccessToken, point(nearby)).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/shipping/"+id+"/tracking", "").Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/shipping/"+id+"/location", "", point(nearby)).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Put(t, "/shipping/"+id+"/status", "", map[string]any{"status": "picked_up"}).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/not-an-order/tracking", b.AccessToken).Status)

	// The shipper reports where they are, on either route; the buyer and the shop follow.
	res = env.Post(t, "/shipping/"+id+"/location", near.AccessToken, point(nearby))
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.InDelta(t, nearby[0], res.Map(t)["lat"], 1e-9)
	res = env.Post(t, "/shipping/"+id+"/update-location", near.AccessToken, point(shopPoint))
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	last := shipmentOf(t, env, id, st.seller.AccessToken)["last_location"].(map[string]any)
	assert.InDelta(t, shopPoint[1], last["lng"], 1e-9)
	for name, tok := range map[string]string{"buyer": b.AccessToken, "shop": st.seller.AccessToken, "admin": admin.AccessToken} {
		res := env.Get(t, "/shipping/shipper/"+near.ID+"/location", tok)
		require.Equal(t, http.StatusOK, res.Status, name)
		assert.InDelta(t, shopPoint[0], res.Map(t)["location"].(map[string]any)["lat"], 1e-9, name)
		assert.Equal(t, http.StatusOK, env.Get(t, "/shipping/shippers/"+near.ID, tok).Status, name)
	}
	assert.Nil(t, env.Get(t, "/shipping/shippers/"+near.ID, b.AccessToken).Map(t)["active_deliveries"],
		"a customer does not see the shipper's other deliveries")
	for _, bad := range []any{`{"lat":`, map[string]any{"lat": 10.7}, map[string]any{"lat": 100.0, "lng": 106.0}, map[string]any{"lat": "x", "lng": 1}} {
		res := env.Post(t, "/shipping/"+id+"/location", near.AccessToken, bad)
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, res.Status, "%v", bad)
	}

	// Bad moves.
	put := func(body any) *apptest.Response { return env.Put(t, "/shipping/"+id+"/status", near.AccessToken, body) }
	assert.Equal(t, http.StatusBadRequest, put(`{"status":`).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, put(map[string]any{"status": "teleported"}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, put(map[string]any{"status": "failed"}).Status, "a failure says why")
	assert.Equal(t, http.StatusConflict, put(map[string]any{"status": "delivered"}).Status, "not picked up yet")
	assert.Equal(t, http.StatusConflict, env.Put(t, "/shipping/shippers/"+near.ID+"/status", near.AccessToken,
		map[string]any{"status": "offline"}).Status, "busy while carrying")

	// Picking up ships the order; delivering delivers it; both on the order's timeline.
	res = put(map[string]any{"status": "picked_up", "lat": shopPoint[0], "lng": shopPoint[1]})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "picked_up", res.Map(t)["status"])
	assert.Equal(t, "shipped", env.Get(t, "/orders/"+id, b.AccessToken).Map(t)["status"])
	require.Equal(t, http.StatusOK, put(map[string]any{"status": "in_transit"}).Status)
	res = put(map[string]any{"status": "delivered", "note": "handed to the buyer"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	m = res.Map(t)
	assert.Equal(t, "delivered", m["status"])
	steps := []string{}
	for _, e := range m["events"].([]any) {
		steps = append(steps, e.(map[string]any)["status"].(string))
	}
	assert.Equal(t, []string{"awaiting_pickup", "awaiting_pickup", "picked_up", "in_transit", "delivered"}, steps)
	assert.Equal(t, "delivered", env.Get(t, "/orders/"+id, b.AccessToken).Map(t)["status"])
	moves := env.Get(t, "/orders/"+id+"/status-history", b.AccessToken).Map(t)["items"].([]any)
	var roles []string
	for _, mv := range moves {
		mv := mv.(map[string]any)
		roles = append(roles, mv["to"].(string)+":"+mv["actor_role"].(string))
	}
	assert.Equal(t, []string{"pending:buyer", "confirmed:shop", "shipped:shipper", "delivered:shipper"}, roles)

	// Done: the shipper is free again, the delivery no longer tracked, and its customers no
	// longer see where the shipper is.
	assert.Equal(t, "available", shipperStatus(t, env, near))
	assert.Equal(t, http.StatusConflict, env.Post(t, "/shipping/"+id+"/location", near.AccessToken, point(nearby)).Status)
	assert.Equal(t, http.StatusConflict, put(map[string]any{"status": "in_transit"}).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/shipper/"+near.ID+"/location", b.AccessToken).Status)
	assert.Equal(t, http.StatusOK, env.Get(t, "/shipping/"+id+"/tracking", b.AccessToken).Status, "the record stays")
}

func TestAssignmentWaitsForAFreeShipperAndCancellationFreesOne(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.WithEnv("SHIPPING_ASSIGN_RETRY", "100ms"))
	st := openStore(t, env)
	b := st.newBuyer(t, "Buyer")
	id := st.readyOrder(t, b)

	apptest.Eventually(t, func() bool { return env.Get(t, "/shipping/"+id+"/tracking", b.AccessToken).Status == http.StatusOK },
		"the shipment opens when the order is confirmed")
	assert.Nil(t, shipmentOf(t, env, id, b.AccessToken)["shipper_id"], "nobody is free yet")
	newShipper(t, env, "Far", farAway, true) // free, but beyond the radius
	late := newShipper(t, env, "Late", across, true)
	assert.Equal(t, late.ID, assignedTo(t, env, id, b.AccessToken)["shipper_id"], "taken on a later try")

	// The shop cancels the confirmed order: the delivery fails and its shipper is free again.
	res := env.Put(t, "/orders/"+id+"/cancel", st.seller.AccessToken, map[string]any{"reason": "out of glaze"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	apptest.Eventually(t, func() bool { return shipmentOf(t, env, id, b.AccessToken)["status"] == "failed" }, "the delivery ends")
	assert.Equal(t, "available", shipperStatus(t, env, late))
}

// TestConcurrentAssignmentsNeverShareAShipper confirms more orders at once than there are
// shippers: each shipper gets one order, never two, whether the River jobs or shops by hand
// race for them.
func TestConcurrentAssignmentsNeverShareAShipper(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.WithEnv("WORKER_COUNT", "8"))
	st := openStore(t, env)
	b := st.newBuyer(t, "Buyer")
	var shippers []shipper
	for i := range 3 {
		shippers = append(shippers, newShipper(t, env, fmt.Sprint("S", i), [2]float64{nearby[0] + float64(i)*0.001, nearby[1]}, true))
	}
	ids := make([]string, 6)
	for i := range ids {
		ids[i] = st.order(t, b, 1)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			res := env.Put(t, "/orders/"+id+"/confirm", st.seller.AccessToken, nil)
			assert.Equal(t, http.StatusOK, res.Status)
		})
	}
	wg.Wait()

	taken := map[string]string{}
	apptest.Eventually(t, func() bool {
		clear(taken)
		for _, id := range ids {
			res := env.Get(t, "/shipping/"+id+"/tracking", b.AccessToken)
			if res.Status != http.StatusOK {
				return false
			}
			if s, ok := res.Map(t)["shipper_id"].(string); ok {
				assert.NotContains(t, taken, s, "shipper %s carries two orders", s)
				taken[s] = id
			}
		}
		return len(taken) == len(shippers)
	}, "every shipper gets exactly one order")
	for _, s := range shippers {
		assert.Equal(t, "busy", shipperStatus(t, env, s))
	}

	// Shops racing to hand one freed shipper to their waiting orders: one wins.
	var waiting []string
	for _, id := range ids {
		if shipmentOf(t, env, id, b.AccessToken)["shipper_id"] == nil {
			waiting = append(waiting, id)
		}
	}
	free := newShipper(t, env, "Free", farAway, true) // outside the radius: only a hand assignment takes them
	wins := make(chan string, len(waiting))
	for _, id := range waiting {
		wg.Go(func() {
			res := env.Post(t, "/shipping/assign/"+id, st.seller.AccessToken, map[string]any{"shipper_id": free.ID})
			if res.Status == http.StatusOK {
				wins <- id
			} else {
				assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
			}
		})
	}
	wg.Wait()
	close(wins)
	assert.Len(t, wins, 1)
}

func TestAssignByHand(t *testing.T) {
	t.Parallel()
	// A radius of a metre keeps the automatic assignment out of the way.
	env := apptest.New(t, apptest.WithEnv("SHIPPING_ASSIGN_RADIUS_KM", "0.001"))
	st := openStore(t, env)
	rival := openStore(t, env)
	b := st.newBuyer(t, "Buyer")
	first := newShipper(t, env, "First", nearby, true)
	second := newShipper(t, env, "Second", across, true)
	admin := env.Admin(t, env.Register(t, "Admin"))
	pending := st.order(t, b, 1)
	id := st.readyOrder(t, b)
	path := "/shipping/assign/" + id

	assert.Equal(t, http.StatusForbidden, env.Post(t, path, b.AccessToken, nil).Status, "the buyer does not pick the shipper")
	assert.Equal(t, http.StatusNotFound, env.Post(t, path, rival.seller.AccessToken, nil).Status, "another shop")
	assert.Equal(t, http.StatusNotFound, env.Post(t, path, first.AccessToken, nil).Status, "a shipper")
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, path, "", nil).Status)
	assert.Equal(t, http.StatusBadRequest, env.Post(t, path, st.seller.AccessToken, `{"shipper_id":`).Status)
	assert.Equal(t, http.StatusBadRequest, env.Post(t, path, st.seller.AccessToken, map[string]any{"shipper_id": "x"}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Post(t, path, st.seller.AccessToken, map[string]any{"shipper_id": 7}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Post(t, path, st.seller.AccessToken, map[string]any{"shipper_id": b.ID}).Status,
		"not a shipper")
	assert.Equal(t, http.StatusConflict, env.Post(t, "/shipping/assign/"+pending, st.seller.AccessToken, nil).Status, "not confirmed yet")
	assert.Equal(t, http.StatusNotFound, env.Post(t, "/shipping/assign/"+b.ID, admin.AccessToken, nil).Status, "no such order")
	assert.Equal(t, http.StatusConflict, env.Post(t, path, st.seller.AccessToken, nil).Status, "nobody within a metre")

	res := env.Post(t, path, st.seller.AccessToken, map[string]any{"shipper_id": first.ID})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, first.ID, res.Map(t)["shipper_id"])
	assert.Equal(t, http.StatusConflict, env.Post(t, path, st.seller.AccessToken, map[string]any{"shipper_id": first.ID}).Status)
	// The admin hands it to another shipper: the first is free again.
	res = env.Post(t, path, admin.AccessToken, map[string]any{"shipper_id": second.ID})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	m := res.Map(t)
	assert.Equal(t, second.ID, m["shipper_id"])
	evs := m["events"].([]any)
	last := evs[len(evs)-1].(map[string]any)
	assert.Equal(t, "assigned", last["kind"])
	assert.Equal(t, "admin", last["actor_role"])
	assert.Equal(t, "unassigned", evs[len(evs)-2].(map[string]any)["kind"])
	assert.Equal(t, "available", shipperStatus(t, env, first))
	assert.Equal(t, http.StatusNotFound, env.Post(t, "/shipping/"+id+"/location", first.AccessToken, point(nearby)).Status,
		"the first shipper no longer carries it")
	assert.Equal(t, http.StatusConflict, env.Post(t, path, st.seller.AccessToken, map[string]any{"shipper_id": second.ID}).Status)

	// Once picked up, it stays with its shipper.
	require.Equal(t, http.StatusOK, env.Put(t, "/shipping/"+id+"/status", second.AccessToken, map[string]any{"status": "picked_up"}).Status)
	assert.Equal(t, http.StatusConflict, env.Post(t, path, admin.AccessToken, map[string]any{"shipper_id": first.ID}).Status)
}

func TestShippingLabel(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	st := openStore(t, env)
	b := st.newBuyer(t, "Buyer")
	sh := newShipper(t, env, "Shipper", nearby, true)
	other := newShipper(t, env, "Other", farAway, false)
	stranger := env.Register(t, "Stranger")
	id := st.readyOrder(t, b)
	tracking := assignedTo(t, env, id, b.AccessToken)["tracking_number"].(string)

	for name, tok := range map[string]string{"shop": st.seller.AccessToken, "shipper": sh.AccessToken} {
		res := env.Post(t, "/shipping/labels", tok, map[string]any{"order_id": id})
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", name, res.Body)
		assert.Equal(t, "application/pdf", res.Header.Get("Content-Type"))
		assert.Contains(t, res.Header.Get("Content-Disposition"), tracking)
		require.True(t, strings.HasPrefix(string(res.Body), "%PDF-"))
		assert.Contains(t, string(res.Body), tracking)
		assert.Equal(t, tracking, shipping.DecodeLabelBarcode(t, res.Body), "the barcode scans as the tracking number")
	}
	assert.Equal(t, http.StatusForbidden, env.Post(t, "/shipping/labels", b.AccessToken, map[string]any{"order_id": id}).Status)
	assert.Equal(t, http.StatusNotFound, env.Post(t, "/shipping/labels", other.AccessToken, map[string]any{"order_id": id}).Status)
	assert.Equal(t, http.StatusNotFound, env.Post(t, "/shipping/labels", stranger.AccessToken, map[string]any{"order_id": id}).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/shipping/labels", "", map[string]any{"order_id": id}).Status)
	assert.Equal(t, http.StatusBadRequest, env.Post(t, "/shipping/labels", st.seller.AccessToken, `{"order_id"`).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Post(t, "/shipping/labels", st.seller.AccessToken, map[string]any{}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Post(t, "/shipping/labels", st.seller.AccessToken, map[string]any{"order_id": 5}).Status)
	assert.Equal(t, http.StatusConflict, env.Post(t, "/shipping/labels", st.seller.AccessToken,
		map[string]any{"order_id": st.order(t, b, 1)}).Status, "an order not confirmed has no label")
}

// TestOrderTrackingShowsCarrierAndNumber: GET /orders/{id}/tracking names who carries the
// parcel: GoShop's own delivery, with the number its label prints, or the carrier and number
// the shop gave when it handed the order to a carrier of its own.
func TestOrderTrackingShowsCarrierAndNumber(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	st := openStore(t, env)
	b := st.newBuyer(t, "Buyer")

	t.Run("GoShop's delivery", func(t *testing.T) {
		id := st.readyOrder(t, b)
		var tr map[string]any
		apptest.Eventually(t, func() bool {
			res := env.Get(t, "/orders/"+id+"/tracking", b.AccessToken)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			tr = res.Map(t)
			return tr["tracking_number"] != nil
		}, "opening the shipment gives the order its tracking number")
		assert.Equal(t, "goshop", tr["carrier"])
		number := tr["tracking_number"].(string)
		assert.Equal(t, number, shipmentOf(t, env, id, b.AccessToken)["tracking_number"])
		res := env.Post(t, "/shipping/labels", st.seller.AccessToken, map[string]any{"order_id": id})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, number, shipping.DecodeLabelBarcode(t, res.Body), "the label prints the same number")
		o := env.Get(t, "/orders/"+id, b.AccessToken).Map(t)
		assert.Equal(t, "goshop", o["carrier"])
		assert.Equal(t, number, o["tracking_number"])
	})

	t.Run("the shop's own carrier", func(t *testing.T) {
		id := st.order(t, b, 1)
		res := env.Post(t, "/shops/"+st.shopID+"/orders/"+id+"/fulfill", st.seller.AccessToken,
			map[string]any{"tracking_number": "GHN-8812345", "carrier": "GHN"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		res = env.Get(t, "/orders/"+id+"/tracking", b.AccessToken)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		tr := res.Map(t)
		assert.Equal(t, "shipped", tr["status"])
		assert.Equal(t, "GHN", tr["carrier"])
		assert.Equal(t, "GHN-8812345", tr["tracking_number"])
		assert.Equal(t, http.StatusConflict, env.Post(t, "/shipping/labels", st.seller.AccessToken, map[string]any{"order_id": id}).Status,
			"GoShop opens no delivery of its own for it")
	})
}

// --- live tracking ---------------------------------------------------------------------------

// waitFor bounds waits for messages that must come; tests never assert on timing.
const waitFor = 15 * time.Second

func wsURL(env *apptest.Env, orderID string) string {
	return "ws" + strings.TrimPrefix(env.Server.URL, "http") + "/api/v1/shipping/" + orderID + "/live-tracking"
}

// follow opens the live-tracking stream as the holder of token (in the query string, as a
// browser must, or in the Authorization header) and reads it up to the subscription.
func follow(t *testing.T, env *apptest.Env, orderID, token string, inHeader bool) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	u, opts := wsURL(env, orderID)+"?token="+token, &websocket.DialOptions{}
	if inHeader {
		u, opts.HTTPHeader = wsURL(env, orderID), http.Header{"Authorization": {"Bearer " + token}}
	}
	conn, res, err := websocket.Dial(ctx, u, opts)
	require.NoError(t, err)
	if res.Body != nil {
		res.Body.Close()
	}
	t.Cleanup(func() { conn.CloseNow() })
	msg := read(t, conn)
	require.Equal(t, "subscribed", msg.Type)
	return conn
}

// followShipment follows a delivery whose shipment exists: the stream's second message is
// the shipment as it is now, what a follower (re)connecting missed.
func followShipment(t *testing.T, env *apptest.Env, orderID, token string, inHeader bool) *websocket.Conn {
	t.Helper()
	conn := follow(t, env, orderID, token, inHeader)
	msg := read(t, conn)
	require.Equal(t, shipping.MsgShipment, msg.Type)
	var sh map[string]any
	require.NoError(t, json.Unmarshal(msg.Data, &sh))
	assert.Equal(t, orderID, sh["order_id"])
	return conn
}

// refused dials and returns the HTTP answer that refused the upgrade.
func refused(t *testing.T, env *apptest.Env, orderID, token string) (int, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	u := wsURL(env, orderID)
	if token != "" {
		u += "?token=" + token
	}
	conn, res, err := websocket.Dial(ctx, u, nil)
	if err == nil {
		conn.CloseNow()
		t.Fatalf("the upgrade was accepted")
	}
	require.NotNil(t, res, "%v", err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	var problem map[string]any
	_ = json.Unmarshal(body, &problem)
	return res.StatusCode, problem
}

type message struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
	At   time.Time       `json:"at"`
}

func read(t *testing.T, conn *websocket.Conn) message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	_, raw, err := conn.Read(ctx)
	require.NoError(t, err)
	var m message
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func TestLiveTrackingOverWebSocket(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	st := openStore(t, env)
	b := st.newBuyer(t, "Buyer")
	other := st.newBuyer(t, "Other buyer")
	sh := newShipper(t, env, "Shipper", nearby, true)
	rival := newShipper(t, env, "Rival", farAway, false)

	// The buyer may follow before the shipment exists, and sees the shipper assigned.
	id := st.order(t, b, 1)
	early := follow(t, env, id, b.AccessToken, false)
	st.confirm(t, id)
	msg := read(t, early)
	require.Equal(t, shipping.MsgAssigned, msg.Type)
	var assigned map[string]any
	require.NoError(t, json.Unmarshal(msg.Data, &assigned))
	assert.Equal(t, sh.ID, assigned["shipper_id"])

	conns := map[string]*websocket.Conn{
		"buyer":   early,
		"shop":    followShipment(t, env, id, st.seller.AccessToken, true),
		"shipper": followShipment(t, env, id, sh.AccessToken, false),
	}
	// Anyone else is refused before the upgrade, with a problem.
	for name, tok := range map[string]string{"another buyer": other.AccessToken, "another shipper": rival.AccessToken} {
		status, problem := refused(t, env, id, tok)
		assert.Equal(t, http.StatusNotFound, status, name)
		assert.Equal(t, "not_found", problem["code"], name)
	}
	status, _ := refused(t, env, id, "")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = refused(t, env, id, "forged")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = refused(t, env, "not-an-order", b.AccessToken)
	assert.Equal(t, http.StatusNotFound, status)

	res := env.Post(t, "/shipping/"+id+"/location", sh.AccessToken, map[string]any{"lat": 10.7791, "lng": 106.7023})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = env.Put(t, "/shipping/"+id+"/status", sh.AccessToken, map[string]any{"status": "picked_up"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	for name, c := range conns {
		loc := read(t, c)
		require.Equal(t, shipping.MsgLocation, loc.Type, name)
		var u shipping.LocationUpdate
		require.NoError(t, json.Unmarshal(loc.Data, &u))
		assert.InDelta(t, 10.7791, u.Lat, 1e-9, name)
		assert.Equal(t, sh.ID, u.ShipperID.String(), name)
		assert.False(t, loc.At.IsZero(), name)
		step := read(t, c)
		require.Equal(t, shipping.MsgStatus, step.Type, name)
		assert.Contains(t, string(step.Data), `"status":"picked_up"`, name)
	}

	// Without an upgrade the route is refused, a follower told where to poll; to anyone else
	// the delivery does not exist either way.
	res = env.Get(t, "/shipping/"+id+"/live-tracking", b.AccessToken)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	assert.Contains(t, res.Map(t)["detail"], "/shipping/"+id+"/tracking")
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/"+id+"/live-tracking", other.AccessToken).Status)
}

// TestLiveTrackingAcrossInstances runs two app instances on one database and one Redis prefix,
// as two server processes: a location posted to one reaches a follower connected to the other.
func TestLiveTrackingAcrossInstances(t *testing.T) {
	t.Parallel()
	one := apptest.New(t)
	two := apptest.New(t, apptest.SharingWith(one))
	st := openStore(t, one)
	b := st.newBuyer(t, "Buyer")
	sh := newShipper(t, one, "Shipper", nearby, true)
	id := st.readyOrder(t, b)
	assignedTo(t, one, id, b.AccessToken)

	onTwo := followShipment(t, two, id, b.AccessToken, false)
	onOne := followShipment(t, one, id, st.seller.AccessToken, false)
	res := one.Post(t, "/shipping/"+id+"/location", sh.AccessToken, map[string]any{"lat": 10.781, "lng": 106.703})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = two.Post(t, "/shipping/"+id+"/location", sh.AccessToken, map[string]any{"lat": 10.782, "lng": 106.704})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	for name, c := range map[string]*websocket.Conn{"on the other instance": onTwo, "on the same instance": onOne} {
		for _, lat := range []float64{10.781, 10.782} {
			m := read(t, c)
			require.Equal(t, shipping.MsgLocation, m.Type, name)
			var u shipping.LocationUpdate
			require.NoError(t, json.Unmarshal(m.Data, &u))
			assert.InDelta(t, lat, u.Lat, 1e-9, name)
		}
	}
}

// TestCartShippingFeeComesFromTheFeeComputation: the cart and checkout price shipping with the
// same computation as the calculator, by distance once the address is known.
func TestCartShippingFeeComesFromTheFeeComputation(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	st := openStore(t, env)
	b := env.Register(t, "Hanoi buyer")
	res := env.Post(t, "/users/addresses", b.AccessToken, map[string]any{"recipient_name": "Người Nhận", "phone": "0901234567",
		"line1": "1 Tràng Tiền", "district": "Hoàn Kiếm", "province": "Hà Nội"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	addr := res.Map(t)["id"].(string)
	require.Equal(t, http.StatusCreated, env.Post(t, "/cart/items", b.AccessToken, map[string]any{"product_id": st.p.ID, "quantity": 2}).Status)

	cart := env.Get(t, "/cart", b.AccessToken).Map(t)
	assert.EqualValues(t, quote(t, geo.MethodStandard, 1000, 0, true).Total, cart["shipping_fee"], "no address yet: the base rate")

	res = env.Post(t, "/shipping/calculate", b.AccessToken, map[string]any{"from": map[string]any{"shop_id": st.shopID},
		"to": map[string]any{"address_id": addr}, "weight_grams": 1000})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	want := res.Map(t)["total"]
	assert.InDelta(t, 94_000, want, 3_000, "Hồ Chí Minh City to Hà Nội")
	cart = env.Get(t, "/cart?address_id="+addr, b.AccessToken).Map(t)
	assert.Equal(t, want, cart["shipping_fee"])

	res = env.Get(t, "/cart?address_id="+addr+"&shipping_method=same_day", b.AccessToken)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	assert.Equal(t, "shipping_method", res.Map(t)["errors"].([]any)[0].(map[string]any)["field"])

	res = env.Post(t, "/orders", b.AccessToken, map[string]any{"address_id": addr, "payment_method": "cod"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	assert.Equal(t, want, res.Map(t)["orders"].([]any)[0].(map[string]any)["shipping_fee"])
}

// TestPrepaidOrderShipsOncePaid: a confirmed card order waits for its payment; the payment's
// order.paid event opens the shipment.
func TestPrepaidOrderShipsOncePaid(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	st := openStore(t, env)
	b := st.newBuyer(t, "Buyer")
	sh := newShipper(t, env, "Shipper", nearby, true)
	require.Equal(t, http.StatusCreated, env.Post(t, "/cart/items", b.AccessToken, map[string]any{"product_id": st.p.ID, "quantity": 1}).Status)
	res := env.Post(t, "/orders", b.AccessToken, map[string]any{"address_id": b.addr, "payment_method": "card", "provider": "sandbox"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	id := res.Map(t)["orders"].([]any)[0].(map[string]any)["id"].(string)
	st.confirm(t, id)

	assert.Equal(t, http.StatusConflict, env.Post(t, "/shipping/assign/"+id, st.seller.AccessToken, nil).Status, "not paid yet")
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/"+id+"/tracking", b.AccessToken).Status)

	// The payment context captures it (as its webhook would), in its own transaction.
	oid, err := uuid.Parse(id)
	require.NoError(t, err)
	require.NoError(t, pgdb.WithTx(t.Context(), env.App.Pool, func(tx pgx.Tx) error {
		return env.App.Orders.MarkPaidTx(t.Context(), tx, []uuid.UUID{oid})
	}))
	m := assignedTo(t, env, id, b.AccessToken)
	assert.Equal(t, sh.ID, m["shipper_id"])
	assert.EqualValues(t, 0, m["cod_amount"], "nothing to collect on a paid order")
}

// TestDeliveryStepsNeedOneConnection moves a delivery with one free connection in the pool: a
// step that moves the order too must do it through the shipment's transaction, not hold that
// transaction while the order context waits for a second connection.
func TestDeliveryStepsNeedOneConnection(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.WithEnv("REQUEST_TIMEOUT", "5s"))
	st := openStore(t, env)
	sh := newShipper(t, env, "Shipper", shopPoint, true)
	b := st.newBuyer(t, "Buyer")
	id := st.readyOrder(t, b)
	assignedTo(t, env, id, sh.AccessToken)
	for _, step := range []string{"picked_up", "in_transit", "delivered"} {
		release := env.StarvePool(t)
		res := env.Put(t, "/shipping/"+id+"/status", sh.AccessToken, map[string]any{"status": step})
		release()
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", step, res.Body)
	}
	assert.Equal(t, "delivered", env.Get(t, "/orders/"+id, b.AccessToken).Map(t)["status"])
}
