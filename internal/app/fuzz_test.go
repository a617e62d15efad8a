package app_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/openapi"
)

// envInt reads a test knob from the environment.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	require.NoError(t, err, "%s must be an integer", name)
	return n
}

// fuzzRequest is one request the fuzz suite sends, and what was done to it.
type fuzzRequest struct {
	mutation string
	method   string
	path     string // escaped, from the root
	query    string // encoded
	body     any    // JSON value, or []byte sent as it is
	caller   *apptest.Caller
}

func (r fuzzRequest) String() string {
	var b string
	switch x := r.body.(type) {
	case nil:
	case []byte:
		b = string(x)
	default:
		raw, _ := json.Marshal(x)
		b = string(raw)
	}
	if len(b) > 300 {
		b = fmt.Sprintf("%s... (%d bytes)", b[:300], len(b))
	}
	u := r.path
	if r.query != "" {
		u += "?" + r.query
	}
	if len(u) > 300 {
		u = u[:300] + "..."
	}
	return fmt.Sprintf("%s %s body=%q", r.method, u, b)
}

// TestEveryOperationSurvivesBadInput reads the operations of the served OpenAPI document and
// sends each, as a caller allowed to call it, API_FUZZ_CASES mutated requests (default 8; the
// 14 kinds of mutation rotate from a random one, so 14 or more tries each on every operation) drawn from API_FUZZ_SEED
// (default 1) and the operation's name: missing fields, wrong types, huge and negative numbers,
// long and odd text (emoji, right-to-left, combining marks), NUL characters in the body, the
// query and the path, bad IDs (not UUIDs, unknown ones, another user's), bodies over
// MAX_BODY_BYTES and malformed JSON. Any 5xx fails, with the request and the answer. WebSocket
// routes and the webhooks of providers tests do not configure are left out. The
// contract check of apptest runs on every request too: an answer the document does not list,
// or a request it refuses being accepted, fails as well.
func TestEveryOperationSurvivesBadInput(t *testing.T) {
	t.Parallel()
	cases := envInt(t, "API_FUZZ_CASES", 8)
	seed := uint64(envInt(t, "API_FUZZ_SEED", 1))
	// A smaller body limit than the default 1 MiB: a body over it is as good a test, and the
	// contract check reads every byte of it.
	w := apptest.NewWorld(t, apptest.WithEnv("MAX_BODY_BYTES", "65536"))
	routes, err := w.Env.App.Routes()
	require.NoError(t, err)
	byName := map[string]openapi.Route{}
	for _, rt := range routes {
		byName[rt.Method+" "+rt.Pattern] = rt
	}
	res := w.Env.Get(t, "/openapi.json", "")
	require.Equal(t, http.StatusOK, res.Status)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	res.JSON(t, &doc)
	var ops []openapi.Route
	for path, methods := range doc.Paths {
		for method := range methods {
			rt, ok := byName[strings.ToUpper(method)+" "+path]
			require.True(t, ok, "the document's %s %s is not a mounted route", method, path)
			ops = append(ops, rt)
		}
	}
	f := &fuzzer{t: t, w: w, maxBody: w.Env.App.Cfg.MaxBodyBytes, failures: map[string][]string{}}
	sent := 0
	skipped := 0
	for _, rt := range callOrder(ops) {
		if _, ok := unavailableInTests[rt.Method+" "+rt.Pattern]; ok || rt.Op != nil && rt.Op.Upgrade {
			skipped++ // answers 503 here whatever it is sent; a WebSocket is the authorization suite's
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(rt.Method + " " + rt.Pattern))
		rng := rand.New(rand.NewPCG(seed, h.Sum64()))
		base := f.base(rt)
		start := rng.IntN(len(mutations))
		next := start
		for range cases {
			// The next kind of mutation that applies to the operation (the first always does).
			var req fuzzRequest
			for ok := false; !ok; next++ {
				req, ok = mutations[next%len(mutations)].apply(f, rng, rt, base)
			}
			f.send(rt, req)
			sent++
		}
	}
	t.Logf("fuzz: %d operations (%d left out), %d requests (seed %d, %d cases each)", len(ops)-skipped, skipped, sent, seed, cases)
	if len(f.failures) > 0 {
		var lines []string
		for op, fails := range f.failures {
			line := fmt.Sprintf("%s: %d of %d requests answered 5xx, first:\n      %s", op, len(fails), cases, fails[0])
			if len(fails) > 1 {
				line += "\n    and:\n      " + fails[len(fails)-1]
			}
			lines = append(lines, line)
		}
		sort.Strings(lines)
		t.Errorf("fuzz: %d operations answered 5xx (each: the mutation, the request, the answer; the same "+
			"API_FUZZ_SEED and API_FUZZ_CASES send the same requests again):\n  %s", len(lines), strings.Join(lines, "\n  "))
	}
}

// unavailableInTests are the operations that answer 503 on the test server whatever they are
// sent, and why: the authorization suite accepts that 503 (`unavailable`) from them, and any
// other 5xx still fails; the fuzz suite leaves them out (the 503 comes before the body is read).
var unavailableInTests = map[string]string{
	"POST /api/v1/payments/stripe/webhook": "Stripe is not configured in tests (configured, payments would call its API): " +
		"a provider's webhook answers 503 until it is, so that the provider retries",
	"POST /api/v1/payments/paypal/webhook": "PayPal is not configured in tests, as Stripe",
	"POST /api/v1/payments/momo/webhook":   "MoMo is not configured in tests, as Stripe",
	"POST /api/v1/payments/vnpay/webhook":  "VNPay is not configured in tests, as Stripe",
	"GET /api/v1/payments/vnpay/webhook":   "VNPay is not configured in tests, as Stripe",
}

// unavailableHere says whether res is the 503 an operation of unavailableInTests answers.
func unavailableHere(op string, res *apptest.Response) bool {
	_, ok := unavailableInTests[op]
	return ok && res.Status == http.StatusServiceUnavailable && code(res) == "unavailable"
}

type fuzzer struct {
	t        *testing.T
	w        *apptest.World
	maxBody  int64
	failures map[string][]string // by operation
}

// base is an operation's well-formed request: the world's IDs in the path, every query
// parameter and body field sampled, and the token of a caller allowed to call it.
type base struct {
	method, pattern string
	params          map[string]string // path parameter -> value
	query           url.Values
	body            any
	caller          *apptest.Caller
}

func (f *fuzzer) base(rt openapi.Route) base {
	b := base{method: rt.Method, pattern: rt.Pattern, params: map[string]string{}}
	op := rt.Op
	smp := f.w.Sampler()
	smp.Full = true
	b.caller = f.w.A
	for _, m := range pathParamRE.FindAllStringSubmatch(rt.Pattern, -1) {
		v := uuid.NewString()
		if op != nil {
			if kind, ok := op.IDs[m[1]]; ok {
				if r, ok := f.w.ID(kind); ok {
					v = r.ID
					b.caller = r.Owner
				}
			} else if p, ok := f.w.Param(m[1]); ok {
				v = p
			}
		}
		b.params[m[1]] = v
	}
	if op == nil {
		return b
	}
	switch op.Who {
	case httpx.Shipper:
		b.caller = f.w.S1
	case httpx.Admin:
		b.caller = f.w.Admin
	case httpx.Public, httpx.Webhook:
		if rt.Token == openapi.Public {
			b.caller = nil
		}
	}
	if op.Query != nil {
		b.query = smp.Query(op.Query)
	}
	switch {
	case op.RawBody:
		b.body = map[string]any{"id": "evt_fuzz", "type": "payment.succeeded"}
	case op.In != nil:
		b.body, _ = smp.Body(op.In) // a sample that breaks a rule is one more bad input
	}
	return b
}

// request renders a base with its path parameters replaced by params.
func (b base) request(mutation string, params map[string]string, query url.Values, body any) fuzzRequest {
	path := b.pattern
	for k, v := range params {
		path = strings.Replace(path, "{"+k+"}", url.PathEscape(v), 1)
	}
	return fuzzRequest{mutation: mutation, method: b.method, path: path, query: query.Encode(), body: body, caller: b.caller}
}

func (f *fuzzer) send(rt openapi.Route, r fuzzRequest) {
	p := "/" + r.path
	if r.query != "" {
		p += "?" + r.query
	}
	do := func() *apptest.Response {
		tok := ""
		if r.caller != nil {
			tok = r.caller.Token()
		}
		return f.w.Env.Do(f.t, apptest.Req{Method: r.method, Path: p, Token: tok, Body: r.body})
	}
	res := do()
	if res.Status == http.StatusUnauthorized && code(res) == "unauthorized" && r.caller != nil && r.caller.Renew(f.t) {
		res = do() // an earlier request signed the caller out
	}
	op := rt.Method + " " + rt.Pattern
	if res.Status >= 500 {
		body := string(res.Body)
		if len(body) > 300 {
			body = body[:300] + "..."
		}
		f.failures[op] = append(f.failures[op], fmt.Sprintf("(%s) %s\n      answered %d %s", r.mutation, r, res.Status, body))
	}
}

// mutation changes one thing of a well-formed request; false when the operation has nothing it
// applies to (no body, no path parameter ...).
type mutation struct {
	name  string
	apply func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool)
}

// Odd values the mutations draw from.
var (
	oddStrings = []string{
		"" /* first: path values skip it */, " ", "\t\n", strings.Repeat("a", 5000), strings.Repeat("ệ", 3000),
		"🛒🇻🇳👩‍👩‍👧‍👦🏳️‍🌈", "مرحبا بالعالم", "\u202Eevil\u202C", "e\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308",
		"Z̷̢̛̛̤̙̳̮̀͗̈́ä̸̠̼͇́l̵̨̛̰̍g̶̢̈́o̵̢̧͗", "\u200B\u200C\u200D\uFEFF", "\uFFFD\uFFFE", "a\u0000b", "\u0000",
		"'; DROP TABLE users; --", "%00", "../../etc/passwd", "<script>alert(1)</script>", "${jndi:ldap://x}",
		"null", "true", "-0", "1e309", "0x10", "NaN", "Infinity", "\\", "\"", "{}", "[]",
	}
	oddNumbers = []any{
		json.Number("9223372036854775807"), json.Number("9223372036854775808"), json.Number("-9223372036854775808"),
		json.Number("-9223372036854775809"), json.Number("2147483648"), json.Number("-2147483649"), json.Number("-1"),
		json.Number("0"), json.Number("1e308"), json.Number("-1e308"), json.Number("1e-320"), json.Number("0.5"),
		json.Number("-0.0"), json.Number("123456789012345678901234567890"), json.Number("1e999999"),
	}
	wrongTypes = []any{"a string", json.Number("12345"), true, false, nil, []any{}, []any{"x", 1}, map[string]any{}, map[string]any{"x": 1}, json.Number("1.5")}
	badIDs     = []string{"not-a-uuid", "1", "-1", "0", uuid.Nil.String(), "00000000-0000-0000-0000-00000000000g",
		strings.ToUpper(uuid.NewString()), "{" + uuid.NewString() + "}", uuid.NewString() + "x", "a\u0000b", "%", "..",
		strings.Repeat("f", 2000), "🛒", "' OR '1'='1"}
	malformed = []string{
		`{`, `{"a":`, `{"a":1,}`, `{"a" 1}`, `[`, `]`, `{}}`, `{} {}`, `nul`, `"unterminated`, "{\"a\":\"\xff\xfe\"}",
		"\xef\xbb\xbf{}", `{"a":1,"a":"twice"}`, strings.Repeat("[", 20000), strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000),
		`{"` + strings.Repeat("k", 20000) + `":1}`, `{"a":"\ud800"}`, `{"a":"\u0000"}`,
	}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// copyJSON deep-copies a JSON value built of maps, slices and scalars.
func copyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = copyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = copyJSON(e)
		}
		return out
	}
	return v
}

// leaf is a place in a JSON value: the container and its key or index.
type leaf struct {
	parent any
	key    string
	index  int
	path   string
	value  any
}

func leaves(v any, path string) []leaf {
	var out []leaf
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := strings.TrimPrefix(path+"."+k, ".")
			out = append(out, leaf{parent: x, key: k, path: p, value: x[k]})
			out = append(out, leaves(x[k], p)...)
		}
	case []any:
		for i, e := range x {
			p := fmt.Sprintf("%s[%d]", path, i)
			out = append(out, leaf{parent: x, index: i, path: p, value: e})
			out = append(out, leaves(e, p)...)
		}
	}
	return out
}

func (l leaf) set(v any) {
	switch p := l.parent.(type) {
	case map[string]any:
		p[l.key] = v
	case []any:
		p[l.index] = v
	}
}

// bodyLeaf picks a place in a copy of the base body, preferring values that pass keep.
func bodyLeaf(rng *rand.Rand, b base, keep func(any) bool) (any, leaf, bool) {
	if b.body == nil {
		return nil, leaf{}, false
	}
	body := copyJSON(b.body)
	all := leaves(body, "")
	var some []leaf
	for _, l := range all {
		if keep == nil || keep(l.value) {
			some = append(some, l)
		}
	}
	if len(some) == 0 {
		some = all
	}
	if len(some) == 0 {
		return body, leaf{}, false
	}
	return body, pick(rng, some), true
}

func isString(v any) bool { _, ok := v.(string); return ok }

func isNumber(v any) bool {
	switch v.(type) {
	case int64, float64, int, json.Number:
		return true
	}
	return false
}

func isUUID(v any) bool {
	s, ok := v.(string)
	return ok && uuid.Validate(s) == nil
}

// withParam returns a copy of the base's path parameters with one set to v; false without any.
func withParam(rng *rand.Rand, b base, v string) (map[string]string, string, bool) {
	if len(b.params) == 0 {
		return b.params, "", false
	}
	names := make([]string, 0, len(b.params))
	for k := range b.params {
		names = append(names, k)
	}
	sort.Strings(names)
	name := pick(rng, names)
	out := map[string]string{}
	for k, x := range b.params {
		out[k] = x
	}
	out[name] = v
	return out, name, true
}

func copyQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		out[k] = append([]string{}, vs...)
	}
	return out
}

// otherIDs are IDs that exist but are not the caller's resource of that kind: another user, and
// every other kind of the world's resources.
func (f *fuzzer) otherIDs() []string {
	out := []string{f.w.B.ID, f.w.S2.ID, f.w.Admin.ID}
	for _, k := range f.w.Kinds() {
		r, _ := f.w.ID(k)
		out = append(out, r.ID)
	}
	return out
}

var mutations = []mutation{
	{"odd path or query value", func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		// An empty path value makes another path ("/orders//cancel"), which no operation has.
		if params, name, ok := withParam(rng, b, pick(rng, oddStrings[1:])); ok && rng.IntN(2) == 0 {
			return b.request("odd value in path parameter "+name, params, b.query, b.body), true
		}
		q := copyQuery(b.query)
		name := "q"
		if len(q) > 0 {
			names := make([]string, 0, len(q))
			for k := range q {
				names = append(names, k)
			}
			sort.Strings(names)
			name = pick(rng, names)
		}
		q.Set(name, pick(rng, oddStrings))
		return b.request("odd value in query parameter "+name, b.params, q, b.body), true
	}},
	{"NUL in the path", func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		params, name, ok := withParam(rng, b, pick(rng, []string{"\x00", "a\x00b", uuid.NewString() + "\x00"}))
		return b.request("NUL in path parameter "+name, params, b.query, b.body), ok
	}},
	{"NUL in the query", func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		q := copyQuery(b.query)
		name := "q\x00"
		if len(q) > 0 && rng.IntN(3) > 0 {
			names := make([]string, 0, len(q))
			for k := range q {
				names = append(names, k)
			}
			sort.Strings(names)
			name = pick(rng, names)
		}
		q.Set(name, pick(rng, []string{"\x00", "a\x00b", "\xff\xfe"}))
		return b.request("NUL or non-UTF-8 in query parameter", b.params, q, b.body), true
	}},
	{"bad ID in the path", func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		v := pick(rng, badIDs)
		if rng.IntN(2) == 0 {
			v = pick(rng, f.otherIDs())
		}
		params, name, ok := withParam(rng, b, v)
		return b.request("bad ID "+v+" in path parameter "+name, params, b.query, b.body), ok
	}},
	{"missing field", func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		body, l, ok := bodyLeaf(rng, b, nil)
		if !ok {
			return fuzzRequest{}, false
		}
		switch p := l.parent.(type) {
		case map[string]any:
			delete(p, l.key)
		case []any:
			l.set(nil)
		}
		return b.request("without "+l.path, b.params, b.query, body), true
	}},
	{"wrong type", func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		body, l, ok := bodyLeaf(rng, b, nil)
		if !ok {
			if b.body == nil {
				return fuzzRequest{}, false
			}
			v := pick(rng, wrongTypes)
			return b.request(fmt.Sprintf("the body as %T", v), b.params, b.query, v), true
		}
		v := pick(rng, wrongTypes)
		l.set(v)
		return b.request(fmt.Sprintf("%s as %v", l.path, v), b.params, b.query, body), true
	}},
	{"huge or negative number", replaceLeaf(isNumber, oddNumbers)},
	{"odd text", replaceLeaf(isString, oddStrings)},
	{"NUL in the body", func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		body, l, ok := bodyLeaf(rng, b, isString)
		if !ok {
			return fuzzRequest{}, false
		}
		if m, isMap := l.parent.(map[string]any); isMap && rng.IntN(4) == 0 {
			m["k\u0000"] = "v" // a NUL in a key: refused where the field is a map, ignored elsewhere
			return b.request("NUL in a key beside "+l.path, b.params, b.query, body), true
		}
		l.set(pick(rng, []string{"\u0000", "a\u0000b", "\u0000" + strings.Repeat("x", 50)}))
		return b.request("NUL in "+l.path, b.params, b.query, body), true
	}},
	{"bad ID in the body", func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		body, l, ok := bodyLeaf(rng, b, isUUID)
		if !ok || !isUUID(l.value) {
			return fuzzRequest{}, false
		}
		v := pick(rng, badIDs)
		if rng.IntN(2) == 0 {
			v = pick(rng, f.otherIDs())
		}
		l.set(v)
		return b.request(fmt.Sprintf("%s = %q", l.path, v), b.params, b.query, body), true
	}},
	{"odd query values", func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		if rt.Op == nil || rt.Op.Query == nil {
			return fuzzRequest{}, false
		}
		q := copyQuery(b.query)
		for k := range q {
			q.Set(k, pick(rng, []string{"-1", "0", "99999999999999999999", "1e400", "abc", "", "true", "NaN",
				strings.Repeat("9", 400), pick(rng, oddStrings), pick(rng, badIDs)}))
		}
		return b.request("every query parameter odd", b.params, q, b.body), true
	}},
	{"bad cursor", func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		if rt.Op == nil || rt.Op.Query == nil {
			return fuzzRequest{}, false
		}
		enc := base64.RawURLEncoding.EncodeToString
		v := pick(rng, []string{"!!!", enc([]byte("not json")), enc([]byte(`{"t":"x","i":"y"}`)),
			enc([]byte(`{"n":"\u0000","i":"` + uuid.NewString() + `"}`)), enc([]byte(`{"s":"newest","p":1e300,"i":"` + uuid.NewString() + `"}`)),
			enc([]byte(`{"t":"9999-12-31T23:59:59Z","i":"` + uuid.NewString() + `","s":"\u0000"}`)), enc([]byte(`[]`)),
			enc([]byte(`{"d":-1e308,"i":"` + uuid.Nil.String() + `","s":99999999999}`)), enc([]byte(`{"t":"0000-01-01T00:00:00Z","i":"` + uuid.NewString() + `"}`))})
		q := copyQuery(b.query)
		q.Set("cursor", v)
		q.Set("limit", pick(rng, []string{"1", "100", "101", "0", "-5"}))
		return b.request("cursor "+v, b.params, q, b.body), true
	}},
	{"body over the limit", func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		if rt.Method == http.MethodGet {
			return fuzzRequest{}, false
		}
		raw := []byte(`{"x":"` + strings.Repeat("a", int(f.maxBody)) + `"}`)
		return b.request(fmt.Sprintf("a body of %d bytes", len(raw)), b.params, b.query, raw), true
	}},
	{"malformed JSON", func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		if rt.Method == http.MethodGet {
			return fuzzRequest{}, false
		}
		v := pick(rng, malformed)
		return b.request("malformed JSON "+clipString(v), b.params, b.query, []byte(v)), true
	}},
}

// replaceLeaf is the mutation that puts one of values in place of a body value that passes keep.
func replaceLeaf[T any](keep func(any) bool, values []T) func(*fuzzer, *rand.Rand, openapi.Route, base) (fuzzRequest, bool) {
	return func(f *fuzzer, rng *rand.Rand, rt openapi.Route, b base) (fuzzRequest, bool) {
		body, l, ok := bodyLeaf(rng, b, keep)
		if !ok {
			return fuzzRequest{}, false
		}
		v := pick(rng, values)
		l.set(v)
		return b.request(fmt.Sprintf("%s = %s", l.path, clipString(fmt.Sprintf("%#v", v))), b.params, b.query, body), true
	}
}

func clipString(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s... (%d bytes)", s[:40], len(s))
	}
	return s
}
