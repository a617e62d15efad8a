package httpx

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// FileField is the name of the file part every multipart route takes.
const FileField = "file"

// maxFieldBytes bounds one text field of a multipart body (alt text, a position).
const maxFieldBytes = 8 << 10

// MultipartBody is the multipart/form-data body of an upload route, read when the handler asks
// (Read): a handler checks who may upload before a byte of the body is read, so a refused
// caller costs nothing and is refused as on every other route.
type MultipartBody[Form any] struct {
	r   *http.Request
	max int64
}

// Read parses the text fields into a Form (by their `form` tags, validated by their `validate`
// tags) and returns the file part's stream and the file name the client gave (a name only: the
// type is for the caller to read from the bytes). Text fields come before the file, as browsers
// and curl send a form's fields in order; a field after the file is refused. The body may be up
// to the route's limit (the server's MAX_BODY_BYTES does not apply); past it reading fails with
// payload_too_large.
func (b *MultipartBody[Form]) Read() (Form, io.Reader, string, error) {
	var form Form
	mt, params, err := mime.ParseMediaType(b.r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return form, nil, "", apperr.New(apperr.BadRequest, "the body must be multipart/form-data with a %q part", FileField)
	}
	liftBodyLimit(b.r, b.max)
	mr := multipart.NewReader(b.r.Body, params["boundary"])
	values := map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, nil, "", apperr.Field(FileField, "is required")
		}
		if err != nil {
			return form, nil, "", multipartError(err)
		}
		name := part.FormName()
		if name == FileField {
			if err := setForm(&form, values); err != nil {
				return form, nil, "", err
			}
			if err := Validate(&form); err != nil {
				return form, nil, "", err
			}
			return form, &filePart{part: part, mr: mr}, part.FileName(), nil
		}
		v, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil {
			return form, nil, "", multipartError(err)
		}
		if len(v) > maxFieldBytes {
			return form, nil, "", apperr.Field(name, "must be at most "+strconv.Itoa(maxFieldBytes)+" bytes")
		}
		values[name] = string(v)
	}
}

// filePart is the file's stream; once it ends, the rest of the body must hold no other field.
type filePart struct {
	part *multipart.Part
	mr   *multipart.Reader
	done bool
}

func (f *filePart) Read(p []byte) (int, error) {
	n, err := f.part.Read(p)
	if errors.Is(err, io.EOF) && !f.done {
		f.done = true
		if _, next := f.mr.NextPart(); !errors.Is(next, io.EOF) {
			if next != nil {
				return n, multipartError(next)
			}
			return n, apperr.Field(FileField, "must be the last part of the form")
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return n, multipartError(err)
	}
	return n, err
}

func multipartError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return apperr.New(apperr.PayloadTooLarge, "the body is larger than %d bytes", tooBig.Limit)
	}
	if _, ok := errors.AsType[*apperr.Error](err); ok {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	return apperr.Wrap(err, apperr.BadRequest, "malformed multipart body: %v", err)
}

// setForm sets form's `form`-tagged fields (strings, integers and booleans, or pointers to them)
// from values; a value that does not parse is a validation error naming the field.
func setForm(form any, values map[string]string) error {
	v := reflect.ValueOf(form).Elem()
	for _, f := range reflect.VisibleFields(v.Type()) {
		name := f.Tag.Get("form")
		raw, ok := values[name]
		if name == "" || !ok {
			continue
		}
		if !StorableText(raw) {
			return apperr.Field(name, unstorable)
		}
		fv := v.FieldByIndex(f.Index)
		t := f.Type
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		val := reflect.New(t).Elem()
		switch t.Kind() {
		case reflect.String:
			val.SetString(raw)
		case reflect.Int, reflect.Int32, reflect.Int64:
			n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, t.Bits())
			if err != nil {
				return apperr.Field(name, "must be an integer")
			}
			val.SetInt(n)
		case reflect.Bool:
			b, err := strconv.ParseBool(strings.TrimSpace(raw))
			if err != nil {
				return apperr.Field(name, "must be true or false")
			}
			val.SetBool(b)
		default:
			return apperr.New(apperr.Internal, "form field %s has a type multipart bodies cannot carry", name)
		}
		if f.Type.Kind() == reflect.Pointer {
			p := reflect.New(t)
			p.Elem().Set(val)
			fv.Set(p)
		} else {
			fv.Set(val)
		}
	}
	return nil
}

// Multipart is WithID for an upload route: the path parameter param names a resource of kind,
// and the body is multipart/form-data, the text fields of Form then a file, read when fn calls
// body.Read, up to maxBytes. The document shows the form's fields and the file.
func Multipart[Form, Out any](status int, param, kind string, maxBytes int64,
	fn func(r *http.Request, id uuid.UUID, body *MultipartBody[Form]) (Out, error)) *Op {
	op := WithID(status, param, kind, func(r *http.Request, id uuid.UUID) (Out, error) {
		if o := opOf(r); o != nil && o.Multipart != typeOf[Form]() {
			var zero Out
			return zero, undeclared("a multipart body", typeOf[Form](), r)
		}
		return fn(r, id, &MultipartBody[Form]{r: r, max: maxBytes})
	})
	op.Multipart = typeOf[Form]()
	op.MaxBytes = maxBytes
	return op
}

// liftableBody is the body of a multipart request under BodyLimit: limited like any other, until
// the upload route that reads it raises the limit to its own.
type liftableBody struct {
	rc    io.ReadCloser
	limit int64
	read  int64
}

type liftableKey struct{}

func (b *liftableBody) Read(p []byte) (int, error) {
	if b.read > b.limit {
		return 0, &http.MaxBytesError{Limit: b.limit}
	}
	if rest := b.limit - b.read + 1; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.rc.Read(p)
	b.read += int64(n)
	if b.read > b.limit {
		return n - int(b.read-b.limit), &http.MaxBytesError{Limit: b.limit}
	}
	return n, err
}

func (b *liftableBody) Close() error { return b.rc.Close() }

// liftBodyLimit raises the limit of r's body to n, when BodyLimit made it liftable.
func liftBodyLimit(r *http.Request, n int64) {
	if b, ok := r.Context().Value(liftableKey{}).(*liftableBody); ok && n > b.limit {
		b.limit = n
	}
}

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Type"))), "multipart/form-data")
}
