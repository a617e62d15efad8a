package catalog_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/auth"
)

// world is a running app with a shop owner, another user, an admin and the owner's shop.
type world struct {
	*apptest.Env
	owner, other, admin apptest.User
	shop                string
}

func newWorld(t *testing.T, opts ...apptest.Option) *world {
	t.Helper()
	env := apptest.New(t, opts...)
	w := &world{Env: env, owner: env.Register(t, "Owner"), other: env.Register(t, "Other")}
	w.admin = env.Admin(t, env.Register(t, "Admin"))
	w.shop = w.openShop(t, w.owner, "Điện Máy Xanh")
	return w
}

func (w *world) openShop(t *testing.T, u apptest.User, name string) string {
	t.Helper()
	res := w.Post(t, "/shops", u.AccessToken, map[string]any{
		"name": name, "address": map[string]any{"line1": "1 Lê Duẩn", "province": "Hồ Chí Minh"},
		"lat": 10.7769, "lng": 106.7009,
	})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	return res.Map(t)["id"].(string)
}

func productBody(title string, price int) map[string]any {
	return map[string]any{"title": title, "description": "Hàng chính hãng", "brand": "Samsung", "model": "A55",
		"price": price, "stock": 10, "attributes": map[string]any{"warranty_months": 12}, "weight_grams": 350}
}

// product creates a product in the owner's shop and returns it.
func (w *world) product(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	res := w.Post(t, "/shops/"+w.shop+"/products", w.owner.AccessToken, body)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	return res.Map(t)
}

// category creates a category as the admin and returns its ID.
func (w *world) category(t *testing.T, name, parent string) string {
	t.Helper()
	body := map[string]any{"name": name}
	if parent != "" {
		body["parent_id"] = parent
	}
	res := w.Post(t, "/products/categories", w.admin.AccessToken, body)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	return res.Map(t)["id"].(string)
}

func principalOf(u apptest.User) auth.Principal {
	return auth.Principal{UserID: uuid.MustParse(u.ID), Roles: []string{auth.RoleUser}}
}

func variantID(p map[string]any, i int) string {
	return p["variants"].([]any)[i].(map[string]any)["id"].(string)
}

func items(t *testing.T, res *apptest.Response) []map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var out []map[string]any
	for _, it := range res.Map(t)["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func titles(t *testing.T, res *apptest.Response) []string {
	t.Helper()
	var out []string
	for _, it := range items(t, res) {
		out = append(out, it["title"].(string))
	}
	return out
}

// field returns the first invalid field a 422 answer names.
func field(t *testing.T, res *apptest.Response) string {
	t.Helper()
	require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	errs, _ := res.Map(t)["errors"].([]any)
	require.NotEmpty(t, errs, "%s", res.Body)
	return errs[0].(map[string]any)["field"].(string)
}

func path(format string, args ...any) string { return fmt.Sprintf(format, args...) }
