package review_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
)

func TestReviewsOfADeliveredOrder(t *testing.T) {
	t.Parallel()
	m := setup(t)
	env := m.env
	other := env.Register(t, "Other")
	orderID := m.delivered(t, m.buyer, m.addr)
	var reviewID string

	t.Run("product review", func(t *testing.T) {
		r := post(t, env, "/products/"+m.p.ID+"/reviews", m.buyer.AccessToken,
			map[string]any{"rating": 5, "comment": "Sản phẩm rất đẹp, giao hàng nhanh"}, http.StatusCreated)
		reviewID = r["id"].(string)
		assert.Equal(t, "product", r["target"])
		assert.Equal(t, m.p.ID, r["target_id"])
		assert.Equal(t, orderID, r["order_id"])
		assert.Equal(t, true, r["verified_purchase"])
		assert.Equal(t, "approved", r["status"])
		assert.Equal(t, []any{}, r["media"])
		assert.Equal(t, m.p.VariantID, r["purchase"].(map[string]any)["variant_id"])
		assert.NotEmpty(t, r["purchase"].(map[string]any)["delivered_at"])
		assert.Equal(t, "positive", r["sentiment"].(map[string]any)["label"])
		assert.Contains(t, r["sentiment"].(map[string]any)["aspects"], "delivery")

		res := env.Post(t, "/products/"+m.p.ID+"/reviews", m.buyer.AccessToken, map[string]any{"rating": 4})
		assert.Equal(t, http.StatusConflict, res.Status, "once per order item: %s", res.Body)
		res = env.Post(t, "/products/"+m.p.ID+"/reviews", other.AccessToken, map[string]any{"rating": 1})
		assert.Equal(t, http.StatusForbidden, res.Status, "nothing was delivered to them")
		for _, bad := range []any{map[string]any{"rating": 0}, map[string]any{"rating": 6}, map[string]any{"rating": "5"},
			map[string]any{"rating": 5, "comment": "a\u0000b"}, `{"rating":`} {
			res := env.Post(t, "/products/"+m.p.ID+"/reviews", m.buyer.AccessToken, bad)
			assert.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, res.Status, "%v: %s", bad, res.Body)
		}
		assert.Equal(t, http.StatusUnauthorized, env.Post(t, "/products/"+m.p.ID+"/reviews", "", map[string]any{"rating": 5}).Status)

		assert.Equal(t, 6, env.App.Reviews.MaxMedia(), "REVIEW_MAX_MEDIA")
		require.NoError(t, env.App.Reviews.CanManageMedia(t.Context(), auth.Principal{UserID: uuidOf(t, m.buyer.ID)}, uuidOf(t, reviewID)))
		err := env.App.Reviews.CanManageMedia(t.Context(), auth.Principal{UserID: uuidOf(t, other.ID)}, uuidOf(t, reviewID))
		assert.True(t, apperr.Is(err, apperr.Forbidden), "%v", err)

		got := get(t, env, "/reviews/"+reviewID, "")
		assert.Equal(t, "Sản phẩm rất đẹp, giao hàng nhanh", got["comment"])
		list := items(get(t, env, "/products/"+m.p.ID+"/reviews", ""))
		require.Len(t, list, 1)
		assert.Equal(t, reviewID, list[0]["id"])
		assert.Len(t, items(get(t, env, "/products/"+m.p.ID+"/reviews?rating=1", "")), 0)
		assert.Len(t, items(get(t, env, "/products/"+m.p.ID+"/reviews?rating=5&with_comment=true", "")), 1)
		assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/products/"+m.p.ID+"/reviews?rating=9", "").Status)
		assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "/products/"+m.p.ID+"/reviews?cursor=abc", "").Status)
	})

	t.Run("shop review", func(t *testing.T) {
		r := post(t, env, "/shops/"+m.shopID+"/reviews", m.buyer.AccessToken,
			map[string]any{"order_id": orderID, "rating": 4, "comment": "Shop tư vấn nhiệt tình"}, http.StatusCreated)
		assert.Equal(t, "shop", r["target"])
		assert.Equal(t, http.StatusConflict, env.Post(t, "/shops/"+m.shopID+"/reviews", m.buyer.AccessToken,
			map[string]any{"order_id": orderID, "rating": 4}).Status, "once per order")
		assert.Equal(t, http.StatusForbidden, env.Post(t, "/shops/"+m.shopID+"/reviews", other.AccessToken,
			map[string]any{"order_id": orderID, "rating": 1}).Status, "another buyer's order")
		otherShop := env.CreateShop(t, m.seller, "Another shop")
		assert.Equal(t, http.StatusForbidden, env.Post(t, "/shops/"+otherShop+"/reviews", m.buyer.AccessToken,
			map[string]any{"order_id": orderID, "rating": 1}).Status, "the order is not of that shop")
		assert.Len(t, items(get(t, env, "/shops/"+m.shopID+"/reviews", "")), 2, "the shop's and its product's")
		assert.Len(t, items(get(t, env, "/shops/"+m.shopID+"/reviews?target=shop", "")), 1)
		assert.Len(t, items(get(t, env, "/shops/"+m.shopID+"/reviews?target=product", "")), 1)
	})

	t.Run("delivery review", func(t *testing.T) {
		r := post(t, env, "/delivery/"+orderID+"/review", m.buyer.AccessToken, map[string]any{"rating": 3, "comment": "Giao hơi chậm"},
			http.StatusCreated)
		assert.Equal(t, "delivery", r["target"])
		assert.Equal(t, m.shipper.ID, r["target_id"])
		assert.Equal(t, m.shipper.ID, r["shipper_id"])
		assert.Equal(t, http.StatusConflict, env.Post(t, "/delivery/"+orderID+"/review", m.buyer.AccessToken,
			map[string]any{"rating": 3}).Status)
		assert.Equal(t, http.StatusForbidden, env.Post(t, "/delivery/"+orderID+"/review", other.AccessToken,
			map[string]any{"rating": 3}).Status)
		assert.Len(t, items(get(t, env, "/shippers/"+m.shipper.ID+"/reviews", "")), 1)
		assert.Len(t, items(get(t, env, "/delivery/reviews", m.shipper.AccessToken)), 1)
		assert.Equal(t, http.StatusForbidden, env.Get(t, "/delivery/reviews", m.buyer.AccessToken).Status)
		avg, count, err := env.App.Reviews.ShipperRating(t.Context(), uuidOf(t, m.shipper.ID))
		require.NoError(t, err)
		assert.Equal(t, 1, count)
		assert.InDelta(t, 3.0, avg, 1e-9)
	})

	t.Run("the shop replies once", func(t *testing.T) {
		assert.Equal(t, http.StatusForbidden, env.Post(t, "/reviews/"+reviewID+"/reply", other.AccessToken,
			map[string]any{"text": "spam"}).Status)
		r := post(t, env, "/reviews/"+reviewID+"/reply", m.seller.AccessToken, map[string]any{"text": "Cảm ơn bạn!"}, http.StatusCreated)
		assert.Equal(t, "Cảm ơn bạn!", r["reply"].(map[string]any)["text"])
		assert.Equal(t, http.StatusConflict, env.Post(t, "/reviews/"+reviewID+"/reply", m.seller.AccessToken,
			map[string]any{"text": "again"}).Status)
		assert.Equal(t, "Cảm ơn bạn!", get(t, env, "/reviews/"+reviewID, "")["reply"].(map[string]any)["text"])
	})

	t.Run("editing moderates again", func(t *testing.T) {
		assert.Equal(t, http.StatusForbidden, env.Put(t, "/reviews/"+reviewID, other.AccessToken, map[string]any{"rating": 1}).Status)
		res := env.Put(t, "/reviews/"+reviewID, m.buyer.AccessToken, map[string]any{"rating": 2, "comment": "Mua thêm ở www.re-hon.vn"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		r := res.Map(t)
		assert.Equal(t, "pending", r["status"])
		assert.Equal(t, []any{"link"}, r["flags"])
		assert.NotEmpty(t, r["edited_at"])
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/reviews/"+reviewID, "").Status, "held: not public")
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/reviews/"+reviewID, other.AccessToken).Status)
		assert.Equal(t, http.StatusOK, env.Get(t, "/reviews/"+reviewID, m.buyer.AccessToken).Status, "its author sees it")
		assert.Equal(t, http.StatusOK, env.Get(t, "/reviews/"+reviewID, m.seller.AccessToken).Status, "the shop sees it")
		assert.Len(t, items(get(t, env, "/products/"+m.p.ID+"/reviews", "")), 0)
		res = env.Put(t, "/reviews/"+reviewID, m.buyer.AccessToken, map[string]any{"rating": 4, "comment": "Dùng tốt"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, "approved", res.Map(t)["status"])
		assert.EqualValues(t, 4, get(t, env, "/reviews/rating-distribution?product_id="+m.p.ID, "")["average"])
	})

	t.Run("deleting hides and uncounts", func(t *testing.T) {
		assert.Equal(t, http.StatusForbidden, env.Delete(t, "/reviews/"+reviewID, other.AccessToken).Status)
		require.Equal(t, http.StatusNoContent, env.Delete(t, "/reviews/"+reviewID, m.buyer.AccessToken).Status)
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/reviews/"+reviewID, m.buyer.AccessToken).Status)
		assert.Equal(t, http.StatusNotFound, env.Delete(t, "/reviews/"+reviewID, m.buyer.AccessToken).Status)
		d := get(t, env, "/reviews/rating-distribution?product_id="+m.p.ID, "")
		assert.EqualValues(t, 0, d["count"])
		assert.Equal(t, http.StatusConflict, env.Post(t, "/products/"+m.p.ID+"/reviews", m.buyer.AccessToken,
			map[string]any{"rating": 5}).Status, "a deleted review is not written again")
	})
}

func TestOneReviewPerItemUnderConcurrentPosts(t *testing.T) {
	t.Parallel()
	m := setup(t)
	m.delivered(t, m.buyer, m.addr)
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = m.env.Post(t, "/products/"+m.p.ID+"/reviews", m.buyer.AccessToken, map[string]any{"rating": 1 + i%5}).Status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		if s == http.StatusCreated {
			created++
		} else {
			assert.Equal(t, http.StatusConflict, s)
		}
	}
	assert.Equal(t, 1, created)
	assert.EqualValues(t, 1, get(t, m.env, "/reviews/rating-distribution?product_id="+m.p.ID, "")["count"])
}

func TestOnlyADeliveredPurchaseMayBeReviewed(t *testing.T) {
	t.Parallel()
	m := setup(t)
	env := m.env
	refuse := func(t *testing.T, who apptest.User, orderID string) {
		t.Helper()
		assert.Equal(t, http.StatusForbidden, env.Post(t, "/products/"+m.p.ID+"/reviews", who.AccessToken,
			map[string]any{"rating": 5}).Status, "product")
		assert.Equal(t, http.StatusForbidden, env.Post(t, "/products/"+m.p.ID+"/reviews", who.AccessToken,
			map[string]any{"rating": 5, "order_id": orderID}).Status, "product, naming the order")
		assert.Equal(t, http.StatusForbidden, env.Post(t, "/shops/"+m.shopID+"/reviews", who.AccessToken,
			map[string]any{"rating": 5, "order_id": orderID}).Status, "shop")
		assert.Equal(t, http.StatusForbidden, env.Post(t, "/delivery/"+orderID+"/review", who.AccessToken,
			map[string]any{"rating": 5}).Status, "delivery")
	}

	pending := env.CheckoutCOD(t, m.buyer, m.addr, m.p.ID, 1)
	t.Run("a pending order", func(t *testing.T) { refuse(t, m.buyer, pending) })

	require.Equal(t, http.StatusOK, env.Put(t, "/orders/"+pending+"/cancel", m.buyer.AccessToken,
		map[string]any{"reason": "changed my mind"}).Status)
	t.Run("a cancelled order", func(t *testing.T) { refuse(t, m.buyer, pending) })

	delivered := m.delivered(t, m.buyer, m.addr)
	thief := env.Register(t, "Thief")
	t.Run("another buyer's delivered order", func(t *testing.T) { refuse(t, thief, delivered) })

	t.Run("an order the shop delivered itself has no shipper to rate", func(t *testing.T) {
		// The only shipper goes offline first: otherwise the assignment job, which the confirmation
		// starts, may give them the order before the shop marks it shipped (it did under CI's load).
		require.Equal(t, http.StatusOK, env.Put(t, "/shipping/shippers/"+m.shipper.ID+"/status", m.shipper.AccessToken,
			map[string]any{"status": "offline"}).Status)
		own := env.CheckoutCOD(t, m.buyer, m.addr, m.p.ID, 1)
		for _, s := range []string{"confirmed", "shipped", "delivered"} {
			require.Equal(t, http.StatusOK, env.Put(t, "/orders/"+own+"/status", m.seller.AccessToken, map[string]any{"status": s}).Status)
		}
		assert.Equal(t, http.StatusConflict, env.Post(t, "/delivery/"+own+"/review", m.buyer.AccessToken,
			map[string]any{"rating": 5}).Status)
	})

	t.Run("the buyer of the delivered order may", func(t *testing.T) {
		post(t, env, "/products/"+m.p.ID+"/reviews", m.buyer.AccessToken, map[string]any{"rating": 5, "order_id": delivered},
			http.StatusCreated)
	})
}

func TestTheEditWindowCloses(t *testing.T) {
	t.Parallel()
	m := setup(t, apptest.WithEnv("REVIEW_EDIT_DAYS", "0"))
	m.delivered(t, m.buyer, m.addr)
	r := post(t, m.env, "/products/"+m.p.ID+"/reviews", m.buyer.AccessToken, map[string]any{"rating": 5}, http.StatusCreated)
	res := m.env.Put(t, "/reviews/"+r["id"].(string), m.buyer.AccessToken, map[string]any{"rating": 1})
	assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	assert.Equal(t, "approved", get(t, m.env, "/reviews/"+r["id"].(string), "")["status"])
}
