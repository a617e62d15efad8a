-- name: CreateReview :one
-- A second review of the same order item (or order, for shop and delivery reviews) inserts
-- nothing: the caller sees no row and answers conflict; concurrent posts thus make one review.
INSERT INTO review.reviews (target, target_id, author_id, order_id, order_item_id, product_id, variant_id, variant_name,
    shop_id, shipper_id, delivered_at, rating, comment, status, flags, sentiment_score, sentiment_label, aspects)
VALUES (@target, @target_id, @author_id, @order_id, sqlc.narg(order_item_id), sqlc.narg(product_id), sqlc.narg(variant_id),
    @variant_name, @shop_id, sqlc.narg(shipper_id), @delivered_at, @rating, @comment, @status, @flags, @sentiment_score,
    @sentiment_label, @aspects)
ON CONFLICT DO NOTHING
RETURNING id, target, target_id, author_id, order_id, order_item_id, product_id, variant_id, variant_name, shop_id,
    shipper_id, delivered_at, rating, comment, status, flags, reject_reason, report_count, counted_rating, sentiment_score,
    sentiment_label, aspects, reply, replied_by, replied_at, edited_at, moderated_by, moderated_at, created_at, updated_at,
    deleted_at;

-- name: GetReview :one
SELECT id, target, target_id, author_id, order_id, order_item_id, product_id, variant_id, variant_name, shop_id,
    shipper_id, delivered_at, rating, comment, status, flags, reject_reason, report_count, counted_rating, sentiment_score,
    sentiment_label, aspects, reply, replied_by, replied_at, edited_at, moderated_by, moderated_at, created_at, updated_at,
    deleted_at
FROM review.reviews WHERE id = $1;

-- name: LockReview :one
SELECT id, target, target_id, author_id, order_id, order_item_id, product_id, variant_id, variant_name, shop_id,
    shipper_id, delivered_at, rating, comment, status, flags, reject_reason, report_count, counted_rating, sentiment_score,
    sentiment_label, aspects, reply, replied_by, replied_at, edited_at, moderated_by, moderated_at, created_at, updated_at,
    deleted_at
FROM review.reviews WHERE id = $1 AND deleted_at IS NULL FOR UPDATE;

-- name: EditReview :exec
UPDATE review.reviews
SET rating = @rating, comment = @comment, status = @status, flags = @flags, reject_reason = '',
    sentiment_score = @sentiment_score, sentiment_label = @sentiment_label, aspects = @aspects,
    edited_at = now(), updated_at = now()
WHERE id = @id;

-- name: Moderate :exec
UPDATE review.reviews
SET status = @status, reject_reason = @reject_reason, moderated_by = @moderated_by, moderated_at = now(), updated_at = now()
WHERE id = @id;

-- name: SetCounted :exec
UPDATE review.reviews SET counted_rating = sqlc.narg(counted_rating) WHERE id = @id;

-- name: SoftDelete :exec
UPDATE review.reviews SET deleted_at = now(), updated_at = now() WHERE id = $1;

-- name: SetReply :execrows
UPDATE review.reviews SET reply = @reply, replied_by = @replied_by, replied_at = now(), updated_at = now()
WHERE id = @id AND reply IS NULL;

-- name: AddReport :execrows
INSERT INTO review.reports (review_id, user_id, reason) VALUES (@review_id, @user_id, @reason)
ON CONFLICT DO NOTHING;

-- name: CountReport :one
UPDATE review.reviews SET report_count = report_count + 1 WHERE id = $1 RETURNING report_count;

-- name: HoldForReports :exec
UPDATE review.reviews
SET status = 'pending', flags = array_append(flags, 'reports'), updated_at = now()
WHERE id = $1;

-- name: ListTarget :many
-- A target's published reviews, newest first.
SELECT id, target, target_id, author_id, order_id, order_item_id, product_id, variant_id, variant_name, shop_id,
    shipper_id, delivered_at, rating, comment, status, flags, reject_reason, report_count, counted_rating, sentiment_score,
    sentiment_label, aspects, reply, replied_by, replied_at, edited_at, moderated_by, moderated_at, created_at, updated_at,
    deleted_at
FROM review.reviews
WHERE target = @target AND target_id = @target_id AND status = 'approved' AND deleted_at IS NULL
  AND (sqlc.narg(rating)::smallint IS NULL OR rating = sqlc.narg(rating)::smallint)
  AND (NOT @with_comment::bool OR comment <> '')
  AND (NOT @has_cursor::bool OR (created_at, id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: ListShop :many
-- A shop's published reviews (of the shop, or of its products, or both), newest first.
SELECT id, target, target_id, author_id, order_id, order_item_id, product_id, variant_id, variant_name, shop_id,
    shipper_id, delivered_at, rating, comment, status, flags, reject_reason, report_count, counted_rating, sentiment_score,
    sentiment_label, aspects, reply, replied_by, replied_at, edited_at, moderated_by, moderated_at, created_at, updated_at,
    deleted_at
FROM review.reviews
WHERE shop_id = @shop_id AND status = 'approved' AND deleted_at IS NULL AND target IN ('product', 'shop')
  AND (sqlc.narg(target)::text IS NULL OR target = sqlc.narg(target)::text)
  AND (sqlc.narg(rating)::smallint IS NULL OR rating = sqlc.narg(rating)::smallint)
  AND (NOT @has_cursor::bool OR (created_at, id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: ListDelivery :many
-- Delivery reviews, newest first: of one shipper, or all.
SELECT id, target, target_id, author_id, order_id, order_item_id, product_id, variant_id, variant_name, shop_id,
    shipper_id, delivered_at, rating, comment, status, flags, reject_reason, report_count, counted_rating, sentiment_score,
    sentiment_label, aspects, reply, replied_by, replied_at, edited_at, moderated_by, moderated_at, created_at, updated_at,
    deleted_at
FROM review.reviews
WHERE target = 'delivery' AND status = 'approved' AND deleted_at IS NULL
  AND (sqlc.narg(shipper_id)::uuid IS NULL OR target_id = sqlc.narg(shipper_id)::uuid)
  AND (sqlc.narg(rating)::smallint IS NULL OR rating = sqlc.narg(rating)::smallint)
  AND (NOT @has_cursor::bool OR (created_at, id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: ListPending :many
-- Reviews waiting for a moderator, oldest first.
SELECT id, target, target_id, author_id, order_id, order_item_id, product_id, variant_id, variant_name, shop_id,
    shipper_id, delivered_at, rating, comment, status, flags, reject_reason, report_count, counted_rating, sentiment_score,
    sentiment_label, aspects, reply, replied_by, replied_at, edited_at, moderated_by, moderated_at, created_at, updated_at,
    deleted_at
FROM review.reviews
WHERE status = 'pending' AND deleted_at IS NULL
  AND (NOT @has_cursor::bool OR (created_at, id) > (@after_created::timestamptz, @after_id::uuid))
ORDER BY created_at, id
LIMIT @lim;

-- name: ListVerified :many
-- Published product and shop reviews with their purchase, newest first; by product or shop.
SELECT id, target, target_id, author_id, order_id, order_item_id, product_id, variant_id, variant_name, shop_id,
    shipper_id, delivered_at, rating, comment, status, flags, reject_reason, report_count, counted_rating, sentiment_score,
    sentiment_label, aspects, reply, replied_by, replied_at, edited_at, moderated_by, moderated_at, created_at, updated_at,
    deleted_at
FROM review.reviews
WHERE status = 'approved' AND deleted_at IS NULL AND target IN ('product', 'shop')
  AND (sqlc.narg(product_id)::uuid IS NULL OR product_id = sqlc.narg(product_id)::uuid)
  AND (sqlc.narg(shop_id)::uuid IS NULL OR shop_id = sqlc.narg(shop_id)::uuid)
  AND (NOT @has_cursor::bool OR (created_at, id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: AdjustSummary :one
-- Moves a summary by one review's change: -1, 0 or +1 on each star. The inserted values are
-- floored at 0 because CHECK constraints judge the proposed row before the conflict turns it
-- into an update (a first change is never a removal).
INSERT INTO review.rating_summaries AS s (target, target_id, star1, star2, star3, star4, star5, version)
VALUES (@target, @target_id, greatest(@d1::int, 0), greatest(@d2::int, 0), greatest(@d3::int, 0), greatest(@d4::int, 0),
    greatest(@d5::int, 0), 1)
ON CONFLICT (target, target_id) DO UPDATE
SET star1 = s.star1 + @d1::int, star2 = s.star2 + @d2::int, star3 = s.star3 + @d3::int, star4 = s.star4 + @d4::int,
    star5 = s.star5 + @d5::int, version = s.version + 1, updated_at = now()
RETURNING target, target_id, star1, star2, star3, star4, star5, version, updated_at;

-- name: GetSummary :one
SELECT target, target_id, star1, star2, star3, star4, star5, version, updated_at
FROM review.rating_summaries WHERE target = @target AND target_id = @target_id;

-- name: SentimentByLabel :many
-- Published reviews of a product or of a shop (its products and itself) by sentiment label.
SELECT sentiment_label, count(*)::int AS reviews, coalesce(avg(sentiment_score), 0)::float8 AS score
FROM review.reviews
WHERE status = 'approved' AND deleted_at IS NULL AND target IN ('product', 'shop')
  AND (sqlc.narg(product_id)::uuid IS NULL OR product_id = sqlc.narg(product_id)::uuid)
  AND (sqlc.narg(shop_id)::uuid IS NULL OR shop_id = sqlc.narg(shop_id)::uuid)
GROUP BY sentiment_label;

-- name: SentimentByAspect :many
-- The same reviews by the aspects they speak of: how many praise and how many complain.
SELECT a.aspect, count(*)::int AS mentions,
    count(*) FILTER (WHERE a.score > 0)::int AS positive,
    count(*) FILTER (WHERE a.score < 0)::int AS negative,
    coalesce(avg(a.score), 0)::float8 AS score
FROM review.reviews r JOIN review.review_aspects a ON a.review_id = r.id
WHERE r.status = 'approved' AND r.deleted_at IS NULL AND r.target IN ('product', 'shop')
  AND (sqlc.narg(product_id)::uuid IS NULL OR r.product_id = sqlc.narg(product_id)::uuid)
  AND (sqlc.narg(shop_id)::uuid IS NULL OR r.shop_id = sqlc.narg(shop_id)::uuid)
GROUP BY a.aspect
ORDER BY a.aspect;

-- name: ClearAspects :exec
DELETE FROM review.review_aspects WHERE review_id = $1;

-- name: AddAspects :exec
INSERT INTO review.review_aspects (review_id, aspect, score)
SELECT @review_id::uuid, unnest(@aspects::text[]), unnest(@scores::float8[]);

-- name: CountProductReviews :one
SELECT count(*)::int FROM review.reviews WHERE target = 'product' AND target_id = $1;

-- name: CopyReviews :copyfrom
-- The bulk seeder's path (goshop seed -reviews): published reviews, counted by the caller.
INSERT INTO review.reviews (target, target_id, author_id, order_id, order_item_id, product_id, variant_id, shop_id,
    delivered_at, rating, comment, status, counted_rating, sentiment_score, sentiment_label, created_at, updated_at)
VALUES (@target, @target_id, @author_id, @order_id, @order_item_id, @product_id, @variant_id, @shop_id,
    @delivered_at, @rating, @comment, @status, @counted_rating, @sentiment_score, @sentiment_label, @created_at, @updated_at);

-- name: MostReviewedProduct :one
SELECT target_id FROM review.rating_summaries WHERE target = 'product'
ORDER BY star1 + star2 + star3 + star4 + star5 DESC, target_id LIMIT 1;
