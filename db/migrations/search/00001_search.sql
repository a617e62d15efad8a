-- +goose Up
-- The search context's read model: one document per listed product, fed by catalog, shop and
-- order events and rebuilt by `goshop search reindex`. Nothing here is the source of truth.
CREATE SCHEMA IF NOT EXISTS search;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

-- fold is how text is compared without diacritics: lower case, accents off, đ to d. unaccent()
-- with its dictionary named is immutable in fact, so the wrapper may say so and be indexed.
CREATE FUNCTION search.fold(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN public.unaccent('public.unaccent'::regdictionary, lower(t));

-- Documents are matched in the folded configuration (simple words with accents off), and ranked
-- again in the exact one, so that "bàn" ranks the table above "bán" (to sell).
CREATE TEXT SEARCH CONFIGURATION search.folded (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION search.folded
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH public.unaccent, simple;

CREATE TABLE search.documents (
    product_id    uuid PRIMARY KEY,
    shop_id       uuid NOT NULL,
    title         text NOT NULL,
    description   text NOT NULL DEFAULT '',
    brand         text NOT NULL DEFAULT '',
    model         text NOT NULL DEFAULT '',
    gtin          text NOT NULL DEFAULT '',
    category_id   uuid,
    category_name text NOT NULL DEFAULT '',
    -- The category and its ancestors, so that a category filter takes its whole subtree.
    category_ids  uuid[] NOT NULL DEFAULT '{}',
    category_path text NOT NULL DEFAULT '',
    attributes    jsonb NOT NULL DEFAULT '{}',
    -- "name=value" pairs, folded, for attr.<name>=<value> filters.
    attrs         text[] NOT NULL DEFAULT '{}',
    attrs_text    text NOT NULL DEFAULT '',
    -- The effective price: lowest over the variants of (live campaign price with stock left,
    -- else the running discount, else the list price); list_price is that variant's list price.
    price         bigint NOT NULL,
    list_price    bigint NOT NULL,
    currency      text NOT NULL DEFAULT 'VND',
    rating        numeric(3, 2) NOT NULL DEFAULT 0,
    rating_count  integer NOT NULL DEFAULT 0,
    sold_count    bigint NOT NULL DEFAULT 0,
    stock         bigint NOT NULL DEFAULT 0,
    in_stock      boolean NOT NULL GENERATED ALWAYS AS (stock > 0) STORED,
    weight_grams  integer NOT NULL DEFAULT 0,
    shop_name     text NOT NULL DEFAULT '',
    shop_rating   numeric(3, 2) NOT NULL DEFAULT 0,
    province      text NOT NULL DEFAULT '',
    lat           double precision NOT NULL DEFAULT 0,
    lng           double precision NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    -- When the source was read for this version: a write that read the source earlier than
    -- the row's never replaces it, so deliveries that overtake one another leave the newest.
    source_at     timestamptz NOT NULL,
    -- Title first, then brand, model and category, then attributes and the shop's province,
    -- then the description.
    tsv           tsvector NOT NULL GENERATED ALWAYS AS (
        setweight(to_tsvector('search.folded', title), 'A') ||
        setweight(to_tsvector('search.folded', brand || ' ' || model || ' ' || category_path), 'B') ||
        setweight(to_tsvector('search.folded', attrs_text || ' ' || province), 'C') ||
        setweight(to_tsvector('search.folded', left(description, 2000)), 'D')) STORED,
    tsv_exact     tsvector NOT NULL GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') ||
        setweight(to_tsvector('simple', brand || ' ' || model || ' ' || category_path), 'B') ||
        setweight(to_tsvector('simple', attrs_text || ' ' || province), 'C')) STORED
);
CREATE INDEX documents_tsv_idx ON search.documents USING gin (tsv);
CREATE INDEX documents_category_idx ON search.documents USING gin (category_ids);
CREATE INDEX documents_attrs_idx ON search.documents USING gin (attrs);
CREATE INDEX documents_shop_idx ON search.documents (shop_id);
CREATE INDEX documents_price_idx ON search.documents (price, product_id);
CREATE INDEX documents_created_idx ON search.documents (created_at, product_id);
CREATE INDEX documents_sold_idx ON search.documents (sold_count, product_id);
CREATE INDEX documents_rating_idx ON search.documents (rating, product_id);
CREATE INDEX documents_brand_idx ON search.documents (lower(brand));
CREATE INDEX documents_gtin_idx ON search.documents (gtin) WHERE gtin <> '';
CREATE INDEX documents_brand_model_idx ON search.documents (lower(brand), lower(model)) WHERE brand <> '' AND model <> '';
CREATE INDEX documents_category_price_idx ON search.documents (category_id, price);
CREATE INDEX documents_title_trgm_idx ON search.documents USING gin (search.fold(title) gin_trgm_ops);
CREATE INDEX documents_location_idx ON search.documents USING gist (public.ll_to_earth(lat, lng));

-- Products taken out of the index, and when their source was read then: a refresh that read
-- the source before that does not put them back.
CREATE TABLE search.removed (
    product_id uuid PRIMARY KEY,
    source_at  timestamptz NOT NULL
);

-- Units sold, per order and product, from order.placed: inserting the same order twice adds
-- nothing, so the sold count is right whatever the redeliveries.
CREATE TABLE search.sales (
    order_id   uuid NOT NULL,
    -- The checkout the order came from: one basket, whatever the shops (co-purchases).
    checkout_id uuid NOT NULL,
    product_id uuid NOT NULL,
    shop_id    uuid NOT NULL,
    -- NULL once the buyer's account is deleted: the sale still counts.
    buyer_id   uuid,
    quantity   integer NOT NULL,
    sold_at    timestamptz NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX sales_product_idx ON search.sales (product_id, checkout_id);
CREATE INDEX sales_checkout_idx ON search.sales (checkout_id);
CREATE INDEX sales_buyer_idx ON search.sales (buyer_id) WHERE buyer_id IS NOT NULL;
CREATE INDEX sales_sold_idx ON search.sales (sold_at);

-- The vocabulary of the catalog: every word of titles, brands and models as written, with its
-- folded form and how many documents hold it. Autocomplete reads it by prefix, "did you mean"
-- by trigram similarity.
CREATE TABLE search.terms (
    word   text PRIMARY KEY,
    folded text NOT NULL,
    docs   integer NOT NULL DEFAULT 1
);
CREATE INDEX terms_prefix_idx ON search.terms (folded text_pattern_ops, docs DESC);
CREATE INDEX terms_trgm_idx ON search.terms USING gin (folded gin_trgm_ops);

-- Shorthand buyers type, and what it stands for. Admins may add rows.
CREATE TABLE search.synonyms (
    term       text PRIMARY KEY CHECK (term = lower(term)),
    expansion  text NOT NULL
);
INSERT INTO search.synonyms (term, expansion) VALUES
    ('dt', 'điện thoại'),
    ('đt', 'điện thoại'),
    ('hcm', 'hồ chí minh'),
    ('sg', 'hồ chí minh'),
    ('tphcm', 'hồ chí minh'),
    ('hn', 'hà nội'),
    ('laptop', 'máy tính xách tay'),
    ('tv', 'tivi');

-- +goose Down
DROP SCHEMA search CASCADE;
