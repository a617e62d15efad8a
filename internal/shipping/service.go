package shipping

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/eventbus"
	"github.com/goshop/goshop/internal/platform/httpx"
	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/pgdb"
	"github.com/goshop/goshop/internal/platform/realtime"
	"github.com/goshop/goshop/internal/shipping/geo"
	"github.com/goshop/goshop/internal/shipping/internal/store"
)

// Config is the shipping context's configuration.
type Config struct {
	// Fees is the price list; the zero value takes geo.DefaultFeeConfig.
	Fees geo.FeeConfig
	// Geocoder places addresses; nil uses the embedded gazetteer.
	Geocoder geo.Geocoder
	// Router measures trips; nil uses geo.OfflineRouter.
	Router geo.Router
	// AssignRadiusKm is how far from the shop the automatic assignment looks for shippers.
	AssignRadiusKm float64
	// AssignRetry is how long an order waits before the assignment looks again when no shipper
	// was free.
	AssignRetry time.Duration
	// NearbyKm is how near the delivery address the shipper's reported position must come for
	// the buyer to be told (shipper.nearby, once per delivery).
	NearbyKm float64
	// Location is the marketplace's time zone, the day a label is dated.
	Location *time.Location
}

// Service holds the rules of the shipping context.
type Service struct {
	pool     *pgxpool.Pool
	q        *store.Queries
	jobs     *jobs.Runner
	bus      *eventbus.Bus
	hub      *realtime.Hub
	identity Identity
	orders   Orders
	shops    Shops
	cfg      Config
	gaz      *geo.Gazetteer
	log      *slog.Logger
}

// NewService builds the shipping service, registers its River worker and subscribes to the
// events that start deliveries: a new shipper, a confirmed, paid or cancelled order.
func NewService(pool *pgxpool.Pool, bus *eventbus.Bus, runner *jobs.Runner, hub *realtime.Hub, identity Identity,
	orders Orders, shops Shops, cfg Config, log *slog.Logger) (*Service, error) {
	if cfg.Fees.Currency == "" {
		cfg.Fees = geo.DefaultFeeConfig()
	}
	if err := cfg.Fees.Validate(); err != nil {
		return nil, fmt.Errorf("shipping: %w", err)
	}
	if cfg.Geocoder == nil {
		cfg.Geocoder = geo.Default()
	}
	if cfg.Router == nil {
		cfg.Router = geo.OfflineRouter{}
	}
	if cfg.AssignRadiusKm <= 0 {
		cfg.AssignRadiusKm = 10
	}
	if cfg.AssignRetry <= 0 {
		cfg.AssignRetry = 30 * time.Second
	}
	s := &Service{pool: pool, q: newStore(pool), jobs: runner, bus: bus, hub: hub, identity: identity, orders: orders, shops: shops,
		cfg: cfg, gaz: geo.Default(), log: log}
	river.AddWorker(runner.Workers, &assignWorker{svc: s})
	// Registration opens the record in its own transaction (OpenShipperTx); the event, delivered
	// after it, finds the record there and leaves the shipper's working state as it is.
	eventbus.On(bus, "shipping.shipper_registered", func(ctx context.Context, _ string, ev events.ShipperRegistered) error {
		id, err := uuid.Parse(ev.UserID)
		if err != nil {
			return nil // not a user this system made; nothing to keep
		}
		_, err = s.q.UpsertShipper(ctx, store.UpsertShipperParams{UserID: id, VehicleType: ev.VehicleType, ServiceArea: ev.ServiceArea})
		return err
	})
	eventbus.On(bus, "shipping.order_status", func(ctx context.Context, _ string, ev events.OrderStatusChanged) error {
		switch ev.To {
		case events.OrderConfirmed:
			return s.orderMayBeReady(ctx, ev.OrderID)
		case events.OrderCancelled:
			return s.orderCancelled(ctx, ev.OrderID)
		}
		return nil
	})
	eventbus.On(bus, "shipping.order_paid", func(ctx context.Context, _ string, ev events.OrderPaid) error {
		return s.orderMayBeReady(ctx, ev.OrderID)
	})
	return s, nil
}

// Fees is the price list in force.
func (s *Service) Fees() geo.FeeConfig { return s.cfg.Fees }

// RegisterInput makes the caller a shipper: the identity context's profile, and optionally
// where the shipper is now.
type RegisterInput struct {
	ShipperProfile
	Lat *float64 `json:"lat" validate:"required_with=Lng,omitempty,latitude"`
	Lng *float64 `json:"lng" validate:"required_with=Lat,omitempty,longitude"`
}

// Registration answers a shipper registration: the delivery side's shipper, the identity
// context's user and an access token that already carries the shipper role.
type Registration struct {
	Shipper     Shipper `json:"shipper"`
	User        Account `json:"user"`
	AccessToken string  `json:"access_token"`
	ExpiresIn   int     `json:"expires_in"`
}

// Register makes the caller a shipper. The role and the papers are the identity context's (the
// same as POST /users/shipper/register, which this builds on), and the identity context opens
// this context's working record in its registration transaction (OpenShipperTx), so both
// routes leave the same shipper, able to work at once. This route also places the shipper
// where they say.
func (s *Service) Register(ctx context.Context, p auth.Principal, in RegisterInput) (Registration, error) {
	reg, err := s.identity.RegisterShipper(ctx, p, in.ShipperProfile)
	if err != nil {
		return Registration{}, err
	}
	row, err := s.shipperRow(ctx, p.UserID)
	if err != nil {
		return Registration{}, err
	}
	if in.Lat != nil {
		row, err = s.q.SetShipperState(ctx, store.SetShipperStateParams{UserID: p.UserID, Status: row.Status, Lat: in.Lat, Lng: in.Lng})
		if err != nil {
			return Registration{}, err
		}
	}
	return Registration{Shipper: toShipper(row), User: reg.User, AccessToken: reg.AccessToken, ExpiresIn: reg.ExpiresIn}, nil
}

// OpenShipperTx opens (or refreshes the profile fields of) a shipper's working record inside
// the identity context's registration transaction: offline and unplaced when new, its status
// and position left alone when it exists. The shipper is addressed by their user ID.
func (s *Service) OpenShipperTx(ctx context.Context, tx pgx.Tx, userID uuid.UUID, vehicleType, serviceArea string) error {
	_, err := newStore(tx).UpsertShipper(ctx, store.UpsertShipperParams{UserID: userID, VehicleType: vehicleType, ServiceArea: serviceArea})
	if err != nil {
		return fmt.Errorf("shipping: open shipper: %w", err)
	}
	return nil
}

// Shippers lists shippers, newest first, for admins; status filters.
func (s *Service) Shippers(ctx context.Context, p auth.Principal, status string, page httpx.Page) (httpx.List[Shipper], error) {
	if !p.IsAdmin() {
		return httpx.List[Shipper]{}, apperr.New(apperr.Forbidden, "only admins list shippers")
	}
	var filter *string
	if status != "" {
		if !validShipperStatus(status) {
			return httpx.List[Shipper]{}, apperr.Field("status", "must be offline, available or busy")
		}
		filter = &status
	}
	cur, has, err := httpx.KeysetOf(page)
	if err != nil {
		return httpx.List[Shipper]{}, err
	}
	rows, err := s.q.ListShippers(ctx, store.ListShippersParams{Status: filter, HasCursor: has, BeforeCreated: cur.At,
		BeforeID: cur.ID, Lim: int32(page.Limit + 1)})
	if err != nil {
		return httpx.List[Shipper]{}, err
	}
	out := make([]Shipper, len(rows))
	for i, r := range rows {
		out[i] = toShipper(r)
	}
	return httpx.Paginate(out, page.Limit, func(sh Shipper) any { return httpx.Keyset{At: sh.CreatedAt, ID: sh.ID} }), nil
}

// Shipper shows a shipper: whole (with the deliveries under way) to the shipper and admins,
// without them to the buyers and shop owners whose delivery the shipper carries now. Anyone
// else is told there is no such shipper.
func (s *Service) Shipper(ctx context.Context, p auth.Principal, id uuid.UUID) (Shipper, error) {
	row, err := s.shipperRow(ctx, id)
	if err != nil {
		return Shipper{}, err
	}
	full, err := s.canSeeShipper(ctx, p, id)
	if err != nil {
		return Shipper{}, err
	}
	sh := toShipper(row)
	if full {
		if sh.ActiveDeliveries, err = s.q.ActiveDeliveries(ctx, id); err != nil {
			return Shipper{}, err
		}
	}
	return sh, nil
}

// ShipperLocation is where a shipper was last seen.
type ShipperLocation struct {
	ShipperID uuid.UUID `json:"shipper_id"`
	Status    string    `json:"status"`
	Location  *Position `json:"location"`
}

// ShipperLocation shows where a shipper is, to the shipper, admins, and the buyers and shop
// owners of a delivery the shipper carries now; to anyone else the shipper does not exist.
func (s *Service) ShipperLocation(ctx context.Context, p auth.Principal, id uuid.UUID) (ShipperLocation, error) {
	row, err := s.shipperRow(ctx, id)
	if err != nil {
		return ShipperLocation{}, err
	}
	if _, err := s.canSeeShipper(ctx, p, id); err != nil {
		return ShipperLocation{}, err
	}
	sh := toShipper(row)
	return ShipperLocation{ShipperID: id, Status: sh.Status, Location: sh.Location}, nil
}

// canSeeShipper says whether p may see the shipper at all (else a not-found error), and whether
// as the shipper or an admin (full) rather than as someone the shipper delivers to.
func (s *Service) canSeeShipper(ctx context.Context, p auth.Principal, id uuid.UUID) (full bool, err error) {
	if p.UserID == id || p.IsAdmin() {
		return true, nil
	}
	follows, err := s.q.FollowsShipper(ctx, store.FollowsShipperParams{ShipperID: id, UserID: p.UserID})
	if err != nil {
		return false, err
	}
	if !follows {
		return false, apperr.NotFoundf("shipper")
	}
	return false, nil
}

func (s *Service) shipperRow(ctx context.Context, id uuid.UUID) (store.ShippingShipper, error) {
	row, err := s.q.GetShipper(ctx, id)
	return row, pgdb.NotFound(err, "shipper")
}

// StatusInput sets a shipper's status, and optionally where they are.
type StatusInput struct {
	Status string   `json:"status" validate:"required,oneof=offline available busy"`
	Lat    *float64 `json:"lat" validate:"required_with=Lng,omitempty,latitude"`
	Lng    *float64 `json:"lng" validate:"required_with=Lat,omitempty,longitude"`
}

// SetStatus changes a shipper's status; the shipper or an admin may. A shipper carrying a
// delivery stays busy until it is done, and an available shipper must have a position, or the
// assignment could never find them. The shipper's row is locked first so that an assignment
// taking the shipper at the same moment is seen, never overwritten.
func (s *Service) SetStatus(ctx context.Context, p auth.Principal, id uuid.UUID, in StatusInput) (Shipper, error) {
	if p.UserID != id && !p.IsAdmin() {
		return Shipper{}, apperr.NotFoundf("shipper")
	}
	var row store.ShippingShipper
	err := pgdb.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := newStore(tx)
		cur, err := q.LockShipper(ctx, id)
		if err != nil {
			return pgdb.NotFound(err, "shipper")
		}
		n, err := q.CountActiveDeliveries(ctx, id)
		if err != nil {
			return err
		}
		switch {
		case n > 0 && in.Status != ShipperBusy:
			return apperr.New(apperr.Conflict, "a shipper carrying a delivery stays busy until it is delivered or failed")
		case in.Status == ShipperAvailable && in.Lat == nil && cur.Lat == nil:
			return apperr.Field("lat", "an available shipper must say where they are")
		}
		row, err = q.SetShipperState(ctx, store.SetShipperStateParams{UserID: id, Status: in.Status, Lat: in.Lat, Lng: in.Lng})
		return err
	})
	if err != nil {
		return Shipper{}, err
	}
	return toShipper(row), nil
}

// NearbyQuery asks for available shippers around a point.
type NearbyQuery struct {
	Point    geo.Point
	RadiusKm float64
}

// Nearby lists the available shippers within a radius of a point, nearest first, for admins
// and shop owners (who pick one to assign by hand). Shop owners learn how far each shipper is,
// not where: a shipper's position is theirs, their admins' and their customers' to know.
func (s *Service) Nearby(ctx context.Context, p auth.Principal, in NearbyQuery, limit int) (httpx.List[Shipper], error) {
	if !p.IsAdmin() {
		owns, err := s.shops.OwnsShop(ctx, p.UserID)
		if err != nil {
			return httpx.List[Shipper]{}, err
		}
		if !owns {
			return httpx.List[Shipper]{}, apperr.New(apperr.Forbidden, "only shop owners and admins look for shippers")
		}
	}
	rows, err := s.q.NearbyAvailableShippers(ctx, store.NearbyAvailableShippersParams{Lat: in.Point.Lat, Lng: in.Point.Lng,
		Radius: in.RadiusKm * 1000, Lim: int32(limit)})
	if err != nil {
		return httpx.List[Shipper]{}, err
	}
	out := make([]Shipper, len(rows))
	for i, r := range rows {
		out[i] = toShipper(r.ShippingShipper)
		km := r.DistanceM / 1000
		out[i].DistanceKm = &km
		if !p.IsAdmin() {
			out[i].Location = nil
		}
	}
	return httpx.List[Shipper]{Items: out}, nil
}

func validShipperStatus(s string) bool {
	return s == ShipperOffline || s == ShipperAvailable || s == ShipperBusy
}

func toShipper(r store.ShippingShipper) Shipper {
	sh := Shipper{ID: r.UserID, Status: r.Status, VehicleType: r.VehicleType, ServiceArea: r.ServiceArea,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.Lat != nil && r.Lng != nil && r.LocatedAt != nil {
		sh.Location = &Position{Lat: *r.Lat, Lng: *r.Lng, At: r.LocatedAt.UTC()}
	}
	return sh
}

// publish sends a live-tracking message. The database already holds the truth, so a Redis
// failure costs live subscribers a message, not the caller the request.
func (s *Service) publish(ctx context.Context, orderID uuid.UUID, msgType string, data any) {
	if err := s.hub.Publish(context.WithoutCancel(ctx), topic(orderID), msgType, data); err != nil {
		s.log.Warn("shipping: live-tracking message lost", "order_id", orderID, "type", msgType, "err", err)
	}
}

// topic is the hub topic of a shipment's live tracking.
func topic(orderID uuid.UUID) string { return "shipment:" + orderID.String() }

var errNoShipper = errors.New("no shipper available")

// newStore returns the shipping store on db, the pool or a transaction, its errors naming the query
// that failed (pgdb.Named).
func newStore(db store.DBTX) *store.Queries { return store.New(pgdb.Named("shipping", db)) }
