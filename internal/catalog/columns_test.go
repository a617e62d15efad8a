package catalog_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/catalog/internal/store"
)

// TestEditsTouchOnlyWhatTheyName guards against the trap of an edit that rebuilds a whole
// product row from a copy: each edit route must change its own columns and keep every other
// one, including a column the code has never heard of, added here to the test's own database;
// and the product list, which builds its SQL at run time, must keep working beside it.
func TestEditsTouchOnlyWhatTheyName(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cat := w.category(t, "Điện thoại", "")
	body := productBody("Galaxy A55", 9_990_000)
	body["category_id"], body["low_stock_threshold"] = cat, 3
	p := w.product(t, body)
	id := p["id"].(string)
	later := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	res := w.Post(t, "/products/"+id+"/discount", w.owner.AccessToken, map[string]any{"percent": 10, "ends_at": later})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

	ctx := t.Context()
	_, err := w.App.Pool.Exec(ctx, "ALTER TABLE catalog.products ADD COLUMN added_later text NOT NULL DEFAULT 'default'")
	require.NoError(t, err)
	_, err = w.App.Pool.Exec(ctx, "UPDATE catalog.products SET added_later = 'set before the edits' WHERE id = $1", id)
	require.NoError(t, err)
	row := func() map[string]any {
		var raw []byte
		require.NoError(t, w.App.Pool.QueryRow(ctx, "SELECT to_jsonb(p) - 'updated_at' FROM catalog.products p WHERE id = $1", id).Scan(&raw))
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		return m
	}

	full := productBody("Galaxy A55 5G", 9_990_000) // the same details but the title
	full["category_id"] = cat
	before := row()
	for _, e := range []struct {
		path    string
		body    map[string]any
		changes []string
	}{
		{"/brand", map[string]any{"brand": "Samsung VN"}, []string{"brand"}},
		{"/model", map[string]any{"model": "SM-A556"}, []string{"model"}},
		{"/catalog", map[string]any{"category_id": nil}, []string{"category_id"}},
		{"", full, []string{"title", "brand", "model", "category_id"}},
	} {
		res := w.Put(t, "/products/"+id+e.path, w.owner.AccessToken, e.body)
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", e.path, res.Body)
		after := row()
		for col, was := range before {
			if slices.Contains(e.changes, col) {
				continue
			}
			assert.Equal(t, was, after[col], "PUT /products/{id}%s changed %s", e.path, col)
		}
		for _, col := range e.changes {
			assert.NotEqual(t, before[col], after[col], "PUT /products/{id}%s left %s", e.path, col)
		}
		before = after
	}
	assert.Equal(t, "set before the edits", before["added_later"])
	assert.Equal(t, "Galaxy A55 5G", before["title"])
	assert.Equal(t, "Samsung", before["brand"], "the full update set it back")
	assert.EqualValues(t, 3, before["low_stock_threshold"], "an omitted threshold stays")
	assert.NotNil(t, before["discount_id"], "details do not touch the discount")

	// The list reads its columns by name: the column added beside them changes nothing.
	for _, url := range []string{"/products?brand=Samsung", "/products?category=" + cat, "/products?sort=price_asc",
		"/products?category=" + cat + "&sort=rating", "/shops/" + w.shop + "/products"} {
		assert.Contains(t, titles(t, w.Get(t, url, w.owner.AccessToken)), "Galaxy A55 5G", url)
	}
}

// TestUpdateProductIsPartial keeps UpdateProduct a partial update: a parameter that is not
// nullable would be written by every edit, so an edit that does not name it would reset it.
func TestUpdateProductIsPartial(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[store.UpdateProductParams]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "ID" {
			continue
		}
		k := f.Type.Kind()
		assert.True(t, k == reflect.Pointer || k == reflect.Slice,
			"UpdateProduct sets %s from a %s: make it sqlc.narg and COALESCE, or give it an update of its own", f.Name, f.Type)
	}
}

// TestEditsNeverHoldATransactionForASecondConnection runs concurrent edits on a pool of three
// connections (River keeps one). An edit that asked the shop context who owns the shop from
// inside its transaction would hold one connection while waiting for another: with every
// connection so held, the edits would wait on each other until their requests timed out.
func TestEditsNeverHoldATransactionForASecondConnection(t *testing.T) {
	t.Parallel()
	w := newWorld(t, apptest.WithEnv("DB_MAX_CONNS", "3"))
	const n = 8
	ids := make([]string, n)
	for i := range ids {
		ids[i] = w.product(t, productBody(fmt.Sprintf("Phone %d", i), 1_000_000))["id"].(string)
	}
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i, id := range ids {
		wg.Go(func() {
			statuses[i] = w.Put(t, "/products/"+id+"/brand", w.owner.AccessToken, map[string]any{"brand": "Nokia"}).Status
		})
	}
	wg.Wait()
	for i, s := range statuses {
		assert.Equal(t, http.StatusOK, s, "edit %d", i)
	}
}
