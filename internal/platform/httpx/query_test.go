package httpx

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/apperr"
)

type nulBody struct {
	Title string            `json:"title"`
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attributes"`
	Extra json.RawMessage   `json:"extra"`
	Inner *struct {
		Note string `json:"note"`
	} `json:"inner"`
}

// PostgreSQL stores no NUL in text or jsonb: Decode refuses one wherever it sits, naming the field.
func TestDecodeRefusesNUL(t *testing.T) {
	t.Parallel()
	for body, field := range map[string]string{
		`{"title":"a\u0000b"}`:                  "title",
		`{"tags":["ok","\u0000"]}`:              "tags[1]",
		`{"attributes":{"k":"v\u0000"}}`:        "attributes.k",
		`{"attributes":{"k\u0000":"v"}}`:        "attributes",
		`{"extra":{"x":"\u0000"}}`:              "extra",
		`{"inner":{"note":"\u0000"}}`:           "inner.note",
		`{"title":"ok","extra":["\\u0000 ok"]}`: "",
	} {
		var dst nulBody
		err := Decode(httptest.NewRequest("POST", "/", strings.NewReader(body)), &dst)
		if field == "" {
			assert.NoError(t, err, body)
			continue
		}
		var ae *apperr.Error
		require.ErrorAs(t, err, &ae, body)
		assert.Equal(t, apperr.Invalid, ae.Code, body)
		require.Len(t, ae.Fields, 1, body)
		assert.Equal(t, field, ae.Fields[0].Field, body)
	}
}

type listQuery struct {
	PageQuery
	Shop  *uuid.UUID `query:"shop"`
	Min   *int64     `query:"min_price" validate:"omitempty,min=0"`
	Stock *bool      `query:"in_stock"`
	Sort  string     `query:"sort" validate:"omitempty,oneof=newest price_asc"`
}

func serveOp(op *Op, target string) *httptest.ResponseRecorder {
	r := chi.NewRouter()
	r.Method(http.MethodGet, "/things/{name}", op)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func problemOf(t *testing.T, rec *httptest.ResponseRecorder) Problem {
	t.Helper()
	var p Problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p), rec.Body.String())
	return p
}

// QueryOf reads a declared query struct, naming what does not parse or breaks a rule.
func TestQueryOf(t *testing.T) {
	t.Parallel()
	var got listQuery
	op := Endpoint(http.StatusOK, func(r *http.Request) (Empty, error) {
		q, err := QueryOf[listQuery](r)
		got = q
		return Empty{}, err
	}).Params(listQuery{})

	rec := serveOp(op, "/things/x?shop=7f9c0d3e-55a3-4c1e-9d0e-1a2b3c4d5e6f&min_price=5&in_stock=true&sort=newest&limit=7&cursor=c&other=1")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, int64(5), *got.Min)
	assert.True(t, *got.Stock)
	assert.Equal(t, Page{Limit: 7, Cursor: "c"}, got.Page())
	rec = serveOp(op, "/things/x")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, DefaultLimit, got.Page().Limit)

	for target, field := range map[string]string{
		"/things/x?shop=nope":          "shop",
		"/things/x?min_price=abc":      "min_price",
		"/things/x?min_price=-1":       "min_price",
		"/things/x?in_stock=maybe":     "in_stock",
		"/things/x?sort=cheapest":      "sort",
		"/things/x?limit=0":            "limit",
		"/things/x?limit=101":          "limit",
		"/things/x?sort=new%00est":     "sort",
		"/things/x?brand=%FF":          "brand",
		"/things/bad%00name?sort=":     "name",
		"/things/x?cursor=" + "%00abc": "cursor",
	} {
		rec := serveOp(op, target)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code, target)
		p := problemOf(t, rec)
		require.NotEmpty(t, p.Errors, target)
		assert.Equal(t, field, p.Errors[0].Field, target)
	}
}

type pointQuery struct {
	Lat  *float64 `query:"lat" validate:"required,latitude"`
	Min  *int64   `query:"min"`
	Name *string  `query:"name"`
	Tags []string `query:"tag"`
}

// An empty value is no number: ?lat= is refused as the document refuses it, not read as
// latitude 0; an empty text is text.
func TestEmptyQueryValueIsNoNumber(t *testing.T) {
	t.Parallel()
	var got pointQuery
	op := Endpoint(http.StatusOK, func(r *http.Request) (Empty, error) {
		q, err := QueryOf[pointQuery](r)
		got = q
		return Empty{}, err
	}).Params(pointQuery{})
	for target, field := range map[string]string{"/things/x?lat=": "lat", "/things/x?lat=1&min=": "min"} {
		rec := serveOp(op, target)
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
		assert.Equal(t, field, problemOf(t, rec).Errors[0].Field, target)
	}
	rec := serveOp(op, "/things/x?lat=10.5&name=&tag=&tag=a")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "", *got.Name)
	assert.Equal(t, []string{"a"}, got.Tags)
}

// A handler that reads a query or a body its route does not declare fails loudly: the document
// would miss what it reads.
func TestUndeclaredReadsFail(t *testing.T) {
	t.Parallel()
	op := Endpoint(http.StatusOK, func(r *http.Request) (Empty, error) {
		_, err := PageOf(r)
		return Empty{}, err
	})
	rec := serveOp(op, "/things/x?limit=5")
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, http.StatusOK, serveOp(op.Paged(), "/things/x?limit=5").Code)

	body := Endpoint(http.StatusOK, func(r *http.Request) (Empty, error) {
		var in nulBody
		return Empty{}, DecodeOptional(r, &in)
	})
	assert.Equal(t, http.StatusInternalServerError, serveOp(body, "/things/x").Code)
}

type patternQuery struct {
	Q    string            `query:"q"`
	Attr map[string]string `query:"attr.*" validate:"max=2,dive,keys,min=1,endkeys,max=3"`
}

// A `query:"attr.*"` map takes every attr.<name> parameter, name after the prefix, and a rule
// broken by one names it as the client spelt it.
func TestQueryOfPattern(t *testing.T) {
	t.Parallel()
	var got patternQuery
	op := Endpoint(http.StatusOK, func(r *http.Request) (Empty, error) {
		var err error
		got, err = QueryOf[patternQuery](r)
		return Empty{}, err
	}).Params(patternQuery{})
	rec := serveOp(op, "/things/x?q=a&attr.color=red&attr.s%C3%A0n=g%E1%BB%97&attr.color=blue")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, patternQuery{Q: "a", Attr: map[string]string{"color": "red", "sàn": "gỗ"}}, got)

	rec = serveOp(op, "/things/x?attr.color=toolong")
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	p := problemOf(t, rec)
	require.Len(t, p.Errors, 1, rec.Body.String())
	assert.Equal(t, "attr.color", p.Errors[0].Field)

	rec = serveOp(op, "/things/x?attr.a=1&attr.b=2&attr.c=3")
	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
}
