// Package openapi writes the OpenAPI 3.1 document of the API from the router itself: every
// mounted route, its path parameters, whether it needs a bearer token, and, for the typed
// handlers of httpx (httpx.Op), the JSON schemas of its body and answer, read from the Go types
// by reflection. A document read off the code cannot drift from it.
package openapi

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/httpx"
)

// Access says what a route asks of its caller.
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

// Build walks router and returns the document. access tells, from a route's middleware, what it
// asks of its caller (the kernel cannot know the app's authenticator).
func Build(router chi.Routes, info Info, access func(mws []func(http.Handler) http.Handler) Access) ([]byte, error) {
	g := &gen{schemas: map[string]any{}}
	paths := map[string]map[string]any{}
	err := chi.Walk(router, func(method, route string, h http.Handler, mws ...func(http.Handler) http.Handler) error {
		route = strings.ReplaceAll(route, "/*/", "/")
		if len(route) > 1 {
			route = strings.TrimSuffix(route, "/")
		}
		if paths[route] == nil {
			paths[route] = map[string]any{}
		}
		paths[route][strings.ToLower(method)] = g.operation(method, route, h, access(mws))
		return nil
	})
	if err != nil {
		return nil, err
	}
	g.schemas["Problem"] = g.schema(reflect.TypeFor[httpx.Problem]())
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

type gen struct {
	schemas map[string]any
}

var paramRE = regexp.MustCompile(`\{([^}]+)\}`)

func (g *gen) operation(method, route string, h http.Handler, access Access) map[string]any {
	op := map[string]any{
		"operationId": operationID(method, route),
		"tags":        []string{tag(route)},
		"responses":   map[string]any{},
	}
	var typed *httpx.Op
	if o, ok := h.(*httpx.Op); ok {
		typed = o
	}
	var params []any
	for _, m := range paramRE.FindAllStringSubmatch(route, -1) {
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
	if params != nil {
		op["parameters"] = params
	}
	switch access {
	case Bearer:
		op["security"] = []any{map[string]any{"bearer": []any{}}}
	case Optional:
		op["security"] = []any{map[string]any{}, map[string]any{"bearer": []any{}}}
	default:
		op["security"] = []any{}
	}
	responses := op["responses"].(map[string]any)
	responses["default"] = map[string]any{"description": "a problem (RFC 9457)",
		"content": map[string]any{"application/problem+json": map[string]any{"schema": ref("Problem")}}}
	if typed == nil {
		responses["200"] = map[string]any{"description": "see the route's documentation"}
		return op
	}
	if typed.In != nil {
		op["requestBody"] = map[string]any{"required": true,
			"content": map[string]any{"application/json": map[string]any{"schema": g.schema(typed.In)}}}
	}
	status := http.StatusText(typed.Status)
	if typed.Status == http.StatusNoContent || typed.Out == reflect.TypeFor[httpx.Empty]() {
		responses[strconv.Itoa(typed.Status)] = map[string]any{"description": status}
	} else {
		responses[strconv.Itoa(typed.Status)] = map[string]any{"description": status,
			"content": map[string]any{"application/json": map[string]any{"schema": g.schema(typed.Out)}}}
	}
	return op
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

var (
	timeType = reflect.TypeFor[time.Time]()
	uuidType = reflect.TypeFor[uuid.UUID]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// schema describes t, registering named structs as components.
func (g *gen) schema(t reflect.Type) map[string]any {
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
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Struct:
		name := componentName(t)
		if name == "" {
			return g.object(t)
		}
		if _, done := g.schemas[name]; !done {
			g.schemas[name] = map[string]any{} // placeholder: types may refer to themselves
			g.schemas[name] = g.object(t)
		}
		return ref(name)
	default:
		return map[string]any{}
	}
}

// object describes a struct's JSON fields; embedded structs' fields are its own, as in JSON.
func (g *gen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, opts, _ := strings.Cut(tag, ",")
			if name == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if name == "" {
				name = f.Name
			}
			s := g.schema(f.Type)
			rules := f.Tag.Get("validate")
			if enum := oneOf(rules); enum != nil && s["type"] == "string" {
				s = map[string]any{"type": "string", "enum": enum}
			}
			props[name] = s
			if strings.Contains(","+rules+",", ",required,") && !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
		}
	}
	walk(t)
	out := map[string]any{"type": "object", "properties": props}
	if required != nil {
		sort.Strings(required)
		out["required"] = required
	}
	return out
}

func oneOf(rules string) []string {
	for _, r := range strings.Split(rules, ",") {
		if v, ok := strings.CutPrefix(r, "oneof="); ok {
			return strings.Fields(v)
		}
	}
	return nil
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
