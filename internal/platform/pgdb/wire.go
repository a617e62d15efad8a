package pgdb

import (
	"context"
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
)

// RoundTrips counts the round trips a pool's connections make to PostgreSQL, as the protocol
// defines them: each message the client sends that waits for the server's answer, a Sync (the
// end of an extended-protocol exchange: a query, a batch, a prepare) or a simple Query (BEGIN and
// COMMIT among them). It reads the bytes a connection writes rather than trusting a tracer's
// view of pgx, so a ping, a statement prepared on a cache miss or a pipelined batch counts as
// what it costs on the wire. Tests plug it in with Dial and read N around what they measure.
type RoundTrips struct {
	n      atomic.Int64
	dialer net.Dialer
}

// N is the number of round trips counted so far.
func (rt *RoundTrips) N() int64 { return rt.n.Load() }

// Dial is a pgconn DialFunc that counts the connection's round trips.
func (rt *RoundTrips) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := rt.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, rt: rt, startup: true}, nil
}

// countingConn parses the frontend message stream as it is written: the startup message
// (length-prefixed, no type byte), then messages of a type byte and a length that counts itself.
type countingConn struct {
	net.Conn
	rt      *RoundTrips
	mu      sync.Mutex
	startup bool
	head    []byte // the bytes of a message header read so far
	skip    int    // the bytes of the current message's body still to pass over
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.scan(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *countingConn) scan(p []byte) {
	for len(p) > 0 {
		if c.skip > 0 {
			n := min(c.skip, len(p))
			c.skip -= n
			p = p[n:]
			continue
		}
		headLen := 5
		if c.startup {
			headLen = 4
		}
		n := min(headLen-len(c.head), len(p))
		c.head = append(c.head, p[:n]...)
		p = p[n:]
		if len(c.head) < headLen {
			return
		}
		if c.startup {
			c.skip = int(binary.BigEndian.Uint32(c.head)) - 4
			c.startup = false
		} else {
			if t := c.head[0]; t == 'S' || t == 'Q' {
				c.rt.n.Add(1)
			}
			c.skip = int(binary.BigEndian.Uint32(c.head[1:])) - 4
		}
		c.head = c.head[:0]
	}
}
