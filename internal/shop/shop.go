// Package shop is the shop context: shops, their profiles and locations, and their promotions
// and campaigns. It owns the `shop` schema.
//
// Other contexts ask it who owns a shop and where it is through Info; the cart and checkout
// apply its promotions and campaigns through the methods in promotions.go.
package shop

import (
	"time"

	"github.com/google/uuid"
)

// Shop statuses.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusDeleted   = "deleted"
)

// Address is where a shop is.
type Address struct {
	Line1    string `json:"line1" validate:"required,max=300"`
	Ward     string `json:"ward" validate:"max=100"`
	District string `json:"district" validate:"max=100"`
	Province string `json:"province" validate:"required,max=100"`
	Country  string `json:"country" validate:"omitempty,iso3166_1_alpha2"`
}

// Profile is a shop's storefront details.
type Profile struct {
	LogoURL      string `json:"logo_url" validate:"omitempty,url,max=500"`
	BannerURL    string `json:"banner_url" validate:"omitempty,url,max=500"`
	ContactPhone string `json:"contact_phone" validate:"omitempty,phone"`
	ContactEmail string `json:"contact_email" validate:"omitempty,email,max=254"`
	OpeningHours string `json:"opening_hours" validate:"max=200"`
	ReturnPolicy string `json:"return_policy" validate:"max=2000"`
}

// Shop is a shop as clients see it.
type Shop struct {
	ID          uuid.UUID   `json:"id"`
	OwnerID     uuid.UUID   `json:"owner_id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Address     Address     `json:"address"`
	Lat         float64     `json:"lat"`
	Lng         float64     `json:"lng"`
	CategoryIDs []uuid.UUID `json:"category_ids"`
	Status      string      `json:"status"`
	Rating      float64     `json:"rating"`
	RatingCount int         `json:"rating_count"`
	Profile     Profile     `json:"profile"`
	DistanceKM  *float64    `json:"distance_km,omitempty"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// Info is what other contexts need to know of a shop.
type Info struct {
	ID      uuid.UUID
	OwnerID uuid.UUID
	Name    string
	Status  string
	// Province is the address's province as typed; delivery prices same-province trips apart.
	Province string
	Lat      float64
	Lng      float64
	// Rating is the shop's average rating from its reviews.
	Rating float64
}

// Active reports whether buyers may see and buy from the shop.
func (i Info) Active() bool { return i.Status == StatusActive }
