// Package notify is the notification context: it turns what happens elsewhere (integration
// events) into in-app notifications, email, SMS and web push, by each person's preferences and
// the admins' templates, and streams new notifications and order updates live. It owns the
// `notify` schema.
//
// Every event is handled at least once (the bus retries); the unique keys of notifications and
// deliveries (event, person, kind, channel) make a redelivered event change nothing. Outgoing
// messages are River jobs carrying a delivery's id only, rendered when they run.
package notify

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/platform/pgdb"
)

// Channel is a way a message reaches a person.
type Channel string

// Channels.
const (
	InApp Channel = "in_app"
	Email Channel = "email"
	SMS   Channel = "sms"
	Push  Channel = "push"
)

// Channels lists every channel, in the order preferences show them.
var Channels = []Channel{InApp, Email, SMS, Push}

// Locales the built-in templates speak; the first is the default.
var Locales = []string{"vi", "en"}

// DefaultTimeZone is where a person is until they say otherwise.
const DefaultTimeZone = "Asia/Ho_Chi_Minh"

// Notification is one in-app notification, as its recipient sees it.
type Notification struct {
	ID        uuid.UUID       `json:"id"`
	Kind      Kind            `json:"kind"`
	Title     string          `json:"title"`
	Body      string          `json:"body"`
	Data      json.RawMessage `json:"data"`
	Read      bool            `json:"read"`
	ReadAt    *time.Time      `json:"read_at,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// Page is a page of a person's notifications, with how many of theirs are unread in all.
type Page struct {
	Items       []Notification `json:"items"`
	NextCursor  string         `json:"next_cursor,omitempty"`
	UnreadCount int64          `json:"unread_count"`
}

// Preference is whether one kind of message reaches a person on one channel.
type Preference struct {
	Kind    Kind    `json:"kind"`
	Channel Channel `json:"channel"`
	Enabled bool    `json:"enabled"`
	// Default is the table's default for it; Locked says it cannot be turned off.
	Default bool `json:"default"`
	Locked  bool `json:"locked"`
}

// QuietHours hold SMS and push, in the person's time zone, from Start to End ("22:00" to
// "07:00" spans midnight).
type QuietHours struct {
	Start string `json:"start" validate:"required,len=5" doc:"HH:MM"`
	End   string `json:"end" validate:"required,len=5" doc:"HH:MM"`
}

// Preferences are a person's language, time zone, quiet hours and channels per kind. The
// language and zone are their profile's (GET/PUT /users/profile), shown and changed here too.
type Preferences struct {
	Locale     string       `json:"locale"`
	TimeZone   string       `json:"time_zone"`
	QuietHours *QuietHours  `json:"quiet_hours,omitempty"`
	Items      []Preference `json:"items"`
	// PushPublicKey is the VAPID key a browser subscribes with (applicationServerKey).
	PushPublicKey string `json:"push_public_key,omitempty"`
}

// Template is an admin's template for one kind, channel and language (one version of it).
type Template struct {
	ID        uuid.UUID `json:"id"`
	Kind      Kind      `json:"kind"`
	Channel   Channel   `json:"channel"`
	Locale    string    `json:"locale"`
	Version   int       `json:"version"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	HTML      string    `json:"html"`
	Active    bool      `json:"active"`
	CreatedBy uuid.UUID `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Delivery is one outgoing message (email, SMS, push) and where it stands.
type Delivery struct {
	ID        uuid.UUID  `json:"id"`
	UserID    uuid.UUID  `json:"user_id"`
	Kind      Kind       `json:"kind"`
	Channel   Channel    `json:"channel"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
}

// Delivery statuses.
const (
	StatusQueued  = "queued"
	StatusSent    = "sent"
	StatusFailed  = "failed"
	StatusSkipped = "skipped"
)

// Contact is how to reach a person and speak to them, from the identity context.
type Contact struct {
	Email    string
	FullName string
	Phone    string
	Locale
}

// Locale is how to speak to a person: the language and the time zone of their profile (the
// identity context keeps them; this context stores neither).
type Locale struct {
	Locale   string
	TimeZone string
}

// Users is what this context needs of the identity context; a deleted account is not found.
type Users interface {
	// Contact answers how to reach a person, and in which language and zone.
	Contact(ctx context.Context, userID uuid.UUID) (Contact, error)
	// QueueContacts queues on b the one read of how to reach every live account among ids
	// (the readers of a send job's deliveries); done gets them by account when b is sent, an
	// account that is gone missing.
	QueueContacts(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID, done func(map[uuid.UUID]Contact, error) error)
	// QueueLocales queues on b the one read of the language and zone of every live account
	// among ids (all the recipients of an event); done gets them by account when b is sent, an
	// account that is gone missing.
	QueueLocales(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID, done func(map[uuid.UUID]Locale, error) error)
	// SetLocaleTx changes a person's language or zone (nil: unchanged) in tx, refusing what the
	// profile route refuses, and answers both as they now are.
	SetLocaleTx(ctx context.Context, tx pgx.Tx, userID uuid.UUID, locale, timeZone *string) (Locale, error)
}

// Shops answers who owns a shop; a missing shop is not found.
type Shops interface {
	ShopOwner(ctx context.Context, shopID uuid.UUID) (uuid.UUID, error)
	// QueueShopOwners queues the read of several shops' owners on b, one statement whatever
	// their number; done gets them by shop when b is sent (a shop gone is not in it).
	QueueShopOwners(ctx context.Context, b *pgdb.Batch, shopIDs []uuid.UUID, done func(map[uuid.UUID]uuid.UUID, error) error)
}

// OrderParties are the people an order concerns.
type OrderParties struct {
	BuyerID uuid.UUID
	ShopID  uuid.UUID
	// ShipperID is nil until a shipper carries it.
	ShipperID *uuid.UUID
}

// Orders answers whom an order concerns (the order context, with the shipping context's
// shipper); a missing order is not found.
type Orders interface {
	Parties(ctx context.Context, orderID uuid.UUID) (OrderParties, error)
}

// Ports are what the notification context needs of the others.
type Ports struct {
	Users  Users
	Shops  Shops
	Orders Orders
}

// Config is the notification context's configuration.
type Config struct {
	// MaxPushPerUser is how many browsers one person may register for push.
	MaxPushPerUser int
	// SendAttempts is how many times an outgoing message is tried before it is recorded failed.
	SendAttempts int
	// ReplayLimit is how many missed notifications a reconnecting live client is sent at most.
	ReplayLimit int
	// PushPublicKey is the VAPID public key browsers subscribe with (the preferences show it).
	PushPublicKey string
}
