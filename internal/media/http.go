package media

import (
	"net/http"
	"regexp"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// Handler serves the media routes.
type Handler struct {
	svc   *Service
	authn *auth.Authenticator
}

// NewHandler returns the media HTTP handler.
func NewHandler(svc *Service, authn *auth.Authenticator) *Handler {
	return &Handler{svc: svc, authn: authn}
}

// Routes mounts the routes that change products' and reviews' media on the API router (their
// contexts list them: in the product's JSON, at GET /reviews/{id}/media).
func (h *Handler) Routes(r chi.Router) {
	h.OwnerRoutes(r, "/products", events.MediaOwnerProduct, "product", httpx.ShopOwner, "the shop's owner")
	h.OwnerRoutes(r, "/reviews", events.MediaOwnerReview, "review", httpx.Owner, "the review's author")
}

// OwnerRoutes mounts the routes that change an owner kind's media under prefix/{id}/media: an
// upload, an arrangement and a deletion, for who (as the kind's Guard decides).
func (h *Handler) OwnerRoutes(r chi.Router, prefix string, kind events.MediaOwnerKind, idKind string, who httpx.Access, whoText string) {
	maxBytes := max(h.svc.cfg.ImageMaxBytes, h.svc.cfg.VideoMaxBytes) + 64<<10 // the form's fields and boundaries
	owner := func(id uuid.UUID) Owner { return Owner{Kind: kind, ID: id} }
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodPost, prefix+"/{id}/media", httpx.Multipart(http.StatusCreated, "id", idKind, maxBytes,
			func(r *http.Request, id uuid.UUID, body *httpx.MultipartBody[Details]) (Item, error) {
				p, err := auth.MustPrincipal(r.Context())
				if err != nil {
					return Item{}, err
				}
				// Who may is settled before a byte of the file is read.
				if err := h.svc.Authorize(r.Context(), p, owner(id)); err != nil {
					return Item{}, err
				}
				d, file, name, err := body.Read()
				if err != nil {
					return Item{}, err
				}
				return h.svc.Add(r.Context(), p, owner(id), name, d, file)
			}).Doc("Upload an image (JPEG, PNG, WebP) or video (MP4, WebM) of a "+idKind+" ("+whoText+")").For(who).
			Can(apperr.Conflict, apperr.TooManyRequests))
		r.Method(http.MethodPut, prefix+"/{id}/media/{media_id}", httpx.WithIDBody(http.StatusOK, "id", idKind,
			func(r *http.Request, id uuid.UUID, in Arrangement) (Item, error) {
				mid, err := httpx.UUIDParam(r, "media_id", "media")
				if err != nil {
					return Item{}, err
				}
				p, err := auth.MustPrincipal(r.Context())
				if err != nil {
					return Item{}, err
				}
				return h.svc.Arrange(r.Context(), p, owner(id), mid, in)
			}).ID("media_id", "media").Doc("Change an image's or video's alt text, position, or make it the primary image").For(who))
		r.Method(http.MethodDelete, prefix+"/{id}/media/{media_id}", httpx.WithID(http.StatusNoContent, "id", idKind,
			func(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
				mid, err := httpx.UUIDParam(r, "media_id", "media")
				if err != nil {
					return httpx.Empty{}, err
				}
				p, err := auth.MustPrincipal(r.Context())
				if err != nil {
					return httpx.Empty{}, err
				}
				return httpx.Empty{}, h.svc.Remove(r.Context(), p, owner(id), mid)
			}).ID("media_id", "media").Doc("Delete an image or video of a "+idKind+"; its files go shortly after").For(who))
	})
}

// fileName is what stored files are called: "original.jpg", "w480.png", "poster.jpg".
var fileName = regexp.MustCompile(`^(original|poster|w[0-9]{1,5})\.(jpg|png|mp4|webm)$`)

// FileRoutes mounts GET /media/{media_id}/{file} on the root router (outside /api/v1, as files
// are not API answers) when files are on the local disk: S3 serves its own.
func (h *Handler) FileRoutes(r chi.Router) {
	local, ok := h.svc.storage.(*Local)
	if !ok {
		return
	}
	r.Method(http.MethodGet, "/media/{media_id}/{file}", httpx.Documented[httpx.Empty, httpx.Empty](http.StatusOK,
		func(w http.ResponseWriter, r *http.Request) {
			id, err := httpx.UUIDParam(r, "media_id", "media")
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			name := httpx.PathValue(r, "file")
			if !fileName.MatchString(name) {
				httpx.Error(w, r, apperr.NotFoundf("file"))
				return
			}
			if err := local.Serve(w, r, id.String()+"/"+name); err != nil {
				httpx.Error(w, r, err)
			}
		}).ID("media_id", "media").Doc("A stored image, thumbnail, poster or video (ETag, cached for a year: files never change)").
		For(httpx.Public).Answers("*/*"))
}
