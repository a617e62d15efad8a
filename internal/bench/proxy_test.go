package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoBackend answers its name and the request's path and query.
func echoBackend(t *testing.T, name string) *url.URL {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s?%s %s", name, r.URL.Path, r.URL.RawQuery, r.Header.Get("X-Forwarded-For"))
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return u
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(body)
}

func TestRoundRobinTakesTheBackendsInTurn(t *testing.T) {
	t.Parallel()
	proxy := httptest.NewServer(newRoundRobin([]*url.URL{echoBackend(t, "a"), echoBackend(t, "b"), echoBackend(t, "c")}, 4))
	t.Cleanup(proxy.Close)
	var got []string
	for i := range 7 {
		status, body := get(t, fmt.Sprintf("%s/api/v1/products?category=x&i=%d", proxy.URL, i))
		require.Equal(t, http.StatusOK, status, body)
		name, rest, _ := strings.Cut(body, " ")
		got = append(got, name)
		assert.Equal(t, fmt.Sprintf("/api/v1/products?category=x&i=%d 127.0.0.1", i), rest, "path, query and X-Forwarded-For pass through")
	}
	assert.Equal(t, []string{"a", "b", "c", "a", "b", "c", "a"}, got)
}

func TestRoundRobinAnswers502ForABackendThatIsDown(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL, err := url.Parse(down.URL)
	require.NoError(t, err)
	down.Close()
	proxy := httptest.NewServer(newRoundRobin([]*url.URL{echoBackend(t, "a"), downURL}, 4))
	t.Cleanup(proxy.Close)
	status, _ := get(t, proxy.URL+"/x")
	assert.Equal(t, http.StatusOK, status)
	status, _ = get(t, proxy.URL+"/x")
	assert.Equal(t, http.StatusBadGateway, status, "the failure is the row's, not skipped")
}

func TestRunProxyAnnouncesItselfAndStopsWithItsContext(t *testing.T) {
	t.Parallel()
	a, b := echoBackend(t, "a"), echoBackend(t, "b")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"proxy", "-backends", a.String() + ", " + b.String(), "-max-idle", "2"}, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	base, ok := strings.CutPrefix(strings.TrimSpace(line), proxyReady)
	require.True(t, ok, "%q", line)
	_, first := get(t, base+"/p")
	_, second := get(t, base+"/p")
	assert.Equal(t, []string{"a", "b"}, []string{first[:1], second[:1]})
	cancel()
	require.NoError(t, <-done)

	for _, bad := range [][]string{{}, {"-backends", ""}, {"-backends", "127.0.0.1:80"}, {"-backends", a.String(), "-max-idle", "0"},
		{"-backends", a.String(), "extra"}} {
		assert.Error(t, runProxy(context.Background(), bad, io.Discard), "%q", bad)
	}
}
