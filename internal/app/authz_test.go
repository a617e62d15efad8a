package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/openapi"
)

// routeOverride is how the authorization suite calls a route that the generic calls cannot
// reach as they are. Every entry says why.
type routeOverride struct {
	why string
	// skip leaves the route out (say where it is checked instead).
	skip bool
	// body replaces the sampled body.
	body func(w *apptest.World) any
	// ids replaces the world's resource for a path parameter ("id": "delivered order").
	ids map[string]string
	// ownerMay404 accepts a 404 to the owner's read: the resource has nothing of that kind yet.
	ownerMay404 bool
}

// authzOverrides are keyed "METHOD /api/v1/pattern".
var authzOverrides = map[string]routeOverride{
	"POST /api/v1/products/{id}/discount": {why: "a discount needs percent or sale_price, which no tag can say",
		body: func(*apptest.World) any {
			return map[string]any{"percent": 10, "ends_at": time.Now().Add(24 * time.Hour)}
		}},
	"PUT /api/v1/products/{id}/inventory": {why: "stock or low_stock_threshold is needed, which no tag can say",
		body: func(*apptest.World) any { return map[string]any{"stock": 10} }},
	"PUT /api/v1/shops/{id}/products/{product_id}/inventory": {why: "as PUT /products/{id}/inventory",
		body: func(*apptest.World) any { return map[string]any{"stock": 10} }},
	"GET /api/v1/orders/{id}/return-status": {why: "only the delivered order has a return",
		ids: map[string]string{"id": "delivered order"}},
	"PUT /api/v1/reviews/{id}/media/{media_id}": {why: "the world's media is the product's; the review has a photo of its own",
		ids: map[string]string{"media_id": "review media"}},
	"DELETE /api/v1/reviews/{id}/media/{media_id}": {why: "as PUT /reviews/{id}/media/{media_id}",
		ids: map[string]string{"media_id": "review media"}},
}

// TestEveryRouteRefusesWhoMayNotCallIt walks every route mounted under /api/v1, reads who may
// call it from its declaration (Op.For), and calls it, against the resources of a world built
// through the API (apptest.World), as each kind of caller:
//   - without a token: 401, unless the route is public or a provider's webhook;
//   - with a malformed, forged, expired or tampered token: 401 wherever the route's middleware
//     reads tokens (required or optional);
//   - as B, a plain user, against A's resources: 403 or 404 on owner and shop-owner routes, 403
//     on admin routes, 403 or 404 on shipper routes (and S2, another shipper, on S1's delivery);
//   - as the one who may (A on what A owns, S1 on its delivery, an admin on admin routes, and
//     on shop-owner routes too): past authorization (not 401 or 403, and not 404 on a read,
//     since the reads come before any write), which proves the world is right;
//   - as C, any signed-in user, on public and any-user routes: not refused for the token;
//
// and never a 5xx. A WebSocket route is called with the upgrade handshake (101 when let in).
// Bodies and required query parameters are sampled from the route's declared
// types so that authorization, not validation, is what refuses. A route without a declaration,
// or naming a kind of resource the world lacks, fails with what to add.
func TestEveryRouteRefusesWhoMayNotCallIt(t *testing.T) {
	t.Parallel()
	w := apptest.NewWorld(t)
	routes, err := w.Env.App.Routes()
	require.NoError(t, err)
	s := &authzSuite{t: t, w: w, bad: badTokens(t, w)}
	checked, api := 0, 0
	for _, rt := range callOrder(routes) {
		if strings.HasPrefix(rt.Pattern, "/api/v1/") {
			api++
		}
		if s.check(rt) {
			checked++
		}
	}
	t.Logf("authorization: %d of %d routes under /api/v1 called, %d calls", checked, api, s.calls)
	for _, n := range s.notes {
		t.Log("note: " + n)
	}
	if len(s.problems) > 0 {
		sort.Strings(s.problems)
		t.Errorf("authorization: %d problems (route [declared access] caller: what happened):\n  %s\n\n"+
			"A route \"not declared\" needs .Doc(...).For(httpx.<who>) on its Op; a kind \"the world lacks\" needs a resource "+
			"in apptest.World (internal/app/apptest/world.go) or an alias there. Every other line is a route that let in "+
			"someone it should refuse, refused someone it should let in, or failed with a 5xx.",
			len(s.problems), strings.Join(s.problems, "\n  "))
	}
}

type authzSuite struct {
	t        *testing.T
	w        *apptest.World
	bad      []string
	calls    int
	problems []string
	notes    []string
}

// callOrder puts reads first, then other writes, then deletions: a deletion by an owner (which
// the suite lets through) removes what later routes would call on, so they come last, children
// before their parents, and the owner's own account last of all.
func callOrder(routes []openapi.Route) []openapi.Route {
	rank := func(rt openapi.Route) int {
		switch rt.Method {
		case http.MethodGet, http.MethodHead:
			return 0
		case http.MethodDelete:
			if rt.Op != nil {
				for _, kind := range rt.Op.IDs {
					switch kind {
					case "user":
						return 4
					case "shop":
						return 3
					}
				}
			}
			return 2
		}
		return 1
	}
	out := append([]openapi.Route{}, routes...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank(out[i]), rank(out[j])
		if ri != rj {
			return ri < rj
		}
		di, dj := strings.Count(out[i].Pattern, "/"), strings.Count(out[j].Pattern, "/")
		if ri == 2 && di != dj {
			return di > dj
		}
		return out[i].Pattern+out[i].Method < out[j].Pattern+out[j].Method
	})
	return out
}

// badTokens are tokens a route that reads tokens must refuse: not a JWT, an unsigned one, one
// signed with another key (claiming the admin role), an expired one, one of another issuer,
// and a real one with its signature changed.
func badTokens(t *testing.T, w *apptest.World) []string {
	t.Helper()
	cfg := w.Env.App.Cfg
	a := uuid.MustParse(w.A.ID)
	p := auth.Principal{UserID: a, SessionID: uuid.New(), Roles: []string{auth.RoleAdmin, "user"}}
	issue := func(secret, issuer string, ttl time.Duration) string {
		tok, err := auth.NewTokens(secret, issuer, ttl).Issue(p)
		require.NoError(t, err)
		return tok
	}
	real := w.A.Token()
	dot := strings.LastIndex(real, ".")
	sig := []byte(real[dot+1:])
	sig[len(sig)/2] ^= 1 // still base64url, another signature
	return []string{
		"not-a-token",
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIwMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDAifQ.",
		issue("another-secret-that-is-long-enough-to-sign", cfg.JWTIssuer, time.Minute),
		issue(cfg.JWTSecret, cfg.JWTIssuer, -time.Minute),
		issue(cfg.JWTSecret, "someone-else", time.Minute),
		real[:dot+1] + string(sig),
	}
}

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// target is one route filled in: the path, the query and body to send, and who owns what it
// names.
type target struct {
	name, method, path string
	query              url.Values
	body               any
	owner              *apptest.Caller
	// upgrade: the route is a WebSocket, called with the upgrade handshake (101 when let in).
	upgrade bool
}

func (s *authzSuite) problem(rt openapi.Route, who, format string, args ...any) {
	access := "undeclared"
	if rt.Op != nil && rt.Op.Who != "" {
		access = string(rt.Op.Who)
	}
	if who != "" {
		who = " " + who
	}
	s.problems = append(s.problems, fmt.Sprintf("%s %s [%s]%s: %s", rt.Method, rt.Pattern, access, who, fmt.Sprintf(format, args...)))
}

// fill builds the request of a route against the world; false when it cannot (said as a problem).
func (s *authzSuite) fill(rt openapi.Route, ov routeOverride) (target, bool) {
	op := rt.Op
	tg := target{name: rt.Method + " " + rt.Pattern, method: rt.Method, owner: s.w.A, upgrade: op.Upgrade}
	ok := true
	path := rt.Pattern
	for _, m := range pathParamRE.FindAllStringSubmatch(rt.Pattern, -1) {
		param := m[1]
		var value string
		if kind, declared := op.IDs[param]; declared {
			if k, o := ov.ids[param]; o {
				kind = k
			}
			res, have := s.w.ID(kind)
			if !have {
				s.problem(rt, "", "path ID {%s} is of kind %q, which the world lacks: add one to apptest.World (or an alias); it has %v",
					param, kind, s.w.Kinds())
				ok = false
				continue
			}
			value = res.ID
			if res.Owner != s.w.A {
				tg.owner = res.Owner
			}
		} else {
			v, have := s.w.Param(param)
			if !have {
				s.problem(rt, "", "path parameter {%s} is neither a declared ID (Op.ID(%q, kind) when it is a UUID) nor a value "+
					"apptest.World knows by name (add it to its params)", param, param)
				ok = false
				continue
			}
			value = v
		}
		path = strings.Replace(path, m[0], url.PathEscape(value), 1)
	}
	tg.path = path
	smp := s.w.Sampler()
	if op.Query != nil {
		tg.query = smp.Query(op.Query)
	}
	switch {
	case ov.body != nil:
		tg.body = ov.body(s.w)
	case op.RawBody:
		tg.body = map[string]any{}
	case op.In != nil:
		body, err := smp.Body(op.In)
		if err != nil {
			s.problem(rt, "", "cannot sample a valid body (add an override with a body): %v", err)
			ok = false
		}
		tg.body = body
	}
	if len(smp.Missing) > 0 {
		s.problem(rt, "", "the body's ID fields %v name no kind the world has (it has %v): add one to apptest.World or an override",
			smp.Missing, s.w.Kinds())
		ok = false
	}
	if op.Who == httpx.Shipper {
		tg.owner = s.w.S1
	}
	if op.Who == httpx.Admin {
		tg.owner = s.w.Admin
	}
	return tg, ok
}

// send calls the route with token.
func (s *authzSuite) send(tg target, token string) *apptest.Response {
	s.calls++
	p := "/" + tg.path // from the root: patterns carry /api/v1
	if len(tg.query) > 0 {
		p += "?" + tg.query.Encode()
	}
	if tg.upgrade {
		return s.dial(p[1:], token) // one slash: a URL, not Do's "from the root"
	}
	return s.w.Env.Do(s.t, apptest.Req{Method: tg.method, Path: p, Token: token, Body: tg.body})
}

// dial opens a WebSocket on path with token in the Authorization header, as docs/API.md says a
// client may, and closes it: 101 when the upgrade was accepted, else the refusal.
func (s *authzSuite) dial(path, token string) *apptest.Response {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{HTTPHeader: http.Header{}}
	if token != "" {
		opts.HTTPHeader.Set("Authorization", "Bearer "+token)
	}
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.w.Env.Server.URL, "http")+path, opts)
	if err == nil {
		conn.CloseNow()
		return &apptest.Response{Status: http.StatusSwitchingProtocols}
	}
	require.NotNil(s.t, res, "dial %s: %v", path, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &apptest.Response{Status: res.StatusCode, Header: res.Header, Body: body}
}

// as calls the route as c; when c's session has ended (a route before signed it out), c signs
// in again and the call is made again.
func (s *authzSuite) as(tg target, c *apptest.Caller) *apptest.Response {
	res := s.send(tg, c.Token())
	if res.Status == http.StatusUnauthorized && code(res) == "unauthorized" && c.Renew(s.t) {
		s.notes = append(s.notes, fmt.Sprintf("%s's session had ended before %s (a route before signed it out): signed in again", c.Name, tg.name))
		res = s.send(tg, c.Token())
	}
	return res
}

func code(res *apptest.Response) string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(res.Body, &p)
	return p.Code
}

func answer(res *apptest.Response) string {
	b := string(res.Body)
	if len(b) > 500 {
		b = b[:500] + "..."
	}
	return fmt.Sprintf("%d %s", res.Status, b)
}

// check calls one route as every kind of caller; false when it could not be called.
func (s *authzSuite) check(rt openapi.Route) bool {
	if !strings.HasPrefix(rt.Pattern, "/api/v1/") {
		return false
	}
	op := rt.Op
	switch {
	case op == nil:
		s.problem(rt, "", "not declared: a plain handler; mount an httpx.Op and declare who may call it (.For)")
		return false
	case op.Who == "":
		s.problem(rt, "", "not declared: no access (.For(httpx.Public|Webhook|AnyUser|Owner|ShopOwner|Shipper|Admin))")
		return false
	}
	ov := authzOverrides[rt.Method+" "+rt.Pattern]
	if ov.skip {
		s.notes = append(s.notes, rt.Method+" "+rt.Pattern+": skipped: "+ov.why)
		return false
	}
	tg, ok := s.fill(rt, ov)
	if !ok {
		return false
	}
	no5xx := func(who string, res *apptest.Response) bool {
		if res.Status >= 500 && !unavailableHere(tg.name, res) {
			s.problem(rt, who, "answered %s", answer(res))
			return false
		}
		return true
	}
	refused := func(who string, res *apptest.Response, want ...int) {
		if !no5xx(who, res) {
			return
		}
		for _, st := range want {
			if res.Status == st {
				return
			}
		}
		s.problem(rt, who, "got %s, want %v", answer(res), want)
	}
	let := func(c *apptest.Caller, res *apptest.Response) {
		if !no5xx(c.Name, res) {
			return
		}
		bad := res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden
		if rt.Method == http.MethodGet && res.Status == http.StatusNotFound && !ov.ownerMay404 {
			bad = true
		}
		if bad {
			s.problem(rt, c.Name, "may call it but got %s", answer(res))
		}
	}

	// (a) no token; (b) a bad one, rotating through the kinds.
	anon := s.send(tg, "")
	which := s.calls % len(s.bad)
	badTok := s.bad[which]
	switch op.Who {
	case httpx.Public, httpx.Webhook:
		no5xx("no token", anon)
	default:
		refused("no token", anon, http.StatusUnauthorized)
	}
	if rt.Token != openapi.Public {
		refused(fmt.Sprintf("bad token #%d", which), s.send(tg, badTok), http.StatusUnauthorized)
	} else {
		no5xx("bad token", s.send(tg, badTok))
	}

	// (c) the callers who may not, then those who may.
	hasIDs := len(op.IDs) > 0
	switch op.Who {
	case httpx.Public, httpx.Webhook, httpx.AnyUser:
		res := s.as(tg, s.w.C)
		if no5xx(s.w.C.Name, res) && res.Status == http.StatusUnauthorized && code(res) == "unauthorized" &&
			!(op.Who != httpx.AnyUser && anon.Status == http.StatusUnauthorized) {
			s.problem(rt, s.w.C.Name, "a signed-in user is refused: %s", answer(res))
		}
	case httpx.Owner, httpx.ShopOwner:
		refused(s.w.B.Name, s.as(tg, s.w.B), http.StatusForbidden, http.StatusNotFound)
		let(tg.owner, s.as(tg, tg.owner))
		if op.Who == httpx.ShopOwner {
			let(s.w.Admin, s.as(tg, s.w.Admin))
		}
	case httpx.Shipper:
		refused(s.w.B.Name, s.as(tg, s.w.B), http.StatusForbidden, http.StatusNotFound)
		if hasIDs {
			refused(s.w.S2.Name, s.as(tg, s.w.S2), http.StatusForbidden, http.StatusNotFound)
		}
		let(s.w.S1, s.as(tg, s.w.S1))
	case httpx.Admin:
		refused(s.w.B.Name, s.as(tg, s.w.B), http.StatusForbidden)
		let(s.w.Admin, s.as(tg, s.w.Admin))
	default:
		s.problem(rt, "", "declares access %q, which this suite does not know: teach it what to expect", op.Who)
	}
	return true
}
