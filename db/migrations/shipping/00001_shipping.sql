-- +goose Up
-- Shippers, their live positions and the shipments they carry. "Nearest available shipper"
-- is answered from a GiST index over earthdistance points, as the shop context does for shops.
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

CREATE SCHEMA IF NOT EXISTS shipping;

-- shipping.earth_point and shipping.distance_m wrap earthdistance so that sqlc knows their
-- types; they are plain SQL functions, so the planner inlines them and the GiST index applies.
CREATE FUNCTION shipping.earth_point(lat double precision, lng double precision) RETURNS public.earth
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN public.ll_to_earth(lat, lng);

CREATE FUNCTION shipping.distance_m(lat1 double precision, lng1 double precision, lat2 double precision, lng2 double precision)
    RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN public.earth_distance(public.ll_to_earth(lat1, lng1), public.ll_to_earth(lat2, lng2));

-- A shipper as the delivery side sees one: the identity context holds the person and the
-- vehicle papers; this row holds what changes while they work.
CREATE TABLE shipping.shippers (
    user_id      uuid PRIMARY KEY,
    status       text NOT NULL DEFAULT 'offline' CHECK (status IN ('offline', 'available', 'busy')),
    vehicle_type text NOT NULL DEFAULT '',
    service_area text NOT NULL DEFAULT '',
    lat          double precision CHECK (lat BETWEEN -90 AND 90),
    lng          double precision CHECK (lng BETWEEN -180 AND 180),
    located_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shippers_location_whole CHECK ((lat IS NULL) = (lng IS NULL) AND (lat IS NULL) = (located_at IS NULL))
);
CREATE INDEX shippers_list_idx ON shipping.shippers (created_at DESC, user_id DESC);
-- Only available shippers with a position are ever searched by place.
CREATE INDEX shippers_available_idx ON shipping.shippers USING gist (public.ll_to_earth(lat, lng))
    WHERE status = 'available' AND lat IS NOT NULL;

-- One shipment per order, made when the order becomes ready to ship. buyer_id and
-- shop_owner_id are copied so that "who may follow this parcel" needs no other context.
CREATE TABLE shipping.shipments (
    order_id        uuid PRIMARY KEY,
    tracking_number text NOT NULL UNIQUE,
    buyer_id        uuid NOT NULL,
    shop_id         uuid NOT NULL,
    shop_owner_id   uuid NOT NULL,
    shop_name       text NOT NULL DEFAULT '',
    shipper_id      uuid REFERENCES shipping.shippers (user_id),
    status          text NOT NULL DEFAULT 'awaiting_pickup'
        CHECK (status IN ('awaiting_pickup', 'picked_up', 'in_transit', 'delivered', 'failed')),
    method          text NOT NULL,
    fee             bigint NOT NULL CHECK (fee >= 0),
    currency        text NOT NULL DEFAULT 'VND',
    cod_amount      bigint NOT NULL DEFAULT 0 CHECK (cod_amount >= 0),
    distance_km     double precision NOT NULL CHECK (distance_km >= 0),
    weight_grams    bigint NOT NULL CHECK (weight_grams >= 0),
    pickup_lat      double precision NOT NULL,
    pickup_lng      double precision NOT NULL,
    dropoff_lat     double precision,
    dropoff_lng     double precision,
    recipient       jsonb NOT NULL,
    last_lat        double precision,
    last_lng        double precision,
    last_at         timestamptz,
    assigned_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shipments_shipper_idx ON shipping.shipments (shipper_id, status) WHERE shipper_id IS NOT NULL;

-- The shipment's timeline: creation, assignments and every status step.
CREATE TABLE shipping.shipment_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id   uuid NOT NULL REFERENCES shipping.shipments (order_id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('created', 'assigned', 'unassigned', 'status')),
    status     text NOT NULL,
    shipper_id uuid,
    actor_id   uuid,
    actor_role text NOT NULL,
    note       text NOT NULL DEFAULT '',
    lat        double precision,
    lng        double precision,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shipment_events_order_idx ON shipping.shipment_events (order_id, id);

-- +goose Down
DROP SCHEMA shipping CASCADE;
