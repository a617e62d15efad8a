package bench

import (
	"fmt"
	"slices"
)

// splitProbe is the replica rows' CPU probe: beside cpuProbe's load generator and machine
// totals, it tells the GoShop instances apart, the proxy (cpuProbe's reference), and
// PostgreSQL's primary from its standby by their postmasters' process trees. The machine's own
// PostgreSQL, which other work may use meanwhile, is left in "other".
type splitProbe struct {
	base *cpuProbe
	// instances are the process ids of the row's GoShop instances; proxy the proxy's (0: none).
	instances []int
	proxy     int
	// primary and standby are the postmasters' process ids.
	primary, standby int
}

// splitSample is CPU seconds used so far by each party.
type splitSample struct {
	cpuSample
	instances        []float64
	primary, standby float64
}

// sample reads the counters now. A PostgreSQL node is its postmaster with the children it has
// waited for, and its live children (backends, WAL sender or receiver, background workers):
// a backend that ends during the row moves from one to the other and still counts.
func (p *splitProbe) sample() (splitSample, error) {
	p.base.server, p.base.reference = 0, p.proxy
	base, err := p.base.sample()
	if err != nil {
		return splitSample{}, err
	}
	s := splitSample{cpuSample: base, instances: make([]float64, len(p.instances))}
	procs, err := p.base.fs.AllProcs()
	if err != nil {
		return s, fmt.Errorf("bench: list processes: %w", err)
	}
	for _, proc := range procs {
		ps, err := proc.Stat()
		if err != nil {
			continue // gone since the listing
		}
		switch {
		case ps.PID == p.primary || ps.PPID == p.primary:
			s.primary += procSeconds(ps, true)
		case ps.PID == p.standby || ps.PPID == p.standby:
			s.standby += procSeconds(ps, true)
		}
		if i := slices.Index(p.instances, ps.PID); i >= 0 {
			s.instances[i] = procSeconds(ps, false)
		}
	}
	return s, nil
}

// splitShare is how the machine's CPUs were used between two samples, as fractions of all of
// them: table is the report's columns (Server: every instance, Reference: the proxy, Postgres:
// the primary and the standby), the rest their parts.
type splitShare struct {
	table            cpuShare
	instances        []float64
	primary, standby float64
	// seconds is the CPU time the machine had between the samples, all its CPUs together, which
	// turns a share into seconds.
	seconds float64
}

// since is the share of the CPUs each party used from a to s; a and s must be of the same
// instances.
func (s splitSample) since(a splitSample) splitShare {
	total := s.total - a.total
	sh := splitShare{instances: make([]float64, len(s.instances)), seconds: total}
	if total <= 0 {
		return sh
	}
	for i := range s.instances {
		sh.instances[i] = (s.instances[i] - a.instances[i]) / total
		sh.table.Server += sh.instances[i]
	}
	sh.primary = (s.primary - a.primary) / total
	sh.standby = (s.standby - a.standby) / total
	sh.table.Reference = (s.reference - a.reference) / total
	sh.table.Postgres = sh.primary + sh.standby
	sh.table.Generator = (s.generator - a.generator) / total
	sh.table.Other = max(0, (s.busy-a.busy)/total-sh.table.Server-sh.table.Reference-sh.table.Postgres-sh.table.Generator)
	return sh
}
