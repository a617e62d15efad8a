package httpx

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// Page limits, as the contract fixes them.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Page is a request for one page of a list: at most Limit items after Cursor.
type Page struct {
	Limit  int
	Cursor string
}

// List is the answer shape of every list route.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// PageQuery is the ?limit= and ?cursor= of a list route: declare it with Op.Paged (or embed it
// in the route's query type) and read it with PageOf (or QueryOf, then Page).
type PageQuery struct {
	Limit  *int   `query:"limit" validate:"omitempty,min=1,max=100" doc:"items a page, from 1 to 100 (default 20)"`
	Cursor string `query:"cursor" validate:"max=1000" doc:"the next_cursor of the previous page"`
}

// Page is the page the query asks for, with the default limit when it names none.
func (q PageQuery) Page() Page {
	p := Page{Limit: DefaultLimit, Cursor: q.Cursor}
	if q.Limit != nil {
		p.Limit = *q.Limit
	}
	return p
}

// PageOf reads ?limit= and ?cursor= from r; the route declares them with Op.Paged.
func PageOf(r *http.Request) (Page, error) {
	q, err := QueryOf[PageQuery](r)
	if err != nil {
		return Page{Limit: DefaultLimit}, err
	}
	return q.Page(), nil
}

// EncodeCursor turns a keyset position into an opaque cursor.
func EncodeCursor(pos any) string {
	b, _ := json.Marshal(pos)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made by EncodeCursor into pos; an empty cursor leaves pos alone
// and reports false. A cursor is accepted only when encoding what it decoded to gives it back
// byte for byte: a cursor of another list (other or missing fields), a cut or edited one, or
// one carrying text PostgreSQL cannot store would otherwise reach the query and page from a
// wrong position or fail there as a 500.
func DecodeCursor(cursor string, pos any) (bool, error) {
	if cursor == "" {
		return false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || json.Unmarshal(b, pos) != nil || EncodeCursor(pos) != cursor || bytes.Contains(b, []byte(`\u0000`)) {
		return false, apperr.Field("cursor", "is not a cursor this list made")
	}
	return true, nil
}

// Paginate trims a page fetched with limit+1 rows to limit and makes the next cursor from the
// last kept item.
func Paginate[T any](items []T, limit int, pos func(T) any) List[T] {
	out := List[T]{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		out.NextCursor = EncodeCursor(pos(items[limit-1]))
	}
	if out.Items == nil {
		out.Items = []T{}
	}
	return out
}

// UUIDParam parses a path parameter that must be a UUID; anything else is 404, since no
// resource can have that ID.
func UUIDParam(r *http.Request, name, kind string) (uuid.UUID, error) {
	id, err := uuid.Parse(PathValue(r, name))
	if err != nil {
		return uuid.Nil, apperr.NotFoundf(kind)
	}
	return id, nil
}

// Keyset is the position in a list ordered by a time and an ID, the order most lists here use
// (newest first, or oldest first); its cursor is opaque to clients.
type Keyset struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"i"`
}

// KeysetOf reads a page's cursor as a Keyset; ok is false on the first page.
func KeysetOf(p Page) (k Keyset, ok bool, err error) {
	ok, err = DecodeCursor(p.Cursor, &k)
	return k, ok, err
}
