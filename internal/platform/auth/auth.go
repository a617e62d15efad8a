// Package auth issues and verifies access tokens and carries the signed-in principal through a
// request. Tokens are JWTs signed with HS256, and only HS256 is accepted, so a token cannot pick
// its own algorithm ("none", or an asymmetric key used as an HMAC secret).
package auth

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// Roles a user may hold.
const (
	RoleUser    = "user"
	RoleShipper = "shipper"
	RoleAdmin   = "admin"
)

// Principal is who makes a request: the user, the session (refresh-token family) the access
// token belongs to, and the roles it was issued with.
type Principal struct {
	UserID    uuid.UUID
	SessionID uuid.UUID
	Roles     []string
}

// Has reports whether the principal holds role.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

// IsAdmin reports whether the principal is an admin.
func (p Principal) IsAdmin() bool { return p.Has(RoleAdmin) }

// Tokens signs and verifies access tokens.
type Tokens struct {
	secret []byte
	issuer string
	ttl    time.Duration
	// verified remembers the tokens already verified, until they expire: a client sends the
	// same token with every request for its 15 minutes, and decoding its JSON header and claims
	// and checking the HMAC cost more than the rest of a profile read's CPU. A session's end is
	// still seen at once, since Authenticate asks the revocations on every request.
	verified *lru.Cache[string, verifiedToken]
}

type verifiedToken struct {
	p       Principal
	expires time.Time
}

// verifiedTokens bounds the cache: about 400 bytes a token, so at most a few MiB.
const verifiedTokens = 8192

// NewTokens returns a Tokens signing with secret; tokens live for ttl.
func NewTokens(secret, issuer string, ttl time.Duration) *Tokens {
	verified, err := lru.New[string, verifiedToken](verifiedTokens)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &Tokens{secret: []byte(secret), issuer: issuer, ttl: ttl, verified: verified}
}

// TTL is how long an access token lives.
func (t *Tokens) TTL() time.Duration { return t.ttl }

type claims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid"`
	Roles     []string `json:"roles"`
}

// Issue signs an access token for p.
func (t *Tokens) Issue(p Principal) (string, error) {
	now := time.Now()
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   p.UserID.String(),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			ID:        uuid.NewString(),
		},
		SessionID: p.SessionID.String(),
		Roles:     p.Roles,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign: %w", err)
	}
	return s, nil
}

// Verify checks a token's signature, algorithm, issuer and lifetime and returns its principal.
func (t *Tokens) Verify(token string) (Principal, error) {
	if v, ok := t.verified.Get(token); ok && time.Now().Before(v.expires) {
		return v.p, nil
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil {
		return Principal{}, apperr.Wrap(err, apperr.Unauthorized, "the access token is invalid or expired")
	}
	uid, err1 := uuid.Parse(c.Subject)
	sid, err2 := uuid.Parse(c.SessionID)
	if err1 != nil || err2 != nil {
		return Principal{}, apperr.New(apperr.Unauthorized, "the access token is malformed")
	}
	// Clipped, so that a caller appending a role to the principal it got never writes into the
	// array the cached copy shares.
	p := Principal{UserID: uid, SessionID: sid, Roles: slices.Clip(c.Roles)}
	t.verified.Add(token, verifiedToken{p: p, expires: c.ExpiresAt.Time})
	return p, nil
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal of a request that passed Required.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// Of is the principal of a request behind Required (the zero Principal on a route without it).
func Of(r *http.Request) Principal {
	p, _ := FromContext(r.Context())
	return p
}

// Maybe is the principal of a request to a public route, or nil when the caller did not sign in.
func Maybe(r *http.Request) *Principal {
	if p, ok := FromContext(r.Context()); ok {
		return &p
	}
	return nil
}

// MustPrincipal returns the principal, or an Unauthorized error on a route that forgot Required.
func MustPrincipal(ctx context.Context) (Principal, error) {
	p, ok := FromContext(ctx)
	if !ok {
		return Principal{}, apperr.New(apperr.Unauthorized, "sign in first")
	}
	return p, nil
}

// Authenticator checks bearer tokens on requests.
type Authenticator struct {
	Tokens      *Tokens
	Revocations *Revocations
}

// Authenticate verifies raw and refuses a revoked session.
func (a *Authenticator) Authenticate(ctx context.Context, raw string) (Principal, error) {
	p, err := a.Tokens.Verify(raw)
	if err != nil {
		return Principal{}, err
	}
	revoked, err := a.Revocations.IsRevoked(ctx, p.SessionID)
	if err != nil {
		return Principal{}, apperr.Wrap(err, apperr.Unavailable, "cannot check the session right now")
	}
	if revoked {
		return Principal{}, apperr.New(apperr.Unauthorized, "the session has ended")
	}
	return p, nil
}

// Required refuses requests without a valid, unrevoked bearer token with 401.
func (a *Authenticator) Required(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := BearerToken(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="goshop"`)
			httpx.Fail(w, r, apperr.Unauthorized, "an access token is required")
			return
		}
		p, err := a.Authenticate(r.Context(), raw)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="goshop", error="invalid_token"`)
			httpx.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// Optional lets requests without a token through anonymously, and authenticates those with one
// (a bad token is still 401: the client meant to sign in). Public routes that show owners more
// use it.
func (a *Authenticator) Optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := BearerToken(r); !ok && r.Header.Get("Authorization") == "" {
			next.ServeHTTP(w, r)
			return
		}
		a.Required(next).ServeHTTP(w, r)
	})
}

// RequireRole refuses principals without role with 403; it goes after Required.
func RequireRole(role string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				httpx.Fail(w, r, apperr.Unauthorized, "an access token is required")
				return
			}
			if !p.Has(role) {
				httpx.Fail(w, r, apperr.Forbidden, "only a user with the "+role+" role may "+r.Method+" "+r.URL.Path)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// BearerToken returns the token of an `Authorization: Bearer` header, or of a `token` query
// parameter (browsers cannot set headers on WebSocket upgrades).
func BearerToken(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return "", false
		}
		return strings.TrimSpace(tok), true
	}
	if tok := r.URL.Query().Get("token"); tok != "" && isUpgrade(r) {
		return tok, true
	}
	return "", false
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
