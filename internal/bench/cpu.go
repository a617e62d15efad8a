package bench

import (
	"fmt"
	"os"

	"github.com/prometheus/procfs"
)

// cpuProbe reads how much CPU time the processes of a run have used, from /proc, so that each
// row can say how the machine's CPUs were shared while it ran: a row whose PostgreSQL or load
// generator had the CPUs measures them, not GoShop.
type cpuProbe struct {
	fs procfs.FS
	// server and reference are the two servers' process ids (0 when not running).
	server, reference int
}

func newCPUProbe() (*cpuProbe, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return nil, fmt.Errorf("bench: read /proc for the CPU columns: %w", err)
	}
	return &cpuProbe{fs: fs}, nil
}

// cpuSample is CPU seconds used so far, per party, and by the whole machine.
type cpuSample struct {
	server, reference, postgres, generator float64
	// busy and total are the machine's: time not idle, and all time, summed over its CPUs.
	busy, total float64
	cpus        int
}

// sample reads the counters now. The load generator is this process with its waited-for
// children (pgbench); PostgreSQL is every process named postgres with its own waited-for
// children, so that a backend that ended during the row still counts, through its postmaster.
func (p *cpuProbe) sample() (cpuSample, error) {
	var s cpuSample
	st, err := p.fs.Stat()
	if err != nil {
		return s, fmt.Errorf("bench: /proc/stat: %w", err)
	}
	c := st.CPUTotal
	s.busy = c.User + c.Nice + c.System + c.IRQ + c.SoftIRQ
	s.total = s.busy + c.Idle + c.Iowait + c.Steal
	s.cpus = len(st.CPU)
	own := func(pid int, children bool) float64 {
		if pid == 0 {
			return 0
		}
		proc, err := p.fs.Proc(pid)
		if err != nil {
			return 0
		}
		ps, err := proc.Stat()
		if err != nil {
			return 0
		}
		return procSeconds(ps, children)
	}
	s.server = own(p.server, false)
	s.reference = own(p.reference, false)
	s.generator = own(os.Getpid(), true)
	procs, err := p.fs.AllProcs()
	if err != nil {
		return s, fmt.Errorf("bench: list processes: %w", err)
	}
	for _, proc := range procs {
		ps, err := proc.Stat()
		if err != nil || ps.Comm != "postgres" {
			continue // gone since the listing, or not PostgreSQL
		}
		s.postgres += procSeconds(ps, true)
	}
	return s, nil
}

// procSeconds is a process's CPU time; with children, also that of the children it has waited
// for.
func procSeconds(ps procfs.ProcStat, children bool) float64 {
	t := ps.CPUTime()
	if children {
		t += float64(ps.CUTime+ps.CSTime) / userHZ
	}
	return t
}

// userHZ is the unit of /proc's CPU times, fixed at 100 for user space on Linux (procfs assumes
// it too).
const userHZ = 100

// cpuShare is how the machine's CPUs were used between two samples, each a fraction of all of
// them (1 = every CPU busy the whole time). Other is the rest of the machine: Redis, and
// whatever else runs beside the bench.
type cpuShare struct {
	Server, Reference, Postgres, Generator, Other float64
}

// since is the share of the CPUs each party used from a to s.
func (s cpuSample) since(a cpuSample) cpuShare {
	total := s.total - a.total
	if total <= 0 {
		return cpuShare{}
	}
	sh := cpuShare{
		Server:    (s.server - a.server) / total,
		Reference: (s.reference - a.reference) / total,
		Postgres:  (s.postgres - a.postgres) / total,
		Generator: (s.generator - a.generator) / total,
	}
	sh.Other = max(0, (s.busy-a.busy)/total-sh.Server-sh.Reference-sh.Postgres-sh.Generator)
	return sh
}

// measure runs fn between two samples and returns its result with the CPU shares of that
// time; a nil probe measures nothing.
func (p *cpuProbe) measure(fn func() (stats, error)) (stats, error) {
	if p == nil {
		return fn()
	}
	before, err := p.sample()
	if err != nil {
		return stats{}, err
	}
	s, err := fn()
	if err != nil {
		return s, err
	}
	after, err := p.sample()
	if err != nil {
		return s, err
	}
	sh := after.since(before)
	s.CPU = &sh
	return s, nil
}
