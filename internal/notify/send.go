package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/notify/internal/store"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/mail"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// sendArgs is the River job that sends one delivery. It carries the delivery's id only: the
// message is rendered when the job runs, so no text (and never a secret) waits in River's
// table, and an admin's template change reaches messages still queued.
type sendArgs struct {
	DeliveryID uuid.UUID `json:"delivery_id,omitzero"`
	// DeliveryIDs are the deliveries of one dispatch due at once (a checkout's order mails to
	// buyer and sellers), sent by one job: a job costs an insert, a fetch and a completion
	// whatever it sends. One that fails goes on in a job of its own.
	DeliveryIDs []uuid.UUID `json:"delivery_ids,omitempty"`
}

// Kind implements river.JobArgs.
func (sendArgs) Kind() string { return "notify_send" }

type sendWorker struct {
	river.WorkerDefaults[sendArgs]
	s *Service
}

// skip is a delivery that can never be sent (no address, no phone, no browser, the channel
// not configured): it is recorded skipped, with why, and not retried.
type skip struct{ why string }

func (e skip) Error() string { return e.why }

// Work sends the delivery once: a finished delivery (sent, failed, skipped) is left alone, so
// a job run twice sends once, barring a crash between the provider's acceptance and the record
// (email then carries the same Message-ID). After the last attempt the delivery is recorded
// failed, never dropped silently.
func (w *sendWorker) Work(ctx context.Context, job *river.Job[sendArgs]) error {
	// What the job records (tries, sent) need not wait for the disk: River completes the job in
	// a synchronous commit after them, and a record a crash of PostgreSQL takes back is a
	// message sent again with its Message-ID, as a crash between the send and its record is.
	ctx = pgdb.AsyncCommit(ctx)
	s := w.s
	if len(job.Args.DeliveryIDs) > 0 {
		return w.many(ctx, job)
	}
	errs, err := s.sendAll(ctx, []uuid.UUID{job.Args.DeliveryID})
	if err == nil {
		err = errs[0]
	}
	var sk skip
	switch {
	case err == nil:
		return nil
	case errors.As(err, &sk):
		return s.record(ctx, ended{job.Args.DeliveryID, StatusSkipped, sk.why})
	case job.Attempt >= job.MaxAttempts:
		s.log.Warn("notify: delivery failed for good", "delivery_id", job.Args.DeliveryID, "err", err)
		return s.record(ctx, ended{job.Args.DeliveryID, StatusFailed, err.Error()})
	}
	if nerr := s.q.NoteDeliveryError(ctx, store.NoteDeliveryErrorParams{ID: job.Args.DeliveryID, LastError: clip(err.Error())}); nerr != nil {
		s.log.Warn("notify: recording a delivery's error", "delivery_id", job.Args.DeliveryID, "err", nerr)
	}
	return err
}

// many sends a dispatch's deliveries one after another; each one that fails (not skipped) gets
// a job of its own, inserted in the transaction that completes this one, where it retries with
// backoff as a single delivery does (its first try was this one's). When the reads before the
// sends fail, nothing was sent and the whole job is retried.
func (w *sendWorker) many(ctx context.Context, job *river.Job[sendArgs]) error {
	s := w.s
	errs, err := s.sendAll(ctx, job.Args.DeliveryIDs)
	if err != nil {
		return err
	}
	var failed []river.InsertManyParams
	var skipped []ended
	for i, id := range job.Args.DeliveryIDs {
		err := errs[i]
		var sk skip
		switch {
		case err == nil:
			continue
		case errors.As(err, &sk):
			skipped = append(skipped, ended{id, StatusSkipped, sk.why})
			continue
		case ctx.Err() != nil:
			return err
		}
		if nerr := s.q.NoteDeliveryError(ctx, store.NoteDeliveryErrorParams{ID: id, LastError: clip(err.Error())}); nerr != nil {
			s.log.Warn("notify: recording a delivery's error", "delivery_id", id, "err", nerr)
		}
		failed = append(failed, river.InsertManyParams{Args: sendArgs{DeliveryID: id}, InsertOpts: &river.InsertOpts{
			MaxAttempts: max(1, s.cfg.SendAttempts-1), Queue: river.QueueDefault, ScheduledAt: time.Now().Add(time.Second)}})
	}
	if err := s.record(ctx, skipped...); err != nil {
		return err
	}
	if len(failed) == 0 {
		return nil
	}
	return jobs.CompleteInserting(ctx, s.jobs, job, failed)
}

// ended is a delivery's end: sent, skipped (with why) or failed (with the last error).
type ended struct {
	id          uuid.UUID
	status, why string
}

// record records deliveries' ends in one statement; sent as a batch, so that a send job's record
// commits as the job's context says (pgdb.AsyncCommit).
func (s *Service) record(ctx context.Context, ends ...ended) error {
	if len(ends) == 0 {
		return nil
	}
	var p store.FinishDeliveriesParams
	for _, e := range ends {
		p.Ids, p.Statuses, p.LastErrors = append(p.Ids, e.id), append(p.Statuses, e.status), append(p.LastErrors, clip(e.why))
	}
	var b pgdb.Batch
	pgdb.Queue(&b, func(db pgdb.DBTX) (struct{}, error) { return struct{}{}, newStore(db).FinishDeliveries(ctx, p) },
		func(_ struct{}, err error) error { return err })
	if err := b.Send(ctx, s.pool); err != nil {
		return fmt.Errorf("notify: finish deliveries: %w", err)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 1000 {
		return s[:1000]
	}
	return s
}

// templateKey picks a stored template: a kind on a channel in a language.
type templateKey struct{ kind, channel, locale string }

// sendAll sends the queued deliveries among ids, one after another, and answers each one's
// outcome in ids' order (nil: sent, or finished already or gone). The deliveries, their
// templates and their readers' contacts are read first, in two round trips whatever their
// number (the contacts are the identity context's, asked for once the deliveries say whose);
// it was three a delivery. An SMS or a push is recorded sent as soon as its channel took it;
// the mails are recorded together after the last one, in one statement (it was one a mail, the
// costliest statement of a checkout's jobs): a crash between a mail's send and that record sends
// it again, with the same Message-ID, which mail clients show once. An error of its own means
// those reads failed, and nothing was sent.
func (s *Service) sendAll(ctx context.Context, ids []uuid.UUID) ([]error, error) {
	var (
		b         pgdb.Batch
		queued    []store.NotifyDelivery
		templates = map[templateKey]*store.NotifyTemplate{}
		contacts  map[uuid.UUID]Contact
	)
	// Both by the deliveries' primary keys, so under their generic plans: the custom ones were made
	// again at every send job, and cost more to make than to run.
	pgdb.QueueGeneric(&b, func(db pgdb.DBTX) ([]store.NotifyDelivery, error) { return newStore(db).AttemptDeliveries(ctx, ids) },
		func(ds []store.NotifyDelivery, err error) error { queued = ds; return err })
	pgdb.QueueGeneric(&b, func(db pgdb.DBTX) ([]store.NotifyTemplate, error) { return newStore(db).ActiveTemplatesFor(ctx, ids) },
		func(ts []store.NotifyTemplate, err error) error {
			for i, t := range ts {
				templates[templateKey{t.Kind, t.Channel, t.Locale}] = &ts[i]
			}
			return err
		})
	if err := b.Send(ctx, s.pool); err != nil {
		return nil, fmt.Errorf("notify: take deliveries: %w", err)
	}
	if len(queued) == 0 {
		return make([]error, len(ids)), nil
	}
	readers := make([]uuid.UUID, len(queued))
	for i, d := range queued {
		readers[i] = d.UserID
	}
	s.ports.Users.QueueContacts(ctx, &b, readers, func(cs map[uuid.UUID]Contact, err error) error { contacts = cs; return err })
	if err := b.Send(ctx, s.pool); err != nil {
		return nil, err
	}
	outcome := make(map[uuid.UUID]error, len(queued))
	var mailed []ended
	for _, d := range queued {
		c, live := contacts[d.UserID]
		err := s.sendOne(ctx, d, c, live, templates)
		switch {
		case err != nil:
		case Channel(d.Channel) == Email:
			mailed = append(mailed, ended{d.ID, StatusSent, ""})
		default:
			err = s.record(ctx, ended{d.ID, StatusSent, ""})
		}
		outcome[d.ID] = err
	}
	if err := s.record(ctx, mailed...); err != nil {
		for _, m := range mailed {
			outcome[m.id] = err
		}
	}
	errs := make([]error, len(ids))
	for i, id := range ids {
		errs[i] = outcome[id]
	}
	return errs, nil
}

// sendOne renders and sends one delivery taken for a try, to its reader's contact (live: the
// account still exists); nil means the channel took it.
func (s *Service) sendOne(ctx context.Context, d store.NotifyDelivery, contact Contact, live bool, templates map[templateKey]*store.NotifyTemplate) error {
	var data map[string]any
	if err := json.Unmarshal(d.Data, &data); err != nil {
		return skip{why: "unreadable data: " + err.Error()}
	}
	if !live {
		return skip{why: "the account is gone"}
	}
	// The profile's language and zone as they are now: a message still queued speaks the
	// language its reader chose meanwhile. Quiet hours were applied when it was queued.
	st := s.settingsOf(contact.Locale, nil, nil)
	if _, ok := data["name"]; !ok {
		data["name"] = contact.FullName
	}
	ch := Channel(d.Channel)
	msg, _, err := s.renderWith(templates[templateKey{d.Kind, d.Channel, st.locale}], Kind(d.Kind), st.locale, st.localize(data))
	if err != nil {
		return skip{why: "cannot render: " + err.Error()}
	}
	switch ch {
	case Email:
		if contact.Email == "" {
			return skip{why: "no email address"}
		}
		err = s.mail.Send(ctx, mail.Message{ID: "notify-" + d.ID.String(), To: contact.Email, Subject: msg.Title, Body: msg.Body, HTML: msg.HTML})
		if errors.Is(err, mail.ErrUnavailable) {
			return skip{why: "this server sends no email"}
		}
	case SMS:
		err = s.sendSMS(ctx, contact.Phone, msg)
	case Push:
		err = s.sendPush(ctx, d, msg)
	default:
		return skip{why: "unknown channel " + d.Channel}
	}
	return err
}

func (s *Service) sendSMS(ctx context.Context, phone string, msg rendered) error {
	if s.sms == nil {
		return skip{why: "SMS is unavailable: no SMS provider is configured"}
	}
	if phone == "" {
		return skip{why: "no phone number"}
	}
	to, err := E164(phone)
	if err != nil {
		return skip{why: err.Error()}
	}
	return s.sms.Send(ctx, to, msg.Body)
}

// pushPayload is what a browser's service worker receives, decrypted.
type pushPayload struct {
	Kind  Kind           `json:"kind"`
	Title string         `json:"title"`
	Body  string         `json:"body"`
	Data  map[string]any `json:"data,omitempty"`
}

func (s *Service) sendPush(ctx context.Context, d store.NotifyDelivery, msg rendered) error {
	if s.push == nil {
		return skip{why: "web push is unavailable: no VAPID keys are configured"}
	}
	subs, err := s.q.PushSubscriptions(ctx, d.UserID)
	if err != nil {
		return err
	}
	if len(subs) == 0 {
		return skip{why: "no browser is registered for push"}
	}
	var data map[string]any
	_ = json.Unmarshal(d.Data, &data)
	payload, err := json.Marshal(pushPayload{Kind: Kind(d.Kind), Title: msg.Title, Body: msg.Body, Data: data})
	if err != nil {
		return err
	}
	var failed []string
	for _, sub := range subs {
		err := s.push.Send(ctx, PushTarget{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth}, payload)
		switch {
		case errors.Is(err, ErrGone):
			// The browser unsubscribed (404/410): it is forgotten.
			if derr := s.q.DeletePushEndpoint(ctx, sub.ID); derr != nil {
				return derr
			}
		case err != nil:
			failed = append(failed, err.Error())
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("notify: push: %s", strings.Join(failed, "; "))
	}
	return nil
}

// E164 normalises a Vietnamese (or already international) phone number: "0912 345 678" and
// "84912345678" become "+84912345678".
func E164(phone string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(phone) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%q is not a phone number", phone)
		}
	}
	digits := b.String()
	switch {
	case strings.HasPrefix(strings.TrimSpace(phone), "+"):
	case strings.HasPrefix(digits, "84"):
	case strings.HasPrefix(digits, "0"):
		digits = "84" + digits[1:]
	default:
		return "", fmt.Errorf("%q is not a phone number with its country or trunk prefix", phone)
	}
	if len(digits) < 9 || len(digits) > 15 || digits[0] == '0' {
		return "", fmt.Errorf("%q is not a phone number", phone)
	}
	return "+" + digits, nil
}
