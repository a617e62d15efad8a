// Package user is the identity context: accounts, sign-in sessions, password recovery,
// profiles, delivery addresses and the shipper role. It owns the `users` schema.
//
// Other contexts reach it through the small interfaces they declare (for example an address
// lookup at checkout), wired in internal/app to *Service.
package user

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// User is an account as clients see it.
type User struct {
	ID       uuid.UUID `json:"id"`
	Email    string    `json:"email"`
	FullName string    `json:"full_name"`
	Phone    *string   `json:"phone"`
	Roles    []string  `json:"roles"`
	// Locale is the language messages to the user are written in: "vi" (the default) or "en".
	Locale string `json:"locale"`
	// TimeZone is the IANA zone times in messages to the user are shown in, and their quiet hours
	// are kept in (default Asia/Ho_Chi_Minh).
	TimeZone  string    `json:"time_zone"`
	CreatedAt time.Time `json:"created_at"`
}

// Locales are the languages a profile may choose; the first is the default.
var Locales = []string{"vi", "en"}

// DefaultTimeZone is a new account's time zone.
const DefaultTimeZone = "Asia/Ho_Chi_Minh"

// Locale is how to speak to a person: their language and time zone, from their profile.
type Locale struct {
	Locale   string
	TimeZone string
}

// Contact is how to reach a person and how to speak to them: what a message needs.
type Contact struct {
	Email    string
	FullName string
	Phone    string // "" when none is on the profile
	Locale
}

// Session is what sign-in, registration and refresh answer.
type Session struct {
	User         User   `json:"user"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"` // seconds until the access token expires
}

// Address is a delivery address of a user.
type Address struct {
	ID            uuid.UUID `json:"id"`
	RecipientName string    `json:"recipient_name"`
	Phone         string    `json:"phone"`
	Line1         string    `json:"line1"`
	Ward          string    `json:"ward"`
	District      string    `json:"district"`
	Province      string    `json:"province"`
	Country       string    `json:"country"`
	Lat           *float64  `json:"lat,omitempty"`
	Lng           *float64  `json:"lng,omitempty"`
	IsDefault     bool      `json:"is_default"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// ShipperProfile is what a user registers to deliver orders. The ID number is shown masked.
type ShipperProfile struct {
	UserID       uuid.UUID `json:"user_id"`
	VehicleType  string    `json:"vehicle_type"`
	VehiclePlate string    `json:"vehicle_plate"`
	IDNumber     string    `json:"id_number"`
	ServiceArea  string    `json:"service_area"`
	CreatedAt    time.Time `json:"created_at"`
}

// MaxAddresses bounds how many addresses one user keeps.
const MaxAddresses = 50

// ShipperDesk is the delivery side's record of a shipper (the shipping context, wired in
// internal/app). Registration opens it in its own transaction rather than leave it to the
// shipper_registered event, after which a new shipper would be unknown to the shipping routes
// for as long as the event waits in the queue.
type ShipperDesk interface {
	// OpenShipperTx makes or refreshes the shipper's record inside tx; it is idempotent.
	OpenShipperTx(ctx context.Context, tx pgx.Tx, userID uuid.UUID, vehicleType, serviceArea string) error
}

// SetShipperDesk wires the delivery side, which is built after the identity context.
func (s *Service) SetShipperDesk(d ShipperDesk) { s.desk = d }
