package scaletest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/shipping"
)

const (
	// journeyEnv turns the journey on; it starts PostgreSQL servers and processes, so a plain
	// `go test ./...` skips it.
	journeyEnv = "GOSHOP_SCALE_JOURNEY"
	// binaryEnv names a goshop binary built already (make scale-journey passes bin/goshop);
	// without it the journey builds one.
	binaryEnv = "GOSHOP_BINARY"
	// rescueAfter is the processes' JOB_RESCUE_AFTER (and JOB_TIMEOUT, which it may not be below):
	// small, so that a job the killed worker left running is run again within the journey.
	rescueAfter = 10 * time.Second
	// rescueBound is how long after the worker's kill what it owed must be done: the killed
	// leader's lease (15 s at most), the new leader's first rescuer pass, which runs a job
	// running longer than rescueAfter again, the retry's short backoff and the scheduler's next
	// pass (5 s); a rescuer pass that comes before the job is rescueAfter old waits 30 s more.
	rescueBound = 60 * time.Second
	// wait bounds each wait for something asynchronous (a job, the replica's replay, a message).
	wait = 30 * time.Second
)

// TestScaleJourney walks one order through two API processes and one worker process on a
// primary and a streaming hot standby: sign-up, catalog browsing and search served by the
// replica (each instance's goshop_db_queries_total{pool="replica"} proves it), checkout, sandbox
// payment, assignment, live tracking followed on one instance while the shipper posts to the
// other, then one API instance killed and the rest served by the other, then the worker killed
// with kill -9 in the middle of a job and restarted: the job it held runs again within the
// rescue window and every job owed while no worker ran is done.
func TestScaleJourney(t *testing.T) {
	if os.Getenv(journeyEnv) == "" {
		t.Skipf("set %s=1 (make scale-journey) to run: it starts a PostgreSQL primary and standby and three goshop processes", journeyEnv)
	}
	t.Parallel()
	began := time.Now()
	t.Cleanup(func() { t.Logf("journey wall time: %s", time.Since(began).Round(100*time.Millisecond)) })

	primaryURL, replicaURL := startStandby(t)
	t.Logf("primary and standby streaming after %s", time.Since(began).Round(100*time.Millisecond))
	bin := goshopBinary(t)
	env := []string{
		"APP_ENV=test", "DATABASE_URL=" + primaryURL, "DATABASE_READ_URL=" + replicaURL,
		"REDIS_PREFIX=goshop-scale-" + uuid.NewString()[:8] + ":", "MEDIA_DIR=" + t.TempDir(),
		"LOG_LEVEL=warn", "RATE_LIMIT_DISABLED=true", "PASSWORD_HASH_MEMORY_KIB=1024", "DB_MAX_CONNS=8",
		"WORKER_COUNT=4", "JOB_TIMEOUT=" + rescueAfter.String(), "JOB_RESCUE_AFTER=" + rescueAfter.String(),
		"SHUTDOWN_TIMEOUT=5s",
	}
	migrate := exec.Command(bin, "migrate", "up")
	migrate.Env = append(os.Environ(), env...)
	out, err := migrate.CombinedOutput()
	require.NoError(t, err, "goshop migrate up: %s", out)
	env = append(env, "AUTO_MIGRATE=false")

	addrA, addrB := freeAddr(t), freeAddr(t)
	procA := start(t, bin, "api-a", append(env, "HTTP_ADDR="+addrA), "serve", "-no-workers")
	procB := start(t, bin, "api-b", append(env, "HTTP_ADDR="+addrB), "serve", "-no-workers")
	worker := start(t, bin, "worker", env, "worker")
	A, B := apptest.Remote("http://"+addrA), apptest.Remote("http://"+addrB)
	for name, e := range map[string]*apptest.Env{"api-a": A, "api-b": B} {
		require.Eventually(t, func() bool { return replicaState(e) == "ok" }, wait, 100*time.Millisecond,
			"%s is ready and reads from the replica", name)
	}
	t.Logf("two API instances and a worker up after %s", time.Since(began).Round(100*time.Millisecond))

	db, err := pgxpool.New(context.Background(), primaryURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)

	root := t
	var (
		seller, buyer, shipper apptest.User
		shopID, addressID      string
		product                apptest.Product
		orderID                string
		live                   *websocket.Conn
	)
	t.Cleanup(func() {
		if live != nil {
			live.CloseNow()
		}
	})
	const title = "Nón lá Phoenix"
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"sign-up and set-up alternate between the instances", func(t *testing.T) {
			seller = A.Register(t, "Seller")
			buyer = B.Register(t, "Buyer")
			shipper = A.NewShipper(t, "Shipper", apptest.NearShop, true)
			shopID = B.CreateShop(t, seller, "Scale shop")
			product = A.CreateProduct(t, seller, shopID, title, 150_000, 10)
			addressID = B.CreateAddress(t, buyer)
		}},
		{"catalog browsing and search are served by the replica on both instances", func(t *testing.T) {
			// The standby replays the product a moment after the primary commits it, and the
			// worker indexes it for search after that.
			for _, e := range []*apptest.Env{A, B} {
				apptest.Eventually(t, func() bool { return e.Get(t, "/products/"+product.ID, "").Status == http.StatusOK },
					"the replica has the product")
				if !assert.Eventually(t, func() bool { return found(t, e, "/search?q="+url.QueryEscape("phoenix"), product.ID) },
					2*wait, 50*time.Millisecond, "search finds the product") {
					logJobs(t, db, "search.%")
					logDocument(t, db, product.ID)
					t.Logf("search answer: %s", e.Get(t, "/search?q=phoenix", "").Body)
					t.FailNow()
				}
			}
			for i, path := range []string{"/products/" + product.ID, "/products", "/products/categories", "/shops/" + shopID,
				"/shops/" + shopID + "/products", "/search?q=" + url.QueryEscape("non la"), "/products/" + product.ID + "/reviews",
				"/trending/products", "/recommendations/products"} {
				e := []*apptest.Env{A, B}[i%2]
				before := e.Metric(t, `goshop_db_queries_total{pool="replica"}`)
				res := e.Get(t, path, "")
				require.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
				assert.Greater(t, e.Metric(t, `goshop_db_queries_total{pool="replica"}`), before, "%s did not read from the replica", path)
			}
		}},
		{"checkout on one instance, sandbox payment through the other", func(t *testing.T) {
			res := B.Post(t, "/cart/items", buyer.AccessToken, map[string]any{"product_id": product.ID, "quantity": 2})
			require.Equal(t, http.StatusCreated, res.Status, "add to cart: %s", res.Body)
			res = A.Post(t, "/orders", buyer.AccessToken, map[string]any{"address_id": addressID, "payment_method": "card", "provider": "sandbox"})
			require.Equal(t, http.StatusCreated, res.Status, "checkout: %s", res.Body)
			orderID = res.Map(t)["orders"].([]any)[0].(map[string]any)["id"].(string)
			res = B.Post(t, "/payments", buyer.AccessToken, map[string]any{"order_id": orderID})
			require.Equal(t, http.StatusCreated, res.Status, "pay: %s", res.Body)
			secret, _ := res.Map(t)["client_secret"].(string)
			require.NotEmpty(t, secret, "%s", res.Body)
			res = A.Post(t, "/payments/sandbox/complete", "", map[string]any{"client_secret": secret, "outcome": "captured"})
			require.Less(t, res.Status, 300, "sandbox complete: %s", res.Body)
			apptest.Eventually(t, func() bool {
				return B.Get(t, "/orders/"+orderID, buyer.AccessToken).Map(t)["payment_status"] == "paid"
			}, "the order is paid")
		}},
		{"the shop confirms and the worker assigns the shipper", func(t *testing.T) {
			res := A.Put(t, "/orders/"+orderID+"/confirm", seller.AccessToken, nil)
			require.Equal(t, http.StatusOK, res.Status, "confirm: %s", res.Body)
			apptest.Eventually(t, func() bool {
				res := B.Get(t, "/shipping/"+orderID+"/tracking", buyer.AccessToken)
				return res.Status == http.StatusOK && res.Map(t)["shipper_id"] == shipper.ID
			}, "the order gets the shipper")
		}},
		{"live tracking followed on one instance while the shipper posts to the other", func(t *testing.T) {
			live = follow(t, A, orderID, buyer.AccessToken)
			res := B.Post(t, "/shipping/"+orderID+"/location", shipper.AccessToken, map[string]any{"lat": 10.7791, "lng": 106.7023})
			require.Equal(t, http.StatusOK, res.Status, "location: %s", res.Body)
			var loc shipping.LocationUpdate
			require.NoError(t, json.Unmarshal(next(t, live, shipping.MsgLocation), &loc))
			assert.InDelta(t, 10.7791, loc.Lat, 1e-9)
			assert.Equal(t, shipper.ID, loc.ShipperID.String())
			res = B.Put(t, "/shipping/"+orderID+"/status", shipper.AccessToken, map[string]any{"status": "picked_up"})
			require.Equal(t, http.StatusOK, res.Status, "picked up: %s", res.Body)
			assert.Contains(t, string(next(t, live, shipping.MsgStatus)), `"status":"picked_up"`)
		}},
		{"an API instance is killed and the other serves the rest", func(t *testing.T) {
			procA.kill(t)
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			_, _, err := live.Read(ctx)
			require.Error(t, err, "the stream of the killed instance ends")
			live.CloseNow()
			live = follow(t, B, orderID, buyer.AccessToken)
			res := B.Put(t, "/shipping/"+orderID+"/status", shipper.AccessToken, map[string]any{"status": "in_transit"})
			require.Equal(t, http.StatusOK, res.Status, "in transit: %s", res.Body)
			assert.Contains(t, string(next(t, live, shipping.MsgStatus)), `"status":"in_transit"`)
			res = B.Post(t, "/shipping/"+orderID+"/location", shipper.AccessToken, map[string]any{"lat": 10.7795, "lng": 106.7030})
			require.Equal(t, http.StatusOK, res.Status, "location: %s", res.Body)
			next(t, live, shipping.MsgLocation)
			assert.Equal(t, http.StatusOK, B.Get(t, "/products/"+product.ID, "").Status)
		}},
		{"the worker is killed mid-job; the restarted one runs what it owed", func(t *testing.T) {
			ctx := context.Background()
			// The search document's row is held, so that the job re-indexing the renamed
			// product is certainly running, blocked on it, when the worker dies.
			hold, err := db.Begin(ctx)
			require.NoError(t, err)
			defer func() { _ = hold.Rollback(ctx) }()
			_, err = hold.Exec(ctx, `SELECT 1 FROM search.documents WHERE product_id = $1 FOR UPDATE`, product.ID)
			require.NoError(t, err)
			res := B.Put(t, "/products/"+product.ID, seller.AccessToken, map[string]any{"title": title + " Kestrel"})
			require.Equal(t, http.StatusOK, res.Status, "rename: %s", res.Body)
			var jobID int64
			require.Eventually(t, func() bool {
				return db.QueryRow(ctx, `SELECT j.id FROM river_job j WHERE j.state = 'running'
					AND j.args->>'subscriber' = 'search.product_updated'
					AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.wait_event_type = 'Lock' AND a.query LIKE '%search.documents%')`).
					Scan(&jobID) == nil
			}, wait, 20*time.Millisecond, "the re-indexing job runs and waits for the row")
			worker.kill(t)
			killedAt := time.Now()
			require.NoError(t, hold.Rollback(ctx))

			// While no worker runs, the delivery completes on the API instance: its events'
			// jobs wait for the next worker.
			res = B.Put(t, "/shipping/"+orderID+"/status", shipper.AccessToken, map[string]any{"status": "delivered"})
			require.Equal(t, http.StatusOK, res.Status, "delivered: %s", res.Body)
			assert.Contains(t, string(next(t, live, shipping.MsgStatus)), `"status":"delivered"`)
			var waiting int
			require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable')`).Scan(&waiting))
			t.Logf("at the restart: %d jobs owed, among them job %d left running by the killed worker", waiting, jobID)

			worker = start(root, bin, "worker", env, "worker") // to outlive this step
			var state string
			var attempt int
			ok := assert.Eventually(t, func() bool {
				return db.QueryRow(ctx, `SELECT state, attempt FROM river_job WHERE id = $1`, jobID).Scan(&state, &attempt) == nil &&
					state == "completed"
			}, rescueBound-time.Since(killedAt), 100*time.Millisecond, "the job the killed worker held runs again")
			if ok {
				t.Logf("the held job completed %s after the kill, attempt %d", time.Since(killedAt).Round(100*time.Millisecond), attempt)
			}
			assert.GreaterOrEqual(t, attempt, 2, "the job ran again")
			logOwed(t, db, killedAt)
			assert.Eventually(t, func() bool {
				var owed int
				return db.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable')
					AND created_at < $1`, killedAt).Scan(&owed) == nil && owed == 0
			}, rescueBound-time.Since(killedAt), 100*time.Millisecond, "every job owed at the kill is done")
			t.Logf("everything owed done %s after the kill", time.Since(killedAt).Round(100*time.Millisecond))
			apptest.Eventually(t, func() bool { return found(t, B, "/search?q=kestrel", product.ID) },
				"search, on the replica, finds the new title")
		}},
		{"after delivery the buyer reviews, and the review is read from the replica", func(t *testing.T) {
			require.Equal(t, "delivered", B.Get(t, "/orders/"+orderID, buyer.AccessToken).Map(t)["status"])
			res := B.Post(t, "/products/"+product.ID+"/reviews", buyer.AccessToken, map[string]any{"rating": 5, "comment": "Đẹp lắm"})
			require.Equal(t, http.StatusCreated, res.Status, "review: %s", res.Body)
			reviewID := res.Map(t)["id"].(string)
			before := B.Metric(t, `goshop_db_queries_total{pool="replica"}`)
			apptest.Eventually(t, func() bool { return B.Get(t, "/reviews/"+reviewID, "").Status == http.StatusOK },
				"the replica has the review")
			assert.Greater(t, B.Metric(t, `goshop_db_queries_total{pool="replica"}`), before)
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.FailNow()
		}
	}
	for _, p := range []*proc{procB, worker} {
		p.stop(t)
	}
}

// startStandby starts a throwaway primary and a streaming hot standby of it (scripts/
// pg-standby.sh) on free ports, removed when t ends, and answers their URLs.
func startStandby(t *testing.T) (primary, replica string) {
	t.Helper()
	script, err := filepath.Abs("../../scripts/pg-standby.sh")
	require.NoError(t, err)
	// Not t.TempDir: the postgres user must reach the directory, and a test's temporary
	// directory sits in one only its owner may enter.
	dir, err := os.MkdirTemp("", "goshop-standby-")
	require.NoError(t, err)
	pport, sport := portOf(t, freeAddr(t)), portOf(t, freeAddr(t))
	t.Cleanup(func() {
		if out, err := exec.Command(script, "stop", dir).CombinedOutput(); err != nil {
			t.Logf("pg-standby stop: %v: %s", err, out)
		}
	})
	var stderr bytes.Buffer
	cmd := exec.Command(script, "start", dir, pport, sport)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "pg-standby start: %s", stderr.String())
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRIMARY_URL="); ok {
			primary = v
		}
		if v, ok := strings.CutPrefix(sc.Text(), "REPLICA_URL="); ok {
			replica = v
		}
	}
	require.NotEmpty(t, primary, "%s", out)
	require.NotEmpty(t, replica, "%s", out)
	return primary, replica
}

// goshopBinary is $GOSHOP_BINARY, or the binary built from this tree.
func goshopBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv(binaryEnv); b != "" {
		abs, err := filepath.Abs(b)
		require.NoError(t, err)
		return abs
	}
	bin := filepath.Join(t.TempDir(), "goshop")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/goshop/goshop/cmd/goshop").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return port
}

// proc is a goshop process the journey started; its output is shown when the journey fails.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

// lockedBuffer collects a process's output, written by exec's copier while the test may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs bin with args and env; the process is killed when t ends, if still running.
func start(t *testing.T, bin, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	require.NoError(t, p.cmd.Start())
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s (pid %d) output:\n%s", p.name, p.cmd.Process.Pid, p.out.String())
		}
	})
	return p
}

// kill ends the process with SIGKILL, as a lost machine or the OOM killer would.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	<-p.done
}

// stop ends the process with SIGTERM, as a rollout does, and expects a graceful exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.done:
		assert.True(t, p.cmd.ProcessState.Success(), "%s exit: %s", p.name, p.cmd.ProcessState)
	case <-time.After(wait):
		t.Errorf("%s still running %s after SIGTERM", p.name, wait)
	}
}

// replicaState is what the instance's /readyz says of the replica ("" while it is not ready).
func replicaState(e *apptest.Env) string {
	client := http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(e.Server.URL + "/readyz")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var m map[string]any
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&m) != nil {
		return ""
	}
	s, _ := m["replica"].(string)
	return s
}

// found reports whether the search at path answers the product among its hits.
func found(t *testing.T, e *apptest.Env, path, productID string) bool {
	res := e.Get(t, path, "")
	require.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
	var hits struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	res.JSON(t, &hits)
	for _, h := range hits.Items {
		if h.ID == productID {
			return true
		}
	}
	return false
}

// follow opens an order's live-tracking stream on the instance as the holder of token; the
// caller closes it (it outlives the step that opens it).
func follow(t *testing.T, e *apptest.Env, orderID, token string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	u := "ws" + strings.TrimPrefix(e.Server.URL, "http") + "/api/v1/shipping/" + orderID + "/live-tracking?token=" + token
	conn, res, err := websocket.Dial(ctx, u, nil)
	require.NoError(t, err)
	if res.Body != nil {
		res.Body.Close()
	}
	next(t, conn, "subscribed")
	return conn
}

// next reads the stream up to the next message of type typ and answers its data.
func next(t *testing.T, conn *websocket.Conn, typ string) json.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for {
		_, raw, err := conn.Read(ctx)
		require.NoError(t, err, "waiting for a %q message", typ)
		var m struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(raw, &m), "%s", raw)
		if m.Type == typ {
			return m.Data
		}
		require.NotEqual(t, "error", m.Type, "%s", raw)
	}
}

// logJobs lists the event deliveries to the subscribers named like pattern, for a failure's
// message.
func logJobs(t *testing.T, db *pgxpool.Pool, pattern string) {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT id, state, attempt, args->>'subscriber', coalesce(errors::text, '')
		FROM river_job WHERE args->>'subscriber' LIKE $1 ORDER BY id`, pattern)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var id int64
		var state, sub, errs string
		var attempt int
		require.NoError(t, rows.Scan(&id, &state, &attempt, &sub, &errs))
		t.Logf("job %d %s %s, attempt %d %s", id, sub, state, attempt, errs)
	}
	require.NoError(t, rows.Err())
}

// logDocument shows the primary's search document of a product, or says there is none.
func logDocument(t *testing.T, db *pgxpool.Pool, productID string) {
	t.Helper()
	var doc string
	err := db.QueryRow(context.Background(), `SELECT row_to_json(d)::text FROM search.documents d WHERE product_id = $1`,
		productID).Scan(&doc)
	t.Logf("search document on the primary: %s (err %v)", doc, err)
}

// logOwed lists the jobs made before the kill that are not done yet.
func logOwed(t *testing.T, db *pgxpool.Pool, before time.Time) {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT id, kind, state, attempt, coalesce(args->>'subscriber', ''),
		scheduled_at - now() FROM river_job WHERE state IN ('available', 'running', 'retryable') AND created_at < $1`, before)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind, state, sub string
		var attempt int
		var in time.Duration
		require.NoError(t, rows.Scan(&id, &kind, &state, &attempt, &sub, &in))
		t.Logf("still owed: job %d %s %s %s, attempt %d, scheduled in %s", id, kind, sub, state, attempt, in)
	}
	require.NoError(t, rows.Err())
}
