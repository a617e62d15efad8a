package apptest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/httpx"
)

// Sampler writes the smallest request a route's declared types accept: every field its
// `validate` rules require, with values that keep those rules (lengths, bounds, enums, formats),
// and the fixture's IDs in fields named after a kind of resource (order_id, shop_id ...). The
// suites that walk the router use it so that a request is refused for who sends it, not for
// what it says.
type Sampler struct {
	// IDOf returns the ID to put in a field named name (its JSON name, "order_id"), and false
	// when the fixture has none of that kind.
	IDOf func(name string) (string, bool)
	// Now is the first time a time field gets; later time fields get later times, so that a
	// start comes before an end.
	Now time.Time
	seq int
	// Full samples every field, not only those the rules require: the richest request rather
	// than the smallest (the fuzz suite mutates it).
	Full bool
	// Missing lists the ID fields IDOf could not fill.
	Missing []string
}

var (
	timeType = reflect.TypeFor[time.Time]()
	uuidType = reflect.TypeFor[uuid.UUID]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// Body returns the sample of a JSON body of type t, and an error when the sample does not pass
// t's own validation (a rule the sampler cannot meet: the route then needs an override).
func (s *Sampler) Body(t reflect.Type) (any, error) {
	v := s.value(t, "", "")
	b, err := json.Marshal(v)
	if err != nil {
		return v, err
	}
	dst := reflect.New(deref(t))
	if err := json.Unmarshal(b, dst.Interface()); err != nil {
		return v, fmt.Errorf("the sample %s does not decode into %v: %w", b, t, err)
	}
	if err := httpx.Validate(dst.Interface()); err != nil {
		return v, fmt.Errorf("the sample %s breaks %v's rules: %w", b, t, err)
	}
	return v, nil
}

// Query returns the required query parameters of a query type (its `query` tags), sampled as
// Body samples fields.
func (s *Sampler) Query(t reflect.Type) url.Values {
	out := url.Values{}
	for _, f := range reflect.VisibleFields(deref(t)) {
		name := f.Tag.Get("query")
		rules := f.Tag.Get("validate")
		if name == "" || name == "-" || !f.IsExported() || !(s.Full || hasRule(rules, "required") || s.knownID(f.Type, name, rules)) {
			continue
		}
		v := s.value(f.Type, name, rules)
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				out.Add(name, fmt.Sprint(e))
			}
		default:
			out.Set(name, fmt.Sprint(x))
		}
	}
	return out
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func hasRule(rules, name string) bool {
	for _, r := range strings.Split(rules, ",") {
		if r == name || strings.HasPrefix(r, name+"=") {
			return true
		}
	}
	return false
}

// rule returns the parameter of a rule (min=3 -> "3", true).
func rule(rules, name string) (string, bool) {
	for _, r := range strings.Split(rules, ",") {
		if k, v, ok := strings.Cut(r, "="); ok && k == name {
			return v, true
		}
		if r == name {
			return "", true
		}
	}
	return "", false
}

func ruleInt(rules, name string) (int64, bool) {
	p, ok := rule(rules, name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseFloat(p, 64)
	return int64(n), err == nil
}

// included says whether a field goes into the smallest valid sample: a required one; one whose
// rules apply to its zero value too (no omitempty: `gt=0` on a price); a struct held by value
// (the validator checks its fields whether or not it is sent); and an ID field of a kind the
// world has, so that the request is about the world's resources (a shop_id the service
// requires of some callers only).
func (s *Sampler) included(f reflect.StructField, name, rules string) bool {
	if s.Full || hasRule(rules, "required") || hasRule(rules, "required_without") || hasRule(rules, "required_without_all") {
		return true
	}
	t := f.Type
	switch {
	case t.Kind() == reflect.Struct && t != timeType && t != uuidType:
		return true
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Map && t.Kind() != reflect.Interface && rules != "" && !hasRule(rules, "omitempty"):
		return true
	}
	return s.knownID(t, name, rules)
}

// knownID says whether a field holds IDs of a kind the world has.
func (s *Sampler) knownID(t reflect.Type, name, rules string) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if (t == uuidType || hasRule(rules, "uuid")) && s.IDOf != nil {
		_, ok := s.IDOf(singular(name))
		return ok
	}
	return false
}

// value samples a value of t for a field named name (its JSON name) under rules (those after
// `dive` apply to a slice's elements).
func (s *Sampler) value(t reflect.Type, name, rules string) any {
	own, elemRules, _ := strings.Cut(rules, ",dive")
	if strings.HasPrefix(rules, "dive") {
		own, elemRules = "", strings.TrimPrefix(rules, "dive")
	}
	elemRules = strings.TrimPrefix(elemRules, ",")
	t = deref(t)
	switch t {
	case timeType:
		s.seq++
		return s.Now.Add(time.Duration(s.seq) * time.Hour).UTC().Format(time.RFC3339)
	case uuidType:
		return s.id(name)
	case rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.String:
		return s.str(name, own)
	case reflect.Bool:
		return hasRule(own, "required") // required on a bool means true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return s.integer(name, own)
	case reflect.Float32, reflect.Float64:
		return s.float(name, own)
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "c2FtcGxl" // base64 of "sample"
		}
		n := int64(0)
		if s.Full || hasRule(own, "required") {
			n = 1
		}
		if m, ok := ruleInt(own, "min"); ok && m > n {
			n = m
		}
		if m, ok := ruleInt(own, "len"); ok {
			n = m
		}
		out := []any{}
		for range n {
			out = append(out, s.value(t.Elem(), singular(name), elemRules))
		}
		return out
	case reflect.Map:
		out := map[string]any{}
		if s.Full || hasRule(own, "required") || hasRule(own, "min") {
			out["sample"] = s.value(t.Elem(), name, elemRules)
		}
		return out
	case reflect.Struct:
		return s.object(t)
	case reflect.Interface:
		return "sample"
	}
	return nil
}

func (s *Sampler) object(t reflect.Type) map[string]any {
	out := map[string]any{}
	for i := range t.NumField() {
		f := t.Field(i)
		jname, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if jname == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && jname == "" && deref(f.Type).Kind() == reflect.Struct {
			for k, v := range s.object(deref(f.Type)) {
				out[k] = v
			}
			continue
		}
		if jname == "" {
			jname = f.Name
		}
		rules := f.Tag.Get("validate")
		if !s.included(f, jname, rules) {
			continue
		}
		out[jname] = s.value(f.Type, jname, rules)
	}
	return out
}

// singular names a slice's element after the slice ("product_ids" -> "product_id").
func singular(name string) string {
	switch {
	case strings.HasSuffix(name, "_ids"):
		return strings.TrimSuffix(name, "s")
	case strings.HasSuffix(name, "ies"):
		return strings.TrimSuffix(name, "ies") + "y"
	case strings.HasSuffix(name, "s"):
		return strings.TrimSuffix(name, "s")
	}
	return name
}

func (s *Sampler) id(name string) string {
	if s.IDOf != nil {
		if id, ok := s.IDOf(name); ok {
			return id
		}
	}
	s.Missing = append(s.Missing, name)
	return uuid.NewString()
}

// byName are sample texts for fields whose name says what they hold.
var byName = map[string]string{
	"password": "correct horse battery", "new_password": "correct horse battery 2",
	"current_password": "not the password", "province": "Hồ Chí Minh", "district": "Quận 1", "ward": "Bến Nghé", "line1": "12 Nguyễn Huệ", "street": "12 Nguyễn Huệ",
	"city": "Hồ Chí Minh", "country": "VN", "currency": "VND", "recipient_name": "Người Nhận", "full_name": "Người Dùng",
	"vehicle_plate": "59X1-23456", "service_area": "Hồ Chí Minh", "reason": "checking who may do this",
	"phone": "0901234567", "location": "Quận 1, Hồ Chí Minh",
}

func (s *Sampler) str(name, rules string) string {
	if p, ok := rule(rules, "oneof"); ok {
		return strings.Fields(p)[0]
	}
	if hasRule(rules, "uuid") || hasRule(rules, "uuid4") {
		return s.id(name)
	}
	if layout, ok := rule(rules, "datetime"); ok {
		return s.Now.Format(layout)
	}
	n := func(def int64) int64 {
		if l, ok := ruleInt(rules, "len"); ok {
			return l
		}
		if m, ok := ruleInt(rules, "min"); ok && m > def {
			return m
		}
		if m, ok := ruleInt(rules, "max"); ok && m < def {
			return m
		}
		return def
	}
	s.seq++
	switch {
	case hasRule(rules, "email"):
		return fmt.Sprintf("sample-%d-%s@example.com", s.seq, uuid.NewString()[:8])
	case hasRule(rules, "phone"), hasRule(rules, "phone|len"):
		return "0901234567"
	case hasRule(rules, "e164"):
		return "+84901234567"
	case hasRule(rules, "numeric"):
		return strings.Repeat("7", int(n(9)))
	case hasRule(rules, "url"), hasRule(rules, "http_url"):
		return "https://example.com/sample"
	case hasRule(rules, "iso3166_1_alpha2"):
		return "VN"
	case hasRule(rules, "iso4217"):
		return "VND"
	case hasRule(rules, "credit_card"):
		return "4242424242424242"
	}
	text, ok := byName[name]
	if name == "code" { // voucher codes: letters and digits, unique
		text, ok = fmt.Sprintf("SAMPLE%d%s", s.seq, strings.ToUpper(uuid.NewString()[:4])), true
	}
	if !ok {
		text = fmt.Sprintf("Sample %s %d", strings.ReplaceAll(name, "_", " "), s.seq)
	}
	want := n(int64(utf8.RuneCountInString(text)))
	for int64(utf8.RuneCountInString(text)) < want {
		text += "x"
	}
	if r := []rune(text); int64(len(r)) > want {
		text = strings.TrimSpace(string(r[:want]))
		for int64(utf8.RuneCountInString(text)) < want {
			text += "x"
		}
	}
	return text
}

func (s *Sampler) integer(name, rules string) int64 {
	if p, ok := rule(rules, "oneof"); ok {
		n, _ := strconv.ParseInt(strings.Fields(p)[0], 10, 64)
		return n
	}
	v := int64(1)
	switch {
	case strings.Contains(name, "sale"), strings.Contains(name, "campaign"), strings.Contains(name, "discount"):
		v = 100 // below any list price a sample sets
	case strings.Contains(name, "price"), strings.Contains(name, "amount"):
		v = 1000
	case name == "value", strings.Contains(name, "percent"):
		v = 10 // a percentage or an amount
	case strings.Contains(name, "weight"), strings.Contains(name, "grams"):
		v = 500
	case strings.Contains(name, "stock"):
		v = 10
	case strings.Contains(name, "year"):
		v = int64(s.Now.Year() + 2)
	}
	return clamp(float64(v), rules, true).(int64)
}

func (s *Sampler) float(name, rules string) float64 {
	switch {
	case hasRule(rules, "latitude") || name == "lat" || strings.HasSuffix(name, "_lat") || name == "latitude":
		return 10.7769
	case hasRule(rules, "longitude") || name == "lng" || strings.HasSuffix(name, "_lng") || name == "longitude":
		return 106.7009
	}
	return clamp(1, rules, false).(float64)
}

// clamp moves v inside the bounds the rules set.
func clamp(v float64, rules string, integer bool) any {
	lo, hi := -1e18, 1e18
	for _, r := range strings.Split(rules, ",") {
		k, p, _ := strings.Cut(r, "=")
		n, err := strconv.ParseFloat(p, 64)
		if err != nil {
			continue
		}
		step := 1e-6
		if integer {
			step = 1
		}
		switch k {
		case "min", "gte":
			lo = max(lo, n)
		case "gt":
			lo = max(lo, n+step)
		case "max", "lte":
			hi = min(hi, n)
		case "lt":
			hi = min(hi, n-step)
		case "len":
			lo, hi = n, n
		}
	}
	v = min(max(v, lo), hi)
	if integer {
		return int64(v)
	}
	return v
}
