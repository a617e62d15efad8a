package events

import "time"

// The shipping context's events. Each carries the people a delivery concerns (its buyer, its
// shop's owner, its shipper), read from the shipment row in the transaction that moved it, so
// that a subscriber (notifications) needs to ask nobody whom to tell.

// ShipmentAssigned is published when a shipper is given an order's delivery (automatically or
// by the shop or an admin); PreviousShipperID is set when another shipper had it before.
type ShipmentAssigned struct {
	OrderID           string    `json:"order_id"`
	BuyerID           string    `json:"buyer_id"`
	ShopOwnerID       string    `json:"shop_owner_id"`
	ShipperID         string    `json:"shipper_id"`
	PreviousShipperID string    `json:"previous_shipper_id,omitempty"`
	At                time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ShipmentAssigned) Topic() string { return "shipment.assigned" }

// ShipmentStep is what the step events below carry: a delivery that moved to Status.
type ShipmentStep struct {
	OrderID     string         `json:"order_id"`
	BuyerID     string         `json:"buyer_id"`
	ShopOwnerID string         `json:"shop_owner_id"`
	ShipperID   string         `json:"shipper_id,omitempty"`
	Status      ShipmentStatus `json:"status"`
	Note        string         `json:"note,omitempty"`
	At          time.Time      `json:"at"`
}

// ShipmentPickedUpEvent (the Event suffix keeps it apart from the status) is published when the shipper picks an order's parcel up at the shop.
type ShipmentPickedUpEvent struct{ ShipmentStep }

// Topic implements eventbus.Event.
func (ShipmentPickedUpEvent) Topic() string { return "shipment.picked_up" }

// ShipmentDeliveredEvent is published when the shipper hands the parcel to the buyer.
type ShipmentDeliveredEvent struct{ ShipmentStep }

// Topic implements eventbus.Event.
func (ShipmentDeliveredEvent) Topic() string { return "shipment.delivered" }

// ShipmentFailedEvent is published when a delivery fails; Note says why.
type ShipmentFailedEvent struct{ ShipmentStep }

// Topic implements eventbus.Event.
func (ShipmentFailedEvent) Topic() string { return "shipment.failed" }

// ShipperNearby is published once per delivery, when its shipper's reported position first
// comes within the configured distance of the delivery address.
type ShipperNearby struct {
	OrderID    string    `json:"order_id"`
	BuyerID    string    `json:"buyer_id"`
	ShipperID  string    `json:"shipper_id"`
	DistanceKm float64   `json:"distance_km"`
	At         time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ShipperNearby) Topic() string { return "shipper.nearby" }
