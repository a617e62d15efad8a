package bench

import (
	"fmt"
	"io"
	"time"
)

// report prints rows as they finish, so that a long run shows progress; fixed column widths make
// that possible without buffering the whole table.
type report struct {
	w       io.Writer
	nameW   int
	written []stats
}

func newReport(w io.Writer, names []string) *report {
	nameW := len("scenario")
	for _, n := range names {
		nameW = max(nameW, len(n))
	}
	return &report{w: w, nameW: nameW}
}

const rowFormat = "%-*s %10s %8s %10s %9s %9s %9s %9s\n"

func (r *report) header() error {
	_, err := fmt.Fprintf(r.w, rowFormat, r.nameW, "scenario", "reqs", "errs", "req/s", "p50", "p90", "p99", "max")
	return err
}

func (r *report) row(s stats) error {
	r.written = append(r.written, s)
	_, err := fmt.Fprintf(r.w, rowFormat, r.nameW, s.Name,
		fmt.Sprint(s.Requests), fmt.Sprint(s.Errors), fmt.Sprintf("%.0f", s.RPS()),
		formatLatency(s.P50), formatLatency(s.P90), formatLatency(s.P99), formatLatency(s.Max))
	return err
}

// footer says why rows failed: a count of errors alone does not tell a 401 from a refused
// connection.
func (r *report) footer() error {
	for _, s := range r.written {
		if s.Errors == 0 {
			continue
		}
		if _, err := fmt.Fprintf(r.w, "%s: %d of %d requests failed, first: %s\n",
			s.Name, s.Errors, s.Requests, s.FirstError); err != nil {
			return err
		}
	}
	return nil
}

// formatLatency uses milliseconds throughout, so that a column compares at a glance without
// reading units.
func formatLatency(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}
