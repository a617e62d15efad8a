package catalog_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// TestProductPageRoundTrips: the public product page reads the product, its variants and its
// media in one round trip to PostgreSQL once the connections' statement caches are warm, as a
// running server's are; so does a missing or hidden product's 404, which also leaves the next
// page at one.
func TestProductPageRoundTrips(t *testing.T) {
	t.Parallel()
	var rt pgdb.RoundTrips
	w := newWorld(t, apptest.WithRoundTrips(&rt))
	id := w.product(t, productBody("Galaxy A55", 9_990_000))["id"].(string)
	draft := w.product(t, productBody("Galaxy S25", 19_990_000))["id"].(string)
	res := w.Put(t, "/products/"+draft, w.owner.AccessToken, map[string]any{"title": "Galaxy S25", "status": "draft"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	// With the workers stopped, requests one after another take the same idle connections, each
	// of which prepares the statements on its first page.
	w.Quiet(t)
	for range 5 {
		require.Equal(t, http.StatusOK, w.Get(t, "/products/"+id, "").Status)
	}

	count := func(path string, status int) int64 {
		before := rt.N()
		res := w.Get(t, path, "")
		n := rt.N() - before
		require.Equal(t, status, res.Status, "%s", res.Body)
		return n
	}
	assert.EqualValues(t, 1, count("/products/"+id, http.StatusOK), "a product page")
	assert.EqualValues(t, 1, count("/products/"+uuid.NewString(), http.StatusNotFound), "a missing product")
	assert.EqualValues(t, 1, count("/products/"+draft, http.StatusNotFound), "a hidden product")
	assert.EqualValues(t, 1, count("/products/"+id, http.StatusOK), "a product page after a 404")
}
