-- +goose Up
-- A buyer's price alert: fires once when the product's (or the variant's) effective price drops
-- to or below the target.
CREATE TABLE search.price_alerts (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL,
    product_id      uuid NOT NULL,
    variant_id      uuid,
    target_price    bigint NOT NULL CHECK (target_price > 0),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'triggered')),
    triggered_price bigint,
    triggered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX price_alerts_user_idx ON search.price_alerts (user_id, created_at DESC, id DESC);
CREATE INDEX price_alerts_product_idx ON search.price_alerts (product_id) WHERE status = 'active' AND variant_id IS NULL;
CREATE INDEX price_alerts_variant_idx ON search.price_alerts (variant_id) WHERE status = 'active' AND variant_id IS NOT NULL;
CREATE UNIQUE INDEX price_alerts_once_key ON search.price_alerts (user_id, product_id, coalesce(variant_id, '00000000-0000-0000-0000-000000000000'::uuid))
    WHERE status = 'active';

-- +goose Down
DROP TABLE search.price_alerts;
