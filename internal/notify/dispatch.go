package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/notify/internal/store"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// message is one thing to tell one person, made from an event.
type message struct {
	user uuid.UUID
	kind Kind
	data map[string]any
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
// transaction; a message already made for this event (a redelivery) is made again by nobody.
// The new in-app notifications reach the live streams after the commit.
func (s *Service) dispatch(ctx context.Context, eventID string, msgs ...message) error {
	var fresh []Notification
	var to []uuid.UUID
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		fresh, to = fresh[:0], to[:0]
		q := newStore(tx)
		var jobs []river.InsertManyParams
		for _, m := range msgs {
			if m.user == uuid.Nil {
				continue
			}
			n, js, err := s.make(ctx, q, eventID, m)
			if err != nil {
				return err
			}
			if n != nil {
				fresh, to = append(fresh, *n), append(to, m.user)
			}
			jobs = append(jobs, js...)
		}
		if len(jobs) == 0 {
			return nil
		}
		return s.jobs.InsertManyTx(ctx, tx, jobs)
	})
	if err != nil {
		return err
	}
	for i, n := range fresh {
		s.live(ctx, userTopic(to[i]), MsgNotification, n)
	}
	return nil
}

// make writes one message: its in-app notification (nil when the person has it off, or has it
// already) and the send jobs of its other channels.
func (s *Service) make(ctx context.Context, q *store.Queries, eventID string, m message) (*Notification, []river.InsertManyParams, error) {
	ov, err := s.overrides(ctx, q, m.user)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.settingsOf(ctx, q, m.user)
	if err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(m.data)
	if err != nil {
		return nil, nil, fmt.Errorf("notify: data: %w", err)
	}
	var out *Notification
	var jobs []river.InsertManyParams
	for _, ch := range enabledChannels(m.kind, ov) {
		if ch == InApp {
			msg, _, err := s.renderFor(ctx, q, m.kind, InApp, st.locale, st.localize(m.data))
			if err != nil {
				return nil, nil, err
			}
			r, err := q.CreateNotification(ctx, store.CreateNotificationParams{UserID: m.user, Kind: string(m.kind), Title: msg.Title,
				Body: msg.Body, Data: data, EventID: eventID})
			if pgdb.IsNoRows(err) {
				continue // made already: this is a redelivery
			}
			if err != nil {
				return nil, nil, err
			}
			n := toNotification(r)
			out = &n
			continue
		}
		d, err := q.CreateDelivery(ctx, store.CreateDeliveryParams{UserID: m.user, Kind: string(m.kind), Channel: string(ch),
			EventID: &eventID, Data: data})
		if pgdb.IsNoRows(err) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		jobs = append(jobs, s.sendJob(d.ID, ch, st))
	}
	return out, jobs, nil
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

// live publishes to a live topic; a message lost there is logged (the notification is stored,
// and a reconnecting client asks for what it missed).
func (s *Service) live(ctx context.Context, topic, msgType string, data any) {
	if s.hub == nil {
		return
	}
	if err := s.hub.Publish(context.WithoutCancel(ctx), topic, msgType, data); err != nil {
		s.log.Warn("notify: live message lost", "topic", topic, "type", msgType, "err", err)
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
