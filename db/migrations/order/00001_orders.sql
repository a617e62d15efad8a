-- +goose Up
CREATE SCHEMA IF NOT EXISTS orders;

-- One order per shop of a checkout. Items, prices and the delivery address are snapshots: what
-- was bought stays what it was, whatever later happens to the catalog or the address book.
CREATE TABLE orders.orders (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    checkout_id         uuid NOT NULL,
    buyer_id            uuid NOT NULL,
    shop_id             uuid NOT NULL,
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN
        ('pending', 'confirmed', 'shipped', 'delivered', 'cancelled', 'return_requested', 'returned', 'refunded')),
    payment_method      text NOT NULL CHECK (payment_method IN ('cod', 'card', 'ewallet', 'bank_transfer')),
    payment_provider    text,
    payment_status      text NOT NULL DEFAULT 'unpaid' CHECK (payment_status IN
        ('unpaid', 'paid', 'refund_pending', 'refunded', 'partially_refunded')),
    shipping_method     text NOT NULL DEFAULT 'standard',
    subtotal            bigint NOT NULL CHECK (subtotal >= 0),
    discount            bigint NOT NULL DEFAULT 0 CHECK (discount >= 0),
    shipping_fee        bigint NOT NULL DEFAULT 0 CHECK (shipping_fee >= 0),
    tax                 bigint NOT NULL DEFAULT 0 CHECK (tax >= 0),
    tax_inclusive       boolean NOT NULL,
    tax_rate_bps        bigint NOT NULL,
    total               bigint NOT NULL CHECK (total >= 0),
    currency            text NOT NULL DEFAULT 'VND',
    weight_grams        bigint NOT NULL DEFAULT 0,
    voucher_id          uuid,
    voucher_code        text,
    address             jsonb NOT NULL,
    note                text NOT NULL DEFAULT '',
    tracking_number     text,
    carrier             text,
    hidden_by_buyer     boolean NOT NULL DEFAULT false,
    paid_at             timestamptz,
    confirmed_at        timestamptz,
    shipped_at          timestamptz,
    delivered_at        timestamptz,
    cancelled_at        timestamptz,
    return_requested_at timestamptz,
    return_reason       text,
    return_decision     text,
    returned_at         timestamptz,
    refunded_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_total CHECK (total = subtotal - discount + shipping_fee + CASE WHEN tax_inclusive THEN 0 ELSE tax END)
);
CREATE INDEX orders_buyer_idx ON orders.orders (buyer_id, created_at DESC, id DESC);
CREATE INDEX orders_shop_idx ON orders.orders (shop_id, created_at DESC, id DESC);
CREATE INDEX orders_shop_status_idx ON orders.orders (shop_id, status, created_at DESC, id DESC);
CREATE INDEX orders_checkout_idx ON orders.orders (checkout_id);

CREATE TABLE orders.items (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id      uuid NOT NULL REFERENCES orders.orders (id),
    product_id    uuid NOT NULL,
    variant_id    uuid NOT NULL,
    title         text NOT NULL,
    variant_name  text NOT NULL DEFAULT '',
    sku           text NOT NULL DEFAULT '',
    unit_price    bigint NOT NULL CHECK (unit_price >= 0),
    regular_price bigint NOT NULL CHECK (regular_price >= 0),
    campaign_id   uuid,
    quantity      integer NOT NULL CHECK (quantity > 0),
    line_total    bigint NOT NULL CHECK (line_total = unit_price * quantity),
    weight_grams  bigint NOT NULL DEFAULT 0
);
CREATE INDEX items_order_idx ON orders.items (order_id);

-- Every status move: who made it, when and why. status-history and timeline read it.
CREATE TABLE orders.status_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    uuid NOT NULL REFERENCES orders.orders (id),
    from_status text,
    to_status   text NOT NULL,
    actor_id    uuid,
    actor_role  text NOT NULL CHECK (actor_role IN ('buyer', 'shop', 'admin', 'shipper', 'system')),
    reason      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_history_order_idx ON orders.status_history (order_id, id);

CREATE TABLE orders.refund_requests (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id    uuid NOT NULL REFERENCES orders.orders (id),
    buyer_id    uuid NOT NULL,
    amount      bigint NOT NULL CHECK (amount > 0),
    reason      text NOT NULL,
    status      text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'approved', 'rejected', 'refunded')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- One open refund request per order.
CREATE UNIQUE INDEX refund_requests_open ON orders.refund_requests (order_id) WHERE status IN ('requested', 'approved');
CREATE INDEX refund_requests_buyer_idx ON orders.refund_requests (buyer_id, created_at DESC, id DESC);

-- Idempotency-Key records of checkouts: the first answer is kept and replayed.
CREATE TABLE orders.idempotency_keys (
    user_id      uuid NOT NULL,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    status_code  integer,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- +goose Down
DROP SCHEMA orders CASCADE;
