package user

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"runtime"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/semaphore"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// passwords hashes and checks passwords with argon2id, a bounded number at once. Each hash
// holds its whole memory cost (64 MiB by default) while it runs, so unbounded, a storm of
// logins takes as much memory as it has requests in flight. A request waits up to wait for a
// turn; then it is refused with a 503 and a Retry-After, which is not a failed sign-in.
type passwords struct {
	params *argon2id.Params
	turns  *semaphore.Weighted
	wait   time.Duration
	// dummy is checked against when an email is unknown, through the same turns, so that a
	// missing account costs one hash like a wrong password does.
	dummy string
	runs  *prometheus.CounterVec
}

func newPasswords(cfg Config) (*passwords, error) {
	params := *argon2id.DefaultParams
	if cfg.HashMemoryKiB > 0 {
		params.Memory = cfg.HashMemoryKiB
	}
	if cfg.HashTime > 0 {
		params.Iterations = cfg.HashTime
	}
	// By default as many hashes as the CPUs can run side by side: each runs its own lanes in
	// parallel (argon2id's parallelism, the number of CPUs by default), so one already keeps
	// every CPU busy, and a second would only add its memory, not speed.
	n := cfg.HashConcurrency
	if n <= 0 {
		n = max(1, runtime.NumCPU()/int(max(params.Parallelism, 1)))
	}
	p := &passwords{params: &params, turns: semaphore.NewWeighted(int64(n)), wait: cfg.HashWait,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "goshop_password_hashes_total",
			Help: "Password hashes and checks (argon2id): run, or refused because every turn stayed busy for PASSWORD_HASH_WAIT.",
		}, []string{"result"})}
	dummy, err := dummyHash(&params)
	if err != nil {
		return nil, err
	}
	p.dummy = dummy
	return p, nil
}

// dummyHash writes a stored hash with params' costs, a random salt and a random key, without
// hashing anything: checking a password against it costs one argon2id run with those params,
// as a real account's check does, and never matches (the key is 256 random bits, not the
// output of any password). Hashing a dummy at start instead held 64 MiB of idle memory.
func dummyHash(params *argon2id.Params) (string, error) {
	salt := make([]byte, params.SaltLength)
	key := make([]byte, params.KeyLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("user: dummy hash salt: %w", err)
	}
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("user: dummy hash key: %w", err)
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, params.Memory, params.Iterations,
		params.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// turn waits for a free turn, at most p.wait (and no longer than ctx lasts).
func (p *passwords) turn(ctx context.Context) (release func(), err error) {
	wctx, cancel := context.WithTimeout(ctx, p.wait)
	defer cancel()
	if err := p.turns.Acquire(wctx, 1); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		p.runs.WithLabelValues("refused").Inc()
		return nil, &apperr.Error{Code: apperr.Unavailable, Message: "too many sign-ins at once; try again shortly",
			RetryAfter: max(p.wait, time.Second)}
	}
	return func() {
		p.turns.Release(1)
		p.runs.WithLabelValues("run").Inc()
	}, nil
}

// hash makes the stored form of a new password.
func (p *passwords) hash(ctx context.Context, password string) (string, error) {
	release, err := p.turn(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	h, err := argon2id.CreateHash(password, p.params)
	if err != nil {
		return "", fmt.Errorf("user: hash password: %w", err)
	}
	return h, nil
}

// check reports whether password matches the stored hash; an empty hash (no such account) is
// checked against the dummy, at the same cost, and never matches, nor does a stored hash it
// cannot read. Its only errors are a refused turn and the request's end.
func (p *passwords) check(ctx context.Context, password, hash string) (bool, error) {
	release, err := p.turn(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	known := hash != ""
	if !known {
		hash = p.dummy
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return known && ok && err == nil, nil
}
