package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
)

// Method is a delivery service level: the buyer's shipping method, declared with the other
// values that cross contexts in events, here under the price list's names.
type Method = events.ShippingMethod

// The delivery methods.
const (
	MethodStandard = events.ShippingStandard
	MethodExpress  = events.ShippingExpress
	MethodSameDay  = events.ShippingSameDay
)

// Reasons a parcel cannot be carried; Quote's errors wrap them (errors.Is) inside a
// validation error that names the offending field.
var (
	ErrTooHeavy  = errors.New("parcel too heavy for the method")
	ErrTooFar    = errors.New("trip too long for the method")
	ErrOutOfArea = errors.New("the method serves only trips within one province")
)

// WeightTier prices parcels up to a weight.
type WeightTier struct {
	UpToGrams int64 `json:"up_to_grams"`
	Fee       int64 `json:"fee"`
}

// DeliveryDays is the promised delivery time, in days after pickup (0 = the same day).
type DeliveryDays struct {
	SameProvince int `json:"same_province"`
	Regional     int `json:"regional"`  // other province, up to FeeConfig.RegionalKm
	LongHaul     int `json:"long_haul"` // beyond it
}

// MethodRule is what a method costs and where it goes.
type MethodRule struct {
	// MultiplierPercent scales the subtotal: 150 is one and a half times the standard price.
	MultiplierPercent int64        `json:"multiplier_percent"`
	MaxKm             float64      `json:"max_km"`           // 0: only FeeConfig.MaxKm
	MaxWeightGrams    int64        `json:"max_weight_grams"` // 0: only FeeConfig.MaxWeightGrams
	SameProvinceOnly  bool         `json:"same_province_only"`
	Days              DeliveryDays `json:"days"`
}

// FeeConfig is the shipping price list. Amounts are in minor units of Currency (VND has
// none smaller than the đồng). The zero value is not usable; start from DefaultFeeConfig.
type FeeConfig struct {
	Currency string `json:"currency"`
	// BaseFee is charged on every parcel: pickup, sorting and the first few kilometres.
	BaseFee int64 `json:"base_fee"`
	// WeightTiers, ascending, price a parcel by the first tier it fits in; past the last,
	// every ExtraStepGrams (or part of it) adds ExtraStepFee to the last tier's fee.
	WeightTiers    []WeightTier `json:"weight_tiers"`
	ExtraStepGrams int64        `json:"extra_step_grams"`
	ExtraStepFee   int64        `json:"extra_step_fee"`
	// IncludedKm of road are in the base fee; every further kilometre (or part of one)
	// costs PerKmFee.
	IncludedKm float64 `json:"included_km"`
	PerKmFee   int64   `json:"per_km_fee"`
	// Limits for every method.
	MaxWeightGrams int64   `json:"max_weight_grams"`
	MaxKm          float64 `json:"max_km"`
	// RegionalKm divides regional trips from long hauls for the delivery estimate.
	RegionalKm float64 `json:"regional_km"`
	// RoundTo rounds the total, half up, to a multiple of this amount (1 or 0: no rounding).
	RoundTo int64                 `json:"round_to"`
	Methods map[Method]MethodRule `json:"methods"`
}

// DefaultFeeConfig is the price list used when none is configured.
func DefaultFeeConfig() FeeConfig {
	return FeeConfig{
		Currency: "VND",
		BaseFee:  15_000,
		WeightTiers: []WeightTier{
			{UpToGrams: 500, Fee: 0},
			{UpToGrams: 1_000, Fee: 5_000},
			{UpToGrams: 2_000, Fee: 10_000},
		},
		ExtraStepGrams: 500,
		ExtraStepFee:   2_500,
		IncludedKm:     5,
		PerKmFee:       50,
		MaxWeightGrams: 30_000,
		MaxKm:          3_000,
		RegionalKm:     300,
		RoundTo:        1_000,
		Methods: map[Method]MethodRule{
			MethodStandard: {MultiplierPercent: 100, Days: DeliveryDays{SameProvince: 2, Regional: 3, LongHaul: 5}},
			MethodExpress:  {MultiplierPercent: 150, Days: DeliveryDays{SameProvince: 1, Regional: 2, LongHaul: 3}},
			MethodSameDay: {
				MultiplierPercent: 200, MaxKm: 30, MaxWeightGrams: 10_000, SameProvinceOnly: true,
				Days: DeliveryDays{},
			},
		},
	}
}

// Validate reports a price list that cannot price a parcel; the app checks it at start-up.
func (c FeeConfig) Validate() error {
	switch {
	case c.Currency == "":
		return errors.New("fees: currency is required")
	case c.BaseFee < 0 || c.PerKmFee < 0 || c.ExtraStepFee < 0:
		return errors.New("fees: fees must not be negative")
	case len(c.WeightTiers) == 0:
		return errors.New("fees: at least one weight tier is required")
	case c.ExtraStepGrams <= 0:
		return errors.New("fees: extra_step_grams must be positive")
	case c.IncludedKm < 0 || c.MaxKm <= 0 || c.MaxWeightGrams <= 0 || c.RegionalKm < 0 || c.RoundTo < 0:
		return errors.New("fees: distances and limits must be positive")
	case len(c.Methods) == 0:
		return errors.New("fees: at least one method is required")
	}
	for i, t := range c.WeightTiers {
		if t.UpToGrams <= 0 || t.Fee < 0 || (i > 0 && t.UpToGrams <= c.WeightTiers[i-1].UpToGrams) {
			return fmt.Errorf("fees: weight tier %d must be positive and above the one before", i)
		}
	}
	for m, r := range c.Methods {
		if r.MultiplierPercent <= 0 || r.MaxKm < 0 || r.MaxWeightGrams < 0 {
			return fmt.Errorf("fees: method %s needs a positive multiplier and no negative limit", m)
		}
	}
	return nil
}

// Input is a parcel to price.
type Input struct {
	Method      Method  `json:"method"`
	WeightGrams int64   `json:"weight_grams"`
	DistanceKm  float64 `json:"distance_km"` // road distance, from a Router
	// SameProvince is set when pickup and delivery lie in the same (current) province.
	SameProvince bool `json:"same_province"`
}

// Quote is a priced parcel with its breakdown: Total = round(Subtotal × MultiplierPercent
// / 100), Subtotal = BaseFee + WeightFee + DistanceFee.
type Quote struct {
	Method            Method  `json:"method"`
	Currency          string  `json:"currency"`
	WeightGrams       int64   `json:"weight_grams"`
	DistanceKm        float64 `json:"distance_km"`
	ChargeableKm      int64   `json:"chargeable_km"`
	BaseFee           int64   `json:"base_fee"`
	WeightFee         int64   `json:"weight_fee"`
	DistanceFee       int64   `json:"distance_fee"`
	Subtotal          int64   `json:"subtotal"`
	MultiplierPercent int64   `json:"multiplier_percent"`
	Total             int64   `json:"total"`
	EstimatedDays     int     `json:"estimated_days"`
}

// Quote prices a parcel. It is the one fee computation: the shipping routes and the cart's
// shipping fee all come here.
func (c FeeConfig) Quote(in Input) (Quote, error) {
	if err := c.Validate(); err != nil {
		return Quote{}, apperr.Wrap(err, apperr.Internal, "the shipping price list is misconfigured")
	}
	rule, ok := c.Methods[in.Method]
	switch {
	case !ok:
		return Quote{}, apperr.Field("method", "unknown delivery method")
	case in.WeightGrams <= 0:
		return Quote{}, apperr.Field("weight_grams", "must be positive")
	case math.IsNaN(in.DistanceKm) || math.IsInf(in.DistanceKm, 0) || in.DistanceKm < 0:
		return Quote{}, apperr.Field("distance_km", "must be a distance of zero or more")
	}
	if err := c.checkLimits(rule, in); err != nil {
		return Quote{}, err
	}

	q := Quote{
		Method: in.Method, Currency: c.Currency, WeightGrams: in.WeightGrams, DistanceKm: in.DistanceKm,
		BaseFee: c.BaseFee, WeightFee: c.weightFee(in.WeightGrams), MultiplierPercent: rule.MultiplierPercent,
	}
	// A hair over a whole kilometre is float noise from the distance, not a kilometre more.
	if extra := in.DistanceKm - c.IncludedKm; extra > 1e-9 {
		q.ChargeableKm = int64(math.Ceil(extra - 1e-9))
	}
	q.DistanceFee = q.ChargeableKm * c.PerKmFee
	q.Subtotal = q.BaseFee + q.WeightFee + q.DistanceFee
	q.Total = roundHalfUp(q.Subtotal*q.MultiplierPercent, 100*max(c.RoundTo, 1)) * max(c.RoundTo, 1)
	switch {
	case in.SameProvince:
		q.EstimatedDays = rule.Days.SameProvince
	case in.DistanceKm <= c.RegionalKm:
		q.EstimatedDays = rule.Days.Regional
	default:
		q.EstimatedDays = rule.Days.LongHaul
	}
	return q, nil
}

func (c FeeConfig) checkLimits(rule MethodRule, in Input) error {
	limit := func(field, msg string, cause error) error {
		return &apperr.Error{Code: apperr.Invalid, Message: msg, Err: cause,
			Fields: []apperr.FieldError{{Field: field, Message: msg}}}
	}
	maxWeight := c.MaxWeightGrams
	if rule.MaxWeightGrams > 0 {
		maxWeight = min(maxWeight, rule.MaxWeightGrams)
	}
	maxKm := c.MaxKm
	if rule.MaxKm > 0 {
		maxKm = min(maxKm, rule.MaxKm)
	}
	switch {
	case in.WeightGrams > maxWeight:
		return limit("weight_grams", fmt.Sprintf("%s carries parcels up to %d g", in.Method, maxWeight), ErrTooHeavy)
	case rule.SameProvinceOnly && !in.SameProvince:
		return limit("method", fmt.Sprintf("%s delivers only within one province", in.Method), ErrOutOfArea)
	case in.DistanceKm > maxKm:
		return limit("distance_km", fmt.Sprintf("%s delivers only up to %g km", in.Method, maxKm), ErrTooFar)
	}
	return nil
}

func (c FeeConfig) weightFee(grams int64) int64 {
	for _, t := range c.WeightTiers {
		if grams <= t.UpToGrams {
			return t.Fee
		}
	}
	last := c.WeightTiers[len(c.WeightTiers)-1]
	steps := (grams - last.UpToGrams + c.ExtraStepGrams - 1) / c.ExtraStepGrams
	return last.Fee + steps*c.ExtraStepFee
}

// roundHalfUp divides a non-negative amount by unit, rounding halves up.
func roundHalfUp(amount, unit int64) int64 { return (amount + unit/2) / unit }

// WithOverrides returns the price list with the fields of a JSON object (as in the JSON
// form of FeeConfig) put over it: top-level fields replace the list's wholesale (weight_tiers
// as a whole list), while each method's rule is changed field by field, so that
// {"methods":{"express":{"multiplier_percent":170}}} changes express's multiplier and nothing
// else. A method the list lacks is added. Unknown fields are refused (a typo would otherwise
// leave a price silently unchanged), and so is a result that does not Validate.
func (c FeeConfig) WithOverrides(raw []byte) (FeeConfig, error) {
	out := c
	out.WeightTiers = slices.Clone(c.WeightTiers)
	out.Methods = maps.Clone(c.Methods)
	if len(bytes.TrimSpace(raw)) == 0 {
		return out, out.Validate()
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return c, fmt.Errorf("fees: overrides must be a JSON object: %w", err)
	}
	methods := top["methods"]
	delete(top, "methods")
	rest, _ := json.Marshal(top)
	if err := strictDecode(rest, &out); err != nil {
		return c, fmt.Errorf("fees: overrides: %w", err)
	}
	if methods != nil {
		var rules map[Method]json.RawMessage
		if err := json.Unmarshal(methods, &rules); err != nil {
			return c, fmt.Errorf("fees: overrides: methods must be an object by method: %w", err)
		}
		if out.Methods == nil {
			out.Methods = map[Method]MethodRule{}
		}
		for m, r := range rules {
			rule := out.Methods[m]
			if err := strictDecode(r, &rule); err != nil {
				return c, fmt.Errorf("fees: overrides of method %s: %w", m, err)
			}
			out.Methods[m] = rule
		}
	}
	return out, out.Validate()
}

func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
