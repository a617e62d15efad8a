package httpx

import "net/http"

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
