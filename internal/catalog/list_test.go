package catalog_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/catalog"
)

func TestListFiltersAndSorts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	phones := w.category(t, "Điện thoại", "")
	ios := w.category(t, "iOS", phones)
	mk := func(title, brand string, price, stock int, cat string) string {
		b := map[string]any{"title": title, "brand": brand, "price": price, "stock": stock}
		if cat != "" {
			b["category_id"] = cat
		}
		return w.product(t, b)["id"].(string)
	}
	iphone := mk("iPhone 15", "Apple", 20_000_000, 3, ios)
	mk("Galaxy S24", "Samsung", 18_000_000, 0, phones)
	mk("Galaxy A15", "samsung", 4_000_000, 8, phones)
	mk("Nồi chiên", "Philips", 2_000_000, 5, "")
	draft := w.product(t, map[string]any{"title": "Draft", "price": 1, "status": "draft"})
	other := w.openShop(t, w.other, "Other")
	res := w.Post(t, "/shops/"+other+"/products", w.other.AccessToken, map[string]any{"title": "Quạt", "price": 500_000, "stock": 1})
	require.Equal(t, http.StatusCreated, res.Status)
	_, err := w.App.Pool.Exec(t.Context(), "UPDATE catalog.products SET rating = 4.8 WHERE id = $1", iphone)
	require.NoError(t, err)

	list := func(q string) []string { return titles(t, w.Get(t, "/products?"+q, "")) }
	assert.Equal(t, []string{"Quạt", "Nồi chiên", "Galaxy A15", "Galaxy S24", "iPhone 15"}, list(""), "newest first; no drafts")
	assert.NotContains(t, list("sort=price_asc"), draft["title"])
	assert.Equal(t, []string{"Quạt", "Nồi chiên", "Galaxy A15", "Galaxy S24", "iPhone 15"}, list("sort=price_asc"))
	assert.Equal(t, []string{"iPhone 15", "Galaxy S24", "Galaxy A15", "Nồi chiên", "Quạt"}, list("sort=price_desc"))
	assert.Equal(t, "iPhone 15", list("sort=rating")[0])
	assert.Equal(t, []string{"Galaxy A15", "Galaxy S24", "iPhone 15"}, list("category="+phones))
	assert.Equal(t, []string{"iPhone 15"}, list("category="+ios))
	assert.Equal(t, []string{"Galaxy A15", "Galaxy S24"}, list("brand=SAMSUNG"))
	assert.Equal(t, []string{"Galaxy A15", "iPhone 15"}, list("category="+phones+"&in_stock=true&sort=price_asc"))
	assert.Equal(t, []string{"Nồi chiên", "Galaxy A15"}, list("min_price=1000000&max_price=5000000&sort=price_asc"))
	assert.Equal(t, []string{"Quạt"}, list("shop="+other))
	assert.Empty(t, list("category="+uuid.NewString()))

	// Keyset pages in every sort meet up with the whole list.
	for _, s := range []string{"newest", "price_asc", "price_desc", "rating"} {
		var paged []string
		cursor := ""
		for range 10 {
			m := w.Get(t, "/products?limit=2&sort="+s+"&cursor="+cursor, "").Map(t)
			for _, it := range m["items"].([]any) {
				paged = append(paged, it.(map[string]any)["title"].(string))
			}
			cursor, _ = m["next_cursor"].(string)
			if cursor == "" {
				break
			}
		}
		assert.Equal(t, list("sort="+s), paged, s)
	}
	first := w.Get(t, "/products?limit=2&sort=price_asc", "").Map(t)["next_cursor"].(string)
	assert.Equal(t, "cursor", field(t, w.Get(t, "/products?sort=rating&cursor="+first, "")))

	for q, f := range map[string]string{
		"sort=cheap": "sort", "min_price=-1": "min_price", "max_price=x": "max_price", "category=x": "category",
		"shop=1": "shop", "in_stock=maybe": "in_stock", "min_price=5&max_price=4": "min_price", "limit=101": "limit",
		"cursor=!!": "cursor",
	} {
		assert.Equal(t, f, field(t, w.Get(t, "/products?"+q, "")), q)
	}
}

// TestListCursorOfAnotherSort: a cursor pages only the sort it was made for. One of another
// sort, or one naming the sort but carrying another sort's key (which reached the query's cast
// and answered 500), is a 422 naming cursor.
func TestListCursorOfAnotherSort(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for i := range 3 {
		w.product(t, productBody(fmt.Sprintf("P%d", i), 1000+i))
	}
	sorts := []string{"newest", "price_asc", "price_desc", "rating"}
	cursors := map[string]string{}
	for _, s := range sorts {
		cursors[s] = w.Get(t, "/products?limit=1&sort="+s, "").Map(t)["next_cursor"].(string)
		require.NotEmpty(t, cursors[s], s)
	}
	for _, made := range sorts {
		for _, sent := range sorts {
			res := w.Get(t, "/products?limit=1&sort="+sent+"&cursor="+cursors[made], "")
			if made == sent {
				assert.Len(t, items(t, res), 1, made)
				continue
			}
			assert.Equal(t, "cursor", field(t, res), "made for %s, sent with %s", made, sent)
		}
	}
	id := uuid.NewString()
	for _, raw := range []string{
		`{"s":"newest","p":5,"i":"` + id + `"}`,
		`{"s":"price_asc","t":"2020-01-01T00:00:00Z","i":"` + id + `"}`,
		`{"s":"price_desc","r":4.5,"i":"` + id + `"}`,
		`{"s":"rating","p":5,"i":"` + id + `"}`,
		`{"s":"rating","p":5,"r":4.5,"i":"` + id + `"}`,
		`{"s":"newest","i":"` + id + `"}`,
	} {
		var c map[string]any
		require.NoError(t, json.Unmarshal([]byte(raw), &c))
		res := w.Get(t, "/products?sort="+c["s"].(string)+"&cursor="+base64.RawURLEncoding.EncodeToString([]byte(raw)), "")
		assert.Equal(t, "cursor", field(t, res), raw)
	}
}

// TestListUsesIndexes checks plans, not clocks: on a seeded catalog every shape of the list
// query reads an index in order and never scans the products table.
func TestListUsesIndexes(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := t.Context()
	shops := make([]uuid.UUID, 10)
	for i := range shops {
		shops[i] = uuid.New()
	}
	added, err := env.App.Catalog.Seed(ctx, uuid.New(), shops, 20000)
	require.NoError(t, err)
	require.Equal(t, 20000, added)
	var root uuid.UUID
	require.NoError(t, env.App.Pool.QueryRow(ctx, "SELECT id FROM catalog.categories WHERE parent_id IS NULL LIMIT 1").Scan(&root))
	lo, hi := int64(50_000), int64(100_000)

	for name, q := range map[string]catalog.ListQuery{
		"newest":                {},
		"price range":           {Sort: catalog.SortPriceAsc, MinPrice: &lo, MaxPrice: &hi},
		"price desc":            {Sort: catalog.SortPriceDesc},
		"rating":                {Sort: catalog.SortRating},
		"category subtree":      {CategoryID: &root},
		"category by price":     {CategoryID: &root, Sort: catalog.SortPriceDesc, InStock: true},
		"category by rating":    {CategoryID: &root, Sort: catalog.SortRating},
		"shop":                  {ShopID: &shops[3]},
		"shop by price":         {ShopID: &shops[3], Sort: catalog.SortPriceAsc},
		"brand":                 {Brand: "Sony"},
		"in stock under budget": {InStock: true, MaxPrice: &hi},
	} {
		sql, args := catalog.ListSQL(q, 21)
		rows, err := env.App.Pool.Query(ctx, "EXPLAIN "+sql, args...)
		require.NoError(t, err, name)
		var plan []string
		for rows.Next() {
			var line string
			require.NoError(t, rows.Scan(&line))
			plan = append(plan, line)
		}
		require.NoError(t, rows.Err(), name)
		text := strings.Join(plan, "\n")
		assert.Contains(t, text, "Index Scan", "%s:\n%s", name, text)
		assert.NotContains(t, text, "Seq Scan on products", "%s:\n%s", name, text)
		if name == "category subtree" {
			t.Logf("%s: %s\n%s", name, sql, text)
		}
	}
	// Seeding again tops up to the number asked for instead of adding as many again.
	added, err = env.App.Catalog.Seed(ctx, uuid.New(), shops, 20000)
	require.NoError(t, err)
	assert.Zero(t, added)
}
