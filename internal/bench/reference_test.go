package bench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/bench"
)

// answer is one HTTP answer, whole.
type answer struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, url, token string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return answer{status: res.StatusCode, header: res.Header, body: string(body)}
}

// TestReferenceAnswersAsGoShop is what keeps the bench's reference honest: for every request the
// bench sends it (and the errors around them), it answers GoShop's status, headers and body,
// byte for byte, but for the date and the request id, which differ between any two answers.
func TestReferenceAnswersAsGoShop(t *testing.T) {
	t.Parallel()
	const secret, issuer = "reference-test-secret-0123456789abcdef", "goshop-reference-test"
	env := apptest.New(t, apptest.WithEnv("JWT_SECRET", secret), apptest.WithEnv("JWT_ISSUER", issuer))
	ref := httptest.NewServer(bench.NewReference(env.App.Pool, secret, issuer))
	t.Cleanup(ref.Close)

	seller := env.Register(t, "Seller")
	admin := env.Admin(t, env.Register(t, "Admin"))
	res := env.Post(t, "/products/categories", admin.AccessToken, map[string]any{"name": "Root"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	root := res.Map(t)["id"].(string)
	res = env.Post(t, "/products/categories/"+root+"/subcategories", admin.AccessToken, map[string]any{"name": "Leaf"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	leaf := res.Map(t)["id"].(string)
	shop := env.CreateShop(t, seller, "Reference shop")
	create := func(body map[string]any) string {
		t.Helper()
		res := env.Post(t, "/shops/"+shop+"/products", seller.AccessToken, body)
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		return res.Map(t)["id"].(string)
	}
	// Variants, attributes, a category, a description: every field has something to show.
	onSale := create(map[string]any{"title": "Áo thun", "description": "Cotton", "brand": "Bench", "model": "T1",
		"category_id": root, "attributes": map[string]any{"material": "cotton", "sizes": []string{"S", "M"}}, "weight_grams": 250,
		"variants": []map[string]any{
			{"name": "Đỏ S", "sku": "RED-S", "price": 99_000, "stock": 4, "attributes": map[string]string{"color": "red"}},
			{"name": "Xanh M", "sku": "BLUE-M", "price": 89_000, "stock": 0},
		}})
	res = env.Post(t, "/products/"+onSale+"/discount", seller.AccessToken, map[string]any{"percent": 15,
		"ends_at": time.Now().Add(time.Hour).UTC()})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	later := create(map[string]any{"title": "Later sale", "category_id": leaf, "price": 50_000, "stock": 3})
	res = env.Post(t, "/products/"+later+"/discount", seller.AccessToken, map[string]any{"sale_price": 45_000,
		"starts_at": time.Now().Add(time.Hour).UTC(), "ends_at": time.Now().Add(2 * time.Hour).UTC()})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	// More than a page in the subtree, so that the listing has a next cursor.
	for i := range 20 {
		create(map[string]any{"title": fmt.Sprintf("Filler %02d", i), "category_id": leaf, "price": 1000 + i, "stock": i})
	}
	hidden := create(map[string]any{"title": "Draft", "category_id": leaf, "price": 1000, "stock": 1, "status": "draft"})

	for _, c := range []struct{ path, token string }{
		{"/api/v1/users/profile", seller.AccessToken},
		{"/api/v1/users/profile", admin.AccessToken},
		{"/api/v1/users/profile", ""},
		{"/api/v1/users/profile", "not-a-token"},
		{"/api/v1/users/profile", seller.AccessToken[:len(seller.AccessToken)-2] + "xx"},
		{"/api/v1/products/" + onSale, ""},
		{"/api/v1/products/" + later, ""},
		{"/api/v1/products/" + hidden, ""},
		{"/api/v1/products/" + uuid.NewString(), ""},
		{"/api/v1/products/not-an-id", ""},
		{"/api/v1/products?category=" + root, ""},
		{"/api/v1/products?category=" + leaf, ""},
	} {
		t.Run(c.path, func(t *testing.T) {
			want := get(t, env.Server.URL+c.path, c.token)
			got := get(t, ref.URL+c.path, c.token)
			assert.Equal(t, want.status, got.status)
			assert.Equal(t, want.body, got.body)
			for _, h := range []http.Header{want.header, got.header} {
				assert.NotEmpty(t, h.Get("X-Request-Id"))
				h.Del("X-Request-Id")
				h.Del("Date")
			}
			assert.Equal(t, want.header, got.header)
		})
	}
	// The cases above cover what they claim to.
	list := get(t, env.Server.URL+"/api/v1/products?category="+root, "")
	assert.Contains(t, list.body, `"next_cursor":`)
	assert.Contains(t, get(t, env.Server.URL+"/api/v1/products/"+onSale, "").body, `"active":true`)
	assert.Contains(t, get(t, env.Server.URL+"/api/v1/products/"+later, "").body, `"active":false`)
}

// TestCheckoutLimitWritesWhatCheckoutWrites checks the checkout limit row's function against a
// real checkout: one call writes as many rows to each table as a cart refill and a checkout
// through GoShop (River's job to its copy of river_job, with events as large), and takes the
// stock.
func TestCheckoutLimitWritesWhatCheckoutWrites(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := context.Background()
	seller := env.Register(t, "Seller")
	var shops [2][]apptest.Product
	var picks [2][][2]string
	for i := range shops {
		shop := env.CreateShop(t, seller, fmt.Sprintf("Limit shop %d", i))
		for j := range 2 {
			p := env.CreateProduct(t, seller, shop, fmt.Sprintf("Item %d-%d", i, j), 125_000, 100)
			shops[i] = append(shops[i], p)
			picks[i] = append(picks[i], [2]string{p.ID, p.VariantID})
		}
	}
	buyer := env.Register(t, "Buyer")
	address := env.CreateAddress(t, buyer)

	tables := []string{"orders.orders", "orders.items", "orders.status_history", "catalog.stock_movements", "cart.items", "cart.coupons",
		"search.cart_adds", "river_job"}
	counts := func() map[string]int {
		out := map[string]int{}
		for _, tb := range tables {
			var n int
			require.NoError(t, env.App.Pool.QueryRow(ctx, "SELECT count(*) FROM "+tb).Scan(&n))
			out[tb] = n
		}
		return out
	}
	stock := func(variant string) int {
		var n int
		require.NoError(t, env.App.Pool.QueryRow(ctx, "SELECT stock FROM catalog.variants WHERE id = $1", variant).Scan(&n))
		return n
	}

	env.Quiet(t) // the checkout's job stays in river_job, to be compared with the function's
	diff := func(before, after map[string]int) []string {
		var out []string
		for _, tb := range tables {
			out = append(out, fmt.Sprintf("%s +%d", tb, after[tb]-before[tb]))
		}
		sort.Strings(out)
		return out
	}
	// topics lists the events a job carries, each with its subscribers.
	topics := func(table string) []string {
		var args []byte
		require.NoError(t, env.App.Pool.QueryRow(ctx, "SELECT args FROM "+table+" WHERE kind = 'event_batch' ORDER BY id DESC LIMIT 1").Scan(&args))
		var job struct {
			Events []struct {
				Envelope struct {
					Topic string `json:"topic"`
				} `json:"envelope"`
				Subscribers []string `json:"subscribers"`
			} `json:"events"`
		}
		require.NoError(t, json.Unmarshal(args, &job))
		var out []string
		for _, e := range job.Events {
			out = append(out, e.Envelope.Topic+" "+strings.Join(e.Subscribers, ","))
		}
		sort.Strings(out)
		return out
	}

	before := counts()
	for _, p := range []apptest.Product{shops[0][0], shops[1][0]} {
		res := env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	}
	res := env.Post(t, "/orders", buyer.AccessToken, map[string]any{"address_id": address, "payment_method": "cod"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	goshop := diff(before, counts())
	goshopEvents := topics("river_job")

	require.NoError(t, bench.InstallLimitFunction(ctx, env.App.Pool, []string{buyer.ID}, []string{address}, picks))
	tables[len(tables)-1] = "bench.river_job" // where the function's job goes, counted as river_job's
	before = counts()
	var orders int
	require.NoError(t, env.App.Pool.QueryRow(ctx, "SELECT bench.checkout(0, 1, 1)").Scan(&orders))
	assert.Equal(t, 2, orders)
	limit := diff(before, counts())
	for i := range limit {
		limit[i] = strings.Replace(limit[i], "bench.river_job", "river_job", 1)
	}
	sort.Strings(limit)
	assert.Equal(t, goshop, limit)
	assert.Equal(t, goshopEvents, topics("bench.river_job"), "the function's job carries the events GoShop's does")
	assert.Equal(t, 99, stock(shops[0][1].VariantID))
	assert.Equal(t, 99, stock(shops[1][1].VariantID))
	assert.Equal(t, 99, stock(shops[0][0].VariantID), "GoShop's checkout")
	var lines int
	require.NoError(t, env.App.Pool.QueryRow(ctx, "SELECT count(*) FROM orders.items i JOIN orders.orders o ON o.id = i.order_id WHERE o.buyer_id = $1",
		buyer.ID).Scan(&lines))
	assert.Equal(t, 4, lines)
}
