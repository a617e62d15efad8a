package shipping

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/shipping/geo"
	"github.com/goshop/goshop/internal/shipping/internal/store"
)

// active reports whether a shipment is still under way.
func active(status events.ShipmentStatus) bool {
	return status == events.ShipmentAwaitingPickup || status == events.ShipmentPickedUp || status == events.ShipmentInTransit
}

// next lists where a shipment may go from each status.
var next = map[events.ShipmentStatus][]events.ShipmentStatus{
	events.ShipmentAwaitingPickup: {events.ShipmentPickedUp, events.ShipmentFailed},
	events.ShipmentPickedUp:       {events.ShipmentInTransit, events.ShipmentDelivered, events.ShipmentFailed},
	events.ShipmentInTransit:      {events.ShipmentDelivered, events.ShipmentFailed},
}

// orderStatusFor is the order status a shipment step moves its order to, if any.
var orderStatusFor = map[events.ShipmentStatus]events.OrderStatus{events.ShipmentPickedUp: events.OrderShipped, events.ShipmentDelivered: events.OrderDelivered}

// orderMayBeReady opens the shipment of an order that has become ready to ship (an event
// handler: confirmed, or paid). An order that is not ready yet is left for its other event.
func (s *Service) orderMayBeReady(ctx context.Context, rawID string) error {
	id, err := uuid.Parse(rawID)
	if err != nil {
		return nil
	}
	_, err = s.ensureShipment(ctx, id)
	if apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.NotFound) {
		return nil
	}
	return err
}

// orderCancelled ends the delivery of a cancelled order and frees its shipper.
func (s *Service) orderCancelled(ctx context.Context, rawID string) error {
	id, err := uuid.Parse(rawID)
	if err != nil {
		return nil
	}
	row, err := s.step(ctx, nil, id, events.ShipmentFailed, "the order was cancelled", nil, true)
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Conflict) {
		return nil
	}
	if err == nil {
		s.publishStatus(ctx, row)
	}
	return err
}

// assignArgs is the River job that finds a shipper for an order.
type assignArgs struct {
	OrderID uuid.UUID `json:"order_id"`
}

func (assignArgs) Kind() string { return "shipping_assign" }

type assignWorker struct {
	river.WorkerDefaults[assignArgs]
	svc *Service
}

// Work assigns the nearest available shipper, or waits AssignRetry and looks again: snoozing
// does not use up the job's attempts, so an order waits as long as no shipper is free.
func (w *assignWorker) Work(ctx context.Context, job *river.Job[assignArgs]) error {
	_, err := w.svc.assign(ctx, job.Args.OrderID, nil, nil)
	switch {
	case errors.Is(err, errNoShipper):
		return river.JobSnooze(w.svc.cfg.AssignRetry)
	case apperr.Is(err, apperr.Conflict) || apperr.Is(err, apperr.NotFound):
		return nil // assigned by hand, finished or cancelled meanwhile
	}
	return err
}

// ensureShipment returns the order's shipment, opening it (priced, with a tracking number
// recorded on the order too, and an assignment job, in one transaction) when the order is ready
// to ship. Opening is idempotent: the order's ID is the shipment's key. The order's own row
// decides the race with a shop handing the order to its own carrier, or a cancellation: the
// shipment is opened only if the order still waits for a carrier when it commits.
func (s *Service) ensureShipment(ctx context.Context, orderID uuid.UUID) (store.ShippingShipment, error) {
	row, err := s.q.GetShipment(ctx, orderID)
	if err == nil || !pgdb.IsNoRows(err) {
		return row, err
	}
	o, err := s.orders.Delivery(ctx, orderID)
	if err != nil {
		return row, err
	}
	if !o.ReadyToShip {
		return row, apperr.New(apperr.Conflict, "the order is not ready to ship: it must be confirmed, and paid unless cash on delivery")
	}
	shop, err := s.shops.Shop(ctx, nil, o.ShopID)
	if err != nil {
		return row, err
	}
	params, err := s.newShipment(ctx, o, shop)
	if err != nil {
		return row, err
	}
	err = pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		row, err = q.CreateShipment(ctx, params)
		if pgdb.IsNoRows(err) { // opened meanwhile by the other event
			row, err = q.GetShipment(ctx, orderID)
			return err
		}
		if err != nil {
			return err
		}
		if err := s.orders.AttachCarrierTx(ctx, tx, orderID, Carrier, row.TrackingNumber); err != nil {
			return err
		}
		if err := q.AddEvent(ctx, store.AddEventParams{OrderID: orderID, Kind: "created", Status: events.ShipmentAwaitingPickup, ActorRole: events.ActorSystem}); err != nil {
			return err
		}
		return s.jobs.InsertTx(ctx, tx, assignArgs{OrderID: orderID}, nil)
	})
	return row, err
}

// newShipment prices an order's delivery from the shop to the address. A method that cannot
// carry the parcel (it was priced at checkout, so the rules changed since) falls back to
// standard; an address the map cannot place is priced without distance rather than left
// undelivered.
func (s *Service) newShipment(ctx context.Context, o Order, shop Shop) (store.CreateShipmentParams, error) {
	from := placed{Point: geo.Point{Lat: shop.Lat, Lng: shop.Lng}, Province: s.provinceSlug(shop.Province)}
	addr := geo.Address{Line1: o.Address.Line1, Ward: o.Address.Ward, District: o.Address.District, Province: o.Address.Province}
	to, err := s.locate(ctx, "address", addr, o.Lat, o.Lng)
	var dropLat, dropLng *float64
	if err == nil {
		dropLat, dropLng = &to.Point.Lat, &to.Point.Lng
	} else {
		s.log.Warn("shipping: delivery address not placed; priced without distance", "order_id", o.ID, "err", err)
		to = from
	}
	q, err := s.price(ctx, from, to, o.ShippingMethod, max(o.WeightGrams, 1))
	if apperr.Is(err, apperr.Invalid) {
		q, err = s.price(ctx, from, to, geo.MethodStandard, max(o.WeightGrams, 1))
	}
	if err != nil && !apperr.Is(err, apperr.Invalid) {
		return store.CreateShipmentParams{}, err
	}
	recipient, err := json.Marshal(o.Address)
	if err != nil {
		return store.CreateShipmentParams{}, err
	}
	var cod int64
	if o.PaymentMethod == events.MethodCOD {
		cod = o.Total
	}
	currency := q.Currency
	if currency == "" {
		currency = s.cfg.Fees.Currency
	}
	return store.CreateShipmentParams{OrderID: o.ID, TrackingNumber: trackingNumber(), BuyerID: o.BuyerID, ShopID: shop.ID,
		ShopOwnerID: shop.OwnerID, ShopName: shop.Name, Method: string(o.ShippingMethod), Fee: q.Total, Currency: currency,
		CodAmount: cod, DistanceKm: q.DistanceKm, WeightGrams: o.WeightGrams, PickupLat: shop.Lat, PickupLng: shop.Lng,
		DropoffLat: dropLat, DropoffLng: dropLng, Recipient: recipient}, nil
}

// trackingNumber is "GS" and 13 characters of Crockford base32 (65 random bits): short
// enough for a Code 128 barcode on a label, with no character that reads as another.
func trackingNumber() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 13)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&31]
	}
	return "GS" + string(b)
}

// AssignInput names the shipper to assign, or none for the nearest available one.
type AssignInput struct {
	ShipperID *uuid.UUID `json:"shipper_id"`
}

// Assign gives an order's delivery to a shipper by hand: the shop's owner or an admin may, while
// it awaits pickup. A shipper assigned before is freed. The shipment is opened first when the
// order is ready and its event has not been handled yet.
func (s *Service) Assign(ctx context.Context, p auth.Principal, orderID uuid.UUID, in AssignInput) (Shipment, error) {
	role, err := s.managerRole(ctx, p, orderID)
	if err != nil {
		return Shipment{}, err
	}
	if _, err := s.ensureShipment(ctx, orderID); err != nil {
		return Shipment{}, err
	}
	row, err := s.assign(ctx, orderID, &p, in.ShipperID, role)
	if errors.Is(err, errNoShipper) {
		return Shipment{}, apperr.New(apperr.Conflict, "no shipper is available near the shop right now")
	}
	if err != nil {
		return Shipment{}, err
	}
	return s.shipment(ctx, row)
}

// managerRole is the part p plays in managing an order's delivery (its shop or an admin); to
// anyone else the order does not exist.
func (s *Service) managerRole(ctx context.Context, p auth.Principal, orderID uuid.UUID) (events.ActorRole, error) {
	if p.IsAdmin() {
		return events.ActorAdmin, nil
	}
	o, err := s.orders.Delivery(ctx, orderID)
	if err != nil {
		return "", err
	}
	shop, err := s.shops.Shop(ctx, nil, o.ShopID)
	if err != nil {
		return "", err
	}
	if shop.OwnerID != p.UserID {
		if o.BuyerID == p.UserID {
			return "", apperr.New(apperr.Forbidden, "only the shop or an admin assigns a shipper")
		}
		return "", apperr.NotFoundf("order")
	}
	return events.ActorShop, nil
}

// assign takes a shipper for an awaiting shipment: the named one if they are available, else
// the nearest available one within the radius of the shop. The shipper's status moves from
// available to busy by a conditional update in the same transaction as the shipment's, so two
// assignments never take the same shipper. by is nil for the automatic assignment.
func (s *Service) assign(ctx context.Context, orderID uuid.UUID, by *auth.Principal, shipperID *uuid.UUID, roles ...events.ActorRole) (store.ShippingShipment, error) {
	var row store.ShippingShipment
	var previous *uuid.UUID
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		cur, err := lockShipment(ctx, q, orderID)
		if err != nil {
			return err
		}
		switch {
		case cur.Status != events.ShipmentAwaitingPickup:
			return apperr.New(apperr.Conflict, "the shipment is %s; only one awaiting pickup is assigned", cur.Status)
		case by == nil && cur.ShipperID != nil:
			return apperr.New(apperr.Conflict, "the shipment has a shipper")
		case shipperID != nil && cur.ShipperID != nil && *cur.ShipperID == *shipperID:
			return apperr.New(apperr.Conflict, "that shipper is assigned already")
		}
		var shipper store.ShippingShipper
		if shipperID != nil {
			shipper, err = q.ClaimShipper(ctx, *shipperID)
			if pgdb.IsNoRows(err) {
				if _, err := q.GetShipper(ctx, *shipperID); pgdb.IsNoRows(err) {
					return apperr.Field("shipper_id", "no such shipper")
				}
				return apperr.New(apperr.Conflict, "that shipper is not available")
			}
		} else {
			shipper, err = q.ClaimNearestShipper(ctx, store.ClaimNearestShipperParams{Lat: cur.PickupLat, Lng: cur.PickupLng,
				Radius: s.cfg.AssignRadiusKm * 1000})
			if pgdb.IsNoRows(err) {
				return errNoShipper
			}
		}
		if err != nil {
			return err
		}
		if row, err = q.AssignShipment(ctx, store.AssignShipmentParams{OrderID: orderID, ShipperID: shipper.UserID}); err != nil {
			return err
		}
		role, actor := events.ActorSystem, (*uuid.UUID)(nil)
		if by != nil {
			actor = &by.UserID
			if len(roles) > 0 {
				role = roles[0]
			}
		}
		if cur.ShipperID != nil {
			previous = cur.ShipperID
			if err := q.AddEvent(ctx, store.AddEventParams{OrderID: orderID, Kind: "unassigned", Status: events.ShipmentAwaitingPickup,
				ShipperID: cur.ShipperID, ActorID: actor, ActorRole: role}); err != nil {
				return err
			}
			if err := q.ReleaseShipper(ctx, *cur.ShipperID); err != nil {
				return err
			}
		}
		if err := q.AddEvent(ctx, store.AddEventParams{OrderID: orderID, Kind: "assigned", Status: events.ShipmentAwaitingPickup,
			ShipperID: &shipper.UserID, ActorID: actor, ActorRole: role}); err != nil {
			return err
		}
		ev := events.ShipmentAssigned{OrderID: orderID.String(), BuyerID: row.BuyerID.String(), ShopOwnerID: row.ShopOwnerID.String(),
			ShipperID: shipper.UserID.String(), At: row.UpdatedAt.UTC()}
		if cur.ShipperID != nil {
			ev.PreviousShipperID = cur.ShipperID.String()
		}
		return s.bus.Publish(ctx, tx, ev)
	})
	if err != nil {
		return row, err
	}
	s.publish(ctx, orderID, MsgAssigned, map[string]any{"order_id": orderID, "shipper_id": row.ShipperID,
		"previous_shipper_id": previous, "at": time.Now().UTC()})
	return row, nil
}

// UpdateInput moves a shipment one step.
type UpdateInput struct {
	Status events.ShipmentStatus `json:"status" validate:"required,oneof=awaiting_pickup picked_up in_transit delivered failed"`
	Note   string                `json:"note" validate:"max=500"`
	Lat    *float64              `json:"lat" validate:"required_with=Lng,omitempty,latitude"`
	Lng    *float64              `json:"lng" validate:"required_with=Lat,omitempty,longitude"`
}

// UpdateStatus moves a shipment: its shipper, or an admin, may. Picking up ships the order and
// delivering delivers it, through the order context, so that both timelines agree; a failed
// delivery says why.
func (s *Service) UpdateStatus(ctx context.Context, p auth.Principal, orderID uuid.UUID, in UpdateInput) (Shipment, error) {
	if in.Status == events.ShipmentFailed && in.Note == "" {
		return Shipment{}, apperr.Field("note", "say why the delivery failed")
	}
	var pos *geo.Point
	if in.Lat != nil {
		pos = &geo.Point{Lat: *in.Lat, Lng: *in.Lng}
	}
	row, err := s.step(ctx, &p, orderID, in.Status, in.Note, pos, false)
	if err != nil {
		return Shipment{}, err
	}
	s.publishStatus(ctx, row)
	return s.shipment(ctx, row)
}

// step takes a shipment to status `to`. by is nil for the system (a cancelled order); fromOrder
// says the order moved already, so the order is not moved again. The order is moved in the
// shipment's transaction, so both commit or neither does.
func (s *Service) step(ctx context.Context, by *auth.Principal, orderID uuid.UUID, to events.ShipmentStatus, note string, pos *geo.Point, fromOrder bool) (store.ShippingShipment, error) {
	var row store.ShippingShipment
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		cur, err := lockShipment(ctx, q, orderID)
		if err != nil {
			return err
		}
		role := events.ActorSystem
		if by != nil {
			if role, err = s.carrierRole(*by, cur); err != nil {
				return err
			}
		}
		if !slices.Contains(next[cur.Status], to) {
			return apperr.New(apperr.Conflict, "a %s shipment cannot become %s", cur.Status, to)
		}
		if by != nil && cur.ShipperID == nil {
			return apperr.New(apperr.Conflict, "the shipment has no shipper yet")
		}
		if target, ok := orderStatusFor[to]; ok && !fromOrder {
			if err := s.moveOrder(ctx, tx, by, orderID, target, note); err != nil {
				return err
			}
		}
		if row, err = q.SetShipmentStatus(ctx, store.SetShipmentStatusParams{OrderID: orderID, FromStatus: cur.Status, Status: to}); err != nil {
			return err
		}
		ev := store.AddEventParams{OrderID: orderID, Kind: "status", Status: to, ShipperID: cur.ShipperID, ActorRole: role, Note: note}
		if by != nil {
			ev.ActorID = &by.UserID
		}
		if pos != nil {
			ev.Lat, ev.Lng = &pos.Lat, &pos.Lng
		}
		if err := q.AddEvent(ctx, ev); err != nil {
			return err
		}
		if err := s.publishStep(ctx, tx, row, note); err != nil {
			return err
		}
		if !active(to) && cur.ShipperID != nil {
			return q.ReleaseShipper(ctx, *cur.ShipperID)
		}
		return nil
	})
	return row, err
}

// publishStep publishes the bus event of a step others act on (picked up, delivered, failed),
// inside the step's transaction; the other steps concern the live stream only.
func (s *Service) publishStep(ctx context.Context, tx pgx.Tx, row store.ShippingShipment, note string) error {
	step := events.ShipmentStep{OrderID: row.OrderID.String(), BuyerID: row.BuyerID.String(), ShopOwnerID: row.ShopOwnerID.String(),
		Status: row.Status, Note: note, At: row.UpdatedAt.UTC()}
	if row.ShipperID != nil {
		step.ShipperID = row.ShipperID.String()
	}
	switch row.Status {
	case events.ShipmentPickedUp:
		return s.bus.Publish(ctx, tx, events.ShipmentPickedUpEvent{ShipmentStep: step})
	case events.ShipmentDelivered:
		return s.bus.Publish(ctx, tx, events.ShipmentDeliveredEvent{ShipmentStep: step})
	case events.ShipmentFailed:
		return s.bus.Publish(ctx, tx, events.ShipmentFailedEvent{ShipmentStep: step})
	}
	return nil
}

// lockShipment takes a shipment's row for the rest of the transaction.
func lockShipment(ctx context.Context, q *store.Queries, orderID uuid.UUID) (store.ShippingShipment, error) {
	cur, err := q.LockShipment(ctx, orderID)
	return cur, pgdb.NotFound(err, "shipment")
}

// moveOrder moves the order, through the shipment's transaction, unless it is there already (a
// retried step, or the shop marked it).
func (s *Service) moveOrder(ctx context.Context, tx pgx.Tx, by *auth.Principal, orderID uuid.UUID, to events.OrderStatus, note string) error {
	if note == "" {
		note = "shipment " + string(map[events.OrderStatus]events.ShipmentStatus{events.OrderShipped: events.ShipmentPickedUp, events.OrderDelivered: events.ShipmentDelivered}[to])
	}
	// The order context records the mover's own part: an admin as an admin, else the shipper.
	return s.orders.ShipperMoveTx(ctx, tx, by, orderID, to, note)
}

// carrierRole is the part p plays in carrying a shipment: its shipper or an admin. Another
// shipper, the buyer or the shop get "not found", the same as for a delivery that does not exist.
func (s *Service) carrierRole(p auth.Principal, m store.ShippingShipment) (events.ActorRole, error) {
	switch {
	case m.ShipperID != nil && *m.ShipperID == p.UserID:
		return events.ActorShipper, nil
	case p.IsAdmin():
		return events.ActorAdmin, nil
	case p.UserID == m.BuyerID || p.UserID == m.ShopOwnerID:
		return "", apperr.New(apperr.Forbidden, "only the assigned shipper moves a delivery")
	}
	return "", apperr.NotFoundf("shipment")
}

// LocationInput is one GPS fix of the shipper carrying a delivery.
type LocationInput struct {
	Lat *float64 `json:"lat" validate:"required,latitude"`
	Lng *float64 `json:"lng" validate:"required,longitude"`
}

// LocationUpdate is a recorded fix, as the live-tracking stream carries it.
type LocationUpdate struct {
	OrderID   uuid.UUID             `json:"order_id"`
	ShipperID uuid.UUID             `json:"shipper_id"`
	Status    events.ShipmentStatus `json:"status"`
	Lat       float64               `json:"lat"`
	Lng       float64               `json:"lng"`
	At        time.Time             `json:"at"`
}

// RecordLocation stores where the shipper carrying a delivery is, and streams it to whoever
// follows the delivery. Only the assigned shipper may, while the delivery is under way. The
// usual case is one statement; why a fix was refused is worked out only when it was.
func (s *Service) RecordLocation(ctx context.Context, p auth.Principal, orderID uuid.UUID, in LocationInput) (LocationUpdate, error) {
	at := time.Now().UTC()
	r, err := s.q.RecordLocation(ctx, store.RecordLocationParams{OrderID: orderID, ShipperID: p.UserID, Lat: *in.Lat, Lng: *in.Lng, At: at})
	if pgdb.IsNoRows(err) {
		m, gerr := s.q.GetShipment(ctx, orderID)
		if gerr != nil {
			return LocationUpdate{}, pgdb.NotFound(gerr, "shipment")
		}
		if m.ShipperID == nil || *m.ShipperID != p.UserID {
			if p.UserID == m.BuyerID || p.UserID == m.ShopOwnerID || p.IsAdmin() {
				return LocationUpdate{}, apperr.New(apperr.Forbidden, "only the assigned shipper reports where a delivery is")
			}
			return LocationUpdate{}, apperr.NotFoundf("shipment")
		}
		return LocationUpdate{}, apperr.New(apperr.Conflict, "the delivery is %s; it is no longer tracked", m.Status)
	}
	if err != nil {
		return LocationUpdate{}, err
	}
	u := LocationUpdate{OrderID: orderID, ShipperID: p.UserID, Status: events.ShipmentStatus(r.Status), Lat: *in.Lat, Lng: *in.Lng, At: at}
	s.publish(ctx, orderID, MsgLocation, u)
	if err := s.nearby(ctx, r, geo.Point{Lat: *in.Lat, Lng: *in.Lng}, at); err != nil {
		s.log.Warn("shipping: shipper.nearby not published", "order_id", orderID, "err", err)
	}
	return u, nil
}

// nearby publishes shipper.nearby when a fix is the first within NearbyKm of the drop-off (the
// previous one was farther, or there was none). Two fixes crossing at once may both publish:
// the subscriber keys the message by the delivery, so the buyer hears of it once.
func (s *Service) nearby(ctx context.Context, r store.RecordLocationRow, pos geo.Point, at time.Time) error {
	if s.cfg.NearbyKm <= 0 || r.DropoffLat == nil || r.DropoffLng == nil || r.ShipperID == nil {
		return nil
	}
	drop := geo.Point{Lat: *r.DropoffLat, Lng: *r.DropoffLng}
	d := geo.Haversine(pos, drop)
	if d > s.cfg.NearbyKm {
		return nil
	}
	if r.PrevLat != nil && r.PrevLng != nil && geo.Haversine(geo.Point{Lat: *r.PrevLat, Lng: *r.PrevLng}, drop) <= s.cfg.NearbyKm {
		return nil // near already
	}
	return pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		return s.bus.Publish(ctx, tx, events.ShipperNearby{OrderID: r.OrderID.String(), BuyerID: r.BuyerID.String(),
			ShipperID: r.ShipperID.String(), DistanceKm: d, At: at})
	})
}

// Tracking shows an order's shipment with its timeline to those who follow it: the buyer, the
// shop's owner, the assigned shipper and admins.
func (s *Service) Tracking(ctx context.Context, p auth.Principal, orderID uuid.UUID) (Shipment, error) {
	row, err := s.q.GetShipment(ctx, orderID)
	if pgdb.IsNoRows(err) {
		if err := s.AuthorizeFollower(ctx, p, orderID); err != nil {
			return Shipment{}, err
		}
		return Shipment{}, apperr.New(apperr.NotFound, "the order has no shipment yet: it ships once it is confirmed (and paid, unless cash on delivery)")
	}
	if err != nil {
		return Shipment{}, err
	}
	if !follows(p, row) {
		return Shipment{}, apperr.NotFoundf("shipment")
	}
	return s.shipment(ctx, row)
}

// AuthorizeFollower checks that p may follow an order's delivery live: its buyer, its shop's
// owner, its assigned shipper or an admin. Before the shipment exists the order context says
// whose order it is, so a buyer can open the stream and see the shipper assigned. Anyone else
// is told there is no such shipment.
func (s *Service) AuthorizeFollower(ctx context.Context, p auth.Principal, orderID uuid.UUID) error {
	row, err := s.q.GetShipment(ctx, orderID)
	if err == nil {
		if !follows(p, row) {
			return apperr.NotFoundf("shipment")
		}
		return nil
	}
	if !pgdb.IsNoRows(err) {
		return err
	}
	if p.IsAdmin() {
		return nil
	}
	o, err := s.orders.Delivery(ctx, orderID)
	if apperr.Is(err, apperr.NotFound) {
		return apperr.NotFoundf("shipment")
	}
	if err != nil {
		return err
	}
	if o.BuyerID == p.UserID {
		return nil
	}
	shop, err := s.shops.Shop(ctx, nil, o.ShopID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return err
	}
	if err == nil && shop.OwnerID == p.UserID {
		return nil
	}
	return apperr.NotFoundf("shipment")
}

// Topic is the live-tracking topic of an order's delivery.
func (s *Service) Topic(orderID uuid.UUID) string { return topic(orderID) }

func follows(p auth.Principal, m store.ShippingShipment) bool {
	return p.IsAdmin() || p.UserID == m.BuyerID || p.UserID == m.ShopOwnerID || (m.ShipperID != nil && *m.ShipperID == p.UserID)
}

// StatusUpdate is a shipment step as the live-tracking stream carries it.
type StatusUpdate struct {
	OrderID   uuid.UUID             `json:"order_id"`
	ShipperID *uuid.UUID            `json:"shipper_id"`
	Status    events.ShipmentStatus `json:"status"`
	At        time.Time             `json:"at"`
}

func (s *Service) publishStatus(ctx context.Context, row store.ShippingShipment) {
	s.publish(ctx, row.OrderID, MsgStatus, StatusUpdate{OrderID: row.OrderID, ShipperID: row.ShipperID, Status: row.Status,
		At: row.UpdatedAt.UTC()})
}

// shipment loads a shipment's timeline and shapes it for clients.
func (s *Service) shipment(ctx context.Context, r store.ShippingShipment) (Shipment, error) {
	evs, err := s.q.ListEvents(ctx, r.OrderID)
	if err != nil {
		return Shipment{}, err
	}
	out := Shipment{OrderID: r.OrderID, TrackingNumber: r.TrackingNumber, ShipperID: r.ShipperID, Status: r.Status, Method: r.Method,
		Fee: r.Fee, Currency: r.Currency, CODAmount: r.CodAmount, DistanceKm: r.DistanceKm, WeightGrams: r.WeightGrams,
		Pickup: geo.Point{Lat: r.PickupLat, Lng: r.PickupLng}, AssignedAt: utc(r.AssignedAt), CreatedAt: r.CreatedAt.UTC(),
		UpdatedAt: r.UpdatedAt.UTC(), Events: make([]Event, len(evs))}
	if r.DropoffLat != nil && r.DropoffLng != nil {
		out.Dropoff = &geo.Point{Lat: *r.DropoffLat, Lng: *r.DropoffLng}
	}
	if r.LastLat != nil && r.LastLng != nil && r.LastAt != nil {
		out.LastLocation = &Position{Lat: *r.LastLat, Lng: *r.LastLng, At: r.LastAt.UTC()}
	}
	for i, e := range evs {
		out.Events[i] = Event{Kind: e.Kind, Status: e.Status, ShipperID: e.ShipperID, ActorID: e.ActorID, ActorRole: e.ActorRole,
			Note: e.Note, At: e.At.UTC()}
		if e.Lat != nil && e.Lng != nil {
			out.Events[i].Location = &geo.Point{Lat: *e.Lat, Lng: *e.Lng}
		}
	}
	return out, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// ShipperOf returns the user ID of the shipper who carries (or carried) an order, nil when no
// shipper of the platform ever had it (the shop delivered it itself).
func (s *Service) ShipperOf(ctx context.Context, orderID uuid.UUID) (*uuid.UUID, error) {
	id, err := s.q.ShipperOfOrder(ctx, orderID)
	if pgdb.IsNoRows(err) {
		return nil, nil
	}
	return id, err
}
