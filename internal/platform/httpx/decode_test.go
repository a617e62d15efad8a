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
