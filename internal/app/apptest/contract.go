package apptest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/goshop/goshop/internal/app"
)

// Contract checks every request a test sends and every answer the app gives against the
// OpenAPI document the app serves, so that a field, a status or a problem code that drifts
// from the document fails the test that saw it:
//   - every answer must be one the document lists for the operation (status, media type,
//     schema, and for problems the `code`);
//   - a request the document refuses (a wrong type, a missing field, no token) must be refused
//     by the app with a 4xx: a server that accepts what its document forbids has drifted.
//
// WebSocket upgrades and paths outside /api/v1 are let through unchecked.
type Contract struct {
	v      validator.Validator
	router chi.Routes
}

var (
	contractsMu sync.Mutex
	contracts   = map[[32]byte]*Contract{}
)

// ContractOf returns the checker of a's document; apps with the same document share one, since
// building it costs more than most tests.
func ContractOf(t testing.TB, a *app.App) *Contract {
	t.Helper()
	doc, err := a.OpenAPI()
	if err != nil {
		t.Fatalf("contract: build the document: %v", err)
	}
	sum := sha256.Sum256(doc)
	contractsMu.Lock()
	defer contractsMu.Unlock()
	if c, ok := contracts[sum]; ok {
		return &Contract{v: c.v, router: a.Router}
	}
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		t.Fatalf("contract: read the document: %v", err)
	}
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("contract: validator: %v", errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		t.Fatalf("contract: the document is not valid OpenAPI 3.1: %s", describe(errs))
	}
	c := &Contract{v: v, router: a.Router}
	contracts[sum] = c
	return c
}

// Wrap returns next behind the checker; failures are reported on t.
func (c *Contract) Wrap(t testing.TB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") || strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
			!c.router.Match(chi.NewRouteContext(), r.Method, r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			// Over the body limit: the app never sees more than the limit either.
			next.ServeHTTP(w, r)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		check := r.Clone(r.Context())
		check.Body = io.NopCloser(bytes.NewReader(body))
		reqOK, reqErrs := c.v.ValidateHttpRequestSync(check)

		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())

		res := rec.Result()
		res.Request = check
		check.Body = io.NopCloser(bytes.NewReader(body))
		name := r.Method + " " + r.URL.RequestURI()
		if !reqOK && (rec.Code < 400 || rec.Code >= 500) {
			t.Errorf("contract: the document refuses %s (%s), but the app answered %d: %s",
				name, describe(reqErrs), rec.Code, clip(rec.Body.Bytes()))
		}
		if ok, errs := c.v.ValidateHttpResponse(check, res); !ok {
			t.Errorf("contract: the answer %d to %s is not one the document gives: %s\nbody: %s",
				rec.Code, name, describe(errs), clip(rec.Body.Bytes()))
		}
	})
}

func describe(errs []*verrors.ValidationError) string {
	var parts []string
	for _, e := range errs {
		s := e.Message
		if e.Reason != "" && e.Reason != e.Message {
			s += " (" + e.Reason + ")"
		}
		for _, f := range e.SchemaValidationErrors {
			s += fmt.Sprintf("; %s at %s", f.Reason, f.FieldPath)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	if json.Valid(b) || len(b) == 0 {
		return string(b)
	}
	return fmt.Sprintf("%q", b)
}
