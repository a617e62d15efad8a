-- +goose Up
CREATE SCHEMA IF NOT EXISTS cart;

-- A buyer's cart is their rows here: PostgreSQL is its truth, so it survives anything that
-- happens to a cache. Prices are never stored: every read prices lines at the current
-- effective price.
CREATE TABLE cart.items (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL,
    variant_id uuid NOT NULL,
    product_id uuid NOT NULL,
    shop_id    uuid NOT NULL,
    quantity   integer NOT NULL CHECK (quantity BETWEEN 1 AND 999),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT items_one_line_per_variant UNIQUE (user_id, variant_id)
);
CREATE INDEX items_user_idx ON cart.items (user_id, created_at, id);

-- The voucher code a buyer applied to one shop's part of the cart.
CREATE TABLE cart.coupons (
    user_id    uuid NOT NULL,
    shop_id    uuid NOT NULL,
    code       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, shop_id)
);

CREATE TABLE cart.saved_carts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saved_carts_user_idx ON cart.saved_carts (user_id, created_at DESC, id DESC);

CREATE TABLE cart.saved_items (
    saved_cart_id uuid NOT NULL REFERENCES cart.saved_carts (id) ON DELETE CASCADE,
    variant_id    uuid NOT NULL,
    product_id    uuid NOT NULL,
    shop_id       uuid NOT NULL,
    quantity      integer NOT NULL CHECK (quantity BETWEEN 1 AND 999),
    PRIMARY KEY (saved_cart_id, variant_id)
);

-- +goose Down
DROP SCHEMA cart CASCADE;
