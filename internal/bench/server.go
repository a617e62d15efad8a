package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// child is the GoShop server under test, run as a separate process so that it is measured as it
// ships, with its own runtime, GC and connection pool.
type child struct {
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
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start %s serve: %w", binary, err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
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
			return fmt.Errorf("bench: server exited before it was ready: %v", c.err)
		case <-deadline.C:
			return fmt.Errorf("bench: server not ready after %s: %w", timeout, last)
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
			return cleanExit(c.err)
		}
		return fmt.Errorf("bench: server exited during the run: %v", c.err)
	default:
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("bench: signal server: %w", err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("bench: server still running %s after SIGTERM; killed it", grace)
	}
	return cleanExit(c.err)
}

// cleanExit accepts exit status 0 and death by SIGTERM or SIGINT itself (a server without a
// signal handler); anything else means the shutdown went wrong and is worth reporting.
func cleanExit(err error) error {
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
	return fmt.Errorf("bench: server shutdown: %w", err)
}
