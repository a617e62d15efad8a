package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a process the bench runs: the GoShop server under test, run as a separate process so
// that it is measured as it ships, with its own runtime, GC and connection pool, and the
// reference server beside it, for the same reasons.
type child struct {
	name string // "server" or "reference", for messages
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // what Wait returned; read only after done is closed
}

// ensureFree refuses an address something already listens on: the readiness probe would
// otherwise succeed against that other server and the bench would measure it instead.
func ensureFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("bench: %s is not free for the server (is another goshop running?): %w", addr, err)
	}
	return ln.Close()
}

// startServer runs `binary serve` with env added to the inherited environment (later entries
// win, so env overrides whatever the shell had set). The child writes straight to out.
func startServer(binary string, env []string, out io.Writer) (*child, error) {
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	return startChild("server", cmd)
}

func startChild(name string, cmd *exec.Cmd) (*child, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// startReferenceProcess runs `binary bench reference` on a port of its choosing, with the
// server's environment (its JWT secret and issuer), and returns it with its base URL once it
// listens. Its output after that line goes to out.
func startReferenceProcess(ctx context.Context, binary string, env []string, dbURL string, maxConns int, out io.Writer) (*child, string, error) {
	cmd := exec.Command(binary, "bench", "reference", "-database-url", dbURL, "-db-max-conns", strconv.Itoa(maxConns))
	cmd.Env = append(os.Environ(), env...)
	return startAnnounced(ctx, "reference", cmd, referenceReady, out)
}

// startAnnounced starts cmd, a child that prints a line starting with ready and its base URL
// once it listens (the reference, the replica rows' proxy), and returns it with that URL. Its
// other output goes to out.
func startAnnounced(ctx context.Context, name string, cmd *exec.Cmd, ready string, out io.Writer) (*child, string, error) {
	cmd.Stderr = out
	// A pipe of our own rather than StdoutPipe, whose reader Wait closes under a running copy.
	stdout, w, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	cmd.Stdout = w
	c, err := startChild(name, cmd)
	w.Close() // the child holds its own copy; EOF comes when it exits
	if err != nil {
		stdout.Close()
		return nil, "", err
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), ready); ok {
				urls <- u
				break
			}
			fmt.Fprintln(out, sc.Text())
		}
		_, _ = io.Copy(out, stdout) // until the child exits
		stdout.Close()
	}()
	select {
	case u := <-urls:
		return c, u, nil
	case <-c.done:
		return nil, "", fmt.Errorf("bench: %s exited before it listened: %v", name, c.err)
	case <-ctx.Done():
		_ = c.stop(stopGrace, true)
		return nil, "", ctx.Err()
	case <-time.After(readyTimeout):
		_ = c.stop(stopGrace, false)
		return nil, "", fmt.Errorf("bench: %s not listening after %s", name, readyTimeout)
	}
}

// waitReady polls url until it answers 200, failing early when the child exits, since a server
// that died at start-up will never become ready and its output already says why.
func (c *child) waitReady(ctx context.Context, client *http.Client, url string, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = probeOK(ctx, client, url); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return fmt.Errorf("bench: %s exited before it was ready: %v", c.name, c.err)
		case <-deadline.C:
			return fmt.Errorf("bench: %s not ready after %s: %w", c.name, timeout, last)
		case <-tick.C:
		}
	}
}

func probeOK(ctx context.Context, client *http.Client, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// stop sends SIGTERM and waits up to grace for the server's own graceful shutdown, killing it
// after that so that the bench never leaves a server behind. interrupted says the bench itself
// was cancelled: a Ctrl-C in a terminal reaches the child too, so then it may rightly be gone
// already.
func (c *child) stop(grace time.Duration, interrupted bool) error {
	select {
	case <-c.done:
		if interrupted {
			return c.cleanExit()
		}
		return fmt.Errorf("bench: %s exited during the run: %v", c.name, c.err)
	default:
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("bench: signal %s: %w", c.name, err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("bench: %s still running %s after SIGTERM; killed it", c.name, grace)
	}
	return c.cleanExit()
}

// pid is the process id, for the CPU columns.
func (c *child) pid() int { return c.cmd.Process.Pid }

// cleanExit accepts exit status 0 and death by SIGTERM or SIGINT itself (a server without a
// signal handler); anything else means the shutdown went wrong and is worth reporting.
func (c *child) cleanExit() error {
	err := c.err
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() &&
			(ws.Signal() == syscall.SIGTERM || ws.Signal() == syscall.SIGINT) {
			return nil
		}
	}
	return fmt.Errorf("bench: %s shutdown: %w", c.name, err)
}
