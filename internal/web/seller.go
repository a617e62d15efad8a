package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// The seller center (/seller): a shop owner signs in with their GoShop account and sees their
// shop's revenue, the orders waiting for them (which they confirm and ship from here), the
// products running low and the latest reviews. Every read and every action goes through the
// ports below, which internal/app wires to the same services the API calls, as the signed-in
// principal: the services' own authorization decides, exactly as for the API.

// SellerAccounts signs sellers in and keeps their sessions valid, through the identity context.
type SellerAccounts interface {
	// SignIn checks the email and password as the API's POST /auth/login does, under the same
	// per-client rate limit (apperr.TooManyRequests with the wait) and with the same refusals.
	SignIn(ctx context.Context, in SellerSignIn) (SellerTokens, error)
	// Refresh trades a refresh token for new tokens (apperr.Unauthorized once the session ended).
	Refresh(ctx context.Context, refreshToken string) (SellerTokens, error)
	// Authenticate checks an access token as the API's middleware does, revocations included.
	Authenticate(ctx context.Context, accessToken string) (auth.Principal, error)
	// SignOut ends the identity context's session (its access and refresh tokens).
	SignOut(ctx context.Context, p auth.Principal, refreshToken string) error
}

// SellerSignIn is a sign-in form as sent, with the client it came from.
type SellerSignIn struct {
	Email, Password string
	// RemoteAddr is the client's address (host:port), as the API's rate limit and sessions see it.
	RemoteAddr, UserAgent string
}

// SellerTokens are what a sign-in or a refresh hands out.
type SellerTokens struct {
	UserID          uuid.UUID
	Name            string
	Access, Refresh string
	// ExpiresIn is how long the access token lives.
	ExpiresIn time.Duration
}

// SellerDesk is what the seller center reads and does, every call as p through the service the API
// uses for the same thing (which checks p itself).
type SellerDesk interface {
	// Shops are p's own live shops, newest first.
	Shops(ctx context.Context, p auth.Principal) ([]SellerShop, error)
	// Shop is one shop as p may see it.
	Shop(ctx context.Context, p auth.Principal, id uuid.UUID) (SellerShop, error)
	// Revenue is the shop's revenue over the last 30 days, day by day (the analytics rollups).
	Revenue(ctx context.Context, p auth.Principal, shopID uuid.UUID) (SellerRevenue, error)
	// Orders are the shop's newest orders of one status.
	Orders(ctx context.Context, p auth.Principal, shopID uuid.UUID, status events.OrderStatus, limit int) ([]SellerOrder, error)
	// MoveOrder moves one of the shop's orders (confirm, ship) as the API's shop routes do.
	MoveOrder(ctx context.Context, p auth.Principal, shopID, orderID uuid.UUID, to events.OrderStatus) error
	// LowStock are the shop's variants at or under their low-stock threshold, lowest first.
	LowStock(ctx context.Context, p auth.Principal, shopID uuid.UUID, limit int) ([]SellerStockLine, error)
	// Reviews are the shop's newest published reviews (of itself and of its products).
	Reviews(ctx context.Context, p auth.Principal, shopID uuid.UUID, limit int) ([]SellerReview, error)
}

// SellerShop is a shop as the seller center shows it.
type SellerShop struct {
	ID, OwnerID  uuid.UUID
	Name, Status string
}

// SellerRevenue is a shop's revenue over a range: totals, and each day (every day of the range, zero
// or not). Amounts are in đồng.
type SellerRevenue struct {
	From, To   time.Time
	Gross, Net int64
	Sales      int
	Days       []SellerRevenueDay
}

// SellerRevenueDay is one day's revenue.
type SellerRevenueDay struct {
	Day   time.Time
	Gross int64
}

// SellerOrder is an order waiting for its shop.
type SellerOrder struct {
	ID            uuid.UUID
	Status        events.OrderStatus
	Lines         []SellerOrderLine
	Total         int64
	PaymentMethod events.PaymentMethod
	PaymentStatus events.PaymentStatus
	Province      string
	CreatedAt     time.Time
}

// SellerOrderLine is one line of an order.
type SellerOrderLine struct {
	Title    string
	Quantity int
}

// SellerStockLine is a product variant running low.
type SellerStockLine struct {
	Title, VariantName, SKU string
	Stock, Threshold        int
}

// SellerReview is a published review of the shop or of one of its products.
type SellerReview struct {
	Target    string // "shop" or "product"
	Rating    int
	Comment   string
	Replied   bool
	CreatedAt time.Time
}

// Seller configures the seller center; nil in Info serves none.
type Seller struct {
	Accounts SellerAccounts
	Desk     SellerDesk
	// Redis holds the sessions, under Prefix.
	Redis  redis.UniversalClient
	Prefix string
	// SessionTTL is how long a session lasts without use.
	SessionTTL time.Duration
	// PublicURL is where people reach GoShop (PUBLIC_URL); https there makes cookies Secure even
	// behind a proxy that ends TLS, and its origin is trusted by the cross-origin check.
	PublicURL string
	// Location is the marketplace's time zone, in which times are shown.
	Location *time.Location
	Log      *slog.Logger
}

// Limits of the seller center's pages.
const (
	preSessionTTL   = 30 * time.Minute
	sellerFormBytes = 8 << 10
	waitingLimit    = 20
	lowStockLimit   = 10
	reviewsLimit    = 5
)

// sellerCenter serves the seller center.
type sellerCenter struct {
	h           *Handler
	accounts    SellerAccounts
	desk        SellerDesk
	store       *sellerSessions
	cop         *http.CrossOriginProtection
	httpsPublic bool
	loc         *time.Location
	log         *slog.Logger
}

func newSellerCenter(h *Handler, s *Seller) *sellerCenter {
	c := &sellerCenter{h: h, accounts: s.Accounts, desk: s.Desk, loc: s.Location, log: s.Log,
		store: &sellerSessions{rdb: s.Redis, prefix: s.Prefix + "web:seller:", ttl: s.SessionTTL, pre: min(preSessionTTL, s.SessionTTL)},
		cop:   http.NewCrossOriginProtection()}
	if c.loc == nil {
		c.loc = time.UTC
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if u, err := url.Parse(s.PublicURL); err == nil && u.Host != "" {
		c.httpsPublic = u.Scheme == "https"
		// A browser behind a proxy that rewrites Host still names the public origin.
		_ = c.cop.AddTrustedOrigin(u.Scheme + "://" + u.Host)
	}
	return c
}

// sellerLangQuery is the ?lang= every page takes.
type sellerLangQuery struct {
	Lang string `query:"lang" validate:"omitempty,oneof=vi en" doc:"the page's language: vi or en (default: a cookie set by an earlier ?lang=, else Accept-Language, else vi)"`
}

// sellerQuery picks the shop to show, and the language.
type sellerQuery struct {
	Lang string `query:"lang" validate:"omitempty,oneof=vi en" doc:"the page's language: vi or en (default: a cookie set by an earlier ?lang=, else Accept-Language, else vi)"`
	Shop string `query:"shop" validate:"omitempty,uuid" doc:"the shop to show: one of the caller's (default: their newest), or any for an admin"`
}

// routes mounts the seller center.
func (c *sellerCenter) routes(r chi.Router) {
	const ok, seeOther = http.StatusOK, http.StatusSeeOther
	html := "text/html"
	r.Method(http.MethodGet, "/seller", httpx.Documented[httpx.Empty, httpx.Empty](ok, c.dashboard).
		Doc("The seller center: the shop's revenue, waiting orders, low stock and reviews (signed in by its session cookie)").
		For(httpx.Public).Params(sellerQuery{}).Answers(html))
	r.Method(http.MethodGet, "/seller/login", httpx.Documented[httpx.Empty, httpx.Empty](ok, c.loginPage).
		Doc("The seller center's sign-in form").For(httpx.Public).Params(sellerLangQuery{}).Answers(html))
	r.Method(http.MethodPost, "/seller/login", httpx.Documented[httpx.Empty, httpx.Empty](seeOther, c.login).
		Doc("Sign in to the seller center (a form: email, password, csrf), as POST /auth/login would").
		For(httpx.Public).Answers(html))
	r.Method(http.MethodPost, "/seller/logout", httpx.Documented[httpx.Empty, httpx.Empty](seeOther, c.logout).
		Doc("Sign out of the seller center (a form: csrf); the session's tokens end too").For(httpx.Public).Answers(html))
	r.Method(http.MethodPost, "/seller/orders/{id}/confirm", httpx.Documented[httpx.Empty, httpx.Empty](seeOther, c.move(events.OrderConfirmed)).
		Doc("Confirm one of the shop's orders from the seller center (a form: csrf, shop)").
		For(httpx.Public).ID("id", "order").Answers(html))
	r.Method(http.MethodPost, "/seller/orders/{id}/ship", httpx.Documented[httpx.Empty, httpx.Empty](seeOther, c.move(events.OrderShipped)).
		Doc("Mark one of the shop's orders shipped from the seller center (a form: csrf, shop)").
		For(httpx.Public).ID("id", "order").Answers(html))
}

// sellerPage is what every seller-center page shows around its content.
type sellerPage struct {
	T         *sellerTexts
	Lang      string
	Title     string
	Message   string
	Bad       bool
	CSRF      string
	SignedIn  bool
	LangLinks []sellerLangLink
}

type sellerLangLink struct {
	Code, Name, Href string
	Current          bool
}

// newSellerPage sets up a page in lang, with links to itself in each language (keeping query).
func newSellerPage(r *http.Request, lang, title string, query url.Values) sellerPage {
	t := sellerLangs[lang]
	p := sellerPage{T: t, Lang: lang, Title: title}
	for _, code := range sellerLangCodes {
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("lang", code)
		p.LangLinks = append(p.LangLinks, sellerLangLink{Code: code, Name: sellerLangs[code].LangName,
			Href: r.URL.Path + "?" + q.Encode(), Current: code == lang})
	}
	return p
}

// render writes a seller-center page whole, with status: private, never cached, under the
// pages' CSP.
func (c *sellerCenter) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := c.h.pages.ExecuteTemplate(&buf, name, data); err != nil {
		c.log.ErrorContext(r.Context(), "seller center: template", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// sellerErrorPage is a refusal or failure, said in the page's language with the service's own words
// beside, answered with the status the API would answer.
type sellerErrorPage struct {
	sellerPage
	Detail string
	Back   string
}

func (c *sellerCenter) fail(w http.ResponseWriter, r *http.Request, lang string, err error, back string) {
	t := sellerLangs[lang]
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		code := apperr.Internal
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || redisDown(err) {
			code = apperr.Unavailable
		}
		ae = apperr.Wrap(err, code, "%s", http.StatusText(httpx.StatusOf(code)))
	}
	status := httpx.StatusOf(ae.Code)
	if status >= 500 {
		c.log.ErrorContext(r.Context(), "seller center failed", "path", r.URL.Path, "err", err)
	}
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ae.RetryAfter.Seconds()))))
	}
	msg := t.Internal
	switch ae.Code {
	case apperr.Forbidden:
		msg = t.Forbidden
	case apperr.NotFound:
		msg = t.NotFound
	case apperr.Conflict:
		msg = t.Conflict
	case apperr.Invalid, apperr.BadRequest:
		msg = t.Invalid
	case apperr.Unavailable, apperr.TooManyRequests:
		msg = t.Unavailable
	}
	p := sellerErrorPage{sellerPage: newSellerPage(r, lang, t.ErrorTitle, nil), Back: back}
	p.Message, p.Bad = msg, true
	if status < 500 {
		p.Detail = ae.Message // the service's reason, in its words
	}
	c.render(w, r, status, "seller_error.html", p)
}

// redisDown tells a Redis that does not answer from other failures: the page says "try again".
func redisDown(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout)
}

// readSellerForm reads an application/x-www-form-urlencoded body of at most sellerFormBytes.
func readSellerForm(r *http.Request) (url.Values, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil, apperr.New(apperr.BadRequest, "the body must be a form (application/x-www-form-urlencoded)")
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, sellerFormBytes+1))
	if err != nil {
		return nil, apperr.Wrap(err, apperr.BadRequest, "the form could not be read")
	}
	if len(b) > sellerFormBytes {
		return nil, apperr.New(apperr.PayloadTooLarge, "the form is too large")
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, apperr.Wrap(err, apperr.BadRequest, "malformed form")
	}
	return v, nil
}

// posted checks a form post: from a page of this site (Sec-Fetch-Site or Origin, by net/http's
// CrossOriginProtection), of a live session, carrying that session's CSRF token. It answers
// the session and the form, or writes the 403 (or 4xx) itself and answers nil.
func (c *sellerCenter) posted(w http.ResponseWriter, r *http.Request, lang string) (*sellerSession, url.Values) {
	if err := c.cop.Check(r); err != nil {
		c.fail(w, r, lang, apperr.New(apperr.Forbidden, "a form of another site cannot post here"), "/seller")
		return nil, nil
	}
	sess, err := c.sessionOf(r)
	if err != nil {
		c.fail(w, r, lang, err, "/seller")
		return nil, nil
	}
	form, err := readSellerForm(r)
	if err != nil {
		c.fail(w, r, lang, err, "/seller")
		return nil, nil
	}
	if !validCSRF(sess, form.Get("csrf")) {
		c.fail(w, r, lang, apperr.New(apperr.Forbidden, "the form's CSRF token is missing or not this session's"), "/seller")
		return nil, nil
	}
	return sess, form
}

// signedIn answers the request's session and principal; when there is none (or it ended) it
// sends the browser to the sign-in form and answers nil.
func (c *sellerCenter) signedIn(w http.ResponseWriter, r *http.Request, lang string) (*sellerSession, *auth.Principal) {
	sess, err := c.sessionOf(r)
	if err != nil {
		c.fail(w, r, lang, err, "/seller")
		return nil, nil
	}
	if !sess.signedIn() {
		http.Redirect(w, r, "/seller/login", http.StatusSeeOther)
		return nil, nil
	}
	p, err := c.principal(r.Context(), sess)
	if errors.Is(err, errSignedOut) {
		c.endSession(w, r, sess, sellerLangs[lang].SessionEnded)
		return nil, nil
	}
	if err != nil {
		c.fail(w, r, lang, err, "/seller")
		return nil, nil
	}
	return sess, &p
}

// endSession deletes a session the identity context no longer honours and sends the browser to
// the sign-in form with msg.
func (c *sellerCenter) endSession(w http.ResponseWriter, r *http.Request, sess *sellerSession, msg string) {
	if err := c.store.delete(r.Context(), sess.id); err != nil {
		c.fail(w, r, sellerLangCodes[0], err, "/seller/login")
		return
	}
	c.toLogin(w, r, msg, false)
}

// toLogin starts a pre-session carrying msg and sends the browser to the sign-in form.
func (c *sellerCenter) toLogin(w http.ResponseWriter, r *http.Request, msg string, bad bool) {
	pre, err := c.store.create(r.Context(), nil, msg, bad)
	if err != nil {
		c.fail(w, r, sellerLangCodes[0], err, "/seller/login")
		return
	}
	c.setCookie(w, r, pre)
	http.Redirect(w, r, "/seller/login", http.StatusSeeOther)
}

// sellerLoginPage is the sign-in form; a signed-in seller goes to the dashboard.
type sellerLoginPage struct {
	sellerPage
	Email string
}

func (c *sellerCenter) loginPage(w http.ResponseWriter, r *http.Request) {
	q, err := httpx.QueryOf[sellerLangQuery](r)
	lang := sellerLang(w, r, q.Lang, c.secure(r))
	if err != nil {
		c.fail(w, r, lang, err, "/seller/login")
		return
	}
	sess, err := c.sessionOf(r)
	if err != nil {
		c.fail(w, r, lang, err, "/seller/login")
		return
	}
	if sess.signedIn() {
		http.Redirect(w, r, "/seller", http.StatusSeeOther)
		return
	}
	c.showLogin(w, r, lang, sess, http.StatusOK, "", false, "")
}

// showLogin renders the sign-in form with a message, in a pre-session: sess when it is one (its
// message taken), else a new one.
func (c *sellerCenter) showLogin(w http.ResponseWriter, r *http.Request, lang string, sess *sellerSession, status int, msg string, bad bool, email string) {
	ctx := r.Context()
	if sess == nil || sess.signedIn() {
		var err error
		if sess, err = c.store.create(ctx, nil, "", false); err != nil {
			c.fail(w, r, lang, err, "/seller/login")
			return
		}
		c.setCookie(w, r, sess)
	}
	if msg == "" && sess.flash != "" {
		msg, bad = sess.flash, sess.bad
		if err := c.store.takeFlash(ctx, sess); err != nil {
			c.fail(w, r, lang, err, "/seller/login")
			return
		}
	}
	t := sellerLangs[lang]
	p := sellerLoginPage{sellerPage: newSellerPage(r, lang, t.SignInTitle, nil), Email: email}
	p.Message, p.Bad, p.CSRF = msg, bad, sess.csrf
	c.render(w, r, status, "seller_login.html", p)
}

// login signs in through the identity context and starts a new session (a new id: the
// pre-session's id, which was handed out before sign-in, never becomes a signed-in one).
func (c *sellerCenter) login(w http.ResponseWriter, r *http.Request) {
	lang := sellerLang(w, r, "", c.secure(r))
	t := sellerLangs[lang]
	if err := c.cop.Check(r); err != nil {
		c.showLogin(w, r, lang, nil, http.StatusForbidden, t.FormExpired, true, "")
		return
	}
	sess, err := c.sessionOf(r)
	if err != nil {
		c.fail(w, r, lang, err, "/seller/login")
		return
	}
	form, err := readSellerForm(r)
	if err != nil {
		c.fail(w, r, lang, err, "/seller/login")
		return
	}
	if !validCSRF(sess, form.Get("csrf")) {
		// An expired form, most likely: show a fresh one rather than a bare refusal.
		if sess.signedIn() {
			sess = nil
		}
		c.showLogin(w, r, lang, sess, http.StatusForbidden, t.FormExpired, true, "")
		return
	}
	email, password := strings.TrimSpace(form.Get("email")), form.Get("password")
	if email == "" || password == "" || len(email) > 254 || len(password) > 128 {
		c.showLogin(w, r, lang, sess, http.StatusUnprocessableEntity, t.MissingFields, true, email)
		return
	}
	tokens, err := c.accounts.SignIn(r.Context(), SellerSignIn{Email: email, Password: password, RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent()})
	if err != nil {
		var ae *apperr.Error
		switch {
		case apperr.Is(err, apperr.InvalidCredentials):
			c.showLogin(w, r, lang, sess, http.StatusUnauthorized, t.WrongCredentials, true, email)
		case errors.As(err, &ae) && ae.Code == apperr.TooManyRequests:
			wait := int(math.Ceil(max(ae.RetryAfter, time.Second).Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(wait))
			c.showLogin(w, r, lang, sess, http.StatusTooManyRequests, t.sprintf(t.TooMany, wait), true, email)
		default:
			c.fail(w, r, lang, err, "/seller/login")
		}
		return
	}
	signed, err := c.store.create(r.Context(), &tokens, "", false)
	if err != nil {
		c.fail(w, r, lang, err, "/seller/login")
		return
	}
	if sess.signedIn() {
		// Signed in again over a live session (from another tab): the old one's tokens end.
		if p, err := c.principal(r.Context(), sess); err == nil {
			if err := c.accounts.SignOut(r.Context(), p, sess.refresh); err != nil {
				c.log.WarnContext(r.Context(), "seller center: end the replaced session", "err", err)
			}
		}
	}
	if err := c.store.delete(r.Context(), sess.id); err != nil {
		c.log.WarnContext(r.Context(), "seller center: drop the pre-session", "err", err) // it expires on its own
	}
	c.setCookie(w, r, signed)
	http.Redirect(w, r, "/seller", http.StatusSeeOther)
}

// logout ends the identity context's session and deletes this one.
func (c *sellerCenter) logout(w http.ResponseWriter, r *http.Request) {
	lang := sellerLang(w, r, "", c.secure(r))
	sess, _ := c.posted(w, r, lang)
	if sess == nil {
		return
	}
	if sess.signedIn() {
		p, err := c.principal(r.Context(), sess)
		switch {
		case err == nil:
			if err := c.accounts.SignOut(r.Context(), p, sess.refresh); err != nil {
				c.fail(w, r, lang, err, "/seller")
				return
			}
		case !errors.Is(err, errSignedOut):
			c.fail(w, r, lang, err, "/seller")
			return
		}
	}
	if err := c.store.delete(r.Context(), sess.id); err != nil {
		c.fail(w, r, lang, err, "/seller")
		return
	}
	c.toLogin(w, r, sellerLangs[lang].SignedOut, false)
}

// move is the Confirm and Ship buttons: the order service moves the order as the API's
// PUT /shops/{id}/orders/{order_id}/status does, as the signed-in principal.
func (c *sellerCenter) move(to events.OrderStatus) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		lang := sellerLang(w, r, "", c.secure(r))
		t := sellerLangs[lang]
		sess, form := c.posted(w, r, lang)
		if sess == nil {
			return
		}
		if !sess.signedIn() {
			http.Redirect(w, r, "/seller/login", http.StatusSeeOther)
			return
		}
		orderID, err := httpx.UUIDParam(r, "id", "order")
		if err != nil {
			c.fail(w, r, lang, err, "/seller")
			return
		}
		shopID, err := uuid.Parse(form.Get("shop"))
		if err != nil {
			c.fail(w, r, lang, apperr.Field("shop", "must be a shop's ID"), "/seller")
			return
		}
		back := "/seller?" + url.Values{"shop": {shopID.String()}}.Encode()
		p, err := c.principal(r.Context(), sess)
		if errors.Is(err, errSignedOut) {
			c.endSession(w, r, sess, t.SessionEnded)
			return
		}
		if err != nil {
			c.fail(w, r, lang, err, back)
			return
		}
		if err := c.desk.MoveOrder(r.Context(), p, shopID, orderID, to); err != nil {
			c.fail(w, r, lang, err, back)
			return
		}
		msg := t.Confirmed
		if to == events.OrderShipped {
			msg = t.Shipped
		}
		if err := c.store.setFlash(r.Context(), sess.id, t.sprintf(msg, orderNo(orderID)), false); err != nil {
			c.log.WarnContext(r.Context(), "seller center: flash", "err", err) // done all the same
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
	}
}

// orderNo is how an order is named to people: the first eight hex digits of its ID.
func orderNo(id uuid.UUID) string { return strings.ToUpper(id.String()[:8]) }
