package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/schema"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// queryDecoder reads query strings into structs by their `query` tags; unknown parameters are
// ignored, as unknown body fields are.
var queryDecoder = func() *schema.Decoder {
	d := schema.NewDecoder()
	d.SetAliasTag("query")
	d.IgnoreUnknownKeys(true)
	return d
}()

// QueryOf reads r's query string into a Q by its `query` tags and validates it with its
// `validate` tags: a value of the wrong type or one that breaks a rule is a 422 naming the
// parameter. The route must declare Q with Op.Params, so that the document lists every
// parameter a handler reads. A Q that embeds PageQuery gets its page checked as PageOf does.
func QueryOf[Q any](r *http.Request) (Q, error) {
	var q Q
	if err := checkDeclaredQuery(r, reflect.TypeFor[Q]()); err != nil {
		return q, err
	}
	values := r.URL.Query()
	if err := emptyValues(values, reflect.TypeFor[Q]()); err != nil {
		return q, err
	}
	patterned := takePatterns(reflect.ValueOf(&q).Elem(), values)
	if err := queryDecoder.Decode(&q, values); err != nil {
		return q, queryError(err)
	}
	if err := Validate(&q); err != nil {
		return q, renamePatterned(err, patterned)
	}
	return q, nil
}

// PatternPrefix reads a `query` tag that names a family of parameters rather than one: "attr.*"
// declares every parameter whose name starts with "attr." (attr.color=red, attr.size=L), read
// into a map[string]string field, name after the prefix to value. It answers the prefix.
func PatternPrefix(tag string) (string, bool) {
	return strings.CutSuffix(tag, "*")
}

// takePatterns moves the parameters of each patterned field (see PatternPrefix) out of values
// into the field's map, so that the decoder never reads "attr.color" as a path into a struct.
// A parameter given twice keeps its first value. It answers the patterned fields' tags.
func takePatterns(v reflect.Value, values map[string][]string) []string {
	var tags []string
	for _, f := range reflect.VisibleFields(v.Type()) {
		prefix, ok := PatternPrefix(f.Tag.Get("query"))
		if !ok || f.Type != reflect.TypeFor[map[string]string]() {
			continue
		}
		tags = append(tags, f.Tag.Get("query"))
		m := map[string]string{}
		for k, vs := range values {
			if name, ok := strings.CutPrefix(k, prefix); ok && len(vs) > 0 {
				m[name] = vs[0]
				delete(values, k)
			}
		}
		if len(m) > 0 {
			v.FieldByIndex(f.Index).Set(reflect.ValueOf(m))
		}
	}
	return tags
}

// renamePatterned names a patterned parameter that broke a rule as the client spelt it:
// "attr.*[color]" is "attr.color", "attr.*" the family as a whole.
func renamePatterned(err error, tags []string) error {
	var ae *apperr.Error
	if len(tags) == 0 || !errors.As(err, &ae) {
		return err
	}
	for i, fe := range ae.Fields {
		for _, tag := range tags {
			if rest, ok := strings.CutPrefix(fe.Field, tag+"["); ok {
				prefix, _ := PatternPrefix(tag)
				ae.Fields[i].Field = prefix + strings.TrimSuffix(rest, "]")
			}
		}
	}
	return err
}

// emptyValues refuses an empty value (?lat=) for a parameter that is not text: the document
// says lat is a number, and "" is none; gorilla/schema would read it as 0 (and a pointer field
// as given), so that a required latitude passed as 0.
func emptyValues(values map[string][]string, t reflect.Type) error {
	var bad []apperr.FieldError
	for _, f := range reflect.VisibleFields(t) {
		name := f.Tag.Get("query")
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if _, pattern := PatternPrefix(name); pattern || name == "" || name == "-" || ft.Kind() == reflect.String || !slices.Contains(values[name], "") {
			continue
		}
		bad = append(bad, apperr.FieldError{Field: name, Message: "must be " + queryKind(ft)})
	}
	if bad == nil {
		return nil
	}
	sort.Slice(bad, func(i, j int) bool { return bad[i].Field < bad[j].Field })
	return apperr.Validation(bad...)
}

// queryError names the parameters that did not parse.
func queryError(err error) error {
	var multi schema.MultiError
	if !errors.As(err, &multi) {
		return apperr.Wrap(err, apperr.Invalid, "the query string is invalid")
	}
	var fields []apperr.FieldError
	for key, e := range multi {
		msg := "is invalid"
		var conv schema.ConversionError
		if errors.As(e, &conv) && conv.Type != nil {
			msg = "must be " + queryKind(conv.Type)
		}
		fields = append(fields, apperr.FieldError{Field: key, Message: msg})
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
	return apperr.Validation(fields...)
}

func queryKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	switch {
	case t.Name() == "UUID":
		return "a UUID"
	case t.Name() == "Time":
		return "a time such as 2026-11-24T10:00:00Z"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "an integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number"
	}
	return "valid"
}

// checkDeclaredQuery fails when the Op serving r does not declare q (or a type embedding it) as
// its query.
func checkDeclaredQuery(r *http.Request, q reflect.Type) error {
	o := opOf(r)
	if o == nil {
		return nil
	}
	if o.Query == nil || (o.Query != q && !embeds(o.Query, q)) {
		return undeclared("query parameters", q, r)
	}
	return nil
}

func embeds(outer, inner reflect.Type) bool {
	if outer.Kind() != reflect.Struct {
		return false
	}
	for i := range outer.NumField() {
		f := outer.Field(i)
		if f.Anonymous && (f.Type == inner || embeds(f.Type, inner)) {
			return true
		}
	}
	return false
}

// checkPathAndQuery refuses path and query values that PostgreSQL cannot store as text (a NUL
// character, or bytes that are not UTF-8), naming the parameter, before any handler sees them.
func checkPathAndQuery(r *http.Request) error {
	var bad []apperr.FieldError
	if rc := chi.RouteContext(r.Context()); rc != nil {
		for i, k := range rc.URLParams.Keys {
			if i < len(rc.URLParams.Values) && !StorableText(rc.URLParams.Values[i]) {
				bad = append(bad, apperr.FieldError{Field: k, Message: unstorable})
			}
		}
	}
	if r.URL.RawQuery != "" {
		for k, vs := range r.URL.Query() {
			ok := StorableText(k)
			for _, v := range vs {
				ok = ok && StorableText(v)
			}
			if !ok {
				bad = append(bad, apperr.FieldError{Field: strings.ToValidUTF8(strings.ReplaceAll(k, "\x00", ""), ""), Message: unstorable})
			}
		}
	}
	if bad == nil {
		return nil
	}
	sort.Slice(bad, func(i, j int) bool { return bad[i].Field < bad[j].Field })
	return apperr.Validation(bad...)
}

const unstorable = "must be UTF-8 text without NUL characters"

// StorableText reports whether PostgreSQL can store s as text: UTF-8 without NUL.
func StorableText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// checkStorable walks a decoded body and refuses any string, map key or raw JSON that
// PostgreSQL cannot store (a NUL character: "\u0000" in JSON; encoding/json already replaces
// bytes that are not UTF-8), naming the field as the body spells it.
func checkStorable(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkStorable(v.Elem(), path)
	case reflect.String:
		if !StorableText(v.String()) {
			return apperr.Field(path, unstorable)
		}
	case reflect.Slice, reflect.Array:
		if v.Type() == rawMessageType {
			if rawHasNUL(v.Bytes()) {
				return apperr.Field(path, unstorable)
			}
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := range v.Len() {
			if err := checkStorable(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			key := fmt.Sprint(iter.Key().Interface())
			p := join(path, key)
			if !StorableText(key) {
				return apperr.Field(path, "has a key that "+unstorable)
			}
			if err := checkStorable(iter.Value(), p); err != nil {
				return err
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			p := path
			if !(f.Anonymous && name == "") {
				if name == "" {
					name = f.Name
				}
				p = join(path, name)
			}
			if err := checkStorable(v.Field(i), p); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// rawHasNUL reports whether raw JSON holds a \u0000 escape, which PostgreSQL's jsonb refuses.
// A backslash escaping a backslash is skipped, so "\\u0000" (the six characters) passes.
func rawHasNUL(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] == 'u' && i+5 < len(b) && string(b[i+2:i+6]) == "0000" {
			return true
		}
		i++ // skip the escaped character
	}
	return false
}
