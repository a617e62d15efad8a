package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
)

// The seller center's sessions live in Redis, never in the process, so that any instance serves
// any request and a restart signs nobody out. The browser holds only a random session id in an
// HttpOnly cookie; Redis keys the session by the id's SHA-256, so that a copy of Redis does not
// hold cookies anyone could present.
//
// A session is a Redis hash:
//   - csrf: the token every form of the session carries (a hidden field), compared in constant
//     time on every POST;
//   - uid, name: who signed in (absent in a pre-session: the sign-in form's, which exists so
//     that the sign-in POST is CSRF-checked as well);
//   - access, refresh, until: the identity context's tokens, exactly what the API's sign-in
//     hands a client, and when the access token expires. Each request checks the access token
//     as the API's middleware does (revocations included), and trades the refresh token for new
//     ones when it has expired, so that a password change or a sign-out elsewhere ends the
//     seller center's session too;
//   - flash, flash_bad: a message for the next page (post/redirect/get).
//
// Fields are written with HSET, field by field, so that a request that refreshes the tokens and
// one that leaves a message never write over each other.
type sellerSessions struct {
	rdb    redis.UniversalClient
	prefix string
	// ttl is how long a signed-in session lives without use; pre is a pre-session's life.
	ttl, pre time.Duration
}

// sellerSession is one seller-center session as loaded.
type sellerSession struct {
	id      string // the cookie's value; never stored
	userID  uuid.UUID
	name    string
	access  string
	refresh string
	until   time.Time
	csrf    string
	flash   string
	bad     bool
}

func (s *sellerSession) signedIn() bool { return s != nil && s.userID != uuid.Nil }

// errSignedOut is a session whose tokens the identity context no longer honours.
var errSignedOut = errors.New("web: the session has ended")

func (s *sellerSessions) key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return s.prefix + hex.EncodeToString(sum[:])
}

// newSellerToken is 128 random bits as text (crypto/rand.Text): a session id or a CSRF token.
func newSellerToken() string { return rand.Text() }

// load reads the session of id; nil, nil when there is none (expired, signed out, never was).
// A signed-in session's life starts again with each use.
func (s *sellerSessions) load(ctx context.Context, id string) (*sellerSession, error) {
	if id == "" || len(id) > 64 {
		return nil, nil
	}
	m, err := s.rdb.HGetAll(ctx, s.key(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("web session load: %w", err)
	}
	if m["csrf"] == "" {
		return nil, nil // none, or the remains of one (fields written after it was deleted)
	}
	sess := &sellerSession{id: id, csrf: m["csrf"], name: m["name"], access: m["access"], refresh: m["refresh"],
		flash: m["flash"], bad: m["flash_bad"] == "1"}
	if uid, err := uuid.Parse(m["uid"]); err == nil {
		sess.userID = uid
	}
	if until, err := strconv.ParseInt(m["until"], 10, 64); err == nil {
		sess.until = time.Unix(until, 0)
	}
	if sess.signedIn() {
		if err := s.rdb.Expire(ctx, s.key(id), s.ttl).Err(); err != nil {
			return nil, fmt.Errorf("web session touch: %w", err)
		}
	}
	return sess, nil
}

// create stores a new session under a new id: a pre-session without tokens, or a signed-in one.
func (s *sellerSessions) create(ctx context.Context, t *SellerTokens, flash string, bad bool) (*sellerSession, error) {
	sess := &sellerSession{id: newSellerToken(), csrf: newSellerToken(), flash: flash, bad: bad}
	fields := map[string]any{"csrf": sess.csrf}
	ttl := s.pre
	if t != nil {
		sess.userID, sess.name = t.UserID, t.Name
		sess.access, sess.refresh, sess.until = t.Access, t.Refresh, time.Now().Add(t.ExpiresIn)
		fields["uid"], fields["name"] = t.UserID.String(), t.Name
		fields["access"], fields["refresh"], fields["until"] = t.Access, t.Refresh, strconv.FormatInt(sess.until.Unix(), 10)
		ttl = s.ttl
	}
	if flash != "" {
		fields["flash"], fields["flash_bad"] = flash, boolField(bad)
	}
	key := s.key(sess.id)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, fields)
		p.Expire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web session create: %w", err)
	}
	return sess, nil
}

func boolField(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// setIfLive writes fields into a session that still exists; a session deleted meanwhile (signed
// out in another tab) stays deleted.
var setIfLive = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`)

func (s *sellerSessions) set(ctx context.Context, id string, kv ...string) error {
	args := make([]any, len(kv))
	for i, v := range kv {
		args[i] = v
	}
	if err := setIfLive.Run(ctx, s.rdb, []string{s.key(id)}, args...).Err(); err != nil {
		return fmt.Errorf("web session set: %w", err)
	}
	return nil
}

// setFlash leaves a message for the session's next page.
func (s *sellerSessions) setFlash(ctx context.Context, id, msg string, bad bool) error {
	return s.set(ctx, id, "flash", msg, "flash_bad", boolField(bad))
}

// takeFlash clears the message the page is about to show.
func (s *sellerSessions) takeFlash(ctx context.Context, sess *sellerSession) error {
	if sess.flash == "" {
		return nil
	}
	if err := s.rdb.HDel(ctx, s.key(sess.id), "flash", "flash_bad").Err(); err != nil {
		return fmt.Errorf("web session flash: %w", err)
	}
	return nil
}

// delete ends a session here (the caller ends its tokens in the identity context).
func (s *sellerSessions) delete(ctx context.Context, id string) error {
	if err := s.rdb.Del(ctx, s.key(id)).Err(); err != nil {
		return fmt.Errorf("web session delete: %w", err)
	}
	return nil
}

// principal is who the session signed in, checked now: the access token as the API checks a
// bearer token, refreshed through the identity context once it has expired. errSignedOut when
// the identity context no longer honours the session (the caller deletes it).
func (c *sellerCenter) principal(ctx context.Context, sess *sellerSession) (auth.Principal, error) {
	if time.Until(sess.until) > 30*time.Second {
		p, err := c.accounts.Authenticate(ctx, sess.access)
		if err == nil {
			return p, nil
		}
		if !apperr.Is(err, apperr.Unauthorized) {
			return auth.Principal{}, err
		}
		// Revoked (or the secret rotated): the refresh below says for sure, and ends it.
	}
	return c.refresh(ctx, sess)
}

// refresh trades the session's refresh token for new tokens. A refresh token works once, and
// presenting a spent one ends the whole session (the identity context's theft rule), so two
// requests of one session that both find the access token expired must not both refresh: a
// short Redis lock lets one do it while the other waits for its result.
func (c *sellerCenter) refresh(ctx context.Context, sess *sellerSession) (auth.Principal, error) {
	lock := c.store.key(sess.id) + ":refresh"
	got, err := c.store.rdb.SetNX(ctx, lock, 1, 10*time.Second).Result()
	if err != nil {
		return auth.Principal{}, fmt.Errorf("web session lock: %w", err)
	}
	if !got {
		return c.awaitRefresh(ctx, sess)
	}
	defer c.store.rdb.Del(context.WithoutCancel(ctx), lock)
	// Another request may have refreshed between this one's read and its lock.
	cur, err := c.store.load(ctx, sess.id)
	if err != nil {
		return auth.Principal{}, err
	}
	if !cur.signedIn() {
		return auth.Principal{}, errSignedOut
	}
	if cur.access != sess.access && time.Until(cur.until) > 30*time.Second {
		*sess = *cur
		return c.accounts.Authenticate(ctx, cur.access)
	}
	t, err := c.accounts.Refresh(ctx, cur.refresh)
	if apperr.Is(err, apperr.Unauthorized) {
		return auth.Principal{}, errSignedOut
	}
	if err != nil {
		return auth.Principal{}, err
	}
	until := time.Now().Add(t.ExpiresIn)
	if err := c.store.set(ctx, sess.id, "access", t.Access, "refresh", t.Refresh, "until", strconv.FormatInt(until.Unix(), 10),
		"name", t.Name); err != nil {
		return auth.Principal{}, err
	}
	sess.access, sess.refresh, sess.until, sess.name = t.Access, t.Refresh, until, t.Name
	return c.accounts.Authenticate(ctx, t.Access)
}

// awaitRefresh waits for the request holding the refresh lock to store new tokens.
func (c *sellerCenter) awaitRefresh(ctx context.Context, sess *sellerSession) (auth.Principal, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for range 100 {
		select {
		case <-ctx.Done():
			return auth.Principal{}, ctx.Err()
		case <-tick.C:
		}
		cur, err := c.store.load(ctx, sess.id)
		if err != nil {
			return auth.Principal{}, err
		}
		if !cur.signedIn() {
			return auth.Principal{}, errSignedOut
		}
		if cur.access != sess.access {
			*sess = *cur
			return c.accounts.Authenticate(ctx, cur.access)
		}
	}
	return auth.Principal{}, apperr.New(apperr.Unavailable, "the session is being renewed; try again")
}

// Cookies. Over TLS (or when PUBLIC_URL is https, behind a proxy that ends TLS) the session
// cookie is Secure and carries the __Host- prefix, which browsers accept only from a secure
// origin, for the whole host, set by the host itself: no subdomain can plant or shadow it.
const (
	sellerCookie       = "goshop_seller"
	sellerSecureCookie = "__Host-goshop_seller"
)

// secure says whether r reached GoShop over TLS, here or at the proxy PUBLIC_URL names.
func (c *sellerCenter) secure(r *http.Request) bool { return r.TLS != nil || c.httpsPublic }

func (c *sellerCenter) cookieName(r *http.Request) string {
	if c.secure(r) {
		return sellerSecureCookie
	}
	return sellerCookie
}

// sessionOf loads the request's session; nil when it has none.
func (c *sellerCenter) sessionOf(r *http.Request) (*sellerSession, error) {
	ck, err := r.Cookie(c.cookieName(r))
	if err != nil {
		return nil, nil
	}
	return c.store.load(r.Context(), ck.Value)
}

// setCookie hands the browser the session's id: HttpOnly (no script reads it), SameSite=Lax
// (no other site's form or fetch carries it), Secure over TLS, for the session's life.
func (c *sellerCenter) setCookie(w http.ResponseWriter, r *http.Request, sess *sellerSession) {
	ttl := c.store.pre
	if sess.signedIn() {
		ttl = c.store.ttl
	}
	http.SetCookie(w, &http.Cookie{Name: c.cookieName(r), Value: sess.id, Path: "/", MaxAge: int(ttl.Seconds()),
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
}

// clearCookie tells the browser to forget the session cookie.
func (c *sellerCenter) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: c.cookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
}

// validCSRF compares a form's token with the session's in constant time.
func validCSRF(sess *sellerSession, token string) bool {
	return sess != nil && token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(sess.csrf)) == 1
}
