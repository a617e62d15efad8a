// Package events is the catalog of GoShop's integration events: every payload one context
// publishes for others, in one place, so that what happens in the system can be read here.
//
// Payloads carry IDs and the few facts subscribers need; they are JSON-encoded into River jobs,
// so fields are only ever added, never renamed.
package events

import "time"

// UserRegistered is published when an account is created.
type UserRegistered struct {
	UserID   string    `json:"user_id"`
	Email    string    `json:"email"`
	FullName string    `json:"full_name"`
	At       time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (UserRegistered) Topic() string { return "user.registered" }

// UserDeleted is published when an account is deleted (its personal data is already gone).
type UserDeleted struct {
	UserID string    `json:"user_id"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (UserDeleted) Topic() string { return "user.deleted" }

// ShipperRegistered is published when a user becomes a shipper.
type ShipperRegistered struct {
	UserID      string    `json:"user_id"`
	VehicleType string    `json:"vehicle_type"`
	ServiceArea string    `json:"service_area"`
	At          time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ShipperRegistered) Topic() string { return "user.shipper_registered" }

// PasswordChanged is published when a password is changed or reset.
type PasswordChanged struct {
	UserID string    `json:"user_id"`
	Reset  bool      `json:"reset"`
	At     time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (PasswordChanged) Topic() string { return "user.password_changed" }

// ShopCreated is published when a shop opens.
type ShopCreated struct {
	ShopID  string    `json:"shop_id"`
	OwnerID string    `json:"owner_id"`
	Name    string    `json:"name"`
	At      time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ShopCreated) Topic() string { return "shop.created" }

// ShopUpdated is published when a shop's name, address, location or categories change.
type ShopUpdated struct {
	ShopID string    `json:"shop_id"`
	At     time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ShopUpdated) Topic() string { return "shop.updated" }

// ShopDeleted is published when a shop closes: its products must disappear for buyers, while
// past orders keep their snapshots.
type ShopDeleted struct {
	ShopID string    `json:"shop_id"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ShopDeleted) Topic() string { return "shop.deleted" }

// CampaignStatusChanged is published when a campaign moves (scheduled, active, ended ...), by its
// owner or by time.
type CampaignStatusChanged struct {
	CampaignID string    `json:"campaign_id"`
	ShopID     string    `json:"shop_id"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	At         time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (CampaignStatusChanged) Topic() string { return "shop.campaign_status_changed" }

// OrderPlaced is published for each order a checkout makes.
type OrderPlaced struct {
	OrderID       string        `json:"order_id"`
	CheckoutID    string        `json:"checkout_id"`
	BuyerID       string        `json:"buyer_id"`
	ShopID        string        `json:"shop_id"`
	Total         int64         `json:"total"`
	Currency      string        `json:"currency"`
	PaymentMethod PaymentMethod `json:"payment_method"`
	At            time.Time     `json:"at"`
	// Lines are what the order sold, as priced at checkout.
	Lines []OrderLine `json:"lines"`
}

// OrderLine is one line of a placed order: a variant of a product, how many, at what unit price.
type OrderLine struct {
	ProductID string `json:"product_id"`
	VariantID string `json:"variant_id"`
	Quantity  int32  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// Topic implements eventbus.Event.
func (OrderPlaced) Topic() string { return "order.placed" }

// OrderStatusChanged is published for every move of an order's status.
type OrderStatusChanged struct {
	OrderID       string        `json:"order_id"`
	BuyerID       string        `json:"buyer_id"`
	ShopID        string        `json:"shop_id"`
	From          OrderStatus   `json:"from"`
	To            OrderStatus   `json:"to"`
	ActorRole     ActorRole     `json:"actor_role"`
	Reason        string        `json:"reason"`
	PaymentMethod PaymentMethod `json:"payment_method"`
	PaymentStatus PaymentStatus `json:"payment_status"`
	Total         int64         `json:"total"`
	At            time.Time     `json:"at"`
}

// Topic implements eventbus.Event.
func (OrderStatusChanged) Topic() string { return "order.status_changed" }

// OrderRefundDue is published when a paid order's money must go back to the buyer (a paid order
// cancelled, or a return accepted); the payment context refunds it.
type OrderRefundDue struct {
	OrderID  string    `json:"order_id"`
	BuyerID  string    `json:"buyer_id"`
	Amount   int64     `json:"amount"`
	Currency string    `json:"currency"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (OrderRefundDue) Topic() string { return "order.refund_due" }

// OrderRefundRequested is published when a buyer asks for a refund.
type OrderRefundRequested struct {
	RequestID string    `json:"request_id"`
	OrderID   string    `json:"order_id"`
	BuyerID   string    `json:"buyer_id"`
	Amount    int64     `json:"amount"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (OrderRefundRequested) Topic() string { return "order.refund_requested" }

// OrderPaid is published when an order's payment is captured.
type OrderPaid struct {
	OrderID string      `json:"order_id"`
	BuyerID string      `json:"buyer_id"`
	ShopID  string      `json:"shop_id"`
	Status  OrderStatus `json:"status"`
	Total   int64       `json:"total"`
	At      time.Time   `json:"at"`
}

// Topic implements eventbus.Event.
func (OrderPaid) Topic() string { return "order.paid" }

// ProductCreated is published when a product is added to a shop.
type ProductCreated struct {
	ProductID  string    `json:"product_id"`
	ShopID     string    `json:"shop_id"`
	Title      string    `json:"title"`
	CategoryID string    `json:"category_id,omitempty"`
	Status     string    `json:"status"`
	At         time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ProductCreated) Topic() string { return "product.created" }

// ProductUpdated is published when a product's details, status, category or variants change.
type ProductUpdated struct {
	ProductID string    `json:"product_id"`
	ShopID    string    `json:"shop_id"`
	Status    string    `json:"status"`
	At        time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ProductUpdated) Topic() string { return "product.updated" }

// ProductDeleted is published when a product is deleted: buyers no longer see it, while past
// orders keep their snapshots.
type ProductDeleted struct {
	ProductID string    `json:"product_id"`
	ShopID    string    `json:"shop_id"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ProductDeleted) Topic() string { return "product.deleted" }

// ProductPriceChanged is published when what a variant costs changes: its list price, or a
// discount starting or ending. Prices are in the currency's minor unit.
type ProductPriceChanged struct {
	ProductID string    `json:"product_id"`
	VariantID string    `json:"variant_id"`
	ShopID    string    `json:"shop_id"`
	OldPrice  int64     `json:"old_price"`
	NewPrice  int64     `json:"new_price"`
	Currency  string    `json:"currency"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ProductPriceChanged) Topic() string { return "product.price_changed" }

// StockChanged is published when a variant's stock changes, for whatever reason (a seller's
// adjustment, a checkout's reservation, a cancellation's release).
type StockChanged struct {
	ProductID string    `json:"product_id"`
	VariantID string    `json:"variant_id"`
	ShopID    string    `json:"shop_id"`
	Delta     int       `json:"delta"`
	Stock     int       `json:"stock"`
	Kind      string    `json:"kind"`
	At        time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (StockChanged) Topic() string { return "inventory.stock_changed" }

// LowStock is published when a variant's stock falls to or below its product's low-stock
// threshold (once per crossing, not on every change below it).
type LowStock struct {
	ProductID string    `json:"product_id"`
	VariantID string    `json:"variant_id"`
	ShopID    string    `json:"shop_id"`
	SKU       string    `json:"sku"`
	Stock     int       `json:"stock"`
	Threshold int       `json:"threshold"`
	At        time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (LowStock) Topic() string { return "inventory.low_stock" }

// PaymentAuthorized is published when a provider holds a payment's funds, awaiting capture.
type PaymentAuthorized struct {
	PaymentID string    `json:"payment_id"`
	BuyerID   string    `json:"buyer_id"`
	OrderIDs  []string  `json:"order_ids"`
	Provider  Provider  `json:"provider"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	At        time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (PaymentAuthorized) Topic() string { return "payment.authorized" }

// PaymentCaptured is published when a payment's money is collected (cash on delivery: when
// the shipper collects it); its orders are marked paid in the same transaction.
type PaymentCaptured struct {
	PaymentID string        `json:"payment_id"`
	BuyerID   string        `json:"buyer_id"`
	OrderIDs  []string      `json:"order_ids"`
	Method    PaymentMethod `json:"method"`
	Provider  Provider      `json:"provider"`
	Amount    int64         `json:"amount"`
	Currency  string        `json:"currency"`
	At        time.Time     `json:"at"`
}

// Topic implements eventbus.Event.
func (PaymentCaptured) Topic() string { return "payment.captured" }

// PaymentFailed is published when a payment fails or is abandoned; its orders may be paid again.
type PaymentFailed struct {
	PaymentID string    `json:"payment_id"`
	BuyerID   string    `json:"buyer_id"`
	OrderIDs  []string  `json:"order_ids"`
	Provider  Provider  `json:"provider"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (PaymentFailed) Topic() string { return "payment.failed" }

// PaymentRefunded is published when money of an order goes back to the buyer: a refund the
// provider confirmed, or a chargeback lost.
type PaymentRefunded struct {
	PaymentID     string    `json:"payment_id"`
	RefundID      string    `json:"refund_id,omitempty"`
	OrderID       string    `json:"order_id"`
	BuyerID       string    `json:"buyer_id"`
	Amount        int64     `json:"amount"`
	RefundedTotal int64     `json:"refunded_total"`
	Currency      string    `json:"currency"`
	Reason        string    `json:"reason"`
	At            time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (PaymentRefunded) Topic() string { return "payment.refunded" }

// PaymentDisputed is published when a dispute or chargeback is opened, by the buyer or the
// provider.
type PaymentDisputed struct {
	PaymentID string    `json:"payment_id"`
	DisputeID string    `json:"dispute_id"`
	BuyerID   string    `json:"buyer_id"`
	OpenedBy  string    `json:"opened_by"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (PaymentDisputed) Topic() string { return "payment.disputed" }

// EscrowHeld is published when an order's money enters escrow.
type EscrowHeld struct {
	OrderID   string    `json:"order_id"`
	PaymentID string    `json:"payment_id"`
	ShopID    string    `json:"shop_id"`
	BuyerID   string    `json:"buyer_id"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	At        time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (EscrowHeld) Topic() string { return "escrow.held" }

// EscrowReleased is published when an order's escrow goes to its shop, less the commission.
type EscrowReleased struct {
	OrderID    string    `json:"order_id"`
	PaymentID  string    `json:"payment_id"`
	ShopID     string    `json:"shop_id"`
	Amount     int64     `json:"amount"`
	Commission int64     `json:"commission"`
	Currency   string    `json:"currency"`
	By         ActorRole `json:"by"`
	At         time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (EscrowReleased) Topic() string { return "escrow.released" }
