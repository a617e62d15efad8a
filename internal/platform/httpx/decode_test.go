package httpx

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/apperr"
)

type embeddedFields struct {
	Title string            `json:"title" validate:"required"`
	Attrs map[string]string `json:"attributes"`
}

type withEmbedded struct {
	embeddedFields
	Items []struct {
		Name string `json:"name" validate:"required"`
	} `json:"items" validate:"dive"`
}

// Fields of an embedded struct sit in the outer JSON object, and errors name them so.
func TestDecodeNamesEmbeddedFieldsAsSent(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"attributes":{}}`:                  "title",
		`{"title":"x","attributes":[1]}`:     "attributes",
		`{"title":5}`:                        "title",
		`{"title":"x","items":[{}]}`:         "items[0].name",
		`{"title":"x","items":[{"name":1}]}`: "items.name",
	} {
		var dst withEmbedded
		err := Decode(httptest.NewRequest("POST", "/", strings.NewReader(body)), &dst)
		var ae *apperr.Error
		require.ErrorAs(t, err, &ae, body)
		require.Len(t, ae.Fields, 1, body)
		assert.Equal(t, want, ae.Fields[0].Field, body)
	}
}

type titled struct {
	Title string `json:"title"`
}

type nullable struct {
	Name  string            `json:"name"`
	Count int               `json:"count"`
	Inner titled            `json:"inner"`
	Ptr   *string           `json:"ptr"`
	List  []string          `json:"list"`
	Map   map[string]string `json:"map"`
	Deep  []titled          `json:"deep"`
}

// A null where the type has none is refused, naming the field, rather than read as the zero
// value: the document says the field is a string, a number or an object.
func TestDecodeRefusesNullWhereTheTypeHasNone(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"name":null}`:                             "name",
		`{"NAME":null}`:                             "name",
		`{"count":null}`:                            "count",
		`{"inner":null}`:                            "inner",
		`{"inner":{"title":null}}`:                  "inner.title",
		`{"deep":[{"title":"x"},{"title":null}]}`:   "deep[1].title",
		`{"map":{"k":null}}`:                        "map.k",
		`{"ptr":null,"list":null,"map":null,"x":1}`: "",
		`{"unknown":null}`:                          "",
	} {
		var dst nullable
		err := Decode(httptest.NewRequest("POST", "/", strings.NewReader(body)), &dst)
		if want == "" {
			assert.NoError(t, err, body)
			continue
		}
		var ae *apperr.Error
		require.ErrorAs(t, err, &ae, body)
		require.Len(t, ae.Fields, 1, body)
		assert.Equal(t, want, ae.Fields[0].Field, body)
	}
	var dst nullable
	err := Decode(httptest.NewRequest("POST", "/", strings.NewReader("null")), &dst)
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, apperr.BadRequest, ae.Code, "a body that is not an object")
}
