package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// browserClient is a browser without a script engine: it keeps cookies and does not follow
// redirects, so that each answer can be read.
type browserClient struct {
	t   *testing.T
	env *apptest.Env
	c   *http.Client
	// header is sent with every request (a browser's Sec-Fetch-Site, say).
	header map[string]string
}

func newBrowserClient(t *testing.T, env *apptest.Env) *browserClient {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browserClient{t: t, env: env, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browserClient) do(method, path string, form url.Values, header map[string]string) *apptest.Response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.env.Server.URL+path, body)
	require.NoError(b.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.header {
		req.Header.Set(k, v)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return &apptest.Response{Status: res.StatusCode, Header: res.Header, Body: raw}
}

func (b *browserClient) get(path string) *apptest.Response {
	return b.do(http.MethodGet, path, nil, nil)
}

func (b *browserClient) post(path string, form url.Values) *apptest.Response {
	return b.do(http.MethodPost, path, form, nil)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf reads the CSRF token of a page's forms.
func csrfOf(t *testing.T, res *apptest.Response) string {
	t.Helper()
	m := csrfRE.FindSubmatch(res.Body)
	require.NotNil(t, m, "no CSRF field in: %s", res.Body)
	return string(m[1])
}

// signIn signs u in through the form and answers the dashboard's CSRF token.
func (b *browserClient) signIn(u apptest.User) string {
	b.t.Helper()
	form := b.get("/seller/login")
	require.Equal(b.t, http.StatusOK, form.Status, "%s", form.Body)
	res := b.post("/seller/login", url.Values{"csrf": {csrfOf(b.t, form)}, "email": {u.Email}, "password": {u.Password}})
	require.Equal(b.t, http.StatusSeeOther, res.Status, "sign in: %s", res.Body)
	require.Equal(b.t, "/seller", res.Header.Get("Location"))
	dash := b.get("/seller")
	require.Equal(b.t, http.StatusOK, dash.Status, "%s", dash.Body)
	return csrfOf(b.t, dash)
}

// sessionCookie is the Set-Cookie of the seller center's session in res.
func sessionCookie(t *testing.T, res *apptest.Response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if strings.HasSuffix(c.Name, "goshop_seller") {
			return c
		}
	}
	t.Fatalf("no session cookie set; headers: %v", res.Header)
	return nil
}

// sessionKey is where Redis keeps the session of a cookie: the id's SHA-256 (session.go).
func sessionKey(env *apptest.Env, id string) string {
	sum := sha256.Sum256([]byte(id))
	return env.App.Cfg.RedisPrefix + "web:seller:" + hex.EncodeToString(sum[:])
}

// orderStatus reads an order's status through the API, as its shop's owner.
func orderStatus(t *testing.T, env *apptest.Env, owner apptest.User, id string) string {
	t.Helper()
	res := env.Get(t, "/orders/"+id, owner.AccessToken)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	return res.Map(t)["status"].(string)
}

// awaitGross waits until the River workers have rolled the shop's sales up to gross (the API's
// revenue route reads the rollups the page reads).
func awaitGross(t *testing.T, env *apptest.Env, seller apptest.User, shopID string, gross float64) {
	t.Helper()
	apptest.Eventually(t, func() bool {
		res := env.Get(t, "/shops/"+shopID+"/analytics/revenue", seller.AccessToken)
		return res.Status == http.StatusOK && res.Map(t)["current"].(map[string]any)["totals"].(map[string]any)["gross"] == gross
	}, "the sales are in the analytics rollups")
}

// shopWithOrder is a seller's shop with a product and one pending cash-on-delivery order of it.
type shopWithOrder struct {
	seller  apptest.User
	shopID  string
	product apptest.Product
	orderID string
}

func newShopWithOrder(t *testing.T, env *apptest.Env, name string) shopWithOrder {
	t.Helper()
	s := shopWithOrder{seller: env.Register(t, name)}
	s.shopID = env.CreateShop(t, s.seller, "Shop of "+name)
	s.product = env.CreateProduct(t, s.seller, s.shopID, "Nón lá Huế", 120_000, 50)
	buyer := env.Register(t, "Buyer of "+name)
	s.orderID = env.CheckoutCOD(t, buyer, env.CreateAddress(t, buyer), s.product.ID, 1)
	return s
}

func TestSellerSignIn(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Lan")
	b := newBrowserClient(t, env)

	res := b.get("/seller")
	require.Equal(t, http.StatusSeeOther, res.Status, "no session: to the sign-in form")
	assert.Equal(t, "/seller/login", res.Header.Get("Location"))

	form := b.get("/seller/login")
	require.Equal(t, http.StatusOK, form.Status)
	assert.Contains(t, string(form.Body), `<html lang="vi">`, "Vietnamese by default")
	assert.Contains(t, string(form.Body), "Đăng nhập Kênh Người Bán")
	assert.Equal(t, "no-store", form.Header.Get("Cache-Control"))
	assert.Contains(t, form.Header.Get("Content-Security-Policy"), "default-src 'none'")
	pre := sessionCookie(t, form)
	token := csrfOf(t, form)

	t.Run("a wrong password is refused, and says so", func(t *testing.T) {
		res := b.post("/seller/login", url.Values{"csrf": {token}, "email": {u.Email}, "password": {"not the password"}})
		assert.Equal(t, http.StatusUnauthorized, res.Status)
		assert.Contains(t, string(res.Body), "Email hoặc mật khẩu không đúng.")
		assert.Contains(t, string(res.Body), `value="`+u.Email+`"`, "the email stays in the form")
		res = b.post("/seller/login", url.Values{"csrf": {token}, "email": {"nobody-" + u.Email}, "password": {u.Password}})
		assert.Equal(t, http.StatusUnauthorized, res.Status, "an unknown email answers alike")
		res = b.post("/seller/login", url.Values{"csrf": {token}, "email": {u.Email}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "no password")
		assert.Equal(t, http.StatusSeeOther, b.get("/seller").Status, "still signed out")
	})

	t.Run("the right one signs in with a new session id", func(t *testing.T) {
		res := b.post("/seller/login", url.Values{"csrf": {token}, "email": {u.Email}, "password": {u.Password}})
		require.Equal(t, http.StatusSeeOther, res.Status, "%s", res.Body)
		assert.Equal(t, "/seller", res.Header.Get("Location"))
		c := sessionCookie(t, res)
		assert.NotEqual(t, pre.Value, c.Value, "the pre-session's id never becomes a signed-in one")
		assert.Equal(t, "goshop_seller", c.Name, "plain HTTP: no __Host- prefix")
		assert.True(t, c.HttpOnly)
		assert.False(t, c.Secure, "plain HTTP without an https PUBLIC_URL")
		assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
		assert.Equal(t, "/", c.Path)
		assert.Equal(t, int(env.App.Cfg.SellerSessionTTL.Seconds()), c.MaxAge)

		ctx := context.Background()
		stored, err := env.App.Redis.HGetAll(ctx, sessionKey(env, c.Value)).Result()
		require.NoError(t, err)
		assert.Equal(t, u.ID, stored["uid"], "the session is in Redis, keyed by the id's hash")
		ttl, err := env.App.Redis.TTL(ctx, sessionKey(env, c.Value)).Result()
		require.NoError(t, err)
		assert.Positive(t, ttl, "it expires")
		n, err := env.App.Redis.Exists(ctx, sessionKey(env, pre.Value)).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "the pre-session is gone")
		keys, err := env.App.Redis.Keys(ctx, env.App.Cfg.RedisPrefix+"*"+c.Value+"*").Result()
		require.NoError(t, err)
		assert.Empty(t, keys, "no key holds the cookie's value itself")

		dash := b.get("/seller")
		require.Equal(t, http.StatusOK, dash.Status)
		assert.Contains(t, string(dash.Body), "Bạn chưa có cửa hàng", "a user without a shop is told so")
		assert.Equal(t, http.StatusSeeOther, b.get("/seller/login").Status, "signed in: the form sends to the dashboard")
	})

	t.Run("English by ?lang=, then by the cookie it sets", func(t *testing.T) {
		res := b.get("/seller?lang=en")
		require.Equal(t, http.StatusOK, res.Status)
		assert.Contains(t, string(res.Body), `<html lang="en">`)
		assert.Contains(t, string(res.Body), "You have no shop yet")
		assert.Contains(t, string(b.get("/seller").Body), "You have no shop yet", "remembered")
		res = b.get("/seller?lang=fr")
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "a language the page does not have")
	})

	t.Run("Accept-Language picks a language when nothing else does", func(t *testing.T) {
		fresh := newBrowserClient(t, env)
		res := fresh.do(http.MethodGet, "/seller/login", nil, map[string]string{"Accept-Language": "en-GB,en;q=0.8"})
		assert.Contains(t, string(res.Body), "Sign in to the Seller Centre")
		res = fresh.do(http.MethodGet, "/seller/login", nil, map[string]string{"Accept-Language": "fr-FR,de;q=0.5"})
		assert.Contains(t, string(res.Body), "Đăng nhập Kênh Người Bán", "neither: Vietnamese")
	})
}

// TestSellerCookieIsSecureOverHTTPS: behind a proxy that ends TLS (PUBLIC_URL https), the cookie
// is Secure with the __Host- prefix though the request came over plain HTTP.
func TestSellerCookieIsSecureOverHTTPS(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.WithEnv("PUBLIC_URL", "https://shop.example"))
	u := env.Register(t, "Minh")
	b := newBrowserClient(t, env)
	form := b.get("/seller/login")
	require.Equal(t, http.StatusOK, form.Status)
	pre := sessionCookie(t, form)
	assert.Equal(t, "__Host-goshop_seller", pre.Name)
	assert.True(t, pre.Secure)
	// The cookie jar keeps a Secure cookie off plain HTTP, as a browser would: send it by hand.
	res := b.do(http.MethodPost, "/seller/login", url.Values{"csrf": {csrfOf(t, form)}, "email": {u.Email}, "password": {u.Password}},
		map[string]string{"Cookie": pre.Name + "=" + pre.Value, "Origin": "https://shop.example", "Sec-Fetch-Site": "same-origin"})
	require.Equal(t, http.StatusSeeOther, res.Status, "%s", res.Body)
	c := sessionCookie(t, res)
	assert.Equal(t, "__Host-goshop_seller", c.Name)
	assert.True(t, c.Secure)
	assert.True(t, c.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, "/", c.Path)
}

// TestSellerSignInSpendsTheAPIsLimit: the form and POST /auth/login share one budget per client.
func TestSellerSignInSpendsTheAPIsLimit(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.WithEnv("AUTH_RATE_PER_MINUTE", "3"))
	u := env.Register(t, "Hoa")
	b := newBrowserClient(t, env)
	form := b.get("/seller/login?lang=en")
	token := csrfOf(t, form)
	for range 3 {
		res := env.Post(t, "/auth/login", "", map[string]any{"email": u.Email, "password": "wrong password"})
		require.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Body)
	}
	res := b.post("/seller/login", url.Values{"csrf": {token}, "email": {u.Email}, "password": {u.Password}})
	assert.Equal(t, http.StatusTooManyRequests, res.Status, "%s", res.Body)
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	assert.Contains(t, string(res.Body), "Too many attempts")
	assert.Equal(t, http.StatusSeeOther, b.get("/seller").Status, "not signed in")
}

// TestSellerFormsNeedCSRF: every form post needs the session's token and a same-site origin.
func TestSellerFormsNeedCSRF(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	s := newShopWithOrder(t, env, "Tu")
	b := newBrowserClient(t, env)
	token := b.signIn(s.seller)
	confirm := "/seller/orders/" + s.orderID + "/confirm"

	for name, form := range map[string]url.Values{
		"without a token":   {"shop": {s.shopID}},
		"with a wrong one":  {"shop": {s.shopID}, "csrf": {strings.Repeat("A", len(token))}},
		"with an empty one": {"shop": {s.shopID}, "csrf": {""}},
	} {
		res := b.post(confirm, form)
		assert.Equal(t, http.StatusForbidden, res.Status, "%s: %s", name, res.Body)
	}
	res := b.do(http.MethodPost, confirm, url.Values{"shop": {s.shopID}, "csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
	assert.Equal(t, http.StatusForbidden, res.Status, "another site's form, token and all")
	res = b.do(http.MethodPost, confirm, url.Values{"shop": {s.shopID}, "csrf": {token}}, map[string]string{"Origin": "https://evil.example"})
	assert.Equal(t, http.StatusForbidden, res.Status, "another origin")
	res = b.post("/seller/logout", url.Values{})
	assert.Equal(t, http.StatusForbidden, res.Status, "sign-out needs the token too")
	assert.Equal(t, "pending", orderStatus(t, env, s.seller, s.orderID), "nothing moved")

	other := newBrowserClient(t, env)
	otherToken := other.signIn(env.Register(t, "Someone"))
	res = b.post(confirm, url.Values{"shop": {s.shopID}, "csrf": {otherToken}})
	assert.Equal(t, http.StatusForbidden, res.Status, "another session's token")
	res = newBrowserClient(t, env).post("/seller/login", url.Values{"csrf": {token}, "email": {s.seller.Email}, "password": {s.seller.Password}})
	assert.Equal(t, http.StatusForbidden, res.Status, "a sign-in without the form's session")

	res = b.post(confirm, url.Values{"shop": {s.shopID}, "csrf": {token}, "action": {"confirm"}})
	require.Equal(t, http.StatusSeeOther, res.Status, "%s", res.Body)
	assert.Equal(t, "/seller?shop="+s.shopID, res.Header.Get("Location"))
	assert.Equal(t, "confirmed", orderStatus(t, env, s.seller, s.orderID))
	dash := string(b.get(res.Header.Get("Location")).Body)
	assert.Contains(t, dash, "Đã xác nhận đơn "+strings.ToUpper(s.orderID[:8]), "the page says what was done")

	res = b.post("/seller/orders/"+s.orderID+"/ship", url.Values{"shop": {s.shopID}, "csrf": {token}})
	require.Equal(t, http.StatusSeeOther, res.Status, "%s", res.Body)
	assert.Equal(t, "shipped", orderStatus(t, env, s.seller, s.orderID))
	res = b.post(confirm, url.Values{"shop": {s.shopID}, "csrf": {token}})
	assert.Equal(t, http.StatusConflict, res.Status, "a shipped order cannot be confirmed: the service says no")
}

// TestSellerCannotMoveAnotherShopsOrder: the form is no way around the order service's rules.
func TestSellerCannotMoveAnotherShopsOrder(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	a := newShopWithOrder(t, env, "Ba")
	bob := env.Register(t, "Bay")
	bobShop := env.CreateShop(t, bob, "Tạp hoá Chú Bảy")
	b := newBrowserClient(t, env)
	token := b.signIn(bob)

	res := b.post("/seller/orders/"+a.orderID+"/confirm", url.Values{"shop": {bobShop}, "csrf": {token}})
	assert.Equal(t, http.StatusNotFound, res.Status, "naming his own shop: the order is not of it; %s", res.Body)
	res = b.post("/seller/orders/"+a.orderID+"/confirm", url.Values{"shop": {a.shopID}, "csrf": {token}})
	assert.Equal(t, http.StatusForbidden, res.Status, "naming its shop: not his; %s", res.Body)
	assert.Contains(t, string(res.Body), "Bạn không có quyền")
	res = b.post("/seller/orders/"+a.orderID+"/ship", url.Values{"shop": {a.shopID}, "csrf": {token}})
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.Equal(t, "pending", orderStatus(t, env, a.seller, a.orderID))

	res = b.get("/seller?shop=" + a.shopID)
	assert.Equal(t, http.StatusForbidden, res.Status, "nor may he open its dashboard")
	dash := string(b.get("/seller").Body)
	assert.Contains(t, dash, "Tạp hoá Chú Bảy", "his own")
	assert.NotContains(t, dash, a.orderID)

	admin := env.Admin(t, env.Register(t, "Admin"))
	ab := newBrowserClient(t, env)
	ab.signIn(admin)
	res = ab.get("/seller?shop=" + a.shopID)
	require.Equal(t, http.StatusOK, res.Status, "an admin may: %s", res.Body)
	assert.Contains(t, string(res.Body), `id="admin-note"`)
	assert.Contains(t, string(res.Body), a.orderID)
}

// TestSellerSignOut: signing out ends the identity context's session and deletes this one.
func TestSellerSignOut(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Mai")
	b := newBrowserClient(t, env)
	token := b.signIn(u)
	cookieURL, err := url.Parse(env.Server.URL)
	require.NoError(t, err)
	var id string
	for _, c := range b.c.Jar.Cookies(cookieURL) {
		if c.Name == "goshop_seller" {
			id = c.Value
		}
	}
	require.NotEmpty(t, id)
	ctx := context.Background()
	access, err := env.App.Redis.HGet(ctx, sessionKey(env, id), "access").Result()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, env.Get(t, "/users/profile", access).Status, "the session's token works")

	res := b.post("/seller/logout", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusSeeOther, res.Status, "%s", res.Body)
	assert.Equal(t, "/seller/login", res.Header.Get("Location"))
	n, err := env.App.Redis.Exists(ctx, sessionKey(env, id)).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the session is deleted")
	assert.Equal(t, http.StatusUnauthorized, env.Get(t, "/users/profile", access).Status, "its token ended with it")
	form := b.get("/seller/login")
	assert.Contains(t, string(form.Body), "Bạn đã đăng xuất.")

	replay := newBrowserClient(t, env)
	replay.c.Jar.SetCookies(cookieURL, []*http.Cookie{{Name: "goshop_seller", Value: id, Path: "/"}})
	res = replay.get("/seller")
	assert.Equal(t, http.StatusSeeOther, res.Status, "the old cookie opens nothing")
	assert.Equal(t, "/seller/login", res.Header.Get("Location"))
}

// TestSellerSessionEndsWithAPasswordChange: changing the password through the API ends the
// account's other sessions, the seller center's included, at its next request.
func TestSellerSessionEndsWithAPasswordChange(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	u := env.Register(t, "Hai")
	b := newBrowserClient(t, env)
	b.signIn(u)
	res := env.Post(t, "/auth/change-password", u.AccessToken, map[string]any{"current_password": u.Password,
		"new_password": "a brand new password"})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = b.get("/seller")
	require.Equal(t, http.StatusSeeOther, res.Status, "%s", res.Body)
	assert.Equal(t, "/seller/login", res.Header.Get("Location"))
	assert.Contains(t, string(b.get("/seller/login").Body), "Phiên đăng nhập đã kết thúc.")
	u.Password = "a brand new password"
	b.signIn(u)
}

// TestSellerSessionRefreshes: with access tokens that expire at once, every request refreshes,
// and requests of one session at the same time do not spend its refresh token twice (which the
// identity context would take for theft and answer by ending the session).
func TestSellerSessionRefreshes(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.WithEnv("ACCESS_TOKEN_TTL", "20s"))
	u := env.Register(t, "Nam")
	b := newBrowserClient(t, env)
	b.signIn(u)
	var wg sync.WaitGroup
	statuses := make([]int, 6)
	for i := range statuses {
		wg.Go(func() { statuses[i] = b.get("/seller").Status })
	}
	wg.Wait()
	for i, s := range statuses {
		assert.Equal(t, http.StatusOK, s, "request %d", i)
	}
	assert.Equal(t, http.StatusOK, b.get("/seller").Status, "still signed in")
}

// TestSellerDashboardShowsTheShop: revenue from the analytics rollups, as a figure and a chart,
// the waiting orders, the low stock and the reviews, in both languages.
func TestSellerDashboardShowsTheShop(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	seller := env.Register(t, "Sau")
	shopID := env.CreateShop(t, seller, "Gốm Chị Sáu")
	vase := env.CreateProduct(t, seller, shopID, "Bình gốm men lam", 250_000, 100)
	env.CreateProduct(t, seller, shopID, "Chén trà", 30_000, 3)
	buyer := env.Register(t, "Buyer")
	addr := env.CreateAddress(t, buyer)
	shipper := env.NewShipper(t, "Shipper", apptest.NearShop, true)
	delivered := env.CheckoutCOD(t, buyer, addr, vase.ID, 2)
	env.Deliver(t, delivered, seller, shipper)
	res := env.Post(t, "/shops/"+shopID+"/reviews", buyer.AccessToken, map[string]any{"order_id": delivered, "rating": 4,
		"comment": "Gói hàng cẩn thận"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	waiting := env.CheckoutCOD(t, buyer, addr, vase.ID, 1)
	awaitGross(t, env, seller, shopID, 500_000)

	b := newBrowserClient(t, env)
	b.signIn(seller)
	vi := string(b.get("/seller").Body)
	assert.Contains(t, vi, "Gốm Chị Sáu")
	assert.Contains(t, vi, `<p class="figure" id="revenue-total">500.000 ₫</p>`)
	assert.Contains(t, vi, `<svg id="revenue-chart"`)
	assert.Regexp(t, `<path class="line" d="M[0-9.]+ [0-9.]+( L[0-9.]+ [0-9.]+){29}"/>`, vi, "30 days drawn")
	assert.Contains(t, vi, `id="order-`+waiting+`"`, "the waiting order")
	assert.NotContains(t, vi, `id="order-`+delivered+`"`, "the delivered one needs nothing")
	assert.Contains(t, vi, "Bình gốm men lam × 1")
	assert.Contains(t, vi, "Chén trà")
	assert.Contains(t, vi, "Còn 3 (ngưỡng 5)")
	assert.NotContains(t, vi, "Còn 100", "plenty left: not low")
	assert.Contains(t, vi, "Gói hàng cẩn thận")
	assert.Contains(t, vi, "★★★★☆")

	en := string(b.get("/seller?lang=en").Body)
	assert.Contains(t, en, `<p class="figure" id="revenue-total">₫500,000</p>`)
	assert.Contains(t, en, "3 left (threshold 5)")
	assert.Contains(t, en, "Waiting for confirmation (1)")
	assert.Contains(t, en, fmt.Sprintf(`action="/seller/orders/%s/confirm"`, waiting))
}
