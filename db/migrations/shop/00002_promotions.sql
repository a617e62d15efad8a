-- +goose Up
-- Vouchers a shop offers. Money is in minor units; a percentage is a whole percent.
CREATE TABLE shop.promotions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id        uuid NOT NULL REFERENCES shop.shops (id),
    code           text NOT NULL,
    name           text NOT NULL,
    description    text NOT NULL DEFAULT '',
    kind           text NOT NULL CHECK (kind IN ('percentage', 'fixed')),
    value          bigint NOT NULL CHECK (value > 0),
    min_spend      bigint NOT NULL DEFAULT 0 CHECK (min_spend >= 0),
    max_discount   bigint CHECK (max_discount > 0),
    usage_limit    integer CHECK (usage_limit > 0),
    per_user_limit integer CHECK (per_user_limit > 0),
    used_count     integer NOT NULL DEFAULT 0,
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    scope          text NOT NULL DEFAULT 'shop' CHECK (scope IN ('shop', 'products')),
    product_ids    uuid[] NOT NULL DEFAULT '{}',
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'deleted')),
    currency       text NOT NULL DEFAULT 'VND',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT promotions_window CHECK (ends_at > starts_at),
    CONSTRAINT promotions_percentage CHECK (kind <> 'percentage' OR value <= 100),
    CONSTRAINT promotions_usage CHECK (usage_limit IS NULL OR used_count <= usage_limit),
    CONSTRAINT promotions_scope CHECK (scope = 'shop' OR cardinality(product_ids) > 0)
);
CREATE UNIQUE INDEX promotions_code_key ON shop.promotions (shop_id, upper(code)) WHERE status <> 'deleted';
CREATE INDEX promotions_shop_idx ON shop.promotions (shop_id, created_at DESC, id DESC) WHERE status <> 'deleted';

-- One row per use of a voucher by an order; per-user limits count these.
CREATE TABLE shop.promotion_redemptions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    promotion_id uuid NOT NULL REFERENCES shop.promotions (id),
    user_id      uuid NOT NULL,
    order_id     uuid NOT NULL,
    amount       bigint NOT NULL CHECK (amount >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    released_at  timestamptz,
    CONSTRAINT promotion_redemptions_once UNIQUE (promotion_id, order_id)
);
CREATE INDEX promotion_redemptions_user_idx ON shop.promotion_redemptions (promotion_id, user_id) WHERE released_at IS NULL;

-- Flash sales and other time-boxed campaigns: campaign prices and limited campaign stock.
CREATE TABLE shop.campaigns (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id     uuid NOT NULL REFERENCES shop.shops (id),
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    kind        text NOT NULL DEFAULT 'flash_sale' CHECK (kind IN ('flash_sale', 'seasonal', 'clearance')),
    status      text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'active', 'ended', 'cancelled')),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    currency    text NOT NULL DEFAULT 'VND',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaigns_window CHECK (ends_at > starts_at)
);
CREATE INDEX campaigns_shop_idx ON shop.campaigns (shop_id, starts_at DESC, id DESC);

CREATE TABLE shop.campaign_items (
    campaign_id    uuid NOT NULL REFERENCES shop.campaigns (id) ON DELETE CASCADE,
    variant_id     uuid NOT NULL,
    product_id     uuid NOT NULL,
    campaign_price bigint NOT NULL CHECK (campaign_price > 0),
    regular_price  bigint NOT NULL CHECK (regular_price > 0),
    campaign_stock integer NOT NULL CHECK (campaign_stock > 0),
    sold           integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
    PRIMARY KEY (campaign_id, variant_id),
    CONSTRAINT campaign_items_stock CHECK (sold <= campaign_stock),
    CONSTRAINT campaign_items_cheaper CHECK (campaign_price < regular_price)
);
-- The cart asks "is this variant in an active campaign?" for every line.
CREATE INDEX campaign_items_variant_idx ON shop.campaign_items (variant_id);

-- +goose Down
DROP TABLE shop.campaign_items;
DROP TABLE shop.campaigns;
DROP TABLE shop.promotion_redemptions;
DROP TABLE shop.promotions;
