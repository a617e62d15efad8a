package analytics_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/goshop/goshop/internal/app/apptest"
)

// market is a shop with a product, a shipper near it, a buyer with an address, an admin and
// another seller with a shop of their own.
type market struct {
	env                  *apptest.Env
	seller, other, admin apptest.User
	buyer, shipper       apptest.User
	shopID, otherShop    string
	addr                 string
	product              apptest.Product
}

func newMarket(t *testing.T, opts ...apptest.Option) *market {
	t.Helper()
	env := apptest.New(t, opts...)
	m := &market{env: env, seller: env.Register(t, "Seller"), other: env.Register(t, "Other seller")}
	m.shopID = env.CreateShop(t, m.seller, "Gốm Bát Tràng")
	m.otherShop = env.CreateShop(t, m.other, "Lụa Hà Đông")
	m.product = env.CreateProduct(t, m.seller, m.shopID, "Bình gốm men lam", 250_000, 1000)
	m.shipper = env.NewShipper(t, "Shipper", apptest.NearShop, true)
	m.buyer = env.Register(t, "Buyer")
	m.addr = env.CreateAddress(t, m.buyer)
	m.admin = env.Admin(t, env.Register(t, "Admin"))
	return m
}

// get reads path as token and requires 200.
func (m *market) get(t *testing.T, path, token string) map[string]any {
	t.Helper()
	res := m.env.Get(t, path, token)
	require.Equal(t, http.StatusOK, res.Status, "GET %s: %s", path, res.Body)
	return res.Map(t)
}

// totals answers the current period's totals of an analytics route.
func (m *market) totals(t *testing.T, route string) map[string]any {
	t.Helper()
	return m.get(t, "/shops/"+m.shopID+"/analytics/"+route, m.seller.AccessToken)["current"].(map[string]any)["totals"].(map[string]any)
}

// eventually waits until the route's current totals hold want for key.
func (m *market) eventually(t *testing.T, route, key string, want float64) {
	t.Helper()
	apptest.Eventually(t, func() bool { return m.totals(t, route)[key] == want }, route+" "+key)
}

// cardOrder checks the product out by card through the sandbox and has the payment captured.
func (m *market) cardOrder(t *testing.T, qty int) string {
	t.Helper()
	e := m.env
	res := e.Post(t, "/cart/items", m.buyer.AccessToken, map[string]any{"product_id": m.product.ID, "quantity": qty})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res = e.Post(t, "/orders", m.buyer.AccessToken, map[string]any{"address_id": m.addr, "payment_method": "card", "provider": "sandbox"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	order := res.Map(t)["orders"].([]any)[0].(map[string]any)["id"].(string)
	res = e.Post(t, "/payments", m.buyer.AccessToken, map[string]any{"order_id": order})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res = e.Post(t, "/payments/sandbox/complete", "", map[string]any{"client_secret": res.Map(t)["client_secret"], "outcome": "captured"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	return order
}

// TestShopAnalytics walks a shop's figures through a cash-on-delivery sale, a card sale, a
// cancellation of a paid order and a rebuild, and checks who may read them and which ranges
// are refused.
func TestShopAnalytics(t *testing.T) {
	t.Parallel()
	m := newMarket(t)
	e := m.env
	base := "/shops/" + m.shopID

	t.Run("a COD order counts when delivered", func(t *testing.T) {
		id := e.CheckoutCOD(t, m.buyer, m.addr, m.product.ID, 2)
		m.eventually(t, "orders", "placed", 1)
		assert.Equal(t, float64(0), m.totals(t, "revenue")["sales"], "not a sale before delivery")
		e.Deliver(t, id, m.seller, m.shipper)
		m.eventually(t, "revenue", "gross", 500_000)
		rev := m.totals(t, "revenue")
		assert.Equal(t, float64(1), rev["sales"])
		assert.Equal(t, float64(500_000), rev["net"])
		perf := m.get(t, base+"/reports/performance", m.seller.AccessToken)
		cur := perf["current"].(map[string]any)["totals"].(map[string]any)
		assert.Equal(t, float64(1), cur["delivered"])
		assert.Equal(t, float64(1), cur["on_time_rate"])
	})

	t.Run("a card order counts when paid, and not once cancelled", func(t *testing.T) {
		id := m.cardOrder(t, 1)
		m.eventually(t, "revenue", "gross", 750_000)
		res := e.Put(t, "/orders/"+id+"/cancel", m.buyer.AccessToken, map[string]any{"reason": "changed my mind"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		m.eventually(t, "revenue", "gross", 500_000)
		orders := m.totals(t, "orders")
		assert.Equal(t, float64(2), orders["placed"])
		assert.Equal(t, float64(1), orders["by_status"].(map[string]any)["cancelled"])
		assert.Equal(t, 0.5, orders["cancellation_rate"])
		assert.Equal(t, float64(500_000), orders["average_order_value"])
	})

	t.Run("products and reports", func(t *testing.T) {
		p := m.get(t, base+"/analytics/products", m.seller.AccessToken)
		top := p["top_by_units"].([]any)
		require.Len(t, top, 1)
		assert.Equal(t, m.product.ID, top[0].(map[string]any)["product_id"])
		assert.Equal(t, float64(2), top[0].(map[string]any)["units"])

		sales := m.get(t, base+"/reports/sales", m.seller.AccessToken)
		assert.Len(t, sales["rows"], 2)
		assert.Equal(t, float64(2), sales["total_rows"])

		res := e.Get(t, base+"/reports/sales?format=csv", m.seller.AccessToken)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Contains(t, res.Header.Get("Content-Type"), "text/csv")
		require.True(t, bytes.HasPrefix(res.Body, []byte("\ufeff")), "the file starts with a byte-order mark")
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(res.Body, []byte("\ufeff")))).ReadAll()
		require.NoError(t, err)
		assert.Len(t, rows, 3, "a header and two orders")
		assert.Equal(t, "order_id", rows[0][0])

		res = e.Get(t, base+"/reports/performance?format=csv", m.seller.AccessToken)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Contains(t, string(res.Body), "on_time_rate")
	})

	t.Run("who may read", func(t *testing.T) {
		for _, route := range []string{"/analytics/revenue", "/analytics/orders", "/analytics/products", "/reports/sales", "/reports/performance"} {
			assert.Equal(t, http.StatusForbidden, e.Get(t, base+route, m.other.AccessToken).Status, "another shop's owner: %s", route)
			assert.Equal(t, http.StatusUnauthorized, e.Get(t, base+route, "").Status, "no token: %s", route)
			assert.Equal(t, http.StatusOK, e.Get(t, base+route, m.admin.AccessToken).Status, "an admin: %s", route)
			assert.Equal(t, http.StatusOK, e.Get(t, "/shops/"+m.otherShop+route, m.other.AccessToken).Status, "their own: %s", route)
			assert.Equal(t, http.StatusNotFound, e.Get(t, "/shops/00000000-0000-4000-8000-000000000000"+route, m.admin.AccessToken).Status,
				"a missing shop: %s", route)
		}
	})

	t.Run("bad ranges are refused", func(t *testing.T) {
		for _, q := range []string{
			"from=2026-03-10&to=2026-03-09", // end before start
			"from=2025-01-01&to=2026-03-01", // over a year
			"from=2026-3-1",                 // not YYYY-MM-DD
			"to=yesterday",                  // not a date
			"from=2026-02-30",               // no such day
			"granularity=hour",              // no such cut
			"format=docx",                   // no such file
		} {
			for _, route := range []string{"/analytics/revenue", "/reports/sales"} {
				if q == "format=docx" && route != "/reports/sales" {
					continue
				}
				res := e.Get(t, base+route+"?"+q, m.seller.AccessToken)
				assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s?%s: %s", route, q, res.Body)
			}
		}
		res0 := e.Get(t, base+"/analytics/orders?from=2026-03-01%00", m.seller.AccessToken)
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, res0.Status, "a NUL byte: %s", res0.Body)
		res := e.Get(t, base+"/analytics/revenue?from=2025-03-02&to=2026-03-02", m.seller.AccessToken)
		assert.Equal(t, http.StatusOK, res.Status, "366 days is a year: %s", res.Body)
	})

	t.Run("weeks and months, beside the period before", func(t *testing.T) {
		today := time.Now().In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly)
		r := m.get(t, base+"/analytics/revenue?granularity=month&to="+today, m.seller.AccessToken)
		series := r["current"].(map[string]any)["series"].([]any)
		var sum float64
		for _, p := range series {
			sum += p.(map[string]any)["figures"].(map[string]any)["gross"].(float64)
		}
		assert.Equal(t, float64(500_000), sum, "the series adds up to the totals")
		prev := r["previous"].(map[string]any)
		assert.Equal(t, float64(0), prev["totals"].(map[string]any)["gross"])
		assert.NotEmpty(t, prev["from"])
	})

	t.Run("a rebuild gives the same figures", func(t *testing.T) {
		before := e.Get(t, base+"/analytics/revenue", m.seller.AccessToken).Body
		beforeOrders := e.Get(t, base+"/analytics/orders", m.seller.AccessToken).Body
		n, err := e.App.Analytics.Rebuild(context.Background(), nil)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, n, 2)
		assert.JSONEq(t, string(before), string(e.Get(t, base+"/analytics/revenue", m.seller.AccessToken).Body))
		assert.JSONEq(t, string(beforeOrders), string(e.Get(t, base+"/analytics/orders", m.seller.AccessToken).Body))
	})
}

// TestReportFiles checks the xlsx and pdf files of both reports: a workbook whose first row is
// the header and whose amounts are numbers, and a PDF that carries the Vietnamese title.
func TestReportFiles(t *testing.T) {
	t.Parallel()
	m := newMarket(t)
	e := m.env
	id := e.CheckoutCOD(t, m.buyer, m.addr, m.product.ID, 1)
	e.Deliver(t, id, m.seller, m.shipper)
	m.eventually(t, "revenue", "sales", 1)
	base := "/shops/" + m.shopID + "/reports/"
	for _, report := range []string{"sales", "performance"} {
		res := e.Get(t, base+report+"?format=xlsx", m.seller.AccessToken)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		f, err := excelize.OpenReader(bytes.NewReader(res.Body))
		require.NoError(t, err, report)
		rows, err := f.GetRows("Sheet1")
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(rows), 2, report)
		if report == "sales" {
			assert.Equal(t, "order_id", rows[0][0])
			assert.Equal(t, id, rows[1][0])
			typ, err := f.GetCellType("Sheet1", "G2")
			require.NoError(t, err)
			assert.Equal(t, excelize.CellTypeUnset, typ, "the subtotal is a number (excelize reports numbers unset)")
		}
		res = e.Get(t, base+report+"?format=pdf", m.seller.AccessToken)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.True(t, bytes.HasPrefix(res.Body, []byte("%PDF-")), report)
		assert.Contains(t, res.Header.Get("Content-Disposition"), report+"-")
	}
}
