package search_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/testdb"
)

// childDatabase, when set, makes TestBehaviourSurvivesKillNine the child: a server on that
// database that prints its address and serves until it is killed.
const childDatabase = "GOSHOP_SEARCH_KILL9_DATABASE"

const (
	crashClients = 12
	// crashAckedBeforeKill is how many events must be answered 202 before the kill, so that it
	// lands in the middle of a burst with batches under way.
	crashAckedBeforeKill = 600
)

// TestBehaviourSurvivesKillNine re-runs this test binary as a child serving the API, sends it
// bursts of behaviour events from many devices, kills it with SIGKILL in the middle, and checks
// that every event it answered 202 is in the database, and the daily view counts agree with
// the raw events (one transaction writes both).
func TestBehaviourSurvivesKillNine(t *testing.T) {
	if db := os.Getenv(childDatabase); db != "" {
		env := apptest.New(t, apptest.WithEnv("DATABASE_URL", db))
		fmt.Printf("\nKILL9-URL %s\n", env.Server.URL)
		select {} // until killed
	}
	if testing.Short() {
		t.Skip("runs a child server and kills it")
	}
	t.Parallel()
	db := testdb.New(t)
	w := newWorld(t, apptest.WithEnv("DATABASE_URL", db))
	w.catalog(t)

	ctx := context.Background()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBehaviourSurvivesKillNine$", "-test.count=1")
	cmd.Env = append(os.Environ(), childDatabase+"="+db)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	var base string
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "KILL9-URL "); ok {
			base = u + "/api/v1"
			break
		}
	}
	if base == "" {
		_ = cmd.Wait()
		t.Fatalf("the child printed no address: %s", stderr.String())
	}
	go func() {
		for lines.Scan() { // keep the pipe drained
		}
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })

	type key struct {
		device string
		seq    int
	}
	var (
		mu     sync.Mutex
		acked  = map[key]bool{}
		enough = make(chan struct{})
		once   sync.Once
		wg     sync.WaitGroup
	)
	client := &http.Client{}
	labels := []string{"iphone", "samsung", "shirt", "non-la"}
	for c := range crashClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			device := fmt.Sprintf("kill9-%02d-%s", c, uuid.NewString()[:8])
			for seq := 0; seq < 10_000; seq++ {
				path, body := "/behavior/view-product", fmt.Sprintf(`{"product_id":%q}`, w.ids[labels[seq%len(labels)]])
				if seq%3 == 1 { // clicks carry their sequence number, views are counted per day too
					path, body = "/behavior/click", fmt.Sprintf(`{"product_id":%q,"position":%d}`, w.ids["iphone"], seq)
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Device-ID", device)
				res, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				_ = res.Body.Close()
				if res.StatusCode != http.StatusAccepted {
					continue
				}
				mu.Lock()
				acked[key{device, seq}] = true
				if len(acked) >= crashAckedBeforeKill {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		}()
	}
	<-enough
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	<-exited
	wg.Wait()

	pool := w.App.Pool
	stored := map[key]bool{}
	rows, err := pool.Query(ctx, "SELECT device_id, kind, position FROM search.behavior WHERE device_id LIKE 'kill9-%'")
	require.NoError(t, err)
	perDevice := map[string]int{}
	for rows.Next() {
		var device, kind string
		var pos *int
		require.NoError(t, rows.Scan(&device, &kind, &pos))
		perDevice[device]++
		if kind == "click" {
			stored[key{device, *pos}] = true
		}
	}
	require.NoError(t, rows.Err())
	ackedPerDevice := map[string]int{}
	for k := range acked {
		ackedPerDevice[k.device]++
		if k.seq%3 == 1 {
			assert.True(t, stored[k], "click %d of %s was answered 202 but is not stored", k.seq, k.device)
		}
	}
	for device, n := range ackedPerDevice {
		assert.GreaterOrEqual(t, perDevice[device], n, "%s: every answered event is stored", device)
	}
	t.Logf("%d events answered 202 before the kill or as it landed; %d stored", len(acked), sum(perDevice))
	var views, viewRows int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT coalesce(sum(views), 0) FROM search.daily_views").Scan(&views))
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM search.behavior WHERE kind = 'view'").Scan(&viewRows))
	assert.Equal(t, viewRows, views, "the daily counts commit with the events")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
