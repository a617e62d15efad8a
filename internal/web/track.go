package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"sync"

	"github.com/go-chi/chi/v5"

	"github.com/goshop/goshop/internal/platform/httpx"
)

// TrackScript is the tracking page's script, hand-written and served from assets like the API
// viewer: the page itself holds no script, so the CSP's script-src 'self' stays strict.
const TrackScript = "track.js"

// trackScriptURL is the script's address with a digest of its content: /assets answers are
// cached for a year as immutable, so a changed script must come from a new URL.
var trackScriptURL = sync.OnceValue(func() string {
	b, err := fs.ReadFile(files, "assets/"+TrackScript)
	if err != nil {
		panic(err) // embedded at build time: a missing file is a build mistake
	}
	sum := sha256.Sum256(b)
	return "/assets/" + TrackScript + "?v=" + hex.EncodeToString(sum[:6])
})

// trackQuery is the one thing the tracking page reads from its URL besides the order.
type trackQuery struct {
	Lang string `query:"lang" validate:"omitempty,oneof=vi en" doc:"the page's language: vi (the default) or en"`
}

// trackData is what the tracking page is rendered with. Everything about the order is read by
// the script through the API with the buyer's own token: the page knows only the order's ID.
type trackData struct {
	OrderID string
	Lang    string
	// Script is the script's URL (with its version).
	Script string
	T      map[string]string
	// JS are the strings the script needs (statuses, answers), in the page's language.
	JS map[string]string
}

// routeTrack mounts GET /track/{order_id}: a buyer's tracking page. It is public because it is
// an empty shell; the buyer signs in on the page and the API decides what they may see.
func (h *Handler) routeTrack(r chi.Router) {
	r.Method(http.MethodGet, "/track/{order_id}", httpx.Documented[httpx.Empty, httpx.Empty](http.StatusOK, h.track).
		Doc("A buyer's order tracking page: sign in, then the order's timeline and the shipper on a live map").
		For(httpx.Public).ID("order_id", "order").Params(trackQuery{}).Answers("text/html"))
}

func (h *Handler) track(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.UUIDParam(r, "order_id", "order")
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	q, err := httpx.QueryOf[trackQuery](r)
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	lang := q.Lang
	if lang == "" {
		lang = "vi"
	}
	h.render(w, r, "track.html", trackData{OrderID: id.String(), Lang: lang, Script: trackScriptURL(),
		T: trackText[lang], JS: trackScriptText[lang]})
}

// trackText are the page's own strings.
var trackText = map[string]map[string]string{
	"vi": {
		"title": "Theo dõi đơn hàng", "order": "Đơn hàng", "signin": "Đăng nhập để xem đơn hàng",
		"signin_hint": "Dùng tài khoản GoShop đã đặt đơn này.", "email": "Email", "password": "Mật khẩu",
		"submit": "Đăng nhập", "signout": "Đăng xuất", "status": "Trạng thái", "total": "Tổng tiền",
		"timeline": "Lịch sử đơn hàng", "map": "Vị trí người giao hàng", "start": "Cửa hàng", "dest": "Nơi nhận",
		"shipper": "Người giao", "delivery": "Giao hàng", "other_lang": "English", "other_lang_code": "en",
	},
	"en": {
		"title": "Track your order", "order": "Order", "signin": "Sign in to see your order",
		"signin_hint": "Use the GoShop account that placed this order.", "email": "Email", "password": "Password",
		"submit": "Sign in", "signout": "Sign out", "status": "Status", "total": "Total",
		"timeline": "Order history", "map": "Where the shipper is", "start": "Shop", "dest": "Destination",
		"shipper": "Shipper", "delivery": "Delivery", "other_lang": "Tiếng Việt", "other_lang_code": "vi",
	},
}

// trackScriptText are the strings the script shows, handed to it in a JSON block of the page
// (data, not script, so the CSP lets it be).
var trackScriptText = map[string]map[string]string{
	"vi": {
		"locale": "vi-VN", "loading": "Đang tải…", "bad_login": "Sai email hoặc mật khẩu.",
		"expired": "Phiên đăng nhập đã hết, vui lòng đăng nhập lại.", "not_found": "Không tìm thấy đơn hàng này.",
		"not_found_hint": "Đơn hàng không tồn tại hoặc không thuộc tài khoản này.", "error": "Có lỗi, vui lòng thử lại.",
		"too_many": "Thử quá nhiều lần, vui lòng đợi một chút.", "no_shipment": "Đơn hàng chưa được giao cho đơn vị vận chuyển.",
		"waiting_shipper": "Đang tìm người giao hàng.", "live": "Cập nhật trực tiếp", "offline": "Mất kết nối, đang thử lại…",
		"last_seen": "Cập nhật lúc", "no_position": "Chưa có vị trí của người giao.",
		"st_pending": "Đã đặt hàng", "st_confirmed": "Shop đã xác nhận", "st_shipped": "Đang giao", "st_delivered": "Đã giao",
		"st_cancelled": "Đã hủy", "st_return_requested": "Yêu cầu trả hàng", "st_returned": "Đã trả hàng", "st_refunded": "Đã hoàn tiền",
		"sh_awaiting_pickup": "Chờ lấy hàng", "sh_picked_up": "Đã lấy hàng", "sh_in_transit": "Đang vận chuyển",
		"sh_delivered": "Đã giao", "sh_failed": "Giao không thành công",
		"by_buyer": "người mua", "by_shop": "shop", "by_shipper": "người giao", "by_admin": "quản trị", "by_system": "hệ thống",
	},
	"en": {
		"locale": "en-GB", "loading": "Loading…", "bad_login": "Wrong email or password.",
		"expired": "Your session has ended; please sign in again.", "not_found": "Order not found.",
		"not_found_hint": "There is no such order, or it is not this account's.", "error": "Something went wrong; please try again.",
		"too_many": "Too many tries; please wait a moment.", "no_shipment": "The order has not been handed to a carrier yet.",
		"waiting_shipper": "Looking for a shipper.", "live": "Live", "offline": "Connection lost, trying again…",
		"last_seen": "Updated", "no_position": "No position from the shipper yet.",
		"st_pending": "Order placed", "st_confirmed": "Confirmed by the shop", "st_shipped": "On its way", "st_delivered": "Delivered",
		"st_cancelled": "Cancelled", "st_return_requested": "Return requested", "st_returned": "Returned", "st_refunded": "Refunded",
		"sh_awaiting_pickup": "Awaiting pickup", "sh_picked_up": "Picked up", "sh_in_transit": "In transit",
		"sh_delivered": "Delivered", "sh_failed": "Delivery failed",
		"by_buyer": "buyer", "by_shop": "shop", "by_shipper": "shipper", "by_admin": "admin", "by_system": "system",
	},
}
