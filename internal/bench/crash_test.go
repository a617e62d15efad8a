package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/testdb"
)

// The crash test's settings: River gives a killed process's jobs to the next one after
// crashRescueAfter, and what they owe must be done within recoveryBound of the restart (River's
// leader lease of the killed process, about 15 s, then its rescuer's first pass and its
// scheduler's, 5 s apart; a rescuer pass that comes too early waits 30 s for the next).
const (
	crashRescueAfter = 5 * time.Second
	recoveryBound    = 60 * time.Second
	crashBuyers      = 8
	crashProducts    = 4
	crashStock       = 400
	// ackedBeforeKill is how many checkouts must be acknowledged before the kill, so that it
	// lands with traffic of every kind under way.
	ackedBeforeKill = 40
)

// syncBuffer collects a child's output, written by exec's copier while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ackedCheckout is a checkout the server answered 2xx, to be replayed after the restart.
type ackedCheckout struct {
	token, key string
	body       map[string]any
	answer     []byte
	orderIDs   []string
}

// TestKillNineUnderTrafficLosesNothing builds the real binary, drives checkout, payment (the
// sandbox provider), confirmation and cancellation from several buyers at once, kills the server
// with SIGKILL in the middle, restarts it on the same database and checks what a crash must not
// break: stock per variant, orders with their items, every acknowledged checkout and its
// idempotent replay, the ledger, and every refund and shipment owed, done within recoveryBound.
func TestKillNineUnderTrafficLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server twice")
	}
	t.Parallel()
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "goshop")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/goshop/goshop/cmd/goshop")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	dbURL := testdb.New(t)
	addr := freeAddr(t)
	env := []string{
		"APP_ENV=test", "HTTP_ADDR=" + addr, "DATABASE_URL=" + dbURL, "REDIS_PREFIX=goshop-crash-" + randomHex(4) + ":",
		"LOG_LEVEL=error", "RATE_LIMIT_DISABLED=true", "PASSWORD_HASH_MEMORY_KIB=1024", "DB_MAX_CONNS=16", "WORKER_COUNT=8",
		"JOB_TIMEOUT=" + crashRescueAfter.String(), "JOB_RESCUE_AFTER=" + crashRescueAfter.String(),
	}
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("server output:\n" + logs.String())
		}
	})
	f := &fixture{client: newClient(crashBuyers * 2), goshop: "http://" + addr}
	srv := startCrashServer(t, bin, env, logs, f)

	// A shop of a few products, so that buyers contend for the same stock rows.
	sellerAccount, err := f.newUser(ctx, "seller")
	require.NoError(t, err)
	seller := sellerAccount.token
	shop, err := f.newShop(ctx, seller, "Crash shop", 10.77, 106.70)
	require.NoError(t, err)
	products := make([]string, crashProducts)
	for i := range products {
		products[i], err = f.newProduct(ctx, seller, shop, fmt.Sprintf("Crash item %d", i), crashStock)
		require.NoError(t, err)
	}
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	initial := stockOf(t, pool, shop)
	require.Len(t, initial, crashProducts)

	type buyer struct{ token, address string }
	buyers := make([]buyer, crashBuyers)
	for i := range buyers {
		b, err := f.newUser(ctx, "buyer")
		require.NoError(t, err)
		buyers[i].token = b.token
		buyers[i].address, err = f.newAddress(ctx, buyers[i].token)
		require.NoError(t, err)
	}

	var (
		mu    sync.Mutex
		acked []ackedCheckout
		count atomic.Int64
		wg    sync.WaitGroup
	)
	// Each buyer checks out 1-2 products again and again, then (by turns) pays and has the shop
	// confirm, has the shop confirm and pays, pays and cancels, or cancels unpaid; a transport
	// error (the server is gone) ends the buyer.
	for bi, b := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				for range 1 + rand.IntN(2) {
					status, _, err := f.do(ctx, http.MethodPost, "/api/v1/cart/items", b.token, nil,
						map[string]any{"product_id": products[rand.IntN(len(products))], "quantity": 1 + rand.IntN(2)})
					if err != nil {
						return
					}
					_ = status // an unavailable product stays out of the cart; the checkout says the rest
				}
				key := fmt.Sprintf("crash-%d-%d", bi, i)
				body := map[string]any{"address_id": b.address, "payment_method": "card", "provider": "sandbox"}
				status, raw, err := f.do(ctx, http.MethodPost, "/api/v1/orders", b.token, map[string]string{"Idempotency-Key": key}, body)
				if err != nil {
					return
				}
				if status != http.StatusCreated {
					continue // out of stock, or the cart emptied
				}
				var placed struct {
					Orders []struct{ ID string } `json:"orders"`
				}
				if json.Unmarshal(raw, &placed) != nil {
					continue
				}
				c := ackedCheckout{token: b.token, key: key, body: body, answer: raw}
				for _, o := range placed.Orders {
					c.orderIDs = append(c.orderIDs, o.ID)
				}
				mu.Lock()
				acked = append(acked, c)
				mu.Unlock()
				count.Add(1)
				for _, id := range c.orderIDs {
					var steps []func() error
					pay := func() error { return payNow(ctx, f, b.token, id) }
					confirm := func() error { return f.call(ctx, http.MethodPut, "/api/v1/orders/"+id+"/confirm", seller, nil, nil) }
					cancel := func() error { return f.call(ctx, http.MethodPut, "/api/v1/orders/"+id+"/cancel", b.token, nil, nil) }
					switch i % 4 {
					case 0:
						steps = []func() error{pay, confirm}
					case 1:
						steps = []func() error{confirm, pay}
					case 2:
						steps = []func() error{pay, cancel}
					default:
						steps = []func() error{cancel}
					}
					for _, step := range steps {
						if err := step(); err != nil && !isAnswer(err) {
							return
						}
					}
				}
			}
		}()
	}

	require.Eventually(t, func() bool { return count.Load() >= ackedBeforeKill }, 60*time.Second, 10*time.Millisecond,
		"checkouts are acknowledged")
	require.NoError(t, srv.cmd.Process.Signal(syscall.SIGKILL))
	<-srv.done
	killedAt := time.Now()
	wg.Wait()
	var running int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'running'`).Scan(&running))
	t.Logf("killed with %d checkouts acknowledged and %d jobs running", len(acked), running)

	restartedAt := time.Now()
	srv = startCrashServer(t, bin, env, logs, f)

	t.Run("acknowledged checkouts replay identically", func(t *testing.T) {
		for _, c := range acked {
			status, raw, err := f.do(ctx, http.MethodPost, "/api/v1/orders", c.token, map[string]string{"Idempotency-Key": c.key}, c.body)
			require.NoError(t, err)
			assert.Equal(t, http.StatusCreated, status, "%s: %s", c.key, raw)
			assert.JSONEq(t, string(c.answer), string(raw), c.key)
		}
	})
	t.Run("acknowledged orders exist, each with its items", func(t *testing.T) {
		var ids []string
		for _, c := range acked {
			ids = append(ids, c.orderIDs...)
		}
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM orders.orders WHERE id::text = ANY($1)`, ids).Scan(&n))
		assert.Equal(t, len(ids), n)
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM orders.orders o
			WHERE NOT EXISTS (SELECT 1 FROM orders.items i WHERE i.order_id = o.id)`).Scan(&n))
		assert.Zero(t, n, "orders without items")
	})
	t.Run("stock is conserved per variant", func(t *testing.T) {
		now := stockOf(t, pool, shop)
		sold := numbersBy(t, pool, `SELECT i.variant_id::text, sum(i.quantity)::int FROM orders.items i
			JOIN orders.orders o ON o.id = i.order_id WHERE o.shop_id = $1 AND o.status <> 'cancelled' GROUP BY 1`, shop)
		for v, stock := range initial {
			assert.Equal(t, stock, now[v]+sold[v], "variant %s: %d on hand + %d sold", v, now[v], sold[v])
		}
	})
	t.Run("the ledger balances", func(t *testing.T) {
		var total int64
		var unbalanced, negative int
		require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(sum(amount), 0) FROM payment.ledger_entries`).Scan(&total))
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT transaction_id FROM payment.ledger_entries
			GROUP BY transaction_id HAVING sum(amount) <> 0) x`).Scan(&unbalanced))
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT a.id FROM payment.accounts a
			JOIN payment.ledger_entries e ON e.account_id = a.id WHERE a.kind = 'escrow' GROUP BY a.id HAVING sum(e.amount) > 0) x`).Scan(&negative))
		assert.Zero(t, total, "the entries sum to zero")
		assert.Zero(t, unbalanced, "unbalanced transactions")
		assert.Zero(t, negative, "negative escrow accounts")
	})
	t.Run("what the killed jobs owed is done within the bound", func(t *testing.T) {
		owed := map[string]string{
			"jobs left running by the killed process": `SELECT count(*) FROM river_job WHERE state = 'running' AND attempted_at < $1`,
			"refunds owed to cancelled paid orders": `SELECT count(*) FROM orders.orders
				WHERE status = 'cancelled' AND payment_status NOT IN ('unpaid', 'refunded')`,
			"refunds not settled": `SELECT count(*) FROM payment.refunds WHERE status = 'pending'`,
			"live payments of cancelled orders": `SELECT count(*) FROM payment.payments p
				JOIN payment.payment_orders po ON po.payment_id = p.id JOIN orders.orders o ON o.id = po.order_id
				WHERE o.status = 'cancelled' AND p.stage IN ('pending', 'authorized')`,
			"paid confirmed orders without a shipment": `SELECT count(*) FROM orders.orders o
				WHERE o.status = 'confirmed' AND o.payment_status = 'paid'
				AND NOT EXISTS (SELECT 1 FROM shipping.shipments s WHERE s.order_id = o.id)`,
		}
		left := func(c assert.TestingT) map[string]int {
			out := map[string]int{}
			for what, q := range owed {
				var args []any
				if what == "jobs left running by the killed process" {
					args = append(args, killedAt)
				}
				var n int
				if err := pool.QueryRow(ctx, q, args...).Scan(&n); !assert.NoError(c, err, what) || n > 0 {
					out[what] = n
				}
			}
			return out
		}
		t.Logf("owed at the restart: %v", left(t))
		if assert.EventuallyWithT(t, func(c *assert.CollectT) { assert.Empty(c, left(c), "still owed") },
			recoveryBound-time.Since(restartedAt), 100*time.Millisecond) {
			t.Logf("everything owed was done %s after the kill", time.Since(killedAt).Round(time.Second))
		}
	})
	require.NoError(t, srv.stop(stopGrace, false))
}

// startCrashServer starts `bin serve` and waits until it answers.
func startCrashServer(t *testing.T, bin string, env []string, logs *syncBuffer, f *fixture) *child {
	t.Helper()
	srv, err := startServer(bin, env, logs)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.cmd.Process.Kill() })
	require.NoError(t, srv.waitReady(context.Background(), f.client, f.goshop+"/readyz", readyTimeout))
	return srv
}

// payNow starts a sandbox payment of the order and completes it as captured, as the buyer's
// client does with the client secret.
func payNow(ctx context.Context, f *fixture, token, orderID string) error {
	var pay struct {
		ClientSecret string `json:"client_secret"`
	}
	if err := f.call(ctx, http.MethodPost, "/api/v1/payments", token, map[string]any{"order_id": orderID}, &pay); err != nil {
		return err
	}
	return f.call(ctx, http.MethodPost, "/api/v1/payments/sandbox/complete", "",
		map[string]any{"client_secret": pay.ClientSecret, "outcome": "captured"}, nil)
}

// isAnswer tells an error answer of the server (a 4xx: the order moved meanwhile) from a
// transport failure.
func isAnswer(err error) bool {
	var se *statusError
	return errors.As(err, &se)
}

// stockOf answers the stock of every variant of the shop.
func stockOf(t *testing.T, pool *pgxpool.Pool, shopID string) map[string]int {
	t.Helper()
	return numbersBy(t, pool, `SELECT id::text, stock FROM catalog.variants WHERE shop_id = $1`, shopID)
}

// numbersBy runs a query of (key, number) rows and answers them as a map.
func numbersBy(t *testing.T, pool *pgxpool.Pool, query string, args ...any) map[string]int {
	t.Helper()
	rows, err := pool.Query(context.Background(), query, args...)
	require.NoError(t, err)
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		require.NoError(t, rows.Scan(&k, &n))
		out[k] = n
	}
	require.NoError(t, rows.Err())
	return out
}
