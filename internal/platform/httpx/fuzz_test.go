package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// The fuzz targets below run their seed corpora (testdata/fuzz/<target>) as ordinary tests, and
// search further with `go test -fuzz=FuzzDecode ./internal/platform/httpx` (one target at a
// time). Each asserts what the one decoding place promises every handler: it never panics, it
// refuses only with an *apperr.Error whose status is 4xx, and whatever it accepts holds no text
// PostgreSQL cannot store (a NUL, or bytes that are not UTF-8).

type fuzzAddress struct {
	Line1 string `json:"line1" validate:"required,max=200"`
	Ward  string `json:"ward" validate:"max=100"`
}

type fuzzItem struct {
	ID   uuid.UUID `json:"id" validate:"required"`
	Qty  int32     `json:"qty" validate:"required,gte=1,lte=999"`
	Note *string   `json:"note" validate:"omitempty,max=50"`
}

type fuzzEmbedded struct {
	Title string `json:"title" validate:"required,max=120"`
}

// fuzzBody is shaped like the bodies handlers take: an embedded struct, nested structs by value
// and by pointer, slices with rules on their elements, maps, raw JSON, times and numbers.
type fuzzBody struct {
	fuzzEmbedded
	Email   string                   `json:"email" validate:"omitempty,email,max=254"`
	Price   int64                    `json:"price" validate:"gte=0"`
	Lat     *float64                 `json:"lat" validate:"omitempty,latitude"`
	When    *time.Time               `json:"when"`
	Kind    string                   `json:"kind" validate:"omitempty,oneof=a b"`
	Tags    []string                 `json:"tags" validate:"max=10,dive,max=20"`
	Items   []fuzzItem               `json:"items" validate:"max=5,dive"`
	Address *fuzzAddress             `json:"address"`
	Billing fuzzAddress              `json:"billing"`
	Attrs   map[string]string        `json:"attrs"`
	Groups  map[string][]fuzzAddress `json:"groups"`
	Extra   json.RawMessage          `json:"extra"`
	Flag    bool                     `json:"flag"`
}

// refusal checks that err is an application error with a 4xx status, whose field names are
// text a problem document can carry.
func refusal(t *testing.T, err error) {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("refused with %T %v, not an *apperr.Error", err, err)
	}
	if st := StatusOf(ae.Code); st < 400 || st > 499 {
		t.Fatalf("refused with %s (%d), not a 4xx: %v", ae.Code, st, err)
	}
	for _, f := range ae.Fields {
		if !StorableText(f.Field) || !StorableText(f.Message) {
			t.Fatalf("a field error names %q: %q", f.Field, f.Message)
		}
	}
}

// unstorableIn returns the path of a string (or map key, or string inside raw JSON) in v that
// PostgreSQL could not store, or "".
func unstorableIn(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return unstorableIn(v.Elem(), path)
		}
	case reflect.String:
		if !StorableText(v.String()) {
			return path
		}
	case reflect.Slice, reflect.Array:
		if v.Type() == rawMessageType && v.Len() > 0 {
			var any any
			if err := json.Unmarshal(v.Bytes(), &any); err != nil {
				return path + " (raw JSON that does not parse)"
			}
			return unstorableIn(reflect.ValueOf(&any), path)
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return ""
		}
		for i := range v.Len() {
			if p := unstorableIn(v.Index(i), path+"[]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if k := iter.Key(); k.Kind() == reflect.String && !StorableText(k.String()) {
				return path + "{key}"
			}
			if p := unstorableIn(iter.Value(), path+"."+iter.Key().String()); p != "" {
				return p
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() || v.Type().Field(i).Anonymous {
				if p := unstorableIn(v.Field(i), path+"."+v.Type().Field(i).Name); p != "" {
					return p
				}
			}
		}
	}
	return ""
}

func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		decode := func() (fuzzBody, error) {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 4096)
			var dst fuzzBody
			return dst, Decode(r, &dst)
		}
		dst, err := decode()
		if err != nil {
			refusal(t, err)
			if _, again := decode(); again == nil || again.Error() != err.Error() {
				t.Fatalf("the same body decoded twice: %v, then %v", err, again)
			}
			return
		}
		if len(body) > 4096 {
			t.Fatalf("a body of %d bytes accepted over a limit of 4096", len(body))
		}
		if p := unstorableIn(reflect.ValueOf(dst), "body"); p != "" {
			t.Fatalf("accepted text PostgreSQL cannot store at %s: %q", p, body)
		}
		if err := Validate(&dst); err != nil {
			t.Fatalf("accepted a body that breaks its rules: %v", err)
		}
		if dst.Title == "" || utf8.RuneCountInString(dst.Title) > 120 {
			t.Fatalf("accepted title %q", dst.Title)
		}
	})
}

type fuzzQuery struct {
	PageQuery
	Q       string     `query:"q" validate:"max=100"`
	Min     *int64     `query:"min_price" validate:"omitempty,gte=0"`
	Shop    *uuid.UUID `query:"shop_id"`
	InStock *bool      `query:"in_stock"`
	Sort    string     `query:"sort" validate:"omitempty,oneof=newest price_asc"`
	Tags    []string   `query:"tag" validate:"max=5,dive,max=20"`
	Lat     *float64   `query:"lat" validate:"omitempty,latitude"`
	Since   *time.Time `query:"since"`
}

// FuzzQueryOf sends a path value and a raw query string through an Op that reads fuzzQuery, as
// a route of the router would be called.
func FuzzQueryOf(f *testing.F) {
	f.Fuzz(func(t *testing.T, segment, rawQuery string) {
		var got *fuzzQuery
		op := Endpoint(http.StatusOK, func(r *http.Request) (Empty, error) {
			q, err := QueryOf[fuzzQuery](r)
			if err == nil {
				got = &q
			} else {
				refusal(t, err)
			}
			return Empty{}, err
		}).Params(fuzzQuery{})
		router := chi.NewRouter()
		router.Method(http.MethodGet, "/things/{name}", op)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path = "/things/" + strings.ReplaceAll(segment, "/", "_")
		r.URL.RawPath = ""
		r.URL.RawQuery = rawQuery
		rec := httptest.NewRecorder()
		router.ServeHTTP(rec, r)
		switch {
		case rec.Code == http.StatusNotFound && got == nil:
			return // the path did not match the route (chi's own 404, an empty segment)
		case rec.Code >= 500:
			t.Fatalf("answered %d to %q ? %q: %s", rec.Code, segment, rawQuery, rec.Body)
		case rec.Code != http.StatusOK:
			if got != nil {
				t.Fatalf("answered %d but the query was read", rec.Code)
			}
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || StatusOf(p.Code) != rec.Code {
				t.Fatalf("answered %d with %s, not its problem", rec.Code, rec.Body)
			}
			return
		}
		if got == nil {
			t.Fatalf("answered 200 without reading the query")
		}
		if !StorableText(segment) {
			t.Fatalf("accepted the path value %q", segment)
		}
		if p := unstorableIn(reflect.ValueOf(got), "query"); p != "" {
			t.Fatalf("accepted text PostgreSQL cannot store at %s: %q", p, rawQuery)
		}
		// An empty value is no number, flag, UUID or time (it would read as the zero value).
		values, _ := url.ParseQuery(rawQuery)
		for _, name := range []string{"min_price", "shop_id", "in_stock", "lat", "since", "limit"} {
			if slices.Contains(values[name], "") {
				t.Fatalf("accepted an empty ?%s in %q", name, rawQuery)
			}
		}
		if page := got.Page(); page.Limit < 1 || page.Limit > MaxLimit {
			t.Fatalf("accepted a page of %d", page.Limit)
		}
		if err := Validate(got); err != nil {
			t.Fatalf("accepted a query that breaks its rules: %v", err)
		}
	})
}

// fuzzCursor is a list position with text in it, as a list ordered by name keeps.
type fuzzCursor struct {
	Name string    `json:"n"`
	At   time.Time `json:"t"`
	ID   uuid.UUID `json:"i"`
}

func FuzzDecodeCursor(f *testing.F) {
	f.Fuzz(func(t *testing.T, cursor string) {
		var pos fuzzCursor
		ok, err := DecodeCursor(cursor, &pos)
		switch {
		case err != nil:
			refusal(t, err)
			if ok {
				t.Fatal("an error and a position")
			}
			return
		case cursor == "" && ok, cursor != "" && !ok:
			t.Fatalf("cursor %q: ok=%v", cursor, ok)
		case !ok:
			return
		}
		if !StorableText(pos.Name) {
			t.Fatalf("accepted a cursor holding %q", pos.Name)
		}
		var again fuzzCursor
		if ok, err := DecodeCursor(EncodeCursor(pos), &again); !ok || err != nil || again.Name != pos.Name ||
			!again.At.Equal(pos.At) || again.ID != pos.ID {
			t.Fatalf("%+v does not survive its own cursor: %+v %v", pos, again, err)
		}
		var keyset Keyset
		if _, err := DecodeCursor(cursor, &keyset); err != nil {
			refusal(t, err)
		}
	})
}
