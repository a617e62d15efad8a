package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/notify/internal/store"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/realtime"
)

// message is one thing to tell one person, made from an event.
type message struct {
	user uuid.UUID
	kind Kind
	data map[string]any
	// event keys the message against redeliveries (dispatch sets it to its event's).
	event string
}

// Live message types.
const (
	// MsgNotification carries a new notification on /notifications/live.
	MsgNotification = "notification"
	// MsgOrderStatus, MsgOrderPaid, MsgPaymentFailed, MsgShipment carry an order's updates on
	// /orders/{id}/live-updates.
	MsgOrderStatus   = "order_status"
	MsgOrderPaid     = "order_paid"
	MsgPaymentFailed = "payment_failed"
	MsgShipment      = "shipment"
)

// userTopic is the hub topic of a person's new notifications.
func userTopic(id uuid.UUID) string { return "notify:user:" + id.String() }

// orderTopic is the hub topic of an order's updates.
func orderTopic(id uuid.UUID) string { return "notify:order:" + id.String() }

// dispatch turns one event's messages into notifications and queued deliveries, in one
// transaction whose round trips do not grow with its recipients: one batch reads what every
// recipient needs (dispatchReads), one batch inserts the notifications and the deliveries set-based,
// and River inserts every send job at once. A message made already for this event (a redelivery)
// is made again by nobody: the unique keys skip it, and nothing is sent for it. A recipient whose
// account is gone is told nothing. The new in-app notifications reach the live streams after the
// commit.
func (s *Service) dispatch(ctx context.Context, eventID string, msgs ...message) error {
	for i := range msgs {
		msgs[i].event = eventID
	}
	return s.dispatchMany(ctx, msgs)
}

// sendJobMax is the most deliveries one send job sends, one after another: the events of
// several checkouts dispatched together (eventbus runs the jobs that wait at once as one) spread
// over several jobs, which run side by side, and a slow provider delays few mails.
const sendJobMax = 16

// dispatchMany is dispatch for the messages of several events (each message names its own), in
// one transaction: the events of one publish, or of several delivered together.
func (s *Service) dispatchMany(ctx context.Context, msgs []message) error {
	msgs = slices.DeleteFunc(msgs, func(m message) bool { return m.user == uuid.Nil })
	if len(msgs) == 0 {
		return nil
	}
	var fresh []store.NotifyNotification
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		fresh = nil
		r, err := s.dispatchReads(ctx, tx, msgs)
		if err != nil {
			return err
		}
		ns, ds, err := s.rows(msgs, r)
		if err != nil {
			return err
		}
		var b pgdb.Batch
		if len(ns.UserIds) > 0 {
			pgdb.Queue(&b, func(db pgdb.DBTX) ([]store.NotifyNotification, error) {
				return newStore(db).CreateNotifications(ctx, ns)
			}, func(rows []store.NotifyNotification, err error) error {
				fresh = rows
				return err
			})
		}
		var made []store.CreateDeliveriesRow
		if len(ds.UserIds) > 0 {
			pgdb.Queue(&b, func(db pgdb.DBTX) ([]store.CreateDeliveriesRow, error) {
				return newStore(db).CreateDeliveries(ctx, ds)
			}, func(rows []store.CreateDeliveriesRow, err error) error {
				made = rows
				return err
			})
		}
		if err := b.Send(ctx, tx); err != nil {
			return err
		}
		jobs := make([]river.InsertManyParams, 0, len(made))
		var now []uuid.UUID // the deliveries due at once: one job sends them all
		for _, d := range made {
			j := s.sendJob(d.ID, Channel(d.Channel), r.settings[d.UserID])
			if j.InsertOpts.ScheduledAt.IsZero() {
				now = append(now, d.ID)
				continue
			}
			jobs = append(jobs, j)
		}
		for chunk := range slices.Chunk(now, sendJobMax) {
			if len(chunk) == 1 {
				jobs = append(jobs, s.sendJob(chunk[0], Email, settings{}))
				continue
			}
			jobs = append(jobs, river.InsertManyParams{Args: sendArgs{DeliveryIDs: chunk},
				InsertOpts: &river.InsertOpts{MaxAttempts: s.cfg.SendAttempts, Queue: river.QueueDefault}})
		}
		return s.jobs.InsertManyTx(ctx, tx, jobs)
	})
	if err != nil {
		return err
	}
	out := make([]realtime.Outgoing, len(fresh))
	for i, n := range fresh {
		out[i] = realtime.Outgoing{Topic: userTopic(n.UserID), Type: MsgNotification, Data: toNotification(n)}
	}
	s.live(ctx, out...)
	return nil
}

// rows are the notifications and deliveries of events' messages, as the set-based inserts
// take them: each message on each channel its recipient has it on, the in-app ones rendered in
// the recipient's language with their times in the recipient's zone.
func (s *Service) rows(msgs []message, r reads) (store.CreateNotificationsParams, store.CreateDeliveriesParams, error) {
	var ns store.CreateNotificationsParams
	var ds store.CreateDeliveriesParams
	for _, m := range msgs {
		st, live := r.settings[m.user]
		if !live {
			continue
		}
		data, err := json.Marshal(m.data)
		if err != nil {
			return ns, ds, fmt.Errorf("notify: data: %w", err)
		}
		for _, ch := range enabledChannels(m.kind, r.overrides[m.user]) {
			if ch != InApp {
				ds.UserIds = append(ds.UserIds, m.user)
				ds.Kinds = append(ds.Kinds, string(m.kind))
				ds.Channels = append(ds.Channels, string(ch))
				ds.Data = append(ds.Data, string(data))
				ds.EventIds = append(ds.EventIds, m.event)
				continue
			}
			var t *store.NotifyTemplate
			if tpl, ok := r.templates[string(m.kind)+"/"+st.locale]; ok {
				t = &tpl
			}
			msg, _, err := s.renderWith(t, m.kind, st.locale, st.localize(m.data))
			if err != nil {
				return ns, ds, err
			}
			ns.UserIds = append(ns.UserIds, m.user)
			ns.Kinds = append(ns.Kinds, string(m.kind))
			ns.Titles = append(ns.Titles, msg.Title)
			ns.Bodies = append(ns.Bodies, msg.Body)
			ns.Data = append(ns.Data, string(data))
			ns.EventIds = append(ns.EventIds, m.event)
		}
	}
	return ns, ds, nil
}

// reads are what dispatch needs of an event's recipients: their settings (their profiles'
// languages and zones, and their quiet hours; live accounts only), their overrides of the
// event's kinds ("kind/channel"), and the active in-app templates of the event's kinds
// ("kind/locale").
type reads struct {
	settings  map[uuid.UUID]settings
	overrides map[uuid.UUID]map[string]bool
	templates map[string]store.NotifyTemplate
}

// dispatchReads reads what dispatch needs of every recipient of an event in one round trip: the
// identity context's read of their languages and zones, and this context's of their overrides,
// quiet hours and the in-app templates, each one query for all of them.
func (s *Service) dispatchReads(ctx context.Context, tx pgx.Tx, msgs []message) (reads, error) {
	var ids []uuid.UUID
	var kinds []string
	for _, m := range msgs {
		if !slices.Contains(ids, m.user) {
			ids = append(ids, m.user)
		}
		if !slices.Contains(kinds, string(m.kind)) {
			kinds = append(kinds, string(m.kind))
		}
	}
	out := reads{settings: map[uuid.UUID]settings{}, overrides: map[uuid.UUID]map[string]bool{},
		templates: map[string]store.NotifyTemplate{}}
	var locales map[uuid.UUID]Locale
	quiet := map[uuid.UUID]store.NotifySetting{}
	var b pgdb.Batch
	s.ports.Users.QueueLocales(ctx, &b, ids, func(l map[uuid.UUID]Locale, err error) error {
		locales = l
		return err
	})
	pgdb.Queue(&b, func(db pgdb.DBTX) ([]store.NotifyPreference, error) {
		return newStore(db).RecipientPreferences(ctx, store.RecipientPreferencesParams{UserIds: ids, Kinds: kinds})
	}, func(rows []store.NotifyPreference, err error) error {
		for _, r := range rows {
			if out.overrides[r.UserID] == nil {
				out.overrides[r.UserID] = map[string]bool{}
			}
			out.overrides[r.UserID][r.Kind+"/"+r.Channel] = r.Enabled
		}
		return err
	})
	// The quiet hours by the readers' primary keys, under the generic plan: the custom one was made
	// again at every event, and cost more to make than to run.
	pgdb.QueueGeneric(&b, func(db pgdb.DBTX) ([]store.NotifySetting, error) { return newStore(db).RecipientQuietHours(ctx, ids) },
		func(rows []store.NotifySetting, err error) error {
			for _, r := range rows {
				quiet[r.UserID] = r
			}
			return err
		})
	pgdb.Queue(&b, func(db pgdb.DBTX) ([]store.NotifyTemplate, error) {
		return newStore(db).ActiveTemplatesOf(ctx, store.ActiveTemplatesOfParams{Kinds: kinds, Channel: string(InApp)})
	}, func(rows []store.NotifyTemplate, err error) error {
		for _, r := range rows {
			out.templates[r.Kind+"/"+r.Locale] = r
		}
		return err
	})
	if err := b.Send(ctx, tx); err != nil {
		return reads{}, err
	}
	for id, l := range locales {
		out.settings[id] = s.settingsOf(l, quiet[id].QuietStart, quiet[id].QuietEnd)
	}
	return out, nil
}

// sendJob is the River job sending a delivery: SMS and push wait for the end of the person's
// quiet hours.
func (s *Service) sendJob(id uuid.UUID, ch Channel, st settings) river.InsertManyParams {
	opts := &river.InsertOpts{MaxAttempts: s.cfg.SendAttempts, Queue: river.QueueDefault}
	if ch == SMS || ch == Push {
		if until := st.quietUntil(time.Now()); !until.IsZero() {
			opts.ScheduledAt = until
		}
	}
	return river.InsertManyParams{Args: sendArgs{DeliveryID: id}, InsertOpts: opts}
}

// live publishes to live topics, in one round trip; a message lost there is logged (the
// notification is stored, and a reconnecting client asks for what it missed).
func (s *Service) live(ctx context.Context, msgs ...realtime.Outgoing) {
	if s.hub == nil || len(msgs) == 0 {
		return
	}
	if err := s.hub.PublishMany(context.WithoutCancel(ctx), msgs...); err != nil {
		s.log.Warn("notify: live messages lost", "messages", len(msgs), "topic", msgs[0].Topic, "type", msgs[0].Type, "err", err)
	}
}

// localize shows the message's time ("at", stored as RFC 3339) in the person's time zone, as
// people read times: "02/12/2026 22:05 (+07)". The stored data keeps the instant.
func (st settings) localize(data map[string]any) map[string]any {
	raw, ok := data["at"].(string)
	if !ok {
		return data
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return data
	}
	out := make(map[string]any, len(data))
	for k, v := range data {
		out[k] = v
	}
	out["at"] = t.In(st.zone).Format("02/01/2006 15:04 (MST)")
	return out
}
