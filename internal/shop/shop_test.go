package shop_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

func shopBody(name string, lat, lng float64) map[string]any {
	return map[string]any{
		"name": name, "description": "Đồ điện tử chính hãng",
		"address": map[string]any{"line1": "1 Lê Duẩn", "ward": "Bến Nghé", "district": "Quận 1", "province": "Hồ Chí Minh"},
		"lat":     lat, "lng": lng,
	}
}

func TestShopCRUD(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	owner := env.Register(t, "Owner")
	other := env.Register(t, "Other")
	admin := env.Admin(t, env.Register(t, "Admin"))

	res := env.Post(t, "/shops", owner.AccessToken, shopBody("Điện Máy Xanh", 10.7769, 106.7009))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	s := res.Map(t)
	id := s["id"].(string)
	assert.Equal(t, owner.ID, s["owner_id"])
	assert.Equal(t, "active", s["status"])
	assert.Equal(t, "VN", s["address"].(map[string]any)["country"])
	assert.EqualValues(t, 0, s["rating"])

	// Anyone reads it, signed in or not.
	assert.Equal(t, http.StatusOK, env.Get(t, "/shops/"+id, "").Status)
	assert.Equal(t, http.StatusOK, env.Get(t, "/shops/"+id, other.AccessToken).Status)
	list := env.Get(t, "/shops", "").Map(t)
	assert.Len(t, list["items"], 1)

	// Only the owner (or an admin) changes it.
	upd := shopBody("Điện Máy Xanh Q1", 10.78, 106.70)
	res = env.Put(t, "/shops/"+id, other.AccessToken, upd)
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.Equal(t, "forbidden", res.Code(t))
	res = env.Put(t, "/shops/"+id, owner.AccessToken, upd)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "Điện Máy Xanh Q1", res.Map(t)["name"])
	res = env.Put(t, "/shops/"+id, admin.AccessToken, shopBody("Renamed by admin", 10.78, 106.70))
	assert.Equal(t, http.StatusOK, res.Status)

	profile := map[string]any{"logo_url": "https://cdn.example/logo.png", "contact_phone": "0281234567",
		"contact_email": "shop@example.com", "opening_hours": "8:00-22:00", "return_policy": "7 ngày đổi trả"}
	assert.Equal(t, http.StatusForbidden, env.Put(t, "/shops/"+id+"/profile", other.AccessToken, profile).Status)
	res = env.Put(t, "/shops/"+id+"/profile", owner.AccessToken, profile)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "https://cdn.example/logo.png", res.Map(t)["profile"].(map[string]any)["logo_url"])

	// My shops.
	assert.Len(t, env.Get(t, "/shops?owner=me", owner.AccessToken).Map(t)["items"], 1)
	assert.Len(t, env.Get(t, "/shops?owner=me", other.AccessToken).Map(t)["items"], 0)
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/shops?owner=me", "").Status)

	// Delete: only the owner; then it is gone for everyone.
	assert.Equal(t, http.StatusForbidden, env.Delete(t, "/shops/"+id, other.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Delete(t, "/shops/"+id, "").Status)
	require.Equal(t, http.StatusNoContent, env.Delete(t, "/shops/"+id, owner.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/shops/"+id, "").Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/shops/"+id, owner.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Put(t, "/shops/"+id, owner.AccessToken, upd).Status)
	assert.Len(t, env.Get(t, "/shops", "").Map(t)["items"], 0)
	var status string
	require.NoError(t, env.App.Pool.QueryRow(t.Context(), "SELECT status FROM shop.shops WHERE id = $1", id).Scan(&status))
	assert.Equal(t, "deleted", status, "kept for past orders")
}

func TestShopBadInput(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Owner")
	with := func(k string, v any) map[string]any { b := shopBody("S", 10, 106); b[k] = v; return b }
	without := func(k string) map[string]any { b := shopBody("S", 10, 106); delete(b, k); return b }
	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"no name":        {without("name"), "name"},
		"blank name":     {with("name", "  "), "name"},
		"long name":      {with("name", strings.Repeat("x", 121)), "name"},
		"no lat":         {without("lat"), "lat"},
		"lat range":      {with("lat", 91), "lat"},
		"lng type":       {with("lng", "106"), "lng"},
		"no address":     {without("address"), "address"},
		"blank province": {with("address", map[string]any{"line1": "x", "province": " "}), "address.province"},
	} {
		res := env.Post(t, "/shops", u.AccessToken, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
		assert.Equal(t, c.field, res.Map(t)["errors"].([]any)[0].(map[string]any)["field"], name)
	}
	assert.Equal(t, http.StatusBadRequest, env.Post(t, "/shops", u.AccessToken, `{"name":`).Status)
	res := env.Post(t, "/shops", u.AccessToken, with("category_ids", []string{"x"}))
	assert.Equal(t, http.StatusBadRequest, res.Status)
	assert.Contains(t, res.Map(t)["detail"], "UUID")
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/shops", "", shopBody("S", 10, 106)).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/shops/nope", "").Status)
	id := env.Post(t, "/shops", u.AccessToken, shopBody("S", 10, 106)).Map(t)["id"].(string)
	res = env.Put(t, "/shops/"+id+"/profile", u.AccessToken, map[string]any{"logo_url": "not a url", "contact_email": "x"})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.Len(t, res.Map(t)["errors"], 2)
}

func TestShopSearchByDistance(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Owner")
	cat := "7d3f1e4a-0000-4000-8000-000000000001"
	// Around Hồ Chí Minh City's centre (10.7769, 106.7009).
	near := shopBody("Near", 10.7800, 106.7000) // ~0.36 km
	near["category_ids"] = []string{cat}
	mid := shopBody("Mid", 10.8000, 106.7000) // ~2.6 km
	far := shopBody("Far", 10.8500, 106.7000) // ~8.1 km
	hanoi := shopBody("Hà Nội", 21.0285, 105.8542)
	for _, b := range []map[string]any{far, hanoi, mid, near} {
		require.Equal(t, http.StatusCreated, env.Post(t, "/shops", u.AccessToken, b).Status)
	}

	names := func(res *apptest.Response) []string {
		var out []string
		for _, s := range res.Map(t)["items"].([]any) {
			out = append(out, s.(map[string]any)["name"].(string))
		}
		return out
	}
	res := env.Get(t, "/shops/search?location=10.7769,106.7009&radius=5", "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, []string{"Near", "Mid"}, names(res))
	first := res.Map(t)["items"].([]any)[0].(map[string]any)
	assert.InDelta(t, 0.36, first["distance_km"], 0.05)

	assert.Equal(t, []string{"Near", "Mid", "Far"}, names(env.Get(t, "/shops/search?lat=10.7769&lng=106.7009&radius=10", "")))
	assert.Equal(t, []string{"Near"}, names(env.Get(t, "/shops/search?location=10.7769,106.7009&radius=10&category="+cat, "")))

	// Paging keeps the distance order.
	res = env.Get(t, "/shops/search?location=10.7769,106.7009&radius=10&limit=2", "")
	assert.Equal(t, []string{"Near", "Mid"}, names(res))
	next := res.Map(t)["next_cursor"].(string)
	assert.Equal(t, []string{"Far"}, names(env.Get(t, "/shops/search?location=10.7769,106.7009&radius=10&limit=2&cursor="+next, "")))

	for _, q := range []string{"", "location=10.7", "location=95,106&radius=5", "lat=10&lng=200", "location=10,106&radius=0",
		"location=10,106&radius=500", "location=10,106&category=abc", "location=10,106&limit=1000", "lat=10",
		"location=NaN,106", "lat=NaN&lng=106", "location=10,106&radius=NaN", "location=10,106&radius=far"} {
		assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/shops/search?"+q, "").Status, q)
	}
}

// TestShopSearchUsesTheLocationIndex checks the plan, not the clock: with enough shops the
// radius query is answered from the GiST index instead of a scan of every shop.
func TestShopSearchUsesTheLocationIndex(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	_, err := env.App.Pool.Exec(ctx, `
		INSERT INTO shop.shops (owner_id, name, line1, province, lat, lng)
		SELECT gen_random_uuid(), 'S' || g, 'x', 'y', 8 + random() * 15, 102 + random() * 8
		FROM generate_series(1, 20000) g`)
	require.NoError(t, err)
	_, err = env.App.Pool.Exec(ctx, "ANALYZE shop.shops")
	require.NoError(t, err)
	var plan strings.Builder
	rows, err := env.App.Pool.Query(ctx, `EXPLAIN
		SELECT s.id FROM shop.shops s
		WHERE s.status = 'active'
		  AND public.earth_box(shop.earth_point(10.77, 106.70), 5000) @> shop.earth_point(s.lat, s.lng)
		  AND shop.distance_m(10.77, 106.70, s.lat, s.lng) <= 5000
		ORDER BY shop.distance_m(10.77, 106.70, s.lat, s.lng) LIMIT 21`)
	require.NoError(t, err)
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		plan.WriteString(line + "\n")
	}
	require.NoError(t, rows.Err())
	assert.Contains(t, plan.String(), "shops_location_idx", plan.String())
	assert.NotContains(t, plan.String(), "Seq Scan", plan.String())
}
