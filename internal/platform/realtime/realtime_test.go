package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/realtime"
)

// waitFor bounds the waits for things that must happen; tests never assert on timing.
const waitFor = 20 * time.Second

func redisClient(t testing.TB) *redis.Client {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	require.NoError(t, err)
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	require.NoError(t, rdb.Ping(context.Background()).Err())
	return rdb
}

// instance is one server process: a hub and the HTTP server in front of it. Its handler
// refuses requests without the right header before upgrading, as callers must.
type instance struct {
	hub *realtime.Hub
	srv *httptest.Server
}

func newInstance(t testing.TB, rdb *redis.Client, cfg realtime.Config) *instance {
	t.Helper()
	hub := realtime.New(rdb, cfg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Allowed") != "yes" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if r.URL.Query().Has("expired") {
			// as behind a per-request timeout middleware whose deadline has passed
			ctx, cancel := context.WithCancel(r.Context())
			cancel()
			r = r.WithContext(ctx)
		}
		pass, err := hub.Admit(w, r, r.URL.Query().Get("user"))
		if err != nil {
			status := http.StatusServiceUnavailable
			if apperr.Is(err, apperr.TooManyRequests) {
				status = http.StatusTooManyRequests
			}
			w.Header().Set("Retry-After", "10")
			http.Error(w, err.Error(), status)
			return
		}
		_ = hub.Serve(w, r, pass, r.URL.Query().Get("topic"), nil)
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		_ = hub.Close()
		srv.Close()
	})
	return &instance{hub: hub, srv: srv}
}

func prefix() string { return "test:" + uuid.NewString()[:8] + ":" }

// dial connects to a topic and reads the "subscribed" greeting, after which every message
// published reaches the connection.
func dial(t testing.TB, in *instance, topic string) *websocket.Conn {
	t.Helper()
	conn, err := tryDial(in, topic)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

// tryDial is dial for goroutines other than the test's, which must not call FailNow. opts, when
// given, shape the client (their header is replaced).
func tryDial(in *instance, topic string, opts ...websocket.DialOptions) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	o := websocket.DialOptions{}
	if len(opts) > 0 {
		o = opts[0]
	}
	o.HTTPHeader = http.Header{"X-Allowed": {"yes"}}
	conn, res, err := websocket.Dial(ctx, in.srv.URL+"?topic="+topic, &o)
	if err != nil {
		return nil, err
	}
	if res.Body != nil {
		_ = res.Body.Close()
	}
	conn.SetReadLimit(1 << 22)
	m, err := tryRead(conn)
	name, _, _ := strings.Cut(topic, "&") // more query parameters may follow the topic
	if err == nil && (m.Type != realtime.TypeSubscribed || string(m.Data) != fmt.Sprintf(`{"topic":%q}`, name)) {
		err = fmt.Errorf("greeting %+v", m)
	}
	if err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	return conn, nil
}

func read(t testing.TB, conn *websocket.Conn) realtime.Message {
	t.Helper()
	m, err := tryRead(conn)
	require.NoError(t, err)
	return m
}

func tryRead(conn *websocket.Conn) (realtime.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	typ, b, err := conn.Read(ctx)
	if err != nil {
		return realtime.Message{}, err
	}
	if typ != websocket.MessageText {
		return realtime.Message{}, errors.New("not a text frame")
	}
	var m realtime.Message
	err = json.Unmarshal(b, &m)
	return m, err
}

func publish(t testing.TB, h *realtime.Hub, topic, typ string, data any) {
	t.Helper()
	require.NoError(t, h.Publish(context.Background(), topic, typ, data))
}

func TestMessagePublishedOnOneInstanceReachesASubscriberOnAnother(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	cfg := realtime.Config{Prefix: prefix()}
	a, b := newInstance(t, rdb, cfg), newInstance(t, rdb, cfg)
	conn := dial(t, b, "shipment:1")

	before := time.Now().UTC()
	publish(t, a.hub, "shipment:1", "location", map[string]float64{"lat": 10.77, "lng": 106.70})
	m := read(t, conn)
	assert.Equal(t, "location", m.Type)
	assert.JSONEq(t, `{"lat":10.77,"lng":106.70}`, string(m.Data))
	assert.False(t, m.At.Before(before.Add(-time.Second)), "at is the publish time")

	// And the other way round, to a subscriber on the publishing instance itself.
	conn2 := dial(t, a, "shipment:1")
	publish(t, b.hub, "shipment:1", "status", "picked_up")
	for _, c := range []*websocket.Conn{conn, conn2} {
		m := read(t, c)
		assert.Equal(t, "status", m.Type)
		assert.JSONEq(t, `"picked_up"`, string(m.Data))
	}
}

func TestEverySubscriberOfATopicReceivesEveryMessageInOrder(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	cfg := realtime.Config{Prefix: prefix()}
	a, b := newInstance(t, rdb, cfg), newInstance(t, rdb, cfg)
	var conns []*websocket.Conn
	for i := range 40 {
		conns = append(conns, dial(t, []*instance{a, b}[i%2], "order:7"))
	}
	assert.Equal(t, 20, a.hub.Subscribers("order:7"))
	assert.Equal(t, 1, a.hub.Topics(), "one Redis subscription however many local subscribers")

	for i := range 5 {
		publish(t, a.hub, "order:7", "tick", i)
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			for i := range 5 {
				m, err := tryRead(c)
				if assert.NoError(t, err) {
					assert.JSONEq(t, fmt.Sprint(i), string(m.Data))
				}
			}
		})
	}
	wg.Wait()
}

// roundTrips counts the PUBLISH commands and the pipelines a Redis client sends: one round
// trip each (a new connection's handshake is not counted).
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "publish" {
			r.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return c.Name() == "publish" }) {
			r.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// TestPublishManySendsEveryMessageInOneRoundTrip: messages to several topics reach each topic's
// followers in the order given, and Redis is asked once; a message that cannot be encoded
// stops them all before anything is sent.
func TestPublishManySendsEveryMessageInOneRoundTrip(t *testing.T) {
	t.Parallel()
	cfg := realtime.Config{Prefix: prefix()}
	follow := newInstance(t, redisClient(t), cfg)
	one, two := dial(t, follow, "order:1"), dial(t, follow, "order:2")

	counted := redisClient(t)
	var rt roundTrips
	counted.AddHook(&rt)
	pub := realtime.New(counted, cfg)
	t.Cleanup(func() { _ = pub.Close() })
	require.NoError(t, pub.PublishMany(context.Background(),
		realtime.Outgoing{Topic: "order:1", Type: "tick", Data: 1},
		realtime.Outgoing{Topic: "order:2", Type: "tock", Data: 10},
		realtime.Outgoing{Topic: "order:1", Type: "tick", Data: 2},
		realtime.Outgoing{Topic: "order:1", Type: "tick", Data: 3},
		realtime.Outgoing{Topic: "order:2", Type: "tock", Data: 20}))
	assert.EqualValues(t, 1, rt.n.Load(), "one round trip")
	for conn, want := range map[*websocket.Conn][]string{one: {"tick 1", "tick 2", "tick 3"}, two: {"tock 10", "tock 20"}} {
		for _, w := range want {
			m, err := tryRead(conn)
			require.NoError(t, err)
			assert.Equal(t, w, m.Type+" "+string(m.Data))
		}
	}

	rt.n.Store(0)
	assert.Error(t, pub.PublishMany(context.Background(),
		realtime.Outgoing{Topic: "order:1", Type: "tick", Data: 4},
		realtime.Outgoing{Topic: "order:1", Type: "bad", Data: make(chan int)}))
	assert.Zero(t, rt.n.Load(), "nothing sent")
	require.NoError(t, pub.PublishMany(context.Background()))
	assert.Zero(t, rt.n.Load(), "nothing to send")
	publish(t, pub, "order:1", "tick", 5)
	m, err := tryRead(one)
	require.NoError(t, err)
	assert.Equal(t, "tick 5", m.Type+" "+string(m.Data), "the refused message 4 never went out")
}

func TestTopicsAreIsolated(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	cfg := realtime.Config{Prefix: prefix()}
	a := newInstance(t, rdb, cfg)
	x, y := dial(t, a, "x"), dial(t, a, "y")

	publish(t, a.hub, "x", "for-x", 1)
	publish(t, a.hub, "y", "for-y", 2)
	assert.Equal(t, "for-x", read(t, x).Type)
	// Redis delivers in publish order on the hub's one connection: had y received x's
	// message, it would come before y's own.
	assert.Equal(t, "for-y", read(t, y).Type)

	// Another prefix is another deployment sharing the Redis server.
	other := newInstance(t, rdb, realtime.Config{Prefix: prefix()})
	z := dial(t, other, "x")
	publish(t, a.hub, "x", "same-name-other-prefix", 3)
	publish(t, other.hub, "x", "own", 4)
	assert.Equal(t, "own", read(t, z).Type)
	assert.Equal(t, "same-name-other-prefix", read(t, x).Type)
}

func TestSlowClientIsDroppedWhileAFastOneKeepsReceiving(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	in := newInstance(t, rdb, realtime.Config{Prefix: prefix(), SendBuffer: 8})
	slow := dial(t, in, "busy")
	fast := dial(t, in, "busy")
	require.Equal(t, 2, in.hub.Subscribers("busy"))

	// The slow client reads nothing more. Big messages fill its socket buffers, then its
	// queue; the fast one reads each message before the next is sent, so it never lags.
	payload := strings.Repeat("x", 64<<10)
	sent := 0
	for ; sent < 2000 && in.hub.Dropped() == 0; sent++ {
		publish(t, in.hub, "busy", "bulk", payload)
		m := read(t, fast)
		require.Equal(t, "bulk", m.Type)
	}
	require.EqualValues(t, 1, in.hub.Dropped(), "the slow client is dropped once its socket and queue are full")
	t.Logf("the slow client was dropped after %d messages of 64 KiB", sent)
	assert.Equal(t, 1, in.hub.Subscribers("busy"))

	publish(t, in.hub, "busy", "after", "still here")
	assert.Equal(t, "after", read(t, fast).Type)

	// The slow client finds its stream cut when it finally reads: what was delivered, then
	// the end (a "too slow" close frame when the socket had room for one).
	var err error
	for n := 0; err == nil && n <= sent; n++ {
		_, err = tryRead(slow)
	}
	require.Error(t, err)
	if s := websocket.CloseStatus(err); s != -1 {
		assert.Equal(t, websocket.StatusPolicyViolation, s)
	}
}

// smallReceiveBuffer dials with a 4 KiB socket receive buffer, so that a client that stops
// reading fills its window after a few messages.
func smallReceiveBuffer() websocket.DialOptions {
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	return websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}}
}

func TestAFollowerThatStopsReadingIsDroppedWithACloseFrameAndNobodyWaits(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	// Small socket buffers on both sides, and a queue and write timeout far too large to be
	// what catches it: the unsent bytes in its socket are.
	in := newInstance(t, rdb, realtime.Config{Prefix: prefix(), SocketBuffer: 8 << 10, SendBuffer: 100_000,
		WriteTimeout: time.Minute})
	stalled, err := tryDial(in, "stall", smallReceiveBuffer())
	require.NoError(t, err)
	t.Cleanup(func() { _ = stalled.CloseNow() })
	readers := []*websocket.Conn{dial(t, in, "stall"), dial(t, in, "stall")}

	// Publish without waiting for anyone; the readers read in their own goroutines.
	got := make([][]int, len(readers))
	var wg sync.WaitGroup
	const total = 100
	for i, c := range readers {
		wg.Go(func() {
			for len(got[i]) < total {
				m, err := tryRead(c)
				if !assert.NoError(t, err) {
					return
				}
				if m.Type != "n" {
					continue
				}
				var n int
				if !assert.NoError(t, json.Unmarshal(m.Data, &n)) {
					return
				}
				got[i] = append(got[i], n)
			}
		})
	}
	filler := strings.Repeat("x", 1000)
	for i := range total {
		require.NoError(t, in.hub.Publish(context.Background(), "stall", "n", i))
		if i < 60 {
			// 60 KB in all, to fill the stalled socket's 4 KiB and the server's 16 KiB
			// quickly, and far less than a reading client's socket takes by default.
			require.NoError(t, in.hub.Publish(context.Background(), "stall", "filler", filler))
		}
	}
	wg.Wait()
	for i := range readers {
		want := make([]int, total)
		for n := range want {
			want[n] = n
		}
		assert.Equal(t, want, got[i], "a reading follower gets every message in order")
	}
	require.Eventually(t, func() bool { return in.hub.Dropped() == 1 }, waitFor, 10*time.Millisecond)
	assert.Equal(t, 2, in.hub.Subscribers("stall"))

	// Reading again, the stalled client finds what its socket held, then why it was dropped.
	for {
		_, err = tryRead(stalled)
		if err != nil {
			break
		}
	}
	assert.Equal(t, websocket.StatusPolicyViolation, websocket.CloseStatus(err), "%v", err)
	var ce websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, realtime.ReasonTooSlow, ce.Reason)
}

func TestUnsubscribesWhenTheLastLocalSubscriberLeaves(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	p := prefix()
	in := newInstance(t, rdb, realtime.Config{Prefix: p})
	channel := p + "rt:t1"
	numsub := func() int64 {
		n, err := rdb.PubSubNumSub(context.Background(), channel).Result()
		require.NoError(t, err)
		return n[channel]
	}

	c1, c2 := dial(t, in, "t1"), dial(t, in, "t1")
	assert.EqualValues(t, 1, numsub(), "one Redis subscription for two local subscribers")

	require.NoError(t, c1.Close(websocket.StatusNormalClosure, "bye"))
	require.Eventually(t, func() bool { return in.hub.Subscribers("t1") == 1 }, waitFor, 10*time.Millisecond)
	assert.EqualValues(t, 1, numsub())

	require.NoError(t, c2.Close(websocket.StatusNormalClosure, "bye"))
	require.Eventually(t, func() bool { return in.hub.Topics() == 0 }, waitFor, 10*time.Millisecond)
	require.Eventually(t, func() bool { return numsub() == 0 }, waitFor, 10*time.Millisecond)

	// The topic comes back to life for a new subscriber.
	c3 := dial(t, in, "t1")
	publish(t, in.hub, "t1", "again", nil)
	assert.Equal(t, "again", read(t, c3).Type)
	assert.EqualValues(t, 1, numsub())
}

func TestRapidJoinAndLeaveNeverLosesTheSubscription(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	in := newInstance(t, rdb, realtime.Config{Prefix: prefix()})
	// Subscribe and unsubscribe the same topic over and over from several goroutines; every
	// client that was greeted must get the message published after its greeting.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				c, err := tryDial(in, "churn")
				if !assert.NoError(t, err) {
					return
				}
				defer c.CloseNow()
				if !assert.NoError(t, in.hub.Publish(context.Background(), "churn", "ping", fmt.Sprintf("%d-%d", g, i))) {
					return
				}
				for {
					m, err := tryRead(c)
					if !assert.NoError(t, err) {
						return
					}
					if string(m.Data) == fmt.Sprintf("%q", fmt.Sprintf("%d-%d", g, i)) {
						break
					}
				}
				_ = c.Close(websocket.StatusNormalClosure, "")
			}
		})
	}
	wg.Wait()
	require.Eventually(t, func() bool { return in.hub.Topics() == 0 }, waitFor, 10*time.Millisecond)
}

func TestAClientThatStopsAnsweringPingsIsDisconnected(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	in := newInstance(t, rdb, realtime.Config{Prefix: prefix(), PingInterval: 20 * time.Millisecond, WriteTimeout: time.Second})
	// A coder/websocket client answers pings only while it reads; this one stops reading.
	_ = dial(t, in, "quiet")
	require.Eventually(t, func() bool { return in.hub.Subscribers("quiet") == 0 }, waitFor, 10*time.Millisecond)
	assert.Zero(t, in.hub.Dropped(), "a dead peer is not counted as slow")

	// One that keeps reading keeps answering, and stays.
	var pings atomic.Int64
	c, err := tryDial(in, "chatty", websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool {
		pings.Add(1)
		return true
	}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	got := make(chan string, 16)
	go func() {
		for {
			m, err := tryRead(c)
			if err != nil {
				close(got)
				return
			}
			got <- m.Type
		}
	}()
	for i := range 5 {
		// Two more pings answered: the connection lived through a ping round.
		seen := pings.Load()
		require.Eventually(t, func() bool { return pings.Load() >= seen+2 }, waitFor, 5*time.Millisecond)
		publish(t, in.hub, "chatty", "n", i)
		assert.Equal(t, "n", <-got)
	}
	assert.Equal(t, 1, in.hub.Subscribers("chatty"))
}

func TestTheStreamOutlivesTheRequestDeadline(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	in := newInstance(t, rdb, realtime.Config{Prefix: prefix()})
	c := dial(t, in, "long&expired=1")
	publish(t, in.hub, "long", "still", "open")
	assert.Equal(t, "still", read(t, c).Type)
}

func TestRefusalHappensBeforeTheUpgrade(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	in := newInstance(t, rdb, realtime.Config{Prefix: prefix()})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	_, res, err := websocket.Dial(ctx, in.srv.URL+"?topic=secret", nil)
	require.Error(t, err)
	require.NotNil(t, res)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Zero(t, in.hub.Topics())
}

func TestCloseSaysGoingAwayAndRefusesNewClients(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	in := newInstance(t, rdb, realtime.Config{Prefix: prefix()})
	c := dial(t, in, "bye")

	done := make(chan error, 1)
	go func() { done <- in.hub.Close() }()
	_, err := tryRead(c)
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err), "%v", err)
	require.NoError(t, <-done)
	assert.NoError(t, in.hub.Close(), "closing twice is harmless")

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	_, res, err := websocket.Dial(ctx, in.srv.URL+"?topic=bye", &websocket.DialOptions{HTTPHeader: http.Header{"X-Allowed": {"yes"}}})
	require.Error(t, err)
	require.NotNil(t, res)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
}

func TestPublishRejectsWhatCannotBeEncoded(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	h := realtime.New(rdb, realtime.Config{Prefix: prefix()})
	t.Cleanup(func() { _ = h.Close() })
	assert.Error(t, h.Publish(context.Background(), "t", "bad", make(chan int)))
}

// dialAs dials as user and answers the HTTP status of a refusal (0 when admitted).
func dialAs(t *testing.T, in *instance, topic, user string) (*websocket.Conn, int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	conn, res, err := websocket.Dial(ctx, in.srv.URL+"?topic="+topic+"&user="+user,
		&websocket.DialOptions{HTTPHeader: http.Header{"X-Allowed": {"yes"}}})
	if err != nil {
		require.NotNil(t, res, "%v", err)
		return nil, res.StatusCode, res.Header.Get("Retry-After")
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	_, err = tryRead(conn)
	require.NoError(t, err)
	return conn, 0, ""
}

func TestAUserHoldsAtMostMaxPerUserStreamsAcrossProcesses(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	cfg := realtime.Config{Prefix: prefix(), MaxPerUser: 3}
	a, b := newInstance(t, rdb, cfg), newInstance(t, rdb, cfg)
	c1, status, _ := dialAs(t, a, "t", "alice")
	require.Zero(t, status)
	_, status, _ = dialAs(t, b, "t", "alice")
	require.Zero(t, status)
	_, status, _ = dialAs(t, a, "u", "alice")
	require.Zero(t, status)

	// A fourth stream is refused on either process, with a time to come back.
	_, status, retry := dialAs(t, b, "t", "alice")
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.NotEmpty(t, retry)
	_, status, _ = dialAs(t, a, "t", "alice")
	assert.Equal(t, http.StatusTooManyRequests, status)
	// Somebody else is not affected.
	_, status, _ = dialAs(t, a, "t", "bob")
	assert.Zero(t, status)

	// Closing one gives its place back.
	require.NoError(t, c1.Close(websocket.StatusNormalClosure, "bye"))
	require.Eventually(t, func() bool {
		c, status, _ := dialAs(t, b, "t", "alice")
		if c != nil {
			_ = c.CloseNow()
		}
		return status == 0
	}, waitFor, 20*time.Millisecond)
}

func TestTheProcessCeilingRefusesWith503AndFreesWithLeavers(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	in := newInstance(t, rdb, realtime.Config{Prefix: prefix(), MaxStreams: 4})
	assert.Equal(t, 4, in.hub.MaxStreams())
	var conns []*websocket.Conn
	for i := range 4 {
		c, status, _ := dialAs(t, in, "t", fmt.Sprint("user-", i))
		require.Zero(t, status)
		conns = append(conns, c)
	}
	_, status, retry := dialAs(t, in, "t", "user-9")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.NotEmpty(t, retry)
	assert.Equal(t, 4, in.hub.Streams())

	require.NoError(t, conns[0].Close(websocket.StatusNormalClosure, "bye"))
	require.Eventually(t, func() bool { return in.hub.Streams() == 3 }, waitFor, 10*time.Millisecond)
	_, status, _ = dialAs(t, in, "t", "user-9")
	assert.Zero(t, status)
}

func TestTheCeilingIsDerivedFromTheDescriptorLimit(t *testing.T) {
	t.Parallel()
	var rl syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl))
	rdb := redisClient(t)
	h := realtime.New(rdb, realtime.Config{Prefix: prefix(), FDReserve: 100})
	t.Cleanup(func() { _ = h.Close() })
	assert.EqualValues(t, max(0, int(rl.Cur)-100), h.MaxStreams())
}

func TestAnIdleFollowerHoldsAtMostOneGoroutine(t *testing.T) {
	t.Parallel()
	rdb := redisClient(t)
	in := newInstance(t, rdb, realtime.Config{Prefix: prefix()})
	// Other tests run in parallel; so count this test's followers' goroutines by stack.
	const n = 50
	for range n {
		dial(t, in, "idle")
	}
	require.Equal(t, n, in.hub.Subscribers("idle"))
	// Server side: the library's reader per follower, and nothing else of the hub's or of
	// net/http's per connection (the handlers have returned).
	require.Eventually(t, func() bool {
		buf := make([]byte, 16<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		perConn := strings.Count(stacks, "realtime.(*client)") + strings.Count(stacks, "realtime.(*Hub).Serve")
		return perConn == 0
	}, waitFor, 20*time.Millisecond, "no handler nor writer goroutine stays with an idle follower")
}
