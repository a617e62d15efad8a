package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// fixture is what scenarios aim at: both servers and the data set up through the real API.
type fixture struct {
	client *http.Client
	goshop string // GoShop's base URL
	bare   string // the reference server's base URL
	userID string
	token  string // access token of the user
	// productIDs are listed products the product scenario cycles through; categoryID is a root
	// category whose listing spans its subtree.
	productIDs []string
	categoryID string
	// deliveries are orders under way, each carried by its own shipper; buyerToken is their
	// buyer's, who follows them live.
	deliveries []delivery
	buyerToken string
}

// scenario is one row pair of the report. To add one, append to scenarios; bare stays nil for
// flows that have no meaningful bare equivalent (checkout, say).
type scenario struct {
	name string
	// goshop aims the load at the GoShop server.
	goshop func(f *fixture) vegeta.Targeter
	// bare, when set, aims the same logical request at the reference server.
	bare func(f *fixture) vegeta.Targeter
}

var scenarios = []scenario{
	{
		name: "profile",
		goshop: func(f *fixture) vegeta.Targeter {
			return vegeta.NewStaticTargeter(vegeta.Target{
				Method: http.MethodGet,
				URL:    f.goshop + "/api/v1/users/profile",
				Header: http.Header{"Authorization": {"Bearer " + f.token}},
			})
		},
		bare: func(f *fixture) vegeta.Targeter {
			return vegeta.NewStaticTargeter(vegeta.Target{
				Method: http.MethodGet,
				URL:    f.bare + "/users/profile?id=" + url.QueryEscape(f.userID),
			})
		},
	},
	{
		name: "product",
		goshop: func(f *fixture) vegeta.Targeter {
			return getEach(f.productIDs, func(id string) string { return f.goshop + "/api/v1/products/" + id })
		},
		bare: func(f *fixture) vegeta.Targeter {
			return getEach(f.productIDs, func(id string) string { return f.bare + "/products/" + id })
		},
	},
	{
		name: "products?category",
		goshop: func(f *fixture) vegeta.Targeter {
			return vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet,
				URL: f.goshop + "/api/v1/products?category=" + url.QueryEscape(f.categoryID)})
		},
		bare: func(f *fixture) vegeta.Targeter {
			return vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet,
				URL: f.bare + "/products?category=" + url.QueryEscape(f.categoryID)})
		},
	},
	{
		// Shippers' GPS fixes ingested: each delivery's shipper posts its position, which is
		// stored and published to the delivery's live-tracking topic.
		name:   "location update",
		goshop: locationTargets,
	},
}

// getEach cycles GETs through the URLs that url makes of ids.
func getEach(ids []string, url func(id string) string) vegeta.Targeter {
	ts := make([]vegeta.Target, len(ids))
	for i, id := range ids {
		ts[i] = vegeta.Target{Method: http.MethodGet, URL: url(id)}
	}
	return vegeta.NewStaticTargeter(ts...)
}

// job is one measured row: a scenario aimed at one server.
type job struct {
	name    string
	targets vegeta.Targeter
}

// jobs expands the table in report order, each scenario's GoShop row above its bare row.
func jobs(f *fixture, table []scenario) []job {
	var out []job
	for _, sc := range table {
		out = append(out, job{name: sc.name + " (goshop)", targets: sc.goshop(f)})
		if sc.bare != nil {
			out = append(out, job{name: sc.name + " (bare pgx)", targets: sc.bare(f)})
		}
	}
	return out
}

// checkTarget sends one request before the load, so that a wrong token or route fails the bench
// with its answer instead of printing a row of errors.
func checkTarget(ctx context.Context, client *http.Client, name string, tr vegeta.Targeter) error {
	var t vegeta.Target
	if err := tr(&t); err != nil {
		return fmt.Errorf("bench: %s: target: %w", name, err)
	}
	req, err := t.Request()
	if err != nil {
		return fmt.Errorf("bench: %s: request: %w", name, err)
	}
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("bench: %s: %w", name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("bench: %s: %s %s: %s: %s", name, t.Method, t.URL, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// register creates the bench's user through the public API, so that the profile read hits a row
// made the way real rows are, and every bench run gets its own user without cleanup. The user
// also owns the delivery scenarios' shop.
func (f *fixture) register(ctx context.Context) error {
	var out struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AccessToken string `json:"access_token"`
	}
	if err := f.call(ctx, http.MethodPost, "/api/v1/auth/register", "", map[string]string{
		"email":     "bench-" + randomHex(8) + "@example.com",
		"password":  randomHex(16), // 32 characters, past any minimum length
		"full_name": "Bench User",
	}, &out); err != nil {
		return fmt.Errorf("bench: register: %w", err)
	}
	if out.User.ID == "" || out.AccessToken == "" {
		return errors.New("bench: register: no user id or access token")
	}
	f.userID, f.token = out.User.ID, out.AccessToken
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
