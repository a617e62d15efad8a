package notify

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/realtime"
)

// subscribe turns the integration events into messages by the table of defaults (issue 13),
// and relays an order's updates to its live stream. Subscriber names are stable: queued
// deliveries find their handler by them.
func (s *Service) subscribe(bus *eventbus.Bus) {
	// Notifications are made from events whose jobs run again until they complete, and made once
	// (by event and reader): their writes need not wait for the disk.
	bus.CommitAsync("notify.")
	// A checkout's orders, one a shop, are told in one dispatch.
	bus.SubscribeMany("notify.order_placed", func(ctx context.Context, envs []eventbus.Envelope) error {
		placed := make([]events.OrderPlaced, len(envs))
		shops := make([]string, len(envs))
		for i, env := range envs {
			ev, err := eventbus.Decode[events.OrderPlaced](env)
			if err != nil {
				return river.JobCancel(err)
			}
			placed[i], shops[i] = ev, ev.ShopID
		}
		owners, err := s.ownersOf(ctx, shops)
		if err != nil {
			return err
		}
		var msgs []message
		for i, ev := range placed {
			d := orderData(ev.OrderID, ev.Total, ev.Currency)
			msgs = append(msgs, message{user: parse(ev.BuyerID), kind: KindOrderPlaced, data: d, event: envs[i].ID},
				message{user: owners[parse(ev.ShopID)], kind: KindNewOrder, data: d, event: envs[i].ID})
		}
		return s.dispatchMany(ctx, msgs)
	}, events.OrderPlaced{}.Topic())
	eventbus.On(bus, "notify.order_paid", func(ctx context.Context, id string, ev events.OrderPaid) error {
		s.live(ctx, realtime.Outgoing{Topic: orderTopic(parse(ev.OrderID)), Type: MsgOrderPaid,
			Data: map[string]any{"order_id": ev.OrderID, "total": ev.Total, "at": ev.At}})
		d := orderData(ev.OrderID, ev.Total, "")
		owner, err := s.ownerOf(ctx, ev.ShopID)
		if err != nil {
			return err
		}
		return s.dispatch(ctx, id, message{user: parse(ev.BuyerID), kind: KindOrderPaid, data: d},
			message{user: owner, kind: KindShopOrderPaid, data: d})
	})
	eventbus.On(bus, "notify.order_status", s.orderStatus)
	eventbus.On(bus, "notify.payment_failed", func(ctx context.Context, id string, ev events.PaymentFailed) error {
		d := map[string]any{"reason": ev.Reason}
		out := make([]realtime.Outgoing, len(ev.OrderIDs))
		for i, o := range ev.OrderIDs {
			out[i] = realtime.Outgoing{Topic: orderTopic(parse(o)), Type: MsgPaymentFailed,
				Data: map[string]any{"order_id": o, "reason": ev.Reason, "at": ev.At}}
			if _, ok := d["order_id"]; !ok {
				d["order_id"] = o
			}
		}
		s.live(ctx, out...)
		return s.dispatch(ctx, id, message{user: parse(ev.BuyerID), kind: KindPaymentFailed, data: d})
	})
	eventbus.On(bus, "notify.shipment_assigned", func(ctx context.Context, id string, ev events.ShipmentAssigned) error {
		s.live(ctx, realtime.Outgoing{Topic: orderTopic(parse(ev.OrderID)), Type: MsgShipment,
			Data: map[string]any{"order_id": ev.OrderID, "status": events.ShipmentAwaitingPickup, "shipper_id": ev.ShipperID, "at": ev.At}})
		d := map[string]any{"order_id": ev.OrderID, "shipper_id": ev.ShipperID}
		return s.dispatch(ctx, id, message{user: parse(ev.BuyerID), kind: KindShipperAssigned, data: d},
			message{user: parse(ev.ShopOwnerID), kind: KindShopShipperAssigned, data: d},
			message{user: parse(ev.ShipperID), kind: KindDeliveryAssigned, data: d})
	})
	step := func(ctx context.Context, st events.ShipmentStep) {
		s.live(ctx, realtime.Outgoing{Topic: orderTopic(parse(st.OrderID)), Type: MsgShipment, Data: st})
	}
	eventbus.On(bus, "notify.shipment_picked_up", func(ctx context.Context, _ string, ev events.ShipmentPickedUpEvent) error {
		step(ctx, ev.ShipmentStep)
		return nil // the buyer hears of it as the order shipped
	})
	eventbus.On(bus, "notify.shipment_delivered", func(ctx context.Context, _ string, ev events.ShipmentDeliveredEvent) error {
		step(ctx, ev.ShipmentStep)
		return nil // the buyer hears of it as the order delivered
	})
	eventbus.On(bus, "notify.shipment_failed", func(ctx context.Context, id string, ev events.ShipmentFailedEvent) error {
		step(ctx, ev.ShipmentStep)
		d := map[string]any{"order_id": ev.OrderID, "reason": ev.Note, "shipper_id": ev.ShipperID}
		return s.dispatch(ctx, id, message{user: parse(ev.BuyerID), kind: KindDeliveryFailed, data: d})
	})
	// Keyed by the delivery, not the event: two fixes crossing the line at once publish twice,
	// and the buyer hears of it once.
	eventbus.On(bus, "notify.shipper_nearby", func(ctx context.Context, _ string, ev events.ShipperNearby) error {
		d := map[string]any{"order_id": ev.OrderID, "shipper_id": ev.ShipperID, "distance_km": strconv.FormatFloat(ev.DistanceKm, 'f', 1, 64)}
		return s.dispatch(ctx, "shipper.nearby:"+ev.OrderID, message{user: parse(ev.BuyerID), kind: KindShipperNearby, data: d})
	})
	eventbus.On(bus, "notify.price_alert", func(ctx context.Context, id string, ev events.PriceAlertTriggered) error {
		d := map[string]any{"product_id": ev.ProductID, "price": ev.Price, "target_price": ev.TargetPrice, "currency": ev.Currency}
		return s.dispatch(ctx, id, message{user: parse(ev.UserID), kind: KindPriceAlert, data: d})
	})
	eventbus.On(bus, "notify.review_created", func(ctx context.Context, id string, ev events.ReviewCreated) error {
		if ev.Status != "approved" {
			return nil // held for a moderator: the shop hears of it when it is approved
		}
		owner, err := s.ownerOf(ctx, ev.ShopID)
		if err != nil {
			return err
		}
		return s.dispatch(ctx, id, message{user: owner, kind: KindNewReview, data: map[string]any{"review_id": ev.ReviewID, "rating": ev.Rating}})
	})
	eventbus.On(bus, "notify.review_approved", func(ctx context.Context, id string, ev events.ReviewApproved) error {
		owner, err := s.ownerOf(ctx, ev.ShopID)
		if err != nil {
			return err
		}
		d := map[string]any{"review_id": ev.ReviewID}
		return s.dispatch(ctx, id, message{user: parse(ev.AuthorID), kind: KindReviewApproved, data: d},
			message{user: owner, kind: KindNewReview, data: d})
	})
	eventbus.On(bus, "notify.review_rejected", func(ctx context.Context, id string, ev events.ReviewRejected) error {
		return s.dispatch(ctx, id, message{user: parse(ev.AuthorID), kind: KindReviewRejected,
			data: map[string]any{"review_id": ev.ReviewID, "reason": ev.Reason}})
	})
	eventbus.On(bus, "notify.review_replied", func(ctx context.Context, id string, ev events.ReviewReplied) error {
		return s.dispatch(ctx, id, message{user: parse(ev.AuthorID), kind: KindReviewReplied, data: map[string]any{"review_id": ev.ReviewID}})
	})
	eventbus.On(bus, "notify.low_stock", func(ctx context.Context, id string, ev events.LowStock) error {
		owner, err := s.ownerOf(ctx, ev.ShopID)
		if err != nil {
			return err
		}
		return s.dispatch(ctx, id, message{user: owner, kind: KindLowStock, data: map[string]any{"product_id": ev.ProductID,
			"sku": ev.SKU, "stock": ev.Stock, "threshold": ev.Threshold}})
	})
	eventbus.On(bus, "notify.escrow_released", func(ctx context.Context, id string, ev events.EscrowReleased) error {
		owner, err := s.ownerOf(ctx, ev.ShopID)
		if err != nil {
			return err
		}
		d := orderData(ev.OrderID, ev.Amount, ev.Currency)
		d["amount"], d["commission"] = ev.Amount, ev.Commission
		return s.dispatch(ctx, id, message{user: owner, kind: KindEscrowReleased, data: d})
	})
	eventbus.On(bus, "notify.export_ready", func(ctx context.Context, id string, ev events.AnalyticsExportReady) error {
		return s.dispatch(ctx, id, message{user: parse(ev.UserID), kind: KindExportReady, data: map[string]any{
			"export_id": ev.ExportID, "shop_id": ev.ShopID, "report": ev.Report, "format": ev.Format, "url": ev.URL}})
	})
	// The reset code itself is mailed by the identity context (it holds the secret); this is the
	// notice that the password changed, which nobody can turn off.
	eventbus.On(bus, "notify.password_changed", func(ctx context.Context, id string, ev events.PasswordChanged) error {
		kind := KindPasswordChanged
		if ev.Reset {
			kind = KindPasswordReset
		}
		return s.dispatch(ctx, id, message{user: parse(ev.UserID), kind: kind, data: map[string]any{"at": ev.At.UTC().Format(time.RFC3339)}})
	})
}

// orderStatus tells the buyer (and for some moves the shop) of an order's move, and relays it
// to the order's live stream.
func (s *Service) orderStatus(ctx context.Context, id string, ev events.OrderStatusChanged) error {
	s.live(ctx, realtime.Outgoing{Topic: orderTopic(parse(ev.OrderID)), Type: MsgOrderStatus,
		Data: map[string]any{"order_id": ev.OrderID, "from": ev.From, "to": ev.To, "payment_status": ev.PaymentStatus, "at": ev.At}})
	d := orderData(ev.OrderID, ev.Total, "")
	d["status"], d["reason"] = string(ev.To), ev.Reason
	buyer := parse(ev.BuyerID)
	owner := func() (uuid.UUID, error) { return s.ownerOf(ctx, ev.ShopID) }
	both := func(buyerKind, shopKind Kind) error {
		o, err := owner()
		if err != nil {
			return err
		}
		return s.dispatch(ctx, id, message{user: buyer, kind: buyerKind, data: d}, message{user: o, kind: shopKind, data: d})
	}
	switch {
	case ev.To == events.OrderConfirmed:
		return s.dispatch(ctx, id, message{user: buyer, kind: KindOrderConfirmed, data: d})
	case ev.To == events.OrderShipped:
		return s.dispatch(ctx, id, message{user: buyer, kind: KindOrderShipped, data: d})
	case ev.To == events.OrderDelivered && ev.From == events.OrderReturnRequested:
		d["status"] = "rejected"
		return s.dispatch(ctx, id, message{user: buyer, kind: KindReturnDecided, data: d})
	case ev.To == events.OrderDelivered:
		return s.dispatch(ctx, id, message{user: buyer, kind: KindOrderDelivered, data: d})
	case ev.To == events.OrderCancelled:
		return both(KindOrderCancelled, KindShopOrderCancelled)
	case ev.To == events.OrderRefunded:
		return both(KindOrderRefunded, KindShopOrderRefunded)
	case ev.To == events.OrderReturnRequested:
		o, err := owner()
		if err != nil {
			return err
		}
		return s.dispatch(ctx, id, message{user: o, kind: KindReturnRequested, data: d})
	case ev.To == events.OrderReturned:
		d["status"] = "accepted"
		return s.dispatch(ctx, id, message{user: buyer, kind: KindReturnDecided, data: d})
	}
	return nil
}

// ownerOf is the owner of a shop, uuid.Nil when the shop is gone (nobody to tell).
func (s *Service) ownerOf(ctx context.Context, shopID string) (uuid.UUID, error) {
	owners, err := s.ownersOf(ctx, []string{shopID})
	return owners[parse(shopID)], err
}

// ownersOf answers the owners of shops, all read in one statement; a shop that is gone (or an
// ID this system did not make) has none, and the map answers uuid.Nil for it.
func (s *Service) ownersOf(ctx context.Context, shopIDs []string) (map[uuid.UUID]uuid.UUID, error) {
	var ids []uuid.UUID
	for _, sid := range shopIDs {
		if id := parse(sid); id != uuid.Nil && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	var owners map[uuid.UUID]uuid.UUID
	if len(ids) == 0 {
		return owners, nil
	}
	var b pgdb.Batch
	s.ports.Shops.QueueShopOwners(ctx, &b, ids, func(o map[uuid.UUID]uuid.UUID, err error) error {
		owners = o
		return err
	})
	if err := b.Send(ctx, s.pool); err != nil {
		return nil, fmt.Errorf("notify: shop owners: %w", err)
	}
	return owners, nil
}

// parse reads an ID from an event; one this system did not make is uuid.Nil (nobody to tell).
func parse(s string) uuid.UUID {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil
	}
	return id
}

func orderData(orderID string, total int64, currency string) map[string]any {
	if currency == "" {
		currency = "VND"
	}
	return map[string]any{"order_id": orderID, "total": total, "currency": currency}
}
