package app_test

import (
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// TestListsRefuseForeignCursors sends every list that takes a cursor the cursors of the other
// lists, a cut one, one whose position has the wrong type and one carrying a NUL: each must be
// a 422 naming cursor, never a 500 nor a page from a made-up position. Its own kind of cursor
// must still page (200), so the test cannot pass by refusing everything.
func TestListsRefuseForeignCursors(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	owner := env.Register(t, "Owner")
	admin := env.Admin(t, env.Register(t, "Admin"))
	shop := env.CreateShop(t, owner, "Cursor Shop")
	product := env.CreateProduct(t, owner, shop, "Quạt", 500_000, 3)
	res := env.Post(t, "/products/categories", admin.AccessToken, map[string]any{"name": "Điện thoại"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	category := res.Map(t)["id"].(string)

	id := `"` + uuid.NewString() + `"`
	// Each kind of cursor the lists make, written as EncodeCursor writes them (fields in the
	// order of their Go struct), and a variant of it whose position has the wrong type.
	kinds := map[string]struct{ good, wrongType string }{
		"keyset":    {`{"t":"2026-01-02T03:04:05.123456Z","i":` + id + `}`, `{"t":1700000000,"i":` + id + `}`},
		"newest":    {`{"s":"newest","t":"2026-01-02T03:04:05.123456Z","i":` + id + `}`, `{"s":"newest","t":"yesterday","i":` + id + `}`},
		"price":     {`{"s":"price_asc","p":1000,"i":` + id + `}`, `{"s":"price_asc","p":"1000","i":` + id + `}`},
		"category":  {`{"n":"Phones","i":` + id + `}`, `{"n":7,"i":` + id + `}`},
		"history":   {`{"i":7}`, `{"i":7.5}`},
		"inventory": {`{"s":3,"i":` + id + `}`, `{"s":4294967296,"i":` + id + `}`},
		"search":    {`{"d":12.5,"i":` + id + `}`, `{"d":"near","i":` + id + `}`},
	}
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

	for _, l := range []struct {
		path, token, kind string
	}{
		{"/products?", "", "newest"},
		{"/products?sort=price_asc&", "", "price"},
		{"/shops/" + shop + "/products?", owner.AccessToken, "newest"},
		{"/products/categories?", "", "category"},
		{"/products/categories/" + category + "/subcategories?", "", "category"},
		{"/products/" + product.ID + "/price-history?", "", "history"},
		{"/products/low-stock?", admin.AccessToken, "inventory"},
		{"/shops/" + shop + "/products/inventory?", owner.AccessToken, "inventory"},
		{"/shops/" + shop + "/products/low-stock?", owner.AccessToken, "inventory"},
		{"/shops?", "", "keyset"},
		{"/shops/search?lat=10.77&lng=106.70&", "", "search"},
		{"/shops/" + shop + "/promotions?", owner.AccessToken, "keyset"},
		{"/shops/" + shop + "/campaigns?", owner.AccessToken, "keyset"},
		{"/shops/" + shop + "/orders?", owner.AccessToken, "keyset"},
		{"/shops/" + shop + "/orders/history?", owner.AccessToken, "keyset"},
		{"/shops/" + shop + "/orders/pending?", owner.AccessToken, "keyset"},
		{"/users/addresses?", owner.AccessToken, "keyset"},
		{"/orders?", owner.AccessToken, "keyset"},
		{"/orders/history?", owner.AccessToken, "keyset"},
		{"/orders/refunds?", owner.AccessToken, "keyset"},
		{"/payments/history?", owner.AccessToken, "keyset"},
		{"/payments/transactions?", owner.AccessToken, "keyset"},
		{"/payments/chargebacks?", admin.AccessToken, "keyset"},
		{"/shipping/shippers?", admin.AccessToken, "keyset"},
		{"/cart/saved?", owner.AccessToken, "keyset"},
	} {
		t.Run(l.path, func(t *testing.T) {
			own := kinds[l.kind]
			res := env.Get(t, l.path+"cursor="+enc(own.good), l.token)
			require.Equal(t, http.StatusOK, res.Status, "own cursor: %s", res.Body)

			bad := map[string]string{
				"cut":        enc(own.good)[:len(enc(own.good))-4],
				"wrong type": enc(own.wrongType),
				"nul":        enc(`{"n":"a\u0000","i":` + id + `}`),
			}
			for k, c := range kinds {
				if k != l.kind {
					bad["cursor of "+k] = enc(c.good)
				}
			}
			for name, c := range bad {
				res := env.Get(t, l.path+"cursor="+c, l.token)
				assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
				if res.Status == http.StatusUnprocessableEntity {
					assert.Equal(t, "cursor", res.Map(t)["errors"].([]any)[0].(map[string]any)["field"], name)
				}
			}
		})
	}
}
