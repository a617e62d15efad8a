package app

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/goshop/goshop/internal/cart"
	"github.com/goshop/goshop/internal/catalog"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/media"
	"github.com/goshop/goshop/internal/notify"
	"github.com/goshop/goshop/internal/order"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/review"
	"github.com/goshop/goshop/internal/search"
	"github.com/goshop/goshop/internal/shipping"
	"github.com/goshop/goshop/internal/shipping/geo"
	"github.com/goshop/goshop/internal/shop"
	"github.com/goshop/goshop/internal/user"
)

// The adapters below translate between one context's types and the small interfaces another
// declares, so that no context imports another. Each is a thin forwarding layer.

// shopPromotions serves the cart and the orders from the shop context.
type shopPromotions struct{ s *shop.Service }

func (a shopPromotions) CampaignOffer(ctx context.Context, tx pgx.Tx, variantID uuid.UUID) (cart.Offer, bool, error) {
	o, ok, err := a.s.CampaignOffer(ctx, tx, variantID)
	return cart.Offer{CampaignID: o.CampaignID, Price: o.Price, Remaining: o.Remaining}, ok, err
}

func (a shopPromotions) QuoteVoucher(ctx context.Context, tx pgx.Tx, shopID, buyer uuid.UUID, code string, lines []cart.VoucherLine) (cart.VoucherQuote, error) {
	vl := make([]shop.VoucherLine, len(lines))
	for i, l := range lines {
		vl[i] = shop.VoucherLine{ProductID: l.ProductID, Amount: l.Amount}
	}
	q, err := a.s.QuoteVoucher(ctx, tx, shopID, buyer, code, vl)
	return cart.VoucherQuote{PromotionID: q.PromotionID, Code: q.Code, Discount: q.Discount}, err
}

func (a shopPromotions) QueueCampaignOffers(ctx context.Context, b *pgdb.Batch, variantIDs []uuid.UUID,
	done func(map[uuid.UUID]cart.Offer, error) error) {
	a.s.QueueCampaignOffers(ctx, b, variantIDs, func(offers map[uuid.UUID]shop.CampaignOffer, err error) error {
		return done(mapValues(offers, func(o shop.CampaignOffer) cart.Offer {
			return cart.Offer{CampaignID: o.CampaignID, Price: o.Price, Remaining: o.Remaining}
		}), err)
	})
}

func (a shopPromotions) QueueVoucher(ctx context.Context, b *pgdb.Batch, shopID, buyer uuid.UUID, code string) cart.VoucherCheck {
	return voucherCheck{a.s.QueueVoucher(ctx, b, shopID, buyer, code)}
}

// voucherCheck quotes the cart's lines with the shop context's batched voucher reads.
type voucherCheck struct{ c *shop.VoucherCheck }

func (v voucherCheck) Quote(lines []cart.VoucherLine) (cart.VoucherQuote, error) {
	vl := make([]shop.VoucherLine, len(lines))
	for i, l := range lines {
		vl[i] = shop.VoucherLine{ProductID: l.ProductID, Amount: l.Amount}
	}
	q, err := v.c.Quote(vl)
	return cart.VoucherQuote{PromotionID: q.PromotionID, Code: q.Code, Discount: q.Discount}, err
}

func (a shopPromotions) QueueRedeemVoucher(ctx context.Context, b *pgdb.Batch, promotionID, buyer, orderID uuid.UUID,
	lines []order.VoucherLine, discount int64) {
	vl := make([]shop.VoucherLine, len(lines))
	for i, l := range lines {
		vl[i] = shop.VoucherLine{ProductID: l.ProductID, Amount: l.Amount}
	}
	a.s.QueueRedeemVoucher(ctx, b, promotionID, buyer, orderID, vl, discount)
}

func (a shopPromotions) ReleaseVoucherTx(ctx context.Context, tx pgx.Tx, promotionID, orderID uuid.UUID) error {
	return a.s.ReleaseVoucherTx(ctx, tx, promotionID, orderID)
}

func (a shopPromotions) QueueSellCampaignStock(ctx context.Context, b *pgdb.Batch, campaignID, variantID uuid.UUID, qty int32) {
	a.s.QueueSellCampaignStock(ctx, b, campaignID, variantID, qty)
}

func (a shopPromotions) ReturnCampaignStockTx(ctx context.Context, tx pgx.Tx, campaignID, variantID uuid.UUID, qty int32) error {
	return a.s.ReturnCampaignStockTx(ctx, tx, campaignID, variantID, qty)
}

func (a shopPromotions) ShopOwner(ctx context.Context, shopID uuid.UUID) (uuid.UUID, error) {
	info, err := a.s.Info(ctx, shopID)
	return info.OwnerID, err
}

func (a shopPromotions) QueueShopOwners(ctx context.Context, b *pgdb.Batch, shopIDs []uuid.UUID,
	done func(map[uuid.UUID]uuid.UUID, error) error) {
	a.s.QueueInfos(ctx, b, shopIDs, func(infos map[uuid.UUID]shop.Info, err error) error {
		return done(mapValues(infos, func(i shop.Info) uuid.UUID { return i.OwnerID }), err)
	})
}

// addressBook serves the orders' delivery addresses from the identity context.
type addressBook struct{ u *user.Service }

func (a addressBook) Address(ctx context.Context, userID, addressID uuid.UUID) (order.Address, error) {
	ad, err := a.u.Address(ctx, userID, addressID)
	return orderAddress(ad), err
}

func (a addressBook) QueueAddress(ctx context.Context, b *pgdb.Batch, userID, addressID uuid.UUID, done func(order.Address, error) error) {
	a.u.QueueAddress(ctx, b, userID, addressID, func(ad user.Address, err error) error { return done(orderAddress(ad), err) })
}

func orderAddress(ad user.Address) order.Address {
	return order.Address{RecipientName: ad.RecipientName, Phone: ad.Phone, Line1: ad.Line1, Ward: ad.Ward, District: ad.District,
		Province: ad.Province, Country: ad.Country, Lat: ad.Lat, Lng: ad.Lng}
}

// cartCheckout serves the orders from the cart context.
type cartCheckout struct{ c *cart.Service }

func (a cartCheckout) Price(ctx context.Context, buyer uuid.UUID, r order.PriceRequest) (order.PricedCart, error) {
	q, err := a.c.Quote(ctx, buyer, cart.QuoteOptions{ShippingMethod: r.ShippingMethod, AddressID: r.AddressID, ExtraCoupon: r.Coupon})
	return priced(q), err
}

func (a cartCheckout) QueuePrice(ctx context.Context, b *pgdb.Batch, buyer uuid.UUID, r order.PriceRequest) order.PricingStep {
	o := cart.QuoteOptions{ShippingMethod: r.ShippingMethod, AddressID: r.AddressID, ExtraCoupon: r.Coupon}
	if d := r.Destination; d != nil {
		// Read when the first batch is sent: the address is queued on it with the cart.
		o.Destination = &cart.Destination{}
		dest := o.Destination
		return pricingStep{q: a.c.QueueCheckoutQuote(ctx, b, buyer, o), fill: func() {
			*dest = cart.Destination{Line1: d.Line1, Ward: d.Ward, District: d.District, Province: d.Province, Country: d.Country,
				Lat: d.Lat, Lng: d.Lng}
		}}
	}
	return pricingStep{q: a.c.QueueCheckoutQuote(ctx, b, buyer, o), fill: func() {}}
}

func (a cartCheckout) QueueClear(ctx context.Context, b *pgdb.Batch, buyer uuid.UUID) {
	a.c.QueueClear(ctx, b, buyer)
}

// pricingStep is the cart's batched checkout quote as the orders see it.
type pricingStep struct {
	q    *cart.CheckoutQuote
	fill func()
}

func (p pricingStep) QueueReads(ctx context.Context, b *pgdb.Batch) {
	p.fill()
	p.q.QueueReads(ctx, b)
}

func (p pricingStep) Priced(ctx context.Context) (order.PricedCart, error) {
	q, err := p.q.Quote(ctx)
	return priced(q), err
}

func (a cartCheckout) PlanRefill(ctx context.Context, buyer uuid.UUID, lines []order.RefillLine) ([]order.RepeatLine, error) {
	fs, err := a.c.PlanRefill(ctx, buyer, savedItems(lines))
	return repeatLines(fs), err
}

func (a cartCheckout) Refill(ctx context.Context, buyer uuid.UUID, lines []order.RefillLine) ([]order.RepeatLine, error) {
	fs, err := a.c.Refill(ctx, buyer, savedItems(lines))
	return repeatLines(fs), err
}

func savedItems(lines []order.RefillLine) []cart.SavedItem {
	items := make([]cart.SavedItem, len(lines))
	for i, l := range lines {
		items[i] = cart.SavedItem{ProductID: l.ProductID, VariantID: l.VariantID, ShopID: l.ShopID, Quantity: l.Quantity}
	}
	return items
}

func repeatLines(fs []cart.Refill) []order.RepeatLine {
	out := make([]order.RepeatLine, len(fs))
	for i, f := range fs {
		out[i] = order.RepeatLine{ProductID: f.ProductID, VariantID: f.VariantID, Title: f.Title, VariantName: f.VariantName,
			Quantity: f.Quantity, InCart: f.InCart, AddQuantity: f.AddQuantity, UnitPrice: f.UnitPrice, CampaignID: f.CampaignID,
			Currency: f.Currency, Stock: f.Stock, Availability: f.Availability, CanAdd: f.Addable, Reason: f.Reason}
	}
	return out
}

func priced(q cart.Quote) order.PricedCart {
	out := order.PricedCart{Subtotal: q.Subtotal, Discount: q.Discount, ShippingFee: q.ShippingFee, Tax: q.Tax, Total: q.Total,
		TaxInclusive: q.TaxInclusive, TaxRateBPS: q.TaxRateBPS, Currency: q.Currency, Purchasable: q.Purchasable}
	for _, g := range q.Shops {
		ps := order.PricedShop{ShopID: g.ShopID, Subtotal: g.Subtotal, Discount: g.Discount, ShippingFee: g.ShippingFee,
			Tax: g.Tax, Total: g.Total, WeightGrams: g.WeightGrams, VoucherError: g.CouponError,
			VoucherErrorCode: g.CouponErrorCode}
		if g.Coupon != nil {
			ps.VoucherCode, ps.VoucherID = g.Coupon.Code, g.Coupon.PromotionID
		}
		for _, l := range g.Lines {
			ps.Lines = append(ps.Lines, order.PricedLine{ProductID: l.ProductID, VariantID: l.VariantID, ShopID: l.ShopID,
				Title: l.Title, VariantName: l.VariantName, SKU: l.SKU, UnitPrice: l.UnitPrice, RegularPrice: l.RegularPrice,
				CampaignID: l.CampaignID, Quantity: l.Quantity, LineTotal: l.LineTotal, WeightGrams: l.WeightGrams,
				Available: l.Available, Problem: l.Problem})
		}
		out.Shops = append(out.Shops, ps)
	}
	return out
}

// shopDirectory answers the catalog's questions about shops from the shop context.
type shopDirectory struct{ shops *shop.Service }

// ShopOwner returns a live shop's owner and whether it is active; a missing or deleted shop is
// not found.
func (d shopDirectory) ShopOwner(ctx context.Context, shopID uuid.UUID) (uuid.UUID, bool, error) {
	info, err := d.shops.Info(ctx, shopID)
	if err != nil {
		return uuid.Nil, false, err
	}
	return info.OwnerID, info.Active(), nil
}

// lazyCatalog hands the shop context, which is built before the catalog, the catalog it will
// call once both exist.
type lazyCatalog struct{ a *App }

// ProductShop returns the shop a live product belongs to.
func (c lazyCatalog) ProductShop(ctx context.Context, productID uuid.UUID) (uuid.UUID, error) {
	return c.a.Catalog.ProductShop(ctx, productID)
}

// VariantOf returns a live variant's product, shop and list price, for campaigns.
func (c lazyCatalog) VariantOf(ctx context.Context, variantID uuid.UUID) (shop.VariantRef, error) {
	v, err := c.a.Catalog.VariantSnapshot(ctx, variantID)
	return shop.VariantRef{ProductID: v.ProductID, ShopID: v.ShopID, Price: v.ListPrice}, err
}

// catalogForCart serves the cart's variant questions from the catalog.
type catalogForCart struct{ c *catalog.Service }

func (a catalogForCart) Variant(ctx context.Context, tx pgx.Tx, variantID uuid.UUID) (cart.Variant, error) {
	v, err := a.c.VariantSnapshotTx(ctx, tx, variantID)
	return cartVariant(v), err
}

func cartVariant(v catalog.VariantSnapshot) cart.Variant {
	return cart.Variant{VariantID: v.VariantID, ProductID: v.ProductID, ShopID: v.ShopID, Title: v.Title, VariantName: v.VariantName,
		SKU: v.SKU, UnitPrice: v.UnitPrice, RegularPrice: v.ListPrice, Currency: v.Currency, Stock: int32(v.Stock),
		WeightGrams: int64(v.WeightGrams), Purchasable: v.Purchasable}
}

func (a catalogForCart) QueueVariants(ctx context.Context, b *pgdb.Batch, variantIDs []uuid.UUID,
	done func(map[uuid.UUID]cart.Variant, error) error) {
	a.c.QueueVariantSnapshots(ctx, b, variantIDs, func(vs map[uuid.UUID]catalog.VariantSnapshot, err error) error {
		return done(mapValues(vs, cartVariant), err)
	})
}

func (a catalogForCart) QueueOnlyVariant(ctx context.Context, b *pgdb.Batch, productID uuid.UUID, done func(cart.Variant, error) error) {
	a.c.QueueOnlyVariant(ctx, b, productID, func(v catalog.VariantSnapshot, err error) error { return done(cartVariant(v), err) })
}

// catalogStock serves the orders' stock reservations from the catalog.
type catalogStock struct{ c *catalog.Service }

func (a catalogStock) QueueReserveStock(ctx context.Context, b *pgdb.Batch, lines []order.StockLine) (order.StockReservation, error) {
	r, err := a.c.QueueReserveStock(ctx, b, stockLines(lines, "checkout"))
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (a catalogStock) ReleaseStockTx(ctx context.Context, tx pgx.Tx, lines []order.StockLine) error {
	return a.c.ReleaseStock(ctx, tx, stockLines(lines, "order cancelled"))
}

func stockLines(lines []order.StockLine, ref string) []catalog.StockLine {
	out := make([]catalog.StockLine, len(lines))
	for i, l := range lines {
		out[i] = catalog.StockLine{VariantID: l.VariantID, Quantity: int(l.Quantity), Ref: ref}
	}
	return out
}

// shippingIdentity serves the shipping context from the identity context: shipper registration
// and the address book.
type shippingIdentity struct{ u *user.Service }

func (a shippingIdentity) RegisterShipper(ctx context.Context, p auth.Principal, in shipping.ShipperProfile) (shipping.Registered, error) {
	reg, err := a.u.RegisterShipper(ctx, p, user.ShipperInput{VehicleType: in.VehicleType, VehiclePlate: in.VehiclePlate,
		IDNumber: in.IDNumber, ServiceArea: in.ServiceArea})
	if err != nil {
		return shipping.Registered{}, err
	}
	u := reg.User
	return shipping.Registered{AccessToken: reg.AccessToken, ExpiresIn: reg.ExpiresIn, User: shipping.Account{ID: u.ID,
		Email: u.Email, FullName: u.FullName, Phone: u.Phone, Roles: u.Roles, CreatedAt: u.CreatedAt}}, nil
}

func (a shippingIdentity) Address(ctx context.Context, tx pgx.Tx, userID, addressID uuid.UUID) (shipping.Address, error) {
	ad, err := a.u.AddressTx(ctx, tx, userID, addressID)
	return shipping.Address{Address: geo.Address{Line1: ad.Line1, Ward: ad.Ward, District: ad.District, Province: ad.Province,
		Country: ad.Country}, Lat: ad.Lat, Lng: ad.Lng}, err
}

// shippingShops serves the shipping context from the shop context.
type shippingShops struct{ s *shop.Service }

func (a shippingShops) Shop(ctx context.Context, tx pgx.Tx, shopID uuid.UUID) (shipping.Shop, error) {
	i, err := a.s.InfoTx(ctx, tx, shopID)
	return shippingShop(i), err
}

func (a shippingShops) QueueShops(ctx context.Context, b *pgdb.Batch, shopIDs []uuid.UUID,
	done func(map[uuid.UUID]shipping.Shop, error) error) {
	a.s.QueueInfos(ctx, b, shopIDs, func(infos map[uuid.UUID]shop.Info, err error) error {
		return done(mapValues(infos, shippingShop), err)
	})
}

func shippingShop(i shop.Info) shipping.Shop {
	return shipping.Shop{ID: i.ID, OwnerID: i.OwnerID, Name: i.Name, Province: i.Province, Lat: i.Lat, Lng: i.Lng}
}

func (a shippingShops) OwnsShop(ctx context.Context, userID uuid.UUID) (bool, error) {
	l, err := a.s.List(ctx, &userID, httpx.Page{Limit: 1})
	return len(l.Items) > 0, err
}

// shippingOrders serves the shipping context from the order context.
type shippingOrders struct{ o *order.Service }

func (a shippingOrders) Delivery(ctx context.Context, orderID uuid.UUID) (shipping.Order, error) {
	d, err := a.o.Delivery(ctx, orderID)
	ad := d.Address
	return shipping.Order{ID: d.OrderID, BuyerID: d.BuyerID, ShopID: d.ShopID, Status: d.Status, PaymentMethod: d.PaymentMethod,
		Total: d.Total, Currency: d.Currency, WeightGrams: d.WeightGrams, ShippingMethod: d.ShippingMethod,
		Address: shipping.Recipient{Name: ad.RecipientName, Phone: ad.Phone, Line1: ad.Line1, Ward: ad.Ward, District: ad.District,
			Province: ad.Province}, Lat: ad.Lat, Lng: ad.Lng, ReadyToShip: d.ReadyToShip}, err
}

func (a shippingOrders) AttachCarrierTx(ctx context.Context, tx pgx.Tx, orderID uuid.UUID, carrier, trackingNumber string) error {
	return a.o.AttachCarrierTx(ctx, tx, orderID, carrier, trackingNumber)
}

func (a shippingOrders) ShipperMoveTx(ctx context.Context, tx pgx.Tx, shipper *auth.Principal, orderID uuid.UUID, to events.OrderStatus, reason string) error {
	return a.o.ShipperMoveTx(ctx, tx, shipper, orderID, to, reason)
}

// cartShipping prices the cart's shipping with the shipping context's one fee computation.
type cartShipping struct{ s *shipping.Service }

func (a cartShipping) Fee(ctx context.Context, tx pgx.Tx, r cart.ShippingRequest) (int64, error) {
	return a.s.Fee(ctx, tx, shipping.FeeRequest{ShopID: r.ShopID, WeightGrams: r.WeightGrams, Method: r.Method,
		AddressID: r.AddressID, BuyerID: r.BuyerID})
}

// reviewPurchases serves the review context a buyer's delivered items from the order context,
// each with the shipper who carried its order (the shipping context).
type reviewPurchases struct {
	o *order.Service
	s *shipping.Service
}

func (a reviewPurchases) DeliveredItems(ctx context.Context, buyer uuid.UUID, orderID, productID *uuid.UUID) ([]review.DeliveredItem, error) {
	items, err := a.o.DeliveredItems(ctx, buyer, orderID, productID)
	if err != nil {
		return nil, err
	}
	shippers := map[uuid.UUID]*uuid.UUID{}
	out := make([]review.DeliveredItem, len(items))
	for i, it := range items {
		shipper, seen := shippers[it.OrderID]
		if !seen {
			if shipper, err = a.s.ShipperOf(ctx, it.OrderID); err != nil {
				return nil, err
			}
			shippers[it.OrderID] = shipper
		}
		out[i] = review.DeliveredItem{OrderID: it.OrderID, ItemID: it.ItemID, ProductID: it.ProductID, VariantID: it.VariantID,
			ShopID: it.ShopID, VariantName: it.VariantName, DeliveredAt: it.DeliveredAt, ShipperID: shipper}
	}
	return out, nil
}

// productMedia serves the catalog the products' images and videos from the media context, a
// page of products in one query, or one product's queued on the catalog's batch.
type productMedia struct{ m *media.Service }

func (a productMedia) ProductMedia(ctx context.Context, ids []uuid.UUID, public bool) (map[uuid.UUID][]catalog.Media, error) {
	list := a.m.ListMany
	if public {
		list = a.m.ListManyPublic
	}
	return mediaOf(ctx, list, events.MediaOwnerProduct, ids, catalogMedia)
}

func (a productMedia) QueueProductMedia(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID,
	done func(map[uuid.UUID][]catalog.Media, error) error) {
	a.m.QueueListMany(ctx, b, events.MediaOwnerProduct, ids, func(byOwner map[uuid.UUID][]media.Item, err error) error {
		return done(convertMedia(byOwner, catalogMedia), err)
	})
}

func catalogMedia(it media.Item) catalog.Media {
	return catalog.Media{ID: it.ID, Kind: string(it.Kind), URL: it.URL,
		Thumbnails: thumbnailsOf(it, func(t media.Thumbnail) catalog.MediaThumbnail { return catalog.MediaThumbnail(t) }),
		PosterURL:  it.PosterURL, Width: it.Width, Height: it.Height, DurationMS: it.DurationMS, Alt: it.Alt,
		Position: it.Position, IsPrimary: it.IsPrimary, CreatedAt: it.CreatedAt}
}

// reviewMedia serves the review context the reviews' photos and videos from the media context,
// a page of reviews in one query.
type reviewMedia struct{ m *media.Service }

func (a reviewMedia) ReviewMedia(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]review.Media, error) {
	return mediaOf(ctx, a.m.ListMany, events.MediaOwnerReview, ids, func(it media.Item) review.Media {
		return review.Media{ID: it.ID, Kind: string(it.Kind), URL: it.URL,
			Thumbnails: thumbnailsOf(it, func(t media.Thumbnail) review.MediaThumbnail { return review.MediaThumbnail(t) }),
			PosterURL:  it.PosterURL, Width: it.Width, Height: it.Height, DurationMS: it.DurationMS, Alt: it.Alt,
			Position: it.Position, CreatedAt: it.CreatedAt}
	})
}

// mediaOf lists the media of owners of one kind in one query, each item in the consumer's type.
func mediaOf[T any](ctx context.Context, list func(context.Context, events.MediaOwnerKind, []uuid.UUID) (map[uuid.UUID][]media.Item, error),
	kind events.MediaOwnerKind, ids []uuid.UUID, conv func(media.Item) T) (map[uuid.UUID][]T, error) {
	byOwner, err := list(ctx, kind, ids)
	if err != nil {
		return nil, err
	}
	return convertMedia(byOwner, conv), nil
}

// convertMedia is media by owner, each item in the consumer's type.
func convertMedia[T any](byOwner map[uuid.UUID][]media.Item, conv func(media.Item) T) map[uuid.UUID][]T {
	out := make(map[uuid.UUID][]T, len(byOwner))
	for id, items := range byOwner {
		ms := make([]T, len(items))
		for i, it := range items {
			ms[i] = conv(it)
		}
		out[id] = ms
	}
	return out
}

func thumbnailsOf[T any](it media.Item, conv func(media.Thumbnail) T) []T {
	out := make([]T, len(it.Thumbnails))
	for i, t := range it.Thumbnails {
		out[i] = conv(t)
	}
	return out
}

// searchCatalog serves the search read model's re-reads from the catalog.
type searchCatalog struct{ c *catalog.Service }

func (a searchCatalog) Products(ctx context.Context, ids []uuid.UUID) ([]search.Source, error) {
	ps, err := a.c.IndexedProducts(ctx, ids)
	out := make([]search.Source, len(ps))
	for i, x := range ps {
		p := x.Product
		src := search.Source{ID: p.ID, ShopID: p.ShopID, Title: p.Title, Description: p.Description, Brand: p.Brand, Model: p.Model,
			GTIN: p.GTIN, CategoryID: p.CategoryID, Attributes: p.Attributes, Currency: p.Currency, Rating: p.Rating,
			RatingCount: p.RatingCount, WeightGrams: p.WeightGrams, Listed: x.Listed, CreatedAt: p.CreatedAt}
		for _, c := range x.Path {
			src.Path = append(src.Path, search.Category{ID: c.ID, Name: c.Name})
		}
		for _, v := range p.Variants {
			src.Variants = append(src.Variants, search.SourceVariant{ID: v.ID, Price: v.Price, ListPrice: v.ListPrice, Stock: v.Stock})
		}
		out[i] = src
	}
	return out, err
}

func (a searchCatalog) ListedProductIDs(ctx context.Context, after uuid.UUID, limit int) ([]uuid.UUID, error) {
	return a.c.ListedProductIDs(ctx, after, limit)
}

// searchShops serves the search read model's shop and campaign questions from the shop context.
type searchShops struct{ s *shop.Service }

func (a searchShops) Shop(ctx context.Context, id uuid.UUID) (search.ShopSource, error) {
	// Read on the primary, never the replica: the index is written from what this read says,
	// and a replica a moment behind would drop a new shop's products (a deleted shop is not
	// found; a closed or suspended one is not active: either way its products leave the index).
	sh, err := a.s.Info(ctx, id)
	return search.ShopSource{ID: sh.ID, Name: sh.Name, Province: sh.Province, Lat: sh.Lat, Lng: sh.Lng, Rating: sh.Rating,
		Active: sh.Active()}, err
}

// searchShipping prices shipping to a buyer's default address for price comparison.
type searchShipping struct{ a *App }

func (s searchShipping) FeeToDefault(ctx context.Context, buyer, shopID uuid.UUID, weightGrams int64) (int64, bool, error) {
	l, err := s.a.Users.Addresses(ctx, buyer, httpx.Page{Limit: httpx.MaxLimit})
	if err != nil {
		return 0, false, err
	}
	for _, ad := range l.Items {
		if ad.IsDefault {
			id := ad.ID
			fee, err := s.a.Shipping.Fee(ctx, nil, shipping.FeeRequest{ShopID: shopID, WeightGrams: weightGrams,
				Method: events.ShippingStandard, AddressID: &id, BuyerID: buyer})
			return fee, err == nil, err
		}
	}
	return 0, false, nil
}

func (a searchShops) CampaignPrices(ctx context.Context, variantIDs []uuid.UUID) (map[uuid.UUID]int64, error) {
	return a.s.LiveCampaignPrices(ctx, variantIDs)
}

func (a cartShipping) QueueFees(ctx context.Context, b *pgdb.Batch, rs []cart.ShippingRequest, to *cart.Destination) map[uuid.UUID]cart.FeeCheck {
	var addr *shipping.Address
	if to != nil {
		addr = &shipping.Address{Address: geo.Address{Line1: to.Line1, Ward: to.Ward, District: to.District, Province: to.Province,
			Country: to.Country}, Lat: to.Lat, Lng: to.Lng}
	}
	reqs := make([]shipping.FeeRequest, len(rs))
	for i, r := range rs {
		reqs[i] = shipping.FeeRequest{ShopID: r.ShopID, WeightGrams: r.WeightGrams, Method: r.Method, AddressID: r.AddressID,
			BuyerID: r.BuyerID}
	}
	quotes := a.s.QueueFees(ctx, b, reqs, addr)
	out := make(map[uuid.UUID]cart.FeeCheck, len(quotes))
	for id, q := range quotes {
		out[id] = q
	}
	return out
}

// notifyUsers serves the notification context how to reach a person, from the identity context.
type notifyUsers struct{ u *user.Service }

func (a notifyUsers) Contact(ctx context.Context, userID uuid.UUID) (notify.Contact, error) {
	u, err := a.u.Lookup(ctx, userID)
	if err != nil {
		return notify.Contact{}, err
	}
	c := notify.Contact{Email: u.Email, FullName: u.FullName, Locale: notify.Locale{Locale: u.Locale, TimeZone: u.TimeZone}}
	if u.Phone != nil {
		c.Phone = *u.Phone
	}
	return c, nil
}

func (a notifyUsers) QueueContacts(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID, done func(map[uuid.UUID]notify.Contact, error) error) {
	a.u.QueueContacts(ctx, b, ids, func(cs map[uuid.UUID]user.Contact, err error) error {
		out := make(map[uuid.UUID]notify.Contact, len(cs))
		for id, c := range cs {
			out[id] = notify.Contact{Email: c.Email, FullName: c.FullName, Phone: c.Phone, Locale: notify.Locale(c.Locale)}
		}
		return done(out, err)
	})
}

func (a notifyUsers) QueueLocales(ctx context.Context, b *pgdb.Batch, ids []uuid.UUID, done func(map[uuid.UUID]notify.Locale, error) error) {
	a.u.QueueLocales(ctx, b, ids, func(ls map[uuid.UUID]user.Locale, err error) error {
		out := make(map[uuid.UUID]notify.Locale, len(ls))
		for id, l := range ls {
			out[id] = notify.Locale(l)
		}
		return done(out, err)
	})
}

func (a notifyUsers) SetLocaleTx(ctx context.Context, tx pgx.Tx, userID uuid.UUID, locale, timeZone *string) (notify.Locale, error) {
	l, err := a.u.SetLocaleTx(ctx, tx, userID, locale, timeZone)
	return notify.Locale(l), err
}

// notifyOrders serves the notification context whom an order concerns: its buyer and shop from
// the order context, its shipper from the shipping context.
type notifyOrders struct {
	o *order.Service
	s *shipping.Service
}

func (a notifyOrders) Parties(ctx context.Context, orderID uuid.UUID) (notify.OrderParties, error) {
	d, err := a.o.Delivery(ctx, orderID)
	if err != nil {
		return notify.OrderParties{}, err
	}
	shipper, err := a.s.ShipperOf(ctx, orderID)
	if err != nil {
		return notify.OrderParties{}, err
	}
	return notify.OrderParties{BuyerID: d.BuyerID, ShopID: d.ShopID, ShipperID: shipper}, nil
}

// mapValues is m with each value turned into another context's type by f: the batched ports
// answer maps by ID, and each context keeps its own value types.
func mapValues[K comparable, A, B any](m map[K]A, f func(A) B) map[K]B {
	out := make(map[K]B, len(m))
	for k, v := range m {
		out[k] = f(v)
	}
	return out
}
