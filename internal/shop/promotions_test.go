package shop_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

func voucher(code string, extra map[string]any) map[string]any {
	now := time.Now().UTC()
	v := map[string]any{"code": code, "name": "Giảm giá", "type": "percentage", "value": 10,
		"starts_at": now.Add(-time.Hour), "ends_at": now.Add(24 * time.Hour)}
	for k, x := range extra {
		v[k] = x
	}
	return v
}

func TestPromotionsCRUDAndVisibility(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	owner := env.Register(t, "Owner")
	other := env.Register(t, "Other")
	shopID := env.CreateShop(t, owner, "Shop")
	p := env.CreateProduct(t, owner, shopID, "Áo", 100_000, 5)
	otherShop := env.CreateShop(t, other, "Other shop")
	foreign := env.CreateProduct(t, other, otherShop, "Quần", 100_000, 5)
	base := "/shops/" + shopID + "/promotions"

	res := env.Post(t, base, owner.AccessToken, voucher("sale10", map[string]any{"max_discount": 50_000, "usage_limit": 100,
		"per_user_limit": 1, "min_spend": 200_000}))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	promo := res.Map(t)
	assert.Equal(t, "SALE10", promo["code"], "codes are upper-cased")
	assert.EqualValues(t, 0, promo["used_count"])
	id := promo["id"].(string)

	// A voucher for listed products of the shop only.
	res = env.Post(t, base, owner.AccessToken, voucher("AO1", map[string]any{"scope": "products", "product_ids": []string{p.ID},
		"type": "fixed", "value": 20_000}))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res = env.Post(t, base, owner.AccessToken, voucher("BAD", map[string]any{"scope": "products", "product_ids": []string{foreign.ID}}))
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "another shop's product")

	// A paused voucher is seen by the owner only.
	res = env.Post(t, base, owner.AccessToken, voucher("LATER", map[string]any{"status": "paused"}))
	require.Equal(t, http.StatusCreated, res.Status)
	paused := res.Map(t)["id"].(string)
	assert.Len(t, env.Get(t, base, owner.AccessToken).Map(t)["items"], 3)
	assert.Len(t, env.Get(t, base, "").Map(t)["items"], 2)
	assert.Len(t, env.Get(t, base, other.AccessToken).Map(t)["items"], 2)
	assert.Equal(t, http.StatusNotFound, env.Get(t, base+"/"+paused, other.AccessToken).Status)
	assert.Equal(t, http.StatusOK, env.Get(t, base+"/"+paused, owner.AccessToken).Status)
	assert.Equal(t, http.StatusOK, env.Get(t, base+"/"+id, "").Status)

	// Duplicates and updates.
	assert.Equal(t, http.StatusConflict, env.Post(t, base, owner.AccessToken, voucher("Sale10", nil)).Status)
	res = env.Put(t, base+"/"+id, owner.AccessToken, voucher("SALE15", map[string]any{"value": 15}))
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.EqualValues(t, 15, res.Map(t)["value"])
	res = env.Put(t, base+"/"+id, other.AccessToken, voucher("MINE", nil))
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.Equal(t, "only the shop's owner may change its vouchers", res.Map(t)["detail"], "the refusal names what was refused")
	assert.Equal(t, http.StatusNotFound, env.Put(t, "/shops/"+otherShop+"/promotions/"+id, other.AccessToken, voucher("MINE", nil)).Status,
		"a voucher of another shop does not exist under this one")
	assert.Equal(t, http.StatusForbidden, env.Post(t, base, other.AccessToken, voucher("HACK", nil)).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, base, "", voucher("ANON", nil)).Status)

	assert.Equal(t, http.StatusForbidden, env.Delete(t, base+"/"+id, other.AccessToken).Status)
	require.Equal(t, http.StatusNoContent, env.Delete(t, base+"/"+id, owner.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, base+"/"+id, owner.AccessToken).Status)
	assert.Equal(t, http.StatusNotFound, env.Delete(t, base+"/"+id, owner.AccessToken).Status)
	assert.Equal(t, http.StatusCreated, env.Post(t, base, owner.AccessToken, voucher("SALE15", nil)).Status, "a deleted code is free again")
}

func TestPromotionBadInput(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	owner := env.Register(t, "Owner")
	shopID := env.CreateShop(t, owner, "Shop")
	base := "/shops/" + shopID + "/promotions"
	now := time.Now().UTC()
	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"no code":            {voucher("", nil), "code"},
		"code with spaces":   {voucher("A B", nil), "code"},
		"unknown type":       {voucher("X12", map[string]any{"type": "bogo"}), "type"},
		"zero value":         {voucher("X12", map[string]any{"value": 0}), "value"},
		"percent over 100":   {voucher("X12", map[string]any{"value": 150}), "value"},
		"negative min spend": {voucher("X12", map[string]any{"min_spend": -1}), "min_spend"},
		"fixed with a cap":   {voucher("X12", map[string]any{"type": "fixed", "value": 5000, "max_discount": 100}), "max_discount"},
		"ends before start":  {voucher("X12", map[string]any{"starts_at": now, "ends_at": now.Add(-time.Hour)}), "ends_at"},
		"products, none":     {voucher("X12", map[string]any{"scope": "products"}), "product_ids"},
		"money as a float":   {voucher("X12", map[string]any{"type": "fixed", "value": 10.5}), "value"},
		"limit not a number": {voucher("X12", map[string]any{"usage_limit": "ten"}), "usage_limit"},
		"missing window":     {map[string]any{"code": "X12", "name": "n", "type": "fixed", "value": 1}, "starts_at"},
	} {
		res := env.Post(t, base, owner.AccessToken, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
		assert.Equal(t, c.field, res.Map(t)["errors"].([]any)[0].(map[string]any)["field"], name)
	}
	assert.Equal(t, http.StatusBadRequest, env.Post(t, base, owner.AccessToken, `{"code":`).Status)
	assert.Equal(t, http.StatusNotFound, env.Post(t, "/shops/00000000-0000-0000-0000-000000000000/promotions", owner.AccessToken, voucher("X12", nil)).Status)
	assert.Equal(t, http.StatusNotFound, env.Get(t, base+"/not-an-id", owner.AccessToken).Status)
	assert.Len(t, env.Get(t, base, owner.AccessToken).Map(t)["items"], 0)
}

// TestVoucherUsageLimitUnderConcurrency: a voucher with 3 uses left and 10 buyers checking out
// at once is used exactly 3 times.
func TestVoucherUsageLimitUnderConcurrency(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	owner := env.Register(t, "Owner")
	shopID := env.CreateShop(t, owner, "Shop")
	p := env.CreateProduct(t, owner, shopID, "Mũ", 100_000, 100)
	require.Equal(t, http.StatusCreated, env.Post(t, "/shops/"+shopID+"/promotions", owner.AccessToken,
		voucher("THREE", map[string]any{"type": "fixed", "value": 10_000, "usage_limit": 3})).Status)
	type buyer struct {
		u    apptest.User
		addr string
	}
	var buyers []buyer
	for range 10 {
		u := env.Register(t, "Buyer")
		addr := env.CreateAddress(t, u)
		require.Equal(t, http.StatusCreated, env.Post(t, "/cart/items", u.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1}).Status)
		require.Equal(t, http.StatusOK, env.Post(t, "/cart/apply-coupon", u.AccessToken, map[string]any{"code": "THREE"}).Status)
		buyers = append(buyers, buyer{u, addr})
	}
	var discounted atomic.Int32
	var wg sync.WaitGroup
	for _, b := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := env.Post(t, "/orders", b.u.AccessToken, map[string]any{"address_id": b.addr, "payment_method": "cod"})
			if res.Status == http.StatusCreated && res.Map(t)["orders"].([]any)[0].(map[string]any)["discount"].(float64) == 10_000 {
				discounted.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 3, discounted.Load())
	res := env.Get(t, "/shops/"+shopID+"/promotions", owner.AccessToken).Map(t)["items"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 3, res["used_count"])
}

func TestCampaignLifecycle(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	owner := env.Register(t, "Owner")
	other := env.Register(t, "Other")
	shopID := env.CreateShop(t, owner, "Shop")
	p := env.CreateProduct(t, owner, shopID, "Giày", 500_000, 20)
	otherShop := env.CreateShop(t, other, "Other")
	foreign := env.CreateProduct(t, other, otherShop, "Dép", 100_000, 5)
	base := "/shops/" + shopID + "/campaigns"
	now := time.Now().UTC()
	body := func(start, end time.Time, items ...map[string]any) map[string]any {
		return map[string]any{"name": "Flash sale", "starts_at": start, "ends_at": end, "items": items}
	}
	item := func(variant string, price, stock int) map[string]any {
		return map[string]any{"variant_id": variant, "campaign_price": price, "campaign_stock": stock}
	}

	for name, c := range map[string]any{
		"not cheaper":      body(now, now.Add(time.Hour), item(p.VariantID, 500_000, 5)),
		"another shop's":   body(now, now.Add(time.Hour), item(foreign.VariantID, 50_000, 5)),
		"no items":         body(now, now.Add(time.Hour)),
		"twice":            body(now, now.Add(time.Hour), item(p.VariantID, 1, 1), item(p.VariantID, 2, 1)),
		"ended":            body(now.Add(-2*time.Hour), now.Add(-time.Hour), item(p.VariantID, 1, 1)),
		"backwards":        body(now.Add(time.Hour), now, item(p.VariantID, 1, 1)),
		"zero stock":       body(now, now.Add(time.Hour), item(p.VariantID, 1, 0)),
		"stock wrong type": map[string]any{"name": "x", "starts_at": now, "ends_at": now.Add(time.Hour), "items": []any{map[string]any{"variant_id": p.VariantID, "campaign_price": 1, "campaign_stock": "lots"}}},
	} {
		res := env.Post(t, base, owner.AccessToken, c)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
	}
	assert.Equal(t, http.StatusForbidden, env.Post(t, base, other.AccessToken, body(now, now.Add(time.Hour), item(p.VariantID, 1, 1))).Status)
	assert.Equal(t, http.StatusUnauthorized, env.Post(t, base, "", body(now, now.Add(time.Hour), item(p.VariantID, 1, 1))).Status)

	// A campaign starting in a moment and ending a moment later: River moves it both times.
	soon := time.Now().UTC()
	res := env.Post(t, base, owner.AccessToken, body(soon.Add(2*time.Second), soon.Add(5*time.Second), item(p.VariantID, 399_000, 5)))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	c := res.Map(t)
	assert.Equal(t, "draft", c["status"])
	cid := c["id"].(string)
	assert.Len(t, env.Get(t, base, "").Map(t)["items"], 0, "buyers do not see drafts")
	assert.Len(t, env.Get(t, base, owner.AccessToken).Map(t)["items"], 1)

	status := func(u apptest.User, s string) *apptest.Response {
		return env.Put(t, base+"/"+cid+"/status", u.AccessToken, map[string]any{"status": s})
	}
	assert.Equal(t, http.StatusForbidden, status(other, "scheduled").Status)
	assert.Equal(t, http.StatusConflict, status(owner, "ended").Status, "a draft cannot end")
	assert.Equal(t, http.StatusUnprocessableEntity, status(owner, "paused").Status)
	res = status(owner, "scheduled")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "scheduled", res.Map(t)["status"])
	assert.Len(t, env.Get(t, base, "").Map(t)["items"], 1, "buyers see scheduled campaigns")

	campaignStatus := func() string {
		for _, it := range env.Get(t, base, owner.AccessToken).Map(t)["items"].([]any) {
			if it.(map[string]any)["id"] == cid {
				return it.(map[string]any)["status"].(string)
			}
		}
		return ""
	}
	apptest.Eventually(t, func() bool { s := campaignStatus(); return s == "active" || s == "ended" }, "the campaign starts on time")
	apptest.Eventually(t, func() bool { return campaignStatus() == "ended" }, "the campaign ends on time")
	assert.Equal(t, http.StatusConflict, status(owner, "active").Status, "an ended campaign stays ended")

	// The owner may also start and end by hand; an overlapping campaign for the same variant is
	// refused while another is live.
	res = env.Post(t, base, owner.AccessToken, body(now.Add(time.Hour), now.Add(2*time.Hour), item(p.VariantID, 450_000, 3)))
	require.Equal(t, http.StatusCreated, res.Status)
	second := res.Map(t)["id"].(string)
	res = env.Post(t, base, owner.AccessToken, body(now.Add(90*time.Minute), now.Add(3*time.Hour), item(p.VariantID, 440_000, 3)))
	require.Equal(t, http.StatusCreated, res.Status)
	third := res.Map(t)["id"].(string)
	require.Equal(t, http.StatusOK, env.Put(t, base+"/"+second+"/status", owner.AccessToken, map[string]any{"status": "scheduled"}).Status)
	res = env.Put(t, base+"/"+third+"/status", owner.AccessToken, map[string]any{"status": "scheduled"})
	assert.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	res = env.Put(t, base+"/"+second+"/status", owner.AccessToken, map[string]any{"status": "active"})
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "active", res.Map(t)["status"])
	res = env.Put(t, base+"/"+second+"/status", owner.AccessToken, map[string]any{"status": "ended"})
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "ended", res.Map(t)["status"])
	assert.Equal(t, http.StatusNotFound, env.Put(t, "/shops/"+otherShop+"/campaigns/"+second+"/status", other.AccessToken,
		map[string]any{"status": "active"}).Status)
}
