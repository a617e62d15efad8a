package order_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// TestRepeatPreviewsThenAdds: GET /orders/repeat/{id} shows how the order would go back in the
// cart at today's prices and stock and changes nothing; POST adds what can be bought and
// reports what it skipped and why; another buyer's order does not exist.
func TestRepeatPreviewsThenAdds(t *testing.T) {
	t.Parallel()
	f := setup(t, 100_000, 10) // f.p: bought 2, its price goes up, 1 is in the cart already
	gone := f.env.CreateProduct(t, f.seller, f.shopID, "Áo bà ba", 50_000, 5)
	soldOut := f.env.CreateProduct(t, f.seller, f.shopID, "Quạt giấy", 30_000, 4)
	scarce := f.env.CreateProduct(t, f.seller, f.shopID, "Đèn lồng", 40_000, 5)
	other := f.env.CreateProduct(t, f.seller, f.shopID, "Trà", 20_000, 5)

	b, addr := f.buyerWith(t, "Buyer", 2)
	for _, l := range []struct {
		p   apptest.Product
		qty int
	}{{gone, 1}, {soldOut, 1}, {scarce, 3}} {
		res := f.env.Post(t, "/cart/items", b.AccessToken, map[string]any{"product_id": l.p.ID, "quantity": l.qty})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	}
	res := checkout(t, f.env, b, addr, nil)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	id := res.Map(t)["orders"].([]any)[0].(map[string]any)["id"].(string)

	// Since then: a price rise, a product deleted, one sold out; scarce has 2 left of the 3 bought.
	seller := f.seller.AccessToken
	require.Equal(t, http.StatusOK, f.env.Put(t, "/products/"+f.p.ID+"/price", seller, map[string]any{"price": 120_000}).Status)
	require.Equal(t, http.StatusNoContent, f.env.Delete(t, "/products/"+gone.ID, seller).Status)
	require.Equal(t, http.StatusOK, f.env.Put(t, "/products/"+soldOut.ID+"/inventory", seller, map[string]any{"stock": 0}).Status)
	for _, l := range []struct {
		p   apptest.Product
		qty int
	}{{f.p, 1}, {other, 1}} {
		res := f.env.Post(t, "/cart/items", b.AccessToken, map[string]any{"product_id": l.p.ID, "quantity": l.qty})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	}
	cartBefore := f.env.Get(t, "/cart", b.AccessToken).Map(t)
	byProduct := func(lines []any) map[string]map[string]any {
		m := map[string]map[string]any{}
		for _, l := range lines {
			l := l.(map[string]any)
			m[l["product_id"].(string)] = l
		}
		return m
	}

	t.Run("GET previews and changes nothing", func(t *testing.T) {
		for range 2 {
			res := f.env.Get(t, "/orders/repeat/"+id, b.AccessToken)
			require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			m := res.Map(t)
			assert.Equal(t, id, m["order_id"])
			lines := byProduct(m["lines"].([]any))
			require.Len(t, lines, 4)

			p := lines[f.p.ID]
			assert.Equal(t, f.p.VariantID, p["variant_id"])
			assert.Equal(t, "Nón lá", p["title"])
			assert.EqualValues(t, 2, p["quantity"])
			assert.EqualValues(t, 1, p["in_cart"])
			assert.EqualValues(t, 1, p["add_quantity"], "topped up to the order's quantity")
			assert.EqualValues(t, 120_000, p["unit_price"], "today's price")
			assert.EqualValues(t, 100_000, p["paid_unit_price"])
			assert.Equal(t, "in_stock", p["availability"])
			assert.Equal(t, true, p["can_add"])
			assert.NotContains(t, p, "reason")

			s := lines[scarce.ID]
			assert.Equal(t, "low_stock", s["availability"])
			assert.EqualValues(t, 2, s["stock"])
			assert.EqualValues(t, 2, s["add_quantity"])
			assert.Equal(t, true, s["can_add"])
			assert.Equal(t, "only 2 left in stock", s["reason"])

			g := lines[gone.ID]
			assert.Equal(t, "Áo bà ba", g["title"])
			assert.Equal(t, "unavailable", g["availability"])
			assert.Equal(t, false, g["can_add"])
			assert.EqualValues(t, 0, g["add_quantity"])
			assert.NotEmpty(t, g["reason"])

			o := lines[soldOut.ID]
			assert.Equal(t, "out_of_stock", o["availability"])
			assert.Equal(t, false, o["can_add"])
			assert.Equal(t, "sold out", o["reason"])

			assert.EqualValues(t, 120_000+2*40_000, m["subtotal"])
			assert.Equal(t, "VND", m["currency"])
			assert.Equal(t, cartBefore, f.env.Get(t, "/cart", b.AccessToken).Map(t), "a GET leaves the cart as it was")
		}
	})

	t.Run("POST adds what can be bought and says what it skipped", func(t *testing.T) {
		res := f.env.Post(t, "/orders/repeat/"+id, b.AccessToken, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		m := res.Map(t)
		added, skipped := byProduct(m["added"].([]any)), byProduct(m["skipped"].([]any))
		assert.ElementsMatch(t, []string{f.p.ID, scarce.ID}, keys(added))
		assert.ElementsMatch(t, []string{gone.ID, soldOut.ID}, keys(skipped))
		assert.Equal(t, "sold out", skipped[soldOut.ID]["reason"])
		assert.Equal(t, "unavailable", skipped[gone.ID]["availability"])
		assert.EqualValues(t, 120_000+2*40_000, m["subtotal"])

		items := byProduct(f.env.Get(t, "/cart", b.AccessToken).Map(t)["items"].([]any))
		require.Len(t, items, 3)
		assert.EqualValues(t, 2, items[f.p.ID]["quantity"])
		assert.EqualValues(t, 120_000, items[f.p.ID]["unit_price"])
		assert.EqualValues(t, 2, items[scarce.ID]["quantity"])
		assert.EqualValues(t, 1, items[other.ID]["quantity"], "what the cart held stays")

		// Once more: everything it could add is in the cart already.
		m = f.env.Post(t, "/orders/repeat/"+id, b.AccessToken, nil).Map(t)
		assert.Empty(t, m["added"])
		skipped = byProduct(m["skipped"].([]any))
		require.Len(t, skipped, 4)
		assert.Equal(t, "already in your cart", skipped[f.p.ID]["reason"])
		assert.Equal(t, "already in your cart", skipped[scarce.ID]["reason"])
		assert.EqualValues(t, 2, byProduct(f.env.Get(t, "/cart", b.AccessToken).Map(t)["items"].([]any))[f.p.ID]["quantity"])
	})

	t.Run("another buyer's order is not found", func(t *testing.T) {
		stranger := f.env.Register(t, "Stranger")
		for _, tok := range []string{stranger.AccessToken, seller} {
			assert.Equal(t, http.StatusNotFound, f.env.Get(t, "/orders/repeat/"+id, tok).Status)
			assert.Equal(t, http.StatusNotFound, f.env.Post(t, "/orders/repeat/"+id, tok, nil).Status)
		}
		assert.Empty(t, f.env.Get(t, "/cart", stranger.AccessToken).Map(t)["items"])
		assert.Equal(t, http.StatusNotFound, f.env.Post(t, "/orders/repeat/not-an-id", b.AccessToken, nil).Status)
		assert.Equal(t, http.StatusUnauthorized, f.env.Post(t, "/orders/repeat/"+id, "", nil).Status)
		assert.Equal(t, http.StatusUnauthorized, f.env.Get(t, "/orders/repeat/"+id, "").Status)
	})
}

func keys(m map[string]map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
