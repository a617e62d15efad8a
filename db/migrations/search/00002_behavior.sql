-- +goose Up
-- What buyers do: product views, searches and clicks, by a signed-in user or an anonymous
-- visitor's device (a client-chosen ID). Raw events are personal data: they are kept for the
-- retention (BEHAVIOR_RETENTION), then dropped by a River job, and a deleted user's go at once.
CREATE TABLE search.behavior (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('view', 'search', 'click')),
    user_id     uuid,
    device_id   text,
    product_id  uuid,
    shop_id     uuid,
    category_id uuid,
    -- The query as typed (NFC) and its normalised form (words, lower case, accents kept).
    query       text,
    query_norm  text,
    results     integer,
    position    integer,
    CONSTRAINT behavior_who CHECK (user_id IS NOT NULL OR device_id IS NOT NULL)
);
CREATE INDEX behavior_user_idx ON search.behavior (user_id, kind, at DESC) WHERE user_id IS NOT NULL;
CREATE INDEX behavior_device_idx ON search.behavior (device_id, kind, at DESC) WHERE device_id IS NOT NULL;
CREATE INDEX behavior_at_idx ON search.behavior (at);

-- Views per product and day (the marketplace's day), with the product's shop: analytics reads
-- daily views per product and per shop from here. No personal data.
CREATE TABLE search.daily_views (
    day        date NOT NULL,
    product_id uuid NOT NULL,
    shop_id    uuid NOT NULL,
    views      bigint NOT NULL,
    PRIMARY KEY (day, product_id)
);
CREATE INDEX daily_views_shop_idx ON search.daily_views (shop_id, day);

-- +goose Down
DROP TABLE search.daily_views;
DROP TABLE search.behavior;
