-- +goose Up
-- earthdistance answers "shops within R metres of a point" from a GiST index.
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

CREATE SCHEMA IF NOT EXISTS shop;

-- shop.earth_point and shop.within wrap earthdistance so that sqlc knows their types; they are
-- plain SQL functions, so the planner inlines them and the GiST index below still applies.
CREATE FUNCTION shop.earth_point(lat double precision, lng double precision) RETURNS public.earth
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN public.ll_to_earth(lat, lng);

CREATE FUNCTION shop.distance_m(lat1 double precision, lng1 double precision, lat2 double precision, lng2 double precision)
    RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN public.earth_distance(public.ll_to_earth(lat1, lng1), public.ll_to_earth(lat2, lng2));

CREATE TABLE shop.shops (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id      uuid NOT NULL,
    name          text NOT NULL,
    description   text NOT NULL DEFAULT '',
    line1         text NOT NULL,
    ward          text NOT NULL DEFAULT '',
    district      text NOT NULL DEFAULT '',
    province      text NOT NULL,
    country       text NOT NULL DEFAULT 'VN',
    lat           double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng           double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
    category_ids  uuid[] NOT NULL DEFAULT '{}',
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    rating        numeric(3, 2) NOT NULL DEFAULT 0,
    rating_count  integer NOT NULL DEFAULT 0,
    -- profile
    logo_url      text NOT NULL DEFAULT '',
    banner_url    text NOT NULL DEFAULT '',
    contact_phone text NOT NULL DEFAULT '',
    contact_email text NOT NULL DEFAULT '',
    opening_hours text NOT NULL DEFAULT '',
    return_policy text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);
CREATE INDEX shops_owner_idx ON shop.shops (owner_id, created_at DESC) WHERE status <> 'deleted';
CREATE INDEX shops_list_idx ON shop.shops (created_at DESC, id DESC) WHERE status = 'active';
CREATE INDEX shops_location_idx ON shop.shops USING gist (public.ll_to_earth(lat, lng)) WHERE status = 'active';
CREATE INDEX shops_categories_idx ON shop.shops USING gin (category_ids) WHERE status = 'active';

-- +goose Down
DROP SCHEMA shop CASCADE;
