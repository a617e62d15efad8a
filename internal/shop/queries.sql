-- name: CreateShop :one
INSERT INTO shop.shops (owner_id, name, description, line1, ward, district, province, country, lat, lng, category_ids)
VALUES (@owner_id, @name, @description, @line1, @ward, @district, @province, @country, @lat, @lng, @category_ids)
RETURNING *;

-- name: GetShop :one
SELECT * FROM shop.shops WHERE id = $1 AND status <> 'deleted';

-- name: GetShops :many
-- GetShop of several shops in one statement (a checkout's parcels); a shop gone has no row.
SELECT * FROM shop.shops WHERE id = ANY(@ids::uuid[]) AND status <> 'deleted';

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

-- name: CreatePromotion :one
INSERT INTO shop.promotions (shop_id, code, name, description, kind, value, min_spend, max_discount,
    usage_limit, per_user_limit, starts_at, ends_at, scope, product_ids, status)
VALUES (@shop_id, @code, @name, @description, @kind, @value, @min_spend, @max_discount,
    @usage_limit, @per_user_limit, @starts_at, @ends_at, @scope, @product_ids, @status)
RETURNING *;

-- name: GetPromotion :one
SELECT * FROM shop.promotions WHERE id = @id AND shop_id = @shop_id AND status <> 'deleted';

-- name: GetPromotionByCode :one
SELECT * FROM shop.promotions WHERE shop_id = @shop_id AND upper(code) = upper(@code) AND status <> 'deleted';

-- name: UpdatePromotion :one
UPDATE shop.promotions
SET code = @code, name = @name, description = @description, kind = @kind, value = @value,
    min_spend = @min_spend, max_discount = @max_discount, usage_limit = @usage_limit,
    per_user_limit = @per_user_limit, starts_at = @starts_at, ends_at = @ends_at, scope = @scope,
    product_ids = @product_ids, status = @status, updated_at = now()
WHERE id = @id AND shop_id = @shop_id AND status <> 'deleted'
RETURNING *;

-- name: DeletePromotion :execrows
UPDATE shop.promotions SET status = 'deleted', updated_at = now()
WHERE id = @id AND shop_id = @shop_id AND status <> 'deleted';

-- name: ListPromotions :many
-- A shop's vouchers, newest first; buyers see only those running now.
SELECT * FROM shop.promotions
WHERE shop_id = @shop_id AND status <> 'deleted'
  AND (NOT @only_running::bool OR (status = 'active' AND now() >= starts_at AND now() < ends_at))
  AND (NOT @has_cursor::bool OR (created_at, id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: CountUserRedemptions :one
SELECT count(*) FROM shop.promotion_redemptions
WHERE promotion_id = @promotion_id AND user_id = @user_id AND released_at IS NULL;

-- name: CountUserRedemptionsByCode :one
-- The buyer's live uses of a shop's code, read with the voucher by code (checkout batches both).
SELECT count(*) FROM shop.promotion_redemptions r JOIN shop.promotions p ON p.id = r.promotion_id
WHERE p.shop_id = @shop_id AND upper(p.code) = upper(@code::text) AND p.status <> 'deleted'
  AND r.user_id = @user_id AND r.released_at IS NULL;

-- name: UsePromotion :one
-- Takes one use of a voucher if it is running and not used up; of concurrent checkouts racing for
-- the last use, one gets the row.
UPDATE shop.promotions SET used_count = used_count + 1, updated_at = now()
WHERE id = @id AND status = 'active' AND now() >= starts_at AND now() < ends_at
  AND (usage_limit IS NULL OR used_count < usage_limit)
RETURNING *;

-- name: CreateRedemption :exec
INSERT INTO shop.promotion_redemptions (promotion_id, user_id, order_id, amount) VALUES ($1, $2, $3, $4);

-- name: ReleaseRedemption :one
UPDATE shop.promotion_redemptions SET released_at = now()
WHERE promotion_id = @promotion_id AND order_id = @order_id AND released_at IS NULL
RETURNING promotion_id;

-- name: UnusePromotion :exec
UPDATE shop.promotions SET used_count = used_count - 1, updated_at = now() WHERE id = $1 AND used_count > 0;

-- name: CreateCampaign :one
INSERT INTO shop.campaigns (shop_id, name, description, kind, starts_at, ends_at)
VALUES (@shop_id, @name, @description, @kind, @starts_at, @ends_at)
RETURNING *;

-- name: AddCampaignItem :one
INSERT INTO shop.campaign_items (campaign_id, variant_id, product_id, campaign_price, regular_price, campaign_stock)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *;

-- name: GetCampaign :one
SELECT * FROM shop.campaigns WHERE id = @id AND shop_id = @shop_id;

-- name: LockCampaign :one
SELECT * FROM shop.campaigns WHERE id = $1 FOR UPDATE;

-- name: CampaignItems :many
SELECT * FROM shop.campaign_items WHERE campaign_id = $1 ORDER BY product_id, variant_id;

-- name: ListCampaigns :many
SELECT * FROM shop.campaigns
WHERE shop_id = @shop_id
  AND (NOT @only_public::bool OR status IN ('scheduled', 'active'))
  AND (NOT @has_cursor::bool OR (starts_at, id) < (@before_starts::timestamptz, @before_id::uuid))
ORDER BY starts_at DESC, id DESC
LIMIT @lim;

-- name: SetCampaignStatus :one
UPDATE shop.campaigns SET status = @status, updated_at = now() WHERE id = @id RETURNING *;

-- name: OverlappingCampaignItems :one
-- A variant may be in one live campaign at a time.
SELECT count(*) FROM shop.campaign_items i JOIN shop.campaigns c ON c.id = i.campaign_id
WHERE i.variant_id = ANY(@variant_ids::uuid[]) AND c.id <> @campaign_id
  AND c.status IN ('scheduled', 'active') AND c.starts_at < @ends_at AND c.ends_at > @starts_at;

-- name: ActiveCampaignItem :one
SELECT i.*, c.ends_at FROM shop.campaign_items i JOIN shop.campaigns c ON c.id = i.campaign_id
WHERE i.variant_id = $1 AND c.status = 'active' AND now() >= c.starts_at AND now() < c.ends_at
LIMIT 1;

-- name: ActiveCampaignItems :many
-- ActiveCampaignItem of several variants in one statement (a checkout's lines, a line added);
-- campaigns of one variant never overlap, so a variant has one row at most.
SELECT i.*, c.ends_at FROM shop.campaign_items i JOIN shop.campaigns c ON c.id = i.campaign_id
WHERE i.variant_id = ANY(@variant_ids::uuid[]) AND c.status = 'active' AND now() >= c.starts_at AND now() < c.ends_at;

-- name: SellCampaignStock :execrows
-- Takes campaign stock; never past the campaign's limit, whatever the concurrency.
UPDATE shop.campaign_items i SET sold = sold + @qty
FROM shop.campaigns c
WHERE i.campaign_id = @campaign_id AND i.variant_id = @variant_id AND c.id = i.campaign_id
  AND c.status = 'active' AND now() < c.ends_at AND i.sold + @qty <= i.campaign_stock;

-- name: ReturnCampaignStock :exec
UPDATE shop.campaign_items SET sold = greatest(sold - @qty, 0)
WHERE campaign_id = @campaign_id AND variant_id = @variant_id;

-- name: SetRatingVersion :execrows
-- Only a newer rating replaces the one held: a late or repeated event changes nothing.
UPDATE shop.shops SET rating = @rating, rating_count = @rating_count, rating_version = @version
WHERE id = @id AND rating_version < @version;
-- name: LiveCampaignPrices :many
-- The lowest campaign price of each variant in a running campaign with stock left.
SELECT DISTINCT ON (i.variant_id) i.variant_id, i.campaign_price
FROM shop.campaign_items i JOIN shop.campaigns c ON c.id = i.campaign_id
WHERE i.variant_id = ANY (@variant_ids::uuid[]) AND c.status = 'active' AND now() >= c.starts_at AND now() < c.ends_at
  AND i.sold < i.campaign_stock
ORDER BY i.variant_id, i.campaign_price;
