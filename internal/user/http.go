package user

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/ratelimit"
)

// Handler serves the identity routes.
type Handler struct {
	svc     *Service
	authn   *auth.Authenticator
	limiter *ratelimit.Limiter
	perMin  int
}

// NewHandler returns the identity HTTP handler; sensitive auth routes get perMinute requests a
// minute per client IP.
func NewHandler(svc *Service, authn *auth.Authenticator, limiter *ratelimit.Limiter, perMinute int) *Handler {
	return &Handler{svc: svc, authn: authn, limiter: limiter, perMin: perMinute}
}

// Routes mounts /auth and /users on the API router.
func (h *Handler) Routes(r chi.Router) {
	const (
		ok      = http.StatusOK
		created = http.StatusCreated
		none    = http.StatusNoContent
	)
	limit := func(name string, n int) func(http.Handler) http.Handler { return h.limiter.PerMinute(name, n) }
	limited := apperr.TooManyRequests
	r.Route("/auth", func(r chi.Router) {
		r.With(limit("register", h.perMin)).Method(http.MethodPost, "/register", httpx.WithBody(created, h.register).
			Doc("Create an account and sign in").For(httpx.Public).Can(limited, apperr.Conflict))
		r.With(limit("login", h.perMin)).Method(http.MethodPost, "/login", httpx.WithBody(ok, h.login).
			Doc("Sign in with email and password").For(httpx.Public).Can(limited, apperr.InvalidCredentials))
		r.With(limit("refresh", h.perMin*6)).Method(http.MethodPost, "/refresh", httpx.WithBody(ok, h.refresh).
			Doc("Trade a refresh token for a new pair of tokens").For(httpx.Public).Can(limited, apperr.Unauthorized))
		r.With(limit("forgot-password", h.perMin)).Method(http.MethodPost, "/forgot-password", httpx.WithBody(http.StatusAccepted, h.forgotPassword).
			Doc("Send a password-reset code to the account's email").For(httpx.Public).Can(limited, apperr.MailUnavailable))
		r.With(limit("verify-otp", h.perMin)).Method(http.MethodPost, "/verify-otp", httpx.WithBody(ok, h.verifyOTP).
			Doc("Trade a password-reset code for a reset token").For(httpx.Public).Can(limited, apperr.InvalidOTP))
		r.With(limit("reset-password", h.perMin)).Method(http.MethodPost, "/reset-password", httpx.WithBody(none, h.resetPassword).
			Doc("Set a new password with a reset token").For(httpx.Public).Can(limited, apperr.InvalidToken))
		r.With(h.authn.Required).Method(http.MethodPost, "/logout", httpx.WithOptionalBody(none, h.logout).
			Doc("End the session of the access token, and its refresh token").For(httpx.AnyUser))
		r.With(h.authn.Required).Method(http.MethodPost, "/change-password", httpx.WithBody(none, h.changePassword).
			Doc("Change the password; other sessions end").For(httpx.AnyUser).Can(apperr.InvalidCredentials))
	})
	r.Route("/users", func(r chi.Router) {
		r.Use(h.authn.Required)
		r.Method(http.MethodGet, "/profile", httpx.Endpoint(ok, h.profile).
			Doc("The caller's profile").For(httpx.AnyUser))
		r.Method(http.MethodPut, "/profile", httpx.WithBody(ok, h.updateProfile).
			Doc("Change the caller's name, phone, language (vi, en) or time zone (IANA name)").For(httpx.AnyUser))
		r.Method(http.MethodGet, "/addresses", httpx.Endpoint(ok, h.listAddresses).
			Doc("The caller's delivery addresses").For(httpx.AnyUser).Paged())
		r.Method(http.MethodPost, "/addresses", httpx.WithBody(created, h.createAddress).
			Doc("Add a delivery address").For(httpx.AnyUser).Can(apperr.Conflict))
		r.Method(http.MethodGet, "/addresses/{id}", httpx.WithID(ok, "id", "address", h.getAddress).
			Doc("One of the caller's addresses").For(httpx.Owner))
		r.Method(http.MethodPut, "/addresses/{id}", httpx.WithIDBody(ok, "id", "address", h.updateAddress).
			Doc("Change one of the caller's addresses").For(httpx.Owner))
		r.Method(http.MethodDelete, "/addresses/{id}", httpx.WithID(none, "id", "address", h.deleteAddress).
			Doc("Delete an address; the oldest other one becomes the default").For(httpx.Owner))
		r.Method(http.MethodPut, "/addresses/{id}/default", httpx.WithID(ok, "id", "address", h.setDefaultAddress).
			Doc("Make an address the default").For(httpx.Owner))
		r.Method(http.MethodPost, "/shipper/register", httpx.WithBody(created, h.registerShipper).
			Doc("Become a shipper; answers a new access token with the role").For(httpx.AnyUser).Can(apperr.Conflict))
		r.Method(http.MethodGet, "/{id}", httpx.WithID(ok, "id", "user", h.getUser).
			Doc("A user's account (the user themself, or an admin)").For(httpx.Owner))
		r.Method(http.MethodDelete, "/{id}", httpx.WithID(none, "id", "user", h.deleteUser).
			Doc("Delete an account: personal data goes, orders stay (the user themself, or an admin)").For(httpx.Owner))
	})
}

func client(r *http.Request) Client {
	return Client{UserAgent: r.UserAgent(), IP: r.RemoteAddr}
}

func (h *Handler) register(r *http.Request, in RegisterInput) (Session, error) {
	return h.svc.Register(r.Context(), in, client(r))
}

func (h *Handler) login(r *http.Request, in LoginInput) (Session, error) {
	return h.svc.Login(r.Context(), in, client(r))
}

type refreshInput struct {
	RefreshToken string `json:"refresh_token" validate:"required,max=200"`
}

func (h *Handler) refresh(r *http.Request, in refreshInput) (Session, error) {
	return h.svc.Refresh(r.Context(), in.RefreshToken)
}

type logoutInput struct {
	RefreshToken string `json:"refresh_token" validate:"max=200"`
}

// logout takes an optional body: the access token alone names the session to end.
func (h *Handler) logout(r *http.Request, in logoutInput) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.Logout(r.Context(), auth.Of(r), in.RefreshToken)
}

type emailInput struct {
	Email string `json:"email" validate:"required,email,max=254"`
}

func (h *Handler) forgotPassword(r *http.Request, in emailInput) (map[string]string, error) {
	if err := h.svc.ForgotPassword(r.Context(), in.Email); err != nil {
		return nil, err
	}
	return map[string]string{"status": "if the account exists, a code has been sent to it"}, nil
}

type otpInput struct {
	Email string `json:"email" validate:"required,email,max=254"`
	OTP   string `json:"otp" validate:"required,len=6,numeric"`
}

type resetTokenOut struct {
	ResetToken string `json:"reset_token"`
	ExpiresIn  int    `json:"expires_in"`
}

func (h *Handler) verifyOTP(r *http.Request, in otpInput) (resetTokenOut, error) {
	token, err := h.svc.VerifyOTP(r.Context(), in.Email, in.OTP)
	return resetTokenOut{ResetToken: token, ExpiresIn: int(h.svc.cfg.ResetTokenTTL.Seconds())}, err
}

type resetInput struct {
	ResetToken  string `json:"reset_token" validate:"required,max=200"`
	NewPassword string `json:"new_password" validate:"required,min=8,max=128"`
}

func (h *Handler) resetPassword(r *http.Request, in resetInput) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.ResetPassword(r.Context(), in.ResetToken, in.NewPassword)
}

type changePasswordInput struct {
	CurrentPassword string `json:"current_password" validate:"required,max=128"`
	NewPassword     string `json:"new_password" validate:"required,min=8,max=128"`
}

func (h *Handler) changePassword(r *http.Request, in changePasswordInput) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.ChangePassword(r.Context(), auth.Of(r), in.CurrentPassword, in.NewPassword)
}

func (h *Handler) profile(r *http.Request) (User, error) {
	p := auth.Of(r)
	return h.svc.Get(r.Context(), p, p.UserID)
}

func (h *Handler) updateProfile(r *http.Request, in ProfileInput) (User, error) {
	return h.svc.UpdateProfile(r.Context(), auth.Of(r), in)
}

func (h *Handler) getUser(r *http.Request, id uuid.UUID) (User, error) {
	return h.svc.Get(r.Context(), auth.Of(r), id)
}

func (h *Handler) deleteUser(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.Delete(r.Context(), auth.Of(r), id)
}

func (h *Handler) listAddresses(r *http.Request) (httpx.List[Address], error) {
	page, err := httpx.PageOf(r)
	if err != nil {
		return httpx.List[Address]{}, err
	}
	return h.svc.Addresses(r.Context(), auth.Of(r).UserID, page)
}

func (h *Handler) createAddress(r *http.Request, in AddressInput) (Address, error) {
	return h.svc.CreateAddress(r.Context(), auth.Of(r).UserID, in)
}

func (h *Handler) getAddress(r *http.Request, id uuid.UUID) (Address, error) {
	return h.svc.Address(r.Context(), auth.Of(r).UserID, id)
}

func (h *Handler) updateAddress(r *http.Request, id uuid.UUID, in AddressInput) (Address, error) {
	return h.svc.UpdateAddress(r.Context(), auth.Of(r).UserID, id, in)
}

func (h *Handler) deleteAddress(r *http.Request, id uuid.UUID) (httpx.Empty, error) {
	return httpx.Empty{}, h.svc.DeleteAddress(r.Context(), auth.Of(r).UserID, id)
}

func (h *Handler) setDefaultAddress(r *http.Request, id uuid.UUID) (Address, error) {
	return h.svc.SetDefaultAddress(r.Context(), auth.Of(r).UserID, id)
}

func (h *Handler) registerShipper(r *http.Request, in ShipperInput) (ShipperRegistration, error) {
	return h.svc.RegisterShipper(r.Context(), auth.Of(r), in)
}
