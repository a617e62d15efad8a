package shipping

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/shipping/geo"
)

// Every fee this context shows comes from geo.FeeConfig.Quote, through price below: the
// calculator routes, the shipments and the cart's shipping fee alike.

// Place is one end of a trip: a shop, one of the caller's addresses, a point, or an address
// to geocode, tried in that order.
type Place struct {
	ShopID    *uuid.UUID   `json:"shop_id"`
	AddressID *uuid.UUID   `json:"address_id"`
	Lat       *float64     `json:"lat" validate:"required_with=Lng,omitempty,latitude"`
	Lng       *float64     `json:"lng" validate:"required_with=Lat,omitempty,longitude"`
	Address   *geo.Address `json:"address"`
}

// placed is a Place resolved to a point and, when known, its current province.
type placed struct {
	Point    geo.Point `json:"point"`
	Province string    `json:"province,omitempty"`
}

// ParcelInput is a parcel to price between two places.
type ParcelInput struct {
	From        Place  `json:"from" validate:"required"`
	To          Place  `json:"to" validate:"required"`
	WeightGrams int64  `json:"weight_grams" validate:"required,gt=0,lte=1000000"`
	Method      string `json:"method" validate:"omitempty,max=20"`
}

// Priced is a parcel's quote with the trip it was priced for.
type Priced struct {
	geo.Quote
	From         geo.Point `json:"from"`
	To           geo.Point `json:"to"`
	SameProvince bool      `json:"same_province"`
}

// Calculate prices one parcel; a caller who names an address must be signed in and own it.
func (s *Service) Calculate(ctx context.Context, p *auth.Principal, in ParcelInput) (Priced, error) {
	from, err := s.resolve(ctx, nil, p, "from", in.From)
	if err != nil {
		return Priced{}, err
	}
	to, err := s.resolve(ctx, nil, p, "to", in.To)
	if err != nil {
		return Priced{}, err
	}
	method := in.Method
	if method == "" {
		method = string(geo.MethodStandard)
	}
	return s.price(ctx, from, to, geo.Method(method), in.WeightGrams)
}

// BatchInput prices several parcels at once (a cart with several shops, say).
type BatchInput struct {
	Parcels []ParcelInput `json:"parcels" validate:"required,min=1,max=50,dive"`
}

// Batch is the answer to BatchInput: each parcel's quote, in order, and their sum.
type Batch struct {
	Items    []Priced `json:"items"`
	Total    int64    `json:"total"`
	Currency string   `json:"currency"`
}

// CalculateMany prices several parcels; one that cannot be carried fails the batch, naming it.
func (s *Service) CalculateMany(ctx context.Context, p *auth.Principal, in BatchInput) (Batch, error) {
	out := Batch{Items: make([]Priced, 0, len(in.Parcels)), Currency: s.cfg.Fees.Currency}
	for i, parcel := range in.Parcels {
		q, err := s.Calculate(ctx, p, parcel)
		if err != nil {
			return Batch{}, prefixFields(err, fmt.Sprintf("parcels[%d].", i))
		}
		out.Items = append(out.Items, q)
		out.Total += q.Total
	}
	return out, nil
}

// Option is one method's answer in the cost calculator: its quote, or why it cannot carry
// the parcel.
type Option struct {
	Method    geo.Method `json:"method"`
	Available bool       `json:"available"`
	Quote     *geo.Quote `json:"quote,omitempty"`
	Reason    string     `json:"reason,omitempty"`
}

// Comparison is every method's price for one trip.
type Comparison struct {
	From         geo.Point `json:"from"`
	To           geo.Point `json:"to"`
	DistanceKm   float64   `json:"distance_km"`
	SameProvince bool      `json:"same_province"`
	WeightGrams  int64     `json:"weight_grams"`
	Currency     string    `json:"currency"`
	Options      []Option  `json:"options"`
}

// Compare prices a trip with every method, cheapest first among those that can carry it.
func (s *Service) Compare(ctx context.Context, p *auth.Principal, from, to Place, weight int64) (Comparison, error) {
	a, err := s.resolve(ctx, nil, p, "from", from)
	if err != nil {
		return Comparison{}, err
	}
	b, err := s.resolve(ctx, nil, p, "to", to)
	if err != nil {
		return Comparison{}, err
	}
	out := Comparison{From: a.Point, To: b.Point, WeightGrams: weight, Currency: s.cfg.Fees.Currency,
		SameProvince: sameProvince(a, b), Options: []Option{}}
	for _, m := range s.methods() {
		q, err := s.price(ctx, a, b, m, weight)
		if err != nil {
			if apperr.CodeOf(err) != apperr.Invalid {
				return Comparison{}, err
			}
			out.Options = append(out.Options, Option{Method: m, Reason: message(err)})
			continue
		}
		out.DistanceKm = q.DistanceKm
		out.Options = append(out.Options, Option{Method: m, Available: true, Quote: &q.Quote})
	}
	slices.SortStableFunc(out.Options, func(x, y Option) int {
		switch {
		case x.Available != y.Available:
			if x.Available {
				return -1
			}
			return 1
		case x.Quote != nil && y.Quote != nil:
			return int(x.Quote.Total - y.Quote.Total)
		}
		return 0
	})
	return out, nil
}

// MethodInfo describes a delivery method and its starting price.
type MethodInfo struct {
	Method geo.Method     `json:"method"`
	Name   string         `json:"name"`
	Rule   geo.MethodRule `json:"rule"`
	// FromPrice is the price of the lightest parcel on the shortest trip.
	FromPrice int64  `json:"from_price"`
	Currency  string `json:"currency"`
}

var methodNames = map[geo.Method]string{
	geo.MethodStandard: "Standard delivery",
	geo.MethodExpress:  "Express delivery",
	geo.MethodSameDay:  "Same-day delivery",
}

// Methods lists the configured delivery methods with their starting prices.
func (s *Service) Methods() ([]MethodInfo, error) {
	var out []MethodInfo
	for _, m := range s.methods() {
		q, err := s.cfg.Fees.Quote(geo.Input{Method: m, WeightGrams: 1, SameProvince: true})
		if err != nil {
			return nil, err
		}
		name := methodNames[m]
		if name == "" {
			name = string(m)
		}
		out = append(out, MethodInfo{Method: m, Name: name, Rule: s.cfg.Fees.Methods[m], FromPrice: q.Total, Currency: q.Currency})
	}
	return out, nil
}

// Provider is a carrier that delivers GoShop parcels.
type Provider struct {
	ID           string       `json:"id"`
	Name         string       `json:"name"`
	Kind         string       `json:"kind"`
	Methods      []MethodInfo `json:"methods"`
	CashOnDeliv  bool         `json:"cash_on_delivery"`
	LiveTracking bool         `json:"live_tracking"`
}

// Providers lists the carriers. GoShop delivers with its own shippers; third-party carriers
// would be listed here beside them, each priced by its own list.
func (s *Service) Providers() ([]Provider, error) {
	ms, err := s.Methods()
	if err != nil {
		return nil, err
	}
	return []Provider{{ID: "goshop", Name: "GoShop Express", Kind: "in_house_fleet", Methods: ms, CashOnDeliv: true, LiveTracking: true}}, nil
}

// WeightPricing is the weight part of the price list, with, when asked, what a parcel of a
// given weight costs by each method before distance.
type WeightPricing struct {
	Currency       string           `json:"currency"`
	BaseFee        int64            `json:"base_fee"`
	WeightTiers    []geo.WeightTier `json:"weight_tiers"`
	ExtraStepGrams int64            `json:"extra_step_grams"`
	ExtraStepFee   int64            `json:"extra_step_fee"`
	IncludedKm     float64          `json:"included_km"`
	PerKmFee       int64            `json:"per_km_fee"`
	MaxWeightGrams int64            `json:"max_weight_grams"`
	Multipliers    map[string]int64 `json:"multiplier_percent"`
	// Examples: with ?weight_grams=, each method's quote for that parcel within the included
	// distance.
	Examples []Option `json:"examples,omitempty"`
}

// WeightPricing shows the weight tiers; weight > 0 adds each method's price for that weight.
func (s *Service) WeightPricing(weight int64) WeightPricing {
	f := s.cfg.Fees
	out := WeightPricing{Currency: f.Currency, BaseFee: f.BaseFee, WeightTiers: f.WeightTiers, ExtraStepGrams: f.ExtraStepGrams,
		ExtraStepFee: f.ExtraStepFee, IncludedKm: f.IncludedKm, PerKmFee: f.PerKmFee, MaxWeightGrams: f.MaxWeightGrams,
		Multipliers: map[string]int64{}}
	for _, m := range s.methods() {
		out.Multipliers[string(m)] = f.Methods[m].MultiplierPercent
		if weight <= 0 {
			continue
		}
		q, err := f.Quote(geo.Input{Method: m, WeightGrams: weight, SameProvince: true})
		if err != nil {
			out.Examples = append(out.Examples, Option{Method: m, Reason: message(err)})
			continue
		}
		out.Examples = append(out.Examples, Option{Method: m, Available: true, Quote: &q})
	}
	return out
}

// FeeRequest is the cart's question: what it costs to ship a shop's parcel to a buyer.
type FeeRequest struct {
	ShopID      uuid.UUID
	WeightGrams int64
	Method      events.ShippingMethod
	// AddressID is the buyer's address when known; without it the trip is priced at the
	// method's base, as if within the shop's province and its included distance.
	AddressID *uuid.UUID
	BuyerID   uuid.UUID
}

// Fee prices a cart's parcel: the cart's shipping fee comes from here. tx is the checkout's
// transaction (nil outside one), which the shop and the address are read through. Errors name
// the cart's own fields (shipping_method, address_id).
func (s *Service) Fee(ctx context.Context, tx pgx.Tx, r FeeRequest) (int64, error) {
	shop, err := s.shops.Shop(ctx, tx, r.ShopID)
	if err != nil {
		return 0, err
	}
	from := placed{Point: geo.Point{Lat: shop.Lat, Lng: shop.Lng}, Province: s.provinceSlug(shop.Province)}
	to := from
	if r.AddressID != nil {
		p := auth.Principal{UserID: r.BuyerID}
		if to, err = s.resolve(ctx, tx, &p, "address_id", Place{AddressID: r.AddressID}); err != nil {
			return 0, err
		}
	}
	q, err := s.price(ctx, from, to, r.Method, max(r.WeightGrams, 1))
	if err != nil {
		return 0, renameField(err, "method", "shipping_method")
	}
	return q.Total, nil
}

// FeeQuote is a parcel's fee whose shop read is queued on a batch (QueueFee).
type FeeQuote struct {
	s    *Service
	r    FeeRequest
	to   *Address
	shop Shop
	err  error
}

// QueueFees is Fee for the parcels of a checkout that batches its reads: their shops are read in
// the caller's batch, in one statement, and the buyer's address is the one the caller already
// holds (to; nil: priced at the method's base, as Fee without an address). It answers a quote a
// shop; once the batch is sent, each one's Fee prices its parcel, whose weight is known by then.
func (s *Service) QueueFees(ctx context.Context, b *pgdb.Batch, rs []FeeRequest, to *Address) map[uuid.UUID]*FeeQuote {
	quotes := make(map[uuid.UUID]*FeeQuote, len(rs))
	ids := make([]uuid.UUID, 0, len(rs))
	for _, r := range rs {
		if _, dup := quotes[r.ShopID]; !dup {
			quotes[r.ShopID] = &FeeQuote{s: s, r: r, to: to}
			ids = append(ids, r.ShopID)
		}
	}
	if len(ids) == 0 {
		return quotes
	}
	s.shops.QueueShops(ctx, b, ids, func(shops map[uuid.UUID]Shop, err error) error {
		if err != nil {
			return err
		}
		for id, f := range quotes {
			sh, ok := shops[id]
			if !ok { // answered by Fee, if the parcel is priced at all
				f.err = apperr.NotFoundf("shop")
			}
			f.shop = sh
		}
		return nil
	})
	return quotes
}

// Fee prices the parcel of weightGrams, as Fee does, once its batch was sent.
func (f *FeeQuote) Fee(ctx context.Context, weightGrams int64) (int64, error) {
	s := f.s
	if f.err != nil {
		return 0, f.err
	}
	f.r.WeightGrams = weightGrams
	from := placed{Point: geo.Point{Lat: f.shop.Lat, Lng: f.shop.Lng}, Province: s.provinceSlug(f.shop.Province)}
	to := from
	if f.to != nil {
		var err error
		if to, err = s.locate(ctx, "address_id", f.to.Address, f.to.Lat, f.to.Lng); err != nil {
			return 0, err
		}
	}
	q, err := s.price(ctx, from, to, f.r.Method, max(f.r.WeightGrams, 1))
	if err != nil {
		return 0, renameField(err, "method", "shipping_method")
	}
	return q.Total, nil
}

// price is the one path to a fee: route the trip, then quote it.
func (s *Service) price(ctx context.Context, from, to placed, m geo.Method, weight int64) (Priced, error) {
	km := 0.0
	if from.Point != to.Point {
		route, err := s.cfg.Router.Route(ctx, from.Point, to.Point)
		if err != nil {
			return Priced{}, err
		}
		km = route.DistanceKm
	}
	same := sameProvince(from, to)
	q, err := s.cfg.Fees.Quote(geo.Input{Method: m, WeightGrams: weight, DistanceKm: math.Round(km*1000) / 1000, SameProvince: same})
	if err != nil {
		return Priced{}, err
	}
	return Priced{Quote: q, From: from.Point, To: to.Point, SameProvince: same}, nil
}

// resolve turns a Place into a point: a shop's location, one of the caller's addresses (its
// stored position, else geocoded), a point as given, or a geocoded address.
func (s *Service) resolve(ctx context.Context, tx pgx.Tx, p *auth.Principal, field string, pl Place) (placed, error) {
	switch {
	case pl.ShopID != nil:
		shop, err := s.shops.Shop(ctx, tx, *pl.ShopID)
		if err != nil {
			return placed{}, err
		}
		return placed{Point: geo.Point{Lat: shop.Lat, Lng: shop.Lng}, Province: s.provinceSlug(shop.Province)}, nil
	case pl.AddressID != nil:
		if p == nil {
			return placed{}, apperr.New(apperr.Unauthorized, "sign in to price a trip to one of your addresses")
		}
		a, err := s.identity.Address(ctx, tx, p.UserID, *pl.AddressID)
		if err != nil {
			return placed{}, err
		}
		return s.locate(ctx, field, a.Address, a.Lat, a.Lng)
	case pl.Lat != nil && pl.Lng != nil:
		pt := geo.Point{Lat: *pl.Lat, Lng: *pl.Lng}
		out := placed{Point: pt}
		if pl.Address != nil {
			out.Province = s.provinceSlug(pl.Address.Province)
		}
		if out.Province == "" {
			out.Province = s.nearestProvince(pt)
		}
		return out, nil
	case pl.Address != nil:
		return s.locate(ctx, field, *pl.Address, nil, nil)
	}
	return placed{}, apperr.Field(field, "give a shop_id, an address_id, lat and lng, or an address")
}

// locate places an address: at its stored position when it has one, else where the geocoder
// puts it.
func (s *Service) locate(ctx context.Context, field string, a geo.Address, lat, lng *float64) (placed, error) {
	out := placed{Province: s.provinceSlug(a.Province)}
	if lat != nil && lng != nil {
		out.Point = geo.Point{Lat: *lat, Lng: *lng}
		return out, nil
	}
	loc, err := s.cfg.Geocoder.Geocode(ctx, a)
	if err != nil {
		return placed{}, prefixFields(err, field+".")
	}
	out.Point = loc.Point
	if out.Province == "" {
		out.Province = s.nearestProvince(loc.Point)
	}
	return out, nil
}

// provinceSlug is the current province a name means, or "" when the gazetteer does not know it.
func (s *Service) provinceSlug(name string) string {
	if m, ok := s.gaz.LookupProvince(name); ok {
		return m.Province.Slug
	}
	return ""
}

// nearestProvince guesses the province of a bare point as the one whose seat is nearest, or
// whose former provinces' seat is: good enough to tell a trip across town from one across the
// country, which is all the delivery estimate and the same-day limit ask.
func (s *Service) nearestProvince(pt geo.Point) string {
	best, slug := math.Inf(1), ""
	for _, p := range s.gaz.Provinces() {
		for _, c := range append([]*geo.Province{p}, s.gaz.Members(p.Slug)...) {
			if d := geo.Haversine(pt, c.Point()); d < best {
				best, slug = d, p.Slug
			}
		}
	}
	return slug
}

func sameProvince(a, b placed) bool { return a.Province != "" && a.Province == b.Province }

// methods lists the configured methods in a stable order: the built-in three first.
func (s *Service) methods() []geo.Method {
	var out []geo.Method
	for _, m := range []geo.Method{geo.MethodStandard, geo.MethodExpress, geo.MethodSameDay} {
		if _, ok := s.cfg.Fees.Methods[m]; ok {
			out = append(out, m)
		}
	}
	var extra []geo.Method
	for m := range s.cfg.Fees.Methods {
		if !slices.Contains(out, m) {
			extra = append(extra, m)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// message is an application error's client message.
func message(err error) string {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}

// prefixFields puts the request's path in front of a validation error's field names.
func prefixFields(err error, prefix string) error {
	return mapFields(err, func(f string) string { return prefix + f })
}

// renameField renames one field of a validation error.
func renameField(err error, from, to string) error {
	return mapFields(err, func(f string) string {
		if f == from {
			return to
		}
		return f
	})
}

func mapFields(err error, rename func(string) string) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || len(ae.Fields) == 0 {
		return err
	}
	out := *ae
	out.Fields = make([]apperr.FieldError, len(ae.Fields))
	for i, f := range ae.Fields {
		out.Fields[i] = apperr.FieldError{Field: rename(f.Field), Message: f.Message}
	}
	return &out
}
