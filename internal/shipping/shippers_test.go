package shipping_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// Places in Hồ Chí Minh City used throughout: the test shops sit at Quận 1's centre.
var (
	shopPoint = [2]float64{10.7769, 106.7009}
	nearby    = [2]float64{10.7800, 106.7050} // ~0.6 km from the shop
	across    = [2]float64{10.7300, 106.7200} // Quận 7, ~5.6 km
	farAway   = [2]float64{21.0285, 105.8542} // Hà Nội
)

// shipper is a registered shipper whose token carries the role.
type shipper struct {
	apptest.User
}

func profile(extra map[string]any) map[string]any {
	m := map[string]any{"vehicle_type": "motorbike", "vehicle_plate": "59X1-23456", "id_number": "079123456789", "service_area": "Hồ Chí Minh"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// newShipper registers a shipper through the shipping route, placed at pt and, when available,
// ready for work.
func newShipper(t *testing.T, env *apptest.Env, name string, pt [2]float64, available bool) shipper {
	t.Helper()
	return shipper{env.NewShipper(t, name, pt, available)}
}

func TestShipperRegistrationBothWays(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)

	// Through the shipping route: role, papers and the working record at once.
	ann := env.Register(t, "Ann Shipper")
	res := env.Post(t, "/shipping/shippers/register", ann.AccessToken, profile(map[string]any{"lat": nearby[0], "lng": nearby[1]}))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	m := res.Map(t)
	sh := m["shipper"].(map[string]any)
	assert.Equal(t, ann.ID, sh["id"])
	assert.Equal(t, "offline", sh["status"])
	assert.Equal(t, "motorbike", sh["vehicle_type"])
	assert.InDelta(t, nearby[0], sh["location"].(map[string]any)["lat"], 1e-9)
	assert.ElementsMatch(t, []any{"user", "shipper"}, m["user"].(map[string]any)["roles"])
	tok := m["access_token"].(string)
	assert.Equal(t, http.StatusOK, env.Get(t, "/shipping/shippers/"+ann.ID, tok).Status)
	// The identity context holds the papers, and says so to a second try on either route.
	assert.Equal(t, http.StatusConflict, env.Post(t, "/shipping/shippers/register", tok, profile(nil)).Status)
	assert.Equal(t, http.StatusConflict, env.Post(t, "/users/shipper/register", tok, profile(nil)).Status)

	// Through the identity route: the same working record, there when registration answers.
	bob := env.Register(t, "Bob Shipper")
	res = env.Post(t, "/users/shipper/register", bob.AccessToken, profile(map[string]any{"vehicle_type": "bicycle"}))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	bobTok := res.Map(t)["access_token"].(string)
	res = env.Get(t, "/shipping/shippers/"+bob.ID, bobTok)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	got := res.Map(t)
	assert.Equal(t, "offline", got["status"])
	assert.Equal(t, "bicycle", got["vehicle_type"])
	assert.Nil(t, got["location"])
	assert.Equal(t, http.StatusConflict, env.Post(t, "/shipping/shippers/register", bobTok, profile(nil)).Status)

	// Bad input, and no token.
	carl := env.Register(t, "Carl")
	assert.Equal(t, http.StatusBadRequest, env.Post(t, "/shipping/shippers/register", carl.AccessToken, `{"vehicle_type":`).Status)
	for name, body := range map[string]any{
		"missing papers":  map[string]any{"vehicle_type": "car"},
		"bad vehicle":     profile(map[string]any{"vehicle_type": "rocket"}),
		"lat without lng": profile(map[string]any{"lat": 10.7}),
		"lat off Earth":   profile(map[string]any{"lat": 123.0, "lng": 106.0}),
		"wrong type":      profile(map[string]any{"lat": "north"}),
	} {
		res := env.Post(t, "/shipping/shippers/register", carl.AccessToken, body)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
		assert.Equal(t, "validation_failed", res.Code(t), name)
	}
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/shipping/shippers/register", "", profile(nil)).Status)

	// Admins list them; nobody else does.
	admin := env.Admin(t, env.Register(t, "Admin"))
	res = env.Get(t, "/shipping/shippers?limit=1", admin.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	page := res.Map(t)
	require.Len(t, page["items"], 1)
	assert.Equal(t, bob.ID, page["items"].([]any)[0].(map[string]any)["id"], "newest first")
	res = env.Get(t, "/shipping/shippers?cursor="+page["next_cursor"].(string), admin.AccessToken)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, ann.ID, res.Map(t)["items"].([]any)[0].(map[string]any)["id"])
	assert.Len(t, env.Get(t, "/shipping/shippers?status=busy", admin.AccessToken).Map(t)["items"], 0)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/shipping/shippers?status=asleep", admin.AccessToken).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/shipping/shippers?cursor=nonsense", admin.AccessToken).Status)
	assert.Equal(t, http.StatusForbidden, env.Get(t, "/shipping/shippers", tok).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/shipping/shippers", "").Status)
}

func TestShipperStatusAndVisibility(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ann := newShipper(t, env, "Ann", nearby, false)
	other := newShipper(t, env, "Other", across, false)
	stranger := env.Register(t, "Stranger")
	admin := env.Admin(t, env.Register(t, "Admin"))
	path := "/shipping/shippers/" + ann.ID

	res := env.Put(t, path+"/status", ann.AccessToken, map[string]any{"status": "available", "lat": across[0], "lng": across[1]})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	m := res.Map(t)
	assert.Equal(t, "available", m["status"])
	assert.InDelta(t, across[0], m["location"].(map[string]any)["lat"], 1e-9, "the new position is kept")

	// A shipper nobody has placed cannot be found, so cannot be available.
	bob := env.Register(t, "Bob")
	res = env.Post(t, "/users/shipper/register", bob.AccessToken, profile(nil))
	require.Equal(t, http.StatusCreated, res.Status)
	bobTok := res.Map(t)["access_token"].(string)
	res = env.Put(t, "/shipping/shippers/"+bob.ID+"/status", bobTok, map[string]any{"status": "available"})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)

	// Only the shipper and admins change or see a shipper; to others the shipper does not exist.
	assert.Equal(t, http.StatusNotFound, env.Put(t, path+"/status", other.AccessToken, map[string]any{"status": "offline"}).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, path, stranger.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/shipper/"+ann.ID+"/location", stranger.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/shipper/"+ann.ID+"/location", other.AccessToken).Status)
	res = env.Put(t, path+"/status", admin.AccessToken, map[string]any{"status": "offline"})
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "offline", res.Map(t)["status"])
	res = env.Get(t, "/shipping/shipper/"+ann.ID+"/location", ann.AccessToken)
	require.Equal(t, http.StatusOK, res.Status)
	assert.InDelta(t, across[1], res.Map(t)["location"].(map[string]any)["lng"], 1e-9)
	assert.Equal(t, http.StatusOK, env.Get(t, "/shipping/shipper/"+ann.ID+"/location", admin.AccessToken).Status)

	// Bad input and unknown shippers.
	assert.Equal(t, http.StatusBadRequest, env.Put(t, path+"/status", ann.AccessToken, `{"status"`).Status)
	for _, body := range []any{map[string]any{"status": "asleep"}, map[string]any{}, map[string]any{"status": 3},
		map[string]any{"status": "available", "lng": 106.7}} {
		assert.Equal(t, http.StatusUnprocessableEntity, env.Put(t, path+"/status", ann.AccessToken, body).Status, "%v", body)
	}
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/shippers/not-an-id", admin.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/shippers/"+stranger.ID, admin.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/shipper/"+stranger.ID+"/location", admin.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Put(t, "/shipping/shippers/"+stranger.ID+"/status", admin.AccessToken,
		map[string]any{"status": "offline"}).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Put(t, path+"/status", "", map[string]any{"status": "offline"}).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, path, "").Status)
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/shipping/shipper/"+ann.ID+"/location", "").Status)
}

// TestNewShipperWorksAtOnceAndIsAddressedByUserID: with no event delivered at all (the job
// workers are stopped), a shipper who registered through the identity route can go available,
// be assigned, report where they are and list their deliveries, all addressed by their user
// ID, which is also the shipper_id of the shipment, its timeline and its location reports;
// another shipper is refused everywhere.
func TestNewShipperWorksAtOnceAndIsAddressedByUserID(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	require.NoError(t, env.App.Jobs.Stop(t.Context()))
	st := openStore(t, env)
	b := st.newBuyer(t, "Buyer")
	orderID := st.readyOrder(t, b)

	register := func(name string) shipper {
		u := env.Register(t, name)
		res := env.Post(t, "/users/shipper/register", u.AccessToken, profile(nil))
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		m := res.Map(t)
		assert.Equal(t, u.ID, m["shipper"].(map[string]any)["user_id"])
		u.AccessToken = m["access_token"].(string)
		return shipper{u}
	}
	dung := register("Dung")
	other := register("Other")
	me := "/shipping/shippers/" + dung.ID

	t.Run("acts at once", func(t *testing.T) {
		res := env.Put(t, me+"/status", dung.AccessToken, map[string]any{"status": "available", "lat": nearby[0], "lng": nearby[1]})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, dung.ID, res.Map(t)["id"])
		res = env.Get(t, me, dung.AccessToken)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Empty(t, res.Map(t)["active_deliveries"])
	})

	t.Run("assigned by user id", func(t *testing.T) {
		res := env.Post(t, "/shipping/assign/"+orderID, st.seller.AccessToken, map[string]any{"shipper_id": dung.ID})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		m := res.Map(t)
		assert.Equal(t, dung.ID, m["shipper_id"])
		assigned := 0
		for _, e := range m["events"].([]any) {
			if e := e.(map[string]any); e["kind"] == "assigned" {
				assigned++
				assert.Equal(t, dung.ID, e["shipper_id"])
			}
		}
		assert.Equal(t, 1, assigned)
		assert.Equal(t, dung.ID, shipmentOf(t, env, orderID, b.AccessToken)["shipper_id"], "the buyer sees the same ID")
		assert.Equal(t, []any{orderID}, env.Get(t, me, dung.AccessToken).Map(t)["active_deliveries"])
		// An ID that is not a shipper's user ID names no shipper.
		res = env.Post(t, "/shipping/assign/"+orderID, st.seller.AccessToken, map[string]any{"shipper_id": b.ID})
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	})

	t.Run("reports and is followed by user id", func(t *testing.T) {
		res := env.Post(t, "/shipping/"+orderID+"/location", dung.AccessToken, map[string]any{"lat": nearby[0], "lng": nearby[1]})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, dung.ID, res.Map(t)["shipper_id"])
		res = env.Get(t, "/shipping/shipper/"+dung.ID+"/location", b.AccessToken)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		loc := res.Map(t)
		assert.Equal(t, dung.ID, loc["shipper_id"])
		assert.Equal(t, "busy", loc["status"])
		assert.InDelta(t, nearby[0], loc["location"].(map[string]any)["lat"], 1e-9)
	})

	t.Run("another shipper is refused", func(t *testing.T) {
		assert.Equal(t, http.StatusNotFound, env.Get(t, me, other.AccessToken).Status)
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/shipping/shipper/"+dung.ID+"/location", other.AccessToken).Status)
		assert.Equal(t, http.StatusNotFound, env.Put(t, me+"/status", other.AccessToken, map[string]any{"status": "offline"}).Status)
		assert.Equal(t, http.StatusNotFound, env.Post(t, "/shipping/"+orderID+"/location", other.AccessToken,
			map[string]any{"lat": nearby[0], "lng": nearby[1]}).Status)
		assert.Equal(t, http.StatusNotFound, env.Put(t, "/shipping/"+orderID+"/status", other.AccessToken,
			map[string]any{"status": "picked_up"}).Status)
		assert.Equal(t, "awaiting_pickup", shipmentOf(t, env, orderID, b.AccessToken)["status"], "nothing moved")
	})
}

func TestAvailableShippersNearAPoint(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	near := newShipper(t, env, "Near", nearby, true)
	mid := newShipper(t, env, "Mid", across, true)
	newShipper(t, env, "Far", farAway, true)
	newShipper(t, env, "Offline", nearby, false)
	owner := env.Register(t, "Owner")
	env.CreateShop(t, owner, "Owner's shop")
	admin := env.Admin(t, env.Register(t, "Admin"))
	q := fmt.Sprintf("/shipping/shippers/available?lat=%g&lng=%g", shopPoint[0], shopPoint[1])

	res := env.Get(t, q+"&radius=10", admin.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	items := res.Map(t)["items"].([]any)
	require.Len(t, items, 2, "only available shippers within the radius")
	first, second := items[0].(map[string]any), items[1].(map[string]any)
	assert.Equal(t, near.ID, first["id"], "nearest first")
	assert.Equal(t, mid.ID, second["id"])
	assert.InDelta(t, 0.56, first["distance_km"], 0.1)
	assert.InDelta(t, 5.6, second["distance_km"], 0.3)
	assert.NotNil(t, first["location"], "admins see where")

	res = env.Get(t, q, owner.AccessToken) // default radius 5 km
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	items = res.Map(t)["items"].([]any)
	require.Len(t, items, 1)
	assert.Nil(t, items[0].(map[string]any)["location"], "a shop owner learns how far, not where")
	assert.Len(t, env.Get(t, q+"&radius=10&limit=1", admin.AccessToken).Map(t)["items"], 1)

	assert.Equal(t, http.StatusForbidden, env.Get(t, q, near.AccessToken).Status, "shippers do not look up other shippers")
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, q, "").Status)
	for _, bad := range []string{"?lat=10.7", "?lat=north&lng=106", "?lat=91&lng=106", "?lat=10&lng=106&radius=500",
		"?lat=10&lng=106&radius=-1", "?lat=NaN&lng=106", "?lat=10&lng=106&limit=0"} {
		res := env.Get(t, "/shipping/shippers/available"+bad, admin.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, bad)
	}
}

// TestNearbySearchUsesTheIndex checks that the wrapped earthdistance functions inline, so that
// the planner can answer "available shippers near a point" from the partial GiST index.
func TestNearbySearchUsesTheIndex(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := context.Background()
	conn, err := env.App.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "SET enable_seqscan = off")
	require.NoError(t, err)
	rows, err := conn.Query(ctx, `EXPLAIN SELECT user_id FROM shipping.shippers s
		WHERE s.status = 'available' AND s.lat IS NOT NULL
		  AND public.earth_box(shipping.earth_point($1, $2), $3) @> shipping.earth_point(s.lat, s.lng)`, 10.77, 106.70, 5000.0)
	require.NoError(t, err)
	var plan strings.Builder
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		plan.WriteString(line + "\n")
	}
	require.NoError(t, rows.Err())
	assert.Contains(t, plan.String(), "shippers_available_idx", plan.String())
}
