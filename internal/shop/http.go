package shop

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// Handler serves the shop routes.
type Handler struct {
	svc   *Service
	authn *auth.Authenticator
}

// NewHandler returns the shop HTTP handler.
func NewHandler(svc *Service, authn *auth.Authenticator) *Handler {
	return &Handler{svc: svc, authn: authn}
}

// Routes mounts the shop routes under /shops. Other contexts mount their own routes under
// /shops/{id}/... on the same router (catalog: products; order: orders).
func (h *Handler) Routes(r chi.Router) {
	const (
		ok      = http.StatusOK
		created = http.StatusCreated
		none    = http.StatusNoContent
	)
	r.With(h.authn.Optional).Method(http.MethodGet, "/shops", httpx.Endpoint(ok, h.list))
	r.Method(http.MethodGet, "/shops/search", httpx.Endpoint(ok, h.search))
	r.With(h.authn.Optional).Method(http.MethodGet, "/shops/{id}", httpx.WithID(ok, "id", "shop", h.get))
	r.With(h.authn.Optional).Method(http.MethodGet, "/shops/{id}/promotions", httpx.Endpoint(ok, h.listPromotions))
	r.With(h.authn.Optional).Method(http.MethodGet, "/shops/{id}/promotions/{promo_id}", httpx.Endpoint(ok, h.getPromotion))
	r.With(h.authn.Optional).Method(http.MethodGet, "/shops/{id}/campaigns", httpx.Endpoint(ok, h.listCampaigns))
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodPost, "/shops", httpx.WithBody(created, h.create))
		r.Method(http.MethodPut, "/shops/{id}", httpx.WithIDBody(ok, "id", "shop", h.update))
		r.Method(http.MethodDelete, "/shops/{id}", httpx.WithID(none, "id", "shop", h.delete))
		r.Method(http.MethodPut, "/shops/{id}/profile", httpx.WithIDBody(ok, "id", "shop", h.updateProfile))
		r.Method(http.MethodPost, "/shops/{id}/promotions", httpx.WithIDBody(created, "id", "shop", h.createPromotion))
		r.Method(http.MethodPut, "/shops/{id}/promotions/{promo_id}", httpx.WithBody(ok, h.updatePromotion))
		r.Method(http.MethodDelete, "/shops/{id}/promotions/{promo_id}", httpx.Endpoint(none, h.deletePromotion))
		r.Method(http.MethodPost, "/shops/{id}/campaigns", httpx.WithIDBody(created, "id", "shop", h.createCampaign))
		r.Method(http.MethodPut, "/shops/{id}/campaigns/{campaign_id}/status", httpx.WithBody(ok, h.setCampaignStatus))
	})
}

// shopAnd parses the shop ID and a second ID of the path.
func shopAnd(r *http.Request, name, kind string) (uuid.UUID, uuid.UUID, error) {
	sid, err := shopID(r)
	if err != nil {
		return uuid.Nil, uuid.Nil, err
	}
	id, err := httpx.UUIDParam(r, name, kind)
	return sid, id, err
}

func (h *Handler) listPromotions(r *http.Request) (httpx.List[Promotion], error) {
	id, err := shopID(r)
	if err != nil {
		return httpx.List[Promotion]{}, err
	}
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Promotion]{}, err
	}
	return h.svc.Promotions(r.Context(), auth.Maybe(r), id, page)
}

func (h *Handler) getPromotion(r *http.Request) (Promotion, error) {
	sid, id, err := shopAnd(r, "promo_id", "promotion")
	if err != nil {
		return Promotion{}, err
	}
	return h.svc.Promotion(r.Context(), auth.Maybe(r), sid, id)
}

func (h *Handler) createPromotion(r *http.Request, id uuid.UUID, in PromotionInput) (Promotion, error) {
	return h.svc.CreatePromotion(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) updatePromotion(r *http.Request, in PromotionInput) (Promotion, error) {
	sid, id, err := shopAnd(r, "promo_id", "promotion")
	if err != nil {
		return Promotion{}, err
	}
	return h.svc.UpdatePromotion(r.Context(), auth.Of(r), sid, id, in)
}

func (h *Handler) deletePromotion(r *http.Request) (httpx.Empty, error) {
	sid, id, err := shopAnd(r, "promo_id", "promotion")
	if err != nil {
		return httpx.Empty{}, err
	}
	return httpx.Empty{}, h.svc.DeletePromotion(r.Context(), auth.Of(r), sid, id)
}

func (h *Handler) listCampaigns(r *http.Request) (httpx.List[Campaign], error) {
	id, err := shopID(r)
	if err != nil {
		return httpx.List[Campaign]{}, err
	}
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Campaign]{}, err
	}
	return h.svc.Campaigns(r.Context(), auth.Maybe(r), id, page)
}

func (h *Handler) createCampaign(r *http.Request, id uuid.UUID, in CampaignInput) (Campaign, error) {
	return h.svc.CreateCampaign(r.Context(), auth.Of(r), id, in)
}

type statusInput struct {
	Status string `json:"status" validate:"required,oneof=scheduled active ended cancelled"`
}

func (h *Handler) setCampaignStatus(r *http.Request, in statusInput) (Campaign, error) {
	sid, id, err := shopAnd(r, "campaign_id", "campaign")
	if err != nil {
		return Campaign{}, err
	}
	return h.svc.SetCampaignStatus(r.Context(), auth.Of(r), sid, id, in.Status)
}

func shopID(r *http.Request) (uuid.UUID, error) { return httpx.UUIDParam(r, "id", "shop") }

// list answers active shops, or with ?owner=me the caller's own shops in any live status.
func (h *Handler) list(r *http.Request) (httpx.List[Shop], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Shop]{}, err
	}
	var owner *uuid.UUID
	if o := r.URL.Query().Get("owner"); o != "" {
		p, ok := auth.FromContext(r.Context())
		if o != "me" {
			return httpx.List[Shop]{}, apperr.Field("owner", "must be \"me\"")
		}
		if !ok {
			return httpx.List[Shop]{}, apperr.New(apperr.Unauthorized, "sign in to list your shops")
		}
		owner = &p.UserID
	}
	return h.svc.List(r.Context(), owner, page)
}

func (h *Handler) get(r *http.Request, id uuid.UUID) (Shop, error) {
	return h.svc.Get(r.Context(), auth.Maybe(r), id)
}

func (h *Handler) create(r *http.Request, in ShopInput) (Shop, error) {
	return h.svc.Create(r.Context(), auth.Of(r), in)
}

func (h *Handler) update(r *http.Request, id uuid.UUID, in ShopInput) (Shop, error) {
	return h.svc.Update(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) updateProfile(r *http.Request, id uuid.UUID, in Profile) (Shop, error) {
	return h.svc.UpdateProfile(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) delete(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.Delete(r.Context(), auth.Of(r), id)
}

// search reads ?location=lat,lng (or ?lat=&lng=), ?radius= in km (default 5, at most 100) and
// an optional ?category= ID.
func (h *Handler) search(r *http.Request) (httpx.List[Shop], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Shop]{}, err
	}
	q := r.URL.Query()
	latS, lngS := q.Get("lat"), q.Get("lng")
	if loc := q.Get("location"); loc != "" {
		var found bool
		latS, lngS, found = strings.Cut(loc, ",")
		if !found {
			return httpx.List[Shop]{}, apperr.Field("location", "must be \"lat,lng\"")
		}
	}
	var bad []apperr.FieldError
	lat, err := strconv.ParseFloat(strings.TrimSpace(latS), 64)
	if err != nil || lat < -90 || lat > 90 {
		bad = append(bad, apperr.FieldError{Field: "lat", Message: "must be a latitude between -90 and 90"})
	}
	lng, err := strconv.ParseFloat(strings.TrimSpace(lngS), 64)
	if err != nil || lng < -180 || lng > 180 {
		bad = append(bad, apperr.FieldError{Field: "lng", Message: "must be a longitude between -180 and 180"})
	}
	radius := 5.0
	if s := q.Get("radius"); s != "" {
		radius, err = strconv.ParseFloat(s, 64)
		if err != nil || radius <= 0 || radius > 100 {
			bad = append(bad, apperr.FieldError{Field: "radius", Message: "must be a distance in km, above 0 and at most 100"})
		}
	}
	var cat *uuid.UUID
	if s := q.Get("category"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			bad = append(bad, apperr.FieldError{Field: "category", Message: "must be a category ID"})
		}
		cat = &id
	}
	if bad != nil {
		return httpx.List[Shop]{}, apperr.Validation(bad...)
	}
	return h.svc.Search(r.Context(), SearchQuery{Lat: lat, Lng: lng, RadiusKM: radius, CategoryID: cat}, page)
}
