package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// standbyScript is the script that makes the throwaway primary and standby, relative to the
// repository's root (the scale journey uses it too).
const standbyScript = "scripts/pg-standby.sh"

// pgBinaries is where Debian puts PostgreSQL's server binaries, one directory a major version.
const pgBinaries = "/usr/lib/postgresql/*/bin"

// standby is a throwaway PostgreSQL primary with a streaming hot standby of it, in a temporary
// directory, on ports of their own, made by scripts/pg-standby.sh with Debian's binaries run as
// the postgres user. The machine's own server refuses replication connections and is left
// alone.
type standby struct {
	script, dir            string
	primaryURL, replicaURL string
	// primaryPID and standbyPID are the two postmasters, whose process trees the CPU columns
	// tell apart.
	primaryPID, standbyPID int
}

// findStandbyTools answers the script's path, or why the replica rows cannot run here: the
// script is looked for in the working directory (make runs the bench from the repository's
// root) and beside the binary's directory (bin/goshop), the binaries where Debian installs them.
func findStandbyTools(binary string) (script, why string) {
	if m, _ := filepath.Glob(filepath.Join(pgBinaries, "pg_basebackup")); len(m) == 0 {
		return "", "no PostgreSQL server binaries under " + pgBinaries + " (apt-get install postgresql)"
	}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			return "", "running as root and there is no postgres user to run PostgreSQL as"
		}
	}
	for _, p := range []string{standbyScript, filepath.Join(filepath.Dir(filepath.Dir(binary)), standbyScript)} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			if abs, err := filepath.Abs(p); err == nil {
				return abs, ""
			}
		}
	}
	return "", standbyScript + " not found in the working directory or beside the binary's (run the bench from the repository's root)"
}

// startStandby runs the script's start on two free ports and waits until the standby streams.
// The caller stops it.
func startStandby(ctx context.Context, script string, out io.Writer) (*standby, error) {
	// Not a directory only its owner may enter: the postgres user must reach it.
	dir, err := os.MkdirTemp("", "goshop-bench-standby-")
	if err != nil {
		return nil, err
	}
	s := &standby{script: script, dir: dir}
	ports, err := freePorts(2)
	if err != nil {
		return nil, errors.Join(err, s.stop())
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, script, "start", dir, strconv.Itoa(ports[0]), strconv.Itoa(ports[1]))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, errors.Join(fmt.Errorf("bench: %s start: %w: %s", script, err, bytes.TrimSpace(stderr.Bytes())), s.stop())
	}
	fmt.Fprint(out, stderr.String())
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRIMARY_URL="); ok {
			s.primaryURL = v
		}
		if v, ok := strings.CutPrefix(sc.Text(), "REPLICA_URL="); ok {
			s.replicaURL = v
		}
	}
	if s.primaryURL == "" || s.replicaURL == "" {
		return nil, errors.Join(fmt.Errorf("bench: %s start printed no PRIMARY_URL and REPLICA_URL: %q", script, stdout.String()), s.stop())
	}
	for _, n := range []struct {
		node string
		pid  *int
	}{{"primary", &s.primaryPID}, {"standby", &s.standbyPID}} {
		if *n.pid, err = postmasterPID(filepath.Join(dir, n.node)); err != nil {
			return nil, errors.Join(err, s.stop())
		}
	}
	return s, nil
}

// stop stops both servers and removes their directory.
func (s *standby) stop() error {
	if out, err := exec.Command(s.script, "stop", s.dir).CombinedOutput(); err != nil {
		return fmt.Errorf("bench: %s stop %s: %w: %s", s.script, s.dir, err, bytes.TrimSpace(out))
	}
	return os.RemoveAll(s.dir) // the script's own rm; this only covers a start that failed early
}

// postmasterPID reads the postmaster's process id off the first line of its data directory's
// postmaster.pid.
func postmasterPID(dataDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("bench: the postmaster's pid: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("bench: %s/postmaster.pid starts with %q, not a process id", dataDir, first)
	}
	return pid, nil
}

// freePorts answers n distinct loopback ports nothing listens on now, all held open until every
// one is chosen so that none is answered twice.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("bench: a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// replayedSQL says whether every standby streaming from the primary has replayed the primary's
// WAL up to $1 (and that there is one).
const replayedSQL = `SELECT count(*) > 0 AND bool_and(replay_lsn >= $1::pg_lsn)
FROM pg_stat_replication WHERE state = 'streaming'`

// waitReplayed waits until the standby has replayed everything the primary wrote so far (the
// seeded catalog), so that the replica rows read the same rows as the primary rows; polled
// through the primary's pg_stat_replication.
func waitReplayed(ctx context.Context, primary *pgxpool.Pool, timeout time.Duration) error {
	var target string
	// The insert position, not pg_current_wal_lsn (the write position): the primary commits
	// asynchronously (synchronous_commit off), so a commit just made may not be written yet.
	if err := primary.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&target); err != nil {
		return fmt.Errorf("bench: the primary's WAL position: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		var done bool
		if err := primary.QueryRow(ctx, replayedSQL, target).Scan(&done); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("bench: the standby has not replayed the primary's WAL to %s after %s", target, timeout)
			}
			return fmt.Errorf("bench: the standby's replay: %w", err)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("bench: the standby has not replayed the primary's WAL to %s after %s", target, timeout)
		case <-tick.C:
		}
	}
}
