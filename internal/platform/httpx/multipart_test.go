package httpx

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type uploadForm struct {
	Alt      string `form:"alt" validate:"max=5"`
	Position *int   `form:"position"`
}

type uploaded struct {
	Alt   string `json:"alt"`
	Pos   int    `json:"pos"`
	Bytes int    `json:"bytes"`
	Name  string `json:"name"`
}

// An upload route's body may exceed the server's body limit up to the route's own, past which
// reading it fails with 413; the fields come before the file and are validated; a field after
// the file, or a body that is not multipart, is refused.
func TestMultipartLiftsTheBodyLimitToTheRoutes(t *testing.T) {
	t.Parallel()
	r := chi.NewRouter()
	r.Use(BodyLimit(1000))
	r.Method(http.MethodPost, "/things/{id}/files", Multipart(http.StatusCreated, "id", "thing", 5000,
		func(r *http.Request, _ uuid.UUID, body *MultipartBody[uploadForm]) (uploaded, error) {
			f, file, name, err := body.Read()
			if err != nil {
				return uploaded{}, err
			}
			b, err := io.ReadAll(file)
			if err != nil {
				return uploaded{}, err
			}
			out := uploaded{Alt: f.Alt, Bytes: len(b), Name: name}
			if f.Position != nil {
				out.Pos = *f.Position
			}
			return out, nil
		}))
	send := func(size int, fields []string, after string) *httptest.ResponseRecorder {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for i := 0; i+1 < len(fields); i += 2 {
			require.NoError(t, w.WriteField(fields[i], fields[i+1]))
		}
		fw, _ := w.CreateFormFile("file", "a.bin")
		_, _ = fw.Write(bytes.Repeat([]byte("x"), size))
		if after != "" {
			require.NoError(t, w.WriteField(after, "late"))
		}
		require.NoError(t, w.Close())
		req := httptest.NewRequest(http.MethodPost, "/things/"+uuid.NewString()+"/files", &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec
	}
	rec := send(3000, []string{"alt", "hi", "position", "2"}, "")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"alt":"hi","pos":2,"bytes":3000,"name":"a.bin"}`, rec.Body.String())

	rec = send(6000, nil, "")
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, rec.Body.String())
	rec = send(10, []string{"alt", "too long"}, "")
	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `"field":"alt"`)
	rec = send(10, []string{"position", "two"}, "")
	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	rec = send(10, nil, "alt")
	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "last part")

	req := httptest.NewRequest(http.MethodPost, "/things/"+uuid.NewString()+"/files", strings.NewReader(`{"file":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())

	// Elsewhere, a multipart body is held to the server's limit as it is read.
	r.Method(http.MethodPost, "/json", WithBody(http.StatusOK, func(_ *http.Request, in map[string]any) (map[string]any, error) {
		return in, nil
	}))
	req = httptest.NewRequest(http.MethodPost, "/json", strings.NewReader(strings.Repeat("x", 2000)))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=zzz")
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, rec.Body.String())
}
