package notify

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/realtime"
)

// Handler serves the notification routes.
type Handler struct {
	svc   *Service
	authn *auth.Authenticator
	hub   *realtime.Hub
	// sendLimit rate-limits the hand-sent messages (nil: no limit).
	sendLimit func(http.Handler) http.Handler
}

// NewHandler returns the notification HTTP handler; live streams go through hub, and sendLimit
// (a rate limiter's middleware, or nil) bounds the admins' hand-sent messages.
func NewHandler(svc *Service, authn *auth.Authenticator, hub *realtime.Hub, sendLimit func(http.Handler) http.Handler) *Handler {
	return &Handler{svc: svc, authn: authn, hub: hub, sendLimit: sendLimit}
}

// Routes mounts /notifications/... and /orders/{id}/live-updates; every one needs a token.
// The WebSocket routes take it as ?token= too, since a browser cannot set headers on an upgrade.
func (h *Handler) Routes(r chi.Router) {
	const (
		ok       = http.StatusOK
		created  = http.StatusCreated
		accepted = http.StatusAccepted
		none     = http.StatusNoContent
	)
	r.Group(func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodGet, "/notifications", httpx.Endpoint(ok, h.list).
			Doc("The caller's notifications, newest first, with their unread count").For(httpx.AnyUser).Params(listQuery{}))
		r.Method(http.MethodPut, "/notifications/{id}/read", httpx.WithID(ok, "id", "notification", h.read).
			Doc("Mark one of the caller's notifications read").For(httpx.Owner))
		r.Method(http.MethodDelete, "/notifications/{id}", httpx.WithID(none, "id", "notification", h.delete).
			Doc("Delete one of the caller's notifications").For(httpx.Owner))
		r.Method(http.MethodPost, "/notifications/mark-all-read", httpx.Endpoint(ok, h.markAll).
			Doc("Mark every notification of the caller's read").For(httpx.AnyUser))
		r.Method(http.MethodPost, "/notifications/push/register", httpx.WithBody(created, h.register).
			Doc("Store a browser's web push subscription for the caller").For(httpx.AnyUser).Can(apperr.TooManyRequests))
		r.Method(http.MethodDelete, "/notifications/push/unregister", httpx.WithBody(none, h.unregister).
			Doc("Forget one of the caller's browsers for web push").For(httpx.AnyUser).Can(apperr.NotFound))
		r.Method(http.MethodGet, "/notifications/preferences", httpx.Endpoint(ok, h.preferences).
			Doc("The caller's channels per kind of message, quiet hours, and language and time zone (their profile's)").For(httpx.AnyUser))
		r.Method(http.MethodPut, "/notifications/preferences", httpx.WithBody(ok, h.setPreferences).
			Doc("Change the caller's preferences (what the body names; a language or time zone changes their profile); mandatory messages cannot be turned off").For(httpx.AnyUser))
		r.Method(http.MethodGet, "/notifications/templates", httpx.Endpoint(ok, h.templates).
			Doc("Stored templates, every version, newest first (admins)").For(httpx.Admin).Params(templateQuery{}))
		r.Method(http.MethodPost, "/notifications/templates", httpx.WithBody(created, h.createTemplate).
			Doc("Save a new version of the template of a kind, channel and language (admins)").For(httpx.Admin))
		r.Group(func(r chi.Router) {
			if h.sendLimit != nil {
				r.Use(h.sendLimit)
			}
			r.Method(http.MethodPost, "/notifications/email/send", httpx.WithBody(accepted, h.sendEmail).
				Doc("Queue an email to a user: a template or a subject and body (admins; rate-limited)").For(httpx.Admin).
				Can(apperr.TooManyRequests))
			r.Method(http.MethodPost, "/notifications/sms/send", httpx.WithBody(accepted, h.sendSMS).
				Doc("Queue a text message to a user (admins; rate-limited; 503 without an SMS provider)").For(httpx.Admin).
				Can(apperr.TooManyRequests, apperr.Unavailable))
		})
		r.Method(http.MethodGet, "/notifications/live", httpx.Upgrade(h.live).Params(liveQuery{}).
			Doc("The caller's new notifications over WebSocket; ?after= first sends what was missed").
			For(httpx.AnyUser).Can(apperr.BadRequest, apperr.TooManyRequests))
		r.Method(http.MethodGet, "/orders/{id}/live-updates", httpx.Upgrade(h.orderLive).ID("id", "order").Params(followQuery{}).
			Doc("An order's status, payment and shipment updates over WebSocket: its buyer, its shop's owner, its shipper or an admin").
			For(httpx.Owner).Can(apperr.BadRequest, apperr.TooManyRequests))
	})
}

// listQuery filters the caller's notifications.
type listQuery struct {
	httpx.PageQuery
	Unread bool `query:"unread" doc:"only unread notifications"`
}

// templateQuery filters the template list.
type templateQuery struct {
	httpx.PageQuery
	Kind    string `query:"kind" validate:"max=64" doc:"only this kind of message"`
	Channel string `query:"channel" validate:"omitempty,oneof=in_app email sms push" doc:"only this channel"`
}

// followQuery is the access token of a browser, which cannot set headers on a WebSocket
// upgrade; the authenticator reads it (only on an upgrade), the handler never does.
type followQuery struct {
	Token string `query:"token" validate:"max=4096" doc:"the access token, when the Authorization header cannot be sent"`
}

// liveQuery adds where a reconnecting client left off.
type liveQuery struct {
	followQuery
	After *uuid.UUID `query:"after" doc:"the last notification the client has: what came after it is sent first"`
}

func (h *Handler) list(r *http.Request) (Page, error) {
	q, err := httpx.QueryOf[listQuery](r)
	if err != nil {
		return Page{}, err
	}
	return h.svc.List(r.Context(), auth.Of(r), ListFilter{UnreadOnly: q.Unread}, q.Page())
}

func (h *Handler) read(r *http.Request, id uuid.UUID) (Notification, error) {
	return h.svc.MarkRead(r.Context(), auth.Of(r), id)
}

func (h *Handler) delete(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.Delete(r.Context(), auth.Of(r), id)
}

func (h *Handler) markAll(r *http.Request) (Marked, error) {
	return h.svc.MarkAllRead(r.Context(), auth.Of(r))
}

func (h *Handler) register(r *http.Request, in PushInput) (PushSubscription, error) {
	return h.svc.RegisterPush(r.Context(), auth.Of(r), in)
}

func (h *Handler) unregister(r *http.Request, in UnregisterInput) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.UnregisterPush(r.Context(), auth.Of(r), in)
}

func (h *Handler) preferences(r *http.Request) (Preferences, error) {
	return h.svc.Preferences(r.Context(), auth.Of(r))
}

func (h *Handler) setPreferences(r *http.Request, in PreferencesInput) (Preferences, error) {
	return h.svc.SetPreferences(r.Context(), auth.Of(r), in)
}

func (h *Handler) templates(r *http.Request) (httpx.List[Template], error) {
	q, err := httpx.QueryOf[templateQuery](r)
	if err != nil {
		return httpx.List[Template]{}, err
	}
	var f TemplateFilter
	if q.Kind != "" {
		f.Kind = &q.Kind
	}
	if q.Channel != "" {
		f.Channel = &q.Channel
	}
	return h.svc.Templates(r.Context(), auth.Of(r), f, q.Page())
}

func (h *Handler) createTemplate(r *http.Request, in TemplateInput) (Template, error) {
	return h.svc.CreateTemplate(r.Context(), auth.Of(r), in)
}

func (h *Handler) sendEmail(r *http.Request, in SendInput) (Delivery, error) {
	return h.svc.SendEmail(r.Context(), auth.Of(r), in)
}

func (h *Handler) sendSMS(r *http.Request, in SendInput) (Delivery, error) {
	return h.svc.SendSMS(r.Context(), auth.Of(r), in)
}

// MsgMissed carries, first on a reconnected /notifications/live, the notifications that came
// after ?after=, oldest first.
const MsgMissed = "missed"

// live streams the caller's new notifications.
func (h *Handler) live(w http.ResponseWriter, r *http.Request) {
	q, err := httpx.QueryOf[liveQuery](r)
	p := auth.Of(r)
	h.serve(w, r, err, userTopic(p.UserID), func(ctx context.Context) (string, any, error) {
		if q.After == nil {
			return "", nil, nil
		}
		missed, err := h.svc.Missed(ctx, p, *q.After)
		if err != nil || len(missed) == 0 {
			return "", nil, err
		}
		return MsgMissed, httpx.List[Notification]{Items: missed}, nil
	})
}

// orderLive streams an order's updates to those it concerns; anyone else is refused before the
// upgrade, as if the order did not exist.
func (h *Handler) orderLive(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.UUIDParam(r, "id", "order")
	if err == nil {
		err = h.svc.AuthorizeOrderFollower(r.Context(), auth.Of(r), id)
	}
	h.serve(w, r, err, orderTopic(id), nil)
}

// serve refuses with a problem before the upgrade (err, a request that is not an upgrade, a
// stream past the limits), else hands the stream to the hub.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, err error, topic string, snapshot realtime.Snapshot) {
	if err == nil && !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		err = apperr.New(apperr.BadRequest, "this is a WebSocket stream: ask for the upgrade")
	}
	if err == nil && h.hub == nil {
		err = apperr.New(apperr.Unavailable, "live streams are not served here")
	}
	var pass *realtime.Pass
	if err == nil {
		pass, err = h.hub.Admit(w, r, auth.Of(r).UserID.String())
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	_ = h.hub.Serve(w, r, pass, topic, snapshot)
}
