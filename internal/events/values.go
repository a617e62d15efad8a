package events

import "strings"

// The values below cross contexts: one context writes them, others read them, in event payloads,
// through the ports internal/app wires, and in the JSON clients see. Each is declared once, here,
// as a typed string, so that the compiler finds every use and a misspelt status cannot compile.
// Their JSON is the plain string.

// OrderStatus is where an order is in its life. The order context alone moves it, along the
// transitions it allows; payments and shipping read it and ask for moves.
type OrderStatus string

// Order statuses.
const (
	OrderPending         OrderStatus = "pending"
	OrderConfirmed       OrderStatus = "confirmed"
	OrderShipped         OrderStatus = "shipped"
	OrderDelivered       OrderStatus = "delivered"
	OrderCancelled       OrderStatus = "cancelled"
	OrderReturnRequested OrderStatus = "return_requested"
	OrderReturned        OrderStatus = "returned"
	OrderRefunded        OrderStatus = "refunded"
)

// PaymentStatus is where an order's money stands: an order's `payment_status`. The payment
// context's own payments have a finer lifecycle of their own (authorized, captured, disputed
// ...) that no other context reads.
type PaymentStatus string

// Payment statuses of an order.
const (
	PaymentStatusUnpaid            PaymentStatus = "unpaid"
	PaymentStatusPaid              PaymentStatus = "paid"
	PaymentStatusRefundPending     PaymentStatus = "refund_pending"
	PaymentStatusPartiallyRefunded PaymentStatus = "partially_refunded"
	PaymentStatusRefunded          PaymentStatus = "refunded"
)

// ShipmentStatus is where an order's delivery is, in the order a delivery normally takes them.
type ShipmentStatus string

// Shipment statuses.
const (
	ShipmentAwaitingPickup ShipmentStatus = "awaiting_pickup"
	ShipmentPickedUp       ShipmentStatus = "picked_up"
	ShipmentInTransit      ShipmentStatus = "in_transit"
	ShipmentDelivered      ShipmentStatus = "delivered"
	ShipmentFailed         ShipmentStatus = "failed"
)

// PaymentMethod is how a buyer pays: chosen at checkout, paid through the payment context,
// collected by the shipper when cash on delivery.
type PaymentMethod string

// Payment methods, in the order they are offered.
const (
	MethodCard         PaymentMethod = "card"
	MethodEwallet      PaymentMethod = "ewallet"
	MethodBankTransfer PaymentMethod = "bank_transfer"
	MethodCOD          PaymentMethod = "cod"
)

// PaymentMethods lists the methods in the order they are offered.
func PaymentMethods() []PaymentMethod {
	return []PaymentMethod{MethodCard, MethodEwallet, MethodBankTransfer, MethodCOD}
}

// Provider is the gateway a prepaid payment goes through.
type Provider string

// Providers. Cash on delivery goes through none; the payment context records its payments with
// ProviderCOD, the shipper who collects the cash standing in for a gateway.
const (
	ProviderStripe  Provider = "stripe"
	ProviderPayPal  Provider = "paypal"
	ProviderVNPay   Provider = "vnpay"
	ProviderMoMo    Provider = "momo"
	ProviderSandbox Provider = "sandbox"
	ProviderCOD     Provider = "cod"
)

// Providers lists the gateways a prepaid method may go through, the default first; cash on
// delivery has none. Checkout checks a buyer's choice against it and the payment context offers
// and routes by it, so the two cannot disagree.
func (m PaymentMethod) Providers() []Provider {
	switch m {
	case MethodCard:
		return []Provider{ProviderStripe, ProviderSandbox}
	case MethodEwallet:
		return []Provider{ProviderMoMo, ProviderPayPal, ProviderSandbox}
	case MethodBankTransfer:
		return []Provider{ProviderVNPay, ProviderSandbox}
	}
	return nil
}

// ProviderNames lists the method's providers for people: "stripe, sandbox".
func (m PaymentMethod) ProviderNames() string {
	names := make([]string, 0, 3)
	for _, p := range m.Providers() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}

// ShippingMethod is the delivery service level a buyer chooses for an order; the shipping
// context prices and promises it (its geo.Method).
type ShippingMethod string

// Shipping methods.
const (
	ShippingStandard ShippingMethod = "standard"
	ShippingExpress  ShippingMethod = "express"
	ShippingSameDay  ShippingMethod = "same_day"
)

// ActorRole is the part someone played in a move of an order or a shipment, as its history
// records it.
type ActorRole string

// Actor roles.
const (
	ActorBuyer   ActorRole = "buyer"
	ActorShop    ActorRole = "shop"
	ActorAdmin   ActorRole = "admin"
	ActorShipper ActorRole = "shipper"
	ActorSystem  ActorRole = "system"
)

// MediaOwnerKind names what an image or video belongs to: the media context keeps the files,
// and the context owning the thing (the catalog's product, a review) says who may change them.
type MediaOwnerKind string

// Media owner kinds.
const (
	MediaOwnerProduct MediaOwnerKind = "product"
	MediaOwnerReview  MediaOwnerKind = "review"
)
