package shipping

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
	r.Route("/shipping", func(r chi.Router) {
		r.Method(http.MethodGet, "/methods", httpx.Endpoint(ok, h.methods))
		r.Method(http.MethodGet, "/providers", httpx.Endpoint(ok, h.providers))
		r.Method(http.MethodGet, "/weight-pricing", httpx.Endpoint(ok, h.weightPricing))
		r.Method(http.MethodPost, "/validate-address", httpx.WithBody(ok, h.validateAddress))
		r.Method(http.MethodPost, "/geocode", httpx.WithBody(ok, h.geocode))
		r.Method(http.MethodGet, "/distance-matrix", httpx.Endpoint(ok, h.distanceMatrix))
		r.Group(func(r chi.Router) {
			r.Use(h.authn.Optional)
			r.Method(http.MethodPost, "/calculate", httpx.WithBody(ok, h.calculate))
			r.Method(http.MethodPost, "/calculate-fees", httpx.WithBody(ok, h.calculateFees))
			r.Method(http.MethodGet, "/cost-calculator", httpx.Endpoint(ok, h.costCalculator))
		})
		r.Group(func(r chi.Router) {
			r.Use(h.authn.Required)
			r.Method(http.MethodPost, "/shippers/register", httpx.WithBody(created, h.register))
			r.Method(http.MethodGet, "/shippers", httpx.Endpoint(ok, h.listShippers))
			r.Method(http.MethodGet, "/shippers/available", httpx.Endpoint(ok, h.available))
			r.Method(http.MethodGet, "/shippers/{id}", httpx.WithID(ok, "id", "shipper", h.getShipper))
			r.Method(http.MethodPut, "/shippers/{id}/status", httpx.WithIDBody(ok, "id", "shipper", h.setStatus))
			r.Method(http.MethodGet, "/shipper/{shipper_id}/location", httpx.WithID(ok, "shipper_id", "shipper", h.shipperLocation))
			r.Post("/assign/{order_id}", h.assign)
			r.Post("/labels", h.label)
			r.Method(http.MethodGet, "/{order_id}/tracking", httpx.WithID(ok, "order_id", "shipment", h.tracking))
			r.Method(http.MethodPut, "/{order_id}/status", httpx.WithIDBody(ok, "order_id", "shipment", h.updateStatus))
			r.Method(http.MethodPost, "/{order_id}/location", httpx.WithIDBody(ok, "order_id", "shipment", h.location))
			r.Method(http.MethodPost, "/{order_id}/update-location", httpx.WithIDBody(ok, "order_id", "shipment", h.location))
			r.Get("/{order_id}/live-tracking", h.liveTracking)
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

func (h *Handler) weightPricing(r *http.Request) (WeightPricing, error) {
	w, err := intParam(r, "weight_grams", false)
	if err != nil {
		return WeightPricing{}, err
	}
	return h.svc.WeightPricing(w), nil
}

func (h *Handler) validateAddress(_ *http.Request, in geo.Address) (geo.Result, error) {
	return h.svc.ValidateAddress(in), nil
}

func (h *Handler) geocode(r *http.Request, in geo.Address) (Geocoded, error) {
	return h.svc.Geocode(r.Context(), in)
}

func (h *Handler) distanceMatrix(r *http.Request) (DistanceMatrix, error) {
	origins, err := pointsParam(r, "origins")
	if err != nil {
		return DistanceMatrix{}, err
	}
	dests, err := pointsParam(r, "destinations")
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

// costCalculator reads each end as from_lat/from_lng, from_shop_id, from_address_id, or
// from_province (with from_district), and the same with to_.
func (h *Handler) costCalculator(r *http.Request) (Comparison, error) {
	from, err := placeParams(r, "from")
	if err != nil {
		return Comparison{}, err
	}
	to, err := placeParams(r, "to")
	if err != nil {
		return Comparison{}, err
	}
	w, err := intParam(r, "weight_grams", true)
	if err != nil {
		return Comparison{}, err
	}
	return h.svc.Compare(r.Context(), auth.Maybe(r), from, to, w)
}

func (h *Handler) register(r *http.Request, in RegisterInput) (Registration, error) {
	return h.svc.Register(r.Context(), auth.Of(r), in)
}

func (h *Handler) listShippers(r *http.Request) (httpx.List[Shipper], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Shipper]{}, err
	}
	return h.svc.Shippers(r.Context(), auth.Of(r), r.URL.Query().Get("status"), page)
}

// available reads ?lat=&lng= and ?radius= in kilometres (default 5, at most 50).
func (h *Handler) available(r *http.Request) (httpx.List[Shipper], error) {
	lat, err := floatParam(r, "lat", -90, 90)
	if err != nil {
		return httpx.List[Shipper]{}, err
	}
	lng, err := floatParam(r, "lng", -180, 180)
	if err != nil {
		return httpx.List[Shipper]{}, err
	}
	radius := 5.0
	if r.URL.Query().Get("radius") != "" {
		if radius, err = floatParam(r, "radius", 0.01, 50); err != nil {
			return httpx.List[Shipper]{}, err
		}
	}
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Shipper]{}, err
	}
	return h.svc.Nearby(r.Context(), auth.Of(r), NearbyQuery{Point: geo.Point{Lat: lat, Lng: lng}, RadiusKm: radius}, page.Limit)
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
func (h *Handler) assign(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.UUIDParam(r, "order_id", "order")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	var in AssignInput
	if err := httpx.DecodeOptional(r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	m, err := h.svc.Assign(r.Context(), auth.Of(r), id, in)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	httpx.OK(w, m)
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

func orderID(r *http.Request) (uuid.UUID, error) { return httpx.UUIDParam(r, "order_id", "shipment") }

func (h *Handler) tracking(r *http.Request, id uuid.UUID) (Shipment, error) {
	return h.svc.Tracking(r.Context(), auth.Of(r), id)
}

func (h *Handler) updateStatus(r *http.Request, id uuid.UUID, in UpdateInput) (Shipment, error) {
	return h.svc.UpdateStatus(r.Context(), auth.Of(r), id, in)
}

func (h *Handler) location(r *http.Request, id uuid.UUID, in LocationInput) (LocationUpdate, error) {
	return h.svc.RecordLocation(r.Context(), auth.Of(r), id, in)
}

// liveTracking streams a delivery's locations and steps over WebSocket to those who follow it;
// anyone else is refused with a problem before the upgrade. A request that does not ask to
// upgrade gets the shipment as it is now, so a client without WebSocket can poll.
func (h *Handler) liveTracking(w http.ResponseWriter, r *http.Request) {
	id, err := orderID(r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	p := auth.Of(r)
	if !isWebSocket(r) {
		m, err := h.svc.Tracking(r.Context(), p, id)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		httpx.OK(w, m)
		return
	}
	if err := h.svc.AuthorizeFollower(r.Context(), p, id); err != nil {
		httpx.Error(w, r, err)
		return
	}
	_ = h.hub.Serve(w, r, h.svc.Topic(id))
}

func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func intParam(r *http.Request, name string, required bool) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		if required {
			return 0, apperr.Field(name, "is required")
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > 1_000_000 {
		return 0, apperr.Field(name, "must be a whole number from 1 to 1000000")
	}
	return n, nil
}

func floatParam(r *http.Request, name string, lo, hi float64) (float64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, apperr.Field(name, "is required")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < lo || v > hi {
		return 0, apperr.Field(name, "must be a number from "+strconv.FormatFloat(lo, 'g', -1, 64)+" to "+strconv.FormatFloat(hi, 'g', -1, 64))
	}
	return v, nil
}

// pointsParam reads "lat,lng|lat,lng|...".
func pointsParam(r *http.Request, name string) ([]geo.Point, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return nil, apperr.Field(name, "is required: points as lat,lng separated by |")
	}
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

// placeParams reads one end of a trip from the query string.
func placeParams(r *http.Request, end string) (Place, error) {
	q := r.URL.Query()
	var pl Place
	if s := q.Get(end + "_shop_id"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			return pl, apperr.Field(end+"_shop_id", "is not an ID")
		}
		pl.ShopID = &id
		return pl, nil
	}
	if s := q.Get(end + "_address_id"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			return pl, apperr.Field(end+"_address_id", "is not an ID")
		}
		pl.AddressID = &id
		return pl, nil
	}
	if q.Get(end+"_lat") != "" || q.Get(end+"_lng") != "" {
		lat, err := floatParam(r, end+"_lat", -90, 90)
		if err != nil {
			return pl, err
		}
		lng, err := floatParam(r, end+"_lng", -180, 180)
		if err != nil {
			return pl, err
		}
		pl.Lat, pl.Lng = &lat, &lng
		return pl, nil
	}
	if p := q.Get(end + "_province"); p != "" {
		pl.Address = &geo.Address{Province: p, District: q.Get(end + "_district")}
		return pl, nil
	}
	return pl, apperr.Field(end, "give "+end+"_lat and "+end+"_lng, "+end+"_shop_id, "+end+"_address_id or "+end+"_province")
}
