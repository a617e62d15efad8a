-- name: CreateShop :one
INSERT INTO shop.shops (owner_id, name, description, line1, ward, district, province, country, lat, lng, category_ids)
VALUES (@owner_id, @name, @description, @line1, @ward, @district, @province, @country, @lat, @lng, @category_ids)
RETURNING *;

-- name: GetShop :one
SELECT * FROM shop.shops WHERE id = $1 AND status <> 'deleted';

-- name: LockShop :one
SELECT * FROM shop.shops WHERE id = $1 AND status <> 'deleted' FOR UPDATE;

-- name: UpdateShop :one
UPDATE shop.shops
SET name = @name, description = @description, line1 = @line1, ward = @ward, district = @district,
    province = @province, country = @country, lat = @lat, lng = @lng, category_ids = @category_ids,
    updated_at = now()
WHERE id = @id AND status <> 'deleted'
RETURNING *;

-- name: UpdateShopProfile :one
UPDATE shop.shops
SET logo_url = @logo_url, banner_url = @banner_url, contact_phone = @contact_phone,
    contact_email = @contact_email, opening_hours = @opening_hours, return_policy = @return_policy,
    updated_at = now()
WHERE id = @id AND status <> 'deleted'
RETURNING *;

-- name: DeleteShop :execrows
UPDATE shop.shops SET status = 'deleted', deleted_at = now(), updated_at = now()
WHERE id = $1 AND status <> 'deleted';

-- name: ListShops :many
-- Active shops, newest first; optionally one owner's (all their live shops, any status).
SELECT * FROM shop.shops
WHERE (CASE WHEN sqlc.narg(owner_id)::uuid IS NULL THEN status = 'active'
            ELSE owner_id = sqlc.narg(owner_id)::uuid AND status <> 'deleted' END)
  AND (NOT @has_cursor::bool OR (created_at, id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: SearchShops :many
-- Active shops within radius metres of a point, nearest first. The earth_box test uses the GiST
-- index; the distance test trims the box's corners.
SELECT sqlc.embed(s), shop.distance_m(@lat::float8, @lng::float8, s.lat, s.lng)::float8 AS distance_m
FROM shop.shops s
WHERE s.status = 'active'
  AND public.earth_box(shop.earth_point(@lat::float8, @lng::float8), @radius::float8) @> shop.earth_point(s.lat, s.lng)
  AND shop.distance_m(@lat::float8, @lng::float8, s.lat, s.lng) <= @radius::float8
  AND (sqlc.narg(category_id)::uuid IS NULL OR s.category_ids @> ARRAY[sqlc.narg(category_id)::uuid])
  AND (NOT @has_cursor::bool OR (shop.distance_m(@lat::float8, @lng::float8, s.lat, s.lng), s.id) > (@after_distance::float8, @after_id::uuid))
ORDER BY distance_m, s.id
LIMIT @lim;

-- name: SetRating :exec
UPDATE shop.shops SET rating = @rating, rating_count = @rating_count, updated_at = now() WHERE id = @id;
