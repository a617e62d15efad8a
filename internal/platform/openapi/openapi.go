// Package openapi writes the OpenAPI 3.1 document of the API from the router itself: every
// mounted route, its summary, who may call it, its path and query parameters, the JSON schemas
// of its body and answer (read from the Go types by reflection, with the rules of their
// `validate` tags), and the problem codes it can answer. A document read off the code cannot
// drift from it; Lint lists what a route has not declared.
package openapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// Access says what a route's middleware asks of its caller.
type Access int

// Access levels.
const (
	Public   Access = iota
	Optional        // a token, when given, is checked
	Bearer          // a valid bearer token is required
)

// Info describes the API.
type Info struct {
	Title, Version, Description string
}

// AccessOf tells, from a route's middleware, what it asks of its caller (the kernel cannot know
// the app's authenticator).
type AccessOf func(mws []func(http.Handler) http.Handler) Access

// Route is one mounted route as the document sees it.
type Route struct {
	Method, Pattern string
	// Op is the typed handler; nil for a plain handler, which the document cannot describe.
	Op *httpx.Op
	// Token is what the route's middleware asks for.
	Token Access
}

// Routes walks router and returns every mounted route, patterns as the document spells them.
func Routes(router chi.Routes, access AccessOf) ([]Route, error) {
	var out []Route
	err := chi.Walk(router, func(method, route string, h http.Handler, mws ...func(http.Handler) http.Handler) error {
		route = strings.ReplaceAll(route, "/*/", "/")
		if len(route) > 1 {
			route = strings.TrimSuffix(route, "/")
		}
		op, _ := h.(*httpx.Op)
		out = append(out, Route{Method: method, Pattern: route, Op: op, Token: access(mws)})
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Pattern != out[j].Pattern {
			return out[i].Pattern < out[j].Pattern
		}
		return out[i].Method < out[j].Method
	})
	return out, err
}

// Lint lists what the API's routes (those under prefix) have not declared: a plain handler the
// document cannot describe, a missing summary or access, or an access that the route's
// middleware contradicts (a public route behind a token check, or a signed-in one without).
func Lint(routes []Route, prefix string) []string {
	var out []string
	for _, rt := range routes {
		if !strings.HasPrefix(rt.Pattern, prefix) {
			continue
		}
		name := rt.Method + " " + rt.Pattern
		if rt.Op == nil {
			out = append(out, name+": a plain handler; mount an httpx.Op so the document can describe it")
			continue
		}
		if strings.TrimSpace(rt.Op.Summary) == "" {
			out = append(out, name+": no summary (Op.Doc)")
		}
		switch rt.Op.Who {
		case "":
			out = append(out, name+": no access declared (Op.For)")
		case httpx.Public, httpx.Webhook:
			if rt.Token == Bearer {
				out = append(out, name+": declared "+string(rt.Op.Who)+" but its middleware requires a token")
			}
		default:
			if rt.Token != Bearer && !rt.Op.Upgrade {
				out = append(out, name+": declared "+string(rt.Op.Who)+" but its middleware does not require a token")
			}
		}
	}
	return out
}

// Build walks router and returns the document.
func Build(router chi.Routes, info Info, access AccessOf) ([]byte, error) {
	routes, err := Routes(router, access)
	if err != nil {
		return nil, err
	}
	g := &gen{schemas: map[string]any{}, outTypes: map[reflect.Type]bool{}}
	for _, rt := range routes {
		if rt.Op != nil && rt.Op.Out != nil {
			g.collectOut(rt.Op.Out)
		}
		if rt.Op != nil {
			for _, t := range rt.Op.Otherwise {
				g.collectOut(t)
			}
		}
	}
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		if paths[rt.Pattern] == nil {
			paths[rt.Pattern] = map[string]any{}
		}
		paths[rt.Pattern][strings.ToLower(rt.Method)] = g.operation(rt)
	}
	g.schemas["Problem"] = g.schema(reflect.TypeFor[httpx.Problem](), out)
	doc := map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": info.Title, "version": info.Version, "description": info.Description},
		"paths":   paths,
		"components": map[string]any{
			"schemas": g.schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
			},
		},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// mode says which side of the wire a schema describes: a request's fields are required by their
// `validate:"required"` rule; an answer's are present unless `omitempty`.
type mode int

const (
	in mode = iota
	out
)

type gen struct {
	schemas map[string]any
	// outTypes are the named structs answers carry: when a request carries one too, its
	// request schema gets a name of its own.
	outTypes map[reflect.Type]bool
}

var paramRE = regexp.MustCompile(`\{([^}]+)\}`)

func (g *gen) operation(rt Route) map[string]any {
	op := map[string]any{
		"operationId": operationID(rt.Method, rt.Pattern),
		"tags":        []string{tag(rt.Pattern)},
	}
	typed := rt.Op
	var params []any
	for _, m := range paramRE.FindAllStringSubmatch(rt.Pattern, -1) {
		s := map[string]any{"type": "string"}
		desc := ""
		if typed != nil {
			if kind, ok := typed.IDs[m[1]]; ok {
				s["format"] = "uuid"
				desc = "the " + kind + "'s ID"
			}
		}
		p := map[string]any{"name": m[1], "in": "path", "required": true, "schema": s}
		if desc != "" {
			p["description"] = desc
		}
		params = append(params, p)
	}
	if typed != nil && typed.Query != nil {
		params = append(params, g.queryParams(typed.Query)...)
	}
	if typed != nil && typed.Idempotent {
		params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
			"description": "the same key with the same body replays the first answer and does the work once",
			"schema":      map[string]any{"type": "string", "maxLength": 255}})
	}
	if typed != nil {
		names := make([]string, 0, len(typed.Headers))
		for name := range typed.Headers {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			params = append(params, map[string]any{"name": name, "in": "header", "required": false,
				"description": typed.Headers[name], "schema": map[string]any{"type": "string", "maxLength": 64}})
		}
	}
	if params != nil {
		op["parameters"] = params
	}
	switch {
	case rt.Token == Bearer:
		op["security"] = []any{map[string]any{"bearer": []any{}}}
	case rt.Token == Optional:
		op["security"] = []any{map[string]any{}, map[string]any{"bearer": []any{}}}
	default:
		op["security"] = []any{}
	}
	responses := map[string]any{}
	op["responses"] = responses
	if typed == nil {
		responses["default"] = map[string]any{"description": "not described",
			"content": map[string]any{"application/problem+json": map[string]any{"schema": ref("Problem")}}}
		return op
	}
	if typed.Summary != "" {
		op["summary"] = typed.Summary
	}
	if typed.Who != "" {
		op["x-access"] = string(typed.Who)
		op["description"] = accessText[typed.Who]
	}
	if typed.Query != nil {
		// OpenAPI names each parameter; a family of them (attr.<name>) is told in the description
		// and listed, name pattern and schema, under x-query-patterns.
		if pats := g.queryPatterns(typed.Query); len(pats) > 0 {
			op["x-query-patterns"] = pats
			for _, p := range pats {
				m := p.(map[string]any)
				d, _ := op["description"].(string)
				op["description"] = strings.TrimSpace(d + " Also takes `" + m["name"].(string) + "=<value>` query parameters: " +
					m["description"].(string) + ".")
			}
		}
	}
	switch {
	case typed.RawBody:
		// The provider's own shape, JSON or a form; its signature, not this document, vouches for it.
		op["requestBody"] = map[string]any{"required": false, "content": map[string]any{
			"application/json":                  map[string]any{"schema": map[string]any{}},
			"application/x-www-form-urlencoded": map[string]any{"schema": map[string]any{"type": "object"}}}}
	case typed.Multipart != nil:
		op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
			"multipart/form-data": map[string]any{"schema": g.form(typed.Multipart)}}}
	case typed.In != nil:
		op["requestBody"] = map[string]any{"required": !typed.OptionalBody,
			"content": map[string]any{"application/json": map[string]any{"schema": g.schema(typed.In, in)}}}
	}
	status := http.StatusText(typed.Status)
	if typed.Produces != "" {
		responses[strconv.Itoa(typed.Status)] = map[string]any{"description": status,
			"content": map[string]any{typed.Produces: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
	} else if typed.Status == http.StatusNoContent || typed.Status == http.StatusSwitchingProtocols || typed.Out == reflect.TypeFor[httpx.Empty]() {
		responses[strconv.Itoa(typed.Status)] = map[string]any{"description": status}
	} else {
		content := map[string]any{"application/json": map[string]any{"schema": g.schema(typed.Out, out)}}
		for _, m := range typed.Alternatives {
			content[m] = map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
		}
		responses[strconv.Itoa(typed.Status)] = map[string]any{"description": status, "content": content}
	}
	for st, t := range typed.Otherwise {
		responses[strconv.Itoa(st)] = map[string]any{"description": http.StatusText(st),
			"content": map[string]any{"application/json": map[string]any{"schema": g.schema(t, out)}}}
	}
	for st, codes := range Problems(rt) {
		var enum []any
		for _, c := range codes {
			enum = append(enum, string(c))
		}
		responses[strconv.Itoa(st)] = map[string]any{"description": http.StatusText(st),
			"content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{
				"allOf": []any{ref("Problem"), map[string]any{"properties": map[string]any{"code": map[string]any{"enum": enum}}}},
			}}}}
	}
	return op
}

var accessText = map[httpx.Access]string{
	httpx.Public:    "Anyone may call it; a token, when sent, is checked.",
	httpx.Webhook:   "Called by a payment provider; its signature is verified before the body is read.",
	httpx.AnyUser:   "Any signed-in user, about their own things.",
	httpx.Owner:     "Only the owner of the resource in the path (another user gets 403 or 404).",
	httpx.ShopOwner: "Only the shop's owner, or an admin.",
	httpx.Shipper:   "Only a shipper; for a delivery, its assigned shipper.",
	httpx.Admin:     "Only an admin.",
}

// Problems returns, by HTTP status, the problem codes a route can answer: those its shape gives
// every route (500 and 503 anywhere, 422 for a path or query value that cannot be stored, 413
// for a body over the limit, a body's 400, a token's 401, a path ID's 404, a restricted route's 403 and 404) and
// those it declares with Op.Can.
func Problems(rt Route) map[int][]apperr.Code {
	// Any route refuses a body over the limit, declared or not (httpx.BodyLimit runs first).
	set := map[apperr.Code]bool{apperr.Internal: true, apperr.Unavailable: true, apperr.Invalid: true,
		apperr.PayloadTooLarge: true}
	o := rt.Op
	if o == nil {
		return nil
	}
	if o.In != nil || o.RawBody || o.Multipart != nil {
		set[apperr.BadRequest] = true
	}
	if rt.Token != Public {
		set[apperr.Unauthorized] = true
	}
	if len(o.IDs) > 0 {
		set[apperr.NotFound] = true
	}
	switch o.Who {
	case httpx.Owner, httpx.ShopOwner, httpx.Shipper, httpx.Admin:
		set[apperr.Forbidden], set[apperr.NotFound] = true, true
	}
	if o.Query != nil {
		set[apperr.Invalid] = true
	}
	for _, c := range o.Problems {
		set[c] = true
	}
	byStatus := map[int][]apperr.Code{}
	for c := range set {
		st := httpx.StatusOf(c)
		byStatus[st] = append(byStatus[st], c)
	}
	for st := range byStatus {
		sort.Slice(byStatus[st], func(i, j int) bool { return byStatus[st][i] < byStatus[st][j] })
	}
	return byStatus
}

// form describes a multipart/form-data body: the `form`-tagged text fields of t, with the rules
// of their `validate` tags, and the file, which comes last.
func (g *gen) form(t reflect.Type) map[string]any {
	props := map[string]any{httpx.FileField: map[string]any{"type": "string", "format": "binary",
		"description": "the file, after the other fields; its type is read from its bytes"}}
	required := []string{httpx.FileField}
	for _, f := range reflect.VisibleFields(t) {
		name := f.Tag.Get("form")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		s := constrain(g.schema(f.Type, in), elemKind(f.Type), f.Tag.Get("validate"), f.Type.Kind() == reflect.Pointer)
		if d := f.Tag.Get("doc"); d != "" {
			s = copyMap(s)
			s["description"] = d
		}
		props[name] = s
		if hasRule(f.Tag.Get("validate"), "required") {
			required = append(required, name)
		}
	}
	sort.Strings(required)
	return map[string]any{"type": "object", "properties": props, "required": required}
}

// queryParams describes the `query`-tagged fields of t (embedded structs' fields included).
func (g *gen) queryParams(t reflect.Type) []any {
	var params []any
	for _, f := range reflect.VisibleFields(t) {
		name := f.Tag.Get("query")
		if _, pattern := httpx.PatternPrefix(name); pattern || name == "" || name == "-" || !f.IsExported() {
			continue
		}
		s := constrain(g.schema(f.Type, in), elemKind(f.Type), f.Tag.Get("validate"), f.Type.Kind() == reflect.Pointer)
		p := map[string]any{"name": name, "in": "query", "schema": s}
		if rules := f.Tag.Get("validate"); hasRule(rules, "required") {
			p["required"] = true
		}
		if d := f.Tag.Get("doc"); d != "" {
			p["description"] = d
		}
		params = append(params, p)
	}
	return params
}

// queryPatterns describes the families of query parameters of t (a `query:"attr.*"` map):
// the name pattern ("attr.{name}"), what they mean, and the schema of one value.
func (g *gen) queryPatterns(t reflect.Type) []any {
	var out []any
	for _, f := range reflect.VisibleFields(t) {
		prefix, pattern := httpx.PatternPrefix(f.Tag.Get("query"))
		if !pattern || !f.IsExported() {
			continue
		}
		value := map[string]any{"type": "string"}
		if _, elemRules, ok := strings.Cut(f.Tag.Get("validate"), "endkeys,"); ok {
			value = constrain(value, reflect.String, elemRules, false)
		}
		out = append(out, map[string]any{"name": prefix + "{name}", "in": "query", "description": f.Tag.Get("doc"), "schema": value})
	}
	return out
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

var (
	timeType = reflect.TypeFor[time.Time]()
	uuidType = reflect.TypeFor[uuid.UUID]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// collectOut records the named structs reachable from an answer type.
func (g *gen) collectOut(t reflect.Type) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == timeType || g.outTypes[t] {
		return
	}
	if componentName(t) != "" {
		g.outTypes[t] = true
	}
	for i := range t.NumField() {
		g.collectOut(t.Field(i).Type)
	}
}

// schema describes t, registering named structs as components.
func (g *gen) schema(t reflect.Type, m mode) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case uuidType:
		return map[string]any{"type": "string", "format": "uuid"}
	case rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Uint:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return map[string]any{"type": "integer", "format": "int32"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem(), m)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem(), m)}
	case reflect.Struct:
		name := componentName(t)
		if name == "" {
			return g.object(t, m)
		}
		if m == in && g.outTypes[t] {
			name += "Input"
		}
		if _, done := g.schemas[name]; !done {
			g.schemas[name] = map[string]any{} // placeholder: types may refer to themselves
			g.schemas[name] = g.object(t, m)
		}
		return ref(name)
	default:
		return map[string]any{}
	}
}

// object describes a struct's JSON fields; embedded structs' fields are its own, as in JSON.
func (g *gen) object(t reflect.Type, m mode) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			ft := f.Type
			if f.Anonymous && name == "" && ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
				walk(ft)
				continue
			}
			if name == "" {
				name = f.Name
			}
			props[name] = g.field(f, m, g.schema(f.Type, m))
			omit := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
			if m == in && hasRule(f.Tag.Get("validate"), "required") || m == out && !omit {
				required = append(required, name)
			}
		}
	}
	walk(t)
	obj := map[string]any{"type": "object", "properties": props}
	if required != nil {
		sort.Strings(required)
		obj["required"] = required
	}
	return obj
}

// field completes the schema of a struct field: null where the field may be (a pointer, slice
// or map that is not left out when empty), and the rules of its `validate` tag.
func (g *gen) field(f reflect.StructField, m mode, s map[string]any) map[string]any {
	_, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
	omit := strings.Contains(","+opts+",", ",omitempty,")
	k := f.Type.Kind()
	nullable := (k == reflect.Pointer || k == reflect.Slice || k == reflect.Map || k == reflect.Interface) &&
		(m == in || !omit) && f.Type != rawType
	rules := f.Tag.Get("validate")
	s = constrain(s, elemKind(f.Type), rules, k == reflect.Pointer)
	if nullable {
		s = orNull(s)
	}
	return s
}

func elemKind(t reflect.Type) reflect.Kind {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType || t == uuidType {
		return reflect.Struct
	}
	return t.Kind()
}

// orNull lets a schema be null too.
func orNull(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok {
		c := copyMap(s)
		c["type"] = []any{typ, "null"}
		if enum, ok := c["enum"].([]any); ok {
			c["enum"] = append(append([]any{}, enum...), nil)
		}
		return c
	}
	if len(s) == 0 {
		return s
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

func copyMap(s map[string]any) map[string]any {
	c := make(map[string]any, len(s))
	for k, v := range s {
		c[k] = v
	}
	return c
}

func hasRule(rules, name string) bool {
	for _, r := range strings.Split(rules, ",") {
		if r == name {
			return true
		}
	}
	return false
}

// constrain adds a field's `validate` rules that JSON Schema can say. Under omitempty the zero
// value skips the rules, so only rules the zero value meets are kept (and "" joins an enum).
// Rules after `dive` apply to the elements.
func constrain(s map[string]any, kind reflect.Kind, rules string, pointer bool) map[string]any {
	if rules == "" || s["$ref"] != nil {
		return s
	}
	own, elemRules, dive := strings.Cut(rules, ",dive")
	if strings.HasPrefix(rules, "dive") {
		own, elemRules, dive = "", strings.TrimPrefix(rules, "dive"), true
	}
	s = copyMap(s)
	if dive {
		if items, ok := s["items"].(map[string]any); ok && (kind == reflect.Slice || kind == reflect.Array) {
			elem := ""
			if t, ok := items["type"].(string); ok {
				elem = t
			}
			s["items"] = constrain(items, kindOfJSON(elem), strings.TrimPrefix(elemRules, ","), false)
		}
	}
	omitempty := hasRule(own, "omitempty") && !pointer
	str := kind == reflect.String
	num := kind >= reflect.Int && kind <= reflect.Float64
	list := kind == reflect.Slice || kind == reflect.Array
	for _, r := range strings.Split(own, ",") {
		name, param, _ := strings.Cut(r, "=")
		if strings.Contains(name, "|") {
			continue
		}
		n, nErr := strconv.ParseFloat(param, 64)
		switch name {
		case "min", "gte":
			if nErr == nil && !(omitempty && n > 0) {
				setBound(s, str, num, list, "min", n)
			}
		case "max", "lte":
			if nErr == nil && !(omitempty && n < 0) {
				setBound(s, str, num, list, "max", n)
			}
		case "len":
			if nErr == nil && !(omitempty && n > 0) {
				setBound(s, str, num, list, "min", n)
				setBound(s, str, num, list, "max", n)
			}
		case "gt":
			if nErr == nil && num && !(omitempty && n >= 0) {
				s["exclusiveMinimum"] = number(n)
			}
		case "lt":
			if nErr == nil && num && !(omitempty && n <= 0) {
				s["exclusiveMaximum"] = number(n)
			}
		case "oneof":
			var enum []any
			for _, v := range strings.Fields(param) {
				if num {
					if x, err := strconv.ParseInt(v, 10, 64); err == nil {
						enum = append(enum, x)
					}
					continue
				}
				enum = append(enum, v)
			}
			if omitempty {
				if str {
					enum = append(enum, "")
				} else if num {
					enum = append(enum, 0)
				}
			}
			if str || num {
				s["enum"] = enum
			}
		case "email":
			if str && !omitempty {
				s["format"] = "email"
			}
		case "uuid", "uuid4":
			if str && !omitempty {
				s["format"] = "uuid"
			}
		case "url", "http_url":
			if str && !omitempty {
				s["format"] = "uri"
			}
		case "latitude":
			s["minimum"], s["maximum"] = -90, 90
		case "longitude":
			s["minimum"], s["maximum"] = -180, 180
		case "numeric":
			if str && !omitempty {
				s["pattern"] = "^[0-9]+$"
			}
		}
	}
	return s
}

func kindOfJSON(t string) reflect.Kind {
	switch t {
	case "string":
		return reflect.String
	case "integer", "number":
		return reflect.Int64
	case "array":
		return reflect.Slice
	}
	return reflect.Struct
}

func setBound(s map[string]any, str, num, list bool, which string, n float64) {
	switch {
	case str:
		s[which+"Length"] = int64(n)
	case num:
		s[map[string]string{"min": "minimum", "max": "maximum"}[which]] = number(n)
	case list:
		s[which+"Items"] = int64(n)
	}
}

func number(n float64) any {
	if n == float64(int64(n)) {
		return int64(n)
	}
	return n
}

var (
	nameRE       = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
	importPathRE = regexp.MustCompile(`[\w.-]*/`)
)

// componentName is "pkg.Type" for named structs ("httpx.List_user.Address" for generic ones);
// "" for anonymous structs, which are described inline.
func componentName(t reflect.Type) string {
	if t.Name() == "" {
		return ""
	}
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	name := t.Name()
	// Generic instances name their arguments with full import paths: keep the last element.
	name = importPathRE.ReplaceAllString(name, "")
	return nameRE.ReplaceAllString(pkg+"."+name, "_")
}

func operationID(method, route string) string {
	route = strings.TrimPrefix(route, "/api/v1")
	route = paramRE.ReplaceAllString(route, "by_$1")
	parts := strings.FieldsFunc(route, func(r rune) bool { return r == '/' || r == '-' })
	return strings.ToLower(method) + "_" + strings.Join(parts, "_")
}

func tag(route string) string {
	rest := strings.TrimPrefix(route, "/api/v1/")
	if rest == route {
		return "operations"
	}
	first, _, _ := strings.Cut(rest, "/")
	return first
}

// String is for fmt.
func (a Access) String() string { return fmt.Sprint([]string{"public", "optional", "bearer"}[a]) }
