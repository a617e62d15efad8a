// Package mail sends email: through SMTP (wneessen/go-mail) when SMTP_URL is set, nowhere when
// mail is disabled (flows that need it answer 503 mail_unavailable), and otherwise into a
// development mailbox that keeps each message (and logs it, in development only).
//
// Contexts send from their own River jobs, so a request never waits on a mail server and a
// failed send is retried. Such a job carries an id and renders the message when it runs, never
// the message itself: River keeps a job's arguments in plain text for a day, and a message may
// hold a secret (a password-reset code).
package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// Message is one email: plain text, with an HTML alternative when HTML is set.
type Message struct {
	// ID is the local part of its Message-ID, the same on every run of its send job: a message
	// sent twice (its job ran again after a crash) is one message to the receiving side.
	ID      string `json:"id,omitempty"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	// HTML, when set, is sent beside Body as a multipart/alternative HTML part.
	HTML   string    `json:"html,omitempty"`
	SentAt time.Time `json:"sent_at,omitzero"`
}

// Sender delivers a message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Config chooses the sender.
type Config struct {
	// SMTPURL looks like smtp://user:pass@host:587 (STARTTLS required) or smtps://...:465.
	SMTPURL string
	From    string
	// Disabled sends nothing: the Disabled sender.
	Disabled bool
	// LogBodies lets the development mailbox write whole messages to the log. Only a developer's
	// machine may: a body holds a password-reset code, and logs are read by more people, and
	// kept longer, than a mailbox.
	LogBodies bool
	// RootCAs, when set, are the authorities the SMTP server's certificate must chain to instead
	// of the system's (a private relay; tests).
	RootCAs *x509.CertPool
}

// New returns the Disabled sender, an SMTP sender, or a development mailbox when no SMTP URL
// is configured (configuration refuses that in production).
func New(c Config, log *slog.Logger) (Sender, error) {
	switch {
	case c.Disabled:
		return Disabled{}, nil
	case c.SMTPURL == "":
		return NewMailbox(log, c.LogBodies), nil
	}
	return newSMTP(c.SMTPURL, c.From, c.RootCAs)
}

// ErrUnavailable is the answer of a flow that needs mail on a server without it (503).
var ErrUnavailable = apperr.New(apperr.MailUnavailable, "this server does not send email")

// Disabled is the sender of a server run with MAIL_DISABLED=true: it sends nothing.
type Disabled struct{}

// Send implements Sender: it refuses, so that a queued message is not taken as sent.
func (Disabled) Send(context.Context, Message) error { return ErrUnavailable }

// Usable returns ErrUnavailable when s cannot deliver mail, so that a flow which needs mail
// refuses before it starts instead of promising a message that never comes.
func Usable(s Sender) error {
	if _, off := s.(Disabled); off {
		return ErrUnavailable
	}
	return nil
}

// Mailbox is the development and test sender: it keeps the last 1,000 messages in memory, so
// that developers and tests read them instead of needing a mail server, and logs each one (its
// body only when logBodies, which only development sets).
type Mailbox struct {
	log       *slog.Logger
	logBodies bool
	mu        sync.Mutex
	msgs      []Message
}

// NewMailbox returns an empty mailbox; logBodies writes whole messages to the log.
func NewMailbox(log *slog.Logger, logBodies bool) *Mailbox {
	return &Mailbox{log: log, logBodies: logBodies}
}

// Send implements Sender.
func (b *Mailbox) Send(_ context.Context, m Message) error {
	m.SentAt = time.Now().UTC()
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	if len(b.msgs) > 1000 {
		b.msgs = b.msgs[len(b.msgs)-1000:]
	}
	b.mu.Unlock()
	if b.logBodies {
		b.log.Info("mail (development mailbox)", "to", m.To, "subject", m.Subject, "body", m.Body)
	} else {
		b.log.Info("mail (development mailbox)", "to", m.To, "subject", m.Subject)
	}
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

func newSMTP(raw, from string, roots *x509.CertPool) (*smtpSender, error) {
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
	if roots != nil {
		opts = append(opts, gomail.WithTLSConfig(&tls.Config{RootCAs: roots, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}))
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
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return s.client.DialAndSendWithContext(ctx, msg)
}
