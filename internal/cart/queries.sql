-- name: Items :many
SELECT * FROM cart.items WHERE user_id = $1 ORDER BY created_at, id;

-- name: ItemsForUpdate :many
-- Checkout locks the buyer's lines, so two checkouts of one cart cannot both take it.
SELECT * FROM cart.items WHERE user_id = $1 ORDER BY created_at, id FOR UPDATE;

-- name: GetItem :one
SELECT * FROM cart.items WHERE id = $1 AND user_id = $2;

-- name: ItemByVariant :one
SELECT * FROM cart.items WHERE user_id = $1 AND variant_id = $2;

-- name: LockCart :exec
-- Serializes the changes that add to one buyer's cart or saved carts, so that their limits (lines,
-- a line's quantity, saved carts) hold under concurrent requests. A cart has no row of its own
-- to lock, and may have no lines yet: an advisory lock on the buyer, held to the end of the
-- transaction.
SELECT pg_advisory_xact_lock(hashtextextended('cart.items:' || $1::uuid::text, 0));

-- name: CountItems :one
SELECT count(*) FROM cart.items WHERE user_id = $1;

-- name: Fill :one
-- What an added line must fit in: how many lines the buyer's cart holds, and its lines of the
-- product, variants and quantities, among them the added variant's: read in the round trip that
-- reads the variant, which may be known only then (a line may name the product alone).
SELECT count(*) AS lines,
    coalesce(array_agg(variant_id) FILTER (WHERE product_id = @product_id), '{}')::uuid[] AS variant_ids,
    coalesce(array_agg(quantity) FILTER (WHERE product_id = @product_id), '{}')::int[] AS quantities
FROM cart.items WHERE user_id = @user_id;

-- name: AddItem :one
-- Adding a variant already in the cart adds to its quantity.
INSERT INTO cart.items (user_id, variant_id, product_id, shop_id, quantity)
VALUES (@user_id, @variant_id, @product_id, @shop_id, @quantity)
ON CONFLICT (user_id, variant_id) DO UPDATE
SET quantity = cart.items.quantity + EXCLUDED.quantity, updated_at = now()
RETURNING *;

-- name: SetQuantity :one
UPDATE cart.items SET quantity = @quantity, updated_at = now() WHERE id = @id AND user_id = @user_id RETURNING *;

-- name: DeleteItem :execrows
DELETE FROM cart.items WHERE id = $1 AND user_id = $2;

-- name: Clear :exec
DELETE FROM cart.items WHERE user_id = $1;

-- name: ClearCoupons :exec
DELETE FROM cart.coupons WHERE user_id = $1;

-- name: Coupons :many
SELECT * FROM cart.coupons WHERE user_id = $1 ORDER BY shop_id;

-- name: SetCoupon :exec
INSERT INTO cart.coupons (user_id, shop_id, code) VALUES ($1, $2, $3)
ON CONFLICT (user_id, shop_id) DO UPDATE SET code = EXCLUDED.code, applied_at = now();

-- name: RemoveCoupon :execrows
DELETE FROM cart.coupons WHERE user_id = @user_id AND (sqlc.narg(shop_id)::uuid IS NULL OR shop_id = sqlc.narg(shop_id)::uuid);

-- name: CreateSavedCart :one
INSERT INTO cart.saved_carts (user_id, name) VALUES ($1, $2) RETURNING *;

-- name: CopyItemsToSaved :execrows
INSERT INTO cart.saved_items (saved_cart_id, variant_id, product_id, shop_id, quantity)
SELECT @saved_cart_id, variant_id, product_id, shop_id, quantity FROM cart.items WHERE user_id = @user_id;

-- name: SavedCarts :many
SELECT * FROM cart.saved_carts
WHERE user_id = @user_id
  AND (NOT @has_cursor::bool OR (created_at, id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: GetSavedCart :one
SELECT * FROM cart.saved_carts WHERE id = $1 AND user_id = $2;

-- name: SavedItems :many
SELECT * FROM cart.saved_items WHERE saved_cart_id = $1 ORDER BY product_id, variant_id;

-- name: CountSavedCarts :one
SELECT count(*) FROM cart.saved_carts WHERE user_id = $1;
