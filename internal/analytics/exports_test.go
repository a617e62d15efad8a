package analytics_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// TestLargeReportsAreExported runs reports past ANALYTICS_EXPORT_INLINE_ROWS (2 here) through
// HTTP: the sales report answers 202 with an export, whose job writes the whole CSV; only the
// seller who asked and admins see and download it, the seller is told in-app when it is ready,
// a second run of the job changes nothing, one export at a time per user (429 past it), and an
// expired export is gone for everyone and swept away.
func TestLargeReportsAreExported(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.WithEnv("ANALYTICS_EXPORT_INLINE_ROWS", "2"), apptest.WithEnv("ANALYTICS_EXPORTS_PER_USER", "1"))
	seller, other := env.Register(t, "Seller"), env.Register(t, "Other seller")
	admin := env.Admin(t, env.Register(t, "Admin"))
	buyer := env.Register(t, "Buyer")
	shopID := env.CreateShop(t, seller, "Gốm Bát Tràng")
	otherShop := env.CreateShop(t, other, "Lụa Hà Đông")
	p := env.CreateProduct(t, seller, shopID, "Bình gốm men lam", 250_000, 1000)
	addr := env.CreateAddress(t, buyer)
	base := "/shops/" + shopID + "/reports/"

	var orders []string
	for range 2 {
		orders = append(orders, env.CheckoutCOD(t, buyer, addr, p.ID, 1))
	}
	placed := func(n float64) {
		apptest.Eventually(t, func() bool {
			res := env.Get(t, "/shops/"+shopID+"/analytics/orders", seller.AccessToken)
			return res.Status == http.StatusOK && res.Map(t)["current"].(map[string]any)["totals"].(map[string]any)["placed"] == n
		}, "the orders are counted")
	}
	placed(2)
	res := env.Get(t, base+"sales?format=csv", seller.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "as many rows as the threshold answer at once: %s", res.Body)

	orders = append(orders, env.CheckoutCOD(t, buyer, addr, p.ID, 2))
	placed(3)

	// Hold the files' table, so that the job cannot finish while the limit is tried.
	tx, err := env.App.Pool.Begin(context.Background())
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.Background()) }()
	_, err = tx.Exec(context.Background(), "LOCK TABLE analytics.export_files IN EXCLUSIVE MODE")
	require.NoError(t, err)

	res = env.Get(t, base+"sales?format=csv", seller.AccessToken)
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	exp := res.Map(t)
	id := exp["id"].(string)
	status := "/shops/" + shopID + "/reports/exports/" + id
	assert.Equal(t, "/api/v1"+status, res.Header.Get("Location"))
	assert.Equal(t, "pending", exp["status"])
	assert.Equal(t, "csv", exp["format"])
	assert.NotContains(t, exp, "download_url", "no link before the file is written")

	t.Run("the same request while it is written answers the same export", func(t *testing.T) {
		res := env.Get(t, base+"sales?format=csv", seller.AccessToken)
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
		assert.Equal(t, id, res.Map(t)["id"])
	})
	t.Run("one export in progress per user", func(t *testing.T) {
		res := env.Get(t, base+"sales?format=xlsx", seller.AccessToken)
		require.Equal(t, http.StatusTooManyRequests, res.Status, "%s", res.Body)
		assert.Equal(t, "rate_limited", res.Code(t))
		assert.NotEmpty(t, res.Header.Get("Retry-After"))
		res = env.Post(t, base+"exports", seller.AccessToken, map[string]any{"report": "performance", "format": "json"})
		require.Equal(t, http.StatusTooManyRequests, res.Status, "%s", res.Body)
	})
	t.Run("the file is not there before it is whole", func(t *testing.T) {
		res := env.Get(t, status+"/file", seller.AccessToken)
		require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
		assert.Equal(t, "pending", env.Get(t, status, seller.AccessToken).Map(t)["status"])
	})
	require.NoError(t, tx.Rollback(context.Background()))

	var ready map[string]any
	apptest.Eventually(t, func() bool {
		ready = env.Get(t, status, seller.AccessToken).Map(t)
		return ready["status"] == "ready"
	}, "the export is written")
	assert.Equal(t, float64(3), ready["rows"])
	assert.Equal(t, "/api/v1"+status+"/file", ready["download_url"])

	var file []byte
	t.Run("the CSV holds every order", func(t *testing.T) {
		res := env.Get(t, status+"/file", seller.AccessToken)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Contains(t, res.Header.Get("Content-Type"), "text/csv")
		assert.Contains(t, res.Header.Get("Content-Disposition"), "sales-")
		file = res.Body
		require.True(t, bytes.HasPrefix(file, []byte("\ufeff")), "the file starts with a byte-order mark")
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(file, []byte("\ufeff")))).ReadAll()
		require.NoError(t, err)
		require.Len(t, rows, 4, "a header and three orders")
		assert.Equal(t, []string{"order_id", "placed_at", "status", "payment_method", "sale_day", "units", "subtotal", "discount",
			"shipping_fee", "total", "refunded", "commission", "currency"}, rows[0])
		var got []string
		for _, r := range rows[1:] {
			got = append(got, r[0])
			assert.Equal(t, "pending", r[2])
			assert.Equal(t, "cod", r[3])
			assert.Equal(t, "VND", r[12])
		}
		assert.ElementsMatch(t, orders, got)
		i := slices.Index(got, orders[2])
		assert.Equal(t, "2", rows[i+1][5], "the last order's units")
		assert.Equal(t, "500000", rows[i+1][6], "the last order's subtotal")
	})
	t.Run("who may see it", func(t *testing.T) {
		for _, path := range []string{status, status + "/file"} {
			assert.Equal(t, http.StatusNotFound, env.Get(t, path, other.AccessToken).Status, "another seller: %s", path)
			assert.Equal(t, http.StatusNotFound, env.Get(t, path, buyer.AccessToken).Status, "a buyer: %s", path)
			assert.Equal(t, http.StatusUnauthorized, env.Get(t, path, "").Status, "no token: %s", path)
			assert.Equal(t, http.StatusOK, env.Get(t, path, admin.AccessToken).Status, "an admin: %s", path)
		}
		wrongShop := "/shops/" + otherShop + "/reports/exports/" + id
		assert.Equal(t, http.StatusNotFound, env.Get(t, wrongShop, other.AccessToken).Status, "under another shop")
		res := env.Post(t, base+"exports", other.AccessToken, map[string]any{"report": "sales", "format": "csv"})
		assert.Equal(t, http.StatusForbidden, res.Status, "another seller may not export this shop: %s", res.Body)
	})
	t.Run("the seller is told it is ready", func(t *testing.T) {
		apptest.Eventually(t, func() bool {
			for _, n := range notifications(t, env, seller) {
				if n["kind"] == "export_ready" && n["data"].(map[string]any)["export_id"] == id {
					assert.Equal(t, "/api/v1"+status+"/file", n["data"].(map[string]any)["url"])
					return true
				}
			}
			return false
		}, "an export_ready notification")
	})
	t.Run("a second run of the job changes nothing", func(t *testing.T) {
		require.NoError(t, env.App.Analytics.WriteExport(context.Background(), uuid.MustParse(id)))
		res := env.Get(t, status+"/file", seller.AccessToken)
		require.Equal(t, http.StatusOK, res.Status)
		assert.Equal(t, file, res.Body)
		var n int
		for _, x := range notifications(t, env, seller) {
			if x["kind"] == "export_ready" {
				n++
			}
		}
		assert.Equal(t, 1, n, "one notification")
	})
	t.Run("any report may be exported on demand", func(t *testing.T) {
		res := env.Post(t, base+"exports", seller.AccessToken, map[string]any{"report": "performance", "format": "json"})
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
		path := "/shops/" + shopID + "/reports/exports/" + res.Map(t)["id"].(string)
		apptest.Eventually(t, func() bool { return env.Get(t, path, seller.AccessToken).Map(t)["status"] == "ready" }, "written")
		res = env.Get(t, path+"/file", seller.AccessToken)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Contains(t, res.Header.Get("Content-Type"), "application/json")
		assert.Contains(t, res.Map(t), "current")
		res = env.Post(t, base+"exports", seller.AccessToken, map[string]any{"report": "stock", "format": "csv"})
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
	})
	t.Run("a run cut short leaves nothing half written", func(t *testing.T) {
		ctx := context.Background()
		hold, err := env.App.Pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = hold.Rollback(ctx) }()
		_, err = hold.Exec(ctx, "LOCK TABLE analytics.export_files IN EXCLUSIVE MODE")
		require.NoError(t, err)
		res := env.Post(t, base+"exports", seller.AccessToken, map[string]any{"report": "sales", "format": "json"})
		require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
		eid := res.Map(t)["id"].(string)
		path := "/shops/" + shopID + "/reports/exports/" + eid
		// A run that dies while it stores the file: its transaction never commits.
		cut, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- env.App.Analytics.WriteExport(cut, uuid.MustParse(eid)) }()
		// Both this run and River's have rendered the report and wait to store it: one for the
		// files' table, the other for the export's row the first holds.
		apptest.Eventually(t, func() bool {
			var waiting int
			require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting))
			return waiting >= 2
		}, "two runs wait to store the file")
		cancel()
		require.Error(t, <-done)
		assert.Equal(t, "pending", env.Get(t, path, seller.AccessToken).Map(t)["status"])
		assert.Equal(t, http.StatusConflict, env.Get(t, path+"/file", seller.AccessToken).Status)
		require.NoError(t, hold.Rollback(ctx))
		apptest.Eventually(t, func() bool { return env.Get(t, path, seller.AccessToken).Map(t)["status"] == "ready" }, "River's run writes it")
		res = env.Get(t, path+"/file", seller.AccessToken)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Len(t, res.Map(t)["rows"], 3, "the JSON file holds every order")
	})
	t.Run("an expired export is gone, and swept", func(t *testing.T) {
		_, err := env.App.Pool.Exec(context.Background(), "UPDATE analytics.exports SET expires_at = now() - interval '1 second' WHERE id = $1", id)
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, env.Get(t, status, seller.AccessToken).Status)
		assert.Equal(t, http.StatusNotFound, env.Get(t, status+"/file", admin.AccessToken).Status)
		n, err := env.App.Analytics.SweepExports(context.Background())
		require.NoError(t, err)
		assert.GreaterOrEqual(t, n, int64(1))
		var files int
		require.NoError(t, env.App.Pool.QueryRow(context.Background(),
			"SELECT count(*) FROM analytics.export_files WHERE export_id = $1", id).Scan(&files))
		assert.Zero(t, files)
	})
}

// notifications are the user's latest in-app notifications.
func notifications(t *testing.T, env *apptest.Env, u apptest.User) []map[string]any {
	t.Helper()
	res := env.Get(t, "/notifications", u.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var page struct {
		Items []map[string]any `json:"items"`
	}
	res.JSON(t, &page)
	return page.Items
}
