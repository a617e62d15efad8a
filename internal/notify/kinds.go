package notify

import (
	"bytes"
	htmltemplate "html/template"
	"strings"
	"text/template"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/goshop/goshop/internal/platform/apperr"
)

// Kind is a kind of message: what happened, to whom (a buyer and a shop hear of one order
// under different kinds, so each can turn its own off).
type Kind string

// Kinds of message. The table of issue 13 maps events to them (subscribers.go).
const (
	KindOrderPlaced         Kind = "order_placed"
	KindNewOrder            Kind = "new_order"
	KindOrderPaid           Kind = "order_paid"
	KindShopOrderPaid       Kind = "shop_order_paid"
	KindOrderConfirmed      Kind = "order_confirmed"
	KindOrderShipped        Kind = "order_shipped"
	KindOrderDelivered      Kind = "order_delivered"
	KindOrderCancelled      Kind = "order_cancelled"
	KindShopOrderCancelled  Kind = "shop_order_cancelled"
	KindOrderRefunded       Kind = "order_refunded"
	KindShopOrderRefunded   Kind = "shop_order_refunded"
	KindReturnRequested     Kind = "return_requested"
	KindReturnDecided       Kind = "return_decided"
	KindPaymentFailed       Kind = "payment_failed"
	KindShipperAssigned     Kind = "shipper_assigned"
	KindShopShipperAssigned Kind = "shop_shipper_assigned"
	KindDeliveryAssigned    Kind = "delivery_assigned"
	KindDeliveryFailed      Kind = "delivery_failed"
	KindShipperNearby       Kind = "shipper_nearby"
	KindPriceAlert          Kind = "price_alert"
	KindReviewApproved      Kind = "review_approved"
	KindReviewRejected      Kind = "review_rejected"
	KindReviewReplied       Kind = "review_replied"
	KindNewReview           Kind = "new_review"
	KindLowStock            Kind = "low_stock"
	KindEscrowReleased      Kind = "escrow_released"
	KindPasswordChanged     Kind = "password_changed"
	KindPasswordReset       Kind = "password_reset"
	// KindExportReady tells who asked for a report's export that its file may be downloaded.
	KindExportReady Kind = "export_ready"
	// KindMessage is a message an admin sends by hand.
	KindMessage Kind = "message"
)

// rule is a kind's default channels; a mandatory kind's channels cannot be turned off.
type rule struct {
	channels  []Channel
	mandatory bool
	// vi and en are the built-in title and body, used when no admin template is active.
	vi, en [2]string
}

var (
	appEmail     = []Channel{InApp, Email}
	appPush      = []Channel{InApp, Push}
	appOnly      = []Channel{InApp}
	appEmailPush = []Channel{InApp, Email, Push}
)

// rules is the table of defaults, with the built-in texts. Texts are text/template over the
// message's variables (Variables).
var rules = map[Kind]rule{
	KindOrderPlaced: {channels: appEmail,
		vi: [2]string{"Đã đặt đơn hàng {{.order_ref}}", "Đơn hàng {{.order_ref}} ({{.total}} {{.currency}}) đã được đặt."},
		en: [2]string{"Order {{.order_ref}} placed", "Your order {{.order_ref}} ({{.total}} {{.currency}}) has been placed."}},
	KindNewOrder: {channels: appEmail,
		vi: [2]string{"Đơn hàng mới {{.order_ref}}", "Cửa hàng của bạn có đơn hàng mới {{.order_ref}} ({{.total}} {{.currency}})."},
		en: [2]string{"New order {{.order_ref}}", "Your shop has a new order {{.order_ref}} ({{.total}} {{.currency}})."}},
	KindOrderPaid: {channels: appEmail,
		vi: [2]string{"Đã thanh toán đơn {{.order_ref}}", "Đơn hàng {{.order_ref}} đã được thanh toán ({{.total}})."},
		en: [2]string{"Order {{.order_ref}} paid", "Your order {{.order_ref}} has been paid ({{.total}})."}},
	KindShopOrderPaid: {channels: appEmail,
		vi: [2]string{"Đơn {{.order_ref}} đã thanh toán", "Người mua đã thanh toán đơn {{.order_ref}} ({{.total}})."},
		en: [2]string{"Order {{.order_ref}} paid", "The buyer paid order {{.order_ref}} ({{.total}})."}},
	KindOrderConfirmed: {channels: appPush,
		vi: [2]string{"Đơn {{.order_ref}} đã được xác nhận", "Cửa hàng đã xác nhận đơn hàng {{.order_ref}}."},
		en: [2]string{"Order {{.order_ref}} confirmed", "The shop confirmed your order {{.order_ref}}."}},
	KindOrderShipped: {channels: appPush,
		vi: [2]string{"Đơn {{.order_ref}} đang giao", "Đơn hàng {{.order_ref}} đã được gửi đi."},
		en: [2]string{"Order {{.order_ref}} shipped", "Your order {{.order_ref}} is on its way."}},
	KindOrderDelivered: {channels: appPush,
		vi: [2]string{"Đơn {{.order_ref}} đã giao", "Đơn hàng {{.order_ref}} đã được giao thành công."},
		en: [2]string{"Order {{.order_ref}} delivered", "Your order {{.order_ref}} has been delivered."}},
	KindOrderCancelled: {channels: appEmail,
		vi: [2]string{"Đơn {{.order_ref}} đã huỷ", "Đơn hàng {{.order_ref}} đã bị huỷ. {{.reason}}"},
		en: [2]string{"Order {{.order_ref}} cancelled", "Your order {{.order_ref}} was cancelled. {{.reason}}"}},
	KindShopOrderCancelled: {channels: appEmail,
		vi: [2]string{"Đơn {{.order_ref}} đã huỷ", "Đơn hàng {{.order_ref}} của cửa hàng đã bị huỷ. {{.reason}}"},
		en: [2]string{"Order {{.order_ref}} cancelled", "Order {{.order_ref}} of your shop was cancelled. {{.reason}}"}},
	KindOrderRefunded: {channels: appEmail,
		vi: [2]string{"Đơn {{.order_ref}} đã hoàn tiền", "Tiền của đơn hàng {{.order_ref}} đã được hoàn lại."},
		en: [2]string{"Order {{.order_ref}} refunded", "The money of your order {{.order_ref}} has been refunded."}},
	KindShopOrderRefunded: {channels: appEmail,
		vi: [2]string{"Đơn {{.order_ref}} đã hoàn tiền", "Đơn hàng {{.order_ref}} đã được hoàn tiền cho người mua."},
		en: [2]string{"Order {{.order_ref}} refunded", "Order {{.order_ref}} was refunded to the buyer."}},
	KindReturnRequested: {channels: appEmail,
		vi: [2]string{"Yêu cầu trả hàng {{.order_ref}}", "Người mua muốn trả đơn {{.order_ref}}: {{.reason}}"},
		en: [2]string{"Return requested for {{.order_ref}}", "The buyer asks to return order {{.order_ref}}: {{.reason}}"}},
	KindReturnDecided: {channels: appEmail,
		vi: [2]string{"Yêu cầu trả hàng {{.order_ref}}: {{.status}}", "Cửa hàng đã xử lý yêu cầu trả đơn {{.order_ref}}: {{.status}}. {{.reason}}"},
		en: [2]string{"Return of {{.order_ref}}: {{.status}}", "The shop decided on your return of {{.order_ref}}: {{.status}}. {{.reason}}"}},
	KindPaymentFailed: {channels: appEmailPush,
		vi: [2]string{"Thanh toán thất bại", "Thanh toán cho đơn {{.order_ref}} không thành công: {{.reason}}"},
		en: [2]string{"Payment failed", "The payment of order {{.order_ref}} failed: {{.reason}}"}},
	KindShipperAssigned: {channels: appPush,
		vi: [2]string{"Đã có shipper cho đơn {{.order_ref}}", "Một shipper đã nhận giao đơn hàng {{.order_ref}}."},
		en: [2]string{"A shipper has order {{.order_ref}}", "A shipper will deliver your order {{.order_ref}}."}},
	KindShopShipperAssigned: {channels: appPush,
		vi: [2]string{"Shipper nhận đơn {{.order_ref}}", "Một shipper sẽ đến lấy đơn hàng {{.order_ref}}."},
		en: [2]string{"Shipper for {{.order_ref}}", "A shipper will pick order {{.order_ref}} up."}},
	KindDeliveryAssigned: {channels: appPush,
		vi: [2]string{"Đơn giao mới {{.order_ref}}", "Bạn được giao đơn hàng {{.order_ref}}."},
		en: [2]string{"New delivery {{.order_ref}}", "You have been given the delivery of order {{.order_ref}}."}},
	KindDeliveryFailed: {channels: appPush,
		vi: [2]string{"Giao hàng không thành công", "Giao đơn {{.order_ref}} không thành công: {{.reason}}"},
		en: [2]string{"Delivery failed", "The delivery of order {{.order_ref}} failed: {{.reason}}"}},
	KindShipperNearby: {channels: []Channel{Push},
		vi: [2]string{"Shipper sắp đến", "Shipper đang cách bạn khoảng {{.distance_km}} km với đơn {{.order_ref}}."},
		en: [2]string{"Your shipper is near", "Your shipper is about {{.distance_km}} km away with order {{.order_ref}}."}},
	KindPriceAlert: {channels: appEmailPush,
		vi: [2]string{"Giá đã giảm", "Sản phẩm bạn theo dõi giờ còn {{.price}} {{.currency}} (mục tiêu {{.target_price}})."},
		en: [2]string{"Price drop", "A product you watch now costs {{.price}} {{.currency}} (your target: {{.target_price}})."}},
	KindReviewApproved: {channels: appOnly,
		vi: [2]string{"Đánh giá đã được duyệt", "Đánh giá của bạn đã được đăng."},
		en: [2]string{"Review approved", "Your review has been published."}},
	KindReviewRejected: {channels: appOnly,
		vi: [2]string{"Đánh giá bị từ chối", "Đánh giá của bạn bị từ chối: {{.reason}}"},
		en: [2]string{"Review rejected", "Your review was rejected: {{.reason}}"}},
	KindReviewReplied: {channels: appOnly,
		vi: [2]string{"Cửa hàng đã trả lời", "Cửa hàng đã trả lời đánh giá của bạn."},
		en: [2]string{"The shop replied", "The shop replied to your review."}},
	KindNewReview: {channels: appOnly,
		vi: [2]string{"Đánh giá mới", "Cửa hàng của bạn có đánh giá mới {{.rating}} sao."},
		en: [2]string{"New review", "Your shop has a new {{.rating}}-star review."}},
	KindLowStock: {channels: appEmail,
		vi: [2]string{"Sắp hết hàng", "Mã {{.sku}} chỉ còn {{.stock}} (ngưỡng {{.threshold}})."},
		en: [2]string{"Low stock", "SKU {{.sku}} is down to {{.stock}} (threshold {{.threshold}})."}},
	KindEscrowReleased: {channels: appEmail,
		vi: [2]string{"Đã nhận tiền đơn {{.order_ref}}", "{{.amount}} {{.currency}} của đơn {{.order_ref}} đã được chuyển cho cửa hàng (phí {{.commission}})."},
		en: [2]string{"Payout for {{.order_ref}}", "{{.amount}} {{.currency}} of order {{.order_ref}} has been released to your shop (commission {{.commission}})."}},
	KindExportReady: {channels: appOnly,
		vi: [2]string{"Báo cáo đã sẵn sàng", "Tệp {{.format}} của báo cáo {{.report}} đã sẵn sàng để tải về."},
		en: [2]string{"Your report is ready", "The {{.format}} file of your {{.report}} report is ready to download."}},
	KindPasswordChanged: {channels: []Channel{Email}, mandatory: true,
		vi: [2]string{"Mật khẩu đã được thay đổi", "Chào {{.name}}, mật khẩu GoShop của bạn vừa được thay đổi lúc {{.at}}. Nếu không phải bạn, hãy đặt lại mật khẩu ngay."},
		en: [2]string{"Your password was changed", "Hello {{.name}}, your GoShop password was changed at {{.at}}. If this was not you, reset it now."}},
	KindPasswordReset: {channels: []Channel{Email}, mandatory: true,
		vi: [2]string{"Mật khẩu đã được đặt lại", "Chào {{.name}}, mật khẩu GoShop của bạn vừa được đặt lại lúc {{.at}}. Nếu không phải bạn, hãy liên hệ hỗ trợ."},
		en: [2]string{"Your password was reset", "Hello {{.name}}, your GoShop password was reset at {{.at}}. If this was not you, contact support."}},
	KindMessage: {channels: nil, mandatory: true,
		vi: [2]string{"{{.subject}}", "{{.body}}"},
		en: [2]string{"{{.subject}}", "{{.body}}"}},
}

// Kinds lists every kind of message that preferences cover, in a stable order.
func Kinds() []Kind {
	out := make([]Kind, 0, len(rules))
	for k := range rules {
		if k != KindMessage {
			out = append(out, k)
		}
	}
	sortKinds(out)
	return out
}

func sortKinds(ks []Kind) {
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
}

// defaultOn says whether the table sends kind on channel.
func defaultOn(kind Kind, ch Channel) bool {
	for _, c := range rules[kind].channels {
		if c == ch {
			return true
		}
	}
	return false
}

// Variables are the names a template may use; a template naming any other is refused when it
// is saved. Every message carries all of them (empty when they do not apply).
var Variables = []string{"name", "order_id", "order_ref", "total", "currency", "status", "reason", "product_id",
	"price", "target_price", "shipper_id", "distance_km", "amount", "commission", "rating", "sku", "stock", "threshold",
	"review_id", "at", "subject", "body", "export_id", "report", "format", "url"}

// vars completes a message's variables: every known name is present.
func vars(data map[string]any) map[string]any {
	out := make(map[string]any, len(Variables))
	for _, v := range Variables {
		out[v] = ""
	}
	for k, v := range data {
		out[k] = v
	}
	if id, ok := out["order_id"].(string); ok && len(id) >= 8 && out["order_ref"] == "" {
		out["order_ref"] = "#" + strings.ToUpper(id[:8])
	}
	return out
}

// rendered is a message made from a template: a title (an email's subject), a text body and,
// for email, an HTML body.
type rendered struct {
	Title, Body, HTML string
}

// emailLayout wraps a text body into the HTML part of an email; html/template escapes the
// text, so nothing in a variable becomes markup.
var emailLayout = htmltemplate.Must(htmltemplate.New("email").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family:sans-serif;color:#222"><h2 style="color:#ee4d2d">{{.Title}}</h2><p>{{.Body}}</p>
<p style="color:#888;font-size:12px">GoShop</p></body></html>`))

// render makes a message from texts (an admin's template, or the built-in one) and data.
func render(locale string, subject, body, html string, data map[string]any) (rendered, error) {
	v := vars(data)
	var out rendered
	var err error
	if out.Title, err = execText(subject, v); err != nil {
		return out, err
	}
	if out.Body, err = execText(body, v); err != nil {
		return out, err
	}
	var buf bytes.Buffer
	if html != "" {
		t, err := parseHTML(html)
		if err != nil {
			return out, err
		}
		if err := t.Execute(&buf, v); err != nil {
			return out, err
		}
	} else if err := emailLayout.Execute(&buf, map[string]string{"Lang": locale, "Title": out.Title, "Body": out.Body}); err != nil {
		return out, err
	}
	out.HTML = buf.String()
	return out, nil
}

// parsedTemplates is how many template texts of each kind (text, HTML) stay parsed. Parsing a
// subject and a body cost more than executing them, at every message sent; the texts in use
// are a few per kind and locale, and the bound keeps what admins' edits leave behind small.
const parsedTemplates = 512

// parsedTexts and parsedHTMLs hold the parse of template texts by source, so an edited
// template is a new entry and the old one ages out. A parsed template executes safely in
// parallel.
var (
	parsedTexts = mustLRU[*template.Template]()
	parsedHTMLs = mustLRU[*htmltemplate.Template]()
)

func mustLRU[T any]() *lru.Cache[string, T] {
	c, err := lru.New[string, T](parsedTemplates)
	if err != nil {
		panic(err)
	}
	return c
}

// parseText answers src parsed as a text template, refusing unknown variables when executed.
func parseText(src string) (*template.Template, error) {
	return parsed(parsedTexts, src, func(src string) (*template.Template, error) {
		return template.New("t").Option("missingkey=error").Parse(src)
	})
}

// parseHTML is parseText for an email's HTML part: html/template escapes every variable.
func parseHTML(src string) (*htmltemplate.Template, error) {
	return parsed(parsedHTMLs, src, func(src string) (*htmltemplate.Template, error) {
		return htmltemplate.New("html").Option("missingkey=error").Parse(src)
	})
}

// parsed answers src from c, parsing it when it is not there; a text that does not parse is
// not kept.
func parsed[T any](c *lru.Cache[string, T], src string, parse func(string) (T, error)) (T, error) {
	if t, ok := c.Get(src); ok {
		return t, nil
	}
	t, err := parse(src)
	if err != nil {
		return t, err
	}
	c.Add(src, t)
	return t, nil
}

func execText(src string, v map[string]any) (string, error) {
	t, err := parseText(src)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}

// checkTemplate refuses, with the field at fault, a template that does not parse or uses a
// variable messages do not carry: it is run against a message carrying every variable, where
// an unknown one fails (missingkey=error).
func checkTemplate(subject, body, html string) error {
	sample := map[string]any{}
	for _, v := range Variables {
		sample[v] = "x"
	}
	for _, f := range []struct{ name, src string }{{"subject", subject}, {"body", body}} {
		if _, err := execText(f.src, sample); err != nil {
			return apperr.Field(f.name, "is not a usable template: "+err.Error())
		}
	}
	if html != "" {
		t, err := parseHTML(html)
		if err == nil {
			err = t.Execute(&bytes.Buffer{}, sample)
		}
		if err != nil {
			return apperr.Field("html", "is not a usable template: "+err.Error())
		}
	}
	return nil
}
