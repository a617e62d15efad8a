package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/notify/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/mail"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/realtime"
)

// Service holds the rules of the notification context.
type Service struct {
	// zones are the time zones loaded so far, by name.
	zones sync.Map
	pool  *pgxpool.Pool
	q     *store.Queries
	jobs  *jobs.Runner
	hub   *realtime.Hub
	ports Ports
	cfg   Config
	log   *slog.Logger
	mail  mail.Sender
	sms   SMSProvider
	push  Pusher
}

// Senders are the channels' outlets: mail (the mail kernel), an SMS provider (nil: SMS is
// unavailable) and a web push sender (nil: push is unavailable).
type Senders struct {
	Mail mail.Sender
	SMS  SMSProvider
	Push Pusher
}

// NewService builds the notification service, registers its send worker and subscribes to the
// events it turns into messages. hub may be nil (no live streams: the routes command).
func NewService(pool *pgxpool.Pool, bus *eventbus.Bus, runner *jobs.Runner, hub *realtime.Hub, ports Ports, senders Senders,
	cfg Config, log *slog.Logger) *Service {
	if cfg.MaxPushPerUser <= 0 {
		cfg.MaxPushPerUser = 10
	}
	if cfg.SendAttempts <= 0 {
		cfg.SendAttempts = 8
	}
	if cfg.ReplayLimit <= 0 {
		cfg.ReplayLimit = 100
	}
	s := &Service{pool: pool, q: newStore(pool), jobs: runner, hub: hub, ports: ports, cfg: cfg, log: log,
		mail: senders.Mail, sms: senders.SMS, push: senders.Push}
	river.AddWorker(runner.Workers, &sendWorker{s: s})
	s.subscribe(bus)
	return s
}

// newStore returns the notify store on db, its errors naming the query that failed.
func newStore(db store.DBTX) *store.Queries { return store.New(pgdb.Named("notify", db)) }

// ListFilter narrows a person's notifications.
type ListFilter struct {
	UnreadOnly bool
}

// List answers the caller's notifications, newest first, with their unread count.
func (s *Service) List(ctx context.Context, p auth.Principal, f ListFilter, page httpx.Page) (Page, error) {
	k, has, err := httpx.KeysetOf(page)
	if err != nil {
		return Page{}, err
	}
	rows, err := s.q.ListNotifications(ctx, store.ListNotificationsParams{UserID: p.UserID, UnreadOnly: f.UnreadOnly,
		HasCursor: has, CursorAt: k.At, CursorID: k.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return Page{}, fmt.Errorf("notify: list: %w", err)
	}
	items := make([]Notification, len(rows))
	for i, r := range rows {
		items[i] = toNotification(r)
	}
	l := httpx.Paginate(items, page.Limit, func(n Notification) any { return httpx.Keyset{At: n.CreatedAt, ID: n.ID} })
	unread, err := s.q.CountUnread(ctx, p.UserID)
	if err != nil {
		return Page{}, fmt.Errorf("notify: count unread: %w", err)
	}
	return Page{Items: l.Items, NextCursor: l.NextCursor, UnreadCount: unread}, nil
}

// MarkRead marks one of the caller's notifications read; another's does not exist to them.
func (s *Service) MarkRead(ctx context.Context, p auth.Principal, id uuid.UUID) (Notification, error) {
	r, err := s.q.MarkRead(ctx, store.MarkReadParams{ID: id, UserID: p.UserID})
	if err != nil {
		return Notification{}, pgdb.NotFound(err, "notification")
	}
	return toNotification(r), nil
}

// Delete removes one of the caller's notifications.
func (s *Service) Delete(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	n, err := s.q.DeleteNotification(ctx, store.DeleteNotificationParams{ID: id, UserID: p.UserID})
	if err != nil {
		return fmt.Errorf("notify: delete: %w", err)
	}
	if n == 0 {
		return apperr.NotFoundf("notification")
	}
	return nil
}

// Marked says how many notifications mark-all-read marked.
type Marked struct {
	Marked int64 `json:"marked"`
}

// MarkAllRead marks every unread notification of the caller's read.
func (s *Service) MarkAllRead(ctx context.Context, p auth.Principal) (Marked, error) {
	n, err := s.q.MarkAllRead(ctx, p.UserID)
	if err != nil {
		return Marked{}, fmt.Errorf("notify: mark all read: %w", err)
	}
	return Marked{Marked: n}, nil
}

func toNotification(r store.NotifyNotification) Notification {
	n := Notification{ID: r.ID, Kind: Kind(r.Kind), Title: r.Title, Body: r.Body, Data: r.Data, Read: r.ReadAt != nil,
		CreatedAt: r.CreatedAt.UTC()}
	if r.ReadAt != nil {
		t := r.ReadAt.UTC()
		n.ReadAt = &t
	}
	if len(n.Data) == 0 {
		n.Data = json.RawMessage(`{}`)
	}
	return n
}

// settings are a person's language and zone (their profile's) and quiet hours (kept here).
type settings struct {
	locale     string
	zone       *time.Location
	zoneName   string
	quietStart *int16
	quietEnd   *int16
}

// settingsOf fills in a person's settings from their profile's language and zone (defaults for
// what is empty) and their quiet hours (nil: none).
func (s *Service) settingsOf(l Locale, quietStart, quietEnd *int16) settings {
	out := settings{locale: cmp.Or(l.Locale, Locales[0]), zoneName: cmp.Or(l.TimeZone, DefaultTimeZone), quietStart: quietStart,
		quietEnd: quietEnd}
	out.zone = s.zone(out.zoneName)
	return out
}

// zone loads a time zone once per process: time.LoadLocation reads and parses the zone database
// on every call, and every message needs its recipient's. A name it cannot load (the profile
// route refuses those, so this is a bug) is UTC.
func (s *Service) zone(name string) *time.Location {
	if z, ok := s.zones.Load(name); ok {
		return z.(*time.Location)
	}
	z, err := time.LoadLocation(name)
	if err != nil {
		s.log.Warn("notify: unknown time zone; using UTC", "time_zone", name, "err", err)
		z = time.UTC
	}
	s.zones.Store(name, z)
	return z
}

// quietUntil is when the quiet hours around t end, or the zero time when t is outside them.
func (st settings) quietUntil(t time.Time) time.Time {
	if st.quietStart == nil || st.quietEnd == nil || *st.quietStart == *st.quietEnd {
		return time.Time{}
	}
	local := t.In(st.zone)
	minute := int16(local.Hour()*60 + local.Minute())
	start, end := *st.quietStart, *st.quietEnd
	inside := (start < end && minute >= start && minute < end) || (start > end && (minute >= start || minute < end))
	if !inside {
		return time.Time{}
	}
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, st.zone)
	until := day.Add(time.Duration(end) * time.Minute)
	if !until.After(local) {
		until = until.AddDate(0, 0, 1)
	}
	return until
}

// enabledChannels is where kind reaches a person: the defaults, changed by their overrides
// (a mandatory kind keeps its channels whatever is stored).
func enabledChannels(kind Kind, overrides map[string]bool) []Channel {
	var out []Channel
	for _, ch := range Channels {
		on := defaultOn(kind, ch)
		if v, ok := overrides[string(kind)+"/"+string(ch)]; ok && !(rules[kind].mandatory && on) {
			on = v
		}
		if on {
			out = append(out, ch)
		}
	}
	return out
}

// Preferences answers the caller's preferences: every kind on every channel.
func (s *Service) Preferences(ctx context.Context, p auth.Principal) (Preferences, error) {
	c, err := s.ports.Users.Contact(ctx, p.UserID)
	if err != nil {
		return Preferences{}, err
	}
	return s.preferences(ctx, s.q, p.UserID, c.Locale)
}

func (s *Service) preferences(ctx context.Context, q *store.Queries, userID uuid.UUID, l Locale) (Preferences, error) {
	var start, end *int16
	r, err := q.GetSettings(ctx, userID)
	switch {
	case err == nil:
		start, end = r.QuietStart, r.QuietEnd
	case !pgdb.IsNoRows(err):
		return Preferences{}, fmt.Errorf("notify: settings: %w", err)
	}
	rows, err := q.ListPreferences(ctx, userID)
	if err != nil {
		return Preferences{}, fmt.Errorf("notify: preferences: %w", err)
	}
	ov := make(map[string]bool, len(rows))
	for _, r := range rows {
		ov[r.Kind+"/"+r.Channel] = r.Enabled
	}
	st := s.settingsOf(l, start, end)
	out := Preferences{Locale: st.locale, TimeZone: st.zoneName, Items: []Preference{}, PushPublicKey: s.cfg.PushPublicKey}
	if st.quietStart != nil && st.quietEnd != nil {
		out.QuietHours = &QuietHours{Start: clock(*st.quietStart), End: clock(*st.quietEnd)}
	}
	for _, k := range Kinds() {
		on := enabledChannels(k, ov)
		for _, ch := range Channels {
			def := defaultOn(k, ch)
			out.Items = append(out.Items, Preference{Kind: k, Channel: ch, Enabled: contains(on, ch), Default: def,
				Locked: def && rules[k].mandatory})
		}
	}
	return out, nil
}

func contains(chs []Channel, ch Channel) bool {
	for _, c := range chs {
		if c == ch {
			return true
		}
	}
	return false
}

func clock(m int16) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// parseClock reads "HH:MM" as minutes after midnight.
func parseClock(field, v string) (int16, error) {
	h, m, ok := strings.Cut(v, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || len(h) != 2 || len(m) != 2 || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, apperr.Field(field, "is a time of day, HH:MM from 00:00 to 23:59")
	}
	return int16(hh*60 + mm), nil
}

// PreferenceInput turns one kind on one channel on or off.
type PreferenceInput struct {
	Kind    Kind    `json:"kind" validate:"required,max=64"`
	Channel Channel `json:"channel" validate:"required,oneof=in_app email sms push"`
	Enabled bool    `json:"enabled"`
}

// PreferencesInput changes the caller's preferences: only what it names. Locale and TimeZone
// are their profile's, changed there (as PUT /users/profile would change them).
type PreferencesInput struct {
	Locale   *string `json:"locale" validate:"omitempty,oneof=vi en"`
	TimeZone *string `json:"time_zone" validate:"omitempty,max=64"`
	// QuietHours sets the quiet hours; ClearQuietHours removes them.
	QuietHours      *QuietHours       `json:"quiet_hours"`
	ClearQuietHours bool              `json:"clear_quiet_hours"`
	Items           []PreferenceInput `json:"items" validate:"max=200,dive"`
}

// SetPreferences changes the caller's preferences. Turning off a message that cannot be turned
// off (password reset and change mail) is refused, and nothing changes. A language or zone goes
// to the caller's profile, in the same transaction: the profile is their one record, and a
// client that sets them here (as this route always allowed) still sees its change honoured.
func (s *Service) SetPreferences(ctx context.Context, p auth.Principal, in PreferencesInput) (Preferences, error) {
	for i, it := range in.Items {
		r, ok := rules[it.Kind]
		field := fmt.Sprintf("items[%d]", i)
		if !ok || it.Kind == KindMessage {
			return Preferences{}, apperr.Field(field+".kind", "is not a kind of message")
		}
		if r.mandatory && !it.Enabled && defaultOn(it.Kind, it.Channel) {
			return Preferences{}, apperr.Field(field+".enabled", string(it.Kind)+" by "+string(it.Channel)+" cannot be turned off")
		}
	}
	var start, end *int16
	if in.QuietHours != nil {
		a, err := parseClock("quiet_hours.start", in.QuietHours.Start)
		if err != nil {
			return Preferences{}, err
		}
		b, err := parseClock("quiet_hours.end", in.QuietHours.End)
		if err != nil {
			return Preferences{}, err
		}
		if a == b {
			return Preferences{}, apperr.Field("quiet_hours.end", "must differ from the start")
		}
		start, end = &a, &b
	}
	var l Locale
	if in.Locale == nil && in.TimeZone == nil {
		c, err := s.ports.Users.Contact(ctx, p.UserID)
		if err != nil {
			return Preferences{}, err
		}
		l = c.Locale
	}
	var out Preferences
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if in.Locale != nil || in.TimeZone != nil {
			var err error
			if l, err = s.ports.Users.SetLocaleTx(ctx, tx, p.UserID, in.Locale, in.TimeZone); err != nil {
				return err
			}
		}
		if in.ClearQuietHours || start != nil {
			if err := q.UpsertSettings(ctx, store.UpsertSettingsParams{UserID: p.UserID, QuietStart: start, QuietEnd: end}); err != nil {
				return err
			}
		}
		for _, it := range in.Items {
			if err := q.UpsertPreference(ctx, store.UpsertPreferenceParams{UserID: p.UserID, Kind: string(it.Kind),
				Channel: string(it.Channel), Enabled: it.Enabled}); err != nil {
				return err
			}
		}
		var err error
		out, err = s.preferences(ctx, q, p.UserID, l)
		return err
	})
	return out, err
}

// PushInput is a browser's push subscription (PushSubscription.toJSON()).
type PushInput struct {
	Endpoint string `json:"endpoint" validate:"required,url,max=2048"`
	Keys     struct {
		P256dh string `json:"p256dh" validate:"required,max=200"`
		Auth   string `json:"auth" validate:"required,max=100"`
	} `json:"keys"`
	UserAgent string `json:"user_agent" validate:"max=500"`
}

// PushSubscription is a registered browser.
type PushSubscription struct {
	ID        uuid.UUID `json:"id"`
	Endpoint  string    `json:"endpoint"`
	CreatedAt time.Time `json:"created_at"`
}

// RegisterPush stores a browser's push subscription for the caller, up to MaxPushPerUser.
func (s *Service) RegisterPush(ctx context.Context, p auth.Principal, in PushInput) (PushSubscription, error) {
	if !strings.HasPrefix(in.Endpoint, "https://") && !strings.HasPrefix(in.Endpoint, "http://") {
		return PushSubscription{}, apperr.Field("endpoint", "is the push service's URL")
	}
	if err := checkKeys(in.Keys.P256dh, in.Keys.Auth); err != nil {
		return PushSubscription{}, err
	}
	var out PushSubscription
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		// One person's registrations are serialized so that the count holds.
		if err := q.LockKey(ctx, "notify.push:"+p.UserID.String()); err != nil {
			return err
		}
		n, err := q.CountPushSubscriptions(ctx, p.UserID)
		if err != nil {
			return err
		}
		r, err := q.UpsertPushSubscription(ctx, store.UpsertPushSubscriptionParams{UserID: p.UserID, Endpoint: in.Endpoint,
			P256dh: in.Keys.P256dh, Auth: in.Keys.Auth, UserAgent: in.UserAgent})
		if err != nil {
			return err
		}
		if m, err := q.CountPushSubscriptions(ctx, p.UserID); err != nil {
			return err
		} else if m > n && m > int64(s.cfg.MaxPushPerUser) {
			return &apperr.Error{Code: apperr.TooManyRequests, Message: fmt.Sprintf(
				"at most %d browsers may receive your push notifications: unregister one first", s.cfg.MaxPushPerUser),
				RetryAfter: time.Hour}
		}
		out = PushSubscription{ID: r.ID, Endpoint: r.Endpoint, CreatedAt: r.CreatedAt.UTC()}
		return nil
	})
	return out, err
}

// UnregisterInput names the browser to forget.
type UnregisterInput struct {
	Endpoint string `json:"endpoint" validate:"required,max=2048"`
}

// UnregisterPush removes one of the caller's push subscriptions.
func (s *Service) UnregisterPush(ctx context.Context, p auth.Principal, in UnregisterInput) error {
	n, err := s.q.DeletePushSubscription(ctx, store.DeletePushSubscriptionParams{Endpoint: in.Endpoint, UserID: p.UserID})
	if err != nil {
		return fmt.Errorf("notify: unregister push: %w", err)
	}
	if n == 0 {
		return apperr.NotFoundf("push subscription")
	}
	return nil
}

// Missed answers the caller's notifications that came after one of theirs, oldest first, at
// most ReplayLimit: what a reconnecting live client did not receive. An ID that is not one of
// the caller's notifications answers nothing.
func (s *Service) Missed(ctx context.Context, p auth.Principal, after uuid.UUID) ([]Notification, error) {
	rows, err := s.q.NotificationsSince(ctx, store.NotificationsSinceParams{AfterID: after, UserID: p.UserID, Lim: int32(s.cfg.ReplayLimit)})
	if err != nil {
		return nil, fmt.Errorf("notify: missed: %w", err)
	}
	out := make([]Notification, len(rows))
	for i, r := range rows {
		out[i] = toNotification(r)
	}
	return out, nil
}

// AuthorizeOrderFollower checks that p may follow an order's updates: its buyer, its shop's
// owner, its shipper or an admin. To anyone else the order does not exist.
func (s *Service) AuthorizeOrderFollower(ctx context.Context, p auth.Principal, orderID uuid.UUID) error {
	parties, err := s.ports.Orders.Parties(ctx, orderID)
	if err != nil {
		return err
	}
	if p.IsAdmin() || parties.BuyerID == p.UserID || (parties.ShipperID != nil && *parties.ShipperID == p.UserID) {
		return nil
	}
	owner, err := s.ports.Shops.ShopOwner(ctx, parties.ShopID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return err
	}
	if err == nil && owner == p.UserID {
		return nil
	}
	return apperr.NotFoundf("order")
}
