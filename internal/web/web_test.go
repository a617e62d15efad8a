package web_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/web"
)

func TestLandingPageSaysWhatRuns(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	res := env.Get(t, "//", "")
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	body := string(res.Body)
	for _, want := range []string{`href="/docs"`, `href="/api/v1/openapi.json"`, `href="/healthz"`, `href="/readyz"`, `href="/metrics"`,
		"postgres: ok", "redis: ok"} {
		assert.Contains(t, body, want)
	}
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "script-src 'self'")
}

func TestAssetsAreCachedAndConfined(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	res := env.Get(t, "//assets/"+web.RedocBundle, "")
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Contains(t, res.Header.Get("Cache-Control"), "immutable")
	etag := res.Header.Get("ETag")
	require.NotEmpty(t, etag)
	assert.Greater(t, len(res.Body), 500_000)

	again := env.Do(t, apptest.Req{Method: http.MethodGet, Path: "//assets/" + web.RedocBundle, Header: map[string]string{"If-None-Match": etag}})
	assert.Equal(t, http.StatusNotModified, again.Status)
	assert.Empty(t, again.Body)

	for _, name := range []string{"nothing.js", "..%2Ftemplates%2Fhome.html", "%2E%2E", "REDOC-LICENSE%00"} {
		res := env.Get(t, "//assets/"+name, "")
		assert.Contains(t, []int{http.StatusNotFound, http.StatusUnprocessableEntity}, res.Status, name)
	}
}

// browser starts headless Chromium, or skips when it is not installed; .ci/run installs it and
// sets GOSHOP_BROWSER_TESTS=required, so CI never skips.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath("chromium"); err != nil {
		if os.Getenv("GOSHOP_BROWSER_TESTS") == "required" {
			t.Fatalf("chromium is required (GOSHOP_BROWSER_TESTS=required) and not installed: %v", err)
		}
		t.Skip("chromium is not installed (apt-get install chromium); .ci/run installs it")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath("chromium"), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// screenshots is where browser tests leave what they saw; the test prints it.
func screenshots(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "goshop-screenshots")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// TestDocsRenderInABrowser: the API reference renders in Chromium from the embedded viewer and
// the served document, and lists the operations (by their summaries).
func TestDocsRenderInABrowser(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := browser(t)
	const operation = chromedp.CSS(`[data-section-id^="operation/"]`)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(env.Server.URL+"/docs"), chromedp.WaitVisible(operation)))
	operations, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-section-id^="operation/"]').length`))
	require.NoError(t, err)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.api-content`)))
	require.NoError(t, err)
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	path := filepath.Join(screenshots(t), "docs.png")
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot: %s", path)
	routes, err := env.App.Routes()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, operations, len(routes)-5, "operations rendered")
	for _, summary := range []string{"Open a shop owned by the caller", "The OpenAPI 3.1 document of this API"} {
		assert.True(t, strings.Contains(text, summary), "the page does not show %q", summary)
	}
}
