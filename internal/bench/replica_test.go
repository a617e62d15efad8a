package bench

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseQueryCounts(t *testing.T) {
	t.Parallel()
	c, err := parseQueryCounts(strings.NewReader(`# HELP goshop_db_queries_total Statements sent to PostgreSQL, by pool (primary, replica).
# TYPE goshop_db_queries_total counter
goshop_db_queries_total{pool="primary"} 1234
goshop_db_queries_total{pool="replica"} 5.678e+06
goshop_db_queries_totally{pool="replica"} 1
go_goroutines 12
`))
	require.NoError(t, err)
	assert.Equal(t, readCounts{"primary": 1234, "replica": 5.678e6}, c)

	_, err = parseQueryCounts(strings.NewReader(`goshop_db_queries_total{pool="replica"} many` + "\n"))
	assert.Error(t, err)
}

func TestCheckReadsFailsARowWhoseReadsWentElsewhere(t *testing.T) {
	t.Parallel()
	a, b := &instance{name: "a"}, &instance{name: "b"}
	before := []readCounts{{"primary": 100, "replica": 0}, {"primary": 50, "replica": 10}}

	var ok stats
	sum := checkReads(&ok, 300, "replica", []*instance{a, b}, before,
		[]readCounts{{"primary": 110, "replica": 200}, {"primary": 50, "replica": 210}})
	assert.Zero(t, ok.Errors)
	assert.Equal(t, readCounts{"primary": 10, "replica": 400}, sum)

	var idle stats
	checkReads(&idle, 300, "replica", []*instance{a, b}, before,
		[]readCounts{{"primary": 110, "replica": 400}, {"primary": 50, "replica": 10}})
	assert.Equal(t, uint64(1), idle.Errors)
	assert.Equal(t, []string{"instance b ran no statement on the replica"}, idle.FirstErrors)

	var fellBack stats
	checkReads(&fellBack, 300, "replica", []*instance{a}, before[:1], []readCounts{{"primary": 400, "replica": 120}})
	assert.Equal(t, []string{"120 statements on the replica for 300 requests: reads went elsewhere"}, fellBack.FirstErrors)

	var noReplica stats
	checkReads(&noReplica, 10, "replica", []*instance{a}, []readCounts{{"primary": 1}}, []readCounts{{"primary": 40}})
	assert.Equal(t, uint64(2), noReplica.Errors, "an instance without the replica's series read nothing from it")
}

func TestSplitShareSince(t *testing.T) {
	t.Parallel()
	a := splitSample{cpuSample: cpuSample{reference: 1, generator: 2, busy: 10, total: 20}, instances: []float64{1, 2}, primary: 3, standby: 4}
	b := splitSample{cpuSample: cpuSample{reference: 2, generator: 3, busy: 28, total: 40}, instances: []float64{5, 6}, primary: 4, standby: 6}
	sh := b.since(a)
	assert.InDelta(t, 20, sh.seconds, 1e-9)
	assert.InDeltaSlice(t, []float64{0.2, 0.2}, sh.instances, 1e-9)
	assert.InDelta(t, 0.05, sh.primary, 1e-9)
	assert.InDelta(t, 0.1, sh.standby, 1e-9)
	assert.InDelta(t, 0.4, sh.table.Server, 1e-9)
	assert.InDelta(t, 0.05, sh.table.Reference, 1e-9)
	assert.InDelta(t, 0.15, sh.table.Postgres, 1e-9)
	assert.InDelta(t, 0.05, sh.table.Generator, 1e-9)
	assert.InDelta(t, 0.25, sh.table.Other, 1e-9, "busy 0.9 less the parties' 0.65")

	note := rowSplitNote(stats{Name: "product (replica, proxy, 2 instances)", Requests: 1000}, sh,
		[]*instance{{name: "a"}, {name: "b"}}, readCounts{"primary": 12, "replica": 2400}, 1200)
	assert.Equal(t, "product (replica, proxy, 2 instances): CPU instance a 20%, instance b 20%, primary 5%, standby 10%, proxy 5%, "+
		"load generator 5%, other 25%; CPU a request: GoShop 8.00 ms, PostgreSQL 3.00 ms, proxy 1.00 ms, load generator 1.00 ms "+
		"(a core of its own: GoShop about 125 req/s, PostgreSQL about 333); statements a request: 0.01 on the primary, 2.00 on the replica", note)

	assert.Equal(t, "more cores, from product (replica, proxy, 2 instances): a core gives about 125 req/s of GoShop (each instance on one "+
		"of its own adds that), 500 of the standby, 1000 of the proxy and 1000 of the primary (for its part of each request), at this row's CPU a request",
		moreCoresNote(stats{Name: "product (replica, proxy, 2 instances)", Requests: 1000}, sh))
	assert.Contains(t, moreCoresNote(stats{Name: "x"}, sh), "no request succeeded")
}

func TestPostmasterPID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte("4242\n/var/lib/x\n1700000000\n5432\n"), 0o600))
	pid, err := postmasterPID(dir)
	require.NoError(t, err)
	assert.Equal(t, 4242, pid)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "postmaster.pid"), []byte("\n"), 0o600))
	_, err = postmasterPID(dir)
	assert.Error(t, err)
	_, err = postmasterPID(filepath.Join(dir, "none"))
	assert.Error(t, err)
}

func TestReplicaRowsAreDeclaredOrLeftOut(t *testing.T) {
	t.Parallel()
	sc, err := chosen(scenarios, []string{"replica"}, true)
	require.NoError(t, err)
	require.Len(t, sc, 1)
	o, err := parseFlags(nil)
	require.NoError(t, err)
	assert.True(t, o.Replica, "on by default")
	assert.Equal(t, []string{"product (primary)", "products?category (primary)", "product (replica)", "products?category (replica)",
		"product (replica, proxy, 1 instance)", "products?category (replica, proxy, 1 instance)",
		"product (replica, proxy, 2 instances)", "products?category (replica, proxy, 2 instances)"}, sc[0].rows(o))
	o, err = parseFlags([]string{"-replica=false"})
	require.NoError(t, err)
	assert.Empty(t, sc[0].rows(o))
}

// TestStandbyStreamsAndItsCPUIsToldApart starts the throwaway primary and standby the replica
// rows use, and checks what the rows rely on: the standby replays what the primary commits, and
// the probe tells each node's processes apart. Not parallel: the script's children (initdb,
// pg_basebackup) add seconds of CPU to this process's waited-for children when they end, which
// TestCPUProbeSeesThisProcess, parallel, would read as a load generator using many CPUs.
func TestStandbyStreamsAndItsCPUIsToldApart(t *testing.T) {
	repo, err := filepath.Abs("../..")
	require.NoError(t, err)
	script, why := findStandbyTools(filepath.Join(repo, "bin", "goshop"))
	if why != "" {
		t.Skip(why)
	}
	assert.Equal(t, filepath.Join(repo, standbyScript), script, "found beside the binary's directory")
	ctx := context.Background()
	sb, err := startStandby(ctx, script, io.Discard)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, sb.stop()) })
	assert.NotEqual(t, sb.primaryPID, sb.standbyPID)

	primaryURL := strings.Replace(sb.primaryURL, "/goshop?", "/postgres?", 1)
	primary, err := pgxpool.New(ctx, primaryURL)
	require.NoError(t, err)
	t.Cleanup(primary.Close)
	standby, err := pgxpool.New(ctx, strings.Replace(sb.replicaURL, "/goshop?", "/postgres?", 1))
	require.NoError(t, err)
	t.Cleanup(standby.Close)

	_, err = primary.Exec(ctx, "CREATE TABLE seeded AS SELECT g AS n FROM generate_series(1, 50000) g")
	require.NoError(t, err)
	require.NoError(t, waitReplayed(ctx, primary, time.Minute))
	var n int
	require.NoError(t, standby.QueryRow(ctx, "SELECT count(*) FROM seeded").Scan(&n))
	assert.Equal(t, 50000, n, "the standby has replayed the primary's table")

	base, err := newCPUProbe()
	require.NoError(t, err)
	probe := &splitProbe{base: base, primary: sb.primaryPID, standby: sb.standbyPID, instances: []int{os.Getpid()}}
	s, err := probe.sample()
	require.NoError(t, err)
	assert.Positive(t, s.primary, "the primary's processes have run")
	assert.Positive(t, s.standby, "the standby's processes have run")
	assert.Positive(t, s.instances[0])
}
