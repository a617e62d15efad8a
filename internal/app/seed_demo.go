package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/cart"
	"github.com/goshop/goshop/internal/catalog"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/media"
	"github.com/goshop/goshop/internal/order"
	"github.com/goshop/goshop/internal/payment"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/shipping"
	"github.com/goshop/goshop/internal/shop"
	"github.com/goshop/goshop/internal/user"
)

// DemoPassword is the password of every account `goshop seed -demo` makes. It is printed and
// written here on purpose: the demo is for development machines, and the command refuses to
// run in production.
const DemoPassword = "goshop-demo-2026"

// The demo's sign-ins, one for each kind of user.
const (
	DemoBuyer   = "buyer@demo.goshop.local"
	DemoSeller  = "seller@demo.goshop.local"
	DemoShipper = "shipper@demo.goshop.local"
	DemoAdmin   = "admin@demo.goshop.local"
)

// DemoOrderStates are the states the demo buyer's orders are left in, one order each, in the
// order they are made: the deliveries first, while the demo shipper is free to take them.
var DemoOrderStates = []string{"delivered", "shipped", "cancelled", "placed", "paid", "confirmed"}

// demoShopPoint is the demo shop (Quận 1, Hồ Chí Minh City); demoHome the buyer's address, a
// few kilometres away, where the shipper on the road is halfway to.
var (
	demoShopPoint = [2]float64{10.7769, 106.7009}
	demoHome      = [2]float64{10.7626, 106.6822}
)

// demoProducts are the demo shop's products: a title, a price in đồng and the colour of the
// picture made for it.
var demoProducts = []struct {
	title, description string
	price              int64
	colour             color.RGBA
}{
	{"Áo thun cotton GoShop", "Áo thun 100% cotton, thoáng mát, nhiều size.", 149_000, color.RGBA{0xee, 0x4d, 0x2d, 0xff}},
	{"Nón lá Huế", "Nón lá truyền thống làm thủ công.", 89_000, color.RGBA{0xd9, 0xa4, 0x41, 0xff}},
	{"Cà phê rang xay Buôn Ma Thuột 500g", "Robusta rang mộc, xay vừa cho phin.", 185_000, color.RGBA{0x6f, 0x4e, 0x37, 0xff}},
	{"Tai nghe không dây", "Bluetooth 5.3, pin 30 giờ.", 590_000, color.RGBA{0x0b, 0x57, 0xd0, 0xff}},
	{"Bình giữ nhiệt 750ml", "Giữ lạnh 24 giờ, giữ nóng 12 giờ.", 239_000, color.RGBA{0x1a, 0x7f, 0x37, 0xff}},
}

// demoNote marks the demo order left in a state, so that running the seed again finds it
// instead of making another.
func demoNote(state string) string { return "GoShop demo order: " + state }

// demoWorld is what the demo is made of: the accounts signed in, and what they own.
type demoWorld struct {
	buyer, seller, shipper, admin auth.Principal
	shopID, addressID             uuid.UUID
	products                      []uuid.UUID
	orders                        map[string]uuid.UUID
	added                         struct{ accounts, products, orders int }
}

// seedDemo makes the demo marketplace, or completes it, through the services the API calls:
// accounts sign up and in, the seller opens a shop and lists products with pictures stored by
// the media context, and the buyer checks out, pays in the sandbox and cancels, the seller
// confirms, the shipper carries. What exists already (found by the demo's emails, the shop's
// owner, the products' titles and the orders' notes) is kept, so running it twice adds nothing.
// seedDemoCmd has refused production before.
func seedDemo(ctx context.Context, a *App, stdout io.Writer) error {
	d := &demoWorld{orders: map[string]uuid.UUID{}}
	steps := []struct {
		name string
		do   func(context.Context, *App) error
	}{
		{"accounts", d.accounts}, {"shop", d.shop}, {"products", d.catalog}, {"address", d.address}, {"orders", d.makeOrders},
	}
	for _, s := range steps {
		if err := s.do(ctx, a); err != nil {
			return fmt.Errorf("seed -demo: %s: %w", s.name, err)
		}
	}
	d.print(stdout)
	return nil
}

// signIn signs an account in, first making it (name given) when the email has none; the
// principal is read off the access token, as the API's middleware reads it.
func (d *demoWorld) signIn(ctx context.Context, a *App, email, name string) (auth.Principal, error) {
	s, err := a.Users.Login(ctx, user.LoginInput{Email: email, Password: DemoPassword}, user.Client{UserAgent: "goshop seed -demo"})
	if apperr.Is(err, apperr.InvalidCredentials) {
		s, err = a.Users.Register(ctx, user.RegisterInput{Email: email, Password: DemoPassword, FullName: name},
			user.Client{UserAgent: "goshop seed -demo"})
		if apperr.Is(err, apperr.Conflict) {
			return auth.Principal{}, fmt.Errorf("%s exists with another password: it is not the demo's account, so it is left alone", email)
		}
		if err == nil {
			d.added.accounts++
		}
	}
	if err != nil {
		return auth.Principal{}, err
	}
	return a.authn.Authenticate(ctx, s.AccessToken)
}

func (d *demoWorld) accounts(ctx context.Context, a *App) error {
	var err error
	if d.buyer, err = d.signIn(ctx, a, DemoBuyer, "Nguyễn Văn Mua"); err != nil {
		return err
	}
	if d.seller, err = d.signIn(ctx, a, DemoSeller, "Trần Thị Bán"); err != nil {
		return err
	}
	if d.shipper, err = d.signIn(ctx, a, DemoShipper, "Lê Văn Giao"); err != nil {
		return err
	}
	if !d.shipper.Has(auth.RoleShipper) {
		lat, lng := demoShopPoint[0], demoShopPoint[1]
		reg, err := a.Shipping.Register(ctx, d.shipper, shipping.RegisterInput{ShipperProfile: shipping.ShipperProfile{
			VehicleType: "motorbike", VehiclePlate: "59X1-20260", IDNumber: "079200000001", ServiceArea: "Hồ Chí Minh"},
			Lat: &lat, Lng: &lng})
		if err != nil {
			return err
		}
		if d.shipper, err = a.authn.Authenticate(ctx, reg.AccessToken); err != nil {
			return err
		}
	}
	// The admin signs up like the others, then is promoted as `goshop admin create` promotes
	// (only once the password has proved the account is the demo's), and signs in again.
	if d.admin, err = d.signIn(ctx, a, DemoAdmin, "Quản Trị Demo"); err != nil || d.admin.IsAdmin() {
		return err
	}
	if _, err := a.Users.CreateAdmin(ctx, DemoAdmin, DemoPassword, "Quản Trị Demo"); err != nil {
		return err
	}
	d.admin, err = d.signIn(ctx, a, DemoAdmin, "Quản Trị Demo")
	return err
}

func (d *demoWorld) shop(ctx context.Context, a *App) error {
	owner := d.seller.UserID
	l, err := a.Shops.List(ctx, &owner, httpx.Page{Limit: 1})
	if err != nil {
		return err
	}
	if len(l.Items) > 0 {
		d.shopID = l.Items[0].ID
		return nil
	}
	lat, lng := demoShopPoint[0], demoShopPoint[1]
	s, err := a.Shops.Create(ctx, d.seller, shop.ShopInput{Name: "GoShop Demo", Description: "Cửa hàng mẫu của GoShop / GoShop's demo shop",
		Address: shop.Address{Line1: "1 Lê Duẩn", Ward: "Bến Nghé", District: "Quận 1", Province: "Hồ Chí Minh", Country: "VN"},
		Lat:     &lat, Lng: &lng})
	if err != nil {
		return err
	}
	d.shopID = s.ID
	return nil
}

// catalog lists the demo products that are missing, each with a picture uploaded through the
// media context (checked, re-encoded and stored like any upload), and gives a picture to a
// product left without one.
func (d *demoWorld) catalog(ctx context.Context, a *App) error {
	l, err := a.Catalog.ShopProducts(ctx, &d.seller, d.shopID, "", httpx.Page{Limit: httpx.MaxLimit})
	if err != nil {
		return err
	}
	have := map[string]catalog.Product{}
	for _, p := range l.Items {
		have[p.Title] = p
	}
	for i, dp := range demoProducts {
		p, ok := have[dp.title]
		if !ok {
			p, err = a.Catalog.Create(ctx, d.seller, d.shopID, catalog.CreateInput{
				Fields: catalog.Fields{Title: dp.title, Description: dp.description, Brand: "GoShop Demo", WeightGrams: 300 + 100*i},
				Price:  dp.price, Stock: 200, SKU: fmt.Sprintf("DEMO-%03d", i+1)})
			if err != nil {
				return err
			}
			d.added.products++
		}
		if len(p.Media) == 0 {
			img, err := demoPicture(dp.colour, i)
			if err != nil {
				return err
			}
			if _, err := a.Media.Add(ctx, d.seller, media.Owner{Kind: events.MediaOwnerProduct, ID: p.ID},
				fmt.Sprintf("demo-%d.png", i+1), media.Details{Alt: dp.title, Primary: true}, bytes.NewReader(img)); err != nil {
				return err
			}
		}
		d.products = append(d.products, p.ID)
	}
	return nil
}

// demoPicture draws a product's picture: a soft background of its colour with a disc and a
// band, different for each product.
func demoPicture(c color.RGBA, n int) ([]byte, error) {
	const size = 480
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	cx, cy, r := float64(size)/2, float64(size)/2-20, float64(120+10*n)
	for y := range size {
		for x := range size {
			shade := 0.82 + 0.18*float64(y)/size // lighter at the top
			px := color.RGBA{uint8(255 - (255-float64(c.R))*0.25*shade), uint8(255 - (255-float64(c.G))*0.25*shade),
				uint8(255 - (255-float64(c.B))*0.25*shade), 0xff}
			if math.Hypot(float64(x)-cx, float64(y)-cy) < r {
				px = c
			}
			if y > size-90 && y < size-60 {
				px = color.RGBA{c.R / 2, c.G / 2, c.B / 2, 0xff}
			}
			img.SetRGBA(x, y, px)
		}
	}
	var buf bytes.Buffer
	err := png.Encode(&buf, img)
	return buf.Bytes(), err
}

func (d *demoWorld) address(ctx context.Context, a *App) error {
	l, err := a.Users.Addresses(ctx, d.buyer.UserID, httpx.Page{Limit: 1})
	if err != nil {
		return err
	}
	if len(l.Items) > 0 {
		d.addressID = l.Items[0].ID
		return nil
	}
	lat, lng := demoHome[0], demoHome[1]
	addr, err := a.Users.CreateAddress(ctx, d.buyer.UserID, user.AddressInput{RecipientName: "Nguyễn Văn Mua", Phone: "0901234567",
		Line1: "227 Nguyễn Văn Cừ", Ward: "Phường 4", District: "Quận 5", Province: "Hồ Chí Minh", Country: "VN",
		Lat: &lat, Lng: &lng, IsDefault: true})
	if err != nil {
		return err
	}
	d.addressID = addr.ID
	return nil
}

// makeOrders finds the demo orders by their notes and makes those that are missing.
func (d *demoWorld) makeOrders(ctx context.Context, a *App) error {
	page := httpx.Page{Limit: httpx.MaxLimit}
	for {
		l, err := a.Orders.BuyerOrders(ctx, d.buyer.UserID, order.ListFilter{}, page)
		if err != nil {
			return err
		}
		for _, o := range l.Items {
			for _, st := range DemoOrderStates {
				if o.Note == demoNote(st) {
					d.orders[st] = o.ID
				}
			}
		}
		if l.NextCursor == "" {
			break
		}
		page.Cursor = l.NextCursor
	}
	for i, st := range DemoOrderStates {
		if _, ok := d.orders[st]; ok {
			continue
		}
		id, err := d.order(ctx, a, st, d.products[i%len(d.products)])
		if err != nil {
			return fmt.Errorf("the %s order: %w", st, err)
		}
		d.orders[st] = id
		d.added.orders++
	}
	return nil
}

// order makes one demo order and takes it to state: checked out from a cart holding only its
// product, paid in the sandbox when prepaid, then moved by the seller, the buyer or the
// shipper as each would through the API.
func (d *demoWorld) order(ctx context.Context, a *App, state string, product uuid.UUID) (uuid.UUID, error) {
	prepaid := state == "paid" || state == "shipped"
	in := order.CheckoutInput{AddressID: d.addressID, PaymentMethod: events.MethodCOD, Note: demoNote(state)}
	if prepaid {
		in.PaymentMethod, in.Provider = events.MethodCard, events.ProviderSandbox
	}
	if err := a.Cart.Clear(ctx, d.buyer.UserID); err != nil {
		return uuid.Nil, err
	}
	if _, err := a.Cart.Add(ctx, d.buyer.UserID, cart.AddInput{ProductID: product, Quantity: 1}); err != nil {
		return uuid.Nil, err
	}
	_, res, err := a.Orders.Checkout(ctx, d.buyer.UserID, "", in)
	if err != nil {
		return uuid.Nil, err
	}
	result, ok := res.(order.CheckoutResult)
	if !ok || len(result.Orders) != 1 {
		return uuid.Nil, fmt.Errorf("checkout answered %T, not one order", res)
	}
	id := result.Orders[0].ID
	if prepaid {
		if err := d.pay(ctx, a, id); err != nil {
			return id, err
		}
	}
	seller, buyer := order.Actor{Principal: &d.seller}, order.Actor{Principal: &d.buyer}
	switch state {
	case "cancelled":
		_, err = a.Orders.Move(ctx, buyer, id, events.OrderCancelled, "Đặt nhầm màu / ordered the wrong colour")
	case "confirmed":
		_, err = a.Orders.Move(ctx, seller, id, events.OrderConfirmed, "")
	case "shipped", "delivered":
		if _, err = a.Orders.Move(ctx, seller, id, events.OrderConfirmed, ""); err == nil {
			err = d.carry(ctx, a, id, state == "delivered")
		}
	}
	return id, err
}

// pay pays an order in the sandbox: the payment is started as the buyer and completed the way
// the sandbox's pay page completes it, through its signed webhook.
func (d *demoWorld) pay(ctx context.Context, a *App, id uuid.UUID) error {
	_, p, err := a.Payments.Create(ctx, d.buyer, "", "127.0.0.1", payment.CreateInput{OrderID: &id})
	if err != nil {
		return err
	}
	if p.ClientSecret == nil {
		return errors.New("the sandbox payment has no client secret")
	}
	_, err = a.Payments.CompleteSandbox(ctx, payment.SandboxInput{ClientSecret: *p.ClientSecret, Outcome: "captured"})
	return err
}

// carry gives a confirmed order to the demo shipper, who picks it up and takes it halfway to
// the buyer (reporting where), or all the way when deliver.
func (d *demoWorld) carry(ctx context.Context, a *App, id uuid.UUID, deliver bool) error {
	lat, lng := demoShopPoint[0], demoShopPoint[1]
	_, err := a.Shipping.SetStatus(ctx, d.shipper, d.shipper.UserID, shipping.StatusInput{Status: shipping.ShipperAvailable, Lat: &lat, Lng: &lng})
	if err != nil {
		return err
	}
	shipperID := d.shipper.UserID
	if _, err := a.Shipping.Assign(ctx, d.seller, id, shipping.AssignInput{ShipperID: &shipperID}); err != nil {
		// The automatic assignment (run by the workers of a server on this database) may have
		// given it to the demo shipper first: the only shipper free near the shop.
		sh, terr := a.Shipping.Tracking(ctx, d.seller, id)
		if terr != nil || sh.ShipperID == nil || *sh.ShipperID != shipperID {
			return err
		}
	}
	steps := []events.ShipmentStatus{events.ShipmentPickedUp, events.ShipmentInTransit}
	if deliver {
		steps = append(steps, events.ShipmentDelivered)
	}
	for _, st := range steps {
		if _, err := a.Shipping.UpdateStatus(ctx, d.shipper, id, shipping.UpdateInput{Status: st}); err != nil {
			return err
		}
	}
	if deliver {
		return nil
	}
	midLat, midLng := (demoShopPoint[0]+demoHome[0])/2, (demoShopPoint[1]+demoHome[1])/2
	_, err = a.Shipping.RecordLocation(ctx, d.shipper, id, shipping.LocationInput{Lat: &midLat, Lng: &midLng})
	return err
}

func (d *demoWorld) print(w io.Writer) {
	fmt.Fprintf(w, "demo: %d accounts, %d products and %d orders added\n", d.added.accounts, d.added.products, d.added.orders)
	fmt.Fprintf(w, "\nSign in with these accounts (password for all: %s):\n", DemoPassword)
	for _, acc := range []struct{ role, email string }{
		{"buyer", DemoBuyer}, {"seller", DemoSeller + "   (shop " + d.shopID.String() + ")"},
		{"shipper", DemoShipper}, {"admin", DemoAdmin},
	} {
		fmt.Fprintf(w, "  %-8s %s\n", acc.role, acc.email)
	}
	fmt.Fprintln(w, "\nThe buyer's orders (follow one at /track/<id>):")
	for _, st := range DemoOrderStates {
		fmt.Fprintf(w, "  %-10s /track/%s\n", st, d.orders[st])
	}
	fmt.Fprintln(w, "\nThen open / , /seller (as the seller) and /track/<id> (as the buyer) on the server.")
}
