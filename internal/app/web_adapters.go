package app

import (
	"context"
	"net"
	"time"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/analytics"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/order"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/ratelimit"
	"github.com/goshop/goshop/internal/review"
	"github.com/goshop/goshop/internal/user"
	"github.com/goshop/goshop/internal/web"
)

// sellerCenter configures the seller center (/seller) over the same services, the same token
// checks and the same sign-in rate limit as the API.
func (a *App) sellerCenter(limiter *ratelimit.Limiter) *web.Seller {
	return &web.Seller{
		Accounts: webAccounts{users: a.Users, authn: a.authn, limiter: limiter, perMinute: a.Cfg.AuthRatePerMinute},
		Desk:     webDesk{a},
		Redis:    a.Redis, Prefix: a.Cfg.RedisPrefix, SessionTTL: a.Cfg.SellerSessionTTL,
		PublicURL: a.Cfg.PublicURL, Location: a.Cfg.MarketplaceTZ, Log: a.Log,
	}
}

// webAccounts signs sellers in through the identity context.
type webAccounts struct {
	users     *user.Service
	authn     *auth.Authenticator
	limiter   *ratelimit.Limiter
	perMinute int
}

// SignIn spends one of the client's sign-ins of the minute, from the very budget POST
// /auth/login spends ("login", per client IP), so the form is no way around the API's limit.
func (a webAccounts) SignIn(ctx context.Context, in web.SellerSignIn) (web.SellerTokens, error) {
	ip := in.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	if err := a.limiter.Allow(ctx, "login", ip, a.perMinute); err != nil {
		return web.SellerTokens{}, err
	}
	s, err := a.users.Login(ctx, user.LoginInput{Email: in.Email, Password: in.Password},
		user.Client{UserAgent: in.UserAgent, IP: in.RemoteAddr})
	return webTokens(s), err
}

func (a webAccounts) Refresh(ctx context.Context, refreshToken string) (web.SellerTokens, error) {
	s, err := a.users.Refresh(ctx, refreshToken)
	return webTokens(s), err
}

func (a webAccounts) Authenticate(ctx context.Context, accessToken string) (auth.Principal, error) {
	return a.authn.Authenticate(ctx, accessToken)
}

func (a webAccounts) SignOut(ctx context.Context, p auth.Principal, refreshToken string) error {
	return a.users.Logout(ctx, p, refreshToken)
}

func webTokens(s user.Session) web.SellerTokens {
	return web.SellerTokens{UserID: s.User.ID, Name: s.User.FullName, Access: s.AccessToken, Refresh: s.RefreshToken,
		ExpiresIn: time.Duration(s.ExpiresIn) * time.Second}
}

// webDesk serves the seller center from the shop, analytics, order, catalog and review
// contexts, each call as the signed-in principal.
type webDesk struct{ a *App }

func (d webDesk) Shops(ctx context.Context, p auth.Principal) ([]web.SellerShop, error) {
	l, err := d.a.Shops.List(ctx, &p.UserID, httpx.Page{Limit: httpx.MaxLimit})
	if err != nil {
		return nil, err
	}
	out := make([]web.SellerShop, len(l.Items))
	for i, s := range l.Items {
		out[i] = web.SellerShop{ID: s.ID, OwnerID: s.OwnerID, Name: s.Name, Status: s.Status}
	}
	return out, nil
}

func (d webDesk) Shop(ctx context.Context, p auth.Principal, id uuid.UUID) (web.SellerShop, error) {
	s, err := d.a.Shops.Get(ctx, &p, id)
	return web.SellerShop{ID: s.ID, OwnerID: s.OwnerID, Name: s.Name, Status: s.Status}, err
}

// Revenue is GET /shops/{id}/analytics/revenue with its default range: the last 30 days.
func (d webDesk) Revenue(ctx context.Context, p auth.Principal, shopID uuid.UUID) (web.SellerRevenue, error) {
	r, err := d.a.Analytics.CheckRange(analytics.RangeInput{}, time.Now())
	if err != nil {
		return web.SellerRevenue{}, err
	}
	c, err := d.a.Analytics.Revenue(ctx, p, shopID, r)
	if err != nil {
		return web.SellerRevenue{}, err
	}
	cur := c.Current
	out := web.SellerRevenue{From: r.From, To: r.To, Gross: cur.Totals.Gross, Net: cur.Totals.Net, Sales: cur.Totals.Sales,
		Days: make([]web.SellerRevenueDay, 0, len(cur.Series))}
	for _, pt := range cur.Series {
		day, err := time.Parse(time.DateOnly, pt.Start)
		if err != nil {
			return web.SellerRevenue{}, err
		}
		out.Days = append(out.Days, web.SellerRevenueDay{Day: day, Gross: pt.Figures.Gross})
	}
	return out, nil
}

func (d webDesk) Orders(ctx context.Context, p auth.Principal, shopID uuid.UUID, status events.OrderStatus, limit int) ([]web.SellerOrder, error) {
	l, err := d.a.Orders.ShopOrders(ctx, p, shopID, order.ListFilter{Status: &status}, httpx.Page{Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]web.SellerOrder, len(l.Items))
	for i, o := range l.Items {
		lines := make([]web.SellerOrderLine, len(o.Items))
		for j, it := range o.Items {
			lines[j] = web.SellerOrderLine{Title: it.Title, Quantity: int(it.Quantity)}
		}
		out[i] = web.SellerOrder{ID: o.ID, Status: o.Status, Lines: lines, Total: o.Total, PaymentMethod: o.PaymentMethod,
			PaymentStatus: o.PaymentStatus, Province: o.Address.Province, CreatedAt: o.CreatedAt}
	}
	return out, nil
}

// MoveOrder is PUT /shops/{id}/orders/{order_id}/status without a reason.
func (d webDesk) MoveOrder(ctx context.Context, p auth.Principal, shopID, orderID uuid.UUID, to events.OrderStatus) error {
	_, err := d.a.Orders.ShopMove(ctx, p, shopID, orderID, to, "")
	return err
}

func (d webDesk) LowStock(ctx context.Context, p auth.Principal, shopID uuid.UUID, limit int) ([]web.SellerStockLine, error) {
	l, err := d.a.Catalog.LowStock(ctx, p, &shopID, httpx.Page{Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]web.SellerStockLine, len(l.Items))
	for i, it := range l.Items {
		out[i] = web.SellerStockLine{Title: it.Title, VariantName: it.VariantName, SKU: it.SKU, Stock: it.Stock, Threshold: it.LowStockThreshold}
	}
	return out, nil
}

func (d webDesk) Reviews(ctx context.Context, p auth.Principal, shopID uuid.UUID, limit int) ([]web.SellerReview, error) {
	l, err := d.a.Reviews.ShopReviews(ctx, &p, shopID, review.Filter{}, httpx.Page{Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]web.SellerReview, len(l.Items))
	for i, rv := range l.Items {
		out[i] = web.SellerReview{Target: string(rv.Target), Rating: rv.Rating, Comment: rv.Comment, Replied: rv.Reply != nil, CreatedAt: rv.CreatedAt}
	}
	return out, nil
}
