package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/breaker"
)

// SMSProvider sends one text message to a number in E.164 form ("+84912345678").
type SMSProvider interface {
	Send(ctx context.Context, to, text string) error
}

// PushTarget is one browser's push subscription.
type PushTarget struct {
	Endpoint, P256dh, Auth string
}

// ErrGone is a push endpoint's 404 or 410: the browser unsubscribed, and the subscription is
// dropped.
var ErrGone = errors.New("notify: push subscription gone")

// Pusher sends one encrypted web push message.
type Pusher interface {
	Send(ctx context.Context, to PushTarget, payload []byte) error
}

// SpeedSMS sends through SpeedSMS's HTTP API (https://speedsms.vn/sms-api-service/): a JSON
// POST to /index.php/sms/send, authenticated by HTTP Basic with the access token as the user
// name and "x" as the password, numbers without the "+". It answers {"status":"success",...}
// or {"status":"error","code":...,"message":...}. Calls go through a circuit breaker, so an
// outage fails at once and the send jobs retry later.
type SpeedSMS struct {
	BaseURL string
	Token   string
	// Sender is the registered brand name (empty: the provider's default number).
	Sender string
	// SMSType is the provider's message type (2: customer care by brand name, the default).
	SMSType int
	Client  *http.Client
	Breaker *breaker.Breaker
}

// providerError is the provider's own refusal (bad number, no balance): an answer, which the
// breaker does not count as an outage.
type providerError struct{ code, msg string }

func (e providerError) Error() string { return "speedsms: " + e.code + ": " + e.msg }

// NewSMSBreaker is the breaker of the SMS provider: transport errors and 5xx open it, the
// provider's refusals do not.
func NewSMSBreaker(cfg breaker.Config) *breaker.Breaker {
	return breaker.New("sms", cfg, func(err error) bool {
		var pe providerError
		return !errors.As(err, &pe)
	})
}

// Send implements SMSProvider.
func (p SpeedSMS) Send(ctx context.Context, to, text string) error {
	typ := p.SMSType
	if typ == 0 {
		typ = 2
	}
	body, err := json.Marshal(map[string]any{"to": []string{strings.TrimPrefix(to, "+")}, "content": text, "sms_type": typ,
		"sender": p.Sender})
	if err != nil {
		return err
	}
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	_, err = breaker.Do(p.Breaker, func() (struct{}, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(p.BaseURL, "/")+"/index.php/sms/send", bytes.NewReader(body))
		if err != nil {
			return struct{}{}, err
		}
		req.SetBasicAuth(p.Token, "x")
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return struct{}{}, err
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		if res.StatusCode >= 500 {
			return struct{}{}, fmt.Errorf("speedsms: HTTP %d", res.StatusCode)
		}
		var ans struct {
			Status  string `json:"status"`
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(raw, &ans); err != nil {
			return struct{}{}, fmt.Errorf("speedsms: HTTP %d, unreadable answer", res.StatusCode)
		}
		if ans.Status != "success" {
			return struct{}{}, providerError{code: ans.Code, msg: ans.Message}
		}
		return struct{}{}, nil
	})
	return err
}

// Outbox is the development and test SMS provider and pusher: it keeps what it is given (the
// last 1,000) and logs it, as the development mailbox does for email.
type Outbox struct {
	log *slog.Logger
	mu  sync.Mutex
	sms []OutboxSMS
	pus []OutboxPush
}

// OutboxSMS is a text the outbox took.
type OutboxSMS struct{ To, Text string }

// OutboxPush is a push message the outbox took.
type OutboxPush struct {
	Endpoint string
	Payload  []byte
}

// NewOutbox returns an empty outbox.
func NewOutbox(log *slog.Logger) *Outbox { return &Outbox{log: log} }

// Send implements SMSProvider.
func (o *Outbox) Send(_ context.Context, to, text string) error {
	o.mu.Lock()
	o.sms = append(o.sms, OutboxSMS{To: to, Text: text})
	if len(o.sms) > 1000 {
		o.sms = o.sms[1:]
	}
	o.mu.Unlock()
	o.log.Info("sms (development outbox)", "to", to)
	return nil
}

// SMS returns the texts sent to a number, oldest first.
func (o *Outbox) SMS(to string) []OutboxSMS {
	return kept(o, func() []OutboxSMS { return o.sms }, func(m OutboxSMS) bool { return m.To == to })
}

// kept answers the messages of one of the outbox's lists that match; the list is read under
// the outbox's lock.
func kept[T any](o *Outbox, list func() []T, match func(T) bool) []T {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []T
	for _, m := range list() {
		if match(m) {
			out = append(out, m)
		}
	}
	return out
}

// Pusher is the outbox as a Pusher.
func (o *Outbox) Pusher() Pusher { return outboxPusher{o} }

// Pushes returns the push messages sent to an endpoint, oldest first.
func (o *Outbox) Pushes(endpoint string) []OutboxPush {
	return kept(o, func() []OutboxPush { return o.pus }, func(m OutboxPush) bool { return m.Endpoint == endpoint })
}

type outboxPusher struct{ o *Outbox }

func (p outboxPusher) Send(_ context.Context, to PushTarget, payload []byte) error {
	p.o.mu.Lock()
	p.o.pus = append(p.o.pus, OutboxPush{Endpoint: to.Endpoint, Payload: payload})
	if len(p.o.pus) > 1000 {
		p.o.pus = p.o.pus[1:]
	}
	p.o.mu.Unlock()
	p.o.log.Info("push (development outbox)", "endpoint", to.Endpoint)
	return nil
}

// WebPush sends with VAPID (RFC 8292) and the aes128gcm payload encryption of RFC 8291,
// through webpush-go.
type WebPush struct {
	PublicKey, PrivateKey string
	// Subject is the VAPID contact ("mailto:ops@example.com" or an https URL).
	Subject string
	TTL     int
	Client  *http.Client
}

// Send implements Pusher.
func (w WebPush) Send(ctx context.Context, to PushTarget, payload []byte) error {
	opts := &webpush.Options{Subscriber: w.Subject, VAPIDPublicKey: w.PublicKey, VAPIDPrivateKey: w.PrivateKey, TTL: w.TTL,
		Urgency: webpush.UrgencyNormal}
	if w.Client != nil {
		opts.HTTPClient = w.Client
	}
	if opts.TTL == 0 {
		opts.TTL = 24 * 60 * 60
	}
	res, err := webpush.SendNotificationWithContext(ctx, payload,
		&webpush.Subscription{Endpoint: to.Endpoint, Keys: webpush.Keys{P256dh: to.P256dh, Auth: to.Auth}}, opts)
	if err != nil {
		return fmt.Errorf("webpush: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	switch {
	case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusGone:
		return ErrGone
	case res.StatusCode >= 300:
		return fmt.Errorf("webpush: the push service answered %d", res.StatusCode)
	}
	return nil
}

// checkKeys refuses a subscription whose keys cannot encrypt a message: p256dh is an
// uncompressed P-256 point (65 bytes) and auth a 16-byte secret, both base64url (padded or not).
func checkKeys(p256dh, auth string) error {
	decode := func(s string) ([]byte, error) {
		s = strings.TrimRight(s, "=")
		return base64.RawURLEncoding.DecodeString(s)
	}
	if k, err := decode(p256dh); err != nil || len(k) != 65 || k[0] != 4 {
		return apperr.Field("keys.p256dh", "is the subscription's P-256 public key (65 bytes, base64url)")
	}
	if k, err := decode(auth); err != nil || len(k) != 16 {
		return apperr.Field("keys.auth", "is the subscription's 16-byte auth secret (base64url)")
	}
	return nil
}
