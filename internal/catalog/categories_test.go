package catalog_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

func TestCategoryTree(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	root := w.category(t, "Điện tử", "")
	phones := w.category(t, "Điện thoại", root)
	res := w.Post(t, "/products/categories/"+phones+"/subcategories", w.admin.AccessToken, map[string]any{"name": "Android"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	android := res.Map(t)
	assert.Equal(t, phones, android["parent_id"])
	path := android["path"].([]any)
	require.Len(t, path, 3)
	assert.Equal(t, "Điện tử", path[0].(map[string]any)["name"])
	laptops := w.category(t, "Laptop", root)
	fashion := w.category(t, "Thời trang", "")

	// Only admins manage the tree; everyone reads it.
	body := map[string]any{"name": "X"}
	assert.Equal(t, http.StatusForbidden, w.Post(t, "/products/categories", w.owner.AccessToken, body).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Post(t, "/products/categories", "", body).Status)
	assert.Equal(t, http.StatusForbidden, w.Post(t, "/products/categories/"+root+"/subcategories", w.owner.AccessToken, body).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Post(t, "/products/categories/"+root+"/subcategories", "", body).Status)
	assert.Equal(t, http.StatusForbidden, w.Put(t, "/products/categories/"+root, w.owner.AccessToken, body).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Put(t, "/products/categories/"+root, "", body).Status)
	assert.Equal(t, http.StatusForbidden, w.Delete(t, "/products/categories/"+fashion, w.owner.AccessToken).Status)
	assert.Equal(t, http.StatusUnauthorized, w.Delete(t, "/products/categories/"+fashion, "").Status)

	names := func(res *apptest.Response) []string {
		var out []string
		for _, c := range res.Map(t)["items"].([]any) {
			out = append(out, c.(map[string]any)["name"].(string))
		}
		return out
	}
	// By name, in the database's collation.
	assert.ElementsMatch(t, []string{"Thời trang", "Điện tử"}, names(w.Get(t, "/products/categories", "")))
	all := names(w.Get(t, "/products/categories/"+root+"/subcategories", ""))
	assert.ElementsMatch(t, []string{"Laptop", "Điện thoại"}, all)
	first := w.Get(t, "/products/categories/"+root+"/subcategories?limit=1", "")
	next := w.Get(t, "/products/categories/"+root+"/subcategories?limit=1&cursor="+first.Map(t)["next_cursor"].(string), "")
	assert.Equal(t, all, append(names(first), names(next)...))
	res = w.Get(t, "/products/categories/"+android["id"].(string), "")
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "Android", res.Map(t)["name"])
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/categories/"+uuid.NewString(), "").Status)
	assert.Equal(t, "limit", field(t, w.Get(t, "/products/categories?limit=0", "")))
	assert.Equal(t, "cursor", field(t, w.Get(t, "/products/categories/"+root+"/subcategories?cursor=x", "")))
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/categories/nope", "").Status)
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/products/categories/"+uuid.NewString()+"/subcategories", "").Status)
	assert.Equal(t, http.StatusNotFound, w.Post(t, "/products/categories/"+uuid.NewString()+"/subcategories", w.admin.AccessToken, body).Status)

	// Bad input, duplicates among siblings, and cycles.
	assert.Equal(t, "name", field(t, w.Post(t, "/products/categories", w.admin.AccessToken, map[string]any{"name": " "})))
	assert.Equal(t, "name", field(t, w.Post(t, "/products/categories", w.admin.AccessToken, map[string]any{"name": 3})))
	assert.Equal(t, "parent_id", field(t, w.Post(t, "/products/categories", w.admin.AccessToken, map[string]any{"name": "Y", "parent_id": uuid.NewString()})))
	assert.Equal(t, http.StatusBadRequest, w.Post(t, "/products/categories", w.admin.AccessToken, "{").Status)
	res = w.Post(t, "/products/categories/"+root+"/subcategories", w.admin.AccessToken, map[string]any{"name": "LAPTOP"})
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Equal(t, "conflict", res.Code(t))
	assert.Equal(t, "parent_id", field(t, w.Put(t, "/products/categories/"+root, w.admin.AccessToken, map[string]any{"name": "Điện tử", "parent_id": android["id"]})))
	assert.Equal(t, "parent_id", field(t, w.Put(t, "/products/categories/"+root, w.admin.AccessToken, map[string]any{"name": "Điện tử", "parent_id": root})))
	assert.Equal(t, http.StatusNotFound, w.Put(t, "/products/categories/"+uuid.NewString(), w.admin.AccessToken, body).Status)

	// Move Laptop under Fashion (and back), rename it.
	res = w.Put(t, "/products/categories/"+laptops, w.admin.AccessToken, map[string]any{"name": "Máy tính", "parent_id": fashion})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, fashion, res.Map(t)["parent_id"])
	res = w.Put(t, "/products/categories/"+laptops, w.admin.AccessToken, map[string]any{"name": "Máy tính", "parent_id": root, "description": "PC"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "PC", res.Map(t)["description"])

	// Listing a category lists its whole subtree.
	inAndroid := w.product(t, map[string]any{"title": "Pixel", "price": 15_000_000, "category_id": android["id"]})
	w.product(t, map[string]any{"title": "ThinkPad", "price": 25_000_000, "category_id": laptops})
	w.product(t, map[string]any{"title": "Áo dài", "price": 900_000, "category_id": fashion})
	assert.ElementsMatch(t, []string{"Pixel", "ThinkPad"}, titles(t, w.Get(t, "/products?category="+root, "")))
	assert.Equal(t, []string{"Pixel"}, titles(t, w.Get(t, "/products?category="+phones, "")))
	assert.Equal(t, []string{"Áo dài"}, titles(t, w.Get(t, "/products?category="+fashion, "")))

	// A shop's categories, with counts.
	shopCats := items(t, w.Get(t, "/shops/"+w.shop+"/products/categories", ""))
	require.Len(t, shopCats, 3)
	assert.EqualValues(t, 1, shopCats[0]["product_count"])
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/shops/"+uuid.NewString()+"/products/categories", "").Status)
	assert.Equal(t, http.StatusNotFound, w.Get(t, "/shops/x/products/categories", "").Status)

	// A category with subcategories or products stays.
	res = w.Delete(t, "/products/categories/"+root, w.admin.AccessToken)
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Contains(t, res.Map(t)["detail"], "subcategories")
	res = w.Delete(t, "/products/categories/"+android["id"].(string), w.admin.AccessToken)
	assert.Equal(t, http.StatusConflict, res.Status)
	assert.Contains(t, res.Map(t)["detail"], "products")
	require.Equal(t, http.StatusOK, w.Put(t, "/products/"+inAndroid["id"].(string)+"/catalog", w.owner.AccessToken, map[string]any{"category_id": phones}).Status)
	assert.Equal(t, http.StatusNoContent, w.Delete(t, "/products/categories/"+android["id"].(string), w.admin.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, w.Delete(t, "/products/categories/"+android["id"].(string), w.admin.AccessToken).Status)
}
