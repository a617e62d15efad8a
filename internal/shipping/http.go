package shipping

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/realtime"
	"github.com/goshop/goshop/internal/shipping/geo"
)

// Handler serves the shipping routes.
type Handler struct {
	svc   *Service
	authn *auth.Authenticator
	hub   *realtime.Hub
}

// NewHandler returns the shipping HTTP handler; live tracking streams from hub.
func NewHandler(svc *Service, authn *auth.Authenticator, hub *realtime.Hub) *Handler {
	return &Handler{svc: svc, authn: authn, hub: hub}
}

// Routes mounts /shipping. Prices, methods and the map are public (naming one of your
// addresses needs a token); shippers and deliveries need one.
func (h *Handler) Routes(r chi.Router) {
	const (
		ok      = http.StatusOK
		created = http.StatusCreated
	)
	conflict, notFound := apperr.Conflict, apperr.NotFound
	r.Route("/shipping", func(r chi.Router) {
		r.Method(http.MethodGet, "/methods", httpx.Endpoint(ok, h.methods).
			Doc("The delivery methods and their starting prices").For(httpx.Public))
		r.Method(http.MethodGet, "/providers", httpx.Endpoint(ok, h.providers).
			Doc("The carriers that deliver GoShop parcels").For(httpx.Public))
		r.Method(http.MethodGet, "/weight-pricing", httpx.Endpoint(ok, h.weightPricing).
			Doc("The weight part of the price list, and each method's price for a weight").For(httpx.Public).
			Params(weightQuery{}))
		r.Method(http.MethodPost, "/validate-address", httpx.WithBody(ok, h.validateAddress).
			Doc("Check an address against the map of Viet Nam").For(httpx.Public))
		r.Method(http.MethodPost, "/geocode", httpx.WithBody(ok, h.geocode).
			Doc("Place an address on the map").For(httpx.Public))
		r.Method(http.MethodGet, "/distance-matrix", httpx.Endpoint(ok, h.distanceMatrix).
			Doc("Road distance and time from every origin to every destination").For(httpx.Public).
			Params(matrixQuery{}))
		r.Group(func(r chi.Router) {
			r.Use(h.authn.Optional)
			r.Method(http.MethodPost, "/calculate", httpx.WithBody(ok, h.calculate).
				Doc("Price a parcel between two places (one of your addresses needs a token)").For(httpx.Public).
				Can(notFound))
			r.Method(http.MethodPost, "/calculate-fees", httpx.WithBody(ok, h.calculateFees).
				Doc("Price several parcels at once").For(httpx.Public).Can(notFound))
			r.Method(http.MethodGet, "/cost-calculator", httpx.Endpoint(ok, h.costCalculator).
				Doc("Price a trip with every delivery method, cheapest first").For(httpx.Public).
				Params(costQuery{}).Can(notFound))
		})
		r.Group(func(r chi.Router) {
			r.Use(h.authn.Required)
			r.Method(http.MethodPost, "/shippers/register", httpx.WithBody(created, h.register).
				Doc("Become a shipper; answers a new access token with the role").For(httpx.AnyUser).
				Can(conflict, notFound))
			r.Method(http.MethodGet, "/shippers", httpx.Endpoint(ok, h.listShippers).
				Doc("Shippers, newest first").For(httpx.Admin).Params(shippersQuery{}))
			r.Method(http.MethodGet, "/shippers/available", httpx.Endpoint(ok, h.available).
				Doc("Available shippers near a point, nearest first (shop owners and admins)").For(httpx.ShopOwner).
				Params(nearbyQuery{}))
			r.Method(http.MethodGet, "/shippers/{id}", httpx.WithID(ok, "id", "shipper", h.getShipper).
				Doc("A shipper: to themself, an admin, or those whose delivery they carry").For(httpx.Owner))
			r.Method(http.MethodPut, "/shippers/{id}/status", httpx.WithIDBody(ok, "id", "shipper", h.setStatus).
				Doc("Set a shipper's status and position (the shipper or an admin)").For(httpx.Shipper).Can(conflict))
			r.Method(http.MethodGet, "/shipper/{shipper_id}/location", httpx.WithID(ok, "shipper_id", "shipper", h.shipperLocation).
				Doc("Where a shipper was last seen: to themself, an admin, or those whose delivery they carry").
				For(httpx.Owner))
			r.Method(http.MethodPost, "/assign/{order_id}", httpx.WithOptionalBody(ok, h.assign).ID("order_id", "order").
				Doc("Give an order's delivery to a shipper, or to the nearest available one without a body").
				For(httpx.ShopOwner).Can(conflict))
			r.Method(http.MethodPost, "/labels", httpx.Documented[LabelInput, httpx.Empty](ok, h.label).
				Doc("Print an order's shipping label: answers application/pdf").For(httpx.ShopOwner).Can(conflict))
			r.Method(http.MethodGet, "/{order_id}/tracking", httpx.WithID(ok, "order_id", "shipment", h.tracking).
				Doc("An order's shipment with its timeline: to its buyer, its shop's owner, its shipper or an admin").
				For(httpx.Owner))
			r.Method(http.MethodPut, "/{order_id}/status", httpx.WithIDBody(ok, "order_id", "shipment", h.updateStatus).
				Doc("Move a delivery one step (its shipper or an admin)").For(httpx.Shipper).Can(conflict))
			r.Method(http.MethodPost, "/{order_id}/location", httpx.WithIDBody(ok, "order_id", "shipment", h.location).
				Doc("Report where the delivery is (its shipper)").For(httpx.Shipper).Can(conflict))
			r.Method(http.MethodPost, "/{order_id}/update-location", httpx.WithIDBody(ok, "order_id", "shipment", h.location).
				Doc("Report where the delivery is (its shipper); the same as /location").For(httpx.Shipper).Can(conflict))
			r.Method(http.MethodGet, "/{order_id}/live-tracking", httpx.Upgrade(h.liveTracking).ID("order_id", "shipment").
				Params(followQuery{}).
				Doc("Follow a delivery live over WebSocket: its buyer, its shop's owner, its shipper or an admin").
				For(httpx.Owner).Can(apperr.BadRequest, apperr.TooManyRequests))
		})
	})
}

func (h *Handler) methods(*http.Request) (httpx.List[MethodInfo], error) {
	ms, err := h.svc.Methods()
	return httpx.List[MethodInfo]{Items: ms}, err
}

func (h *Handler) providers(*http.Request) (httpx.List[Provider], error) {
	ps, err := h.svc.Providers()
	return httpx.List[Provider]{Items: ps}, err
}

// weightQuery optionally names a parcel's weight.
type weightQuery struct {
	WeightGrams *int64 `query:"weight_grams" validate:"omitempty,min=1,max=1000000" doc:"a parcel's weight in grams: adds each method's price for it"`
}

func (h *Handler) weightPricing(r *http.Request) (WeightPricing, error) {
	q, err := httpx.QueryOf[weightQuery](r)
	if err != nil || q.WeightGrams == nil {
		return h.svc.WeightPricing(0), err
	}
	return h.svc.WeightPricing(*q.WeightGrams), nil
}

func (h *Handler) validateAddress(_ *http.Request, in geo.Address) (geo.Result, error) {
	return h.svc.ValidateAddress(in), nil
}

func (h *Handler) geocode(r *http.Request, in geo.Address) (Geocoded, error) {
	return h.svc.Geocode(r.Context(), in)
}

// matrixQuery names the two sides of a distance matrix.
type matrixQuery struct {
	Origins      string `query:"origins" validate:"required,max=2000" doc:"1 to 25 points as lat,lng separated by |"`
	Destinations string `query:"destinations" validate:"required,max=2000" doc:"1 to 25 points as lat,lng separated by |"`
}

func (h *Handler) distanceMatrix(r *http.Request) (DistanceMatrix, error) {
	q, err := httpx.QueryOf[matrixQuery](r)
	if err != nil {
		return DistanceMatrix{}, err
	}
	origins, err := points("origins", q.Origins)
	if err != nil {
		return DistanceMatrix{}, err
	}
	dests, err := points("destinations", q.Destinations)
	if err != nil {
		return DistanceMatrix{}, err
	}
	return h.svc.DistanceMatrix(r.Context(), origins, dests)
}

func (h *Handler) calculate(r *http.Request, in ParcelInput) (Priced, error) {
	return h.svc.Calculate(r.Context(), auth.Maybe(r), in)
}

func (h *Handler) calculateFees(r *http.Request, in BatchInput) (Batch, error) {
	return h.svc.CalculateMany(r.Context(), auth.Maybe(r), in)
}

// costQuery names each end of a trip as from_lat/from_lng, from_shop_id, from_address_id, or
// from_province (with from_district), tried in that order, and the same with to_.
type costQuery struct {
	FromLat       *float64   `query:"from_lat" validate:"required_with=FromLng,omitempty,latitude" doc:"where the trip starts, with from_lng"`
	FromLng       *float64   `query:"from_lng" validate:"required_with=FromLat,omitempty,longitude" doc:"where the trip starts, with from_lat"`
	FromShopID    *uuid.UUID `query:"from_shop_id" doc:"the trip starts at this shop"`
	FromAddressID *uuid.UUID `query:"from_address_id" doc:"the trip starts at this address of the caller's (needs a token)"`
	FromProvince  string     `query:"from_province" validate:"max=100" doc:"the trip starts in this province"`
	FromDistrict  string     `query:"from_district" validate:"max=100" doc:"and this district of it"`
	ToLat         *float64   `query:"to_lat" validate:"required_with=ToLng,omitempty,latitude" doc:"where the trip ends, with to_lng"`
	ToLng         *float64   `query:"to_lng" validate:"required_with=ToLat,omitempty,longitude" doc:"where the trip ends, with to_lat"`
	ToShopID      *uuid.UUID `query:"to_shop_id" doc:"the trip ends at this shop"`
	ToAddressID   *uuid.UUID `query:"to_address_id" doc:"the trip ends at this address of the caller's (needs a token)"`
	ToProvince    string     `query:"to_province" validate:"max=100" doc:"the trip ends in this province"`
	ToDistrict    string     `query:"to_district" validate:"max=100" doc:"and this district of it"`
	WeightGrams   int64      `query:"weight_grams" validate:"required,min=1,max=1000000" doc:"the parcel's weight in grams"`
}

func (h *Handler) costCalculator(r *http.Request) (Comparison, error) {
	q, err := httpx.QueryOf[costQuery](r)
	if err != nil {
		return Comparison{}, err
	}
	from, err := placeOf("from", q.FromLat, q.FromLng, q.FromShopID, q.FromAddressID, q.FromProvince, q.FromDistrict)
	if err != nil {
		return Comparison{}, err
	}
	to, err := placeOf("to", q.ToLat, q.ToLng, q.ToShopID, q.ToAddressID, q.ToProvince, q.ToDistrict)
	if err != nil {
		return Comparison{}, err
	}
	return h.svc.Compare(r.Context(), auth.Maybe(r), from, to, q.WeightGrams)
}

// placeOf makes one end of a trip from its query parameters: a shop, an address, a point, or
// a province, in that order.
func placeOf(end string, lat, lng *float64, shopID, addressID *uuid.UUID, province, district string) (Place, error) {
	switch {
	case shopID != nil:
		return Place{ShopID: shopID}, nil
	case addressID != nil:
		return Place{AddressID: addressID}, nil
	case lat != nil && lng != nil:
		return Place{Lat: lat, Lng: lng}, nil
	case province != "":
		return Place{Address: &geo.Address{Province: province, District: district}}, nil
	}
	return Place{}, apperr.Field(end, "give "+end+"_lat and "+end+"_lng, "+end+"_shop_id, "+end+"_address_id or "+end+"_province")
}

func (h *Handler) register(r *http.Request, in RegisterInput) (Registration, error) {
	return h.svc.Register(r.Context(), auth.Of(r), in)
}

// shippersQuery pages the shippers, optionally of one status.
type shippersQuery struct {
	httpx.PageQuery
	Status string `query:"status" validate:"omitempty,oneof=offline available busy" doc:"only shippers in this status"`
}

func (h *Handler) listShippers(r *http.Request) (httpx.List[Shipper], error) {
	q, err := httpx.QueryOf[shippersQuery](r)
	if err != nil {
		return httpx.List[Shipper]{}, err
	}
	return h.svc.Shippers(r.Context(), auth.Of(r), q.Status, q.Page())
}

// nearbyQuery is the point to look around, how far, and how many shippers to list.
type nearbyQuery struct {
	Lat      *float64 `query:"lat" validate:"required,latitude" doc:"the point to look around"`
	Lng      *float64 `query:"lng" validate:"required,longitude" doc:"the point to look around"`
	RadiusKm *float64 `query:"radius" validate:"omitempty,min=0.01,max=50" doc:"how far to look, in kilometres (default 5)"`
	Limit    *int     `query:"limit" validate:"omitempty,min=1,max=100" doc:"shippers to list, from 1 to 100 (default 20)"`
}

func (h *Handler) available(r *http.Request) (httpx.List[Shipper], error) {
	q, err := httpx.QueryOf[nearbyQuery](r)
	if err != nil {
		return httpx.List[Shipper]{}, err
	}
	in, limit := NearbyQuery{Point: geo.Point{Lat: *q.Lat, Lng: *q.Lng}, RadiusKm: 5}, httpx.DefaultLimit
	if q.RadiusKm != nil {
		in.RadiusKm = *q.RadiusKm
	}
	if q.Limit != nil {
		limit = *q.Limit
	}
	return h.svc.Nearby(r.Context(), auth.Of(r), in, limit)
}

func (h *Handler) getShipper(r *http.Request, id uuid.UUID) (Shipper, error) {
	return h.svc.Shipper(r.Context(), auth.Of(r), id)
}

func (h *Handler) setStatus(r *http.Request, id uuid.UUID, in StatusInput) (Shipper, error) {
	return h.svc.SetStatus(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) shipperLocation(r *http.Request, id uuid.UUID) (ShipperLocation, error) {
	return h.svc.ShipperLocation(r.Context(), auth.Of(r), id)
}

// assign takes an optional body: none (or {}) assigns the nearest available shipper.
func (h *Handler) assign(r *http.Request, in AssignInput) (Shipment, error) {
	id, err := httpx.UUIDParam(r, "order_id", "order")
	if err != nil {
		return Shipment{}, err
	}
	return h.svc.Assign(r.Context(), auth.Of(r), id, in)
}

// label answers the PDF itself, as a download named after the tracking number.
func (h *Handler) label(w http.ResponseWriter, r *http.Request) {
	var in LabelInput
	if err := httpx.Decode(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	l, err := h.svc.Label(r.Context(), auth.Of(r), in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="label-`+l.TrackingNumber+`.pdf"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(l.PDF)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(l.PDF)
}

func (h *Handler) tracking(r *http.Request, id uuid.UUID) (Shipment, error) {
	return h.svc.Tracking(r.Context(), auth.Of(r), id)
}

func (h *Handler) updateStatus(r *http.Request, id uuid.UUID, in UpdateInput) (Shipment, error) {
	return h.svc.UpdateStatus(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) location(r *http.Request, id uuid.UUID, in LocationInput) (LocationUpdate, error) {
	return h.svc.RecordLocation(r.Context(), auth.Of(r), id, in)
}

// followQuery is the access token of a browser, which cannot set headers on a WebSocket
// upgrade; the authenticator reads it (only on an upgrade), the handler never does.
type followQuery struct {
	Token string `query:"token" validate:"max=4096" doc:"the access token, when the Authorization header cannot be sent"`
}

// liveTracking streams a delivery's locations and steps over WebSocket to those who follow it;
// anyone else is refused with a problem before the upgrade, and so is a request that does not
// ask for one (GET /shipping/{order_id}/tracking answers the shipment as it is now).
func (h *Handler) liveTracking(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.UUIDParam(r, "order_id", "shipment")
	if err == nil {
		err = h.svc.AuthorizeFollower(r.Context(), auth.Of(r), id)
	}
	if err == nil && !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		err = apperr.New(apperr.BadRequest, "live tracking is a WebSocket stream: ask for the upgrade, or GET /shipping/%s/tracking", id)
	}
	var pass *realtime.Pass
	if err == nil {
		pass, err = h.hub.Admit(w, r, auth.Of(r).UserID.String())
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p := auth.Of(r)
	_ = h.hub.Serve(w, r, pass, h.svc.Topic(id), func(ctx context.Context) (string, any, error) {
		sh, err := h.svc.Tracking(ctx, p, id)
		if apperr.Is(err, apperr.NotFound) {
			return "", nil, nil // no shipment yet: the stream says when one is assigned
		}
		return MsgShipment, sh, err
	})
}

// points reads "lat,lng|lat,lng|...".
func points(name, raw string) ([]geo.Point, error) {
	var out []geo.Point
	for _, part := range strings.Split(raw, "|") {
		lat, lng, ok := strings.Cut(strings.TrimSpace(part), ",")
		a, err1 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(lng), 64)
		pt := geo.Point{Lat: a, Lng: b}
		if !ok || err1 != nil || err2 != nil || !pt.Valid() {
			return nil, apperr.Field(name, "each point is lat,lng in degrees (got "+strconv.Quote(part)+")")
		}
		out = append(out, pt)
	}
	return out, nil
}
