package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/web"
)

// directives splits a Content-Security-Policy into its directives, name to value.
func directives(csp string) map[string]string {
	out := map[string]string{}
	for d := range strings.SplitSeq(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		out[name] = value
	}
	return out
}

var (
	scriptTagRE = regexp.MustCompile(`<script\b[^>]*>`)
	scriptSrcRE = regexp.MustCompile(`<script src="(/assets/` + regexp.QuoteMeta(web.TrackScript) + `\?v=[0-9a-f]+)"></script>`)
)

// TestTrackPageIsServedWithAStrictCSP: the tracking page is a shell whose only script is the
// vendored file, under a CSP that runs scripts from this server only and connects nowhere else;
// it speaks Vietnamese unless asked for English.
func TestTrackPageIsServedWithAStrictCSP(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	id := uuid.NewString()
	res := env.Get(t, "//track/"+id, "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	csp := directives(res.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "'none'", csp["default-src"])
	assert.Equal(t, "'self'", csp["script-src"], "no inline script, no eval, no other site")
	assert.Equal(t, "'self'", csp["connect-src"], "the API and its WebSocket are this server")
	assert.Equal(t, "'none'", csp["frame-ancestors"])
	assert.Equal(t, "'none'", csp["base-uri"])

	body := string(res.Body)
	assert.Contains(t, body, `<html lang="vi">`)
	assert.Contains(t, body, "Theo dõi đơn hàng")
	assert.Contains(t, body, `data-order="`+id+`"`)
	// Every script element is the vendored file or data; no handler attribute, no other site.
	tags := scriptTagRE.FindAllString(body, -1)
	require.Len(t, tags, 2, "the strings and the script")
	assert.Equal(t, `<script type="application/json" id="track-text">`, tags[0])
	src := scriptSrcRE.FindStringSubmatch(body)
	require.NotNil(t, src, "the page loads %s from /assets", web.TrackScript)
	assert.NotRegexp(t, `\son[a-z]+=`, body)
	assert.NotRegexp(t, `(src|href|action)="(https?:)?//`, body)

	js := env.Get(t, "/"+src[1], "")
	require.Equal(t, http.StatusOK, js.Status)
	assert.Equal(t, "text/javascript; charset=utf-8", js.Header.Get("Content-Type"))
	assert.Contains(t, string(js.Body), "/live-tracking?token=")

	en := env.Get(t, "//track/"+id+"?lang=en", "")
	require.Equal(t, http.StatusOK, en.Status)
	assert.Contains(t, string(en.Body), `<html lang="en">`)
	assert.Contains(t, string(en.Body), "Track your order")

	assert.Equal(t, http.StatusNotFound, env.Get(t, "//track/not-an-order", "").Status)
	assert.Equal(t, http.StatusUnprocessableEntity, env.Get(t, "//track/"+id+"?lang=fr", "").Status)
}

// trackedOrder is an order of buyer on its way: confirmed by the seller, assigned to shipper,
// picked up, with a first position posted.
func trackedOrder(t *testing.T, env *apptest.Env) (id string, buyer, shipper apptest.User) {
	t.Helper()
	seller := env.Register(t, "Seller")
	shop := env.CreateShop(t, seller, "Tracked shop")
	p := env.CreateProduct(t, seller, shop, "Nón lá", 120_000, 10)
	buyer = env.Register(t, "Buyer")
	addr := env.CreateAddress(t, buyer)
	shipper = env.NewShipper(t, "Shipper", apptest.NearShop, true)
	id = env.CheckoutCOD(t, buyer, addr, p.ID, 1)
	res := env.Put(t, "/orders/"+id+"/confirm", seller.AccessToken, nil)
	require.Equal(t, http.StatusOK, res.Status, "confirm: %s", res.Body)
	apptest.Eventually(t, func() bool {
		res := env.Get(t, "/shipping/"+id+"/tracking", buyer.AccessToken)
		return res.Status == http.StatusOK && res.Map(t)["shipper_id"] == shipper.ID
	}, "the shipper is assigned")
	res = env.Put(t, "/shipping/"+id+"/status", shipper.AccessToken, map[string]any{"status": "picked_up"})
	require.Equal(t, http.StatusOK, res.Status, "picked up: %s", res.Body)
	res = env.Post(t, "/shipping/"+id+"/location", shipper.AccessToken, map[string]any{"lat": 10.779, "lng": 106.703})
	require.Equal(t, http.StatusOK, res.Status, "location: %s", res.Body)
	return id, buyer, shipper
}

// signIn fills the page's sign-in form.
func signIn(ctx context.Context, u apptest.User) error {
	return chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('email').value = ''`),
		chromedp.SendKeys(chromedp.ID("email"), u.Email),
		chromedp.SendKeys(chromedp.ID("password"), u.Password),
		chromedp.Click(chromedp.ID("signin-submit")))
}

// TestTrackPageFollowsTheShipperInABrowser: at a phone's width, the buyer signs in on the page,
// sees the order's history and the shipper on the map, and the marker moves when the shipper
// posts a position through the API; another buyer signing in is told the order is not found.
func TestTrackPageFollowsTheShipperInABrowser(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	env := apptest.New(t)
	id, buyer, shipper := trackedOrder(t, env)
	dir := screenshots(t)
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		require.NoError(t, err)
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, png, 0o644))
		t.Logf("screenshot: %s", path)
	}
	marker := func() []string {
		t.Helper()
		xy, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
			`['cx', 'cy'].map(a => document.getElementById('shipper').getAttribute(a))`))
		require.NoError(t, err)
		return xy
	}

	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(env.Server.URL+"/track/"+id+"?lang=en")))
	shot("track-sign-in.png")
	require.NoError(t, signIn(ctx, buyer))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`#timeline li[data-status="shipped"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#shipper[data-lat="10.779"]`)),
		// The stream has said it is subscribed: every position posted from now on reaches it.
		chromedp.WaitVisible(chromedp.CSS(`#map[data-live="on"]`))))
	timeline, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("timeline")))
	require.NoError(t, err)
	for _, step := range []string{"Order placed", "Confirmed by the shop", "On its way"} {
		assert.Contains(t, timeline, step)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("shipment-status")))
	require.NoError(t, err)
	assert.Contains(t, status, "Picked up")
	before := marker()
	shot("track-following.png")

	res := env.Post(t, "/shipping/"+id+"/location", shipper.AccessToken, map[string]any{"lat": 10.7712, "lng": 106.6951})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#shipper[data-lat="10.7712"]`))))
	after := marker()
	assert.NotEqual(t, before, after, "the marker moved on the map")
	shot("track-moved.png")

	// Usable at a phone's width: nothing wider than the screen; and nothing came from elsewhere.
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
	require.NoError(t, err)
	assert.True(t, fits, "the page scrolls sideways at 390 px")
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`performance.getEntriesByType('resource').map(e => e.name)`))
	require.NoError(t, err)
	require.NotEmpty(t, loaded)
	for _, u := range loaded {
		assert.True(t, strings.HasPrefix(u, env.Server.URL+"/"), "the page fetched %s", u)
	}

	// Another buyer signs in on the same page: the API's 404, shown as not found.
	other := env.Register(t, "Other buyer")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("signout"))))
	require.NoError(t, signIn(ctx, other))
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#message[data-kind="not-found"]`))))
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("message")))
	require.NoError(t, err)
	assert.Contains(t, msg, "Order not found")
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('order').hidden`))
	require.NoError(t, err)
	assert.True(t, hidden, "nothing of the order is shown")
	shot("track-not-found.png")
}
