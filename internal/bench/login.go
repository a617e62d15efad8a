package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/procfs"
)

// loginOptions shape the login-storm row: Logins sign-ins sent all at once to Users accounts
// (each signed in to Logins/Users times), the way a sale's opening minute or a credential
// stuffing run arrives. Each sign-in is an argon2id check of PASSWORD_HASH_MEMORY_KIB, so the
// row shows what the hashing bound (PASSWORD_HASH_CONCURRENCY, PASSWORD_HASH_WAIT) costs in
// sign-ins a second and refusals, and what it saves in memory.
type loginOptions struct {
	Logins int // 0 leaves the row out
	Users  int // accounts signed in to
}

func (o loginOptions) validate() error {
	if o.Logins < 0 || o.Users < 1 || (o.Logins > 0 && o.Users > o.Logins) {
		return errors.New("bench: -logins must not be negative, and -login-users from 1 to -logins")
	}
	return nil
}

// loginRSSTarget is the most the server may hold resident through the storm with the default
// 64 MiB hash; a peak above it is flagged in the report.
const loginRSSTarget = 300 << 20

func init() {
	scenarios = append(scenarios, scenario{
		name: "login storm",
		rows: func(o options) []string {
			if o.Login.Logins == 0 {
				return nil
			}
			return []string{loginRowName(o.Login)}
		},
		measure: measureLogins,
	})
}

func loginRowName(o loginOptions) string { return fmt.Sprintf("login storm (%d at once)", o.Logins) }

// measureLogins registers the accounts, then sends every sign-in at once and waits for all the
// answers. The row's reqs and req/s are the sign-ins that succeeded, its latencies theirs; a
// refusal with the documented 503 (code unavailable, Retry-After) is counted in a note and is
// no error; any other answer is, and fails the row. The note also gives the server's peak
// resident memory through the storm.
func measureLogins(ctx context.Context, r *runner, emit func(stats) error) error {
	o := r.o.Login
	if o.Logins == 0 {
		return nil
	}
	if r.load.CPU == nil || r.load.CPU.server == 0 {
		return errors.New("bench: login storm: the server's process is not known, so its memory cannot be read")
	}
	name := loginRowName(o)
	accounts, err := r.f.loginAccounts(ctx, o.Users)
	if err != nil {
		return err
	}
	bodies := make([][]byte, o.Logins)
	for i := range bodies {
		if bodies[i], err = json.Marshal(accounts[i%len(accounts)]); err != nil {
			return err
		}
	}
	// A client of its own, so that every sign-in has a connection of its own: the storm is the
	// requests, not the client's pool.
	client := newClient(o.Logins)
	defer client.CloseIdleConnections()
	watch, err := watchRSS(r.load.CPU.server)
	if err != nil {
		return err
	}
	var refused atomic.Int64
	s, err := r.load.CPU.measure(func() (stats, error) {
		return storm(ctx, client, r.f.goshop, name, bodies, &refused)
	})
	peak, how, werr := watch.stop()
	if err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	mem := fmt.Sprintf("%d MiB (%s; %d MiB before)", peak>>20, how, watch.before>>20)
	if peak > loginRSSTarget {
		mem += fmt.Sprintf(", OVER the %d MiB target", loginRSSTarget>>20)
	}
	r.rep.note(fmt.Sprintf("%s: %d accounts; reqs = sign-ins that succeeded, %d more answered the documented 503 "+
		"(Retry-After); server peak RSS %s; %s", name, o.Users, refused.Load(), mem, hashSettings()))
	return emit(s)
}

// storm sends every body to POST /api/v1/auth/login at once.
func storm(ctx context.Context, client *http.Client, base, name string, bodies [][]byte, refused *atomic.Int64) (stats, error) {
	var (
		mu    sync.Mutex
		s     = stats{Name: name}
		lat   = make([]time.Duration, 0, len(bodies))
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	fail := func(why string) {
		mu.Lock()
		defer mu.Unlock()
		s.fail(why)
	}
	for _, body := range bodies {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/auth/login", bytes.NewReader(body))
		if err != nil {
			return s, err
		}
		req.Header.Set("Content-Type", "application/json")
		wg.Go(func() {
			<-start
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				fail(err.Error())
				return
			}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			took := time.Since(t0)
			switch {
			case resp.StatusCode == http.StatusOK:
				mu.Lock()
				lat = append(lat, took)
				mu.Unlock()
			case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" &&
				bytes.Contains(b, []byte(`"code":"unavailable"`)):
				refused.Add(1)
			default:
				fail(fmt.Sprintf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(b)))
			}
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return s, err
	}
	out := exact(name, lat, time.Since(t0))
	out.Errors, out.FirstErrors = s.Errors, s.FirstErrors
	return out, nil
}

// hashSettings names the server's hashing settings as the environment passes them on.
func hashSettings() string {
	var parts []string
	for _, k := range []string{"PASSWORD_HASH_MEMORY_KIB", "PASSWORD_HASH_CONCURRENCY", "PASSWORD_HASH_WAIT"} {
		v := os.Getenv(k)
		if v == "" {
			v = "default"
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}

// loginAccounts registers n accounts, a few at a time (each registration is a hash too), and
// returns their sign-in bodies. A 503 here is the bound at work: it waits a second and tries
// again.
func (f *fixture) loginAccounts(ctx context.Context, n int) ([]map[string]string, error) {
	out := make([]map[string]string, n)
	errs := make(chan error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(4, n) {
		wg.Go(func() {
			for i := range next {
				acct := map[string]string{"email": fmt.Sprintf("bench-login-%s@example.com", randomHex(6)), "password": randomHex(12)}
				body := map[string]string{"email": acct["email"], "password": acct["password"], "full_name": "Bench Login"}
				var err error
				for range 10 {
					if err = f.call(ctx, http.MethodPost, "/api/v1/auth/register", "", body, nil); err == nil || !strings.Contains(err.Error(), ": 503 ") {
						break
					}
					select {
					case <-ctx.Done():
					case <-time.After(time.Second):
					}
				}
				if err != nil {
					errs <- fmt.Errorf("bench: register login accounts: %w", err)
					continue
				}
				out[i] = acct
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	return out, <-errs // nil when the channel holds nothing
}

// rssWatch follows the server's resident memory through the row. The kernel's high-water mark
// (VmHWM) is exact, so it is reset at the start through clear_refs; where that is refused,
// VmRSS is sampled instead, which can miss a short peak.
type rssWatch struct {
	proc   procfs.Proc
	reset  bool
	before int64 // VmRSS when the watch began, in bytes
	peak   atomic.Int64
	done   chan struct{}
	wg     sync.WaitGroup
}

func watchRSS(pid int) (*rssWatch, error) {
	proc, err := procfs.NewProc(pid)
	if err != nil {
		return nil, fmt.Errorf("bench: server memory: %w", err)
	}
	w := &rssWatch{proc: proc, done: make(chan struct{})}
	w.reset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
	st, err := proc.NewStatus()
	if err != nil {
		return nil, fmt.Errorf("bench: server memory: %w", err)
	}
	w.before = int64(st.VmRSS)
	w.wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if st, err := w.proc.NewStatus(); err == nil && int64(st.VmRSS) > w.peak.Load() {
				w.peak.Store(int64(st.VmRSS))
			}
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
		}
	})
	return w, nil
}

// stop ends the sampling and returns the peak in bytes and how it was taken.
func (w *rssWatch) stop() (int64, string, error) {
	close(w.done)
	w.wg.Wait()
	if !w.reset {
		return w.peak.Load(), "VmRSS sampled every 5ms", nil
	}
	st, err := w.proc.NewStatus()
	if err != nil {
		return 0, "", fmt.Errorf("bench: server memory: %w", err)
	}
	return max(int64(st.VmHWM), w.peak.Load()), "VmHWM", nil
}
