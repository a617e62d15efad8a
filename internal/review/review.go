// Package review is the review context: verified reviews of products, shops and deliveries,
// their moderation, the shops' replies, rating summaries and sentiment. It owns the `review`
// schema.
//
// Every review rests on a delivered purchase, which it learns of through Purchases (the order
// context, with the shipper from the shipping context); the ratings it keeps reach the catalog
// and the shop context as events (ProductRatingChanged, ShopRatingChanged).
package review

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/events"
)

// Review statuses: published at once (approved) unless the moderation rules hold it (pending)
// for an admin, who approves or rejects it.
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusRejected = "rejected"
)

// Sentiment labels.
const (
	Positive = "positive"
	Neutral  = "neutral"
	Negative = "negative"
)

// Media is a photo or video of a review, as the media context keeps it: its author uploads
// them at POST /reviews/{id}/media (up to Config.MaxMedia); the review lists them in order.
type Media struct {
	ID         uuid.UUID        `json:"id"`
	Kind       string           `json:"kind"`
	URL        string           `json:"url"`
	Thumbnails []MediaThumbnail `json:"thumbnails"`
	PosterURL  *string          `json:"poster_url,omitempty"`
	Width      int              `json:"width"`
	Height     int              `json:"height"`
	DurationMS *int64           `json:"duration_ms,omitempty"`
	Alt        string           `json:"alt"`
	Position   int              `json:"position"`
	CreatedAt  time.Time        `json:"created_at"`
}

// MediaThumbnail is a photo scaled down to Width pixels wide.
type MediaThumbnail struct {
	Width int    `json:"width"`
	URL   string `json:"url"`
}

// Gallery is what reviews need of the media context: the photos and videos of many reviews at
// once (a page of them), in their order.
type Gallery interface {
	ReviewMedia(ctx context.Context, reviewIDs []uuid.UUID) (map[uuid.UUID][]Media, error)
}

// Purchase is the delivered purchase a review rests on.
type Purchase struct {
	OrderID     uuid.UUID  `json:"order_id"`
	OrderItemID *uuid.UUID `json:"order_item_id,omitempty"`
	VariantID   *uuid.UUID `json:"variant_id,omitempty"`
	VariantName string     `json:"variant_name,omitempty"`
	DeliveredAt time.Time  `json:"delivered_at"`
}

// Reply is a shop's answer to a review.
type Reply struct {
	Text string    `json:"text"`
	By   uuid.UUID `json:"by"`
	At   time.Time `json:"at"`
}

// Sentiment is what a review's text says, read when it is written (sentiment.go).
type Sentiment struct {
	// Score is from -1 (very negative) to 1 (very positive).
	Score float64 `json:"score"`
	// Label is positive above NeutralBand, negative below -NeutralBand, neutral between.
	Label string `json:"label"`
	// Aspects maps each aspect the text speaks of (delivery, packaging, quality, price, service)
	// to its score there.
	Aspects map[string]float64 `json:"aspects"`
}

// Review is a review as clients see it.
type Review struct {
	ID               uuid.UUID           `json:"id"`
	AuthorID         uuid.UUID           `json:"author_id"`
	Target           events.ReviewTarget `json:"target"`
	TargetID         uuid.UUID           `json:"target_id"`
	OrderID          uuid.UUID           `json:"order_id"`
	ProductID        *uuid.UUID          `json:"product_id,omitempty"`
	ShopID           uuid.UUID           `json:"shop_id"`
	ShipperID        *uuid.UUID          `json:"shipper_id,omitempty"`
	Rating           int                 `json:"rating"`
	Comment          string              `json:"comment"`
	Media            []Media             `json:"media"`
	VerifiedPurchase bool                `json:"verified_purchase"`
	Purchase         Purchase            `json:"purchase"`
	Status           string              `json:"status"`
	// Flags say why the rules held the review (words, link, phone, reports); its author and
	// admins see them.
	Flags        []string  `json:"flags,omitempty"`
	RejectReason string    `json:"reject_reason,omitempty"`
	Sentiment    Sentiment `json:"sentiment"`
	Reply        *Reply    `json:"reply,omitempty"`
	// Editable says until when its author may change it.
	EditableUntil time.Time  `json:"editable_until"`
	EditedAt      *time.Time `json:"edited_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// DeliveredItem is one item of a buyer's delivered order, as the order context knows it, with
// the shipper who carried it (nil: the shop delivered it itself).
type DeliveredItem struct {
	OrderID, ItemID, ProductID, VariantID, ShopID uuid.UUID
	VariantName                                   string
	DeliveredAt                                   time.Time
	ShipperID                                     *uuid.UUID
}

// Purchases is what reviews need of the order context: a buyer's delivered items, optionally of
// one order and one product. Another buyer's, pending and cancelled orders are never among them.
type Purchases interface {
	DeliveredItems(ctx context.Context, buyer uuid.UUID, orderID, productID *uuid.UUID) ([]DeliveredItem, error)
}

// Shops answers who owns a shop (who may reply to its reviews); a missing shop is not found.
type Shops interface {
	ShopOwner(ctx context.Context, shopID uuid.UUID) (uuid.UUID, error)
}

// Config is the review context's configuration.
type Config struct {
	// EditDays is how long after writing it an author may edit a review.
	EditDays int
	// MaxMedia is how many photos and videos a review may carry.
	MaxMedia int
	// ReportThreshold is how many reports send a published review back to moderation.
	ReportThreshold int
}

// Rating is a summary: the count of counted reviews per star, their count and average.
type Rating struct {
	Target   events.ReviewTarget `json:"target"`
	TargetID uuid.UUID           `json:"target_id"`
	Average  float64             `json:"average"`
	Count    int                 `json:"count"`
	// Stars holds the count per star: "1" to "5".
	Stars   map[string]int `json:"stars"`
	Version int64          `json:"version"`
}
