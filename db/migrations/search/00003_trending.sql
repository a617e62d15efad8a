-- +goose Up
-- Add-to-carts from cart.item_added, one row per event (its ID makes a redelivery a no-op).
CREATE TABLE search.cart_adds (
    event_id   text PRIMARY KEY,
    user_id    uuid,
    product_id uuid NOT NULL,
    shop_id    uuid NOT NULL,
    quantity   integer NOT NULL,
    at         timestamptz NOT NULL
);
CREATE INDEX cart_adds_at_idx ON search.cart_adds (at);
CREATE INDEX cart_adds_user_idx ON search.cart_adds (user_id) WHERE user_id IS NOT NULL;

-- Trending products, shops and categories by time-decayed score, recomputed whole by a River
-- periodic job (see the README for the formula).
CREATE TABLE search.trending (
    kind   text NOT NULL CHECK (kind IN ('product', 'shop', 'category')),
    id     uuid NOT NULL,
    score  double precision NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX trending_rank_idx ON search.trending (kind, score DESC, id DESC);

-- Popular searches over the last days (queries that found something), recomputed by the same job.
CREATE TABLE search.popular_queries (
    query    text PRIMARY KEY,
    folded   text NOT NULL,
    searches integer NOT NULL
);
CREATE INDEX popular_queries_rank_idx ON search.popular_queries (searches DESC, query);
CREATE INDEX popular_queries_prefix_idx ON search.popular_queries (folded text_pattern_ops);
CREATE INDEX popular_queries_trgm_idx ON search.popular_queries USING gin (folded gin_trgm_ops);

-- +goose Down
DROP TABLE search.popular_queries;
DROP TABLE search.trending;
DROP TABLE search.cart_adds;
