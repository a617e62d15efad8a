package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The analytics rows read the figures of one shop with -analytics-orders orders (100,000 by
// default) over the last year. Its owner is the same account every run, so that a second run
// finds the shop and its orders and only tops them up.
const (
	analyticsEmail    = "bench-analytics@example.com"
	analyticsPassword = "bench-password-123"
	analyticsProducts = 20
	// analyticsSeedChunk is how many orders one seeding statement inserts.
	analyticsSeedChunk = 10_000
	analyticsRebuild   = "analytics rebuild"
)

func init() {
	scenarios = append(scenarios,
		scenario{
			// `goshop analytics rebuild`: every order read again from the order and payment
			// contexts and every rollup recomputed, in one transaction. It runs before the reads,
			// which its TRUNCATE would block.
			name:    analyticsRebuild,
			setup:   (*runner).setupAnalytics,
			rows:    func(o options) []string { return []string{analyticsRebuildRow(o)} },
			measure: measureAnalyticsRebuild,
		},
		scenario{
			// A year of revenue by month beside the year before: two ranges of rollup rows.
			name:  "analytics revenue",
			setup: (*runner).setupAnalytics,
			targets: func(f *fixture, base string) vegeta.Targeter {
				return analyticsTarget(f, base, "/analytics/revenue?granularity=month&")
			},
		},
		scenario{
			// A year's ten best sellers by units and by revenue, their views and the shop's low stock.
			name:  "analytics top products",
			setup: (*runner).setupAnalytics,
			targets: func(f *fixture, base string) vegeta.Targeter {
				return analyticsTarget(f, base, "/analytics/products?limit=10&")
			},
		})
}

// analyticsFixture is the analytics rows' shop and its owner's token.
type analyticsFixture struct {
	token, userID, shopID string
	from, to              string
}

// analyticsTarget aims at one of the shop's analytics routes over the last 366 days (the most a
// range may cover); route ends in "?" or "&".
func analyticsTarget(f *fixture, base, route string) vegeta.Targeter {
	a := f.analytics
	return vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet,
		URL:    base + "/api/v1/shops/" + a.shopID + route + "from=" + a.from + "&to=" + a.to,
		Header: http.Header{"Authorization": {"Bearer " + a.token}}})
}

func analyticsRebuildRow(o options) string {
	return fmt.Sprintf("%s (%d-order shop)", analyticsRebuild, o.AnalyticsOrders)
}

// setupAnalytics signs the analytics shop's owner in (registering them the first time), gives
// the shop its products through the API and tops its orders up to -analytics-orders with
// set-based inserts straight into the order context's tables (the API would take hours), then
// builds the rollups with `goshop analytics rebuild` unless the rebuild row is about to.
func (r *runner) setupAnalytics(ctx context.Context) error {
	if r.f.analytics != nil {
		return nil
	}
	a := &analyticsFixture{}
	if err := r.analyticsOwner(ctx, a); err != nil {
		return fmt.Errorf("bench: analytics: %w", err)
	}
	to := time.Now()
	a.to, a.from = to.Format(time.DateOnly), to.AddDate(0, 0, -365).Format(time.DateOnly)
	var have int
	if err := r.pool.QueryRow(ctx, "SELECT count(*) FROM orders.orders WHERE shop_id = $1", a.shopID).Scan(&have); err != nil {
		return fmt.Errorf("bench: analytics: count orders: %w", err)
	}
	if have < r.o.AnalyticsOrders {
		fmt.Fprintf(r.o.ServerOutput, "bench: the analytics shop has %d orders; seeding %d\n", have, r.o.AnalyticsOrders-have)
		start := time.Now()
		for have < r.o.AnalyticsOrders {
			n := min(analyticsSeedChunk, r.o.AnalyticsOrders-have)
			if _, err := r.pool.Exec(ctx, analyticsSeedSQL, a.shopID, n); err != nil {
				return fmt.Errorf("bench: analytics: seed orders: %w", err)
			}
			have += n
		}
		fmt.Fprintf(r.o.ServerOutput, "bench: seeded the analytics shop's orders in %s\n", time.Since(start).Round(time.Millisecond))
	}
	var facts int
	if err := r.pool.QueryRow(ctx, "SELECT count(*) FROM analytics.orders WHERE shop_id = $1", a.shopID).Scan(&facts); err != nil {
		return fmt.Errorf("bench: analytics: count facts: %w", err)
	}
	rebuildRow := len(r.o.Only) == 0 || slices.Contains(r.o.Only, analyticsRebuild)
	if facts != have && !rebuildRow {
		if _, _, err := runAnalyticsRebuild(ctx, r.o, r.env); err != nil {
			return err
		}
	}
	r.f.analytics = a
	return nil
}

// analyticsOwner signs in the analytics shop's owner, or registers them, and finds or opens
// their shop with its products.
func (r *runner) analyticsOwner(ctx context.Context, a *analyticsFixture) error {
	var auth struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	err := r.f.call(ctx, http.MethodPost, "/api/v1/auth/login", "", map[string]any{"email": analyticsEmail, "password": analyticsPassword}, &auth)
	if se := (*statusError)(nil); errors.As(err, &se) && se.status == http.StatusUnauthorized {
		err = r.f.call(ctx, http.MethodPost, "/api/v1/auth/register", "", map[string]any{
			"email": analyticsEmail, "password": analyticsPassword, "full_name": "Bench analytics"}, &auth)
	}
	if err != nil {
		return err
	}
	a.token, a.userID = auth.AccessToken, auth.User.ID
	err = r.pool.QueryRow(ctx, "SELECT id::text FROM shop.shops WHERE owner_id = $1 AND deleted_at IS NULL ORDER BY created_at LIMIT 1",
		a.userID).Scan(&a.shopID)
	if err != nil {
		if a.shopID, err = r.f.newShop(ctx, a.token, "Bench analytics shop", 10.78, 106.70); err != nil {
			return err
		}
	}
	var products int
	if err := r.pool.QueryRow(ctx, "SELECT count(*) FROM catalog.products WHERE shop_id = $1 AND deleted_at IS NULL",
		a.shopID).Scan(&products); err != nil {
		return fmt.Errorf("count products: %w", err)
	}
	for i := products; i < analyticsProducts; i++ {
		// Stock 5: some at or under the default low-stock threshold, as a shop's would be.
		if _, err := r.f.newProduct(ctx, a.token, a.shopID, fmt.Sprintf("Bench analytics product %02d", i+1), 5+i); err != nil {
			return err
		}
	}
	return nil
}

// analyticsSeedSQL inserts $2 cash-on-delivery orders of shop $1, one line each of one of the
// shop's products (1 to 3 units at its price), placed over the year before the last four days:
// nine in ten delivered three days after they were placed (a sale that day), the rest
// cancelled. The orders are whole as the order context writes them (totals, timestamps,
// statuses), so the analytics rebuild reads them as any other.
const analyticsSeedSQL = `
WITH prods AS (
	SELECT (row_number() OVER (ORDER BY p.id) - 1)::int AS k, p.id, v.id AS variant_id, p.title, v.price
	FROM catalog.products p
	JOIN LATERAL (SELECT id, price FROM catalog.variants WHERE product_id = p.id ORDER BY created_at, id LIMIT 1) v ON true
	WHERE p.shop_id = $1 AND p.deleted_at IS NULL
),
src AS (
	SELECT gen_random_uuid() AS id, pr.id AS product_id, pr.variant_id, pr.title, pr.price, g.qty, g.placed, g.delivered
	FROM (
		SELECT (1 + floor(random() * 3))::int AS qty,
			now() - interval '4 days' - random() * interval '361 days' AS placed,
			random() < 0.9 AS delivered,
			floor(random() * (SELECT count(*) FROM prods))::int AS k
		FROM generate_series(1, $2::int)
	) g JOIN prods pr ON pr.k = g.k
),
o AS (
	INSERT INTO orders.orders (id, checkout_id, buyer_id, shop_id, status, payment_method, payment_status, shipping_method,
		subtotal, discount, shipping_fee, tax, tax_inclusive, tax_rate_bps, total, currency, address,
		paid_at, confirmed_at, shipped_at, delivered_at, cancelled_at, created_at, updated_at)
	SELECT id, gen_random_uuid(), gen_random_uuid(), $1, CASE WHEN delivered THEN 'delivered' ELSE 'cancelled' END, 'cod',
		CASE WHEN delivered THEN 'paid' ELSE 'unpaid' END, 'standard',
		price * qty, 0, 20000, 0, true, 1000, price * qty + 20000, 'VND', '{"province": "Hồ Chí Minh"}'::jsonb,
		CASE WHEN delivered THEN placed + interval '3 days' END,
		placed + interval '1 hour',
		CASE WHEN delivered THEN placed + interval '1 day' END,
		CASE WHEN delivered THEN placed + interval '3 days' END,
		CASE WHEN NOT delivered THEN placed + interval '2 hours' END,
		placed, placed
	FROM src
)
INSERT INTO orders.items (order_id, product_id, variant_id, title, unit_price, regular_price, quantity, line_total)
SELECT id, product_id, variant_id, title, price, price, qty, price * qty FROM src`

// rebuiltRE reads the rebuild's last line: "analytics: rebuilt from N orders in D".
var rebuiltRE = regexp.MustCompile(`analytics: rebuilt from (\d+) orders in (\S+)`)

// runAnalyticsRebuild runs `<binary> analytics rebuild` with the server's environment and
// answers how many orders it read and how long it said the rebuild took (the process's start
// and connection left out).
func runAnalyticsRebuild(ctx context.Context, o options, env []string) (int, time.Duration, error) {
	cmd := exec.CommandContext(ctx, o.Binary, "analytics", "rebuild")
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, o.ServerOutput
	// Cancelled, the rebuild gets to roll its own transaction back.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return 0, 0, ctx.Err()
		}
		return 0, 0, fmt.Errorf("bench: %s analytics rebuild: %w: %s", o.Binary, err, bytes.TrimSpace(out.Bytes()))
	}
	m := rebuiltRE.FindSubmatch(out.Bytes())
	if m == nil {
		return 0, 0, fmt.Errorf("bench: analytics rebuild said no time: %s", bytes.TrimSpace(out.Bytes()))
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil {
		return 0, 0, fmt.Errorf("bench: analytics rebuild: %w", err)
	}
	d, err := time.ParseDuration(string(m[2]))
	if err != nil {
		return 0, 0, fmt.Errorf("bench: analytics rebuild: %w", err)
	}
	return n, d, nil
}

// measureAnalyticsRebuild times one rebuild of every order in the database (the analytics shop's
// and any other rows' orders). Its req/s column is orders rebuilt a second; every latency
// column is the whole rebuild's time. A failed rebuild is the row's error.
func measureAnalyticsRebuild(ctx context.Context, r *runner, emit func(stats) error) error {
	s, err := r.load.CPU.measure(func() (stats, error) {
		s := stats{Name: analyticsRebuildRow(r.o)}
		n, d, err := runAnalyticsRebuild(ctx, r.o, r.env)
		if err != nil {
			if ctx.Err() != nil {
				return s, ctx.Err()
			}
			s.fail(err.Error())
			return s, nil
		}
		s.Requests, s.Elapsed = uint64(n), d
		s.P50, s.P90, s.P99, s.Max = d, d, d, d
		r.rep.note(fmt.Sprintf("%s: %d orders (all the database's) rebuilt in %s; req/s is orders a second, the latencies the whole rebuild",
			s.Name, n, d.Round(time.Millisecond)))
		return s, nil
	})
	if err != nil {
		return err
	}
	return emit(s)
}
