package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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

// checkoutBuyers is the load: 16 buyers, each checking out a 2-item cart, again and again.
const checkoutBuyers = 16

// checkoutProducts is how many products each of the two bench shops sells.
const checkoutProducts = 16

// runCheckout measures POST /api/v1/orders with checkoutBuyers closed-loop buyers, each refilling
// a 2-item cart (two products of two shops, so each checkout makes two orders) between
// checkouts; only the checkout request is timed. It is a multi-request flow, so it is driven here
// rather than through vegeta's one-request targeters.
func runCheckout(ctx context.Context, f *fixture, o options) (stats, error) {
	seller, err := f.newUser(ctx, "seller")
	if err != nil {
		return stats{}, err
	}
	// Two shops of checkoutProducts products each: a cart holds one of each shop's, picked at
	// random, so buyers contend for rows about as often as pgbench's clients do for its branches,
	// not all for the same two rows.
	products := make([][]string, 2)
	for i := range products {
		shop, err := f.newShop(ctx, seller, fmt.Sprintf("Bench shop %d", i), 10.77, 106.70)
		if err != nil {
			return stats{}, err
		}
		for j := range checkoutProducts {
			p, err := f.newProduct(ctx, seller, shop, fmt.Sprintf("Bench item %d-%d", i, j), 100_000_000)
			if err != nil {
				return stats{}, err
			}
			products[i] = append(products[i], p)
		}
	}
	type buyer struct{ token, address string }
	buyers := make([]buyer, checkoutBuyers)
	for i := range buyers {
		tok, err := f.newUser(ctx, "buyer")
		if err != nil {
			return stats{}, err
		}
		a, err := f.newAddress(ctx, tok)
		if err != nil {
			return stats{}, err
		}
		buyers[i] = buyer{tok, a}
	}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      uint64
		firstErr  string
	)
	measureFrom := time.Now().Add(o.Warmup)
	deadline := measureFrom.Add(o.Duration)
	var wg sync.WaitGroup
	for _, b := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				for _, shop := range products {
					p := shop[rand.IntN(len(shop))]
					if err := f.call(ctx, http.MethodPost, "/api/v1/cart/items", b.token, map[string]any{"product_id": p, "quantity": 1}, nil); err != nil {
						mu.Lock()
						errs++
						firstErr = cmpOr(firstErr, err.Error())
						mu.Unlock()
					}
				}
				start := time.Now()
				err := f.call(ctx, http.MethodPost, "/api/v1/orders", b.token, map[string]any{"address_id": b.address, "payment_method": "cod"}, nil)
				took := time.Since(start)
				if start.Before(measureFrom) {
					continue
				}
				mu.Lock()
				if err != nil {
					errs++
					firstErr = cmpOr(firstErr, err.Error())
				} else {
					latencies = append(latencies, took)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s := exact(fmt.Sprintf("checkout (goshop, %d buyers)", checkoutBuyers), latencies, time.Since(measureFrom))
	s.Errors, s.FirstError = errs, firstErr
	s.Requests += errs
	return s, ctx.Err()
}

// pgbenchTPCB runs pgbench's built-in TPC-B script with as many clients as checkout has buyers,
// on a database of its own on the same server, for the same time: the reference for what this
// machine's PostgreSQL does with a small write transaction.
func pgbenchTPCB(ctx context.Context, o options) (stats, error) {
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
	dir, err := os.MkdirTemp("", "goshop-pgbench-")
	if err != nil {
		return stats{}, err
	}
	defer os.RemoveAll(dir)
	// Scale 16 gives one branch row per client, as TPC-B intends.
	init := exec.CommandContext(ctx, bin, "-i", "-q", "-s", strconv.Itoa(checkoutBuyers), dbURL)
	if out, err := init.CombinedOutput(); err != nil {
		return stats{}, fmt.Errorf("bench: pgbench -i: %w: %s", err, out)
	}
	secs := int(max(o.Duration.Seconds(), 1))
	run := exec.CommandContext(ctx, bin, "-c", strconv.Itoa(checkoutBuyers), "-j", "2", "-T", strconv.Itoa(secs),
		"-M", "prepared", "-n", "-l", "--log-prefix", filepath.Join(dir, "tx"), dbURL)
	out, err := run.CombinedOutput()
	if err != nil {
		return stats{}, fmt.Errorf("bench: pgbench: %w: %s", err, out)
	}
	// Per-transaction logs: "client tx latency_us script epoch epoch_us" a line.
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
	s := exact(fmt.Sprintf("pgbench TPC-B (%d clients)", checkoutBuyers), latencies, time.Duration(secs)*time.Second)
	if m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out); m != nil {
		if tps, err := strconv.ParseFloat(string(m[1]), 64); err == nil && tps > 0 {
			s.Elapsed = time.Duration(float64(s.Requests) / tps * float64(time.Second))
		}
	}
	return s, nil
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

// newUser registers a throwaway account and returns its access token.
func (f *fixture) newUser(ctx context.Context, kind string) (string, error) {
	var s struct {
		AccessToken string `json:"access_token"`
	}
	err := f.call(ctx, http.MethodPost, "/api/v1/auth/register", "", map[string]any{
		"email": fmt.Sprintf("bench-%s-%s@example.com", kind, randomHex(6)), "password": "bench-password-123", "full_name": "Bench " + kind,
	}, &s)
	return s.AccessToken, err
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
