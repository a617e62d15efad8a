package events

import "time"

// ReviewTarget is what a review rates.
type ReviewTarget string

// Review targets.
const (
	ReviewOfProduct  ReviewTarget = "product"
	ReviewOfShop     ReviewTarget = "shop"
	ReviewOfDelivery ReviewTarget = "delivery"
)

// ReviewCreated is published when a buyer writes a review (published at once, or held for a
// moderator: Status says which).
type ReviewCreated struct {
	ReviewID string       `json:"review_id"`
	Target   ReviewTarget `json:"target"`
	TargetID string       `json:"target_id"`
	AuthorID string       `json:"author_id"`
	ShopID   string       `json:"shop_id"`
	Rating   int          `json:"rating"`
	Status   string       `json:"status"`
	At       time.Time    `json:"at"`
}

// Topic implements eventbus.Event.
func (ReviewCreated) Topic() string { return "review.created" }

// ReviewApproved is published when a moderator publishes a held review.
type ReviewApproved struct {
	ReviewID string    `json:"review_id"`
	AuthorID string    `json:"author_id"`
	ShopID   string    `json:"shop_id"`
	At       time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ReviewApproved) Topic() string { return "review.approved" }

// ReviewRejected is published when a moderator rejects a review, with the reason the author is told.
type ReviewRejected struct {
	ReviewID string    `json:"review_id"`
	AuthorID string    `json:"author_id"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ReviewRejected) Topic() string { return "review.rejected" }

// ReviewReplied is published when a shop answers a review; the author is told.
type ReviewReplied struct {
	ReviewID string    `json:"review_id"`
	AuthorID string    `json:"author_id"`
	ShopID   string    `json:"shop_id"`
	At       time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ReviewReplied) Topic() string { return "review.replied" }

// ReviewDeleted is published when a review is deleted: its media are removed after a grace period.
type ReviewDeleted struct {
	ReviewID string    `json:"review_id"`
	At       time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ReviewDeleted) Topic() string { return "review.deleted" }

// ProductRatingChanged carries a product's whole rating after a change: absolute values, and
// Version, which grows with every change of that product's rating, so that a subscriber keeps
// the newest whatever order deliveries arrive in.
type ProductRatingChanged struct {
	ProductID   string    `json:"product_id"`
	ShopID      string    `json:"shop_id"`
	Rating      float64   `json:"rating"`
	ReviewCount int       `json:"review_count"`
	Version     int64     `json:"version"`
	At          time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ProductRatingChanged) Topic() string { return "review.product_rating_changed" }

// ShopRatingChanged carries a shop's whole rating (from its shop reviews) after a change, with a
// Version as ProductRatingChanged's.
type ShopRatingChanged struct {
	ShopID      string    `json:"shop_id"`
	Rating      float64   `json:"rating"`
	ReviewCount int       `json:"review_count"`
	Version     int64     `json:"version"`
	At          time.Time `json:"at"`
}

// Topic implements eventbus.Event.
func (ShopRatingChanged) Topic() string { return "review.shop_rating_changed" }
