package catalog_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

func TestProductCRUD(t *testing.T) {
	t.Parallel()
	w := newWorld(t)

	// Created through the shop's route, with a default variant carrying price and stock.
	p := w.product(t, productBody("Galaxy A55", 9_990_000))
	id := p["id"].(string)
	assert.Equal(t, w.shop, p["shop_id"])
	assert.Equal(t, "active", p["status"])
	assert.Equal(t, "VND", p["currency"])
	assert.EqualValues(t, 9_990_000, p["price"])
	assert.EqualValues(t, 10, p["stock"])
	assert.EqualValues(t, 350, p["weight_grams"])
	assert.EqualValues(t, 12, p["attributes"].(map[string]any)["warranty_months"])
	assert.Equal(t, []any{}, p["media"])
	require.Len(t, p["variants"], 1)
	assert.Equal(t, true, p["variants"].([]any)[0].(map[string]any)["is_default"])

	// Created through /products with explicit variants: price is the cheapest, stock the sum.
	body := map[string]any{"shop_id": w.shop, "title": "Áo thun", "brand": "Coolmate", "variants": []map[string]any{
		{"sku": "AT-RED-M", "name": "Đỏ / M", "attributes": map[string]string{"color": "red", "size": "M"}, "price": 199000, "stock": 5},
		{"sku": "AT-BLU-L", "name": "Xanh / L", "attributes": map[string]string{"color": "blue", "size": "L"}, "price": 179000, "stock": 7},
	}}
	res := w.Post(t, "/products", w.owner.AccessToken, body)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	shirt := res.Map(t)
	assert.EqualValues(t, 179000, shirt["price"])
	assert.EqualValues(t, 12, shirt["stock"])
	assert.Equal(t, "red", shirt["variants"].([]any)[0].(map[string]any)["attributes"].(map[string]any)["color"])

	// Anyone reads active products.
	for _, tok := range []string{"", w.other.AccessToken} {
		res = w.Get(t, "/products/"+id, tok)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, "Galaxy A55", res.Map(t)["title"])
	}
	assert.Equal(t, http.StatusOK, w.Get(t, "/shops/"+w.shop+"/products/"+id, "").Status)

	// Only the owner or an admin changes them: someone else is refused (the product is public).
	upd := map[string]any{"title": "Galaxy A55 5G", "description": "Mới", "brand": "Samsung", "model": "SM-A556",
		"attributes": map[string]any{"color": "navy"}, "weight_grams": 213, "low_stock_threshold": 3}
	res = w.Put(t, "/products/"+id, w.other.AccessToken, upd)
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.Equal(t, "forbidden", res.Code(t))
	assert.Equal(t, http.StatusUnauthorized, w.Put(t, "/products/"+id, "", upd).Status)
	res = w.Put(t, "/products/"+id, w.owner.AccessToken, upd)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	got := res.Map(t)
	assert.Equal(t, "Galaxy A55 5G", got["title"])
	assert.Equal(t, "SM-A556", got["model"])
	assert.EqualValues(t, 3, got["low_stock_threshold"])
	assert.Equal(t, "active", got["status"], "an omitted status stays")
	assert.EqualValues(t, 9_990_000, got["price"], "details do not touch prices")
	res = w.Put(t, "/shops/"+w.shop+"/products/"+id, w.admin.AccessToken, map[string]any{"title": "By admin"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "By admin", res.Map(t)["title"])

	// Brand, model and category have their own routes.
	cat := w.category(t, "Điện thoại", "")
	for _, c := range []struct {
		path, key string
		val       any
	}{{"/brand", "brand", "Samsung VN"}, {"/model", "model", "A556E"}, {"/catalog", "category_id", cat}} {
		assert.Equal(t, http.StatusForbidden, w.Put(t, "/products/"+id+c.path, w.other.AccessToken, map[string]any{c.key: c.val}).Status, c.path)
		assert.Equal(t, http.StatusUnauthorized, w.Put(t, "/products/"+id+c.path, "", map[string]any{c.key: c.val}).Status, c.path)
		assert.Equal(t, http.StatusBadRequest, w.Put(t, "/products/"+id+c.path, w.owner.AccessToken, `{"`+c.key+`":`).Status, c.path)
		res = w.Put(t, "/products/"+id+c.path, w.owner.AccessToken, map[string]any{c.key: c.val})
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", c.path, res.Body)
		assert.Equal(t, c.val, res.Map(t)[c.key], c.path)
	}
	assert.Equal(t, "category_id", field(t, w.Put(t, "/products/"+id+"/catalog", w.owner.AccessToken, map[string]any{"category_id": uuid.NewString()})))
	assert.Equal(t, "brand", field(t, w.Put(t, "/products/"+id+"/brand", w.owner.AccessToken, map[string]any{"brand": strings.Repeat("b", 101)})))
	assert.Equal(t, "model", field(t, w.Put(t, "/products/"+id+"/model", w.owner.AccessToken, map[string]any{"model": 7})))

	// A draft is the owner's (and admins') only: 404 to others, who then cannot tell it exists.
	res = w.Put(t, "/products/"+id, w.owner.AccessToken, map[string]any{"title": "Galaxy", "status": "draft"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/"+id, "").Status)
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/"+id, w.other.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, w.Put(t, "/products/"+id, w.other.AccessToken, upd).Status)
	assert.Equal(t, http.StatusOK, w.Get(t, "/products/"+id, w.owner.AccessToken).Status)
	assert.Equal(t, http.StatusOK, w.Get(t, "/products/"+id, w.admin.AccessToken).Status)

	// The shop's list: the public sees its active products, the owner all of them.
	assert.Equal(t, []string{"Áo thun"}, titles(t, w.Get(t, "/shops/"+w.shop+"/products", "")))
	assert.Equal(t, []string{"Áo thun"}, titles(t, w.Get(t, "/shops/"+w.shop+"/products", w.other.AccessToken)))
	assert.Equal(t, []string{"Áo thun", "Galaxy"}, titles(t, w.Get(t, "/shops/"+w.shop+"/products", w.owner.AccessToken)))
	assert.Equal(t, []string{"Galaxy"}, titles(t, w.Get(t, "/shops/"+w.shop+"/products?status=draft", w.owner.AccessToken)))
	assert.Equal(t, "status", field(t, w.Get(t, "/shops/"+w.shop+"/products?status=gone", w.owner.AccessToken)))
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/shops/"+uuid.NewString()+"/products", "").Status)

	// A product is reached under its own shop only.
	otherShop := w.openShop(t, w.other, "Other shop")
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/shops/"+otherShop+"/products/"+id, w.owner.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, w.Put(t, "/shops/"+otherShop+"/products/"+id, w.other.AccessToken, upd).Status)
	assert.Equal(t, http.StatusNotFound, w.Delete(t, "/shops/"+otherShop+"/products/"+id, w.other.AccessToken).Status)
	// Someone else may not add products to the shop.
	res = w.Post(t, "/shops/"+w.shop+"/products", w.other.AccessToken, productBody("Intruder", 1000))
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.Equal(t, http.StatusNotFound, w.Post(t, "/shops/"+uuid.NewString()+"/products", w.owner.AccessToken, productBody("X", 1000)).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Post(t, "/shops/"+w.shop+"/products", "", productBody("X", 1000)).Status)
	intruder := productBody("Intruder", 1000)
	intruder["shop_id"] = w.shop
	assert.Equal(t, http.StatusForbidden, w.Post(t, "/products", w.other.AccessToken, intruder).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Put(t, "/shops/"+w.shop+"/products/"+id, "", upd).Status)
	assert.Equal(t, "title", field(t, w.Put(t, "/shops/"+w.shop+"/products/"+id, w.owner.AccessToken, map[string]any{"title": 1})))
	assert.Equal(t, http.StatusNotFound, w.Put(t, "/shops/"+w.shop+"/products/nope", w.owner.AccessToken, upd).Status)

	// Deleting hides it for good and keeps the row for past orders.
	shirtID := shirt["id"].(string)
	assert.Equal(t, http.StatusForbidden, w.Delete(t, "/products/"+shirtID, w.other.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Delete(t, "/products/"+shirtID, "").Status)
	assert.Equal(t, http.StatusUnauthorized, w.Delete(t, "/shops/"+w.shop+"/products/"+shirtID, "").Status)
	assert.Equal(t, http.StatusForbidden, w.Delete(t, "/shops/"+w.shop+"/products/"+shirtID, w.other.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, w.Delete(t, "/products/nope", w.owner.AccessToken).Status)
	require.Equal(t, http.StatusNoContent, w.Delete(t, "/shops/"+w.shop+"/products/"+shirtID, w.owner.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/"+shirtID, w.owner.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, w.Delete(t, "/products/"+shirtID, w.owner.AccessToken).Status)
	assert.Empty(t, titles(t, w.Get(t, "/products", "")))
	require.Equal(t, http.StatusNoContent, w.Delete(t, "/products/"+id, w.owner.AccessToken).Status)
	var deleted int
	require.NoError(t, w.App.Pool.QueryRow(t.Context(), "SELECT count(*) FROM catalog.products WHERE deleted_at IS NOT NULL").Scan(&deleted))
	assert.Equal(t, 2, deleted)
}

func TestProductBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	with := func(k string, v any) map[string]any { b := productBody("X", 1000); b[k] = v; return b }
	without := func(k string) map[string]any { b := productBody("X", 1000); delete(b, k); return b }
	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"no title":          {without("title"), "title"},
		"blank title":       {with("title", "  "), "title"},
		"long title":        {with("title", strings.Repeat("x", 201)), "title"},
		"no price":          {without("price"), "price"},
		"negative price":    {with("price", -1), "price"},
		"price type":        {with("price", "1000"), "price"},
		"fractional price":  {with("price", 10.5), "price"},
		"negative stock":    {with("stock", -1), "stock"},
		"bad status":        {with("status", "sold"), "status"},
		"bad currency":      {with("currency", "DONG"), "currency"},
		"attributes array":  {with("attributes", []int{1}), "attributes"},
		"unknown category":  {with("category_id", uuid.NewString()), "category_id"},
		"variant no name":   {with("variants", []map[string]any{{"price": 1000}}), "variants[0].name"},
		"variant no price":  {with("variants", []map[string]any{{"name": "A"}}), "variants[0].price"},
		"variant sku twice": {with("variants", []map[string]any{{"name": "A", "sku": "S", "price": 1}, {"name": "B", "sku": "S", "price": 1}}), "variants[1].sku"},
		"variant blank":     {with("variants", []map[string]any{{"name": " ", "price": 1}}), "variants[0].name"},
	} {
		res := w.Post(t, "/shops/"+w.shop+"/products", w.owner.AccessToken, c.body)
		assert.Equal(t, c.field, field(t, res), name)
	}
	assert.Equal(t, http.StatusBadRequest, w.Post(t, "/shops/"+w.shop+"/products", w.owner.AccessToken, `{"title":`).Status)
	assert.Equal(t, http.StatusBadRequest, w.Post(t, "/shops/"+w.shop+"/products", w.owner.AccessToken, `[]`).Status)
	assert.Equal(t, http.StatusBadRequest, w.Post(t, "/shops/"+w.shop+"/products", w.owner.AccessToken, `{"category_id":"nope"}`).Status)
	assert.Equal(t, "shop_id", field(t, w.Post(t, "/products", w.owner.AccessToken, productBody("X", 1000))))
	assert.Equal(t, http.StatusUnauthorized, w.Post(t, "/products", "", productBody("X", 1000)).Status)

	// The same SKU twice in a shop is a conflict.
	first := map[string]any{"title": "A", "price": 1000, "sku": "SKU-1"}
	w.product(t, first)
	res := w.Post(t, "/shops/"+w.shop+"/products", w.owner.AccessToken, first)
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Equal(t, "conflict", res.Code(t))

	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/not-a-uuid", "").Status)
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/"+uuid.NewString(), "").Status)
	assert.Equal(t, http.StatusNotFound, w.Put(t, "/products/"+uuid.NewString(), w.owner.AccessToken, map[string]any{"title": "x"}).Status)
	id := w.product(t, productBody("Y", 1000))["id"].(string)
	assert.Equal(t, "title", field(t, w.Put(t, "/products/"+id, w.owner.AccessToken, map[string]any{"title": ""})))
	assert.Equal(t, "status", field(t, w.Put(t, "/products/"+id, w.owner.AccessToken, map[string]any{"title": "x", "status": "x"})))
	assert.Equal(t, http.StatusBadRequest, w.Put(t, "/products/"+id, w.owner.AccessToken, "{").Status)
}

func TestVariants(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	p := w.product(t, productBody("Tai nghe", 500000))
	id := p["id"].(string)

	v := map[string]any{"sku": "TN-WHITE", "name": "Trắng", "attributes": map[string]string{"color": "white"}, "price": 450000, "stock": 4}
	assert.Equal(t, http.StatusForbidden, w.Post(t, "/products/"+id+"/variants", w.other.AccessToken, v).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Post(t, "/products/"+id+"/variants", "", v).Status)
	res := w.Post(t, "/products/"+id+"/variants", w.owner.AccessToken, v)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	nv := res.Map(t)
	assert.Equal(t, "TN-WHITE", nv["sku"])
	assert.EqualValues(t, 450000, nv["price"])
	assert.EqualValues(t, 4, nv["stock"])

	vs := items(t, w.Get(t, "/products/"+id+"/variants", ""))
	require.Len(t, vs, 2)
	assert.Equal(t, "Default", vs[0]["name"])
	// The product's price is its cheapest variant's now.
	got := w.Get(t, "/products/"+id, "").Map(t)
	assert.EqualValues(t, 450000, got["price"])
	assert.EqualValues(t, 14, got["stock"])

	res = w.Post(t, "/products/"+id+"/variants", w.owner.AccessToken, v)
	assert.Equal(t, http.StatusConflict, res.Status, "the SKU is taken in this shop")
	assert.Equal(t, "name", field(t, w.Post(t, "/products/"+id+"/variants", w.owner.AccessToken, map[string]any{"price": 1})))
	assert.Equal(t, "price", field(t, w.Post(t, "/products/"+id+"/variants", w.owner.AccessToken, map[string]any{"name": "x", "price": 0})))
	assert.Equal(t, "stock", field(t, w.Post(t, "/products/"+id+"/variants", w.owner.AccessToken, map[string]any{"name": "x", "price": 1, "stock": "3"})))
	assert.Equal(t, http.StatusBadRequest, w.Post(t, "/products/"+id+"/variants", w.owner.AccessToken, "{").Status)
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/"+uuid.NewString()+"/variants", "").Status)
	assert.Equal(t, http.StatusNotFound, w.Post(t, "/products/"+uuid.NewString()+"/variants", w.owner.AccessToken, v).Status)
}

func TestShopDeletedHidesProducts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := w.product(t, productBody("Nồi cơm điện", 890000))["id"].(string)
	other := w.openShop(t, w.other, "Còn mở")
	res := w.Post(t, "/shops/"+other+"/products", w.other.AccessToken, productBody("Quạt", 400000))
	require.Equal(t, http.StatusCreated, res.Status)
	require.Len(t, items(t, w.Get(t, "/products", "")), 2)

	require.Equal(t, http.StatusNoContent, w.Delete(t, "/shops/"+w.shop, w.owner.AccessToken).Status)
	apptest.Eventually(t, func() bool { return w.Get(t, "/products/"+id, "").Status == http.StatusNotFound },
		"the closed shop's product disappears")
	assert.Equal(t, []string{"Quạt"}, titles(t, w.Get(t, "/products", "")))
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/"+id, w.owner.AccessToken).Status)
	assert.Equal(t, http.StatusOK, w.Get(t, "/products/"+id, w.admin.AccessToken).Status, "admins still see it")
	// Its owner can no longer add products to the closed shop.
	assert.Equal(t, http.StatusNotFound, w.Post(t, "/shops/"+w.shop+"/products", w.owner.AccessToken, productBody("X", 1)).Status)
}
