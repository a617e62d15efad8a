-- name: UpsertDocument :exec
-- Writes a product's document unless a newer read of the source is already there, or the
-- product was removed after this read; sold_count comes from the sales recorded so far.
INSERT INTO search.documents (product_id, shop_id, title, description, brand, model, gtin, category_id, category_name,
                              category_ids, category_path, attributes, attrs, attrs_text, price, list_price, currency,
                              rating, rating_count, sold_count, stock, weight_grams, shop_name, shop_rating, province, lat,
                              lng, created_at, source_at)
SELECT @product_id, @shop_id, @title, @description, @brand, @model, @gtin, @category_id, @category_name,
       @category_ids::uuid[], @category_path, @attributes,
       ARRAY(SELECT search.fold(a) FROM unnest(@attrs::text[]) AS a), @attrs_text, @price, @list_price, @currency,
       @rating, @rating_count,
       (SELECT coalesce(sum(s.quantity), 0)::bigint FROM search.sales s WHERE s.product_id = @product_id),
       @stock, @weight_grams, @shop_name, @shop_rating, @province, @lat, @lng, @created_at, @source_at
WHERE NOT EXISTS (SELECT 1 FROM search.removed r WHERE r.product_id = @product_id AND r.source_at > @source_at)
ON CONFLICT (product_id) DO UPDATE
SET shop_id = EXCLUDED.shop_id, title = EXCLUDED.title, description = EXCLUDED.description, brand = EXCLUDED.brand,
    model = EXCLUDED.model, gtin = EXCLUDED.gtin, category_id = EXCLUDED.category_id,
    category_name = EXCLUDED.category_name, category_ids = EXCLUDED.category_ids,
    category_path = EXCLUDED.category_path, attributes = EXCLUDED.attributes, attrs = EXCLUDED.attrs,
    attrs_text = EXCLUDED.attrs_text, price = EXCLUDED.price, list_price = EXCLUDED.list_price,
    currency = EXCLUDED.currency, rating = EXCLUDED.rating, rating_count = EXCLUDED.rating_count,
    sold_count = EXCLUDED.sold_count, stock = EXCLUDED.stock, weight_grams = EXCLUDED.weight_grams,
    shop_name = EXCLUDED.shop_name, shop_rating = EXCLUDED.shop_rating,
    province = EXCLUDED.province, lat = EXCLUDED.lat, lng = EXCLUDED.lng, created_at = EXCLUDED.created_at,
    source_at = EXCLUDED.source_at
WHERE search.documents.source_at <= EXCLUDED.source_at;

-- name: ForgetRemoval :exec
-- A product listed again after its removal loses its tombstone once a newer read indexed it.
DELETE FROM search.removed WHERE product_id = @product_id AND source_at < @source_at;

-- name: RemoveDocument :exec
DELETE FROM search.documents WHERE product_id = @product_id AND source_at <= @source_at;

-- name: MarkRemoved :exec
INSERT INTO search.removed (product_id, source_at) VALUES (@product_id, @source_at)
ON CONFLICT (product_id) DO UPDATE SET source_at = greatest(search.removed.source_at, EXCLUDED.source_at);

-- name: ShopDocumentIDs :many
SELECT product_id FROM search.documents WHERE shop_id = $1 ORDER BY product_id;

-- name: RecordSales :exec
-- The units sold of a delivery's orders, one row an order and product, in one statement whatever
-- the cart (the arrays are the rows, zipped); a row recorded already (a redelivery) adds nothing.
WITH s AS (
    SELECT unnest(@order_ids::uuid[]) AS order_id, unnest(@checkout_ids::uuid[]) AS checkout_id,
        unnest(@product_ids::uuid[]) AS product_id, unnest(@shop_ids::uuid[]) AS shop_id,
        unnest(@buyer_ids::uuid[]) AS buyer_id, unnest(@quantities::int[]) AS quantity,
        unnest(@sold_ats::timestamptz[]) AS sold_at
)
INSERT INTO search.sales (order_id, checkout_id, product_id, shop_id, buyer_id, quantity, sold_at)
SELECT s.order_id, s.checkout_id, s.product_id, s.shop_id, s.buyer_id, s.quantity, s.sold_at
FROM s
ON CONFLICT (order_id, product_id) DO NOTHING;

-- name: AddTerms :exec
-- New words of the vocabulary; existing ones keep their count until the recount.
INSERT INTO search.terms (word, folded)
SELECT w, search.fold(w) FROM unnest(@words::text[]) AS w
ON CONFLICT (word) DO NOTHING;

-- name: Synonyms :many
SELECT term, expansion FROM search.synonyms WHERE term = ANY (@terms::text[]);

-- name: KnownTerms :many
-- Which of the words the vocabulary holds, accents aside.
SELECT w::text FROM unnest(@words::text[]) AS w
WHERE EXISTS (SELECT 1 FROM search.terms t WHERE t.folded = search.fold(w));

-- name: ClosestTerm :one
-- The vocabulary's word most like a folded word (trigram similarity over the session's
-- pg_trgm.similarity_threshold), the commonest first among equals.
SELECT word, folded FROM search.terms
WHERE folded % search.fold(@word::text)
ORDER BY similarity(folded, search.fold(@word::text)) DESC, docs DESC, word
LIMIT 1;

-- name: CompleteTerm :many
-- Words of the vocabulary starting with a folded prefix, commonest first.
SELECT word, docs FROM search.terms
WHERE folded LIKE search.fold(@prefix::text) || '%'
ORDER BY docs DESC, word
LIMIT @lim;

-- name: TruncateIndex :exec
TRUNCATE search.documents, search.removed, search.terms;

-- name: RecentProducts :many
-- The products a user or device viewed, each once, most recently viewed first.
SELECT v.product_id, v.viewed_at, d.title, d.price, d.currency, d.in_stock
FROM (
    SELECT b.product_id, max(b.at)::timestamptz AS viewed_at FROM search.behavior b
    WHERE b.kind = 'view' AND ((sqlc.narg(user_id)::uuid IS NOT NULL AND b.user_id = sqlc.narg(user_id))
        OR (sqlc.narg(user_id)::uuid IS NULL AND b.device_id = sqlc.narg(device_id)))
    GROUP BY b.product_id
) v JOIN search.documents d ON d.product_id = v.product_id
WHERE (sqlc.narg(after_at)::timestamptz IS NULL OR (v.viewed_at, v.product_id) < (sqlc.narg(after_at), sqlc.narg(after_id)::uuid))
ORDER BY v.viewed_at DESC, v.product_id DESC
LIMIT @lim;

-- name: RecentSearches :many
-- The queries a user or device searched, each once, most recent first.
SELECT s.query_norm, s.searched_at FROM (
    SELECT b.query_norm, max(b.at)::timestamptz AS searched_at FROM search.behavior b
    WHERE b.kind = 'search' AND ((sqlc.narg(user_id)::uuid IS NOT NULL AND b.user_id = sqlc.narg(user_id))
        OR (sqlc.narg(user_id)::uuid IS NULL AND b.device_id = sqlc.narg(device_id)))
    GROUP BY b.query_norm
) s
WHERE (sqlc.narg(after_at)::timestamptz IS NULL OR (s.searched_at, s.query_norm) < (sqlc.narg(after_at), sqlc.narg(after_q)::text))
ORDER BY s.searched_at DESC, s.query_norm DESC
LIMIT @lim;

-- name: DropBehaviorBefore :execrows
-- Drops raw events older than the retention, a bounded batch at a time.
DELETE FROM search.behavior WHERE id IN (SELECT b.id FROM search.behavior b WHERE b.at < @before::timestamptz LIMIT 10000);

-- name: ForgetUser :exec
DELETE FROM search.behavior WHERE user_id = $1;

-- name: DailyViews :many
-- Views per product and day between two days (both included).
SELECT day, product_id, shop_id, views FROM search.daily_views WHERE day BETWEEN @from_day AND @to_day
ORDER BY day, product_id;

-- name: DailyShopViews :many
SELECT day, shop_id, sum(views)::bigint AS views FROM search.daily_views WHERE day BETWEEN @from_day AND @to_day
GROUP BY day, shop_id ORDER BY day, shop_id;

-- name: RecordCartAdd :exec
INSERT INTO search.cart_adds (event_id, user_id, product_id, shop_id, quantity, at)
VALUES (@event_id, @user_id, @product_id, @shop_id, @quantity, @at)
ON CONFLICT (event_id) DO NOTHING;

-- name: ForgetBuyer :exec
UPDATE search.sales SET buyer_id = NULL WHERE buyer_id = $1;

-- name: ForgetCartAdds :exec
UPDATE search.cart_adds SET user_id = NULL WHERE user_id = $1;

-- name: TrendingProducts :many
SELECT t.id, t.score, d.title, d.price, d.currency, d.shop_id, d.category_id, d.rating, d.sold_count
FROM search.trending t JOIN search.documents d ON d.product_id = t.id
WHERE t.kind = 'product'
  AND (sqlc.narg(category)::uuid IS NULL OR d.category_ids @> ARRAY[sqlc.narg(category)::uuid])
  AND (sqlc.narg(after_score)::float8 IS NULL OR (t.score, t.id) < (sqlc.narg(after_score), sqlc.narg(after_id)::uuid))
ORDER BY t.score DESC, t.id DESC
LIMIT @lim;

-- name: TrendingOf :many
-- Trending shops or categories; names come from the documents.
SELECT t.id, t.score FROM search.trending t
WHERE t.kind = @kind
  AND (sqlc.narg(after_score)::float8 IS NULL OR (t.score, t.id) < (sqlc.narg(after_score), sqlc.narg(after_id)::uuid))
ORDER BY t.score DESC, t.id DESC
LIMIT @lim;

-- name: ShopNames :many
SELECT DISTINCT ON (shop_id) shop_id, shop_name, province FROM search.documents WHERE shop_id = ANY (@ids::uuid[]);

-- name: CategoryNames :many
SELECT DISTINCT ON (category_id) category_id, category_name FROM search.documents WHERE category_id = ANY (@ids::uuid[]);

-- name: PopularQueries :many
SELECT query, searches FROM search.popular_queries ORDER BY searches DESC, query LIMIT @lim;

-- name: PopularMatching :many
-- Popular queries that start with the folded input, then those that contain it.
SELECT query, searches FROM search.popular_queries
WHERE folded LIKE '%' || search.fold(@input::text) || '%'
ORDER BY (folded LIKE search.fold(@input::text) || '%') DESC, searches DESC, query
LIMIT @lim;

-- name: PopularPrefixed :many
-- Popular queries that start with the folded input, for autocomplete.
SELECT query FROM search.popular_queries
WHERE folded LIKE search.fold(@input::text) || '%'
ORDER BY searches DESC, query
LIMIT @lim;

-- name: CreateAlert :one
INSERT INTO search.price_alerts (user_id, product_id, variant_id, target_price)
VALUES (@user_id, @product_id, @variant_id, @target_price)
RETURNING *;

-- name: CountActiveAlerts :one
SELECT count(*) FROM search.price_alerts WHERE user_id = $1 AND status = 'active';

-- name: LockAlertOwner :exec
SELECT pg_advisory_xact_lock(hashtextextended('search.price_alerts:' || @user_id::text, 0));

-- name: ListAlerts :many
SELECT * FROM search.price_alerts
WHERE user_id = @user_id AND (sqlc.narg(after_at)::timestamptz IS NULL OR (created_at, id) < (sqlc.narg(after_at), sqlc.narg(after_id)::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: DeleteAlert :execrows
DELETE FROM search.price_alerts WHERE id = @id AND user_id = @user_id;

-- name: TriggerProductAlerts :many
-- Fires the active product-level alerts of a product whose price is now at or below target:
-- once, since only active ones move.
UPDATE search.price_alerts SET status = 'triggered', triggered_at = now(), triggered_price = @price
WHERE product_id = @product_id AND variant_id IS NULL AND status = 'active' AND target_price >= @price
RETURNING *;

-- name: TriggerVariantAlerts :many
UPDATE search.price_alerts SET status = 'triggered', triggered_at = now(), triggered_price = @price
WHERE variant_id = @variant_id AND status = 'active' AND target_price >= @price
RETURNING *;

-- name: GetDocument :one
SELECT product_id, shop_id, title, brand, model, gtin, category_id, price, currency, weight_grams FROM search.documents WHERE product_id = $1;

-- name: MeiliDocuments :many
-- The documents the Meilisearch index mirrors, with the folded values its filters compare.
SELECT product_id, shop_id, title, description, brand, model, category_id, category_name, category_ids, category_path,
       attrs, attrs_text, price, list_price, currency, in_stock, rating::float8 AS rating, rating_count, sold_count,
       shop_name, province, search.fold(province) AS province_key, lat, lng, created_at
FROM search.documents WHERE product_id = ANY (@ids::uuid[]);

-- name: AllSynonyms :many
SELECT term, expansion FROM search.synonyms ORDER BY term;

-- name: MarkStale :exec
-- Marks products for re-indexing (RefreshStale).
INSERT INTO search.stale_products (product_id) SELECT unnest(@ids::uuid[]);

-- name: StaleProducts :many
-- The products marked for re-indexing before a time, oldest marks first, each with its newest
-- mark.
SELECT product_id, max(id)::bigint AS upto
FROM search.stale_products
WHERE marked_at < @before
GROUP BY product_id
ORDER BY min(id)
LIMIT @max;

-- name: TakeStaleIfFree :many
-- The marks of these products up to upto, in a transaction that gets the refresher's lock (the
-- key) without waiting; when another holds it, nothing: the marks are its holder's, who looks
-- again after its commit. One statement: the lock is asked for with the first mark.
DELETE FROM search.stale_products
WHERE product_id = ANY(@ids::uuid[]) AND id <= @upto::bigint
  AND pg_try_advisory_xact_lock(hashtextextended(@key::text, 0))
RETURNING product_id;
