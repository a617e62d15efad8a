package user

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/mail"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/user/internal/store"
)

// Config holds the identity context's settings.
type Config struct {
	RefreshTTL    time.Duration
	OTPTTL        time.Duration
	OTPMaxTries   int
	ResetTokenTTL time.Duration
	// Secret keys the HMAC that OTP codes are stored under, and the key that seals a code until
	// it is mailed.
	Secret string
	// Argon2id cost; zero values take argon2id.DefaultParams.
	HashMemoryKiB uint32
	HashTime      uint32
	// HashConcurrency bounds the hashes running at once (0: the CPUs over each hash's lanes);
	// a request waits up to HashWait for a turn, then is refused with a 503.
	HashConcurrency int
	HashWait        time.Duration
}

// Service holds the rules of the identity context.
type Service struct {
	pool   *pgxpool.Pool
	q      *store.Queries
	tokens *auth.Tokens
	revs   *auth.Revocations
	bus    *eventbus.Bus
	desk   ShipperDesk
	jobs   *jobs.Runner
	mail   mail.Sender
	codes  codeSealer
	cfg    Config
	pw     *passwords
	log    *slog.Logger
}

// NewService builds the identity service; it mails reset codes through sender from its own jobs.
func NewService(pool *pgxpool.Pool, tokens *auth.Tokens, revs *auth.Revocations, bus *eventbus.Bus, runner *jobs.Runner,
	sender mail.Sender, cfg Config, log *slog.Logger) (*Service, error) {
	pw, err := newPasswords(cfg)
	if err != nil {
		return nil, err
	}
	codes, err := newCodeSealer(cfg.Secret)
	if err != nil {
		return nil, err
	}
	s := &Service{pool: pool, q: newStore(pool), tokens: tokens, revs: revs, bus: bus, jobs: runner, mail: sender,
		codes: codes, cfg: cfg, pw: pw, log: log}
	river.AddWorker(runner.Workers, &resetCodeMailWorker{s: s})
	return s, nil
}

// Collectors are the identity context's metrics: password hashes run and refused.
func (s *Service) Collectors() []prometheus.Collector { return []prometheus.Collector{s.pw.runs} }

// RegisterInput is a new account.
type RegisterInput struct {
	Email    string  `json:"email" validate:"required,email,max=254"`
	Password string  `json:"password" validate:"required,min=8,max=128"`
	FullName string  `json:"full_name" validate:"required,max=200"`
	Phone    *string `json:"phone" validate:"omitempty,phone"`
}

// Client describes where a sign-in comes from, kept on its session.
type Client struct {
	UserAgent string
	IP        string
}

// Register creates an account with the user role and signs it in.
func (s *Service) Register(ctx context.Context, in RegisterInput, c Client) (Session, error) {
	in.FullName = strings.TrimSpace(in.FullName)
	if in.FullName == "" {
		return Session{}, apperr.Field("full_name", "is required")
	}
	hash, err := s.pw.hash(ctx, in.Password)
	if err != nil {
		return Session{}, err
	}
	var (
		u       store.UsersUser
		refresh string
		sid     uuid.UUID
	)
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		u, err = q.CreateUser(ctx, store.CreateUserParams{
			Email: strings.TrimSpace(in.Email), PasswordHash: hash, FullName: in.FullName,
			Phone: normPhone(in.Phone), Roles: []string{auth.RoleUser},
		})
		if pgdb.IsUniqueViolation(err, "users_email_key") {
			return apperr.New(apperr.Conflict, "an account with this email already exists")
		}
		if err != nil {
			return err
		}
		sid, refresh, err = s.startSession(ctx, q, u.ID, c)
		if err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.UserRegistered{UserID: u.ID.String(), Email: u.Email, FullName: u.FullName, At: u.CreatedAt})
	})
	if err != nil {
		return Session{}, err
	}
	return s.session(u, sid, refresh)
}

// LoginInput is a sign-in.
type LoginInput struct {
	Email    string `json:"email" validate:"required,max=254"`
	Password string `json:"password" validate:"required,max=128"`
}

// Login checks the password and opens a new session. A wrong email and a wrong password answer
// alike, in about the same time: an unknown email costs a hash too, through the same turns. A
// refused turn (503) says nothing about the password and is not a failed sign-in.
func (s *Service) Login(ctx context.Context, in LoginInput, c Client) (Session, error) {
	u, err := s.q.GetUserByEmail(ctx, strings.TrimSpace(in.Email))
	if err != nil && !pgdb.IsNoRows(err) {
		return Session{}, err
	}
	ok, err := s.pw.check(ctx, in.Password, u.PasswordHash) // "" when the email is unknown
	if err != nil {
		return Session{}, err
	}
	if !ok {
		return Session{}, apperr.New(apperr.InvalidCredentials, "wrong email or password")
	}
	var (
		refresh string
		sid     uuid.UUID
	)
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		sid, refresh, err = s.startSession(ctx, newStore(tx), u.ID, c)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	return s.session(u, sid, refresh)
}

// errReused marks a refresh token presented a second time; its family is revoked after the
// failing request's transaction has rolled back.
type errReused struct{ session uuid.UUID }

func (e errReused) Error() string { return "refresh token reused" }

// Refresh trades a refresh token for a new pair. Each refresh token works once; presenting a
// spent one again revokes its whole family, since only a thief or a replay would do that.
func (s *Service) Refresh(ctx context.Context, token string) (Session, error) {
	h := hashToken(token)
	var (
		u       store.UsersUser
		refresh string
		sid     uuid.UUID
	)
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		used, err := q.UseRefreshToken(ctx, h)
		if pgdb.IsNoRows(err) {
			old, ferr := q.FindRefreshToken(ctx, h)
			if ferr == nil && old.UsedAt != nil {
				return errReused{session: old.SessionID}
			}
			return apperr.New(apperr.Unauthorized, "the refresh token is invalid")
		}
		if err != nil {
			return err
		}
		if time.Now().After(used.ExpiresAt) {
			return apperr.New(apperr.Unauthorized, "the refresh token has expired")
		}
		sess, err := q.GetSession(ctx, used.SessionID)
		if err != nil {
			return err
		}
		if sess.RevokedAt != nil {
			return apperr.New(apperr.Unauthorized, "the session has ended")
		}
		u, err = q.GetUser(ctx, sess.UserID)
		if pgdb.IsNoRows(err) {
			return apperr.New(apperr.Unauthorized, "the account no longer exists")
		}
		if err != nil {
			return err
		}
		sid = sess.ID
		refresh, err = s.newRefreshToken(ctx, q, sid)
		return err
	})
	if reused, ok := err.(errReused); ok {
		if rerr := s.revokeSessions(ctx, "refresh token reused", reused.session); rerr != nil {
			return Session{}, rerr
		}
		return Session{}, apperr.New(apperr.Unauthorized, "the refresh token was already used; the session has been ended")
	}
	if err != nil {
		return Session{}, err
	}
	return s.session(u, sid, refresh)
}

// Logout ends the caller's session: its access token and its refresh tokens stop working at
// once. A refresh token of another of the caller's sessions, when given, ends that one too.
func (s *Service) Logout(ctx context.Context, p auth.Principal, refreshToken string) error {
	ids := []uuid.UUID{p.SessionID}
	if refreshToken != "" {
		rt, err := s.q.FindRefreshToken(ctx, hashToken(refreshToken))
		if err == nil && rt.SessionID != p.SessionID {
			if sess, err := s.q.GetSession(ctx, rt.SessionID); err == nil && sess.UserID == p.UserID {
				ids = append(ids, sess.ID)
			}
		}
	}
	return s.revokeSessions(ctx, "logout", ids...)
}

// revokeSessions ends sessions in the database (no more refreshes) and in Redis (no more
// requests with their access tokens).
func (s *Service) revokeSessions(ctx context.Context, reason string, ids ...uuid.UUID) error {
	for _, id := range ids {
		if err := s.q.RevokeSession(ctx, store.RevokeSessionParams{ID: id, RevokeReason: &reason}); err != nil {
			return err
		}
	}
	return s.revs.Revoke(ctx, ids...)
}

// ForgotPassword sends a one-time code to the account's email, when there is such an account.
// The caller answers the same either way, so the route does not tell who has an account; on a
// server without mail it refuses for every address alike.
func (s *Service) ForgotPassword(ctx context.Context, email string) error {
	if err := mail.Usable(s.mail); err != nil {
		return err
	}
	u, err := s.q.GetUserByEmail(ctx, strings.TrimSpace(email))
	if pgdb.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	code, err := randomDigits(6)
	if err != nil {
		return err
	}
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.ExpireUserOTPs(ctx, u.ID); err != nil {
			return err
		}
		return s.queueResetCodeMailTx(ctx, tx, q, u.ID, code)
	})
}

// VerifyOTP checks a code sent by ForgotPassword and answers a single-use reset token. Each code
// allows OTPMaxTries attempts in all; after that a new code must be requested.
func (s *Service) VerifyOTP(ctx context.Context, email, code string) (string, error) {
	invalid := apperr.New(apperr.InvalidOTP, "the code is wrong or has expired")
	u, err := s.q.GetUserByEmail(ctx, strings.TrimSpace(email))
	if pgdb.IsNoRows(err) {
		return "", invalid
	}
	if err != nil {
		return "", err
	}
	otp, err := s.q.TryLatestOTP(ctx, u.ID)
	if pgdb.IsNoRows(err) {
		return "", invalid
	}
	if err != nil {
		return "", err
	}
	if int(otp.Attempts) > s.cfg.OTPMaxTries {
		_, _ = s.q.ConsumeOTP(ctx, otp.ID)
		return "", apperr.New(apperr.InvalidOTP, "too many attempts; request a new code")
	}
	if !hmac.Equal(otp.OtpHash, s.otpHash(u.ID, code)) {
		return "", invalid
	}
	token, err := randomToken()
	if err != nil {
		return "", err
	}
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		n, err := q.ConsumeOTP(ctx, otp.ID)
		if err != nil {
			return err
		}
		if n == 0 { // spent by a concurrent request
			return invalid
		}
		return q.CreateResetToken(ctx, store.CreateResetTokenParams{
			TokenHash: hashToken(token), UserID: u.ID, ExpiresAt: time.Now().Add(s.cfg.ResetTokenTTL),
		})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// ResetPassword sets a new password with a reset token from VerifyOTP and ends every session.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) error {
	hash, err := s.pw.hash(ctx, newPassword)
	if err != nil {
		return err
	}
	var ended []uuid.UUID
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		uid, err := q.UseResetToken(ctx, hashToken(token))
		if pgdb.IsNoRows(err) {
			return apperr.New(apperr.InvalidToken, "the reset token is invalid, used or expired")
		}
		if err != nil {
			return err
		}
		if err := q.SetPassword(ctx, store.SetPasswordParams{ID: uid, PasswordHash: hash}); err != nil {
			return err
		}
		reason := "password reset"
		ended, err = q.RevokeUserSessions(ctx, store.RevokeUserSessionsParams{Reason: &reason, UserID: uid, Keep: uuid.Nil})
		if err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.PasswordChanged{UserID: uid.String(), Reset: true, At: time.Now().UTC()})
	})
	if err != nil {
		return err
	}
	return s.revs.Revoke(ctx, ended...)
}

// ChangePassword sets a new password for the caller, who proves the current one; every other
// session of theirs ends, the one making the change stays.
func (s *Service) ChangePassword(ctx context.Context, p auth.Principal, current, next string) error {
	u, err := s.q.GetUser(ctx, p.UserID)
	if pgdb.IsNoRows(err) {
		return apperr.New(apperr.Unauthorized, "the account no longer exists")
	}
	if err != nil {
		return err
	}
	ok, err := s.pw.check(ctx, current, u.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.InvalidCredentials, "the current password is wrong")
	}
	if current == next {
		return apperr.Field("new_password", "must differ from the current password")
	}
	hash, err := s.pw.hash(ctx, next)
	if err != nil {
		return err
	}
	var ended []uuid.UUID
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.SetPassword(ctx, store.SetPasswordParams{ID: u.ID, PasswordHash: hash}); err != nil {
			return err
		}
		reason := "password changed"
		ended, err = q.RevokeUserSessions(ctx, store.RevokeUserSessionsParams{Reason: &reason, UserID: u.ID, Keep: p.SessionID})
		if err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.PasswordChanged{UserID: u.ID.String(), At: time.Now().UTC()})
	})
	if err != nil {
		return err
	}
	return s.revs.Revoke(ctx, ended...)
}

// Get returns a user to themself or to an admin; to anyone else it does not exist.
func (s *Service) Get(ctx context.Context, p auth.Principal, id uuid.UUID) (User, error) {
	if id != p.UserID && !p.IsAdmin() {
		return User{}, apperr.NotFoundf("user")
	}
	u, err := s.q.GetUser(ctx, id)
	if err != nil {
		return User{}, pgdb.NotFound(err, "user")
	}
	return toUser(u), nil
}

// Lookup returns a live user by ID, for other contexts.
func (s *Service) Lookup(ctx context.Context, id uuid.UUID) (User, error) {
	u, err := s.q.GetUser(ctx, id)
	if err != nil {
		return User{}, pgdb.NotFound(err, "user")
	}
	return toUser(u), nil
}

// ProfileInput changes a profile; absent fields stay as they are, an empty phone clears it.
type ProfileInput struct {
	FullName *string `json:"full_name" validate:"omitempty,max=200"`
	Phone    *string `json:"phone" validate:"omitempty,phone|len=0"`
	// Locale is the language of messages: vi or en.
	Locale *string `json:"locale" validate:"omitempty,oneof=vi en"`
	// TimeZone is an IANA time zone name, such as Asia/Ho_Chi_Minh.
	TimeZone *string `json:"time_zone" validate:"omitempty,max=64"`
}

// UpdateProfile changes the caller's name, phone, language or time zone.
func (s *Service) UpdateProfile(ctx context.Context, p auth.Principal, in ProfileInput) (User, error) {
	if err := checkLocale(in.Locale, in.TimeZone); err != nil {
		return User{}, err
	}
	u, err := s.q.GetUser(ctx, p.UserID)
	if err != nil {
		return User{}, pgdb.NotFound(err, "user")
	}
	name, phone, locale, zone := u.FullName, u.Phone, u.Locale, u.TimeZone
	if in.FullName != nil {
		name = strings.TrimSpace(*in.FullName)
		if name == "" {
			return User{}, apperr.Field("full_name", "must not be empty")
		}
	}
	if in.Phone != nil {
		phone = normPhone(in.Phone)
	}
	if in.Locale != nil {
		locale = *in.Locale
	}
	if in.TimeZone != nil {
		zone = *in.TimeZone
	}
	u, err = s.q.UpdateProfile(ctx, store.UpdateProfileParams{ID: u.ID, FullName: name, Phone: phone, Locale: locale, TimeZone: zone})
	if err != nil {
		return User{}, pgdb.NotFound(err, "user")
	}
	return toUser(u), nil
}

// checkLocale refuses a language the templates do not speak and a time zone Go's zone database
// does not know. "Local" (the server's own zone, whatever it is) and names with a NUL byte (which
// no zone has, and which PostgreSQL cannot store in text) are refused too.
func checkLocale(locale, zone *string) error {
	if locale != nil && !slices.Contains(Locales, *locale) {
		return apperr.Field("locale", "is one of "+strings.Join(Locales, ", "))
	}
	if zone == nil {
		return nil
	}
	z := *zone
	bad := z == "" || z == "Local" || len(z) > 64 || strings.ContainsRune(z, 0) || !utf8.ValidString(z)
	if !bad {
		_, err := time.LoadLocation(z)
		bad = err != nil
	}
	if bad {
		return apperr.Field("time_zone", "is not a time zone name (IANA, such as Asia/Ho_Chi_Minh)")
	}
	return nil
}

// SetLocaleTx changes a person's language or time zone (nil: unchanged) inside tx, checked as
// the profile route checks them, and answers both as they now are. The notification context's
// preferences route changes them through it, so that the profile stays their only record.
func (s *Service) SetLocaleTx(ctx context.Context, tx pgx.Tx, id uuid.UUID, locale, zone *string) (Locale, error) {
	if err := checkLocale(locale, zone); err != nil {
		return Locale{}, err
	}
	u, err := newStore(tx).SetLocale(ctx, store.SetLocaleParams{ID: id, Locale: locale, TimeZone: zone})
	if err != nil {
		return Locale{}, pgdb.NotFound(err, "user")
	}
	return Locale{Locale: u.Locale, TimeZone: u.TimeZone}, nil
}

// QueueLocales queues on b the one read of the language and time zone of every live account
// among ids; done gets them by account when b is sent (an account that is gone is missing).
func (s *Service) QueueLocales(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID, done func(map[uuid.UUID]Locale, error) error) {
	pgdb.Queue(b, func(db pgdb.DBTX) ([]store.LocalesOfRow, error) { return newStore(db).LocalesOf(ctx, ids) },
		func(rows []store.LocalesOfRow, err error) error {
			if err != nil {
				return done(nil, fmt.Errorf("user: locales: %w", err))
			}
			out := make(map[uuid.UUID]Locale, len(rows))
			for _, r := range rows {
				out[r.ID] = Locale{Locale: r.Locale, TimeZone: r.TimeZone}
			}
			return done(out, nil)
		})
}

// QueueContacts queues on b the one read of how to reach every live account among ids; done
// gets them by account when b is sent, an account that is gone missing.
func (s *Service) QueueContacts(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID, done func(map[uuid.UUID]Contact, error) error) {
	pgdb.Queue(b, func(db pgdb.DBTX) ([]store.ContactsOfRow, error) { return newStore(db).ContactsOf(ctx, ids) },
		func(rows []store.ContactsOfRow, err error) error {
			if err != nil {
				return done(nil, fmt.Errorf("user: contacts: %w", err))
			}
			out := make(map[uuid.UUID]Contact, len(rows))
			for _, r := range rows {
				c := Contact{Email: r.Email, FullName: r.FullName, Locale: Locale{Locale: r.Locale, TimeZone: r.TimeZone}}
				if r.Phone != nil {
					c.Phone = *r.Phone
				}
				out[r.ID] = c
			}
			return done(out, nil)
		})
}

// Delete removes an account (the user themself, or an admin): personal data and addresses go,
// every session ends, and the row stays so that orders and payments keep their references.
func (s *Service) Delete(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	if id != p.UserID && !p.IsAdmin() {
		return apperr.NotFoundf("user")
	}
	var ended []uuid.UUID
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if _, err := q.LockUser(ctx, id); pgdb.IsNoRows(err) {
			return apperr.NotFoundf("user")
		} else if err != nil {
			return err
		}
		if err := q.DeleteUserAddresses(ctx, id); err != nil {
			return err
		}
		if err := q.DeleteShipperProfile(ctx, id); err != nil {
			return err
		}
		if _, err := q.SoftDeleteUser(ctx, id); err != nil {
			return err
		}
		reason := "account deleted"
		var err error
		ended, err = q.RevokeUserSessions(ctx, store.RevokeUserSessionsParams{Reason: &reason, UserID: id, Keep: uuid.Nil})
		if err != nil {
			return err
		}
		return s.bus.Publish(ctx, tx, events.UserDeleted{UserID: id.String(), By: p.UserID.String(), At: time.Now().UTC()})
	})
	if err != nil {
		return err
	}
	return s.revs.Revoke(ctx, ended...)
}

// CreateAdmin makes an admin account, or promotes an existing account, for the operator's CLI.
func (s *Service) CreateAdmin(ctx context.Context, email, password, fullName string) (User, error) {
	u, err := s.q.GetUserByEmail(ctx, email)
	if err == nil {
		u, err = s.q.AddRole(ctx, store.AddRoleParams{Role: auth.RoleAdmin, ID: u.ID})
		if err != nil {
			return User{}, err
		}
		return toUser(u), nil
	}
	if !pgdb.IsNoRows(err) {
		return User{}, err
	}
	in := RegisterInput{Email: email, Password: password, FullName: fullName}
	if err := httpx.Validate(in); err != nil {
		return User{}, err
	}
	hash, err := s.pw.hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	u, err = s.q.CreateUser(ctx, store.CreateUserParams{Email: email, PasswordHash: hash, FullName: fullName,
		Roles: []string{auth.RoleUser, auth.RoleAdmin}})
	if err != nil {
		return User{}, err
	}
	return toUser(u), nil
}

// ShipperInput registers the caller as a shipper.
type ShipperInput struct {
	VehicleType  string `json:"vehicle_type" validate:"required,oneof=motorbike car van truck bicycle"`
	VehiclePlate string `json:"vehicle_plate" validate:"required,min=4,max=20"`
	IDNumber     string `json:"id_number" validate:"required,numeric,min=9,max=12"`
	ServiceArea  string `json:"service_area" validate:"required,max=100"`
}

// ShipperRegistration is the answer to a shipper registration: the user with the new role, the
// profile, and an access token that already carries the role.
type ShipperRegistration struct {
	User        User           `json:"user"`
	Shipper     ShipperProfile `json:"shipper"`
	AccessToken string         `json:"access_token"`
	ExpiresIn   int            `json:"expires_in"`
}

// RegisterShipper gives the caller the shipper role with their vehicle and service area. The
// delivery side's record is opened in the same transaction, so the shipper can set their
// status and receive deliveries as soon as this answers.
func (s *Service) RegisterShipper(ctx context.Context, p auth.Principal, in ShipperInput) (ShipperRegistration, error) {
	var (
		u  store.UsersUser
		sp store.UsersShipperProfile
	)
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if _, err := q.LockUser(ctx, p.UserID); pgdb.IsNoRows(err) {
			return apperr.NotFoundf("user")
		} else if err != nil {
			return err
		}
		if _, err := q.GetShipperProfile(ctx, p.UserID); err == nil {
			return apperr.New(apperr.Conflict, "already registered as a shipper")
		} else if !pgdb.IsNoRows(err) {
			return err
		}
		var err error
		u, err = q.AddRole(ctx, store.AddRoleParams{Role: auth.RoleShipper, ID: p.UserID})
		if err != nil {
			return err
		}
		sp, err = q.UpsertShipperProfile(ctx, store.UpsertShipperProfileParams{
			UserID: p.UserID, VehicleType: in.VehicleType, VehiclePlate: strings.ToUpper(strings.TrimSpace(in.VehiclePlate)),
			IDNumber: in.IDNumber, ServiceArea: strings.TrimSpace(in.ServiceArea),
		})
		if err != nil {
			return err
		}
		if s.desk != nil {
			if err := s.desk.OpenShipperTx(ctx, tx, p.UserID, sp.VehicleType, sp.ServiceArea); err != nil {
				return fmt.Errorf("user: open the shipper's delivery record: %w", err)
			}
		}
		return s.bus.Publish(ctx, tx, events.ShipperRegistered{UserID: p.UserID.String(), VehicleType: sp.VehicleType,
			ServiceArea: sp.ServiceArea, At: sp.CreatedAt})
	})
	if err != nil {
		return ShipperRegistration{}, err
	}
	token, err := s.tokens.Issue(auth.Principal{UserID: u.ID, SessionID: p.SessionID, Roles: u.Roles})
	if err != nil {
		return ShipperRegistration{}, err
	}
	return ShipperRegistration{User: toUser(u), Shipper: toShipper(sp), AccessToken: token,
		ExpiresIn: int(s.tokens.TTL().Seconds())}, nil
}

// Shipper returns a user's shipper profile.
func (s *Service) Shipper(ctx context.Context, id uuid.UUID) (ShipperProfile, error) {
	sp, err := s.q.GetShipperProfile(ctx, id)
	if err != nil {
		return ShipperProfile{}, pgdb.NotFound(err, "shipper")
	}
	return toShipper(sp), nil
}

// startSession opens a session for uid with its first refresh token.
func (s *Service) startSession(ctx context.Context, q *store.Queries, uid uuid.UUID, c Client) (uuid.UUID, string, error) {
	sess, err := q.CreateSession(ctx, store.CreateSessionParams{UserID: uid, UserAgent: truncate(c.UserAgent, 512), Ip: c.IP})
	if err != nil {
		return uuid.Nil, "", err
	}
	refresh, err := s.newRefreshToken(ctx, q, sess.ID)
	return sess.ID, refresh, err
}

func (s *Service) newRefreshToken(ctx context.Context, q *store.Queries, sid uuid.UUID) (string, error) {
	token, err := randomToken()
	if err != nil {
		return "", err
	}
	err = q.CreateRefreshToken(ctx, store.CreateRefreshTokenParams{
		TokenHash: hashToken(token), SessionID: sid, ExpiresAt: time.Now().Add(s.cfg.RefreshTTL),
	})
	return token, err
}

func (s *Service) session(u store.UsersUser, sid uuid.UUID, refresh string) (Session, error) {
	access, err := s.tokens.Issue(auth.Principal{UserID: u.ID, SessionID: sid, Roles: u.Roles})
	if err != nil {
		return Session{}, err
	}
	return Session{User: toUser(u), AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
		ExpiresIn: int(s.tokens.TTL().Seconds())}, nil
}

func (s *Service) otpHash(uid uuid.UUID, code string) []byte {
	m := hmac.New(sha256.New, []byte(s.cfg.Secret))
	m.Write(uid[:])
	m.Write([]byte(code))
	return m.Sum(nil)
}

// hashToken stores opaque tokens as SHA-256: they carry 256 random bits, so no slow hash is
// needed, and a database leak does not leak usable tokens.
func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("user: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func randomDigits(n int) (string, error) {
	var sb strings.Builder
	for range n {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			return "", fmt.Errorf("user: random: %w", err)
		}
		sb.WriteByte(byte('0' + d.Int64()))
	}
	return sb.String(), nil
}

func normPhone(p *string) *string {
	if p == nil {
		return nil
	}
	v := strings.ReplaceAll(strings.TrimSpace(*p), " ", "")
	if v == "" {
		return nil
	}
	return &v
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func toUser(u store.UsersUser) User {
	return User{ID: u.ID, Email: u.Email, FullName: u.FullName, Phone: u.Phone, Roles: u.Roles, Locale: u.Locale,
		TimeZone: u.TimeZone, CreatedAt: u.CreatedAt.UTC()}
}

func toShipper(sp store.UsersShipperProfile) ShipperProfile {
	masked := sp.IDNumber
	if len(masked) > 4 {
		masked = strings.Repeat("*", len(masked)-4) + masked[len(masked)-4:]
	}
	return ShipperProfile{UserID: sp.UserID, VehicleType: sp.VehicleType, VehiclePlate: sp.VehiclePlate,
		IDNumber: masked, ServiceArea: sp.ServiceArea, CreatedAt: sp.CreatedAt.UTC()}
}

// newStore returns the user store on db, the pool or a transaction, its errors naming the query
// that failed (pgdb.Named).
func newStore(db store.DBTX) *store.Queries { return store.New(pgdb.Named("user", db)) }
