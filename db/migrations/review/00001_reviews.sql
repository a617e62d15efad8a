-- +goose Up
CREATE SCHEMA IF NOT EXISTS review;

-- A review rests on a delivered purchase: a product review on one order item, a shop review and
-- a delivery review on one order. The purchase's facts (variant, shop, delivery date, shipper)
-- are copied from the order context when the review is written, so the review can show them
-- without asking again.
CREATE TABLE review.reviews (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    target          text NOT NULL CHECK (target IN ('product', 'shop', 'delivery')),
    -- The product, the shop, or the shipper's user ID.
    target_id       uuid NOT NULL,
    author_id       uuid NOT NULL,
    order_id        uuid NOT NULL,
    order_item_id   uuid,
    product_id      uuid,
    variant_id      uuid,
    variant_name    text NOT NULL DEFAULT '',
    shop_id         uuid NOT NULL,
    shipper_id      uuid,
    delivered_at    timestamptz NOT NULL,
    rating          smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment         text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    -- Why the rules held the review back (empty when they did not), and an admin's reason to reject.
    flags           text[] NOT NULL DEFAULT '{}',
    reject_reason   text NOT NULL DEFAULT '',
    report_count    integer NOT NULL DEFAULT 0,
    -- The rating the summary rows hold for this review (NULL: it is not counted). Every change
    -- of status, rating or deletion moves the summary by the difference, in the same transaction.
    counted_rating  smallint CHECK (counted_rating BETWEEN 1 AND 5),
    sentiment_score real NOT NULL DEFAULT 0,
    sentiment_label text NOT NULL DEFAULT 'neutral' CHECK (sentiment_label IN ('positive', 'neutral', 'negative')),
    -- aspect -> score (below 0: buyers complain about it).
    aspects         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(aspects) = 'object'),
    reply           text,
    replied_by      uuid,
    replied_at      timestamptz,
    edited_at       timestamptz,
    moderated_by    uuid,
    moderated_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz,
    CONSTRAINT reviews_product_item CHECK ((target = 'product') = (order_item_id IS NOT NULL AND product_id IS NOT NULL)),
    CONSTRAINT reviews_delivery_shipper CHECK (target <> 'delivery' OR shipper_id IS NOT NULL)
);
-- Once per order item, and one shop review and one delivery review per order, deleted or not:
-- a deleted review is not written again.
CREATE UNIQUE INDEX reviews_item_key ON review.reviews (order_item_id) WHERE target = 'product';
CREATE UNIQUE INDEX reviews_order_key ON review.reviews (order_id, target) WHERE target IN ('shop', 'delivery');
-- The public lists: a target's published reviews, newest first.
CREATE INDEX reviews_target_idx ON review.reviews (target, target_id, created_at DESC, id DESC)
    WHERE status = 'approved' AND deleted_at IS NULL;
CREATE INDEX reviews_shop_idx ON review.reviews (shop_id, created_at DESC, id DESC)
    WHERE status = 'approved' AND deleted_at IS NULL;
CREATE INDEX reviews_pending_idx ON review.reviews (created_at, id) WHERE status = 'pending' AND deleted_at IS NULL;
CREATE INDEX reviews_author_idx ON review.reviews (author_id, created_at DESC, id DESC);

-- One report per user per review.
CREATE TABLE review.reports (
    review_id  uuid NOT NULL REFERENCES review.reviews (id),
    user_id    uuid NOT NULL,
    reason     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, user_id)
);

-- The rating of a product, a shop or a shipper: counts per star of its counted reviews, moved
-- by each approval, edit, rejection and deletion in that change's transaction, never recounted.
-- version grows with every change, so subscribers of the rating events keep the newest.
-- shop_products is the summary of all of a shop's products, moved with each product's.
CREATE TABLE review.rating_summaries (
    target     text NOT NULL CHECK (target IN ('product', 'shop', 'delivery', 'shop_products')),
    target_id  uuid NOT NULL,
    star1      integer NOT NULL DEFAULT 0 CHECK (star1 >= 0),
    star2      integer NOT NULL DEFAULT 0 CHECK (star2 >= 0),
    star3      integer NOT NULL DEFAULT 0 CHECK (star3 >= 0),
    star4      integer NOT NULL DEFAULT 0 CHECK (star4 >= 0),
    star5      integer NOT NULL DEFAULT 0 CHECK (star5 >= 0),
    version    bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target, target_id)
);

-- The aspects each review speaks of, one row each, for the sentiment aggregates (the review's
-- own `aspects` holds the same for display).
CREATE TABLE review.review_aspects (
    review_id uuid NOT NULL REFERENCES review.reviews (id),
    aspect    text NOT NULL CHECK (aspect IN ('delivery', 'packaging', 'quality', 'price', 'service')),
    score     float8 NOT NULL,
    PRIMARY KEY (review_id, aspect)
);

-- +goose Down
DROP SCHEMA review CASCADE;
