package review_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// TestSentimentAnalysisAndVerifiedPurchases reads what buyers said of a product and a shop, by
// aspect, and lists the reviews with the purchases they rest on.
func TestSentimentAnalysisAndVerifiedPurchases(t *testing.T) {
	t.Parallel()
	m := setup(t)
	env := m.env
	ps := m.products(t, 2)
	buyers := []apptest.User{m.buyer, env.Register(t, "Second"), env.Register(t, "Third")}
	comments := []string{
		"Chén rất đẹp nhưng đóng gói sơ sài, hộp móp hết",
		"Giao hàng nhanh, nhưng đóng gói cẩu thả quá",
		"Terrible packaging, the box was crushed, but the bowl itself is beautiful",
	}
	orders := make([]string, len(buyers))
	for i, b := range buyers {
		addr := m.addr
		if i > 0 {
			addr = env.CreateAddress(t, b)
		}
		orders[i] = m.deliveredMany(t, b, addr, ps)
		post(t, env, "/products/"+ps[0].ID+"/reviews", b.AccessToken, map[string]any{"rating": 3, "comment": comments[i]},
			http.StatusCreated)
	}
	post(t, env, "/products/"+ps[1].ID+"/reviews", m.buyer.AccessToken, map[string]any{"rating": 5, "comment": "Rất hài lòng, giá hợp lý"},
		http.StatusCreated)

	r := get(t, env, "/reviews/sentiment-analysis?product_id="+ps[0].ID, "")
	assert.EqualValues(t, 3, r["reviews"])
	aspects := map[string]map[string]any{}
	for _, a := range r["aspects"].([]any) {
		a := a.(map[string]any)
		aspects[a["aspect"].(string)] = a
	}
	require.Contains(t, aspects, "packaging")
	assert.EqualValues(t, 3, aspects["packaging"]["negative"], "buyers complain about packaging")
	assert.Equal(t, "criticised", aspects["packaging"]["verdict"])
	assert.Equal(t, "praised", aspects["delivery"]["verdict"])

	shop := get(t, env, "/reviews/sentiment-analysis?shop_id="+m.shopID, "")
	assert.EqualValues(t, 4, shop["reviews"], "the shop's products together")
	labels := map[string]float64{}
	for _, l := range shop["labels"].([]any) {
		l := l.(map[string]any)
		labels[l["label"].(string)] = l["reviews"].(float64)
	}
	assert.EqualValues(t, 1, labels["positive"])
	assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/reviews/sentiment-analysis", "").Status)

	t.Run("verified purchases", func(t *testing.T) {
		post(t, env, "/shops/"+m.shopID+"/reviews", m.buyer.AccessToken, map[string]any{"order_id": orders[0], "rating": 5},
			http.StatusCreated)
		all := items(get(t, env, "/reviews/verified-purchases?shop_id="+m.shopID, ""))
		assert.Len(t, all, 5)
		of := items(get(t, env, "/reviews/verified-purchases?product_id="+ps[1].ID, ""))
		require.Len(t, of, 1)
		assert.Equal(t, true, of[0]["verified_purchase"])
		purchase := of[0]["purchase"].(map[string]any)
		assert.Equal(t, ps[1].VariantID, purchase["variant_id"])
		assert.Equal(t, orders[0], purchase["order_id"])
		assert.NotEmpty(t, purchase["delivered_at"])
		page := get(t, env, "/reviews/verified-purchases?shop_id="+m.shopID+"&limit=2", "")
		assert.Len(t, items(page), 2)
		next := get(t, env, "/reviews/verified-purchases?shop_id="+m.shopID+"&limit=2&cursor="+page["next_cursor"].(string), "")
		assert.Len(t, items(next), 2)
		assert.NotEqual(t, items(page)[0]["id"], items(next)[0]["id"])
		assert.Len(t, items(get(t, env, "/reviews/verified-purchases?shop_id="+env.CreateShop(t, m.seller, "Empty"), "")), 0)
	})
}
