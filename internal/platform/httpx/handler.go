package httpx

import (
	"net/http"

	"github.com/google/uuid"
)

// Empty is the result of an action that answers no body (204).
type Empty struct{}

// Endpoint adapts fn to a handler: its result is written with status, its error as a problem.
// Handlers stay one line of parsing and one call into the context's service.
func Endpoint[Out any](status int, fn func(r *http.Request) (Out, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		out, err := fn(r)
		if err != nil {
			Error(w, r, err)
			return
		}
		write(w, status, out)
	}
}

// WithBody is Endpoint for routes with a JSON body: the body is decoded and validated into In
// before fn runs.
func WithBody[In, Out any](status int, fn func(r *http.Request, in In) (Out, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in In
		if err := Decode(r, &in); err != nil {
			Error(w, r, err)
			return
		}
		out, err := fn(r, in)
		if err != nil {
			Error(w, r, err)
			return
		}
		write(w, status, out)
	}
}

func write(w http.ResponseWriter, status int, out any) {
	if status == http.StatusNoContent {
		NoContent(w)
		return
	}
	JSON(w, status, out)
}

// WithID is Endpoint for a route on one resource: the path parameter param must be a UUID
// (anything else is a 404 for kind) and is handed to fn parsed.
func WithID[Out any](status int, param, kind string, fn func(r *http.Request, id uuid.UUID) (Out, error)) http.HandlerFunc {
	return Endpoint(status, func(r *http.Request) (Out, error) {
		id, err := UUIDParam(r, param, kind)
		if err != nil {
			var zero Out
			return zero, err
		}
		return fn(r, id)
	})
}

// WithIDBody is WithID for routes with a JSON body, decoded and validated as WithBody does.
func WithIDBody[In, Out any](status int, param, kind string, fn func(r *http.Request, id uuid.UUID, in In) (Out, error)) http.HandlerFunc {
	return WithBody(status, func(r *http.Request, in In) (Out, error) {
		id, err := UUIDParam(r, param, kind)
		if err != nil {
			var zero Out
			return zero, err
		}
		return fn(r, id, in)
	})
}
