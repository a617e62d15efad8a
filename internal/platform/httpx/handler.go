package httpx

import (
	"net/http"
	"reflect"

	"github.com/google/uuid"
)

// Empty is the result of an action that answers no body (204).
type Empty struct{}

// Op is a typed route handler: it serves requests and can say what it takes and answers, so that
// the OpenAPI document is read off the router instead of written by hand. Mount it with
// r.Method (chi's r.Get and friends take only plain functions).
type Op struct {
	serve http.HandlerFunc
	// Status is the success status.
	Status int
	// In is the JSON body's type (nil without one); Out the answer's.
	In, Out reflect.Type
	// IDs names the path parameters parsed as UUIDs, with the kind of resource they name.
	IDs map[string]string
}

// ServeHTTP implements http.Handler.
func (o *Op) ServeHTTP(w http.ResponseWriter, r *http.Request) { o.serve(w, r) }

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// Endpoint adapts fn to a handler: its result is written with status, its error as a problem.
// Handlers stay one line of parsing and one call into the context's service.
func Endpoint[Out any](status int, fn func(r *http.Request) (Out, error)) *Op {
	return &Op{Status: status, Out: typeOf[Out](), serve: func(w http.ResponseWriter, r *http.Request) {
		out, err := fn(r)
		if err != nil {
			Error(w, r, err)
			return
		}
		write(w, status, out)
	}}
}

// WithBody is Endpoint for routes with a JSON body: the body is decoded and validated into In
// before fn runs.
func WithBody[In, Out any](status int, fn func(r *http.Request, in In) (Out, error)) *Op {
	return &Op{Status: status, In: typeOf[In](), Out: typeOf[Out](), serve: func(w http.ResponseWriter, r *http.Request) {
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
	}}
}

// WithID is Endpoint for a route on one resource: the path parameter param must be a UUID
// (anything else is a 404 for kind) and is handed to fn parsed.
func WithID[Out any](status int, param, kind string, fn func(r *http.Request, id uuid.UUID) (Out, error)) *Op {
	op := Endpoint(status, func(r *http.Request) (Out, error) {
		id, err := UUIDParam(r, param, kind)
		if err != nil {
			var zero Out
			return zero, err
		}
		return fn(r, id)
	})
	op.IDs = map[string]string{param: kind}
	return op
}

// WithIDBody is WithID for routes with a JSON body, decoded and validated as WithBody does.
func WithIDBody[In, Out any](status int, param, kind string, fn func(r *http.Request, id uuid.UUID, in In) (Out, error)) *Op {
	op := WithBody(status, func(r *http.Request, in In) (Out, error) {
		id, err := UUIDParam(r, param, kind)
		if err != nil {
			var zero Out
			return zero, err
		}
		return fn(r, id, in)
	})
	op.IDs = map[string]string{param: kind}
	return op
}

// Documented wraps a hand-written handler (one that must write its own status, say) so that the
// OpenAPI document still knows its body and answer; In of Empty means no body.
func Documented[In, Out any](status int, h http.HandlerFunc) *Op {
	op := &Op{serve: h, Status: status, Out: typeOf[Out]()}
	if in := typeOf[In](); in != typeOf[Empty]() {
		op.In = in
	}
	return op
}

func write(w http.ResponseWriter, status int, out any) {
	if status == http.StatusNoContent {
		NoContent(w)
		return
	}
	JSON(w, status, out)
}
