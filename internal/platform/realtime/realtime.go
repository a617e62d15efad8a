// Package realtime is the shared WebSocket hub: server-to-client streams of small JSON
// messages on named topics (a shipment's live location, a user's notifications), fanned
// out through Redis pub/sub so that every server process serves its subscribers alike.
//
// Each process subscribes to a Redis channel once per topic that has local subscribers and
// fans each message out to them; the subscription is dropped with the last of them. A
// client that cannot keep up is disconnected rather than allowed to hold anybody back.
//
// The hub authorizes nobody: callers check access before Serve, so a refusal is an
// ordinary HTTP error sent before the upgrade.
package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
)

// Message is what clients receive, one JSON text frame each.
type Message struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
	At   time.Time       `json:"at"`
}

// TypeSubscribed is the type of the first message on every connection, sent once the hub
// is subscribed to the topic: every message published after a client has read it reaches
// that client.
const TypeSubscribed = "subscribed"

// Close reasons sent to clients.
const (
	ReasonTooSlow  = "too slow"
	ReasonShutdown = "server shutting down"
)

// ErrClosed is returned by Serve once the hub is closed.
var ErrClosed = errors.New("realtime: hub closed")

// Config tunes a Hub; zero fields take the defaults.
type Config struct {
	// Prefix starts every Redis channel name: a topic's channel is Prefix + "rt:" + topic.
	Prefix string
	// SendBuffer is how many messages may wait for one client before it is dropped as too
	// slow (default 64).
	SendBuffer int
	// PingInterval is how often idle and busy connections alike are pinged, so dead peers
	// and idle-killing proxies are noticed (default 25s).
	PingInterval time.Duration
	// WriteTimeout bounds one frame write or ping (default 10s).
	WriteTimeout time.Duration
	// SubscribeTimeout bounds the wait for Redis to confirm a new topic (default 10s).
	SubscribeTimeout time.Duration
	// OriginPatterns are the browser origins allowed besides the request's own host (see
	// websocket.AcceptOptions).
	OriginPatterns []string
	Logger         *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.SendBuffer <= 0 {
		c.SendBuffer = 64
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.SubscribeTimeout <= 0 {
		c.SubscribeTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Hub serves topics over WebSocket. It is safe for concurrent use.
type Hub struct {
	rdb redis.UniversalClient
	cfg Config
	ps  *redis.PubSub

	done     chan struct{} // closed by Close
	loopDone chan struct{}
	serving  sync.WaitGroup
	dropped  atomic.Int64

	mu      sync.Mutex
	closed  bool
	topics  map[string]*topic // by Redis channel
	pending map[string]int    // by Redis channel: SUBSCRIBEs not yet confirmed
}

// topic is a Redis channel with local subscribers.
type topic struct {
	name, channel string
	clients       map[*client]struct{}
	ready         chan struct{} // closed when Redis confirms the subscription
	isReady       bool
}

// client is one WebSocket connection's queue. drop cancels ctx, which aborts a write in
// progress, so a client stuck on a full TCP window cannot hold its goroutine either.
type client struct {
	send   chan []byte
	ctx    context.Context
	cancel context.CancelFunc
	slow   atomic.Bool
}

// New starts a hub on rdb; Close stops it. rdb stays the caller's.
func New(rdb redis.UniversalClient, cfg Config) *Hub {
	h := &Hub{
		rdb: rdb, cfg: cfg.withDefaults(),
		done: make(chan struct{}), loopDone: make(chan struct{}),
		topics: map[string]*topic{}, pending: map[string]int{},
	}
	// One connection for all topics; channels are added and removed as topics come and go.
	h.ps = rdb.Subscribe(context.Background())
	go h.run(h.ps.ChannelWithSubscriptions(redis.WithChannelSize(1024)))
	return h
}

func (h *Hub) channel(topic string) string { return h.cfg.Prefix + "rt:" + topic }

// Publish sends a message to every subscriber of the topic, on every process.
func (h *Hub) Publish(ctx context.Context, topic, msgType string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("realtime: encoding %s: %w", msgType, err)
	}
	payload, err := json.Marshal(Message{Type: msgType, Data: raw, At: time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("realtime: encoding %s: %w", msgType, err)
	}
	if err := h.rdb.Publish(ctx, h.channel(topic), payload).Err(); err != nil {
		return fmt.Errorf("realtime: publishing to %s: %w", topic, err)
	}
	return nil
}

// Serve upgrades the request to a WebSocket and streams the topic's messages to it until
// the client leaves, falls behind, or the hub closes. The caller must have authorized the
// request; the request's deadline, if any, is ignored once upgraded. Serve returns nil when
// the client leaves; after a failed upgrade the response has been written.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, topicName string) error {
	if topicName == "" {
		http.Error(w, "no topic", http.StatusInternalServerError)
		return errors.New("realtime: Serve needs a topic")
	}
	h.mu.Lock()
	closed := h.closed
	if !closed {
		h.serving.Add(1)
	}
	h.mu.Unlock()
	if closed {
		http.Error(w, ReasonShutdown, http.StatusServiceUnavailable)
		return ErrClosed
	}
	defer h.serving.Done()

	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.cfg.OriginPatterns})
	if err != nil {
		return fmt.Errorf("realtime: upgrade: %w", err)
	}
	defer conn.CloseNow()
	// The client sends nothing; reading only answers pings and notices its going. The
	// stream outlives the request's deadline (a router's per-request timeout), keeping only
	// its values; the hub's own Close and the client end it.
	readCtx := conn.CloseRead(context.WithoutCancel(r.Context()))

	c := &client{send: make(chan []byte, h.cfg.SendBuffer)}
	c.ctx, c.cancel = context.WithCancel(readCtx)
	defer c.cancel()
	t, err := h.join(topicName, c)
	if err != nil {
		conn.Close(websocket.StatusTryAgainLater, "subscription failed")
		return err
	}
	defer h.leave(t, c)

	timer := time.NewTimer(h.cfg.SubscribeTimeout)
	defer timer.Stop()
	select {
	case <-t.ready:
	case <-timer.C:
		conn.Close(websocket.StatusTryAgainLater, "subscription timed out")
		return fmt.Errorf("realtime: redis did not confirm the subscription to %s", topicName)
	case <-h.done:
		conn.Close(websocket.StatusGoingAway, ReasonShutdown)
		return nil
	case <-c.ctx.Done():
		return h.ended(conn, c)
	}
	data, _ := json.Marshal(map[string]string{"topic": topicName})
	hello, _ := json.Marshal(Message{Type: TypeSubscribed, Data: data, At: time.Now().UTC()})
	if err := h.write(conn, c, hello); err != nil {
		return h.ended(conn, c)
	}

	go h.keepAlive(conn, c)
	for {
		select {
		case msg := <-c.send:
			if err := h.write(conn, c, msg); err != nil {
				return h.ended(conn, c)
			}
		case <-c.ctx.Done():
			return h.ended(conn, c)
		case <-h.done:
			conn.Close(websocket.StatusGoingAway, ReasonShutdown)
			return nil
		}
	}
}

func (h *Hub) write(conn *websocket.Conn, c *client, msg []byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, h.cfg.WriteTimeout)
	defer cancel()
	return conn.Write(ctx, websocket.MessageText, msg)
}

// ended closes the connection of a client whose context ended: with "too slow" when the
// hub dropped it, otherwise it has gone (or failed a ping) and only the socket remains.
func (h *Hub) ended(conn *websocket.Conn, c *client) error {
	if c.slow.Load() {
		conn.Close(websocket.StatusPolicyViolation, ReasonTooSlow)
		return errors.New("realtime: client dropped: " + ReasonTooSlow)
	}
	return nil
}

// keepAlive pings the client; a ping unanswered within WriteTimeout ends the connection.
func (h *Hub) keepAlive(conn *websocket.Conn, c *client) {
	tick := time.NewTicker(h.cfg.PingInterval)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(c.ctx, h.cfg.WriteTimeout)
			err := conn.Ping(ctx)
			cancel()
			if err != nil {
				c.cancel()
				return
			}
		}
	}
}

// join adds a client to its topic, subscribing in Redis when it is the topic's first.
func (h *Hub) join(name string, c *client) (*topic, error) {
	ch := h.channel(name)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	t := h.topics[ch]
	if t == nil {
		t = &topic{name: name, channel: ch, clients: map[*client]struct{}{}, ready: make(chan struct{})}
		// Commands go out in order on the one connection, so a SUBSCRIBE issued just after
		// the UNSUBSCRIBE of a previous instance of the topic is confirmed after it; pending
		// counts confirmations still owed so that an old one is not taken for the new.
		// Not the request's context: a client hanging up mid-command must not break the
		// connection every topic shares.
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.WriteTimeout)
		defer cancel()
		if err := h.ps.Subscribe(ctx, ch); err != nil {
			_ = h.ps.Unsubscribe(ctx, ch) // go-redis remembers the channel even on failure
			return nil, fmt.Errorf("realtime: subscribing to %s: %w", name, err)
		}
		h.pending[ch]++
		h.topics[ch] = t
	}
	t.clients[c] = struct{}{}
	return t, nil
}

// leave removes a client, unsubscribing in Redis when it was the topic's last.
func (h *Hub) leave(t *topic, c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(t, c)
}

func (h *Hub) removeLocked(t *topic, c *client) {
	if _, ok := t.clients[c]; !ok {
		return
	}
	delete(t.clients, c)
	if len(t.clients) > 0 || h.topics[t.channel] != t {
		return
	}
	delete(h.topics, t.channel)
	if !h.closed {
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.WriteTimeout)
		defer cancel()
		if err := h.ps.Unsubscribe(ctx, t.channel); err != nil {
			h.cfg.Logger.Warn("realtime: unsubscribe failed", "topic", t.name, "err", err)
		}
	}
}

// run dispatches what Redis sends until the subscription connection is closed.
func (h *Hub) run(ch <-chan any) {
	defer close(h.loopDone)
	for m := range ch {
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				h.confirmed(m.Channel)
			}
		case *redis.Message:
			h.fanout(m.Channel, []byte(m.Payload))
		}
	}
}

func (h *Hub) confirmed(ch string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// A reconnect resubscribes every channel and confirms them all again; those owe nothing.
	if h.pending[ch] > 0 {
		h.pending[ch]--
	}
	if h.pending[ch] == 0 {
		delete(h.pending, ch)
		if t := h.topics[ch]; t != nil && !t.isReady {
			t.isReady = true
			close(t.ready)
		}
	}
}

// fanout queues a message for every local subscriber without ever waiting: a client whose
// queue is full is dropped on the spot.
func (h *Hub) fanout(ch string, msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[ch]
	if t == nil {
		return
	}
	for c := range t.clients {
		select {
		case c.send <- msg:
		default:
			c.slow.Store(true)
			c.cancel()
			h.dropped.Add(1)
			h.removeLocked(t, c)
		}
	}
}

// Subscribers is how many clients of this process follow the topic.
func (h *Hub) Subscribers(topic string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.topics[h.channel(topic)]; t != nil {
		return len(t.clients)
	}
	return 0
}

// Topics is how many topics this process is subscribed to in Redis.
func (h *Hub) Topics() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.topics)
}

// Dropped is how many clients this process has dropped as too slow.
func (h *Hub) Dropped() int64 { return h.dropped.Load() }

// Close disconnects every client with "going away", ends the Redis subscription and waits
// for the connections to finish closing. It is safe to call more than once.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	close(h.done)
	h.mu.Unlock()

	h.serving.Wait()
	err := h.ps.Close()
	<-h.loopDone
	return err
}
