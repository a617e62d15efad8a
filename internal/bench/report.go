package bench

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// report prints rows as they finish, so that a long run shows progress; fixed column widths make
// that possible without buffering the whole table.
type report struct {
	w       io.Writer
	nameW   int
	written []stats
	// ratios are pairs of rows whose throughputs the footer divides (GoShop by its reference).
	ratios [][2]string
	// notes explain rows whose columns mean something else than requests; the footer prints them.
	notes []string
}

func newReport(w io.Writer, names []string) *report {
	nameW := len("scenario")
	for _, n := range names {
		nameW = max(nameW, len(n))
	}
	return &report{w: w, nameW: nameW}
}

// compare asks the footer for the ratio of row a's req/s to row b's.
func (r *report) compare(a, b string) { r.ratios = append(r.ratios, [2]string{a, b}) }

// rate is the req/s of a row written already (0: none of that name).
func (r *report) rate(name string) float64 {
	for _, s := range r.written {
		if s.Name == name {
			return s.RPS()
		}
	}
	return 0
}

// note adds a line to the footer.
func (r *report) note(s string) { r.notes = append(r.notes, s) }

const rowFormat = "%-*s %10s %8s %10s %9s %9s %9s %9s  %6s %6s %6s %6s %6s\n"

// cpuLegend explains the CPU columns; the header line above the table prints it.
const cpuLegend = "CPU columns: share of all the machine's CPUs (100% = every CPU busy) during the measured part of the row, " +
	"used by the GoShop server, the reference server, PostgreSQL (all its processes), the load generator (this process and its pgbench) " +
	"and everything else"

func (r *report) header() error {
	_, err := fmt.Fprintf(r.w, rowFormat, r.nameW, "scenario", "reqs", "errs", "req/s", "p50", "p90", "p99", "max",
		"goshop", "ref", "pg", "gen", "other")
	return err
}

func (r *report) row(s stats) error {
	r.written = append(r.written, s)
	cpu := []string{"-", "-", "-", "-", "-"}
	if c := s.CPU; c != nil {
		for i, v := range []float64{c.Server, c.Reference, c.Postgres, c.Generator, c.Other} {
			cpu[i] = fmt.Sprintf("%.0f%%", 100*v)
		}
	}
	_, err := fmt.Fprintf(r.w, rowFormat, r.nameW, s.Name,
		fmt.Sprint(s.Requests), fmt.Sprint(s.Errors), fmt.Sprintf("%.0f", s.RPS()),
		formatLatency(s.P50), formatLatency(s.P90), formatLatency(s.P99), formatLatency(s.Max),
		cpu[0], cpu[1], cpu[2], cpu[3], cpu[4])
	return err
}

// failed names the rows that had errors.
func (r *report) failed() []string {
	var out []string
	for _, s := range r.written {
		if s.Errors > 0 {
			out = append(out, s.Name)
		}
	}
	return out
}

// footer says why rows failed (a count of errors alone does not tell a 401 from a refused
// connection) and prints the ratios asked for.
func (r *report) footer() error {
	for _, s := range r.written {
		if s.Errors == 0 {
			continue
		}
		if _, err := fmt.Fprintf(r.w, "FAILED %s: %d errors besides %d successes; first: %s\n",
			s.Name, s.Errors, s.Requests, strings.Join(s.FirstErrors, " | ")); err != nil {
			return err
		}
	}
	rps := map[string]float64{}
	for _, s := range r.written {
		rps[s.Name] = s.RPS()
	}
	var parts []string
	for _, p := range r.ratios {
		a, okA := rps[p[0]]
		b, okB := rps[p[1]]
		if okA && okB && b > 0 {
			parts = append(parts, fmt.Sprintf("%s / %s = %.2f", p[0], p[1], a/b))
		}
	}
	if len(parts) > 0 {
		if _, err := fmt.Fprintf(r.w, "# req/s ratios, same run: %s\n", strings.Join(parts, "; ")); err != nil {
			return err
		}
	}
	for _, n := range r.notes {
		if _, err := fmt.Fprintf(r.w, "# %s\n", n); err != nil {
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
