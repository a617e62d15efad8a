package shop

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/shop/internal/store"
)

// Voucher kinds and scopes.
const (
	KindPercentage = "percentage"
	KindFixed      = "fixed"
	ScopeShop      = "shop"
	ScopeProducts  = "products"
)

// Promotion is a shop's voucher.
type Promotion struct {
	ID           uuid.UUID   `json:"id"`
	ShopID       uuid.UUID   `json:"shop_id"`
	Code         string      `json:"code"`
	Name         string      `json:"name"`
	Description  string      `json:"description"`
	Type         string      `json:"type"`
	Value        int64       `json:"value"`
	MinSpend     int64       `json:"min_spend"`
	MaxDiscount  *int64      `json:"max_discount"`
	UsageLimit   *int32      `json:"usage_limit"`
	PerUserLimit *int32      `json:"per_user_limit"`
	UsedCount    int32       `json:"used_count"`
	StartsAt     time.Time   `json:"starts_at"`
	EndsAt       time.Time   `json:"ends_at"`
	Scope        string      `json:"scope"`
	ProductIDs   []uuid.UUID `json:"product_ids"`
	Status       string      `json:"status"`
	Currency     string      `json:"currency"`
	CreatedAt    time.Time   `json:"created_at"`
	UpdatedAt    time.Time   `json:"updated_at"`
}

// PromotionInput creates or replaces a voucher. For a percentage, Value is a whole percent
// (1..100); for a fixed amount, minor units.
type PromotionInput struct {
	Code         string      `json:"code" validate:"required,min=3,max=32"`
	Name         string      `json:"name" validate:"required,max=120"`
	Description  string      `json:"description" validate:"max=2000"`
	Type         string      `json:"type" validate:"required,oneof=percentage fixed"`
	Value        int64       `json:"value" validate:"required,gt=0"`
	MinSpend     int64       `json:"min_spend" validate:"gte=0"`
	MaxDiscount  *int64      `json:"max_discount" validate:"omitempty,gt=0"`
	UsageLimit   *int32      `json:"usage_limit" validate:"omitempty,gt=0"`
	PerUserLimit *int32      `json:"per_user_limit" validate:"omitempty,gt=0"`
	StartsAt     time.Time   `json:"starts_at" validate:"required"`
	EndsAt       time.Time   `json:"ends_at" validate:"required"`
	Scope        string      `json:"scope" validate:"omitempty,oneof=shop products"`
	ProductIDs   []uuid.UUID `json:"product_ids" validate:"max=200"`
	Status       string      `json:"status" validate:"omitempty,oneof=active paused"`
}

var codeRE = regexp.MustCompile(`^[A-Z0-9_-]+$`)

func (s *Service) checkPromotion(ctx context.Context, shopID uuid.UUID, in PromotionInput) (PromotionInput, error) {
	in.Code = strings.ToUpper(strings.TrimSpace(in.Code))
	in.Name = strings.TrimSpace(in.Name)
	if in.Scope == "" {
		in.Scope = ScopeShop
	}
	if in.Status == "" {
		in.Status = "active"
	}
	if in.ProductIDs == nil {
		in.ProductIDs = []uuid.UUID{}
	}
	var bad []apperr.FieldError
	if !codeRE.MatchString(in.Code) {
		bad = append(bad, apperr.FieldError{Field: "code", Message: "may hold only letters, digits, - and _"})
	}
	if in.Name == "" {
		bad = append(bad, apperr.FieldError{Field: "name", Message: "is required"})
	}
	if in.Type == KindPercentage && in.Value > 100 {
		bad = append(bad, apperr.FieldError{Field: "value", Message: "a percentage must be at most 100"})
	}
	if in.Type == KindFixed && in.MaxDiscount != nil {
		bad = append(bad, apperr.FieldError{Field: "max_discount", Message: "applies to percentage vouchers only"})
	}
	if !in.EndsAt.After(in.StartsAt) {
		bad = append(bad, apperr.FieldError{Field: "ends_at", Message: "must be after starts_at"})
	}
	if in.Scope == ScopeProducts && len(in.ProductIDs) == 0 {
		bad = append(bad, apperr.FieldError{Field: "product_ids", Message: "must list the products the voucher applies to"})
	}
	if in.Scope == ScopeShop && len(in.ProductIDs) > 0 {
		bad = append(bad, apperr.FieldError{Field: "product_ids", Message: "must be empty for a whole-shop voucher"})
	}
	if bad != nil {
		return in, apperr.Validation(bad...)
	}
	for _, pid := range in.ProductIDs {
		owner, err := s.products.ProductShop(ctx, pid)
		if apperr.Is(err, apperr.NotFound) || (err == nil && owner != shopID) {
			return in, apperr.Field("product_ids", "lists "+pid.String()+", which is not a product of this shop")
		}
		if err != nil {
			return in, err
		}
	}
	return in, nil
}

// CreatePromotion adds a voucher to a shop the caller manages.
func (s *Service) CreatePromotion(ctx context.Context, p auth.Principal, shopID uuid.UUID, in PromotionInput) (Promotion, error) {
	in, err := s.checkPromotion(ctx, shopID, in)
	if err != nil {
		return Promotion{}, err
	}
	var row store.ShopPromotion
	err = s.managed(ctx, p, shopID, "create its vouchers", func(q *store.Queries, _ pgx.Tx) error {
		row, err = q.CreatePromotion(ctx, store.CreatePromotionParams{
			ShopID: shopID, Code: in.Code, Name: in.Name, Description: in.Description, Kind: in.Type, Value: in.Value,
			MinSpend: in.MinSpend, MaxDiscount: in.MaxDiscount, UsageLimit: in.UsageLimit, PerUserLimit: in.PerUserLimit,
			StartsAt: in.StartsAt, EndsAt: in.EndsAt, Scope: in.Scope, ProductIds: in.ProductIDs, Status: in.Status,
		})
		if pgdb.IsUniqueViolation(err, "promotions_code_key") {
			return apperr.New(apperr.Conflict, "the shop already has a voucher with code %s", in.Code)
		}
		return err
	})
	if err != nil {
		return Promotion{}, err
	}
	return toPromotion(row), nil
}

// UpdatePromotion replaces a voucher's terms. Uses so far are kept; a usage limit below them is
// refused by the database's check.
func (s *Service) UpdatePromotion(ctx context.Context, p auth.Principal, shopID, id uuid.UUID, in PromotionInput) (Promotion, error) {
	in, err := s.checkPromotion(ctx, shopID, in)
	if err != nil {
		return Promotion{}, err
	}
	var row store.ShopPromotion
	err = s.managed(ctx, p, shopID, "change its vouchers", func(q *store.Queries, _ pgx.Tx) error {
		row, err = q.UpdatePromotion(ctx, store.UpdatePromotionParams{
			ID: id, ShopID: shopID, Code: in.Code, Name: in.Name, Description: in.Description, Kind: in.Type, Value: in.Value,
			MinSpend: in.MinSpend, MaxDiscount: in.MaxDiscount, UsageLimit: in.UsageLimit, PerUserLimit: in.PerUserLimit,
			StartsAt: in.StartsAt, EndsAt: in.EndsAt, Scope: in.Scope, ProductIds: in.ProductIDs, Status: in.Status,
		})
		switch {
		case pgdb.IsNoRows(err):
			return apperr.NotFoundf("promotion")
		case pgdb.IsUniqueViolation(err, "promotions_code_key"):
			return apperr.New(apperr.Conflict, "the shop already has a voucher with code %s", in.Code)
		case pgdb.IsCheckViolation(err, "promotions_usage"):
			return apperr.Field("usage_limit", "is below the uses already made")
		}
		return err
	})
	if err != nil {
		return Promotion{}, err
	}
	return toPromotion(row), nil
}

// DeletePromotion withdraws a voucher; redemptions already made stay on their orders.
func (s *Service) DeletePromotion(ctx context.Context, p auth.Principal, shopID, id uuid.UUID) error {
	return s.managed(ctx, p, shopID, "withdraw its vouchers", func(q *store.Queries, _ pgx.Tx) error {
		n, err := q.DeletePromotion(ctx, store.DeletePromotionParams{ID: id, ShopID: shopID})
		if err == nil && n == 0 {
			return apperr.NotFoundf("promotion")
		}
		return err
	})
}

// Promotion returns a voucher: to the shop's managers always, to others only while it runs.
func (s *Service) Promotion(ctx context.Context, p *auth.Principal, shopID, id uuid.UUID) (Promotion, error) {
	manager, err := s.isManager(ctx, p, shopID)
	if err != nil {
		return Promotion{}, err
	}
	row, err := s.q.GetPromotion(ctx, store.GetPromotionParams{ID: id, ShopID: shopID})
	if pgdb.IsNoRows(err) || (err == nil && !manager && !running(row, time.Now())) {
		return Promotion{}, apperr.NotFoundf("promotion")
	}
	if err != nil {
		return Promotion{}, err
	}
	return toPromotion(row), nil
}

// Promotions lists a shop's vouchers: all of them for its managers, the running ones for buyers.
func (s *Service) Promotions(ctx context.Context, p *auth.Principal, shopID uuid.UUID, page httpx.Page) (httpx.List[Promotion], error) {
	manager, err := s.isManager(ctx, p, shopID)
	if err != nil {
		return httpx.List[Promotion]{}, err
	}
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Promotion]{}, err
	}
	rows, err := s.q.ListPromotions(ctx, store.ListPromotionsParams{ShopID: shopID, OnlyRunning: !manager, HasCursor: has,
		BeforeCreated: cur.At, BeforeID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Promotion]{}, err
	}
	out := make([]Promotion, len(rows))
	for i, r := range rows {
		out[i] = toPromotion(r)
	}
	return httpx.Paginate(out, page.Limit, func(p Promotion) any { return httpx.Keyset{At: p.CreatedAt, ID: p.ID} }), nil
}

// isManager reports whether p manages the shop; a shop that buyers may not see is not found.
func (s *Service) isManager(ctx context.Context, p *auth.Principal, shopID uuid.UUID) (bool, error) {
	info, err := s.Info(ctx, shopID)
	if err != nil {
		return false, err
	}
	manager := p != nil && canManage(*p, info.OwnerID)
	if !manager && !info.Active() {
		return false, apperr.NotFoundf("shop")
	}
	return manager, nil
}

// VoucherLine is one cart line a voucher may apply to: its product and its amount after any
// sale or campaign price.
type VoucherLine struct {
	ProductID uuid.UUID
	Amount    int64
}

// VoucherQuote is what a voucher takes off an order.
type VoucherQuote struct {
	PromotionID uuid.UUID `json:"promotion_id"`
	Code        string    `json:"code"`
	Discount    int64     `json:"discount"`
}

// QuoteVoucher works out what code takes off lines of one shop for buyer, without using it.
// The cart shows it; checkout redeems it with QueueRedeemVoucher. tx may be nil (the pool). A
// code the shop does not have is not found; a voucher that does not apply is refused with a
// code the buyer can act on (voucher_expired, voucher_not_started, voucher_exhausted,
// min_spend_not_met) or, for the rest, validation_failed, each naming the field "coupon".
func (s *Service) QuoteVoucher(ctx context.Context, tx pgx.Tx, shopID, buyer uuid.UUID, code string, lines []VoucherLine) (VoucherQuote, error) {
	q := s.queries(tx)
	row, err := q.GetPromotionByCode(ctx, store.GetPromotionByCodeParams{ShopID: shopID, Code: strings.TrimSpace(code)})
	if err != nil {
		return VoucherQuote{}, pgdb.NotFound(err, "voucher")
	}
	return quoteVoucher(row, lines, func() (int64, error) {
		return q.CountUserRedemptions(ctx, store.CountUserRedemptionsParams{PromotionID: row.ID, UserID: buyer})
	})
}

// quoteVoucher is the one quote of a voucher: running, not used up, not used by the buyer as
// often as it allows (usedByBuyer is asked only when there is such a limit), and its discount.
func quoteVoucher(row store.ShopPromotion, lines []VoucherLine, usedByBuyer func() (int64, error)) (VoucherQuote, error) {
	if err := notRunning(row, time.Now()); err != nil {
		return VoucherQuote{}, err
	}
	if row.UsageLimit != nil && row.UsedCount >= *row.UsageLimit {
		return VoucherQuote{}, usedUp()
	}
	if row.PerUserLimit != nil {
		n, err := usedByBuyer()
		if err != nil {
			return VoucherQuote{}, err
		}
		if n >= int64(*row.PerUserLimit) {
			return VoucherQuote{}, usedByYou()
		}
	}
	d, err := Discount(toPromotion(row), lines)
	if err != nil {
		return VoucherQuote{}, err
	}
	return VoucherQuote{PromotionID: row.ID, Code: row.Code, Discount: d}, nil
}

func usedByYou() error {
	return apperr.FieldCode(apperr.VoucherExhausted, "coupon", "you have already used this voucher as often as it allows")
}

// ReleaseVoucherTx gives a cancelled order's voucher use back, once.
func (s *Service) ReleaseVoucherTx(ctx context.Context, tx pgx.Tx, promotionID, orderID uuid.UUID) error {
	q := newStore(tx)
	_, err := q.ReleaseRedemption(ctx, store.ReleaseRedemptionParams{PromotionID: promotionID, OrderID: orderID})
	if pgdb.IsNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return q.UnusePromotion(ctx, promotionID)
}

// Discount is the one computation of what a voucher takes off: the lines in its scope must reach
// the minimum spend; a percentage is rounded down and capped by the maximum discount; nothing
// ever exceeds the eligible amount.
func Discount(p Promotion, lines []VoucherLine) (int64, error) {
	var eligible int64
	inScope := map[uuid.UUID]bool{}
	for _, id := range p.ProductIDs {
		inScope[id] = true
	}
	for _, l := range lines {
		if p.Scope == ScopeShop || inScope[l.ProductID] {
			eligible += l.Amount
		}
	}
	if eligible == 0 {
		return 0, apperr.Field("coupon", "no item in the cart is covered by this voucher")
	}
	if eligible < p.MinSpend {
		return 0, apperr.FieldCode(apperr.MinSpendNotMet, "coupon", "the voucher needs a minimum spend of "+formatVND(p.MinSpend)+
			" on the items it covers; they come to "+formatVND(eligible))
	}
	var d int64
	switch p.Type {
	case KindPercentage:
		d = eligible * p.Value / 100
		if p.MaxDiscount != nil {
			d = min(d, *p.MaxDiscount)
		}
	default:
		d = p.Value
	}
	return min(d, eligible), nil
}

func running(p store.ShopPromotion, now time.Time) bool { return notRunning(p, now) == nil }

// notRunning says why a voucher cannot be used at now, or nil when it can.
func notRunning(p store.ShopPromotion, now time.Time) error {
	switch {
	case p.Status != "active":
		return apperr.Field("coupon", "this voucher is paused by its shop")
	case now.Before(p.StartsAt):
		return apperr.FieldCode(apperr.VoucherNotStarted, "coupon", "this voucher can be used from "+p.StartsAt.UTC().Format(time.RFC3339))
	case !now.Before(p.EndsAt):
		return apperr.FieldCode(apperr.VoucherExpired, "coupon", "this voucher ended at "+p.EndsAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// usedUp refuses a voucher that has no use left.
func usedUp() error {
	return apperr.FieldCode(apperr.VoucherExhausted, "coupon", "this voucher has been used up")
}

// formatVND writes an amount the Vietnamese way: 1.500.000 ₫.
func formatVND(v int64) string {
	return message.NewPrinter(language.Vietnamese).Sprintf("%d ₫", v)
}

func toPromotion(r store.ShopPromotion) Promotion {
	return Promotion{
		ID: r.ID, ShopID: r.ShopID, Code: r.Code, Name: r.Name, Description: r.Description, Type: r.Kind, Value: r.Value,
		MinSpend: r.MinSpend, MaxDiscount: r.MaxDiscount, UsageLimit: r.UsageLimit, PerUserLimit: r.PerUserLimit,
		UsedCount: r.UsedCount, StartsAt: r.StartsAt.UTC(), EndsAt: r.EndsAt.UTC(), Scope: r.Scope, ProductIDs: r.ProductIds,
		Status: r.Status, Currency: r.Currency, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}
