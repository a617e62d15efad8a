package httpx

import (
	"context"
	"net/http"
	"reflect"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// Empty is the result of an action that answers no body (204).
type Empty struct{}

// Access says who may call a route. Every route declares one: the OpenAPI document shows it,
// and the authorization suite walks the router and calls each route as each kind of caller.
type Access string

// Who may call a route.
const (
	// Public routes need no token; one that is sent is checked.
	Public Access = "public"
	// Webhook routes are called by a payment provider and proven by its signature, not a token.
	Webhook Access = "webhook"
	// AnyUser routes serve any signed-in user about their own things (profile, cart, their lists).
	AnyUser Access = "user"
	// Owner routes act on one resource named in the path that belongs to the caller (their
	// order, address, payment ...); another user is refused with 403 or 404.
	Owner Access = "owner"
	// ShopOwner routes act on a shop, or on something of a shop, named in the path: its owner
	// (or an admin) may; another user is refused.
	ShopOwner Access = "shop_owner"
	// Shipper routes need the shipper role, and for a delivery, being its assigned shipper.
	Shipper Access = "shipper"
	// Admin routes need the admin role.
	Admin Access = "admin"
)

// Accesses lists every access level, in order of who may do more.
var Accesses = []Access{Public, Webhook, AnyUser, Owner, ShopOwner, Shipper, Admin}

// Op is a typed route handler: it serves requests and says what it takes and answers, who may
// call it and which problems it can answer, so that the OpenAPI document is read off the router
// instead of written by hand. Mount it with r.Method (chi's r.Get and friends take only plain
// functions). Declarations chain: httpx.Endpoint(...).Doc("...").For(httpx.Owner).
type Op struct {
	serve http.HandlerFunc
	// Status is the success status.
	Status int
	// In is the JSON body's type (nil without one); Out the answer's.
	In, Out reflect.Type
	// OptionalBody says the body may be left out.
	OptionalBody bool
	// RawBody says the body is not JSON read by Decode but bytes the handler reads itself
	// (a provider's signed notification).
	RawBody bool
	// Query is the type whose `query` tags name the query parameters the handler reads.
	Query reflect.Type
	// IDs names the path parameters parsed as UUIDs, with the kind of resource they name.
	IDs map[string]string
	// Summary is the one-line description of the operation.
	Summary string
	// Who says who may call the route ("" until declared).
	Who Access
	// Problems are the problem codes the route can answer beyond those every route of its
	// shape can (see openapi.Build).
	Problems []apperr.Code
	// Idempotent says the route honours an Idempotency-Key header.
	Idempotent bool
	// Headers are the other request headers the route reads, name to description.
	Headers map[string]string
	// Upgrade says the route upgrades to a WebSocket (101).
	Upgrade bool
	// Multipart is the type of the text fields of a multipart/form-data body that also carries
	// a file (an upload route, made by Multipart); nil otherwise.
	Multipart reflect.Type
	// MaxBytes is the body limit of an upload route (0: the server's MAX_BODY_BYTES).
	MaxBytes int64
	// Produces is the media type of a success that is not JSON (a PDF label); "" for JSON.
	Produces string
	// Alternatives are other media types a JSON success may be asked for instead (a report as
	// CSV, say), written by the handler as bytes.
	Alternatives []string
	// Otherwise are other success statuses the route may answer, each with its JSON answer's
	// type (a report too large to answer at once answers 202 with the export that will hold it).
	Otherwise map[int]reflect.Type
}

type opKey struct{}

// ServeHTTP implements http.Handler. Path and query values are refused here, in the one place,
// when they hold text PostgreSQL cannot store; the Op rides in the request's context so that
// Decode and QueryOf can tell a handler that reads what it never declared.
func (o *Op) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := checkPathAndQuery(r); err != nil {
		Error(w, r, err)
		return
	}
	o.serve(w, r.WithContext(context.WithValue(r.Context(), opKey{}, o)))
}

// opOf returns the Op serving r, or nil outside one (a handler called directly in a test).
func opOf(r *http.Request) *Op {
	o, _ := r.Context().Value(opKey{}).(*Op)
	return o
}

// Doc sets the operation's one-line summary.
func (o *Op) Doc(summary string) *Op { o.Summary = summary; return o }

// For declares who may call the route.
func (o *Op) For(who Access) *Op { o.Who = who; return o }

// Can declares the problem codes the route answers beyond those of its shape (a body's 400,
// 413 and 422, a token's 401, a path ID's 404, and 500 and 503 everywhere).
func (o *Op) Can(codes ...apperr.Code) *Op { o.Problems = append(o.Problems, codes...); return o }

// Params declares the query parameters the handler reads: the `query` tags of q's type, which
// the handler decodes with QueryOf (or PageOf for PageQuery).
func (o *Op) Params(q any) *Op { o.Query = reflect.TypeOf(q); return o }

// Paged declares the ?limit= and ?cursor= of a list read with PageOf.
func (o *Op) Paged() *Op { return o.Params(PageQuery{}) }

// Answers declares that a success is not JSON but mediaType (a PDF, an image), written by a
// hand-written handler.
func (o *Op) Answers(mediaType string) *Op { o.Produces = mediaType; return o }

// AlsoAnswers declares media types a JSON route may answer instead of JSON, as files (a
// report's ?format=csv).
func (o *Op) AlsoAnswers(mediaTypes ...string) *Op {
	o.Alternatives = append(o.Alternatives, mediaTypes...)
	return o
}

// Or declares another success status the route may answer instead of its own, with a JSON
// answer of out's type: a report too large to write at once answers 202 with its export.
func (o *Op) Or(status int, out any) *Op {
	if o.Otherwise == nil {
		o.Otherwise = map[int]reflect.Type{}
	}
	o.Otherwise[status] = reflect.TypeOf(out)
	return o
}

// TakesIdempotencyKey declares the Idempotency-Key header.
func (o *Op) TakesIdempotencyKey() *Op { o.Idempotent = true; return o }

// Header declares an optional request header the route reads (X-Device-ID, say), so that the
// document lists it.
func (o *Op) Header(name, description string) *Op {
	if o.Headers == nil {
		o.Headers = map[string]string{}
	}
	o.Headers[name] = description
	return o
}

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
	return withDecoded(status, Decode, fn)
}

// WithOptionalBody is WithBody for routes whose body may be left out (In stays zero then).
func WithOptionalBody[In, Out any](status int, fn func(r *http.Request, in In) (Out, error)) *Op {
	op := withDecoded(status, DecodeOptional, fn)
	op.OptionalBody = true
	return op
}

func withDecoded[In, Out any](status int, decode func(*http.Request, any) error, fn func(r *http.Request, in In) (Out, error)) *Op {
	return &Op{Status: status, In: typeOf[In](), Out: typeOf[Out](), serve: func(w http.ResponseWriter, r *http.Request) {
		var in In
		if err := decode(r, &in); err != nil {
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

// ID declares another path parameter parsed as a UUID with UUIDParam, and the kind of resource
// it names (WithID declares its own).
func (o *Op) ID(param, kind string) *Op {
	if o.IDs == nil {
		o.IDs = map[string]string{}
	}
	o.IDs[param] = kind
	return o
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

// Raw wraps a handler that reads its body as bytes (a provider's signed notification, whose
// signature covers the exact bytes): the document shows a body of any shape.
func Raw[Out any](status int, h http.HandlerFunc) *Op {
	op := Documented[Empty, Out](status, h)
	op.RawBody = true
	return op
}

// Upgrade wraps a WebSocket handler: it answers 101 and then speaks the socket's protocol.
func Upgrade(h http.HandlerFunc) *Op {
	op := Documented[Empty, Empty](http.StatusSwitchingProtocols, h)
	op.Upgrade = true
	return op
}

func write(w http.ResponseWriter, status int, out any) {
	if status == http.StatusNoContent {
		NoContent(w)
		return
	}
	JSON(w, status, out)
}

// undeclared is the error of a handler that reads a body or query it never declared: a bug that
// the document would hide, so it fails loudly in every test that reaches it.
func undeclared(what string, got reflect.Type, r *http.Request) error {
	return apperr.New(apperr.Internal, "route %s reads %s %v that it does not declare", RoutePattern(r), what, got)
}

// checkDeclaredBody fails when the Op serving r does not declare t as its body.
func checkDeclaredBody(r *http.Request, t reflect.Type, optional bool) error {
	o := opOf(r)
	if o == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if o.In != t || (optional && !o.OptionalBody) {
		return undeclared("a body", t, r)
	}
	return nil
}
