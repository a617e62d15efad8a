package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// proxyReady starts the line the proxy prints on stdout once it accepts connections, followed
// by its base URL.
const proxyReady = "proxy listening on "

// runProxy is `goshop bench proxy`: the round-robin reverse proxy the two-instance rows load
// GoShop through, as a load balancer in front of API instances would. It runs in a process of
// its own so that the rows can say how much CPU the hop itself took, apart from the load
// generator's.
func runProxy(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench proxy", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	backends := fs.String("backends", "", "base URLs of the instances, comma-separated, each given requests in turn")
	idle := fs.Int("max-idle", 64, "idle connections kept to each instance (at least the load's concurrency, so that each request reuses one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var urls []*url.URL
	for b := range strings.SplitSeq(*backends, ",") {
		if b = strings.TrimSpace(b); b == "" {
			continue
		}
		u, err := url.Parse(b)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("bench proxy: -backends: %q is not an http(s) base URL", b)
		}
		urls = append(urls, u)
	}
	if len(urls) == 0 || fs.NArg() > 0 || *idle < 1 {
		return errors.New("usage: goshop bench proxy -backends URL[,URL...] [-addr HOST:PORT] [-max-idle N], N >= 1")
	}
	return serveAnnounced(ctx, "bench proxy", *addr, newRoundRobin(urls, *idle), proxyReady, stdout)
}

// newRoundRobin is a reverse proxy that sends each request to the next of backends in turn,
// keeping up to maxIdle idle keep-alive connections to each, so that the hop costs a request's
// copy and not a TCP handshake. A backend that does not answer makes the request fail with 502,
// an error of the row, rather than being skipped: the rows measure the instances, not a
// failover.
func newRoundRobin(backends []*url.URL, maxIdle int) *httputil.ReverseProxy {
	var next atomic.Uint64
	n := uint64(len(backends))
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(backends[(next.Add(1)-1)%n])
			pr.SetXForwarded()
		},
		Transport: &http.Transport{
			// No Proxy: the instances are on loopback, and an HTTP_PROXY in the environment must
			// not put a second hop into the measurement.
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: maxIdle,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}
