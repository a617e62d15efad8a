package realtime

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// ReasonNoPong closes a follower that did not answer a ping within the write timeout.
const ReasonNoPong = "no answer to ping"

// How a client's stream ended, for the counts.
type endKind int

const (
	endGone     endKind = iota // the client left, or its socket failed
	endSlow                    // dropped as too slow
	endShutdown                // the hub closed
	endFailed                  // the stream could not start
)

// client is one follower. It has no goroutine of its own but the library's reader
// (CloseRead), which answers pings and notices the client's going: the hub's few writers
// write its messages, and a pinger runs only from a ping to its pong. So a follower costs a
// goroutine and a few KiB, and a message to 10,000 followers makes a handful of goroutines
// runnable rather than 10,000 (which would queue everything else in the process, the
// requests that publish included, behind the fan-out).
type client struct {
	h    *Hub
	conn *websocket.Conn
	raw  syscall.RawConn // the TCP socket, to read its unsent bytes; nil over TLS
	pass *Pass
	t    *topic
	done atomic.Bool

	mu        sync.Mutex
	queue     [][]byte
	started   bool // greeted: the writer may run
	writing   bool // with the hub's writers (queued or being written)
	slow      bool
	pingTimer *time.Timer
}

// start queues the first messages ahead of anything fanned out while the topic was being
// subscribed, and lets the stream run on without the request's goroutine.
func (c *client) start(first [][]byte) {
	ctx := c.conn.CloseRead(context.Background())
	context.AfterFunc(ctx, func() { c.finish(endGone, 0, "") })
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queue = append(first, c.queue...)
	c.started = true
	c.pingTimer = time.AfterFunc(c.h.cfg.PingInterval, c.pingNow)
	c.kickLocked()
}

// enqueue queues msg unless the client already has limit messages waiting, in which case
// it is marked too slow (its writer closes it) and enqueue reports false. It never waits.
func (c *client) enqueue(msg []byte, limit int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slow || c.done.Load() {
		return false
	}
	if len(c.queue) >= limit {
		c.slow = true
		c.queue = nil
		c.kickLocked()
		return false
	}
	c.queue = append(c.queue, msg)
	c.kickLocked()
	return true
}

// pingNow pings the client from the timer's own goroutine, beside the writer rather than in
// its way: a ping waits for its pong, which must come before the next ping is due (at least
// WriteTimeout), else the client is closed.
func (c *client) pingNow() {
	if c.done.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), max(c.h.cfg.PingInterval, c.h.cfg.WriteTimeout))
	err := c.conn.Ping(ctx)
	cancel()
	if err != nil {
		c.finish(endGone, websocket.StatusPolicyViolation, ReasonNoPong)
		return
	}
	c.mu.Lock()
	if !c.done.Load() {
		c.pingTimer.Reset(c.h.cfg.PingInterval)
	}
	c.mu.Unlock()
}

// kickLocked hands the client to the hub's writers when it has work and is not with them.
func (c *client) kickLocked() {
	if c.started && !c.writing && !c.done.Load() {
		c.writing = true
		c.h.schedule(c)
	}
}

// write sends what is queued, on one of the hub's writers, and returns when nothing is left.
// What may take long (a close handshake, releasing the pass in Redis) goes to a goroutine of
// its own, so that a writer moves on to the next follower at once.
func (c *client) write() {
	for {
		c.mu.Lock()
		if c.done.Load() {
			c.writing = false
			c.mu.Unlock()
			return
		}
		if c.slow {
			c.writing = false
			c.mu.Unlock()
			go c.finish(endSlow, websocket.StatusPolicyViolation, ReasonTooSlow)
			return
		}
		if len(c.queue) == 0 {
			c.writing = false
			c.queue = nil // an idle follower keeps no queue
			c.mu.Unlock()
			return
		}
		msg := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.mu.Unlock()

		// The socket still holding SocketBuffer bytes unsent means the client is not
		// reading: drop it while a close frame still fits (the kernel's buffer is twice
		// SO_SNDBUF), rather than block on it. Into an empty socket anything goes.
		if n, ok := unsent(c.raw); ok && n > 0 && n+len(msg) > c.h.cfg.SocketBuffer {
			c.markSlow()
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.h.cfg.WriteTimeout)
		err := c.conn.Write(ctx, websocket.MessageText, msg)
		timedOut := ctx.Err() != nil
		cancel()
		if err != nil {
			// A write that timed out has closed the socket mid-frame: nothing more can
			// reach the client, not even a close frame.
			kind := endGone
			if timedOut {
				kind = endSlow
			}
			c.mu.Lock()
			c.writing = false
			c.mu.Unlock()
			go c.finish(kind, 0, "")
			return
		}
	}
}

func (c *client) markSlow() {
	c.mu.Lock()
	c.slow = true
	c.queue = nil
	c.mu.Unlock()
	c.h.mu.Lock()
	if c.t != nil {
		c.h.removeLocked(c.t, c)
	}
	c.h.mu.Unlock()
}

// finish ends the stream once: it leaves the topic, closes the connection (with a close
// frame when code is set) and releases the client's pass.
func (c *client) finish(kind endKind, code websocket.StatusCode, reason string) {
	if !c.done.CompareAndSwap(false, true) {
		return
	}
	c.mu.Lock()
	c.queue = nil
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	c.mu.Unlock()
	c.h.leave(c)
	if kind == endSlow {
		c.h.dropped.Add(1)
	}
	if code != 0 {
		_ = c.conn.Close(code, reason)
	}
	_ = c.conn.CloseNow()
	c.pass.release()
	c.h.serving.Done()
}

// Sizes of the buffers a follower keeps for the life of its connection, in place of the
// HTTP server's 4 KiB each: it reads only control frames, and one small message fits the
// write buffer whole (a larger one goes out in two writes).
const (
	readBufferSize  = 256
	writeBufferSize = 1024
)

// hijacker hands coder/websocket the connection with small buffers of its own instead of
// the HTTP server's, which coder/websocket would otherwise keep for the connection's life,
// and bounds the socket's kernel send buffer.
type hijacker struct {
	http.ResponseWriter
	sendBuffer int
	raw        syscall.RawConn
}

// Hijack implements http.Hijacker.
func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	var br *bufio.Reader
	if n := brw.Reader.Buffered(); n > 0 {
		// Bytes the client sent past the handshake: keep them ahead of the socket (the
		// library re-reads what is buffered, then the connection).
		b, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(bytes.NewReader(bytes.Clone(b)), max(n, readBufferSize))
		_, _ = br.Peek(n)
	} else {
		br = bufio.NewReaderSize(conn, readBufferSize)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(h.sendBuffer)
		h.raw, _ = tc.SyscallConn()
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, writeBufferSize)), nil
}
