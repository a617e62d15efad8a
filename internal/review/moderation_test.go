package review_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModeration(t *testing.T) {
	t.Parallel()
	m := setup(t)
	env := m.env
	admin := env.Admin(t, env.Register(t, "Admin"))
	ps := m.products(t, 4)
	m.deliveredMany(t, m.buyer, m.addr, ps)
	write := func(i int, rating int, comment string) map[string]any {
		return post(t, env, "/products/"+ps[i].ID+"/reviews", m.buyer.AccessToken, map[string]any{"rating": rating, "comment": comment},
			http.StatusCreated)
	}
	distribution := func(i int) map[string]any {
		return get(t, env, "/reviews/rating-distribution?product_id="+ps[i].ID, "")
	}
	clean := write(0, 5, "Chén đẹp, đóng gói kỹ")
	assert.Equal(t, "approved", clean["status"])
	insult := write(1, 1, "shop lua dao")
	assert.Equal(t, "pending", insult["status"])
	assert.Equal(t, []any{"words"}, insult["flags"])
	spam := write(2, 5, "Rẻ hơn ở zalo 0901 234 567")
	assert.Equal(t, "pending", spam["status"])
	assert.Equal(t, []any{"phone"}, spam["flags"])
	assert.EqualValues(t, 0, distribution(1)["count"], "a held review is not counted")

	t.Run("only admins see and decide", func(t *testing.T) {
		assert.Equal(t, http.StatusForbidden, env.Get(t, "/reviews/moderation/pending", m.buyer.AccessToken).Status)
		assert.Equal(t, http.StatusForbidden, env.Put(t, "/reviews/"+insult["id"].(string)+"/approve", m.seller.AccessToken, nil).Status)
		assert.Equal(t, http.StatusForbidden, env.Put(t, "/reviews/"+insult["id"].(string)+"/reject", m.buyer.AccessToken,
			map[string]any{"reason": "mine"}).Status)
		pending := items(get(t, env, "/reviews/moderation/pending?limit=1", admin.AccessToken))
		require.Len(t, pending, 1)
		assert.Equal(t, insult["id"], pending[0]["id"], "oldest first")
		page := get(t, env, "/reviews/moderation/pending?limit=1", admin.AccessToken)
		next := items(get(t, env, "/reviews/moderation/pending?limit=1&cursor="+page["next_cursor"].(string), admin.AccessToken))
		require.Len(t, next, 1)
		assert.Equal(t, spam["id"], next[0]["id"])
	})

	t.Run("approve and reject", func(t *testing.T) {
		res := env.Put(t, "/reviews/"+spam["id"].(string)+"/approve", admin.AccessToken, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, "approved", res.Map(t)["status"])
		assert.EqualValues(t, 5, distribution(2)["average"])
		assert.Equal(t, http.StatusConflict, env.Put(t, "/reviews/"+spam["id"].(string)+"/approve", admin.AccessToken, nil).Status)

		assert.Equal(t, http.StatusUnprocessableEntity, env.Put(t, "/reviews/"+insult["id"].(string)+"/reject", admin.AccessToken,
			map[string]any{"reason": "  "}).Status)
		res = env.Put(t, "/reviews/"+insult["id"].(string)+"/reject", admin.AccessToken, map[string]any{"reason": "insults the shop"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.Equal(t, "rejected", res.Map(t)["status"])
		mine := get(t, env, "/reviews/"+insult["id"].(string), m.buyer.AccessToken)
		assert.Equal(t, "insults the shop", mine["reject_reason"], "its author is told why")
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/reviews/"+insult["id"].(string), "").Status)
		assert.Len(t, items(get(t, env, "/reviews/moderation/pending", admin.AccessToken)), 0)

		// An admin takes a published review down: it stops counting.
		res = env.Put(t, "/reviews/"+spam["id"].(string)+"/reject", admin.AccessToken, map[string]any{"reason": "advertising"})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		assert.EqualValues(t, 0, distribution(2)["count"])
	})

	t.Run("reports send a review back to moderation", func(t *testing.T) {
		id := clean["id"].(string)
		assert.Equal(t, http.StatusForbidden, env.Post(t, "/reviews/"+id+"/report", m.buyer.AccessToken,
			map[string]any{"reason": "mine"}).Status, "not one's own")
		reporters := []string{env.Register(t, "R1").AccessToken, env.Register(t, "R2").AccessToken, env.Register(t, "R3").AccessToken}
		r := post(t, env, "/reviews/"+id+"/report", reporters[0], map[string]any{"reason": "fake"}, http.StatusCreated)
		assert.Equal(t, false, r["held"])
		assert.Equal(t, http.StatusConflict, env.Post(t, "/reviews/"+id+"/report", reporters[0], map[string]any{"reason": "again"}).Status,
			"once per user")
		assert.Equal(t, http.StatusUnprocessableEntity, env.Post(t, "/reviews/"+id+"/report", reporters[1], map[string]any{}).Status)
		post(t, env, "/reviews/"+id+"/report", reporters[1], map[string]any{"reason": "fake"}, http.StatusCreated)
		r = post(t, env, "/reviews/"+id+"/report", reporters[2], map[string]any{"reason": "fake"}, http.StatusCreated)
		assert.Equal(t, true, r["held"], "the third report (REVIEW_REPORT_THRESHOLD) holds it")
		assert.Equal(t, http.StatusNotFound, env.Get(t, "/reviews/"+id, "").Status)
		assert.EqualValues(t, 0, distribution(0)["count"])
		held := get(t, env, "/reviews/"+id, admin.AccessToken)
		assert.Equal(t, "pending", held["status"])
		assert.Contains(t, held["flags"], "reports")
		require.Equal(t, http.StatusOK, env.Put(t, "/reviews/"+id+"/approve", admin.AccessToken, nil).Status)
		assert.EqualValues(t, 1, distribution(0)["count"])
	})
}
