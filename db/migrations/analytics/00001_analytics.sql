-- +goose Up
-- The analytics context's read model. Nothing here is the source of truth: orders come from the
-- order context and money from the payment context, read through their ports whenever an event
-- names an order, and `goshop analytics rebuild` makes all of it again from them.
--
-- analytics.orders, order_lines and refunds hold the facts of each order as the source last
-- answered them, with the marketplace days (MARKETPLACE_TZ) already cut; shop_days and
-- product_days are sums over them per shop (and product) and day, recomputed for exactly the days
-- an order touched, so that a request reads a few rollup rows and never scans orders.
CREATE SCHEMA IF NOT EXISTS analytics;

CREATE TABLE analytics.orders (
    order_id        uuid PRIMARY KEY,
    shop_id         uuid NOT NULL,
    buyer_id        uuid NOT NULL,
    status          text NOT NULL,
    payment_method  text NOT NULL,
    shipping_method text NOT NULL,
    subtotal        bigint NOT NULL,
    discount        bigint NOT NULL,
    shipping_fee    bigint NOT NULL,
    total           bigint NOT NULL,
    currency        text NOT NULL,
    placed_at       timestamptz NOT NULL,
    placed_day      date NOT NULL,
    -- sale_day: the day the order counts as a sale (paid; cash on delivery: delivered); none
    -- while it is not one, and never for a cancelled order.
    sale_at         timestamptz,
    sale_day        date,
    confirmed_at    timestamptz,
    shipped_at      timestamptz,
    delivered_at    timestamptz,
    cancelled_at    timestamptz,
    returned_at     timestamptz,
    -- on_time: delivered within the shipping method's promised days after pickup.
    on_time         boolean,
    commission      bigint NOT NULL DEFAULT 0,
    released_day    date,
    refreshed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_placed_idx ON analytics.orders (shop_id, placed_day, placed_at, order_id);
CREATE INDEX orders_sale_idx ON analytics.orders (shop_id, sale_day) WHERE sale_day IS NOT NULL;
CREATE INDEX orders_released_idx ON analytics.orders (shop_id, released_day) WHERE released_day IS NOT NULL;

CREATE TABLE analytics.order_lines (
    order_id   uuid NOT NULL REFERENCES analytics.orders (order_id) ON DELETE CASCADE,
    line_no    integer NOT NULL,
    product_id uuid NOT NULL,
    title      text NOT NULL,
    quantity   integer NOT NULL,
    revenue    bigint NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

-- Refunds that went through, on the day they did; counted is false for an order that never was
-- a sale (a cancelled order's money going back takes nothing off the shop's sales).
CREATE TABLE analytics.refunds (
    refund_id uuid PRIMARY KEY,
    order_id  uuid NOT NULL REFERENCES analytics.orders (order_id) ON DELETE CASCADE,
    shop_id   uuid NOT NULL,
    amount    bigint NOT NULL,
    day       date NOT NULL,
    counted   boolean NOT NULL
);
CREATE INDEX refunds_order_idx ON analytics.refunds (order_id);
CREATE INDEX refunds_day_idx ON analytics.refunds (shop_id, day);

-- One row per shop and day that has anything. Counts by status, times and on-time deliveries
-- are of the orders placed that day; sales, gross and discounts of those sold that day; refunds
-- and commission of the day they were made.
CREATE TABLE analytics.shop_days (
    shop_id          uuid NOT NULL,
    day              date NOT NULL,
    placed           integer NOT NULL,
    pending          integer NOT NULL,
    confirmed        integer NOT NULL,
    shipped          integer NOT NULL,
    delivered        integer NOT NULL,
    cancelled        integer NOT NULL,
    returned         integer NOT NULL,
    confirm_count    integer NOT NULL,
    confirm_seconds  bigint NOT NULL,
    ship_count       integer NOT NULL,
    ship_seconds     bigint NOT NULL,
    arrived          integer NOT NULL,
    on_time          integer NOT NULL,
    sales            integer NOT NULL,
    gross            bigint NOT NULL,
    discounts        bigint NOT NULL,
    refunds          bigint NOT NULL,
    commission       bigint NOT NULL,
    net              bigint GENERATED ALWAYS AS (gross - discounts - refunds - commission) STORED,
    PRIMARY KEY (shop_id, day)
);

-- Units and revenue per product and day of sale.
CREATE TABLE analytics.product_days (
    shop_id    uuid NOT NULL,
    product_id uuid NOT NULL,
    day        date NOT NULL,
    title      text NOT NULL,
    units      bigint NOT NULL,
    revenue    bigint NOT NULL,
    orders     integer NOT NULL,
    PRIMARY KEY (shop_id, day, product_id)
);
CREATE INDEX product_days_product_idx ON analytics.product_days (product_id, day);

-- Product views per day, copied from the search context's daily counts (absolute values, so a
-- copy made twice is the same).
CREATE TABLE analytics.product_views (
    product_id uuid NOT NULL,
    day        date NOT NULL,
    shop_id    uuid NOT NULL,
    views      bigint NOT NULL,
    PRIMARY KEY (product_id, day)
);
CREATE INDEX product_views_shop_idx ON analytics.product_views (shop_id, day);

-- +goose Down
DROP SCHEMA analytics CASCADE;
