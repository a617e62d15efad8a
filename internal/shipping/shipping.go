// Package shipping is the delivery context: shippers (their status and position), shipping
// fees, address checks and geocoding, the assignment of ready orders to the nearest available
// shipper, shipment tracking with its timeline, printable labels and live tracking over
// WebSocket. It owns the `shipping` schema; the map of Viet Nam and the one fee computation
// live in its geo package.
//
// It learns about orders, shops and people through the small interfaces declared here, which
// internal/app fills from the order, shop and identity contexts.
package shipping

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/shipping/geo"
)

// Shipper statuses.
const (
	ShipperOffline   = "offline"
	ShipperAvailable = "available"
	ShipperBusy      = "busy"
)

// Message types on a shipment's live-tracking stream.
const (
	MsgLocation = "location"
	MsgStatus   = "status"
	MsgAssigned = "assigned"
	// MsgShipment, the second message of a stream once the shipment exists, is the shipment
	// as GET /shipping/{order_id}/tracking answers it: what a follower (re)connecting missed.
	MsgShipment = "shipment"
)

// Position is a point with the time it was taken.
type Position struct {
	Lat float64   `json:"lat"`
	Lng float64   `json:"lng"`
	At  time.Time `json:"at"`
}

// Shipper is a shipper as the delivery side sees one. Location is left out for callers who may
// only know how far away a shipper is.
type Shipper struct {
	// ID is the shipper's user ID: a shipper has no ID of its own, so every shipper_id in
	// shipments, their timelines, live messages and routes is this one.
	ID          uuid.UUID `json:"id"`
	Status      string    `json:"status"`
	VehicleType string    `json:"vehicle_type"`
	ServiceArea string    `json:"service_area"`
	Location    *Position `json:"location"`
	DistanceKm  *float64  `json:"distance_km,omitempty"`
	// ActiveDeliveries lists the orders the shipper carries now; shown to the shipper and admins.
	ActiveDeliveries []uuid.UUID `json:"active_deliveries,omitempty"`
	CreatedAt        time.Time   `json:"created_at"`
	UpdatedAt        time.Time   `json:"updated_at"`
}

// Event is one step on a shipment's timeline.
type Event struct {
	Kind      string                `json:"kind"` // created, assigned, unassigned, status
	Status    events.ShipmentStatus `json:"status"`
	ShipperID *uuid.UUID            `json:"shipper_id,omitempty"`
	ActorID   *uuid.UUID            `json:"actor_id,omitempty"`
	ActorRole events.ActorRole      `json:"actor_role"`
	Note      string                `json:"note,omitempty"`
	Location  *geo.Point            `json:"location,omitempty"`
	At        time.Time             `json:"at"`
}

// Shipment is one order's delivery, in the contract's shape.
type Shipment struct {
	OrderID        uuid.UUID             `json:"order_id"`
	TrackingNumber string                `json:"tracking_number"`
	ShipperID      *uuid.UUID            `json:"shipper_id"`
	Status         events.ShipmentStatus `json:"status"`
	Method         string                `json:"method"`
	Fee            int64                 `json:"fee"`
	Currency       string                `json:"currency"`
	CODAmount      int64                 `json:"cod_amount"`
	DistanceKm     float64               `json:"distance_km"`
	WeightGrams    int64                 `json:"weight_grams"`
	Pickup         geo.Point             `json:"pickup"`
	Dropoff        *geo.Point            `json:"dropoff"`
	LastLocation   *Position             `json:"last_location"`
	Events         []Event               `json:"events"`
	AssignedAt     *time.Time            `json:"assigned_at,omitempty"`
	CreatedAt      time.Time             `json:"created_at"`
	UpdatedAt      time.Time             `json:"updated_at"`
}

// Recipient is the delivery address printed on a label.
type Recipient struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Line1    string `json:"line1"`
	Ward     string `json:"ward"`
	District string `json:"district"`
	Province string `json:"province"`
}

// Order is what shipping needs of an order (the order context's Delivery view).
type Order struct {
	ID             uuid.UUID
	BuyerID        uuid.UUID
	ShopID         uuid.UUID
	Status         events.OrderStatus
	PaymentMethod  events.PaymentMethod
	Total          int64
	Currency       string
	WeightGrams    int64
	ShippingMethod events.ShippingMethod
	Address        Recipient
	// Lat and Lng place the address when the address book knew where it is.
	Lat, Lng *float64
	// ReadyToShip: confirmed, and paid unless cash on delivery.
	ReadyToShip bool
}

// Carrier is the name orders show for a delivery by GoShop's own shippers; the tracking number
// beside it is the shipment's, the one its label prints.
const Carrier = "goshop"

// Orders is what shipping needs of the order context.
type Orders interface {
	Delivery(ctx context.Context, orderID uuid.UUID) (Order, error)
	// AttachCarrierTx records the carrier and tracking number on the order inside tx, the
	// transaction that opens its shipment; an order that no longer waits for a carrier is a
	// conflict.
	AttachCarrierTx(ctx context.Context, tx pgx.Tx, orderID uuid.UUID, carrier, trackingNumber string) error
	// ShipperMoveTx moves an order, in the shipment's transaction, as the delivery saw it
	// happen; a nil shipper is the system. An order there already is left as it is.
	ShipperMoveTx(ctx context.Context, tx pgx.Tx, shipper *auth.Principal, orderID uuid.UUID, to events.OrderStatus, reason string) error
}

// Shop is what shipping needs of a shop.
type Shop struct {
	ID       uuid.UUID
	OwnerID  uuid.UUID
	Name     string
	Province string
	Lat, Lng float64
}

// Shops is what shipping needs of the shop context. Methods taking a pgx.Tx read in it when it
// is not nil: the cart prices shipping inside the checkout's transaction.
type Shops interface {
	Shop(ctx context.Context, tx pgx.Tx, shopID uuid.UUID) (Shop, error)
	// QueueShops queues the read of several shops on a batch the caller sends (checkout's
	// fees), one statement whatever their number; done gets them by ID once it is sent (a shop
	// gone is not in it).
	QueueShops(ctx context.Context, b *pgdb.Batch, shopIDs []uuid.UUID, done func(map[uuid.UUID]Shop, error) error)
	// OwnsShop reports whether the user owns at least one shop.
	OwnsShop(ctx context.Context, userID uuid.UUID) (bool, error)
}

// ShipperProfile is what a shipper registers with the identity context.
type ShipperProfile struct {
	VehicleType  string `json:"vehicle_type" validate:"required,oneof=motorbike car van truck bicycle"`
	VehiclePlate string `json:"vehicle_plate" validate:"required,min=4,max=20"`
	IDNumber     string `json:"id_number" validate:"required,numeric,min=9,max=12"`
	ServiceArea  string `json:"service_area" validate:"required,max=100"`
}

// Registered is the identity context's answer to a shipper registration.
type Registered struct {
	// AccessToken already carries the shipper role.
	AccessToken string
	ExpiresIn   int
	// User is the identity context's user, now with the shipper role.
	User Account
}

// Account is a user's account as the identity context shows it to its owner; a shipper
// registration answers it with the new role.
type Account struct {
	ID        uuid.UUID `json:"id"`
	Email     string    `json:"email"`
	FullName  string    `json:"full_name"`
	Phone     *string   `json:"phone"`
	Roles     []string  `json:"roles"`
	CreatedAt time.Time `json:"created_at"`
}

// Address is an entry of a user's address book.
type Address struct {
	geo.Address
	Lat, Lng *float64
}

// Identity is what shipping needs of the identity context.
type Identity interface {
	// RegisterShipper gives the caller the shipper role and profile, and opens this context's
	// record of the shipper (OpenShipperTx) in the same transaction; a caller who already has
	// them gets a conflict.
	RegisterShipper(ctx context.Context, p auth.Principal, in ShipperProfile) (Registered, error)
	// Address returns one address of the user's address book.
	Address(ctx context.Context, tx pgx.Tx, userID, addressID uuid.UUID) (Address, error)
}
