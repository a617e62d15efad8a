// Package mail sends email: through SMTP (wneessen/go-mail) when SMTP_URL is set, and otherwise
// into a development mailbox that logs and keeps each message. Messages go out from a River job,
// so a request never waits on a mail server and a failed send is retried.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	gomail "github.com/wneessen/go-mail"

	"github.com/goshop/goshop/internal/platform/jobs"
)

// Message is one plain-text email.
type Message struct {
	// ID is the local part of its Message-ID, the same on every run of its send job: a message
	// sent twice (its job ran again after a crash) is one message to the receiving side.
	ID      string    `json:"id,omitempty"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
	SentAt  time.Time `json:"sent_at,omitzero"`
}

// Sender delivers a message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// New returns an SMTP sender for smtpURL, or a development mailbox when it is empty.
// smtpURL looks like smtp://user:pass@host:587 (STARTTLS required) or smtps://...:465.
func New(smtpURL, from string, log *slog.Logger) (Sender, error) {
	if smtpURL == "" {
		return NewMailbox(log), nil
	}
	return newSMTP(smtpURL, from)
}

// Mailbox is the development sender: it logs each message and keeps the last 1,000 in memory,
// so that developers and tests read them instead of needing a mail server.
type Mailbox struct {
	log  *slog.Logger
	mu   sync.Mutex
	msgs []Message
}

// NewMailbox returns an empty mailbox.
func NewMailbox(log *slog.Logger) *Mailbox { return &Mailbox{log: log} }

// Send implements Sender.
func (b *Mailbox) Send(_ context.Context, m Message) error {
	m.SentAt = time.Now().UTC()
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	if len(b.msgs) > 1000 {
		b.msgs = b.msgs[len(b.msgs)-1000:]
	}
	b.mu.Unlock()
	b.log.Info("mail (development mailbox)", "to", m.To, "subject", m.Subject, "body", m.Body)
	return nil
}

// To returns the messages sent to addr, oldest first.
func (b *Mailbox) To(addr string) []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Message
	for _, m := range b.msgs {
		if strings.EqualFold(m.To, addr) {
			out = append(out, m)
		}
	}
	return out
}

type smtpSender struct {
	client *gomail.Client
	from   string
	domain string // of from, for Message-IDs
}

func newSMTP(raw, from string) (*smtpSender, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP_URL: %w", err)
	}
	opts := []gomail.Option{gomail.WithTimeout(15 * time.Second)}
	switch u.Scheme {
	case "smtps":
		opts = append(opts, gomail.WithSSLPort(false))
	case "smtp":
		opts = append(opts, gomail.WithTLSPortPolicy(gomail.TLSMandatory))
	default:
		return nil, fmt.Errorf("mail: SMTP_URL scheme must be smtp or smtps")
	}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("mail: SMTP_URL port: %w", err)
		}
		opts = append(opts, gomail.WithPort(port))
	}
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	c, err := gomail.NewClient(u.Hostname(), opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: smtp client: %w", err)
	}
	domain := "goshop.local"
	if a, err := netmail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			domain = d
		}
	}
	return &smtpSender{client: c, from: from, domain: domain}, nil
}

func (s *smtpSender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("mail: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail: to: %w", err)
	}
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID + "@" + s.domain)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	return s.client.DialAndSendWithContext(ctx, msg)
}

// Outbox enqueues mail in the caller's transaction and sends it from a River worker.
type Outbox struct {
	runner *jobs.Runner
}

// NewOutbox registers the send worker on runner.
func NewOutbox(runner *jobs.Runner, s Sender) *Outbox {
	river.AddWorker(runner.Workers, &sendWorker{sender: s, runner: runner})
	return &Outbox{runner: runner}
}

// EnqueueTx queues m to be sent once tx commits.
func (o *Outbox) EnqueueTx(ctx context.Context, tx pgx.Tx, m Message) error {
	return o.runner.InsertTx(ctx, tx, sendArgs{Message: m}, &river.InsertOpts{MaxAttempts: 10})
}

type sendArgs struct {
	Message Message `json:"message"`
}

func (sendArgs) Kind() string { return "mail_send" }

type sendWorker struct {
	river.WorkerDefaults[sendArgs]
	sender Sender
	runner *jobs.Runner
}

// sent is the send job's checkpoint.
type sent struct {
	Sent bool `json:"sent"`
}

// Work sends the message unless an earlier run of the job did: a run after a crash (the mail
// went out, River had not recorded the job's end) finds the checkpoint saved right after the
// send and sends nothing. The narrower window, a crash between the send and the checkpoint,
// sends it twice under one Message-ID.
func (w *sendWorker) Work(ctx context.Context, job *river.Job[sendArgs]) error {
	var done sent
	if _, err := jobs.Checkpoint(job.JobRow, &done); err != nil || done.Sent {
		return err
	}
	m := job.Args.Message
	m.ID = fmt.Sprintf("goshop-mail-%d-%d", job.ID, job.CreatedAt.UnixNano())
	if err := w.sender.Send(ctx, m); err != nil {
		return err
	}
	// The mail is gone: failing the job now would only send it again.
	if err := w.runner.SaveCheckpoint(ctx, job.JobRow, sent{Sent: true}); err != nil && !errors.Is(err, jobs.ErrSuperseded) {
		slog.WarnContext(ctx, "mail: sent, but not recorded; a rerun of the job would send it again", "job", job.ID, "err", err)
	}
	return nil
}
