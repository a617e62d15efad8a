package web

import (
	"net/http"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// sellerTexts are every word the seller center shows, one struct per language. A struct rather than
// a map: a template that names a text that does not exist fails when it runs (every test that
// renders the page), where a map would print nothing; TestSellerTextsAreTranslated checks that
// both languages fill every field.
type sellerTexts struct {
	Title, SignInTitle, SignInLead, Email, Password, SignIn, SignOut               string
	WrongCredentials, TooMany, FormExpired, MissingFields, SignedOut, SessionEnded string
	NoShopTitle, NoShopLead, Hello, YourShops, AdminViewing, Suspended             string
	Revenue30, NetRevenue, SalesCount, ChartTitle, ChartLabel                      string
	ToConfirm, ToShip, NoOrders, OrderNo, Placed, ShipTo                           string
	Confirm, Ship, Confirmed, Shipped, COD, Paid, Unpaid                           string
	LowStock, NoLowStock, StockLeft, Reviews, NoReviews, OfShop, OfProduct         string
	Replied, Stars                                                                 string
	ErrorTitle, Forbidden, NotFound, Conflict, Invalid, Unavailable, Internal      string
	Back, Language, RangeOf, LangName                                              string
	// Layouts of times and amounts (Go's reference time; MoneyFormat's %s is the figure), and
	// the short forms of large figures on the chart's axis (%s is the figure).
	DateTime, Date, DayMonth, MoneyFormat string
	Thousands, Millions, Billions         string
	// printer groups digits as the language does.
	printer *message.Printer
}

// Languages of the seller center: Vietnamese first, the default for anyone who asks for
// neither.
var (
	sellerLangCodes   = []string{"vi", "en"}
	sellerLangMatcher = language.NewMatcher([]language.Tag{language.Vietnamese, language.English})
	sellerLangs       = map[string]*sellerTexts{"vi": &textsVI, "en": &textsEN}
)

// sellerLangCookie remembers a language picked with ?lang=, for a year.
const sellerLangCookie = "goshop_lang"

var textsVI = sellerTexts{
	Title: "Kênh Người Bán GoShop", SignInTitle: "Đăng nhập Kênh Người Bán", SignInLead: "Dùng tài khoản GoShop của bạn.",
	Email: "Email", Password: "Mật khẩu", SignIn: "Đăng nhập", SignOut: "Đăng xuất",
	WrongCredentials: "Email hoặc mật khẩu không đúng.",
	TooMany:          "Bạn đã thử quá nhiều lần. Vui lòng thử lại sau %d giây.",
	FormExpired:      "Biểu mẫu đã hết hạn hoặc không đến từ trang này. Vui lòng thử lại.",
	MissingFields:    "Hãy nhập email và mật khẩu (email tối đa 254 ký tự, mật khẩu tối đa 128).",
	SignedOut:        "Bạn đã đăng xuất.",
	SessionEnded:     "Phiên đăng nhập đã kết thúc. Vui lòng đăng nhập lại.",
	NoShopTitle:      "Bạn chưa có cửa hàng",
	NoShopLead: "Tài khoản %s chưa sở hữu cửa hàng nào. Hãy mở cửa hàng trong ứng dụng GoShop " +
		"(hoặc qua API: POST /api/v1/shops), rồi quay lại đây.",
	Hello: "Xin chào, %s", YourShops: "Cửa hàng của bạn", AdminViewing: "Bạn đang xem cửa hàng này với quyền quản trị viên.",
	Suspended: "Cửa hàng đang bị tạm ngưng.",
	Revenue30: "Doanh thu 30 ngày qua", NetRevenue: "Thực nhận", SalesCount: "Đơn đã bán",
	ChartTitle: "Doanh thu theo ngày", ChartLabel: "Biểu đồ doanh thu theo ngày, 30 ngày qua",
	ToConfirm: "Chờ xác nhận", ToShip: "Chờ giao cho vận chuyển", NoOrders: "Không có đơn nào.",
	OrderNo: "Đơn", Placed: "Đặt lúc", ShipTo: "Giao đến",
	Confirm: "Xác nhận", Ship: "Giao hàng", Confirmed: "Đã xác nhận đơn %s.", Shipped: "Đã giao đơn %s cho vận chuyển.",
	COD: "Thanh toán khi nhận hàng", Paid: "Đã thanh toán", Unpaid: "Chưa thanh toán",
	LowStock: "Sắp hết hàng", NoLowStock: "Không có sản phẩm nào sắp hết hàng.", StockLeft: "Còn %d (ngưỡng %d)",
	Reviews: "Đánh giá gần đây", NoReviews: "Chưa có đánh giá nào.", OfShop: "Về cửa hàng", OfProduct: "Về sản phẩm",
	Replied:    "Đã trả lời",
	ErrorTitle: "Không thực hiện được", Forbidden: "Bạn không có quyền với cửa hàng hoặc đơn hàng này.",
	NotFound: "Không tìm thấy cửa hàng hoặc đơn hàng.", Conflict: "Đơn hàng không thể chuyển sang trạng thái đó.",
	Invalid: "Yêu cầu không hợp lệ.", Unavailable: "Hệ thống đang bận, vui lòng thử lại sau ít phút.",
	Internal: "Đã có lỗi xảy ra. Vui lòng thử lại.", Back: "Quay lại Kênh Người Bán",
	Language: "Ngôn ngữ", RangeOf: "%s – %s",
	DateTime: "15:04 02/01/2006", Date: "02/01/2006", DayMonth: "2/1",
	MoneyFormat: "%s ₫", LangName: "Tiếng Việt", Thousands: "%sk", Millions: "%str", Billions: "%s tỷ",
	Stars: "%d/5 sao", printer: message.NewPrinter(language.Vietnamese),
}

var textsEN = sellerTexts{
	Title: "GoShop Seller Centre", SignInTitle: "Sign in to the Seller Centre", SignInLead: "Use your GoShop account.",
	Email: "Email", Password: "Password", SignIn: "Sign in", SignOut: "Sign out",
	WrongCredentials: "Wrong email or password.",
	TooMany:          "Too many attempts. Please try again in %d seconds.",
	FormExpired:      "The form has expired or did not come from this page. Please try again.",
	MissingFields:    "Enter your email and password (at most 254 characters for the email, 128 for the password).",
	SignedOut:        "You have signed out.",
	SessionEnded:     "Your session has ended. Please sign in again.",
	NoShopTitle:      "You have no shop yet",
	NoShopLead: "The account %s owns no shop. Open one in the GoShop app " +
		"(or through the API: POST /api/v1/shops), then come back here.",
	Hello: "Hello, %s", YourShops: "Your shops", AdminViewing: "You are viewing this shop as an administrator.",
	Suspended: "This shop is suspended.",
	Revenue30: "Revenue, last 30 days", NetRevenue: "Net", SalesCount: "Sales",
	ChartTitle: "Revenue by day", ChartLabel: "Chart of revenue by day over the last 30 days",
	ToConfirm: "Waiting for confirmation", ToShip: "Ready to ship", NoOrders: "No orders.",
	OrderNo: "Order", Placed: "Placed", ShipTo: "Ship to",
	Confirm: "Confirm", Ship: "Ship", Confirmed: "Order %s confirmed.", Shipped: "Order %s handed to the carrier.",
	COD: "Cash on delivery", Paid: "Paid", Unpaid: "Unpaid",
	LowStock: "Low stock", NoLowStock: "No product is running low.", StockLeft: "%d left (threshold %d)",
	Reviews: "Recent reviews", NoReviews: "No reviews yet.", OfShop: "Of the shop", OfProduct: "Of a product",
	Replied:    "Replied",
	ErrorTitle: "That did not work", Forbidden: "You may not act on this shop or order.",
	NotFound: "No such shop or order.", Conflict: "The order cannot make that move.",
	Invalid: "The request is not valid.", Unavailable: "The service is busy; please try again in a few minutes.",
	Internal: "Something went wrong. Please try again.", Back: "Back to the Seller Centre",
	Language: "Language", RangeOf: "%s – %s",
	DateTime: "Jan 2, 2006 15:04", Date: "Jan 2, 2006", DayMonth: "Jan 2",
	MoneyFormat: "₫%s", LangName: "English", Thousands: "%sk", Millions: "%sM", Billions: "%sB",
	Stars: "%d/5 stars", printer: message.NewPrinter(language.English),
}

// money writes an amount of đồng (the marketplace's currency has no minor unit in use) with the
// language's digit grouping: 1.250.000 ₫, ₫1,250,000.
func (t *sellerTexts) money(v int64) string {
	return strings.Replace(t.MoneyFormat, "%s", t.printer.Sprintf("%d", v), 1)
}

// number writes a count with the language's digit grouping.
func (t *sellerTexts) number(v int64) string { return t.printer.Sprintf("%d", v) }

// sprintf fills one of the texts' %d/%s holes.
func (t *sellerTexts) sprintf(format string, args ...any) string {
	return t.printer.Sprintf(format, args...)
}

// when writes a time in the marketplace's zone.
func (t *sellerTexts) when(at time.Time, loc *time.Location) string {
	return at.In(loc).Format(t.DateTime)
}

// sellerLang chooses the page's language: ?lang= (remembered in a cookie), else the cookie, else
// the browser's Accept-Language, else Vietnamese.
func sellerLang(w http.ResponseWriter, r *http.Request, asked string, secure bool) string {
	if _, ok := sellerLangs[asked]; ok {
		http.SetCookie(w, &http.Cookie{Name: sellerLangCookie, Value: asked, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
		return asked
	}
	if c, err := r.Cookie(sellerLangCookie); err == nil {
		if _, ok := sellerLangs[c.Value]; ok {
			return c.Value
		}
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return sellerLangCodes[0]
	}
	_, i, conf := sellerLangMatcher.Match(tags...)
	if conf == language.No {
		return sellerLangCodes[0]
	}
	return sellerLangCodes[i]
}
