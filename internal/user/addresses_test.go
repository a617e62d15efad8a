package user_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

func address(name string) map[string]any {
	return map[string]any{
		"recipient_name": name, "phone": "+84901234567", "line1": "12 Lý Thường Kiệt",
		"ward": "Phường Hàng Bài", "district": "Hoàn Kiếm", "province": "Hà Nội", "lat": 21.0245, "lng": 105.8412,
	}
}

func TestAddressesCRUDAndDefault(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Linh")

	res := env.Get(t, "/users/addresses", u.AccessToken)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, []any{}, res.Map(t)["items"])

	// The first address becomes the default by itself.
	res = env.Post(t, "/users/addresses", u.AccessToken, address("Home"))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	home := res.Map(t)
	assert.Equal(t, true, home["is_default"])
	assert.Equal(t, "VN", home["country"])
	assert.Equal(t, 21.0245, home["lat"])

	res = env.Post(t, "/users/addresses", u.AccessToken, address("Office"))
	office := res.Map(t)
	assert.Equal(t, false, office["is_default"])
	third := address("Parents")
	third["is_default"] = true
	res = env.Post(t, "/users/addresses", u.AccessToken, third)
	parents := res.Map(t)
	assert.Equal(t, true, parents["is_default"], "a new default takes over")
	assert.Equal(t, false, env.Get(t, "/users/addresses/"+home["id"].(string), u.AccessToken).Map(t)["is_default"])

	// Paging: two, then one.
	res = env.Get(t, "/users/addresses?limit=2", u.AccessToken)
	page := res.Map(t)
	require.Len(t, page["items"], 2)
	require.NotEmpty(t, page["next_cursor"])
	res = env.Get(t, "/users/addresses?limit=2&cursor="+page["next_cursor"].(string), u.AccessToken)
	page2 := res.Map(t)
	require.Len(t, page2["items"], 1)
	assert.Empty(t, page2["next_cursor"])
	assert.Equal(t, parents["id"], page2["items"].([]any)[0].(map[string]any)["id"])

	// Update replaces fields; is_default true moves the default.
	upd := address("Office 2")
	upd["is_default"] = true
	upd["ward"] = ""
	res = env.Put(t, "/users/addresses/"+office["id"].(string), u.AccessToken, upd)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "Office 2", res.Map(t)["recipient_name"])
	assert.Equal(t, true, res.Map(t)["is_default"])
	assert.Equal(t, false, env.Get(t, "/users/addresses/"+parents["id"].(string), u.AccessToken).Map(t)["is_default"])

	res = env.Put(t, "/users/addresses/"+home["id"].(string)+"/default", u.AccessToken, nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, true, res.Map(t)["is_default"])

	// Deleting the default moves it to the oldest remaining address.
	require.Equal(t, http.StatusNoContent, env.Delete(t, "/users/addresses/"+home["id"].(string), u.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/users/addresses/"+home["id"].(string), u.AccessToken).Status)
	assert.Equal(t, true, env.Get(t, "/users/addresses/"+office["id"].(string), u.AccessToken).Map(t)["is_default"])
	require.Equal(t, http.StatusNoContent, env.Delete(t, "/users/addresses/"+parents["id"].(string), u.AccessToken).Status)
	require.Equal(t, http.StatusNoContent, env.Delete(t, "/users/addresses/"+office["id"].(string), u.AccessToken).Status)
	assert.Equal(t, []any{}, env.Get(t, "/users/addresses", u.AccessToken).Map(t)["items"])
}

func TestAddressesOfAnotherUserAreNotFound(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	owner := env.Register(t, "Owner")
	other := env.Register(t, "Other")
	id := env.Post(t, "/users/addresses", owner.AccessToken, address("Owner")).Map(t)["id"].(string)

	assert.Equal(t, http.StatusNotFound, env.Get(t, "/users/addresses/"+id, other.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Put(t, "/users/addresses/"+id, other.AccessToken, address("Thief")).Status)
	assert.Equal(t, http.StatusNotFound, env.Put(t, "/users/addresses/"+id+"/default", other.AccessToken, nil).Status)
	assert.Equal(t, http.StatusNotFound, env.Delete(t, "/users/addresses/"+id, other.AccessToken).Status)
	assert.Equal(t, []any{}, env.Get(t, "/users/addresses", other.AccessToken).Map(t)["items"])
	res := env.Get(t, "/users/addresses/"+id, owner.AccessToken)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "Owner", res.Map(t)["recipient_name"], "untouched")
	assert.Equal(t, http.StatusNotFound, env.Get(t, "/users/addresses/12345", owner.AccessToken).Status)
}

func TestAddressesBadInput(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Tam")
	with := func(k string, v any) map[string]any { a := address("Tam"); a[k] = v; return a }
	without := func(k string) map[string]any { a := address("Tam"); delete(a, k); return a }
	cases := map[string]struct {
		body  any
		field string
	}{
		"missing province": {without("province"), "province"},
		"missing line1":    {without("line1"), "line1"},
		"blank recipient":  {with("recipient_name", "   "), "recipient_name"},
		"bad phone":        {with("phone", "abc"), "phone"},
		"lat out of range": {with("lat", 123.0), "lat"},
		"lng wrong type":   {with("lng", "east"), "lng"},
		"country not iso":  {with("country", "Vietnam"), "country"},
		"default not bool": {with("is_default", "yes"), "is_default"},
	}
	for name, c := range cases {
		res := env.Post(t, "/users/addresses", u.AccessToken, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
		assert.Equal(t, c.field, res.Map(t)["errors"].([]any)[0].(map[string]any)["field"], name)
	}
	assert.Equal(t, http.StatusBadRequest, env.Post(t, "/users/addresses", u.AccessToken, `{"line1":`).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/users/addresses?limit=0", u.AccessToken).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/users/addresses?limit=101", u.AccessToken).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/users/addresses?cursor=not-a-cursor", u.AccessToken).Status)
	id := env.Post(t, "/users/addresses", u.AccessToken, address("Tam")).Map(t)["id"].(string)
	res := env.Put(t, "/users/addresses/"+id, u.AccessToken, without("phone"))
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.Equal(t, []any{}, func() []any {
		var out []any
		for _, a := range env.Get(t, "/users/addresses", u.AccessToken).Map(t)["items"].([]any) {
			if a.(map[string]any)["recipient_name"] != "Tam" {
				out = append(out, a)
			}
		}
		if out == nil {
			out = []any{}
		}
		return out
	}(), "nothing but the one good address was stored")
}

func TestConcurrentAddressCreatesKeepOneDefault(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Racer")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := address("Racer")
			a["is_default"] = i%2 == 0
			assert.Equal(t, http.StatusCreated, env.Post(t, "/users/addresses", u.AccessToken, a).Status)
		}()
	}
	wg.Wait()
	defaults := 0
	items := env.Get(t, "/users/addresses?limit=100", u.AccessToken).Map(t)["items"].([]any)
	require.Len(t, items, 8)
	for _, a := range items {
		if a.(map[string]any)["is_default"] == true {
			defaults++
		}
	}
	assert.Equal(t, 1, defaults)
}
