// Package web serves the pages people look at, from files embedded in the binary: a landing
// page for whoever just ran GoShop, and the API reference rendered from the served OpenAPI
// document. Pages are server-rendered (html/template); nothing is fetched from another site.
//
// Like a context, web reaches the rest of GoShop only through what internal/app hands it, so a
// page can never do what the API would refuse.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/goshop/goshop/internal/platform/httpx"
)

//go:embed assets templates
var files embed.FS

// RedocBundle is the vendored API viewer: Redoc's standalone bundle from the npm package
// redoc@2.5.2 (MIT, licence beside it), named with its version so that it can be cached forever.
const RedocBundle = "redoc-2.5.2.standalone.js"

// Status reports the state of each dependency ("ok" or "down"), as /readyz does.
type Status func(r *http.Request) map[string]string

// Info is what the landing page says about the running server.
type Info struct {
	Version string
	// Status, when set, shows the dependencies' state on the landing page.
	Status Status
	// Seller, when set, serves the seller center at /seller (seller.go).
	Seller *Seller
}

// Handler serves the pages.
type Handler struct {
	info  Info
	pages *template.Template
	// etags are the assets' ETags, hashed on first use rather than at start: nothing expensive
	// happens before the first request.
	etags sync.Map
}

// New returns the web handler.
func New(info Info) *Handler {
	return &Handler{info: info, pages: template.Must(template.ParseFS(files, "templates/*.html"))}
}

// pageCSP lets pages run and style what they are served from here, and nothing else: the
// API viewer injects its styles (styled-components) and runs its search in a blob worker.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Routes mounts the pages at the root of r.
func (h *Handler) Routes(r chi.Router) {
	const ok = http.StatusOK
	r.Method(http.MethodGet, "/", httpx.Documented[httpx.Empty, httpx.Empty](ok, h.home).
		Doc("The landing page: what is running here and where to go next").For(httpx.Public).Answers("text/html"))
	r.Method(http.MethodGet, "/docs", httpx.Documented[httpx.Empty, httpx.Empty](ok, h.docs).
		Doc("The API reference, rendered from /api/v1/openapi.json").For(httpx.Public).Answers("text/html"))
	r.Method(http.MethodGet, "/assets/{name}", httpx.Documented[httpx.Empty, httpx.Empty](ok, h.asset).
		Doc("A file the pages use (scripts), cacheable for a year").For(httpx.Public).Answers("application/octet-stream"))
	if h.info.Seller != nil {
		newSellerCenter(h, h.info.Seller).routes(r)
	}
	h.routeTrack(r)
}

type homeData struct {
	Version string
	Status  map[string]string
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	d := homeData{Version: h.info.Version}
	if h.info.Status != nil {
		d.Status = h.info.Status(r)
	}
	h.render(w, r, "home.html", d)
}

func (h *Handler) docs(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, "docs.html", struct{ Bundle string }{RedocBundle})
}

// render writes a page whole or not at all: a template that fails half way answers a 500
// problem, not half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, name, data); err != nil {
		httpx.Error(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("Cache-Control", "no-cache")
	_, _ = w.Write(buf.Bytes())
}

func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	if name != path.Base(name) || name == "." {
		httpx.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(files, "assets/"+name)
	if err != nil {
		httpx.NotFound(w, r)
		return
	}
	etag, ok := h.etags.Load(name)
	if !ok {
		sum := sha256.Sum256(b)
		etag, _ = h.etags.LoadOrStore(name, `"`+hex.EncodeToString(sum[:12])+`"`)
	}
	hd := w.Header()
	hd.Set("ETag", etag.(string))
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	if path.Ext(name) == ".js" {
		hd.Set("Content-Type", "text/javascript; charset=utf-8")
	} else {
		hd.Set("Content-Type", "text/plain; charset=utf-8")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
}
