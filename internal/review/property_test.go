package review_test

import (
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// TestSummaryEqualsARecount drives a random sequence of posts, edits, approvals, rejections and
// deletions through the API and checks after every step that each summary row (products, the
// shop, the shop's products together) equals a recount of the published, live reviews. The seed
// is REVIEW_PROPERTY_SEED (default 1); a failure names it.
func TestSummaryEqualsARecount(t *testing.T) {
	t.Parallel()
	seed := uint64(1)
	if s := os.Getenv("REVIEW_PROPERTY_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
		seed = v
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	m := setup(t)
	env := m.env
	admin := env.Admin(t, env.Register(t, "Admin"))
	ps := m.products(t, 4)
	type buyer struct {
		apptest.User
		order string
	}
	var buyers []buyer
	for i := range 3 {
		u := m.buyer
		addr := m.addr
		if i > 0 {
			u = env.Register(t, "Buyer "+strconv.Itoa(i))
			addr = env.CreateAddress(t, u)
		}
		buyers = append(buyers, buyer{u, m.deliveredMany(t, u, addr, ps)})
	}
	type review struct {
		id     string
		author string // token
		status string
	}
	written := map[string]bool{} // buyer index + target
	var live []*review
	comments := []string{"Rất đẹp", "tạm được", "", "hàng lỗi, shop lua dao", "xem thêm ở www.re.vn", "good value"}
	pick := func(status ...string) *review {
		var c []*review
		for _, r := range live {
			for _, s := range status {
				if r.status == s {
					c = append(c, r)
				}
			}
		}
		if len(c) == 0 {
			return nil
		}
		return c[rng.IntN(len(c))]
	}
	body := func() map[string]any {
		return map[string]any{"rating": 1 + rng.IntN(5), "comment": comments[rng.IntN(len(comments))]}
	}
	check := func(step int, op string) {
		t.Helper()
		recount := func(where string, args ...any) (int, map[string]any) {
			rows, err := env.App.Pool.Query(t.Context(), "SELECT rating, count(*) FROM review.reviews WHERE status = 'approved' "+
				"AND deleted_at IS NULL AND "+where+" GROUP BY rating", args...)
			require.NoError(t, err)
			defer rows.Close()
			stars := map[string]any{"1": 0.0, "2": 0.0, "3": 0.0, "4": 0.0, "5": 0.0}
			n := 0
			for rows.Next() {
				var r, c int
				require.NoError(t, rows.Scan(&r, &c))
				stars[strconv.Itoa(r)] = float64(c)
				n += c
			}
			require.NoError(t, rows.Err())
			return n, stars
		}
		same := func(what string, got map[string]any, n int, stars map[string]any) {
			require.EqualValues(t, n, got["count"], "seed %d step %d (%s): %s count", seed, step, op, what)
			require.EqualValues(t, stars, got["stars"], "seed %d step %d (%s): %s stars", seed, step, op, what)
		}
		for _, p := range ps {
			n, stars := recount("target = 'product' AND target_id = $1", p.ID)
			same("product "+p.ID, get(t, env, "/reviews/rating-distribution?product_id="+p.ID, ""), n, stars)
		}
		sum := get(t, env, "/shops/"+m.shopID+"/rating-summary", "")
		n, stars := recount("target = 'shop' AND target_id = $1", m.shopID)
		same("shop", sum, n, stars)
		n, stars = recount("target = 'product' AND shop_id = $1", m.shopID)
		same("shop's products", sum["products"].(map[string]any), n, stars)
	}

	for step := range 120 {
		op := []string{"post", "post", "edit", "approve", "reject", "delete"}[rng.IntN(6)]
		switch op {
		case "post":
			b := rng.IntN(len(buyers))
			target := rng.IntN(len(ps) + 1) // len(ps): the shop
			key := strconv.Itoa(b) + "/" + strconv.Itoa(target)
			path, in := "/shops/"+m.shopID+"/reviews", body()
			if target < len(ps) {
				path = "/products/" + ps[target].ID + "/reviews"
			} else {
				in["order_id"] = buyers[b].order
			}
			res := env.Post(t, path, buyers[b].AccessToken, in)
			if written[key] {
				require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
				continue
			}
			require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
			written[key] = true
			r := res.Map(t)
			live = append(live, &review{id: r["id"].(string), author: buyers[b].AccessToken, status: r["status"].(string)})
		case "edit":
			r := pick("approved", "pending", "rejected")
			if r == nil {
				continue
			}
			res := env.Put(t, "/reviews/"+r.id, r.author, body())
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			r.status = res.Map(t)["status"].(string)
		case "approve":
			r := pick("pending")
			if r == nil {
				continue
			}
			require.Equal(t, http.StatusOK, env.Put(t, "/reviews/"+r.id+"/approve", admin.AccessToken, nil).Status)
			r.status = "approved"
		case "reject":
			r := pick("pending", "approved")
			if r == nil {
				continue
			}
			require.Equal(t, http.StatusOK, env.Put(t, "/reviews/"+r.id+"/reject", admin.AccessToken, map[string]any{"reason": "no"}).Status)
			r.status = "rejected"
		case "delete":
			r := pick("pending", "approved", "rejected")
			if r == nil {
				continue
			}
			require.Equal(t, http.StatusNoContent, env.Delete(t, "/reviews/"+r.id, r.author).Status)
			r.status = "deleted"
		}
		check(step, op)
	}
}
