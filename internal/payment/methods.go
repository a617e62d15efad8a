package payment

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/payment/gateway"
	"github.com/goshop/goshop/internal/payment/internal/store"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// MethodsView answers GET /payments/methods. The route serves two lists side by side: the ways
// to pay (each method with its providers, and whether each is available for the currency:
// configured with credentials and taking that currency), and the caller's saved methods
// (empty for a caller who is not signed in). A saved method belongs to a provider, so a client
// shows it under that provider's entry.
type MethodsView struct {
	Currency string         `json:"currency"`
	Methods  []MethodOption `json:"methods"`
	Saved    []SavedMethod  `json:"saved"`
}

// MethodOption is a method of payment and the providers it goes through.
type MethodOption struct {
	Method    events.PaymentMethod `json:"method"`
	Available bool                 `json:"available"`
	Providers []ProviderOption     `json:"providers"`
}

// ProviderOption is a provider of a method; Reason says why it is unavailable.
type ProviderOption struct {
	Provider  events.Provider `json:"provider"`
	Available bool            `json:"available"`
	Reason    string          `json:"reason,omitempty"`
}

// SavedMethod is a saved payment method: a gateway token (never shown back) and what the buyer
// needs to recognise it.
type SavedMethod struct {
	ID        uuid.UUID            `json:"id"`
	Method    events.PaymentMethod `json:"method"`
	Provider  string               `json:"provider"`
	Brand     string               `json:"brand,omitempty"`
	Last4     *string              `json:"last4,omitempty"`
	ExpMonth  *int32               `json:"exp_month,omitempty"`
	ExpYear   *int32               `json:"exp_year,omitempty"`
	Label     string               `json:"label,omitempty"`
	IsDefault bool                 `json:"is_default"`
	CreatedAt time.Time            `json:"created_at"`
}

func toSaved(m store.PaymentSavedMethod) SavedMethod {
	return SavedMethod{ID: m.ID, Method: m.Method, Provider: m.Provider, Brand: m.Brand, Last4: m.Last4, ExpMonth: m.ExpMonth,
		ExpYear: m.ExpYear, Label: m.Label, IsDefault: m.IsDefault, CreatedAt: m.CreatedAt.UTC()}
}

// Methods lists the ways to pay in cur and, for a signed-in caller, their saved methods.
func (s *Service) Methods(ctx context.Context, p *auth.Principal, cur string) (MethodsView, error) {
	cur = strings.ToUpper(cur)
	if cur == "" {
		cur = "VND"
	}
	if _, err := gateway.Exponent(cur); err != nil {
		return MethodsView{}, apperr.Field("currency", "is not an ISO 4217 currency code")
	}
	out := MethodsView{Currency: cur, Saved: []SavedMethod{}}
	for _, m := range events.PaymentMethods() {
		opt := MethodOption{Method: m, Available: m == events.MethodCOD, Providers: []ProviderOption{}}
		for _, name := range m.Providers() {
			po := ProviderOption{Provider: name}
			g, err := s.gateways.Get(string(name))
			switch {
			case errors.Is(err, gateway.ErrUnknown):
				continue // not built here (the sandbox in production): not offered at all
			case err != nil:
				po.Reason = "not configured"
			case !gateway.Accepts(g, cur):
				po.Reason = "does not take " + cur
			default:
				po.Available = true
			}
			opt.Available = opt.Available || po.Available
			opt.Providers = append(opt.Providers, po)
		}
		out.Methods = append(out.Methods, opt)
	}
	if p == nil {
		return out, nil
	}
	rows, err := s.q.ListMethods(ctx, p.UserID)
	for _, r := range rows {
		out.Saved = append(out.Saved, toSaved(r))
	}
	return out, err
}

// SaveMethodInput saves a method: the token a provider's client library gave for it, and
// display data. A card number is never accepted, in any field.
type SaveMethodInput struct {
	Method   events.PaymentMethod `json:"method" validate:"required,oneof=card ewallet bank_transfer"`
	Provider string               `json:"provider" validate:"required,oneof=stripe paypal vnpay momo sandbox"`
	Token    string               `json:"token" validate:"required,max=255"`
	Brand    string               `json:"brand" validate:"max=40"`
	Last4    string               `json:"last4" validate:"omitempty,len=4,numeric"`
	ExpMonth *int32               `json:"exp_month" validate:"omitempty,min=1,max=12"`
	ExpYear  *int32               `json:"exp_year" validate:"omitempty,min=2000,max=2200"`
	Label    string               `json:"label" validate:"max=80"`
	Default  bool                 `json:"default"`
}

// digitRun finds runs of digits, with the spaces or dashes people write card numbers with.
var digitRun = regexp.MustCompile(`[0-9][0-9 -]{10,}[0-9]`)

// panProbe uses the validator's credit_card rule (12 to 19 digits passing the Luhn check).
type panProbe struct {
	N string `validate:"credit_card"`
}

// RejectCardNumbers refuses a body holding anything that looks like a card number (a primary
// account number), whatever field it is in: card data never reaches the server's storage.
func RejectCardNumbers(body []byte) error {
	for _, m := range digitRun.FindAllString(string(body), -1) {
		digits := strings.NewReplacer(" ", "", "-", "").Replace(m)
		if len(digits) < 12 || len(digits) > 19 {
			continue
		}
		if httpx.Validate(panProbe{N: digits}) == nil {
			return apperr.Field("token", "looks like a card number: save the token your payment provider gave, never the card number")
		}
	}
	return nil
}

// SaveMethod saves a payment method for the caller; the first one, or one saved with
// "default", becomes the default.
func (s *Service) SaveMethod(ctx context.Context, p auth.Principal, in SaveMethodInput) (SavedMethod, error) {
	if !slices.Contains(in.Method.Providers(), events.Provider(in.Provider)) {
		return SavedMethod{}, apperr.Field("provider", fmt.Sprintf("%s is paid through one of: %s", in.Method, in.Method.ProviderNames()))
	}
	if in.Method == events.MethodCard && (in.Last4 == "" || in.ExpMonth == nil || in.ExpYear == nil) {
		return SavedMethod{}, apperr.Field("last4", "a card needs last4, exp_month and exp_year")
	}
	if in.ExpMonth != nil && in.ExpYear != nil {
		now := time.Now().In(s.cfg.Location)
		if int(*in.ExpYear)*12+int(*in.ExpMonth) < now.Year()*12+int(now.Month()) {
			return SavedMethod{}, apperr.Field("exp_year", "the card has expired")
		}
	}
	var row store.PaymentSavedMethod
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.LockUserMethods(ctx, p.UserID); err != nil {
			return err
		}
		n, err := q.CountMethods(ctx, p.UserID)
		if err != nil {
			return err
		}
		isDefault := in.Default || n == 0
		if isDefault {
			if err := q.ClearDefault(ctx, p.UserID); err != nil {
				return err
			}
		}
		row, err = q.CreateMethod(ctx, store.CreateMethodParams{UserID: p.UserID, Method: in.Method, Provider: in.Provider,
			Token: in.Token, Brand: strings.TrimSpace(in.Brand), Last4: nonEmpty(in.Last4), ExpMonth: in.ExpMonth, ExpYear: in.ExpYear,
			Label: strings.TrimSpace(in.Label), IsDefault: isDefault})
		if pgdb.IsNoRows(err) {
			return apperr.New(apperr.Conflict, "this method is saved already")
		}
		return err
	})
	return toSaved(row), err
}

// DeleteMethod removes one of the caller's saved methods; when it was the default, the newest
// remaining one becomes the default.
func (s *Service) DeleteMethod(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.LockUserMethods(ctx, p.UserID); err != nil {
			return err
		}
		row, err := q.DeleteMethod(ctx, store.DeleteMethodParams{ID: id, UserID: p.UserID})
		if err != nil || !row.IsDefault {
			return pgdb.NotFound(err, "payment method")
		}
		return q.PromoteNewest(ctx, p.UserID)
	})
}

// SetDefaultMethod makes one of the caller's saved methods the default (and the only one).
func (s *Service) SetDefaultMethod(ctx context.Context, p auth.Principal, id uuid.UUID) (SavedMethod, error) {
	var row store.PaymentSavedMethod
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		if err := q.LockUserMethods(ctx, p.UserID); err != nil {
			return err
		}
		if _, err := q.GetMethod(ctx, store.GetMethodParams{ID: id, UserID: p.UserID}); err != nil {
			return pgdb.NotFound(err, "payment method")
		}
		if err := q.ClearDefault(ctx, p.UserID); err != nil {
			return err
		}
		var err error
		row, err = q.SetDefault(ctx, store.SetDefaultParams{ID: id, UserID: p.UserID})
		return err
	})
	return toSaved(row), err
}
