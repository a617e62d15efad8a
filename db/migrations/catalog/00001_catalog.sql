-- +goose Up
CREATE SCHEMA IF NOT EXISTS catalog;

-- Categories form a tree of any depth. The table is small (hundreds of rows), so subtrees are
-- walked with recursive CTEs instead of keeping a materialised path in step on every move.
CREATE TABLE catalog.categories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parent_id   uuid REFERENCES catalog.categories (id),
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT categories_not_own_parent CHECK (parent_id <> id)
);
-- Sibling names are unique, case-insensitively; roots are siblings of one another.
CREATE UNIQUE INDEX categories_sibling_name_key
    ON catalog.categories (coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid), lower(name));
CREATE INDEX categories_parent_idx ON catalog.categories (parent_id, name, id);

-- A product. Price and stock live on its variants; `price` here is the lowest effective
-- variant price, stored so that price filters and price sorting read an index. Scheduled jobs
-- move it when a discount starts or ends; reads compute the exact price for their instant.
CREATE TABLE catalog.products (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    shop_id             uuid NOT NULL,
    title               text NOT NULL,
    description         text NOT NULL DEFAULT '',
    brand               text NOT NULL DEFAULT '',
    model               text NOT NULL DEFAULT '',
    category_id         uuid REFERENCES catalog.categories (id),
    attributes          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('draft', 'active', 'archived')),
    currency            text NOT NULL DEFAULT 'VND',
    price               bigint NOT NULL DEFAULT 0 CHECK (price >= 0),
    low_stock_threshold integer NOT NULL DEFAULT 5 CHECK (low_stock_threshold >= 0),
    weight_grams        integer NOT NULL DEFAULT 0 CHECK (weight_grams >= 0),
    rating              numeric(3, 2) NOT NULL DEFAULT 0,
    rating_count        integer NOT NULL DEFAULT 0,
    -- The product's one live discount (current or scheduled), if any: a percentage off, or a
    -- sale price, for every variant or for one.
    discount_id         uuid,
    discount_percent    integer CHECK (discount_percent BETWEEN 1 AND 99),
    discount_price      bigint CHECK (discount_price > 0),
    discount_variant_id uuid,
    discount_starts_at  timestamptz,
    discount_ends_at    timestamptz,
    discount_by         uuid,
    created_by          uuid NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    -- Set when the shop closes (the shop.deleted event).
    shop_hidden_at      timestamptz,
    -- What buyers may see: every public list reads the partial indexes below.
    listed              boolean NOT NULL GENERATED ALWAYS AS (status = 'active' AND deleted_at IS NULL AND shop_hidden_at IS NULL) STORED,
    CONSTRAINT products_discount_complete CHECK (
        (discount_id IS NULL AND discount_percent IS NULL AND discount_price IS NULL AND discount_variant_id IS NULL
             AND discount_starts_at IS NULL AND discount_ends_at IS NULL)
        OR (discount_id IS NOT NULL AND (discount_percent IS NULL) <> (discount_price IS NULL)
             AND discount_starts_at < discount_ends_at))
);
-- One index per sort (newest, price, rating), alone and under a category, so that every list
-- is a walk of an index in order; both directions of price read the same index.
CREATE INDEX products_listed_created_idx ON catalog.products (created_at, id) WHERE listed AND deleted_at IS NULL;
CREATE INDEX products_listed_price_idx ON catalog.products (price, id) WHERE listed AND deleted_at IS NULL;
CREATE INDEX products_listed_rating_idx ON catalog.products (rating, id) WHERE listed AND deleted_at IS NULL;
CREATE INDEX products_category_created_idx ON catalog.products (category_id, created_at, id) WHERE listed AND deleted_at IS NULL;
CREATE INDEX products_category_price_idx ON catalog.products (category_id, price, id) WHERE listed AND deleted_at IS NULL;
CREATE INDEX products_category_rating_idx ON catalog.products (category_id, rating, id) WHERE listed AND deleted_at IS NULL;
CREATE INDEX products_brand_created_idx ON catalog.products (lower(brand), created_at, id) WHERE listed AND deleted_at IS NULL;
CREATE INDEX products_shop_price_idx ON catalog.products (shop_id, price, id) WHERE listed AND deleted_at IS NULL;
-- A shop's live products in any status (the owner's view) and its public ones.
CREATE INDEX products_shop_created_idx ON catalog.products (shop_id, created_at, id) WHERE deleted_at IS NULL;

-- A variant: what is bought. Every product has at least one (a default one when the seller
-- names none). `price` is the seller's list price; `effective_price` follows the discount.
CREATE TABLE catalog.variants (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id      uuid NOT NULL REFERENCES catalog.products (id),
    shop_id         uuid NOT NULL,
    sku             text NOT NULL DEFAULT '',
    name            text NOT NULL,
    attributes      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    price           bigint NOT NULL CHECK (price > 0),
    effective_price bigint NOT NULL CHECK (effective_price >= 0),
    -- Stock never goes below zero, whatever runs concurrently: writers use conditional updates,
    -- and this constraint catches any that forgets.
    stock           integer NOT NULL DEFAULT 0 CONSTRAINT variants_stock_not_negative CHECK (stock >= 0),
    is_default      boolean NOT NULL DEFAULT false,
    -- The clock, not the transaction's start: variants made together keep their order.
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX variants_shop_sku_key ON catalog.variants (shop_id, sku) WHERE sku <> '';
CREATE INDEX variants_product_idx ON catalog.variants (product_id, created_at, id);
-- A shop's inventory, lowest stock first (also the low-stock listing).
CREATE INDEX variants_shop_stock_idx ON catalog.variants (shop_id, stock, id);

-- Every change of a variant's list or effective price: old, new, who (NULL: the scheduler),
-- when and why.
CREATE TABLE catalog.price_history (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id uuid NOT NULL REFERENCES catalog.products (id),
    variant_id uuid NOT NULL REFERENCES catalog.variants (id),
    kind       text NOT NULL CHECK (kind IN ('list', 'effective')),
    old_price  bigint NOT NULL,
    new_price  bigint NOT NULL,
    reason     text NOT NULL,
    changed_by uuid,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX price_history_product_idx ON catalog.price_history (product_id, id);

-- Every change of a variant's stock: the signed delta, why, who, and the stock it left.
CREATE TABLE catalog.stock_movements (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    variant_id  uuid NOT NULL REFERENCES catalog.variants (id),
    product_id  uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('initial', 'set', 'adjustment', 'reservation', 'release')),
    delta       integer NOT NULL,
    stock_after integer NOT NULL CHECK (stock_after >= 0),
    reason      text NOT NULL DEFAULT '',
    actor_id    uuid,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_product_idx ON catalog.stock_movements (product_id, id);

-- +goose Down
DROP SCHEMA catalog CASCADE;
