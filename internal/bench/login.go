package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loginOptions shape the login-storm row: Logins sign-ins sent all at once to Users accounts
// (each signed in to Logins/Users times), the way a sale's opening minute or a credential
// stuffing run arrives. Each sign-in is an argon2id check of PASSWORD_HASH_MEMORY_KIB, so the
// row shows what the hashing bound (PASSWORD_HASH_CONCURRENCY, PASSWORD_HASH_WAIT) costs in
// sign-ins a second and refusals, and what it saves in memory.
type loginOptions struct {
	Logins int  // 0 skips the row
	Users  int  // accounts signed in to
	Only   bool // run this row alone: no catalog, reference server or other rows
}

// loginRSSTarget is the most the server may hold resident through the storm with the default
// 64 MiB hash; a peak above it is flagged in the report.
const loginRSSTarget = 300 << 20

func (o loginOptions) name() string { return fmt.Sprintf("login storm (%d at once)", o.Logins) }

func (o loginOptions) validate() error {
	if o.Logins < 0 || o.Users < 1 || (o.Logins > 0 && o.Users > o.Logins) {
		return errors.New("bench: -logins must not be negative, and -login-users from 1 to -logins")
	}
	if o.Only && o.Logins == 0 {
		return errors.New("bench: -only-logins needs -logins above 0")
	}
	return nil
}

// loginsOnly is the whole run with -only-logins: the server is up, nothing else is set up.
func loginsOnly(ctx context.Context, f *fixture, o loginOptions, pid int, w io.Writer) error {
	if _, err := fmt.Fprintf(w, "# login storm only, GOMAXPROCS=%d, %d CPUs; server %s, %s\n",
		runtime.GOMAXPROCS(0), runtime.NumCPU(), f.goshop, hashSettings()); err != nil {
		return err
	}
	rep := newReport(w, []string{o.name()})
	if err := rep.header(); err != nil {
		return err
	}
	if err := loginRow(ctx, f, o, pid, rep, w); err != nil {
		return err
	}
	return rep.footer()
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

// loginRow measures the storm, writes its row and a note with what the columns cannot hold,
// and fails when any sign-in got an answer other than 200 or the documented 503.
func loginRow(ctx context.Context, f *fixture, o loginOptions, pid int, rep *report, w io.Writer) error {
	r, err := measureLogins(ctx, f, o, pid)
	if err != nil {
		return err
	}
	if err := rep.row(r.stats); err != nil {
		return err
	}
	peak := fmt.Sprintf("%d MiB (%s; %d MiB before)", r.peakRSS>>20, r.rssHow, r.rssBefore>>20)
	if r.peakRSS > loginRSSTarget {
		peak += fmt.Sprintf(", OVER the %d MiB target", loginRSSTarget>>20)
	}
	if _, err := fmt.Fprintf(w, "# %s: %d accounts; %d signed in (%.1f logins/s), %d answered 503 with Retry-After, "+
		"%d failed otherwise; server peak RSS %s; latency over every answer\n",
		r.stats.Name, o.Users, r.ok, float64(r.ok)/max(r.stats.Elapsed.Seconds(), 1e-9), r.refused, r.stats.Errors, peak); err != nil {
		return err
	}
	if r.stats.Errors > 0 {
		return fmt.Errorf("bench: %s: %d sign-ins failed other than with the documented 503, first: %s",
			r.stats.Name, r.stats.Errors, r.stats.FirstError)
	}
	return nil
}

type loginResult struct {
	stats
	ok, refused int
	peakRSS     int64 // bytes
	rssBefore   int64
	rssHow      string
}

func measureLogins(ctx context.Context, f *fixture, o loginOptions, pid int) (loginResult, error) {
	res := loginResult{stats: stats{Name: o.name()}}
	accounts, err := f.loginAccounts(ctx, o.Users)
	if err != nil {
		return res, err
	}
	bodies := make([][]byte, o.Logins)
	for i := range bodies {
		if bodies[i], err = json.Marshal(accounts[i%len(accounts)]); err != nil {
			return res, err
		}
	}
	// A client of its own, so that every sign-in has a connection ready and none waits for
	// another's: the storm is the requests, not the client's pool.
	client := newClient(o.Logins)
	defer client.CloseIdleConnections()

	watch, err := watchRSS(pid)
	if err != nil {
		return res, err
	}
	var (
		mu       sync.Mutex
		lat      = make([]time.Duration, 0, o.Logins)
		wg       sync.WaitGroup
		start    = make(chan struct{})
		ok, shed atomic.Int64
	)
	fail := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		res.Errors++
		if res.FirstError == "" {
			res.FirstError = msg
		}
	}
	for _, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.goshop+"/api/v1/auth/login", bytes.NewReader(body))
			if err != nil {
				fail(err.Error())
				return
			}
			req.Header.Set("Content-Type", "application/json")
			<-start
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				fail(err.Error())
				return
			}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			resp.Body.Close()
			mu.Lock()
			lat = append(lat, time.Since(t0))
			mu.Unlock()
			switch {
			case resp.StatusCode == http.StatusOK:
				ok.Add(1)
			case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" &&
				bytes.Contains(b, []byte(`"code":"unavailable"`)):
				shed.Add(1)
			default:
				fail(fmt.Sprintf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(b)))
			}
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	res.rssBefore = watch.before
	res.peakRSS, res.rssHow, err = watch.stop()
	if err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	errs, first := res.Errors, res.FirstError
	res.stats = exact(res.Name, lat, elapsed)
	res.Requests, res.Errors, res.FirstError = uint64(o.Logins), errs, first
	res.ok, res.refused = int(ok.Load()), int(shed.Load())
	return res, nil
}

// loginAccounts registers n accounts, a few at a time (each registration is a hash too), and
// returns their sign-in bodies. A 503 here is the bound at work: it waits Retry-After and tries
// again.
func (f *fixture) loginAccounts(ctx context.Context, n int) ([]map[string]string, error) {
	out := make([]map[string]string, n)
	errs := make(chan error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(4, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				acct := map[string]string{"email": fmt.Sprintf("bench-login-%s@example.com", randomHex(6)), "password": randomHex(12)}
				body := map[string]string{"email": acct["email"], "password": acct["password"], "full_name": "Bench Login"}
				var err error
				for try := 0; try < 10; try++ {
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
		}()
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
	pid    int
	reset  bool
	before int64 // VmRSS when the watch began
	peak   atomic.Int64
	done   chan struct{}
	wg     sync.WaitGroup
}

func watchRSS(pid int) (*rssWatch, error) {
	w := &rssWatch{pid: pid, done: make(chan struct{})}
	w.reset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
	var err error
	if w.before, err = w.read("VmRSS"); err != nil {
		return nil, err
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss, err := w.read("VmRSS"); err == nil && rss > w.peak.Load() {
				w.peak.Store(rss)
			}
			select {
			case <-w.done:
				return
			case <-tick.C:
			}
		}
	}()
	return w, nil
}

// stop ends the sampling and returns the peak in bytes and how it was taken.
func (w *rssWatch) stop() (int64, string, error) {
	close(w.done)
	w.wg.Wait()
	if !w.reset {
		return w.peak.Load(), "VmRSS sampled every 5ms", nil
	}
	hwm, err := w.read("VmHWM")
	return max(hwm, w.peak.Load()), "VmHWM", err
}

// read returns one "Vm...:   123 kB" field of /proc/<pid>/status in bytes.
func (w *rssWatch) read(field string) (int64, error) {
	fh, err := os.Open(fmt.Sprintf("/proc/%d/status", w.pid))
	if err != nil {
		return 0, fmt.Errorf("bench: server memory: %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bench: server memory: %s: %w", field, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("bench: server memory: no %s in /proc/%d/status", field, w.pid)
}
