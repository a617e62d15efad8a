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
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// fixture is what scenarios aim at: both servers and the data set up through the real API.
type fixture struct {
	client *http.Client
	goshop string // GoShop's base URL
	bare   string // the reference server's base URL ("" when no chosen scenario needs it)
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
	// checkout is the checkout rows' shops, products and buyers.
	checkout *checkoutFixture
	// reviewed is the product with benchReviews reviews, and its shop (review.go).
	reviewed, reviewedShop string
	// analytics is the analytics rows' shop and its owner (analytics.go).
	analytics *analyticsFixture
}

// runner is what a scenario's setup and measurement get: the options, the fixture, the load
// shape, the bench's own database pool (for setup reads, never inside a measured row) and the
// report, for ratios and notes.
type runner struct {
	o    options
	f    *fixture
	load loadConfig
	pool *pgxpool.Pool
	rep  *report
	// env is the server's environment (database, Redis, JWT secret), for commands the bench
	// runs with it (seed).
	env []string
}

// scenario is one or more rows of the report, selected by name with -only. To add one, append
// it to scenarios (a file of its own may do so from an init function). A scenario either aims
// closed-loop load at one route (targets; with reference, the same requests also go to the
// reference server, in the row below), or measures a flow of its own (measure).
type scenario struct {
	name string
	// setup prepares what the scenario needs before any row runs, typically a runner method
	// such as (*runner).pickProducts; setups shared by several scenarios must do nothing the
	// second time.
	setup func(r *runner, ctx context.Context) error
	// targets aims the load at the server at base (GoShop's or the reference's).
	targets   func(f *fixture, base string) vegeta.Targeter
	reference bool
	// rows names the rows measure reports, for the table's layout; measure runs them, handing
	// each to emit as it finishes. A row with errors is reported, not returned as an error.
	rows    func(o options) []string
	measure func(ctx context.Context, r *runner, emit func(stats) error) error
	// placesOrders marks a scenario that checks out orders as it measures: -checkout=false
	// leaves it out with the checkout rows.
	placesOrders bool
}

var scenarios = []scenario{
	{
		name:      "profile",
		reference: true,
		targets: func(f *fixture, base string) vegeta.Targeter {
			return vegeta.NewStaticTargeter(vegeta.Target{
				Method: http.MethodGet,
				URL:    base + "/api/v1/users/profile",
				Header: http.Header{"Authorization": {"Bearer " + f.token}},
			})
		},
	},
	{
		name:      "product",
		reference: true,
		setup:     (*runner).pickProducts,
		targets: func(f *fixture, base string) vegeta.Targeter {
			return getEach(f.productIDs, func(id string) string { return base + "/api/v1/products/" + id })
		},
	},
	{
		name:      "products?category",
		reference: true,
		setup:     (*runner).pickCategory,
		targets: func(f *fixture, base string) vegeta.Targeter {
			return vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet,
				URL: base + "/api/v1/products?category=" + url.QueryEscape(f.categoryID)})
		},
	},
	{
		// Shippers' GPS fixes ingested: each delivery's shipper posts its position, which is
		// stored and published to the delivery's live-tracking topic.
		name:    "location update",
		setup:   (*runner).setupDeliveries,
		targets: locationTargets,
	},
	checkoutScenario,
	{
		name:    "live tracking",
		setup:   (*runner).setupDeliveries,
		rows:    func(o options) []string { return []string{liveRowName(o.Live)} },
		measure: measureLive,
	},
}

// rowNames are the rows sc reports.
func (sc scenario) rowNames(o options) []string {
	if sc.measure != nil {
		return sc.rows(o)
	}
	names := []string{sc.name + " (goshop)"}
	if sc.reference {
		names = append(names, sc.name+" (bare pgx)")
	}
	return names
}

// chosen is the scenarios -only names (all when empty), without checkout and the others that
// place orders under -checkout=false.
func chosen(table []scenario, only []string, checkout bool) ([]scenario, error) {
	var names []string
	for _, sc := range table {
		names = append(names, sc.name)
	}
	for _, n := range only {
		if !slices.Contains(names, n) {
			return nil, fmt.Errorf("bench: -only: no scenario %q (there are: %s)", n, strings.Join(names, ", "))
		}
	}
	var out []scenario
	for _, sc := range table {
		if (len(only) == 0 || slices.Contains(only, sc.name)) && (checkout || (sc.name != checkoutScenario.name && !sc.placesOrders)) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("bench: no scenario left to run")
	}
	return out, nil
}

// getEach cycles GETs through the URLs that url makes of ids.
func getEach(ids []string, url func(id string) string) vegeta.Targeter {
	ts := make([]vegeta.Target, len(ids))
	for i, id := range ids {
		ts[i] = vegeta.Target{Method: http.MethodGet, URL: url(id)}
	}
	return vegeta.NewStaticTargeter(ts...)
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
