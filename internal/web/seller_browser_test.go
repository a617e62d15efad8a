package web_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
)

// TestSellerCenterInABrowser: a seller signs in on /seller in Chromium, sees the shop's revenue
// figure and chart (from the analytics rollups the River workers keep), confirms the waiting
// order and sees it leave the list of orders to confirm; then the page at a phone's width.
func TestSellerCenterInABrowser(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	seller := env.Register(t, "Seller")
	shopID := env.CreateShop(t, seller, "Gốm Bát Tràng")
	vase := env.CreateProduct(t, seller, shopID, "Bình gốm men lam", 250_000, 100)
	env.CreateProduct(t, seller, shopID, "Chén trà", 30_000, 2)
	buyer := env.Register(t, "Buyer")
	order := env.CheckoutCardPaid(t, buyer, env.CreateAddress(t, buyer), vase.ID, 1)
	awaitGross(t, env, seller, shopID, 250_000)

	ctx := browser(t) // its deadline starts now, past the setup
	dir := screenshots(t)
	shoot := func(name string) {
		t.Helper()
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, shot, 0o644))
		t.Logf("screenshot: %s", path)
	}

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(env.Server.URL+"/seller/login?lang=vi"),
		chromedp.WaitVisible(chromedp.CSS(`#signin`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), seller.Email),
		chromedp.SendKeys(chromedp.CSS(`#password`), seller.Password),
		chromedp.Click(chromedp.CSS(`#signin button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#revenue-total`)),
	))
	total, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#revenue-total`)))
	require.NoError(t, err)
	assert.Equal(t, "250.000 ₫", total)
	line, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('svg#revenue-chart path.line').getAttribute('d')`))
	require.NoError(t, err)
	assert.Regexp(t, `^M[0-9.]+ [0-9.]+( L[0-9.]+ [0-9.]+){29}$`, line, "a line through 30 days")
	days, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('svg#revenue-chart circle').length`))
	require.NoError(t, err)
	assert.Equal(t, 30, days)
	low, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#low-stock`)))
	require.NoError(t, err)
	assert.Contains(t, low, "Chén trà")
	shoot("seller-dashboard.png")

	pending := chromedp.CSS(`#pending #order-` + order)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.WaitVisible(pending),
		chromedp.Click(chromedp.CSS(`#pending #order-`+order+` button`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash`)),
		chromedp.WaitNotPresent(pending),
		chromedp.WaitVisible(chromedp.CSS(`#confirmed #order-`+order)),
	))
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#flash`)))
	require.NoError(t, err)
	assert.Contains(t, flash, "Đã xác nhận đơn")
	assert.Equal(t, "confirmed", orderStatus(t, env, seller, order), "the order service moved it")
	shoot("seller-confirmed.png")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(env.Server.URL+"/seller?lang=en"),
		chromedp.WaitVisible(chromedp.CSS(`#revenue-total`)),
	))
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	require.NoError(t, err)
	assert.False(t, overflow, "nothing sticks out sideways at a phone's width")
	total, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#revenue-total`)))
	require.NoError(t, err)
	assert.Equal(t, "₫250,000", total)
	shoot("seller-phone.png")
}
