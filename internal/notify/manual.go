package notify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/notify/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// SendInput is a message an admin sends by hand to one user: a kind's template with its
// variables, or a subject and a body.
type SendInput struct {
	UserID uuid.UUID `json:"user_id" validate:"required"`
	// Kind names the template to use (with Data); without it Subject and Body are the message.
	Kind    Kind              `json:"kind" validate:"max=64"`
	Subject string            `json:"subject" validate:"max=500"`
	Body    string            `json:"body" validate:"max=5000"`
	Data    map[string]string `json:"data" validate:"max=30,dive,max=1000"`
}

// SendEmail queues an email to a user (admins).
func (s *Service) SendEmail(ctx context.Context, p auth.Principal, in SendInput) (Delivery, error) {
	return s.sendByHand(ctx, p, Email, in)
}

// SendSMS queues a text message to a user (admins). Without an SMS provider it is refused.
func (s *Service) SendSMS(ctx context.Context, p auth.Principal, in SendInput) (Delivery, error) {
	if s.sms == nil {
		return Delivery{}, apperr.New(apperr.Unavailable, "SMS is unavailable: this server has no SMS provider configured")
	}
	return s.sendByHand(ctx, p, SMS, in)
}

func (s *Service) sendByHand(ctx context.Context, p auth.Principal, ch Channel, in SendInput) (Delivery, error) {
	if !p.IsAdmin() {
		return Delivery{}, errAdminOnly
	}
	data := map[string]any{}
	for k, v := range in.Data {
		data[k] = v
	}
	kind := in.Kind
	switch {
	case kind == "" || kind == KindMessage:
		kind = KindMessage
		if in.Body == "" || (ch == Email && in.Subject == "") {
			return Delivery{}, apperr.Field("body", "give a kind (a template), or a subject and a body")
		}
		data["subject"], data["body"] = in.Subject, in.Body
	default:
		if _, ok := rules[kind]; !ok {
			return Delivery{}, apperr.Field("kind", "is not a kind of message")
		}
	}
	for k := range in.Data {
		if !isVariable(k) {
			return Delivery{}, apperr.Field("data", fmt.Sprintf("%q is not a template variable", k))
		}
	}
	if _, err := s.ports.Users.Contact(ctx, in.UserID); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return Delivery{}, apperr.Field("user_id", "no such user")
		}
		return Delivery{}, err
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return Delivery{}, err
	}
	var out Delivery
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		d, err := q.CreateDelivery(ctx, store.CreateDeliveryParams{UserID: in.UserID, Kind: string(kind), Channel: string(ch),
			Subject: in.Subject, Body: in.Body, Data: raw, CreatedBy: &p.UserID})
		if err != nil {
			return err
		}
		out = toDelivery(d)
		// Sent by hand now: no quiet hours.
		return s.jobs.InsertTx(ctx, tx, sendArgs{DeliveryID: d.ID}, &river.InsertOpts{MaxAttempts: s.cfg.SendAttempts})
	})
	return out, err
}

func isVariable(k string) bool {
	for _, v := range Variables {
		if v == k {
			return true
		}
	}
	return false
}

func toDelivery(d store.NotifyDelivery) Delivery {
	out := Delivery{ID: d.ID, UserID: d.UserID, Kind: Kind(d.Kind), Channel: Channel(d.Channel), Status: d.Status,
		Attempts: int(d.Attempts), LastError: d.LastError, CreatedAt: d.CreatedAt.UTC()}
	if d.SentAt != nil {
		t := d.SentAt.UTC()
		out.SentAt = &t
	}
	return out
}

// DeliveryOf answers a delivery's record (admins; tests and the send routes' callers follow it).
func (s *Service) DeliveryOf(ctx context.Context, p auth.Principal, id uuid.UUID) (Delivery, error) {
	if !p.IsAdmin() {
		return Delivery{}, apperr.NotFoundf("delivery")
	}
	d, err := s.q.GetDelivery(ctx, id)
	if err != nil {
		return Delivery{}, pgdb.NotFound(err, "delivery")
	}
	return toDelivery(d), nil
}

// Deliveries answers a user's deliveries, newest first (tests and operators read the records).
func (s *Service) Deliveries(ctx context.Context, userID uuid.UUID) ([]Delivery, error) {
	rows, err := s.q.UserDeliveries(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("notify: deliveries: %w", err)
	}
	out := make([]Delivery, len(rows))
	for i, d := range rows {
		out[i] = toDelivery(d)
	}
	return out, nil
}
