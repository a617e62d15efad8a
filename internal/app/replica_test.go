package app_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// queriesOn is how many statements the pool has run.
func queriesOn(t *testing.T, env *apptest.Env, pool string) int {
	t.Helper()
	return int(env.Metric(t, `goshop_db_queries_total{pool="`+pool+`"}`))
}

// proxy forwards TCP connections to target until it is cut: a replica that can go away.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

// cut stops accepting and breaks every connection, as a replica's crash would.
func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// through returns dbURL with its host replaced by the proxy's address.
func (p *proxy) through(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	u.Host = p.ln.Addr().String()
	return u.String()
}

// withReplica is a world on its own database whose replica is that database behind a proxy
// that can be cut.
func withReplica(t *testing.T) (*apptest.Env, *proxy) {
	t.Helper()
	dbURL := testdb.New(t)
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	replica := newProxy(t, u.Host)
	return apptest.New(t, apptest.WithEnv("DATABASE_URL", dbURL), apptest.WithEnv("DATABASE_READ_URL", replica.through(t, dbURL))), replica
}

// TestPublicReadsGoToTheReplicaAndFallBack: with DATABASE_READ_URL set, anonymous catalog and
// shop reads run on the replica (the query counter by pool says so) while the owner's reads of
// their own things stay on the primary; when the replica goes away, the same reads answer from
// the primary at once and /readyz stays 200 saying the replica is degraded.
func TestPublicReadsGoToTheReplicaAndFallBack(t *testing.T) {
	t.Parallel()
	env, replica := withReplica(t)

	seller := env.Register(t, "Seller")
	shopID := env.CreateShop(t, seller, "Replica shop")
	p := env.CreateProduct(t, seller, shopID, "Áo dài", 250_000, 5)

	ready := env.Get(t, "//readyz", "")
	require.Equal(t, http.StatusOK, ready.Status)
	assert.Equal(t, "ok", ready.Map(t)["replica"])

	t.Run("anonymous reads run on the replica", func(t *testing.T) {
		for _, path := range []string{"/products/" + p.ID, "/products", "/shops/" + shopID, "/shops", "/products/categories"} {
			before := queriesOn(t, env, "replica")
			res := env.Get(t, path, "")
			require.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
			assert.Greater(t, queriesOn(t, env, "replica"), before, "%s did not read from the replica", path)
		}
	})
	t.Run("the owner's reads of their own things stay on the primary", func(t *testing.T) {
		for _, path := range []string{"/products/" + p.ID, "/shops/" + shopID, "/shops?owner=me"} {
			before := queriesOn(t, env, "replica")
			res := env.Get(t, path, seller.AccessToken)
			require.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
			assert.Equal(t, before, queriesOn(t, env, "replica"), "%s read from the replica", path)
		}
		// A buyer naming only the product (its one variant is found for them) must find a
		// product listed a moment ago, which a replica behind might not hold yet.
		buyer := env.Register(t, "Buyer")
		before := queriesOn(t, env, "replica")
		res := env.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": p.ID, "quantity": 1})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		assert.Equal(t, before, queriesOn(t, env, "replica"), "adding to the cart read from the replica")
	})
	t.Run("a replica that goes away degrades reads to the primary", func(t *testing.T) {
		replica.cut()
		for _, path := range []string{"/products/" + p.ID, "/products", "/shops/" + shopID} {
			res := env.Get(t, path, "")
			require.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
		}
		ready := env.Get(t, "//readyz", "")
		require.Equal(t, http.StatusOK, ready.Status)
		assert.Equal(t, "degraded", ready.Map(t)["replica"])
	})
}

// TestAReplicaDownAtStartIsNotFatal: the app starts with an unreachable replica and serves
// every read from the primary.
func TestAReplicaDownAtStartIsNotFatal(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())
	env := apptest.New(t, apptest.WithEnv("DATABASE_READ_URL", "postgres://postgres@"+dead+"/goshop?sslmode=disable"))
	res := env.Get(t, "/products", "")
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	ready := env.Get(t, "//readyz", "")
	require.Equal(t, http.StatusOK, ready.Status)
	assert.Equal(t, "degraded", ready.Map(t)["replica"])
	assert.Zero(t, queriesOn(t, env, "replica"))
}

// TestSearchAndReviewReadsGoToTheReplica: with DATABASE_READ_URL set, anonymous search,
// trending, recommendation, price-comparison and review reads run on the replica, while a
// signed-in reader's reviews, history and alerts stay on the primary, so that a buyer sees their
// own review at once.
func TestSearchAndReviewReadsGoToTheReplica(t *testing.T) {
	t.Parallel()
	env, _ := withReplica(t)

	seller, buyer := env.Register(t, "Seller"), env.Register(t, "Buyer")
	shopID := env.CreateShop(t, seller, "Replica shop")
	p := env.CreateProduct(t, seller, shopID, "Áo dài lụa", 250_000, 5)
	shipper := env.NewShipper(t, "Shipper", apptest.NearShop, true)
	orderID := env.CheckoutCOD(t, buyer, env.CreateAddress(t, buyer), p.ID, 1)
	env.Deliver(t, orderID, seller, shipper)
	res := env.Post(t, "/products/"+p.ID+"/reviews", buyer.AccessToken, map[string]any{"rating": 5, "comment": "Vải đẹp, giao nhanh"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	reviewID := res.Map(t)["id"].(string)
	apptest.Eventually(t, func() bool {
		res := env.Get(t, "/search?q=ao+dai", "")
		return res.Status == http.StatusOK && strings.Contains(string(res.Body), p.ID)
	}, "the product is indexed")

	t.Run("anonymous reads run on the replica", func(t *testing.T) {
		for _, path := range []string{
			"/search?q=ao+dai", "/products/search?q=ao", "/search/filters/available?q=ao", "/search/autocomplete?q=ao",
			"/search/suggestions?q=ao", "/trending/products", "/trending/shops", "/trending/categories", "/popular/searches",
			"/products/" + p.ID + "/price-comparison", "/products/similar-price?product_id=" + p.ID, "/products/" + p.ID + "/related",
			"/recommendations/products", "/recommendations/shops",
			"/products/" + p.ID + "/reviews", "/shops/" + shopID + "/reviews", "/shippers/" + shipper.ID + "/reviews",
			"/reviews/" + reviewID, "/reviews/verified-purchases?product_id=" + p.ID, "/reviews/rating-distribution?product_id=" + p.ID,
			"/reviews/sentiment-analysis?product_id=" + p.ID, "/shops/" + shopID + "/rating-summary",
		} {
			before := queriesOn(t, env, "replica")
			res := env.Get(t, path, "")
			require.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
			assert.Greater(t, queriesOn(t, env, "replica"), before, "%s did not read from the replica", path)
		}
	})
	t.Run("a signed-in reader's reviews, history and alerts stay on the primary", func(t *testing.T) {
		for _, path := range []string{"/products/" + p.ID + "/reviews", "/reviews/" + reviewID, "/shops/" + shopID + "/reviews",
			"/recent/products", "/recent/searches", "/price-alerts"} {
			before := queriesOn(t, env, "replica")
			res := env.Get(t, path, buyer.AccessToken)
			require.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
			assert.Equal(t, before, queriesOn(t, env, "replica"), "%s read from the replica", path)
		}
	})
}
