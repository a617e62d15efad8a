package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
)

// sellerDashboard is /seller: one shop's figures and work, or a word to a user without a shop.
type sellerDashboard struct {
	sellerPage
	Hello      string
	NoShop     bool
	NoShopLead string
	Shop       SellerShop
	Shops      []sellerShopLink
	Admin      bool
	Suspended  bool
	Revenue    string
	Net        string
	Sales      string
	Range      string
	Chart      template.HTML
	Pending    []sellerOrderView
	Confirmed  []sellerOrderView
	LowStock   []sellerStockView
	Reviews    []sellerReviewView
}

type sellerShopLink struct {
	Name, Href string
	Current    bool
}

type sellerOrderView struct {
	ID, Short, Placed, Items, Total, Payment, ShipTo string
	// Payable says the order may ship: cash on delivery, or paid (the service holds the rule;
	// the page only leaves out a button that could only be refused).
	Payable bool
}

type sellerStockView struct{ Title, SKU, Left string }

type sellerReviewView struct {
	Stars, Label, Comment, Target, When string
	Replied                             bool
}

// dashboard shows the signed-in seller's shop: ?shop= picks one of theirs, or any for an admin.
func (c *sellerCenter) dashboard(w http.ResponseWriter, r *http.Request) {
	q, qerr := httpx.QueryOf[sellerQuery](r)
	lang := sellerLang(w, r, q.Lang, c.secure(r))
	t := sellerLangs[lang]
	sess, p := c.signedIn(w, r, lang)
	if p == nil {
		return
	}
	if qerr != nil {
		c.fail(w, r, lang, qerr, "/seller")
		return
	}
	ctx := r.Context()
	shops, err := c.desk.Shops(ctx, *p)
	if err != nil {
		c.fail(w, r, lang, err, "/seller")
		return
	}
	var shop SellerShop
	switch {
	case q.Shop != "":
		id, err := uuid.Parse(q.Shop)
		if err == nil {
			shop, err = c.desk.Shop(ctx, *p, id)
		}
		if err == nil && shop.OwnerID != p.UserID && !p.IsAdmin() {
			err = apperr.New(apperr.Forbidden, "only the shop's owner (or an admin) may open its seller center")
		}
		if err != nil {
			c.fail(w, r, lang, err, "/seller")
			return
		}
	case len(shops) > 0:
		shop = shops[0]
	}
	var query url.Values
	if shop.ID != uuid.Nil {
		query = url.Values{"shop": {shop.ID.String()}}
	}
	d := sellerDashboard{sellerPage: newSellerPage(r, lang, t.Title, query), Hello: t.sprintf(t.Hello, sess.name)}
	d.CSRF, d.SignedIn = sess.csrf, true
	if sess.flash != "" {
		d.Message, d.Bad = sess.flash, sess.bad
		if err := c.store.takeFlash(ctx, sess); err != nil {
			c.fail(w, r, lang, err, "/seller")
			return
		}
	}
	for _, s := range shops {
		d.Shops = append(d.Shops, sellerShopLink{Name: s.Name, Href: "/seller?" + url.Values{"shop": {s.ID.String()}}.Encode(), Current: s.ID == shop.ID})
	}
	if shop.ID == uuid.Nil {
		d.NoShop, d.NoShopLead = true, t.sprintf(t.NoShopLead, sess.name)
		c.render(w, r, http.StatusOK, "seller.html", d)
		return
	}
	if err := c.fill(r, *p, shop, t, &d); err != nil {
		c.fail(w, r, lang, err, "/seller")
		return
	}
	c.render(w, r, http.StatusOK, "seller.html", d)
}

// fill reads the shop's figures and work into d, each through its service as p.
func (c *sellerCenter) fill(r *http.Request, p auth.Principal, shop SellerShop, t *sellerTexts, d *sellerDashboard) error {
	ctx := r.Context()
	d.Shop, d.Admin, d.Suspended = shop, shop.OwnerID != p.UserID, shop.Status != "active"
	rev, err := c.desk.Revenue(ctx, p, shop.ID)
	if err != nil {
		return err
	}
	d.Revenue, d.Net, d.Sales = t.money(rev.Gross), t.money(rev.Net), t.number(int64(rev.Sales))
	d.Range = t.sprintf(t.RangeOf, rev.From.Format(t.Date), rev.To.Format(t.Date))
	points := make([]chartPoint, len(rev.Days))
	for i, day := range rev.Days {
		points[i] = chartPoint{Day: day.Day, Value: day.Gross}
	}
	d.Chart = revenueChart(points, t)
	for _, list := range []struct {
		status events.OrderStatus
		into   *[]sellerOrderView
	}{{events.OrderPending, &d.Pending}, {events.OrderConfirmed, &d.Confirmed}} {
		orders, err := c.desk.Orders(ctx, p, shop.ID, list.status, waitingLimit)
		if err != nil {
			return err
		}
		for _, o := range orders {
			*list.into = append(*list.into, c.orderView(o, t))
		}
	}
	low, err := c.desk.LowStock(ctx, p, shop.ID, lowStockLimit)
	if err != nil {
		return err
	}
	for _, s := range low {
		title := s.Title
		// "Default" is the catalog's name for the one variant of a product made without any:
		// nothing a seller needs to read.
		if s.VariantName != "" && s.VariantName != "Default" {
			title += " – " + s.VariantName
		}
		d.LowStock = append(d.LowStock, sellerStockView{Title: title, SKU: s.SKU, Left: t.sprintf(t.StockLeft, s.Stock, s.Threshold)})
	}
	reviews, err := c.desk.Reviews(ctx, p, shop.ID, reviewsLimit)
	if err != nil {
		return err
	}
	for _, rv := range reviews {
		target := t.OfProduct
		if rv.Target == "shop" {
			target = t.OfShop
		}
		stars := max(0, min(5, rv.Rating))
		d.Reviews = append(d.Reviews, sellerReviewView{Stars: strings.Repeat("★", stars) + strings.Repeat("☆", 5-stars),
			Label: t.sprintf(t.Stars, rv.Rating), Comment: rv.Comment, Target: target, When: t.when(rv.CreatedAt, c.loc), Replied: rv.Replied})
	}
	return nil
}

func (c *sellerCenter) orderView(o SellerOrder, t *sellerTexts) sellerOrderView {
	items := make([]string, len(o.Lines))
	for i, l := range o.Lines {
		items[i] = t.sprintf("%s × %d", l.Title, l.Quantity)
	}
	v := sellerOrderView{ID: o.ID.String(), Short: orderNo(o.ID), Placed: t.when(o.CreatedAt, c.loc), Items: strings.Join(items, ", "),
		Total: t.money(o.Total), ShipTo: o.Province}
	switch {
	case o.PaymentMethod == events.MethodCOD:
		v.Payment, v.Payable = t.COD, true
	case o.PaymentStatus == events.PaymentStatusPaid:
		v.Payment, v.Payable = t.Paid, true
	default:
		v.Payment = t.Unpaid
	}
	return v
}
