package events

import "time"

// OrderLine is one line of a placed order, as order.placed carries it: what was bought, how
// many and at what unit price (minor units). Sold counts, co-purchases and trending read it.
type OrderLine struct {
	ProductID string `json:"product_id"`
	VariantID string `json:"variant_id"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// CampaignItem is one variant of a campaign, as campaign status changes carry it: the sale
// price while the campaign is active and has stock left for the variant, and that stock.
type CampaignItem struct {
	ProductID string `json:"product_id"`
	VariantID string `json:"variant_id"`
	Price     int64  `json:"price"`
	Stock     int    `json:"stock"`
	Sold      int    `json:"sold"`
}

// CartItemAdded is a buyer putting a variant in their cart (or adding to a line's quantity);
// trending and recommendations count it as interest. The cart hands it to search in its own
// transaction (cart.Interest); it was once published as cart.item_added, and search still
// takes the deliveries queued then.
type CartItemAdded struct {
	UserID    string    `json:"user_id"`
	ProductID string    `json:"product_id"`
	VariantID string    `json:"variant_id"`
	ShopID    string    `json:"shop_id"`
	Quantity  int       `json:"quantity"`
	At        time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (CartItemAdded) Topic() string { return "cart.item_added" }

// PriceAlertTriggered is published once when a buyer's price alert fires: the product's (or
// the variant's) effective price dropped to or below the target. Notifications tell the buyer.
type PriceAlertTriggered struct {
	AlertID     string    `json:"alert_id"`
	UserID      string    `json:"user_id"`
	ProductID   string    `json:"product_id"`
	VariantID   string    `json:"variant_id,omitempty"`
	TargetPrice int64     `json:"target_price"`
	Price       int64     `json:"price"`
	Currency    string    `json:"currency"`
	At          time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (PriceAlertTriggered) Topic() string { return "price_alert.triggered" }
