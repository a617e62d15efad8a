package shipping_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/shipping"
)

// dialLive dials the live-tracking stream and answers the connection, or the refusal's status,
// problem code and Retry-After.
func dialLive(t *testing.T, base, orderID, token string) (*websocket.Conn, int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	u := "ws" + strings.TrimPrefix(base, "http") + "/api/v1/shipping/" + orderID + "/live-tracking?token=" + token
	conn, res, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		require.NotNil(t, res, "%v", err)
		defer res.Body.Close()
		var problem struct {
			Code string `json:"code"`
		}
		body, _ := io.ReadAll(res.Body)
		_ = json.Unmarshal(body, &problem)
		return nil, res.StatusCode, problem.Code, res.Header.Get("Retry-After")
	}
	t.Cleanup(func() { conn.CloseNow() })
	msg := read(t, conn)
	require.Equal(t, "subscribed", msg.Type)
	return conn, 0, "", ""
}

func TestLiveTrackingLimitsStreamsPerAccountAndPerProcess(t *testing.T) {
	t.Parallel()
	env := apptest.New(t, apptest.WithEnv("REALTIME_MAX_STREAMS_PER_USER", "2"), apptest.WithEnv("REALTIME_MAX_STREAMS", "3"))
	st := openStore(t, env)
	b := st.newBuyer(t, "Buyer")
	admin := env.Admin(t, env.Register(t, "Admin"))
	id := st.order(t, b, 1)

	_, status, _, _ := dialLive(t, env.Server.URL, id, b.AccessToken)
	require.Zero(t, status)
	_, status, _, _ = dialLive(t, env.Server.URL, id, b.AccessToken)
	require.Zero(t, status)
	// A third stream of the same account is refused, whoever follows what.
	_, status, code, retry := dialLive(t, env.Server.URL, id, b.AccessToken)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Equal(t, "rate_limited", code)
	assert.NotEmpty(t, retry)

	// Admins count too; the process's ceiling (3) is reached by the admin's first stream.
	_, status, _, _ = dialLive(t, env.Server.URL, id, admin.AccessToken)
	require.Zero(t, status)
	_, status, code, retry = dialLive(t, env.Server.URL, id, admin.AccessToken)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "unavailable", code)
	assert.NotEmpty(t, retry)
	assert.Equal(t, http.StatusOK, env.Get(t, "/shipping/methods", "").Status, "the API answers at the ceiling")
}

// fdChildEnv marks the child process of TestFollowersPastTheDescriptorCeilingLeaveTheAPIAnswering.
const fdChildEnv = "GOSHOP_TEST_FD_CHILD"

// fdReady is what the child tells its parent once its app is serving.
type fdReady struct {
	URL, OrderID, Follower, Shipper string
	MaxStreams                      int
}

// TestFollowersPastTheDescriptorCeilingLeaveTheAPIAnswering runs an app in a child process with
// a descriptor limit of 320 (the test binary again, running fdChild) and opens more followers
// than its ceiling from here: the followers past it are refused with 503, while /healthz,
// /readyz and the API answer and the followers admitted keep receiving.
func TestFollowersPastTheDescriptorCeilingLeaveTheAPIAnswering(t *testing.T) {
	if os.Getenv(fdChildEnv) != "" {
		fdChild(t)
		return
	}
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFollowersPastTheDescriptorCeilingLeaveTheAPIAnswering$", "-test.count=1")
	cmd.Env = append(os.Environ(), fdChildEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	var out strings.Builder
	var ready fdReady
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		out.WriteString(line + "\n")
		if rest, ok := strings.CutPrefix(line, "READY "); ok {
			require.NoError(t, json.Unmarshal([]byte(rest), &ready))
			break
		}
	}
	require.NotEmpty(t, ready.URL, "the child never got ready:\n%s", out.String())
	go func() {
		for lines.Scan() {
			out.WriteString(lines.Text() + "\n")
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
		}
	})
	require.Positive(t, ready.MaxStreams)

	// Followers past the ceiling, from one token as in the incident this guards against.
	extra := 30
	conns := make([]*websocket.Conn, 0, ready.MaxStreams)
	refused := 0
	for range ready.MaxStreams + extra {
		c, status, code, retry := dialLive(t, ready.URL, ready.OrderID, ready.Follower)
		if c != nil {
			conns = append(conns, c)
			continue
		}
		require.Equal(t, http.StatusServiceUnavailable, status)
		assert.Equal(t, "unavailable", code)
		assert.NotEmpty(t, retry)
		refused++
	}
	assert.Len(t, conns, ready.MaxStreams)
	assert.Equal(t, extra, refused)

	// At the ceiling the server answers its probes and its API, and streams still flow.
	client := &http.Client{Timeout: waitFor}
	for _, path := range []string{"/healthz", "/readyz", "/api/v1/shipping/methods"} {
		res, err := client.Get(ready.URL + path)
		require.NoError(t, err, path)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode, path)
	}
	req, _ := http.NewRequest(http.MethodPost, ready.URL+"/api/v1/shipping/"+ready.OrderID+"/location",
		strings.NewReader(`{"lat":10.7791,"lng":106.7023}`))
	req.Header.Set("Authorization", "Bearer "+ready.Shipper)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			for {
				m, err := tryReadLive(c)
				if !assert.NoError(t, err) || m.Type == shipping.MsgLocation {
					return
				}
			}
		})
	}
	wg.Wait()
}

func tryReadLive(conn *websocket.Conn) (message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	_, data, err := conn.Read(ctx)
	var m message
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	return m, err
}

// fdChild is the child's side: it lowers its own descriptor limit before the app starts (the
// hub derives its ceiling from it), makes a delivery, says READY and serves until its parent
// closes stdin.
func fdChild(t *testing.T) {
	var rl syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl))
	rl.Cur = 320
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl))
	env := apptest.New(t, apptest.WithEnv("REALTIME_FD_RESERVE", "200"),
		apptest.WithEnv("REALTIME_MAX_STREAMS_PER_USER", "1000"))
	st := openStore(t, env)
	b := st.newBuyer(t, "Buyer")
	sh := newShipper(t, env, "Shipper", nearby, true)
	id := st.readyOrder(t, b)
	assignedTo(t, env, id, b.AccessToken)
	ready, _ := json.Marshal(fdReady{URL: env.Server.URL, OrderID: id, Follower: b.AccessToken, Shipper: sh.AccessToken,
		MaxStreams: env.App.Realtime.MaxStreams()})
	fmt.Println("READY " + string(ready))
	_, _ = io.Copy(io.Discard, os.Stdin)
}
