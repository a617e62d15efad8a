package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// liveScaleOptions shape the rows of many followers: what they cost idle, then one delivery
// followed by all of them.
type liveScaleOptions struct {
	Followers int
	Posts     int
	Interval  time.Duration
	Wait      time.Duration
	// Settle is how long the server is given to return the handshakes' garbage before its
	// memory is read.
	Settle time.Duration
}

func liveIdleRowName(o liveScaleOptions) string {
	return fmt.Sprintf("live idle (%d followers)", o.Followers)
}

func livePostRowName(o liveScaleOptions) string {
	return fmt.Sprintf("location post (%d followers)", o.Followers)
}

func liveScaleRowName(o liveScaleOptions) string {
	return fmt.Sprintf("live tracking (%d followers)", o.Followers)
}

func init() {
	scenarios = append(scenarios, scenario{
		name:  "live at scale",
		setup: (*runner).setupDeliveries,
		rows: func(o options) []string {
			return []string{liveIdleRowName(o.LiveScale), livePostRowName(o.LiveScale), liveScaleRowName(o.LiveScale)}
		},
		measure: measureLiveScale,
	})
}

// measureLiveScale connects o.Followers followers of one delivery and reports what the server
// holds for them idle (resident memory and goroutines, each after a collection, against the
// same before they came), then has the delivery's shipper post o.Posts locations: a row of the
// posts' latencies and a row of the messages' delays from post to receipt, with the CPU split.
func measureLiveScale(ctx context.Context, r *runner, emit func(stats) error) error {
	o := r.o.LiveScale
	idle := stats{Name: liveIdleRowName(o)}
	rss0, g0, err := r.serverHolds(ctx, o.Settle/5)
	if err != nil {
		return err
	}
	start := time.Now()
	followers, err := dialFollowers(ctx, r.f, o.Followers, o.Posts)
	defer closeFollowers(followers)
	for _, fl := range followers {
		if fl != nil {
			idle.Requests++
		}
	}
	idle.Elapsed = time.Since(start)
	if err != nil {
		idle.fail(err.Error())
		idle.Errors += uint64(o.Followers) - idle.Requests - 1
		return emit(idle)
	}
	// Let the handshakes' garbage go before counting what stays.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(o.Settle):
	}
	rss1, g1, err := r.serverHolds(ctx, o.Settle/5)
	if err != nil {
		return err
	}
	n := float64(o.Followers)
	r.rep.note(fmt.Sprintf("%s: reqs = followers connected, req/s = handshakes a second; the server holds %.1f KiB of RSS "+
		"and %.2f goroutines per idle follower (RSS %d -> %d MiB, goroutines %d -> %d)", idle.Name,
		float64(rss1-rss0)/1024/n, float64(g1-g0)/n, rss0>>20, rss1>>20, g0, g1))
	if err := emit(idle); err != nil {
		return err
	}

	lo := liveOptions{Subscribers: o.Followers, Posts: o.Posts, Interval: o.Interval, Wait: o.Wait}
	before, err := r.serverBuckets(ctx)
	if err != nil {
		return err
	}
	s, posts, err := deliverLive(ctx, r.f, liveScaleRowName(o), lo, r.load.CPU, followers)
	if err != nil {
		return err
	}
	after, err := r.serverBuckets(ctx)
	if err != nil {
		return err
	}
	p := exact(livePostRowName(o), posts, s.Elapsed)
	p.CPU = s.CPU
	if failed := uint64(o.Posts - len(posts)); failed > 0 {
		p.Errors = failed
		p.FirstErrors = []string{"location posts failed"}
	}
	r.rep.note(fmt.Sprintf("%s: %d location posts %s apart, each answered once written and published whatever the followers "+
		"(latency as the load generator saw it; %s); "+
		"%s: reqs = messages received (errs = messages lost), latency = from sending the post to receiving its message; "+
		"CPU columns of both cover the posts and the deliveries", p.Name, o.Posts, o.Interval, serverPostNote(before, after), s.Name))
	if err := emit(p); err != nil {
		return err
	}
	return emit(s)
}

// serverHolds is the server's resident memory and goroutine count, read after asking it for a
// garbage collection (its pprof listener) twice, pause apart, giving the runtime a moment to
// return memory.
func (r *runner) serverHolds(ctx context.Context, pause time.Duration) (rss uint64, goroutines int, err error) {
	debug := "http://" + r.o.DebugAddr + "/debug/pprof/"
	get := func(path string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, debug+path, nil)
		if err != nil {
			return nil, err
		}
		return r.f.client.Do(req)
	}
	for range 2 {
		res, err := get("heap?gc=1")
		if err != nil {
			return 0, 0, fmt.Errorf("bench: server's debug listener: %w", err)
		}
		res.Body.Close()
		time.Sleep(pause)
	}
	res, err := get("goroutine?debug=1")
	if err != nil {
		return 0, 0, fmt.Errorf("bench: server's goroutines: %w", err)
	}
	defer res.Body.Close()
	line, _ := bufio.NewReader(res.Body).ReadString('\n')
	_, total, ok := strings.Cut(strings.TrimSpace(line), "total ")
	if goroutines, err = strconv.Atoi(total); !ok || err != nil {
		return 0, 0, fmt.Errorf("bench: server's goroutines: %q", line)
	}
	proc, err := r.load.CPU.fs.Proc(r.load.CPU.server)
	if err != nil {
		return 0, 0, fmt.Errorf("bench: server's process: %w", err)
	}
	st, err := proc.NewStatus()
	if err != nil {
		return 0, 0, fmt.Errorf("bench: server's status: %w", err)
	}
	return st.VmRSS, goroutines, nil
}

// locationRoute is the location POST's route label in the server's request histogram.
const locationRoute = `method="POST",route="/api/v1/shipping/{order_id}/location"`

// serverBuckets reads the server's cumulative request-latency histogram of the location POST
// (its /metrics): how many answered within each bucket's bound, by bound as written.
func (r *runner) serverBuckets(ctx context.Context) (map[string]uint64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.f.goshop+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := r.f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bench: server's metrics: %w", err)
	}
	defer res.Body.Close()
	out := map[string]uint64{}
	lines := bufio.NewScanner(res.Body)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() {
		line := lines.Text()
		if !strings.HasPrefix(line, "goshop_http_request_duration_seconds_bucket{") || !strings.Contains(line, locationRoute) {
			continue
		}
		_, rest, _ := strings.Cut(line, `le="`)
		le, count, _ := strings.Cut(rest, `"} `)
		n, err := strconv.ParseUint(strings.TrimSpace(count), 10, 64)
		if err == nil {
			out[le] = n
		}
	}
	return out, lines.Err()
}

// serverPostNote says how the server itself timed the posts of a row: how many it answered
// within 10 ms and 25 ms (its histogram's bounds around the 20 ms goal), away from the load
// generator's own scheduling, which runs 10,000 readers beside the posting client.
func serverPostNote(before, after map[string]uint64) string {
	within := func(le string) uint64 { return after[le] - before[le] }
	total := within("+Inf")
	return fmt.Sprintf("timed by the server: %d of %d posts answered within 5 ms, %d within 10 ms, %d within 25 ms, %d within 50 ms",
		within("0.005"), total, within("0.01"), within("0.025"), within("0.05"))
}
