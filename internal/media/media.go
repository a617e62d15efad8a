// Package media is the media context: images and videos of products and reviews,
// their files on a local disk or in S3-compatible storage, checked and re-encoded at upload.
//
// It keeps, per owner (a product, a review: events.MediaOwnerKind and an ID), the media in their
// order with one primary image. Who may change an owner's media is the owning context's rule:
// each kind of owner has a Guard, which internal/app wires to that context.
package media

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/auth"
)

// Kind says whether a media item is an image or a video.
type Kind string

// Kinds of media.
const (
	KindImage Kind = "image"
	KindVideo Kind = "video"
)

// Owner is what media belong to: a product, a review.
type Owner struct {
	Kind events.MediaOwnerKind
	ID   uuid.UUID
}

// Item is an image or video as clients see it. URL is the stored (re-encoded) file; images have
// thumbnails, videos a poster frame once it is made (and a duration, where ffprobe is installed).
type Item struct {
	ID         uuid.UUID   `json:"id"`
	Kind       Kind        `json:"kind" validate:"oneof=image video"`
	URL        string      `json:"url"`
	Thumbnails []Thumbnail `json:"thumbnails"`
	PosterURL  *string     `json:"poster_url,omitempty"`
	Width      int         `json:"width"`
	Height     int         `json:"height"`
	DurationMS *int64      `json:"duration_ms,omitempty"`
	Alt        string      `json:"alt"`
	Position   int         `json:"position"`
	IsPrimary  bool        `json:"is_primary"`
	CreatedAt  time.Time   `json:"created_at"`
}

// Thumbnail is an image scaled down to Width pixels wide.
type Thumbnail struct {
	Width int    `json:"width"`
	URL   string `json:"url"`
}

// Guard says who may change the media of one kind of owner: nil when p may add, arrange and
// delete the media of the owner with this ID; a not-found error when the owner does not exist
// or p may not see it, a forbidden one when p may see it but not change it.
type Guard interface {
	CanManageMedia(ctx context.Context, p auth.Principal, ownerID uuid.UUID) error
}

// Limited is a Guard that also bounds how many images and videos each of its owners may have,
// below MaxPerOwner (a review carries fewer photos than a product): the upload counts against
// the smaller, under the owner's lock, so concurrent uploads cannot pass it.
type Limited interface {
	Guard
	MaxMedia() int
}

// GuardFunc adapts a function to a Guard.
type GuardFunc func(ctx context.Context, p auth.Principal, ownerID uuid.UUID) error

// CanManageMedia implements Guard.
func (f GuardFunc) CanManageMedia(ctx context.Context, p auth.Principal, ownerID uuid.UUID) error {
	return f(ctx, p, ownerID)
}

// Details are what the uploader says of a new item.
type Details struct {
	Alt string `form:"alt" validate:"max=300" doc:"text shown in place of the image, read by screen readers"`
	// Position places the item among its owner's media (0 first); left out, it goes last.
	Position *int `form:"position" validate:"omitempty,min=0,max=1000" doc:"0 first; left out: last"`
	// Primary makes it the owner's primary image (the first image uploaded is, until another is).
	Primary bool `form:"is_primary" doc:"make it the primary image (images only)"`
}

// Arrangement changes an item's alt text, place and whether it is the primary image.
type Arrangement struct {
	Alt       *string `json:"alt" validate:"omitempty,max=300"`
	Position  *int    `json:"position" validate:"omitempty,min=0,max=1000"`
	IsPrimary *bool   `json:"is_primary"`
}
