package shop

import (
	"math"
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
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Optional)
		r.Method(http.MethodGet, "/shops", httpx.Endpoint(ok, h.list).
			Doc("Active shops, newest first; with ?owner=me the caller's own shops").For(httpx.Public).Params(listQuery{}))
		r.Method(http.MethodGet, "/shops/search", httpx.Endpoint(ok, h.search).
			Doc("Active shops within a radius of a point, nearest first").For(httpx.Public).Params(searchQuery{}))
		r.Method(http.MethodGet, "/shops/{id}", httpx.WithID(ok, "id", "shop", h.get).
			Doc("A shop; a suspended one only to its owner or an admin").For(httpx.Public))
		r.Method(http.MethodGet, "/shops/{id}/promotions", httpx.WithID(ok, "id", "shop", h.listPromotions).
			Doc("A shop's vouchers: the running ones, or all of them for its owner").For(httpx.Public).Paged())
		r.Method(http.MethodGet, "/shops/{id}/promotions/{promo_id}", httpx.WithID(ok, "id", "shop", h.getPromotion).
			Doc("One of a shop's vouchers: a running one, or any for its owner").For(httpx.Public).ID("promo_id", "promotion"))
		r.Method(http.MethodGet, "/shops/{id}/campaigns", httpx.WithID(ok, "id", "shop", h.listCampaigns).
			Doc("A shop's campaigns: scheduled and active ones, or all of them for its owner").For(httpx.Public).Paged())
	})
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodPost, "/shops", httpx.WithBody(created, h.create).
			Doc("Open a shop owned by the caller").For(httpx.AnyUser))
		r.Method(http.MethodPut, "/shops/{id}", httpx.WithIDBody(ok, "id", "shop", h.update).
			Doc("Change a shop's name, description, address, location and categories").For(httpx.ShopOwner))
		r.Method(http.MethodDelete, "/shops/{id}", httpx.WithID(none, "id", "shop", h.delete).
			Doc("Close a shop: buyers no longer see it or its products; orders keep it").For(httpx.ShopOwner))
		r.Method(http.MethodPut, "/shops/{id}/profile", httpx.WithIDBody(ok, "id", "shop", h.updateProfile).
			Doc("Replace a shop's storefront profile").For(httpx.ShopOwner))
		r.Method(http.MethodPost, "/shops/{id}/promotions", httpx.WithIDBody(created, "id", "shop", h.createPromotion).
			Doc("Add a voucher to a shop").For(httpx.ShopOwner).Can(apperr.Conflict))
		r.Method(http.MethodPut, "/shops/{id}/promotions/{promo_id}", httpx.WithIDBody(ok, "id", "shop", h.updatePromotion).
			Doc("Replace a voucher's terms; its uses so far are kept").For(httpx.ShopOwner).ID("promo_id", "promotion").
			Can(apperr.Conflict))
		r.Method(http.MethodDelete, "/shops/{id}/promotions/{promo_id}", httpx.WithID(none, "id", "shop", h.deletePromotion).
			Doc("Withdraw a voucher; orders keep the discounts it gave").For(httpx.ShopOwner).ID("promo_id", "promotion"))
		r.Method(http.MethodPost, "/shops/{id}/campaigns", httpx.WithIDBody(created, "id", "shop", h.createCampaign).
			Doc("Create a draft campaign of sale prices for some of the shop's variants").For(httpx.ShopOwner))
		r.Method(http.MethodPut, "/shops/{id}/campaigns/{campaign_id}/status", httpx.WithIDBody(ok, "id", "shop", h.setCampaignStatus).
			Doc("Move a campaign: schedule, start, end or cancel it").For(httpx.ShopOwner).ID("campaign_id", "campaign").
			Can(apperr.Conflict))
	})
}

func (h *Handler) listPromotions(r *http.Request, id uuid.UUID) (httpx.List[Promotion], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Promotion]{}, err
	}
	return h.svc.Promotions(r.Context(), auth.Maybe(r), id, page)
}

func promotionID(r *http.Request) (uuid.UUID, error) {
	return httpx.UUIDParam(r, "promo_id", "promotion")
}

func (h *Handler) getPromotion(r *http.Request, shopID uuid.UUID) (Promotion, error) {
	id, err := promotionID(r)
	if err != nil {
		return Promotion{}, err
	}
	return h.svc.Promotion(r.Context(), auth.Maybe(r), shopID, id)
}

func (h *Handler) createPromotion(r *http.Request, id uuid.UUID, in PromotionInput) (Promotion, error) {
	return h.svc.CreatePromotion(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) updatePromotion(r *http.Request, shopID uuid.UUID, in PromotionInput) (Promotion, error) {
	id, err := promotionID(r)
	if err != nil {
		return Promotion{}, err
	}
	return h.svc.UpdatePromotion(r.Context(), auth.Of(r), shopID, id, in)
}

func (h *Handler) deletePromotion(r *http.Request, shopID uuid.UUID) (httpx.Empty, error) {
	id, err := promotionID(r)
	if err != nil {
		return httpx.Empty{}, err
	}
	return httpx.Empty{}, h.svc.DeletePromotion(r.Context(), auth.Of(r), shopID, id)
}

func (h *Handler) listCampaigns(r *http.Request, id uuid.UUID) (httpx.List[Campaign], error) {
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

func (h *Handler) setCampaignStatus(r *http.Request, shopID uuid.UUID, in statusInput) (Campaign, error) {
	id, err := httpx.UUIDParam(r, "campaign_id", "campaign")
	if err != nil {
		return Campaign{}, err
	}
	return h.svc.SetCampaignStatus(r.Context(), auth.Of(r), shopID, id, in.Status)
}

// listQuery is GET /shops's query: a page, and whose shops.
type listQuery struct {
	httpx.PageQuery
	Owner string `query:"owner" validate:"omitempty,oneof=me" doc:"me: the caller's own shops in any live status, suspended ones included (needs a token)"`
}

// list answers active shops, or with ?owner=me the caller's own shops in any live status.
func (h *Handler) list(r *http.Request) (httpx.List[Shop], error) {
	q, err := httpx.QueryOf[listQuery](r)
	if err != nil {
		return httpx.List[Shop]{}, err
	}
	var owner *uuid.UUID
	if q.Owner == "me" {
		p := auth.Maybe(r)
		if p == nil {
			return httpx.List[Shop]{}, apperr.New(apperr.Unauthorized, "sign in to list your shops")
		}
		owner = &p.UserID
	}
	return h.svc.List(r.Context(), owner, q.Page())
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

// searchQuery is GET /shops/search's query: the centre (?location=lat,lng, or ?lat=&lng=), the
// radius, a category and a page.
type searchQuery struct {
	httpx.PageQuery
	Location string     `query:"location" validate:"max=100" doc:"the centre as lat,lng, e.g. 10.7769,106.7009 (or give lat and lng)"`
	Lat      *float64   `query:"lat" validate:"omitempty,latitude" doc:"the centre's latitude, when location is not given"`
	Lng      *float64   `query:"lng" validate:"omitempty,longitude" doc:"the centre's longitude, when location is not given"`
	RadiusKM *float64   `query:"radius" validate:"omitempty,gt=0,max=100" doc:"how far from the centre, in km: above 0, at most 100 (default 5)"`
	Category *uuid.UUID `query:"category" doc:"only shops selling in this category"`
}

// centre is the point the query names: location when given, else lat and lng, both required.
func (q searchQuery) centre() (lat, lng float64, err error) {
	if q.Location != "" {
		latS, lngS, found := strings.Cut(q.Location, ",")
		lat, errLat := strconv.ParseFloat(strings.TrimSpace(latS), 64)
		lng, errLng := strconv.ParseFloat(strings.TrimSpace(lngS), 64)
		// Written so that NaN, which compares false with everything, is refused too.
		if !found || errLat != nil || errLng != nil || !(math.Abs(lat) <= 90) || !(math.Abs(lng) <= 180) {
			return 0, 0, apperr.Field("location", "must be \"lat,lng\": a latitude between -90 and 90, a longitude between -180 and 180")
		}
		return lat, lng, nil
	}
	var bad []apperr.FieldError
	if q.Lat == nil {
		bad = append(bad, apperr.FieldError{Field: "lat", Message: "is required without location"})
	}
	if q.Lng == nil {
		bad = append(bad, apperr.FieldError{Field: "lng", Message: "is required without location"})
	}
	if bad != nil {
		return 0, 0, apperr.Validation(bad...)
	}
	return *q.Lat, *q.Lng, nil
}

func (h *Handler) search(r *http.Request) (httpx.List[Shop], error) {
	q, err := httpx.QueryOf[searchQuery](r)
	if err != nil {
		return httpx.List[Shop]{}, err
	}
	lat, lng, err := q.centre()
	if err != nil {
		return httpx.List[Shop]{}, err
	}
	radius := 5.0
	if q.RadiusKM != nil {
		radius = *q.RadiusKM
	}
	return h.svc.Search(r.Context(), SearchQuery{Lat: lat, Lng: lng, RadiusKM: radius, CategoryID: q.Category}, q.Page())
}
