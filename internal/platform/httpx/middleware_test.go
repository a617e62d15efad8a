package httpx

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// TestObserveLogsRecordsAndBoundsOnce: one request through Observe gets a deadline, a logger
// that a failure is logged through, one access line naming its route and status, and one call
// of each recorder with the same status.
func TestObserveLogsRecordsAndBoundsOnce(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	type seen struct {
		route  string
		status int
	}
	var recorded []seen
	r := chi.NewRouter()
	r.Use(Observe(log, time.Minute, func(r *http.Request, status int, _ time.Duration) {
		recorded = append(recorded, seen{RoutePattern(r), status})
	}))
	r.Get("/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		deadline, ok := r.Context().Deadline()
		assert.True(t, ok, "the request has no deadline")
		assert.WithinDuration(t, time.Now().Add(time.Minute), deadline, 5*time.Second)
		Error(w, r, apperr.New(apperr.Internal, "boom"))
	})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/things/42", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, []seen{{"/things/{id}", http.StatusInternalServerError}}, recorded)

	var access map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m))
		if m["msg"] == "http request" {
			require.Nil(t, access, "two access lines")
			access = m
		}
	}
	require.NotNil(t, access, "no access line in %s", buf.String())
	assert.Equal(t, "/things/{id}", access["route"])
	assert.EqualValues(t, http.StatusInternalServerError, access["status"])
	assert.Equal(t, "ERROR", access["level"])
	assert.Greater(t, bytes.Count(buf.Bytes(), []byte("\n")), 1, "the failure itself was not logged through the handed logger")
}
