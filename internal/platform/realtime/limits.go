package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// leaseTTL is how long a stream stays counted against its user in Redis without being
// renewed: the hub renews its streams' leases every third of it, so the streams of a
// process that died stop counting within leaseTTL.
const leaseTTL = 90 * time.Second

// retryAfter is what a refused client is told to wait before trying again.
const retryAfter = 10 * time.Second

// Pass is an admitted stream's place under the limits, held until the stream ends. Serve
// releases it; a caller that does not call Serve after Admit must call Release.
type Pass struct {
	h        *Hub
	key      string // the user's count in Redis; "" when not counted per user
	member   string
	released atomic.Bool
}

// Release gives the pass back. It is safe to call more than once, and on nil.
func (p *Pass) Release() { p.release() }

func (p *Pass) release() {
	if p == nil || !p.released.CompareAndSwap(false, true) {
		return
	}
	p.h.streams.Add(-1)
	if p.key != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.h.rdb.ZRem(ctx, p.key, p.member).Err(); err != nil {
			// The lease runs out on its own (leaseTTL) once it is no longer renewed.
			p.h.cfg.Logger.Warn("realtime: releasing a stream's count", "err", err)
		}
	}
}

// admitUser counts a stream against a user unless they hold limit already: expired leases
// (of processes that died) are dropped first. It answers -1 when admitted, or the count.
var admitUser = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[2]) then return n end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return -1
`)

// Admit takes a place for a new stream of user ("" for a stream counted only against the
// process), or refuses with a problem before anything is upgraded: 429 when user holds
// MaxPerUser streams across every process, 503 past this process's ceiling or when Redis
// cannot count. Both carry Retry-After; a refusal also closes the HTTP connection (w), so
// that a client hammering the limit does not keep descriptors either.
func (h *Hub) Admit(w http.ResponseWriter, r *http.Request, user string) (*Pass, error) {
	refuse := func(err *apperr.Error) (*Pass, error) {
		w.Header().Set("Connection", "close")
		err.RetryAfter = retryAfter
		return nil, err
	}
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return refuse(apperr.New(apperr.Unavailable, "the server is shutting down: connect again"))
	}
	if n := h.streams.Add(1); n > int64(h.maxStreams) {
		h.streams.Add(-1)
		return refuse(apperr.New(apperr.Unavailable,
			"this server holds as many live streams as it can (%d): try again later", h.maxStreams))
	}
	p := &Pass{h: h}
	if user == "" || h.cfg.MaxPerUser < 0 {
		return p, nil
	}
	p.key, p.member = h.cfg.Prefix+"rt:streams:"+user, h.id+":"+strconv.FormatInt(h.passes.Add(1), 10)
	now := time.Now()
	n, err := admitUser.Run(r.Context(), h.rdb, []string{p.key}, now.UnixMilli(), h.cfg.MaxPerUser,
		now.Add(leaseTTL).UnixMilli(), p.member, leaseTTL.Milliseconds()).Int64()
	if err != nil {
		p.key = ""
		p.release()
		return refuse(apperr.Wrap(err, apperr.Unavailable, "live streams cannot be counted now: try again later"))
	}
	if n >= 0 {
		p.key = ""
		p.release()
		return refuse(apperr.New(apperr.TooManyRequests,
			"an account may follow at most %d live streams at once (it has %d open): close one first", h.cfg.MaxPerUser, n))
	}
	return p, nil
}

// refreshLeases renews, every third of leaseTTL, the Redis leases of this process's streams,
// until the hub closes.
func (h *Hub) refreshLeases() {
	defer close(h.leasing)
	tick := time.NewTicker(leaseTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-tick.C:
		}
		h.mu.Lock()
		passes := make([]*Pass, 0, len(h.live))
		for c := range h.live {
			if c.pass != nil && c.pass.key != "" {
				passes = append(passes, c.pass)
			}
		}
		h.mu.Unlock()
		until := time.Now().Add(leaseTTL).UnixMilli()
		for start := 0; start < len(passes); start += 1000 {
			batch := passes[start:min(start+1000, len(passes))]
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := h.rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
				for _, p := range batch {
					pipe.ZAddXX(ctx, p.key, redis.Z{Score: float64(until), Member: p.member})
					pipe.PExpire(ctx, p.key, leaseTTL)
				}
				return nil
			})
			cancel()
			if err != nil {
				h.cfg.Logger.Warn("realtime: renewing stream leases", "err", err)
			}
		}
	}
}

// ceiling is the most streams this process takes: MaxStreams when set, otherwise the
// descriptor limit less the reserve, so that the API, the pools and the listener always
// have descriptors left whatever the followers do.
func (h *Hub) ceiling() int {
	if h.cfg.MaxStreams > 0 {
		return h.cfg.MaxStreams
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		h.cfg.Logger.Warn("realtime: no descriptor limit; streams capped at 1000", "err", err)
		return 1000
	}
	limit := int(min(rl.Cur, 1<<30))
	reserve := h.cfg.FDReserve
	if reserve <= 0 {
		reserve = max(256, limit/4)
	}
	n := max(0, limit-reserve)
	h.cfg.Logger.Debug("realtime: stream ceiling", "max_streams", n, "rlimit_nofile", limit, "reserve", reserve)
	if n == 0 {
		h.cfg.Logger.Warn("realtime: the descriptor limit leaves nothing for streams; every stream will be refused",
			"rlimit_nofile", limit, "reserve", reserve)
	}
	return n
}

func newID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
