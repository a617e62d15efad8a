// Package realtime is the shared WebSocket hub: server-to-client streams of small JSON
// messages on named topics (a shipment's live location, a user's notifications), fanned
// out through Redis pub/sub so that every server process serves its followers alike.
//
// Each process subscribes to a Redis channel once per topic that has local followers and
// fans each message out to them; the subscription is dropped with the last of them. Every
// message is encoded once, by Publish, and the same bytes go to every follower.
//
// What one follower may cost is bounded, so that streams cannot take the server down:
//
//   - Admit refuses a stream past MaxPerUser streams of one account (counted in Redis, so
//     across every process) or past the process's ceiling, derived from its descriptor
//     limit minus a reserve for the API, before any descriptor runs out.
//   - An idle follower holds no goroutine of its own beyond the library's reader (see
//     client): its HTTP handler returns once the stream is set up, which releases
//     net/http's per-connection state and buffers, and a writer goroutine exists only while
//     the follower has something queued or a ping is due.
//   - A follower that does not read is dropped (a close frame 1008 "slow reader" when the
//     socket still has room for it), so nobody else ever waits for it and its kernel
//     buffers stay small (SocketBuffer).
//   - Publishing is one Redis PUBLISH; fan-out happens on the process's Redis reader and the
//     followers' writers, never on the publisher's request.
//
// The hub authorizes nobody: callers check access before Admit, so a refusal is an
// ordinary HTTP error sent before the upgrade.
package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
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
	// ReasonTooSlow closes (1008, policy violation) a follower that does not read fast
	// enough: its queue or its socket's unsent bytes passed the bounds.
	ReasonTooSlow  = "slow reader"
	ReasonShutdown = "server shutting down"
)

// ErrClosed is returned by Serve once the hub is closed.
var ErrClosed = errors.New("realtime: hub closed")

// Config tunes a Hub; zero fields take the defaults.
type Config struct {
	// Prefix starts every Redis key and channel name: a topic's channel is Prefix + "rt:" +
	// topic, a user's stream count Prefix + "rt:streams:" + user.
	Prefix string
	// SendBuffer is how many messages may wait for one follower before it is dropped as too
	// slow (default 64).
	SendBuffer int
	// PingInterval is how often idle and busy connections alike are pinged, so dead peers
	// and idle-killing proxies are noticed (default 25s).
	PingInterval time.Duration
	// WriteTimeout bounds one frame write or ping: a follower that does not take a message
	// (or answer a ping) within it is dropped (default 5s).
	WriteTimeout time.Duration
	// SubscribeTimeout bounds the wait for Redis to confirm a new topic (default 10s).
	SubscribeTimeout time.Duration
	// MaxPerUser is how many streams one account may hold at once across every process
	// sharing Redis (default 10); negative means no limit.
	MaxPerUser int
	// MaxStreams is this process's ceiling on streams; 0 derives it from the descriptor
	// limit (RLIMIT_NOFILE) minus FDReserve.
	MaxStreams int
	// FDReserve is how many descriptors the derived ceiling leaves to everything else (API
	// connections, database and Redis pools, files); 0 means a quarter of the limit, at
	// least 256.
	FDReserve int
	// SocketBuffer is each follower's kernel send buffer (SO_SNDBUF, bytes; default 32 KiB)
	// and the most of its bytes the socket may hold unsent: past it the follower is too
	// slow. It bounds what a follower that stops reading costs in kernel memory.
	SocketBuffer int
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
		c.WriteTimeout = 5 * time.Second
	}
	if c.SubscribeTimeout <= 0 {
		c.SubscribeTimeout = 10 * time.Second
	}
	if c.MaxPerUser == 0 {
		c.MaxPerUser = 10
	}
	if c.SocketBuffer <= 0 {
		c.SocketBuffer = 32 << 10
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
	id  string // this hub's name in the per-user counts

	maxStreams int // the process ceiling
	streams    atomic.Int64
	passes     atomic.Int64 // sequence of pass names

	done     chan struct{} // closed by Close
	loopDone chan struct{}
	leasing  chan struct{} // closed when the lease refresher has stopped
	serving  sync.WaitGroup
	dropped  atomic.Int64

	// runq holds the followers with messages to write, in order, for the writers.
	runMu   sync.Mutex
	runCond *sync.Cond
	runq    []*client
	writers sync.WaitGroup
	// stopWriters, set once every follower has finished, lets the writers return.
	stopWriters bool

	mu      sync.Mutex
	closed  bool
	topics  map[string]*topic // by Redis channel
	pending map[string]int    // by Redis channel: SUBSCRIBEs not yet confirmed
	live    map[*client]struct{}
}

// topic is a Redis channel with local followers.
type topic struct {
	name, channel string
	clients       map[*client]struct{}
	ready         chan struct{} // closed when Redis confirms the subscription
	isReady       bool
}

// New starts a hub on rdb; Close stops it. rdb stays the caller's.
func New(rdb redis.UniversalClient, cfg Config) *Hub {
	h := &Hub{
		rdb: rdb, cfg: cfg.withDefaults(), id: newID(),
		done: make(chan struct{}), loopDone: make(chan struct{}), leasing: make(chan struct{}),
		topics: map[string]*topic{}, pending: map[string]int{}, live: map[*client]struct{}{},
	}
	h.maxStreams = h.ceiling()
	h.runCond = sync.NewCond(&h.runMu)
	for range max(8, 4*runtime.GOMAXPROCS(0)) {
		h.writers.Go(h.writer)
	}
	// One connection for all topics; channels are added and removed as topics come and go.
	h.ps = rdb.Subscribe(context.Background())
	go h.run(h.ps.ChannelWithSubscriptions(redis.WithChannelSize(1024)))
	go h.refreshLeases()
	return h
}

func (h *Hub) channel(topic string) string { return h.cfg.Prefix + "rt:" + topic }

// Publish sends a message to every follower of the topic, on every process. It returns once
// Redis has the message; the fan-out to followers happens elsewhere, whatever their number.
func (h *Hub) Publish(ctx context.Context, topic, msgType string, data any) error {
	return h.PublishMany(ctx, Outgoing{Topic: topic, Type: msgType, Data: data})
}

// Outgoing is a message to publish: its topic, its type and its data (encoded as JSON).
type Outgoing struct {
	Topic, Type string
	Data        any
}

// PublishMany is Publish of several messages, in one round trip to Redis whatever their number
// (a checkout's notifications: one a reader). Each topic's messages keep their order. Nothing
// is sent when one of them cannot be encoded; when Redis fails, some may have been.
func (h *Hub) PublishMany(ctx context.Context, msgs ...Outgoing) error {
	payloads := make([][]byte, len(msgs))
	at := time.Now().UTC()
	for i, m := range msgs {
		raw, err := json.Marshal(m.Data)
		if err != nil {
			return fmt.Errorf("realtime: encoding %s: %w", m.Type, err)
		}
		if payloads[i], err = json.Marshal(Message{Type: m.Type, Data: raw, At: at}); err != nil {
			return fmt.Errorf("realtime: encoding %s: %w", m.Type, err)
		}
	}
	switch len(msgs) {
	case 0:
		return nil
	case 1:
		if err := h.rdb.Publish(ctx, h.channel(msgs[0].Topic), payloads[0]).Err(); err != nil {
			return fmt.Errorf("realtime: publishing to %s: %w", msgs[0].Topic, err)
		}
		return nil
	}
	_, err := h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range msgs {
			p.Publish(ctx, h.channel(m.Topic), payloads[i])
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("realtime: publishing %d messages: %w", len(msgs), err)
	}
	return nil
}

// Snapshot answers the state a new follower starts from (a shipment as it is now), read
// once the topic is subscribed, so that it and the messages after it miss nothing. An empty
// msgType means there is nothing to send yet.
type Snapshot func(ctx context.Context) (msgType string, data any, err error)

// Serve upgrades the request to a WebSocket and streams the topic's messages to it until
// the client leaves, falls behind, or the hub closes; pass, from Admit, is released then (or
// at once when the upgrade fails). The caller must have authorized the request.
//
// The stream starts with the "subscribed" greeting, then snapshot's message when snapshot is
// not nil, then every message published since the subscription (a message published while
// the snapshot was read may arrive after it though the snapshot holds it already: messages
// carry states, so receiving one twice is harmless).
//
// Serve returns as soon as the client's first messages are queued: the stream lives on
// without the request's goroutine, and the request's context and deadline no longer matter.
// After a failed upgrade the response has been written.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, pass *Pass, topicName string, snapshot Snapshot) error {
	if topicName == "" || pass == nil {
		http.Error(w, "no topic", http.StatusInternalServerError)
		pass.release()
		return errors.New("realtime: Serve needs a topic and a pass")
	}
	h.mu.Lock()
	closed := h.closed
	if !closed {
		h.serving.Add(1)
	}
	h.mu.Unlock()
	if closed {
		pass.release()
		http.Error(w, ReasonShutdown, http.StatusServiceUnavailable)
		return ErrClosed
	}

	hj := &hijacker{ResponseWriter: w, sendBuffer: h.cfg.SocketBuffer}
	conn, err := websocket.Accept(hj, r, &websocket.AcceptOptions{OriginPatterns: h.cfg.OriginPatterns,
		CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		pass.release()
		h.serving.Done()
		return fmt.Errorf("realtime: upgrade: %w", err)
	}
	// Followers send nothing but control frames.
	conn.SetReadLimit(512)
	c := &client{h: h, conn: conn, raw: hj.raw, pass: pass}
	t, err := h.join(topicName, c)
	if err != nil {
		c.t = nil
		c.finish(endFailed, websocket.StatusTryAgainLater, "subscription failed")
		return err
	}
	c.t = t

	timer := time.NewTimer(h.cfg.SubscribeTimeout)
	defer timer.Stop()
	select {
	case <-t.ready:
	case <-timer.C:
		c.finish(endFailed, websocket.StatusTryAgainLater, "subscription timed out")
		return fmt.Errorf("realtime: redis did not confirm the subscription to %s", topicName)
	case <-h.done:
		c.finish(endShutdown, websocket.StatusGoingAway, ReasonShutdown)
		return nil
	}
	data, _ := json.Marshal(map[string]string{"topic": topicName})
	first := make([][]byte, 1, 2)
	first[0], _ = json.Marshal(Message{Type: TypeSubscribed, Data: data, At: time.Now().UTC()})
	if snapshot != nil {
		typ, state, err := snapshot(r.Context())
		if err == nil && typ != "" {
			var raw []byte
			if raw, err = json.Marshal(state); err == nil {
				msg, _ := json.Marshal(Message{Type: typ, Data: raw, At: time.Now().UTC()})
				first = append(first, msg)
			}
		}
		if err != nil {
			c.finish(endFailed, websocket.StatusTryAgainLater, "the current state could not be read")
			return fmt.Errorf("realtime: snapshot of %s: %w", topicName, err)
		}
	}
	c.start(first)
	return nil
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
	h.live[c] = struct{}{}
	return t, nil
}

// leave removes a client, unsubscribing in Redis when it was the topic's last.
func (h *Hub) leave(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.live, c)
	if c.t != nil {
		h.removeLocked(c.t, c)
	}
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

// fanout queues a message (the same bytes) for every local follower without ever waiting:
// each follower's writer takes it from there, and one whose queue is full is dropped.
func (h *Hub) fanout(ch string, msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[ch]
	if t == nil {
		return
	}
	for c := range t.clients {
		if !c.enqueue(msg, h.cfg.SendBuffer) {
			h.removeLocked(t, c)
		}
	}
}

// schedule queues c for a writer.
func (h *Hub) schedule(c *client) {
	h.runMu.Lock()
	h.runq = append(h.runq, c)
	h.runMu.Unlock()
	h.runCond.Signal()
}

// writer writes the messages of the followers queued for it, until the hub has closed and
// every follower has finished. A follower's write blocks a writer only as long as its socket
// has room (see client.write), so a few writers serve any number of followers.
func (h *Hub) writer() {
	served := 0
	for {
		h.runMu.Lock()
		for len(h.runq) == 0 {
			if h.stopWriters {
				h.runMu.Unlock()
				return
			}
			h.runCond.Wait()
		}
		c := h.runq[0]
		h.runq[0] = nil
		if h.runq = h.runq[1:]; len(h.runq) == 0 {
			h.runq = nil
		}
		h.runMu.Unlock()
		c.write()
		// Writes into sockets with room never block, so a writer would keep its CPU until
		// preempted (10 ms): yielding now and then lets a request that just became runnable
		// (one publishing, say) in between.
		if served++; served%16 == 0 {
			runtime.Gosched()
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

// Streams is how many streams this process holds (admitted, not yet ended).
func (h *Hub) Streams() int { return int(h.streams.Load()) }

// MaxStreams is this process's ceiling on streams.
func (h *Hub) MaxStreams() int { return h.maxStreams }

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
	clients := make([]*client, 0, len(h.live))
	for c := range h.live {
		clients = append(clients, c)
	}
	h.mu.Unlock()

	for _, c := range clients {
		go c.finish(endShutdown, websocket.StatusGoingAway, ReasonShutdown)
	}
	h.serving.Wait()
	// Every follower has finished: none can be queued any more.
	h.runMu.Lock()
	h.stopWriters = true
	h.runCond.Broadcast()
	h.runMu.Unlock()
	h.writers.Wait()
	<-h.leasing
	err := h.ps.Close()
	<-h.loopDone
	return err
}
