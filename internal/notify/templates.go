package notify

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/notify/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

var errAdminOnly = apperr.New(apperr.Forbidden, "only an admin may do this")

// TemplateInput is a new version of the template of one kind, channel and language.
type TemplateInput struct {
	Kind    Kind    `json:"kind" validate:"required,max=64"`
	Channel Channel `json:"channel" validate:"required,oneof=in_app email sms push"`
	Locale  string  `json:"locale" validate:"required,oneof=vi en"`
	// Subject is the title (in-app, push) or the email's subject; SMS has none.
	Subject string `json:"subject" validate:"max=500"`
	Body    string `json:"body" validate:"required,max=20000"`
	// HTML is the email's HTML part (html/template); empty: the body in the standard layout.
	HTML string `json:"html" validate:"max=100000"`
}

// TemplateFilter narrows the template list.
type TemplateFilter struct {
	Kind    *string
	Channel *string
}

// CreateTemplate saves a new version of a template (admins): it replaces the active one, the
// older versions are kept. A template that does not parse, or uses a variable messages do not
// carry, is refused.
func (s *Service) CreateTemplate(ctx context.Context, p auth.Principal, in TemplateInput) (Template, error) {
	if !p.IsAdmin() {
		return Template{}, errAdminOnly
	}
	if _, ok := rules[in.Kind]; !ok {
		return Template{}, apperr.Field("kind", "is not a kind of message")
	}
	if in.Channel != SMS && in.Subject == "" {
		return Template{}, apperr.Field("subject", "is required for "+string(in.Channel))
	}
	if in.HTML != "" && in.Channel != Email {
		return Template{}, apperr.Field("html", "is for email templates only")
	}
	if err := checkTemplate(in.Subject, in.Body, in.HTML); err != nil {
		return Template{}, err
	}
	var out Template
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		key := string(in.Kind) + "/" + string(in.Channel) + "/" + in.Locale
		if err := q.LockKey(ctx, "notify.template:"+key); err != nil {
			return err
		}
		latest, err := q.LockTemplateVersions(ctx, store.LockTemplateVersionsParams{Kind: string(in.Kind), Channel: string(in.Channel), Locale: in.Locale})
		if err != nil {
			return err
		}
		if err := q.DeactivateTemplates(ctx, store.DeactivateTemplatesParams{Kind: string(in.Kind), Channel: string(in.Channel), Locale: in.Locale}); err != nil {
			return err
		}
		r, err := q.CreateTemplate(ctx, store.CreateTemplateParams{Kind: string(in.Kind), Channel: string(in.Channel), Locale: in.Locale,
			Version: latest + 1, Subject: in.Subject, Body: in.Body, Html: in.HTML, CreatedBy: p.UserID})
		out = toTemplate(r)
		return err
	})
	return out, err
}

// Templates lists the stored templates, every version, newest first (admins).
func (s *Service) Templates(ctx context.Context, p auth.Principal, f TemplateFilter, page httpx.Page) (httpx.List[Template], error) {
	if !p.IsAdmin() {
		return httpx.List[Template]{}, errAdminOnly
	}
	k, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Template]{}, err
	}
	rows, err := s.q.ListTemplates(ctx, store.ListTemplatesParams{Kind: f.Kind, Channel: f.Channel, HasCursor: has, CursorAt: k.At,
		CursorID: k.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Template]{}, fmt.Errorf("notify: templates: %w", err)
	}
	items := make([]Template, len(rows))
	for i, r := range rows {
		items[i] = toTemplate(r)
	}
	return httpx.Paginate(items, page.Limit, func(t Template) any { return httpx.Keyset{At: t.CreatedAt, ID: t.ID} }), nil
}

func toTemplate(r store.NotifyTemplate) Template {
	return Template{ID: r.ID, Kind: Kind(r.Kind), Channel: Channel(r.Channel), Locale: r.Locale, Version: int(r.Version),
		Subject: r.Subject, Body: r.Body, HTML: r.Html, Active: r.Active, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC()}
}

// renderWith makes the message of kind in locale with a stored template t, or the built-in text
// when t is nil.
func (s *Service) renderWith(t *store.NotifyTemplate, kind Kind, locale string, data map[string]any) (rendered, *uuid.UUID, error) {
	if t != nil {
		out, err := render(locale, t.Subject, t.Body, t.Html, data)
		if err == nil {
			return out, &t.ID, nil
		}
		// A stored template that no longer renders (checked when saved, so this is a bug) must
		// not stop the message: the built-in one goes instead.
		s.log.Warn("notify: stored template failed; using the built-in one", "template_id", t.ID, "err", err)
	}
	r := rules[kind]
	texts := r.vi
	if locale == "en" {
		texts = r.en
	}
	out, err := render(locale, texts[0], texts[1], "", data)
	return out, nil, err
}
