package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// validate is shared because validator caches struct metadata; it is configured once here and
// never changed afterwards.
var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		if name == "" {
			name = f.Tag.Get("query") // query parameters are named by their `query` tag
		}
		if name == "" {
			name = f.Tag.Get("form") // and a multipart body's fields by their `form` tag
		}
		if name == "" && f.Anonymous {
			return embedded
		}
		return name
	})
	// phone: international (+84901234567) or Vietnamese national (0901234567) format.
	_ = v.RegisterValidation("phone", func(fl validator.FieldLevel) bool {
		return phoneRE.MatchString(strings.ReplaceAll(fl.Field().String(), " ", ""))
	})
	return v
}

// embedded names an untagged embedded struct, whose fields encoding/json flattens into the
// outer object; fieldPath drops it, so that errors name fields as clients send them.
const embedded = "\x00embedded"

var rawMessageType = reflect.TypeFor[json.RawMessage]()

var phoneRE = regexp.MustCompile(`^(\+[1-9][0-9]{7,14}|0[0-9]{9,10})$`)

// Decode reads r's JSON body into dst and validates it with its `validate` struct tags.
// Malformed JSON is 400, a body over the limit is 413, wrong types and failed rules are 422
// with the offending fields named. Unknown fields are ignored, as the contract says.
func Decode(r *http.Request, dst any) error {
	if err := checkDeclaredBody(r, reflect.TypeOf(dst), false); err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return decodeError(err, nil)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, reflect.TypeOf(dst))
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeError(err, nil)
		}
		return apperr.New(apperr.BadRequest, "the body must hold a single JSON value")
	}
	if bytes.Contains(body, []byte("null")) {
		if err := refuseNulls(body, reflect.TypeOf(dst).Elem(), ""); err != nil {
			return err
		}
	}
	if err := checkStorable(reflect.ValueOf(dst), ""); err != nil {
		return err
	}
	return Validate(dst)
}

// DecodeOptional is Decode for routes whose body may be left out: no body leaves dst as it is.
func DecodeOptional(r *http.Request, dst any) error {
	if err := checkDeclaredBody(r, reflect.TypeOf(dst), true); err != nil {
		return err
	}
	if r.ContentLength == 0 {
		return Validate(dst)
	}
	return Decode(r, dst)
}

// refuseNulls refuses a JSON null where dst's type has no null: encoding/json leaves such a
// field at its zero value, so {"brand": null} would clear a brand that the document (and the
// client reading it) says must be a string. Pointers, slices, maps and raw JSON may be null.
func refuseNulls(raw []byte, t reflect.Type, path string) error {
	raw = bytes.TrimSpace(raw)
	for t.Kind() == reflect.Pointer {
		if string(raw) == "null" {
			return nil
		}
		t = t.Elem()
	}
	if string(raw) == "null" {
		switch {
		case t.Kind() == reflect.Slice || t.Kind() == reflect.Map || t.Kind() == reflect.Interface:
			return nil
		case path == "":
			return apperr.New(apperr.BadRequest, "the body must be a JSON object")
		case t.Name() == "UUID" || t.Name() == "Time":
			return apperr.Field(path, "must be "+queryKind(t)+", not null")
		}
		return apperr.Field(path, "must be "+jsonKind(t)+", not null")
	}
	if len(raw) == 0 || t == rawMessageType {
		return nil
	}
	switch {
	case t.Kind() == reflect.Struct && raw[0] == '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		for _, key := range sortedKeys(obj) {
			if f, name, ok := jsonField(t, key); ok {
				if err := refuseNulls(obj[key], f.Type, join(path, name)); err != nil {
					return err
				}
			}
		}
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && raw[0] == '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for i, item := range items {
			if err := refuseNulls(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Map && raw[0] == '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		for _, key := range sortedKeys(obj) {
			if err := refuseNulls(obj[key], t.Elem(), join(path, key)); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// jsonField finds the field of struct t that encoding/json fills from key: by its JSON name,
// else by a name equal under case folding, as encoding/json matches; embedded structs' fields
// count as the struct's own.
func jsonField(t reflect.Type, key string) (reflect.StructField, string, bool) {
	var folded *reflect.StructField
	var foldedName string
	for _, f := range reflect.VisibleFields(t) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() || (f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct) {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f, name, true
		}
		if folded == nil && strings.EqualFold(name, key) {
			folded, foldedName = &f, name
		}
	}
	if folded != nil {
		return *folded, foldedName, true
	}
	return reflect.StructField{}, "", false
}

func decodeError(err error, dst reflect.Type) error {
	var (
		tooBig  *http.MaxBytesError
		typeErr *json.UnmarshalTypeError
		syntax  *json.SyntaxError
	)
	switch {
	case errors.As(err, &tooBig):
		return apperr.New(apperr.PayloadTooLarge, "the body is larger than %d bytes", tooBig.Limit)
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return apperr.New(apperr.BadRequest, "the body must be a JSON object")
		}
		return apperr.Field(jsonPath(dst, field), fmt.Sprintf("must be %s", jsonKind(typeErr.Type)))
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.New(apperr.BadRequest, "malformed JSON")
	case errors.Is(err, io.EOF):
		return apperr.New(apperr.BadRequest, "the body is empty")
	default:
		// A value's own decoder refused it (a malformed UUID or time): say what it said.
		return apperr.Wrap(err, apperr.BadRequest, "invalid value in the body: %v", err)
	}
}

// jsonPath rewrites a decoding error's field path as the body spells it: encoding/json names an
// untagged embedded struct by its type ("Fields.title") though its fields sit in the outer
// object ("title").
func jsonPath(t reflect.Type, path string) string {
	var out []string
	for _, seg := range strings.Split(path, ".") {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			out, t = append(out, seg), nil
			continue
		}
		if f, ok := t.FieldByName(seg); ok && f.Anonymous && f.Tag.Get("json") == "" {
			t = f.Type
			continue
		}
		out = append(out, seg)
		next := t
		t = nil
		for _, f := range reflect.VisibleFields(next) {
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); !f.Anonymous && (name == seg || name == "" && f.Name == seg) {
				t = f.Type
				break
			}
		}
	}
	return strings.Join(out, ".")
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

// Validate checks v's `validate` struct tags and turns failures into a validation error.
func Validate(v any) error {
	err := validate.Struct(v)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return apperr.Wrap(err, apperr.Internal, "validation could not run")
	}
	fields := make([]apperr.FieldError, 0, len(verrs))
	for _, fe := range verrs {
		fields = append(fields, apperr.FieldError{Field: fieldPath(fe), Message: message(fe)})
	}
	return apperr.Validation(fields...)
}

// fieldPath drops the top struct's name, and those of embedded structs: "req.address.ward" ->
// "address.ward".
func fieldPath(fe validator.FieldError) string {
	ns := strings.ReplaceAll(fe.Namespace(), embedded+".", "")
	if _, rest, ok := strings.Cut(ns, "."); ok {
		return rest
	}
	return fe.Field()
}

func message(fe validator.FieldError) string {
	tag, _, _ := strings.Cut(fe.Tag(), "|") // "a|b" rules read as their first alternative
	switch tag {
	case "required":
		return "is required"
	case "email":
		return "must be an email address"
	case "min":
		if fe.Kind() == reflect.String {
			return "must be at least " + fe.Param() + " characters"
		}
		return "must be at least " + fe.Param()
	case "max":
		if fe.Kind() == reflect.String {
			return "must be at most " + fe.Param() + " characters"
		}
		return "must be at most " + fe.Param()
	case "oneof":
		return "must be one of: " + fe.Param()
	case "phone":
		return "must be a phone number such as +84901234567 or 0901234567"
	case "numeric":
		return "must contain digits only"
	case "e164":
		return "must be a phone number in international format, e.g. +84901234567"
	case "latitude":
		return "must be a latitude between -90 and 90"
	case "longitude":
		return "must be a longitude between -180 and 180"
	case "uuid", "uuid4":
		return "must be a UUID"
	case "gt", "gte", "lt", "lte":
		return "must be " + map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[tag] + " " + fe.Param()
	case "len":
		return "must have length " + fe.Param()
	case "iso3166_1_alpha2":
		return "must be a two-letter country code such as VN"
	default:
		return "is invalid (" + tag + ")"
	}
}
