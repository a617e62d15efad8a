package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goshop/goshop/internal/platform/pgdb"
)

// defaultCheckoutBuyers is the load: 16 buyers, each checking out a 2-item cart, again
// and again (-checkout-buyers changes it, to choose the pool's size at other loads).
const defaultCheckoutBuyers = 16

// tpcbMaxScale caps TPC-B's scale: one branch a client as TPC-B intends up to 32 clients; past
// that pgbench -i would spend minutes building the accounts before each run.
const tpcbMaxScale = 32

// checkoutProducts is how many products each of the two bench shops sells.
const checkoutProducts = 16

// checkoutRows names the checkout rows for n buyers: GoShop's checkout, the same statements run
// by pgbench as one call (the most this PostgreSQL could do for GoShop's checkout, were round
// trips and Go free), and pgbench's TPC-B, all with as many clients and for as long.
func checkoutRows(n int) (checkout, limit, tpcb string) {
	return fmt.Sprintf("checkout (goshop, %d buyers)", n), fmt.Sprintf("checkout limit (pgbench, %d clients)", n),
		fmt.Sprintf("pgbench TPC-B (%d clients)", n)
}

var checkoutScenario = scenario{
	name:  "checkout",
	setup: (*runner).setupCheckout,
	rows: func(o options) []string {
		checkoutRow, limitRow, tpcbRow := checkoutRows(o.CheckoutBuyers)
		return []string{checkoutRow, limitRow, tpcbRow}
	},
	measure: func(ctx context.Context, r *runner, emit func(stats) error) error {
		checkoutRow, limitRow, tpcbRow := checkoutRows(r.o.CheckoutBuyers)
		var drained time.Duration
		var owed, left int
		for _, measure := range []func() (stats, error){
			func() (stats, error) {
				s, err := runCheckout(ctx, r.f, r.o, r.load.CPU)
				if err != nil {
					return s, err
				}
				// The jobs the purchases started (events, notifications) run before the
				// references do, timed: what the row bought and did not pay for yet.
				if drained, owed, left, err = r.drain(ctx); err != nil {
					return s, err
				}
				return s, r.vacuum(ctx) // the limit row starts as the row did
			},
			func() (stats, error) { return r.checkoutLimit(ctx) },
			func() (stats, error) { return pgbenchTPCB(ctx, r.o, r.load.CPU) },
		} {
			s, err := measure()
			if err != nil {
				return err
			}
			if err := emit(s); err != nil {
				return err
			}
		}
		r.rep.compare(checkoutRow, limitRow)
		r.rep.compare(checkoutRow, tpcbRow)
		if rate := r.rep.rate(checkoutRow); rate > 0 {
			run := r.o.Warmup + r.o.Duration
			if left > 0 {
				r.rep.note(fmt.Sprintf("%s: %d jobs its purchases started were still owed at its end, and %d of them %s later: "+
					"none ran for %s (a server without workers?)", checkoutRow, owed, left, drained.Round(100*time.Millisecond), drainStall))
			} else {
				r.rep.note(fmt.Sprintf("%s: %d jobs its purchases started (event deliveries, notifications) were still owed at its end "+
					"and ran in %s more; sustained over warm-up, row and that: %.0f checkouts/s", checkoutRow, owed,
					drained.Round(100*time.Millisecond), rate*run.Seconds()/(run+drained).Seconds()))
			}
		}
		r.rep.note(checkoutRow + ": req/s = carts refilled (2 POST /cart/items, untimed) and checked out (POST /orders, timed), " +
			"each making 2 orders; " + limitRow + ": the statements of both as one function call a transaction (latency: the call)")
		return nil
	},
}

// checkoutFixture is what the checkout rows buy from and with: two shops of checkoutProducts
// products each, and checkoutBuyers buyers with a delivery address.
type checkoutFixture struct {
	shops  [2][]checkoutProduct
	buyers []checkoutBuyer
}

type checkoutProduct struct{ id, variantID string }

type checkoutBuyer struct{ token, userID, addressID string }

// setupCheckout makes the checkout rows' shops, products and buyers through the API.
func (r *runner) setupCheckout(ctx context.Context) error {
	f := r.f
	if f.checkout != nil {
		return nil
	}
	seller, err := f.newUser(ctx, "seller")
	if err != nil {
		return err
	}
	fx := &checkoutFixture{}
	// Two shops of checkoutProducts products each: a cart holds one of each shop's, picked at
	// random, so buyers contend for rows about as often as pgbench's clients do for its branches,
	// not all for the same two rows.
	for i := range fx.shops {
		var shop struct{ ID string }
		if err := f.call(ctx, http.MethodPost, "/api/v1/shops", seller.token, map[string]any{
			"name": fmt.Sprintf("Bench shop %d", i), "lat": 10.77, "lng": 106.70,
			"address": map[string]any{"line1": "1 Lê Duẩn", "province": "Hồ Chí Minh"},
		}, &shop); err != nil {
			return err
		}
		for j := range checkoutProducts {
			var p struct {
				ID       string
				Variants []struct{ ID string }
			}
			if err := f.call(ctx, http.MethodPost, "/api/v1/shops/"+shop.ID+"/products", seller.token, map[string]any{
				"title": fmt.Sprintf("Bench item %d-%d", i, j), "price": 125_000, "stock": 100_000_000, "weight_grams": 400,
			}, &p); err != nil {
				return err
			}
			if len(p.Variants) != 1 {
				return fmt.Errorf("bench: product %s has %d variants, want 1", p.ID, len(p.Variants))
			}
			fx.shops[i] = append(fx.shops[i], checkoutProduct{id: p.ID, variantID: p.Variants[0].ID})
		}
	}
	for range r.o.CheckoutBuyers {
		b, err := f.newUser(ctx, "buyer")
		if err != nil {
			return err
		}
		var a struct{ ID string }
		if err := f.call(ctx, http.MethodPost, "/api/v1/users/addresses", b.token, map[string]any{
			"recipient_name": "Bench", "phone": "0901234567", "line1": "2 Hai Bà Trưng", "province": "Hồ Chí Minh",
		}, &a); err != nil {
			return err
		}
		fx.buyers = append(fx.buyers, checkoutBuyer{token: b.token, userID: b.userID, addressID: a.ID})
	}
	f.checkout = fx
	return nil
}

// runCheckout measures POST /api/v1/orders with checkoutBuyers closed-loop buyers, each refilling
// a 2-item cart (one product of each shop, so each checkout makes two orders) between
// checkouts; only the checkout request is timed, and only a cycle whose every request
// succeeded, and whose checkout made both orders, counts. It is a multi-request flow, so it is
// driven here rather than through vegeta's one-request targeters.
func runCheckout(ctx context.Context, f *fixture, o options, probe *cpuProbe) (stats, error) {
	fx := f.checkout
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failed    stats
	)
	fail := func(err error) {
		if ctx.Err() == nil { // a cancelled run is no failure of the server
			mu.Lock()
			failed.fail(err.Error())
			mu.Unlock()
		}
	}
	measureFrom := time.Now().Add(o.Warmup)
	deadline := measureFrom.Add(o.Duration)
	var wg sync.WaitGroup
	for _, b := range fx.buyers {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if err := refill(ctx, f, fx, b.token); err != nil {
					fail(err)
					continue
				}
				var placed struct {
					Orders []struct{ ID string }
				}
				start := time.Now()
				err := f.call(ctx, http.MethodPost, "/api/v1/orders", b.token, map[string]any{"address_id": b.addressID, "payment_method": "cod"}, &placed)
				took := time.Since(start)
				if err == nil && len(placed.Orders) != len(fx.shops) {
					err = fmt.Errorf("POST /api/v1/orders made %d orders, want %d", len(placed.Orders), len(fx.shops))
				}
				if err != nil {
					fail(err)
					continue
				}
				if start.Before(measureFrom) {
					continue
				}
				mu.Lock()
				latencies = append(latencies, took)
				mu.Unlock()
			}
		})
	}
	var before cpuSample
	var err error
	if probe != nil {
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(measureFrom)):
		}
		before, err = probe.sample()
	}
	wg.Wait()
	checkoutRow, _, _ := checkoutRows(o.CheckoutBuyers)
	s := exact(checkoutRow, latencies, time.Since(measureFrom))
	s.absorb(failed)
	if err == nil && probe != nil {
		var after cpuSample
		if after, err = probe.sample(); err == nil {
			sh := after.since(before)
			s.CPU = &sh
		}
	}
	return s, errors.Join(ctx.Err(), err)
}

// refill puts one random product of each shop into the buyer's cart.
func refill(ctx context.Context, f *fixture, fx *checkoutFixture, token string) error {
	for _, shop := range fx.shops {
		p := shop[rand.IntN(len(shop))]
		if err := f.call(ctx, http.MethodPost, "/api/v1/cart/items", token, map[string]any{"product_id": p.id, "quantity": 1}, nil); err != nil {
			return err
		}
	}
	return nil
}

// pgbenchTPCB runs pgbench's built-in TPC-B script with as many clients as checkout has buyers,
// on a database of its own on the same server, for the same time: the reference for what this
// machine's PostgreSQL does with a small write transaction.
func pgbenchTPCB(ctx context.Context, o options, probe *cpuProbe) (stats, error) {
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		return stats{}, fmt.Errorf("bench: pgbench is not installed (Debian: postgresql-client): %w", err)
	}
	dbURL, err := pgdb.WithDatabase(o.DatabaseURL, "goshop_bench_pgbench")
	if err != nil {
		return stats{}, err
	}
	if err := pgdb.EnsureDatabase(ctx, dbURL); err != nil {
		return stats{}, err
	}
	// One branch row per client, as TPC-B intends (up to tpcbMaxScale).
	init := exec.CommandContext(ctx, bin, "-i", "-q", "-s", strconv.Itoa(min(o.CheckoutBuyers, tpcbMaxScale)), dbURL)
	if out, err := init.CombinedOutput(); err != nil {
		return stats{}, fmt.Errorf("bench: pgbench -i: %w: %s", err, out)
	}
	_, _, tpcbRow := checkoutRows(o.CheckoutBuyers)
	return runPgbench(ctx, probe, tpcbRow, o.CheckoutBuyers, o.Duration, dbURL)
}

// runPgbench runs pgbench with clients clients for d with args (a script, say) against
// dbURL, and summarises its per-transaction log, with the CPU shares of the run when probe is
// set. A run pgbench reports as aborted or with failed transactions is a failed row.
func runPgbench(ctx context.Context, probe *cpuProbe, name string, clients int, d time.Duration, dbURL string, args ...string) (stats, error) {
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		return stats{}, fmt.Errorf("bench: pgbench is not installed (Debian: postgresql-client): %w", err)
	}
	dir, err := os.MkdirTemp("", "goshop-pgbench-")
	if err != nil {
		return stats{}, err
	}
	defer os.RemoveAll(dir)
	secs := int(max(d.Seconds(), 1))
	args = append([]string{"-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(secs),
		"-M", "prepared", "-n", "-l", "--log-prefix", filepath.Join(dir, "tx")}, args...)
	var out []byte
	var runErr error
	s, err := probe.measure(func() (stats, error) {
		out, runErr = exec.CommandContext(ctx, bin, append(args, dbURL)...).CombinedOutput()
		return stats{Name: name}, ctx.Err()
	})
	if err != nil {
		return stats{}, err
	}
	// Per-transaction logs: "client tx latency_us script epoch epoch_us" a line; a failed
	// transaction has a word where its latency would be.
	var latencies []time.Duration
	files, _ := filepath.Glob(filepath.Join(dir, "tx*"))
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			return stats{}, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 3 {
				if us, err := strconv.ParseInt(fields[2], 10, 64); err == nil {
					latencies = append(latencies, time.Duration(us)*time.Microsecond)
				}
			}
		}
		fh.Close()
	}
	cpu := s.CPU
	s = exact(name, latencies, time.Duration(secs)*time.Second)
	s.CPU = cpu
	if m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out); m != nil {
		if tps, err := strconv.ParseFloat(string(m[1]), 64); err == nil && tps > 0 {
			s.Elapsed = time.Duration(float64(s.Requests) / tps * float64(time.Second))
		}
	}
	if m := regexp.MustCompile(`number of failed transactions: ([0-9]+)`).FindSubmatch(out); m != nil {
		if n, _ := strconv.ParseUint(string(m[1]), 10, 64); n > 0 {
			s.fail("pgbench: failed transactions")
			s.Errors += n - 1
		}
	}
	if runErr != nil {
		s.fail(fmt.Sprintf("pgbench: %v: %s", runErr, lastLines(out, 3)))
	}
	return s, nil
}

// lastLines is the last n non-empty lines of out, joined, for an error message.
func lastLines(out []byte, n int) string {
	lines := slices.DeleteFunc(strings.Split(string(bytes.TrimSpace(out)), "\n"), func(l string) bool { return strings.TrimSpace(l) == "" })
	return strings.Join(lines[max(0, len(lines)-n):], " / ")
}

// exact summarises latencies with exact percentiles (the samples are few enough to sort).
func exact(name string, lat []time.Duration, elapsed time.Duration) stats {
	s := stats{Name: name, Requests: uint64(len(lat)), Elapsed: elapsed}
	if len(lat) == 0 {
		return s
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	s.P50, s.P90, s.P99, s.Max = at(0.50), at(0.90), at(0.99), lat[len(lat)-1]
	return s
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// account is a user registered through the API.
type account struct{ token, userID string }

// newUser registers a throwaway account.
func (f *fixture) newUser(ctx context.Context, kind string) (account, error) {
	var s struct {
		AccessToken string `json:"access_token"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	err := f.call(ctx, http.MethodPost, "/api/v1/auth/register", "", map[string]any{
		"email": fmt.Sprintf("bench-%s-%s@example.com", kind, randomHex(6)), "password": "bench-password-123", "full_name": "Bench " + kind,
	}, &s)
	return account{token: s.AccessToken, userID: s.User.ID}, err
}

// newShop opens a shop of the user whose token this is, at lat, lng, and returns its ID.
func (f *fixture) newShop(ctx context.Context, token, name string, lat, lng float64) (string, error) {
	var shop struct{ ID string }
	err := f.call(ctx, http.MethodPost, "/api/v1/shops", token, map[string]any{"name": name, "lat": lat, "lng": lng,
		"address": map[string]any{"line1": "1 Lê Duẩn", "province": "Hồ Chí Minh"}}, &shop)
	return shop.ID, err
}

// newProduct puts a 125,000 VND, 400 g product with stock on sale in a shop and returns its ID.
func (f *fixture) newProduct(ctx context.Context, token, shopID, title string, stock int) (string, error) {
	var p struct{ ID string }
	err := f.call(ctx, http.MethodPost, "/api/v1/shops/"+shopID+"/products", token, map[string]any{
		"title": title, "price": 125_000, "stock": stock, "weight_grams": 400}, &p)
	return p.ID, err
}

// newAddress gives the user a delivery address in Hồ Chí Minh City and returns its ID.
func (f *fixture) newAddress(ctx context.Context, token string) (string, error) {
	var a struct{ ID string }
	err := f.call(ctx, http.MethodPost, "/api/v1/users/addresses", token, map[string]any{
		"recipient_name": "Bench", "phone": "0901234567", "line1": "2 Hai Bà Trưng", "province": "Hồ Chí Minh"}, &a)
	return a.ID, err
}

// call sends one JSON request to GoShop and decodes a 2xx answer into out (when not nil).
func (f *fixture) call(ctx context.Context, method, path, token string, body, out any) error {
	status, raw, err := f.do(ctx, method, path, token, nil, body)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return &statusError{method: method, path: path, status: status, body: strings.TrimSpace(string(raw))}
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// statusError is a non-2xx answer, as opposed to a request that got no answer.
type statusError struct {
	method, path, body string
	status             int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, e.body)
}

// do sends one JSON request to GoShop with the extra headers and answers its status and body;
// err is a transport failure only.
func (f *fixture) do(ctx context.Context, method, path, token string, header map[string]string, body any) (int, []byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, f.goshop+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := f.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var raw bytes.Buffer
	if _, err := raw.ReadFrom(res.Body); err != nil {
		return 0, nil, err
	}
	return res.StatusCode, raw.Bytes(), nil
}
