-- Categories ---------------------------------------------------------------------------------

-- name: CreateCategory :one
INSERT INTO catalog.categories (parent_id, name, description)
VALUES (@parent_id, @name, @description)
RETURNING *;

-- name: GetCategory :one
SELECT * FROM catalog.categories WHERE id = $1;

-- name: UpdateCategory :one
UPDATE catalog.categories
SET parent_id = @parent_id, name = @name, description = @description, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: DeleteCategory :execrows
DELETE FROM catalog.categories WHERE id = $1;

-- name: CategoryUsage :one
-- What stops a category from being deleted: children, and products that name it (deleted
-- products too, since past orders still point at them).
SELECT EXISTS (SELECT 1 FROM catalog.categories c WHERE c.parent_id = @id::uuid)::bool AS has_children,
       EXISTS (SELECT 1 FROM catalog.products p WHERE p.category_id = @id::uuid)::bool AS has_products;

-- name: ListCategories :many
-- The children of a category, or the roots when parent_id is NULL, by name.
SELECT * FROM catalog.categories
WHERE (CASE WHEN sqlc.narg(parent_id)::uuid IS NULL THEN parent_id IS NULL ELSE parent_id = sqlc.narg(parent_id)::uuid END)
  AND (NOT @has_cursor::bool OR (name, id) > (@after_name::text, @after_id::uuid))
ORDER BY name, id
LIMIT @lim;

-- name: CategoryAncestors :many
-- The path from the root down to the category, the category included.
WITH RECURSIVE up AS (
    SELECT c.id, c.parent_id, c.name, 0 AS depth FROM catalog.categories c WHERE c.id = @id
    UNION ALL
    SELECT c.id, c.parent_id, c.name, up.depth + 1 FROM catalog.categories c JOIN up ON c.id = up.parent_id
)
SELECT up.id, up.name FROM up ORDER BY up.depth DESC;

-- name: InSubtree :one
-- Whether candidate is root or one of its descendants (moving root under it would make a cycle).
WITH RECURSIVE tree AS (
    SELECT c.id FROM catalog.categories c WHERE c.id = @root
    UNION ALL
    SELECT c.id FROM catalog.categories c JOIN tree t ON c.parent_id = t.id
)
SELECT count(*) > 0 AS found FROM tree WHERE id = @candidate::uuid;

-- Products -----------------------------------------------------------------------------------

-- name: CreateProduct :one
INSERT INTO catalog.products (shop_id, title, description, brand, model, gtin, category_id, attributes, status,
                              currency, low_stock_threshold, weight_grams, created_by)
VALUES (@shop_id, @title, @description, @brand, @model, @gtin, @category_id, @attributes, @status,
        @currency, @low_stock_threshold, @weight_grams, @created_by)
RETURNING *;

-- name: GetProduct :one
SELECT * FROM catalog.products WHERE id = $1;

-- name: LockProduct :one
-- Writers that touch a product and its variants lock the product first, always, so that they
-- queue instead of deadlocking; stock writers lock variant rows only.
SELECT * FROM catalog.products WHERE id = $1 AND deleted_at IS NULL FOR NO KEY UPDATE;

-- name: UpdateProduct :one
-- A partial update: a field given as NULL keeps its value. Each edit names only what it
-- changes, so no edit rewrites a column from a copy of the row, and a column added later is
-- never reset by an edit written before it. Every parameter must stay nullable (a test checks).
UPDATE catalog.products
SET title = COALESCE(sqlc.narg(title), title), description = COALESCE(sqlc.narg(description), description),
    brand = COALESCE(sqlc.narg(brand), brand), model = COALESCE(sqlc.narg(model), model),
    gtin = COALESCE(sqlc.narg(gtin), gtin),
    attributes = COALESCE(sqlc.narg(attributes), attributes), status = COALESCE(sqlc.narg(status), status),
    low_stock_threshold = COALESCE(sqlc.narg(low_stock_threshold), low_stock_threshold),
    weight_grams = COALESCE(sqlc.narg(weight_grams), weight_grams), updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: SetProductCategory :one
-- The category apart, since NULL is a value of it (no category).
UPDATE catalog.products SET category_id = sqlc.narg(category_id), updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: DeleteProduct :one
UPDATE catalog.products SET deleted_at = now(), updated_at = now()
WHERE id = $1 AND deleted_at IS NULL
RETURNING *;

-- name: SetProductPrice :exec
UPDATE catalog.products SET price = @price WHERE id = @id;

-- name: SetDiscount :one
UPDATE catalog.products
SET discount_id = @discount_id, discount_percent = @discount_percent, discount_price = @discount_price,
    discount_variant_id = @discount_variant_id, discount_starts_at = @discount_starts_at,
    discount_ends_at = @discount_ends_at, discount_by = @discount_by, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: ClearDiscount :one
UPDATE catalog.products
SET discount_id = NULL, discount_percent = NULL, discount_price = NULL, discount_variant_id = NULL,
    discount_starts_at = NULL, discount_ends_at = NULL, discount_by = NULL, updated_at = now()
WHERE id = @id AND discount_id = @discount_id::uuid
RETURNING *;

-- name: HideShopProducts :execrows
UPDATE catalog.products SET shop_hidden_at = @at::timestamptz, updated_at = now()
WHERE shop_id = @shop_id AND deleted_at IS NULL AND shop_hidden_at IS NULL;

-- name: ProductShop :one
SELECT shop_id FROM catalog.products WHERE id = $1 AND deleted_at IS NULL;

-- name: ShopCategories :many
-- The categories a shop's listed products are in, with how many products each.
SELECT c.id, c.name, count(*)::int AS product_count
FROM catalog.products p JOIN catalog.categories c ON c.id = p.category_id
WHERE p.shop_id = @shop_id AND p.listed AND p.deleted_at IS NULL
GROUP BY c.id, c.name
ORDER BY product_count DESC, c.name, c.id;

-- Variants -----------------------------------------------------------------------------------

-- name: CreateVariant :one
INSERT INTO catalog.variants (product_id, shop_id, sku, name, attributes, price, effective_price, stock, is_default)
VALUES (@product_id, @shop_id, @sku, @name, @attributes, @price, @price, @stock, @is_default)
RETURNING *;

-- name: ListVariants :many
SELECT * FROM catalog.variants WHERE product_id = $1 ORDER BY created_at, id;

-- name: ListVariantsOf :many
SELECT * FROM catalog.variants WHERE product_id = ANY (@product_ids::uuid[]) ORDER BY product_id, created_at, id;

-- name: SetVariantPrice :exec
UPDATE catalog.variants SET price = @price, updated_at = now() WHERE id = @id;

-- name: SetVariantEffectivePrice :exec
UPDATE catalog.variants SET effective_price = @effective_price WHERE id = @id;

-- name: VariantSnapshot :one
SELECT v.id AS variant_id, v.product_id, v.shop_id, v.sku, v.name AS variant_name, v.price, v.stock,
       p.title, p.currency, p.weight_grams, p.listed,
       p.discount_id, p.discount_percent, p.discount_price, p.discount_variant_id,
       p.discount_starts_at, p.discount_ends_at
FROM catalog.variants v JOIN catalog.products p ON p.id = v.product_id
WHERE v.id = $1;

-- name: VariantSnapshots :many
-- VariantSnapshot of the variants of a checkout's lines, in one statement whatever their number;
-- a variant not found has no row.
SELECT v.id AS variant_id, v.product_id, v.shop_id, v.sku, v.name AS variant_name, v.price, v.stock,
       p.title, p.currency, p.weight_grams, p.listed,
       p.discount_id, p.discount_percent, p.discount_price, p.discount_variant_id,
       p.discount_starts_at, p.discount_ends_at
FROM catalog.variants v JOIN catalog.products p ON p.id = v.product_id
WHERE v.id = ANY(@ids::uuid[]);

-- name: ProductVariantSnapshots :many
-- VariantSnapshot of the variants of a product not deleted, two at most: enough to tell a product
-- with exactly one variant (a cart line may name the product alone) from one with several.
SELECT v.id AS variant_id, v.product_id, v.shop_id, v.sku, v.name AS variant_name, v.price, v.stock,
       p.title, p.currency, p.weight_grams, p.listed,
       p.discount_id, p.discount_percent, p.discount_price, p.discount_variant_id,
       p.discount_starts_at, p.discount_ends_at
FROM catalog.variants v JOIN catalog.products p ON p.id = v.product_id
WHERE v.product_id = $1 AND p.deleted_at IS NULL
ORDER BY v.created_at, v.id
LIMIT 2;

-- Prices -------------------------------------------------------------------------------------

-- name: AddPriceChange :exec
INSERT INTO catalog.price_history (product_id, variant_id, kind, old_price, new_price, reason, changed_by, changed_at)
VALUES (@product_id, @variant_id, @kind, @old_price, @new_price, @reason, @changed_by, @changed_at);

-- name: ListPriceHistory :many
SELECT * FROM catalog.price_history
WHERE product_id = @product_id AND (NOT @has_cursor::bool OR id < @before_id::bigint)
ORDER BY id DESC
LIMIT @lim;

-- Stock --------------------------------------------------------------------------------------

-- name: AdjustStock :one
-- Applies a signed delta unless the stock would go below zero (then no row: the caller says
-- insufficient stock). Concurrent writers queue on the row and re-check the condition.
UPDATE catalog.variants v
SET stock = v.stock + @delta::int, updated_at = now()
FROM catalog.products p
WHERE v.id = @id AND p.id = v.product_id AND v.stock + @delta::int >= 0
RETURNING v.stock, v.product_id, v.shop_id, v.sku, v.name, p.low_stock_threshold;

-- name: ReserveStock :many
-- Takes the stock of several variants and records each movement in one statement. The rows are
-- locked in variant order (concurrent checkouts queue, never deadlock); a variant short of stock
-- is left out of the answer, and the caller, seeing fewer rows than it asked for, refuses and
-- rolls its transaction back.
WITH want AS (
    SELECT unnest(@variant_ids::uuid[]) AS id, unnest(@quantities::int[]) AS qty
), locked AS (
    SELECT v.id FROM catalog.variants v WHERE v.id IN (SELECT id FROM want) ORDER BY v.id FOR UPDATE
), upd AS (
    UPDATE catalog.variants v
    SET stock = v.stock - w.qty, updated_at = now()
    FROM want w, locked l, catalog.products p
    WHERE v.id = w.id AND l.id = w.id AND p.id = v.product_id AND v.stock >= w.qty
    RETURNING v.id, v.product_id, v.shop_id, v.sku, v.stock, w.qty, p.low_stock_threshold
), moved AS (
    INSERT INTO catalog.stock_movements (variant_id, product_id, kind, delta, stock_after, reason)
    SELECT upd.id, upd.product_id, @kind::text, -upd.qty, upd.stock, @reason::text FROM upd
    RETURNING variant_id, created_at
)
SELECT upd.id AS variant_id, upd.product_id, upd.shop_id, upd.sku, upd.stock, upd.qty::int AS qty, upd.low_stock_threshold, moved.created_at
FROM upd JOIN moved ON moved.variant_id = upd.id;

-- name: SetStock :one
UPDATE catalog.variants v
SET stock = @stock::int, updated_at = now()
FROM catalog.products p, (SELECT o.id, o.stock FROM catalog.variants o WHERE o.id = @id FOR UPDATE) old
WHERE v.id = old.id AND p.id = v.product_id
RETURNING old.stock AS old_stock, v.stock, v.product_id, v.shop_id, v.sku, v.name, p.low_stock_threshold;

-- name: GetVariant :one
SELECT * FROM catalog.variants WHERE id = $1;

-- name: AddMovement :one
INSERT INTO catalog.stock_movements (variant_id, product_id, kind, delta, stock_after, reason, actor_id)
VALUES (@variant_id, @product_id, @kind, @delta, @stock_after, @reason, @actor_id)
RETURNING *;

-- name: RecentMovements :many
SELECT * FROM catalog.stock_movements WHERE product_id = @product_id ORDER BY id DESC LIMIT @lim;

-- name: SetLowStockThreshold :exec
UPDATE catalog.products SET low_stock_threshold = @threshold, updated_at = now() WHERE id = @id;

-- name: Inventory :many
-- Variants of live products, lowest stock first: one shop's, or every shop's when shop_id is
-- NULL (admins); low_only keeps those at or under their product's threshold.
SELECT v.id AS variant_id, v.product_id, v.shop_id, v.sku, v.name AS variant_name, v.stock,
       p.title, p.low_stock_threshold
FROM catalog.variants v JOIN catalog.products p ON p.id = v.product_id
WHERE (sqlc.narg(shop_id)::uuid IS NULL OR v.shop_id = sqlc.narg(shop_id)::uuid) AND p.deleted_at IS NULL
  AND (NOT @low_only::bool OR v.stock <= p.low_stock_threshold)
  AND (NOT @has_cursor::bool OR (v.stock, v.id) > (@after_stock::int, @after_id::uuid))
ORDER BY v.stock, v.id
LIMIT @lim;

-- Seeding (goshop seed) --------------------------------------------------------------------

-- name: FindCategory :one
SELECT * FROM catalog.categories
WHERE parent_id IS NOT DISTINCT FROM sqlc.narg(parent_id)::uuid AND lower(name) = lower(@name);

-- name: CountProducts :one
SELECT count(*) FROM catalog.products;

-- name: SeedProducts :execrows
-- Products number from..until, each with one default variant, spread over the shops and
-- categories given, with prices, ratings, stock and creation times varied deterministically.
WITH p AS (
    INSERT INTO catalog.products (shop_id, title, description, brand, model, category_id, attributes, price,
                                  rating, rating_count, created_by, created_at, updated_at)
    SELECT (@shops::uuid[])[1 + g % cardinality(@shops::uuid[])],
           'Sản phẩm mẫu ' || g,
           'Mô tả của sản phẩm mẫu số ' || g,
           (ARRAY['Apple', 'Samsung', 'Xiaomi', 'Oppo', 'Vivo', 'Sony', 'LG', 'Panasonic', 'Asus', 'Dell'])[1 + g % 10],
           'M' || (g % 500),
           (@categories::uuid[])[1 + (g / 7) % cardinality(@categories::uuid[])],
           jsonb_build_object('seed', true),
           10000 + ((g::bigint * 7919) % 5000) * 1000,
           ((g * 37) % 500) / 100.0,
           (g * 13) % 1000,
           @created_by::uuid,
           now() - make_interval(secs => g),
           now()
    FROM generate_series(@from_n::int, @until_n::int) g
    RETURNING id, shop_id, price, created_at
)
INSERT INTO catalog.variants (product_id, shop_id, sku, name, price, effective_price, stock, is_default, created_at, updated_at)
SELECT p.id, p.shop_id, 'SEED-' || p.id, 'Default', p.price, p.price, hashtext(p.id::text) & 63, true, p.created_at, p.created_at
FROM p;

-- name: LockProductRating :one
SELECT shop_id, status, rating, rating_count FROM catalog.products WHERE id = $1 FOR UPDATE;

-- name: SetProductRating :exec
UPDATE catalog.products SET rating = @rating, rating_count = @rating_count, updated_at = now() WHERE id = @id;
-- name: ProductsByIDs :many
-- Search's read model re-reads products by ID, whatever their state.
SELECT * FROM catalog.products WHERE id = ANY (@ids::uuid[]);

-- name: ListedProductIDsAfter :many
-- Listed products in ID order, a page at a time: search's reindex walks them.
SELECT id FROM catalog.products WHERE listed AND deleted_at IS NULL AND id > @after ORDER BY id LIMIT @lim;
