package review

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// Handler serves the review routes.
type Handler struct {
	svc   *Service
	authn *auth.Authenticator
}

// NewHandler returns the review HTTP handler.
func NewHandler(svc *Service, authn *auth.Authenticator) *Handler {
	return &Handler{svc: svc, authn: authn}
}

// Routes mounts the review routes: /reviews/..., and the review routes under /products/{id},
// /shops/{id}, /delivery/{order_id} and /shippers/{id}. The routes that change a review's photos
// and videos are the media context's (media.Handler), with the Service as their guard.
func (h *Handler) Routes(r chi.Router) {
	const (
		ok      = http.StatusOK
		created = http.StatusCreated
		none    = http.StatusNoContent
	)
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Optional)
		r.Method(http.MethodGet, "/products/{id}/reviews", httpx.WithID(ok, "id", "product", h.productReviews).
			Doc("A product's published reviews, newest first").For(httpx.Public).Params(listQuery{}))
		r.Method(http.MethodGet, "/shops/{id}/reviews", httpx.WithID(ok, "id", "shop", h.shopReviews).
			Doc("A shop's published reviews, of itself and of its products, newest first").For(httpx.Public).Params(shopListQuery{}))
		r.Method(http.MethodGet, "/shops/{id}/rating-summary", httpx.WithID(ok, "id", "shop", h.shopSummary).
			Doc("A shop's rating from its shop reviews, and its products' rating together: average, count, count per star").
			For(httpx.Public))
		r.Method(http.MethodGet, "/shippers/{id}/reviews", httpx.WithID(ok, "id", "shipper", h.shipperReviews).
			Doc("The published reviews of a shipper's deliveries (the shipper's user ID), newest first").For(httpx.Public).
			Params(listQuery{}))
		r.Method(http.MethodGet, "/reviews/{id}", httpx.WithID(ok, "id", "review", h.get).
			Doc("A review: a published one to anyone, a held or rejected one to its author, the shop and admins").For(httpx.Public))
		r.Method(http.MethodGet, "/reviews/{id}/media", httpx.WithID(ok, "id", "review", h.media).
			Doc("A review's photos and videos in their order, to whoever may see the review").For(httpx.Public))
		r.Method(http.MethodGet, "/reviews/verified-purchases", httpx.Endpoint(ok, h.verified).
			Doc("Published reviews with the purchase each rests on (variant bought, delivery date), newest first").
			For(httpx.Public).Params(scopeListQuery{}))
		r.Method(http.MethodGet, "/reviews/rating-distribution", httpx.Endpoint(ok, h.distribution).
			Doc("The rating of a product or a shop: average, count, count per star").For(httpx.Public).Params(scopeQuery{}))
		r.Method(http.MethodGet, "/reviews/sentiment-analysis", httpx.Endpoint(ok, h.sentiment).
			Doc("What a product's or a shop's reviews say: sentiment labels, and praise and complaints by aspect").
			For(httpx.Public).Params(scopeQuery{}))
	})
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodPost, "/products/{id}/reviews", httpx.WithIDBody(created, "id", "product", h.reviewProduct).
			Doc("Review a product delivered to the caller, once per order item").For(httpx.AnyUser).Can(apperr.Conflict, apperr.Forbidden))
		r.Method(http.MethodPost, "/shops/{id}/reviews", httpx.WithIDBody(created, "id", "shop", h.reviewShop).
			Doc("Review a shop for one of its orders delivered to the caller, once per order").For(httpx.AnyUser).Can(apperr.Conflict, apperr.Forbidden))
		r.Method(http.MethodPost, "/delivery/{order_id}/review", httpx.WithIDBody(created, "order_id", "order", h.reviewDelivery).
			Doc("Rate the shipper who delivered the caller's order, once per order").For(httpx.AnyUser).Can(apperr.Conflict, apperr.Forbidden))
		r.Method(http.MethodGet, "/delivery/reviews", httpx.Endpoint(ok, h.deliveryReviews).
			Doc("Delivery reviews: a shipper's own; an admin's, everyone's or one shipper's").For(httpx.Shipper).
			Params(deliveryQuery{}))
		r.Method(http.MethodPut, "/reviews/{id}", httpx.WithIDBody(ok, "id", "review", h.edit).
			Doc("Change the caller's review within the edit window; it is moderated again").For(httpx.Owner).Can(apperr.Conflict))
		r.Method(http.MethodDelete, "/reviews/{id}", httpx.WithID(none, "id", "review", h.delete).
			Doc("Delete a review (its author or an admin): it is hidden and no longer counted").For(httpx.Owner))
		r.Method(http.MethodPost, "/reviews/{id}/reply", httpx.WithIDBody(created, "id", "review", h.reply).
			Doc("The shop's one reply to a review of it or of its products").For(httpx.ShopOwner).Can(apperr.Conflict))
		r.Method(http.MethodPost, "/reviews/{id}/report", httpx.WithIDBody(created, "id", "review", h.report).
			Doc("Report a published review, once per user; enough reports send it back to moderation").For(httpx.AnyUser).
			Can(apperr.Conflict, apperr.Forbidden))
		r.Method(http.MethodGet, "/reviews/moderation/pending", httpx.Endpoint(ok, h.pending).
			Doc("Reviews the rules held, waiting for a moderator, oldest first").For(httpx.Admin).Paged())
		r.Method(http.MethodPut, "/reviews/{id}/approve", httpx.WithID(ok, "id", "review", h.approve).
			Doc("Publish a held review").For(httpx.Admin).Can(apperr.Conflict))
		r.Method(http.MethodPut, "/reviews/{id}/reject", httpx.WithIDBody(ok, "id", "review", h.reject).
			Doc("Reject a review, held or published, with a reason its author is told").For(httpx.Admin).Can(apperr.Conflict))
	})
}

// listQuery filters a target's reviews.
type listQuery struct {
	httpx.PageQuery
	Rating      *int `query:"rating" validate:"omitempty,min=1,max=5" doc:"only reviews of this many stars"`
	WithComment bool `query:"with_comment" doc:"only reviews that say something"`
}

func (q listQuery) filter() Filter { return Filter{Rating: q.Rating, WithComment: q.WithComment} }

// shopListQuery filters a shop's reviews.
type shopListQuery struct {
	httpx.PageQuery
	Rating *int   `query:"rating" validate:"omitempty,min=1,max=5" doc:"only reviews of this many stars"`
	Target string `query:"target" validate:"omitempty,oneof=shop product" doc:"shop: reviews of the shop; product: of its products (default both)"`
}

// deliveryQuery filters delivery reviews.
type deliveryQuery struct {
	httpx.PageQuery
	Rating    *int       `query:"rating" validate:"omitempty,min=1,max=5" doc:"only reviews of this many stars"`
	ShipperID *uuid.UUID `query:"shipper_id" doc:"admins: one shipper's (their user ID)"`
}

// scopeQuery names a product or a shop.
type scopeQuery struct {
	ProductID *uuid.UUID `query:"product_id" doc:"the product (give this or shop_id)"`
	ShopID    *uuid.UUID `query:"shop_id" doc:"the shop (give this or product_id)"`
}

func (q scopeQuery) scope() Scope { return Scope{ProductID: q.ProductID, ShopID: q.ShopID} }

// scopeListQuery pages through reviews, optionally of a product or a shop.
type scopeListQuery struct {
	httpx.PageQuery
	scopeQuery
}

func (h *Handler) productReviews(r *http.Request, id uuid.UUID) (httpx.List[Review], error) {
	q, err := httpx.QueryOf[listQuery](r)
	if err != nil {
		return httpx.List[Review]{}, err
	}
	return h.svc.ProductReviews(r.Context(), auth.Maybe(r), id, q.filter(), q.Page())
}

func (h *Handler) shipperReviews(r *http.Request, id uuid.UUID) (httpx.List[Review], error) {
	q, err := httpx.QueryOf[listQuery](r)
	if err != nil {
		return httpx.List[Review]{}, err
	}
	return h.svc.ShipperReviews(r.Context(), auth.Maybe(r), id, q.filter(), q.Page())
}

func (h *Handler) shopReviews(r *http.Request, id uuid.UUID) (httpx.List[Review], error) {
	q, err := httpx.QueryOf[shopListQuery](r)
	if err != nil {
		return httpx.List[Review]{}, err
	}
	return h.svc.ShopReviews(r.Context(), auth.Maybe(r), id, Filter{Rating: q.Rating, Target: events.ReviewTarget(q.Target)}, q.Page())
}

func (h *Handler) deliveryReviews(r *http.Request) (httpx.List[Review], error) {
	q, err := httpx.QueryOf[deliveryQuery](r)
	if err != nil {
		return httpx.List[Review]{}, err
	}
	return h.svc.DeliveryReviews(r.Context(), auth.Of(r), q.ShipperID, Filter{Rating: q.Rating}, q.Page())
}

func (h *Handler) shopSummary(r *http.Request, id uuid.UUID) (ShopRating, error) {
	return h.svc.PublicShopRating(r.Context(), id)
}

func (h *Handler) get(r *http.Request, id uuid.UUID) (Review, error) {
	return h.svc.Get(r.Context(), auth.Maybe(r), id)
}

func (h *Handler) media(r *http.Request, id uuid.UUID) (httpx.List[Media], error) {
	return h.svc.Media(r.Context(), auth.Maybe(r), id)
}

func (h *Handler) verified(r *http.Request) (httpx.List[Review], error) {
	q, err := httpx.QueryOf[scopeListQuery](r)
	if err != nil {
		return httpx.List[Review]{}, err
	}
	return h.svc.Verified(r.Context(), auth.Maybe(r), q.scope(), q.Page())
}

func (h *Handler) distribution(r *http.Request) (Rating, error) {
	q, err := httpx.QueryOf[scopeQuery](r)
	if err != nil {
		return Rating{}, err
	}
	return h.svc.Distribution(r.Context(), q.scope())
}

func (h *Handler) sentiment(r *http.Request) (SentimentReport, error) {
	q, err := httpx.QueryOf[scopeQuery](r)
	if err != nil {
		return SentimentReport{}, err
	}
	return h.svc.SentimentOf(r.Context(), q.scope())
}

func (h *Handler) reviewProduct(r *http.Request, id uuid.UUID, in ProductInput) (Review, error) {
	return h.svc.ReviewProduct(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) reviewShop(r *http.Request, id uuid.UUID, in OrderInput) (Review, error) {
	return h.svc.ReviewShop(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) reviewDelivery(r *http.Request, id uuid.UUID, in Input) (Review, error) {
	return h.svc.ReviewDelivery(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) edit(r *http.Request, id uuid.UUID, in Input) (Review, error) {
	return h.svc.Edit(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) delete(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.Delete(r.Context(), auth.Of(r), id)
}

func (h *Handler) reply(r *http.Request, id uuid.UUID, in ReplyInput) (Review, error) {
	return h.svc.Reply(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) report(r *http.Request, id uuid.UUID, in ReportInput) (Report, error) {
	return h.svc.Report(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) pending(r *http.Request) (httpx.List[Review], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Review]{}, err
	}
	return h.svc.Pending(r.Context(), auth.Of(r), page)
}

func (h *Handler) approve(r *http.Request, id uuid.UUID) (Review, error) {
	return h.svc.Approve(r.Context(), auth.Of(r), id)
}

func (h *Handler) reject(r *http.Request, id uuid.UUID, in RejectInput) (Review, error) {
	return h.svc.Reject(r.Context(), auth.Of(r), id, in)
}
