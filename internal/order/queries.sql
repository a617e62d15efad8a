-- name: CreateOrders :many
-- A checkout's orders, one a shop, in one statement: the arrays are the orders' own columns,
-- zipped (a nil voucher id and an empty code are no voucher); the rest is the checkout's.
WITH o AS (
    SELECT unnest(@ids::uuid[]) AS id, unnest(@shop_ids::uuid[]) AS shop_id,
        unnest(@subtotals::bigint[]) AS subtotal, unnest(@discounts::bigint[]) AS discount,
        unnest(@shipping_fees::bigint[]) AS shipping_fee, unnest(@taxes::bigint[]) AS tax,
        unnest(@totals::bigint[]) AS total, unnest(@weights_grams::bigint[]) AS weight_grams,
        unnest(@voucher_ids::uuid[]) AS voucher_id, unnest(@voucher_codes::text[]) AS voucher_code
)
INSERT INTO orders.orders (id, checkout_id, buyer_id, shop_id, payment_method, payment_provider, shipping_method,
    subtotal, discount, shipping_fee, tax, tax_inclusive, tax_rate_bps, total, currency, weight_grams,
    voucher_id, voucher_code, address, note)
SELECT o.id, @checkout_id::uuid, @buyer_id::uuid, o.shop_id, @payment_method::text, sqlc.narg(payment_provider)::text,
    @shipping_method::text, o.subtotal, o.discount, o.shipping_fee, o.tax, @tax_inclusive::bool, @tax_rate_bps::bigint,
    o.total, @currency::text, o.weight_grams, nullif(o.voucher_id, '00000000-0000-0000-0000-000000000000'),
    nullif(o.voucher_code, ''), @address::jsonb, @note::text
FROM o
RETURNING *;

-- name: AddItems :many
-- The items of a checkout's orders in one statement (arrays zipped; a nil campaign id is none).
-- Returns the items written, so that checkout answers them without reading them back.
WITH l AS (
    SELECT unnest(@ids::uuid[]) AS id, unnest(@order_ids::uuid[]) AS order_id,
        unnest(@product_ids::uuid[]) AS product_id, unnest(@variant_ids::uuid[]) AS variant_id,
        unnest(@titles::text[]) AS title, unnest(@variant_names::text[]) AS variant_name, unnest(@skus::text[]) AS sku,
        unnest(@unit_prices::bigint[]) AS unit_price, unnest(@regular_prices::bigint[]) AS regular_price,
        unnest(@campaign_ids::uuid[]) AS campaign_id, unnest(@quantities::int[]) AS quantity,
        unnest(@line_totals::bigint[]) AS line_total, unnest(@weights_grams::bigint[]) AS weight_grams
)
INSERT INTO orders.items (id, order_id, product_id, variant_id, title, variant_name, sku, unit_price, regular_price,
    campaign_id, quantity, line_total, weight_grams)
SELECT l.id, l.order_id, l.product_id, l.variant_id, l.title, l.variant_name, l.sku, l.unit_price, l.regular_price,
    nullif(l.campaign_id, '00000000-0000-0000-0000-000000000000'), l.quantity, l.line_total, l.weight_grams
FROM l
RETURNING *;

-- name: GetOrder :one
SELECT * FROM orders.orders WHERE id = $1;

-- name: LockOrder :one
SELECT * FROM orders.orders WHERE id = $1 FOR UPDATE;

-- name: Items :many
SELECT * FROM orders.items WHERE order_id = $1 ORDER BY title, id;

-- name: ItemsOf :many
SELECT * FROM orders.items WHERE order_id = ANY(@order_ids::uuid[]) ORDER BY order_id, title, id;

-- name: MoveStatus :one
-- A move happens only from the status the caller saw: of two concurrent moves of one order, one
-- wins and the other finds no row.
UPDATE orders.orders
SET status = @to_status, updated_at = now(),
    confirmed_at = CASE WHEN @to_status = 'confirmed' THEN now() ELSE confirmed_at END,
    shipped_at = CASE WHEN @to_status = 'shipped' THEN now() ELSE shipped_at END,
    delivered_at = CASE WHEN @to_status = 'delivered' AND delivered_at IS NULL THEN now() ELSE delivered_at END,
    cancelled_at = CASE WHEN @to_status = 'cancelled' THEN now() ELSE cancelled_at END,
    return_requested_at = CASE WHEN @to_status = 'return_requested' THEN now() ELSE return_requested_at END,
    returned_at = CASE WHEN @to_status = 'returned' THEN now() ELSE returned_at END,
    refunded_at = CASE WHEN @to_status = 'refunded' THEN now() ELSE refunded_at END
WHERE id = @id AND status = @from_status
RETURNING *;

-- name: SetReturn :exec
UPDATE orders.orders SET return_reason = coalesce(sqlc.narg(reason), return_reason),
    return_decision = coalesce(sqlc.narg(decision), return_decision), updated_at = now()
WHERE id = @id;

-- name: SetShipment :exec
UPDATE orders.orders SET tracking_number = @tracking_number, carrier = @carrier, updated_at = now() WHERE id = @id;

-- name: AttachCarrier :execrows
-- The platform's own delivery takes an order only while it waits for one: in @ready_status
-- and without a carrier the shop named.
UPDATE orders.orders SET tracking_number = @tracking_number, carrier = @carrier, updated_at = now()
WHERE id = @id AND status = @ready_status AND tracking_number IS NULL AND carrier IS NULL;

-- name: SetPaymentStatus :one
UPDATE orders.orders
SET payment_status = @payment_status, updated_at = now(),
    paid_at = CASE WHEN @payment_status = 'paid' AND paid_at IS NULL THEN now() ELSE paid_at END
WHERE id = @id
RETURNING *;

-- name: HideForBuyer :execrows
UPDATE orders.orders SET hidden_by_buyer = true, updated_at = now()
WHERE id = @id AND buyer_id = @buyer_id AND status IN ('delivered', 'cancelled', 'refunded');

-- name: AddHistory :exec
INSERT INTO orders.status_history (order_id, from_status, to_status, actor_id, actor_role, reason)
VALUES (@order_id, @from_status, @to_status, @actor_id, @actor_role, @reason);

-- name: AddPlacedHistory :exec
-- The first history entry of each of a checkout's orders, in one statement.
INSERT INTO orders.status_history (order_id, to_status, actor_id, actor_role, reason)
SELECT unnest(@order_ids::uuid[]), @to_status::text, @actor_id::uuid, @actor_role::text, @reason::text;

-- name: History :many
SELECT * FROM orders.status_history WHERE order_id = $1 ORDER BY id;

-- name: BuyerOrders :many
-- A buyer's orders, newest first; finished ones only for history.
SELECT * FROM orders.orders
WHERE buyer_id = @buyer_id AND NOT hidden_by_buyer
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
  AND (NOT @finished_only::bool OR status IN ('delivered', 'cancelled', 'returned', 'refunded'))
  AND (NOT @returns_only::bool OR return_requested_at IS NOT NULL)
  AND (NOT @has_cursor::bool OR (created_at, id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: ShopOrders :many
SELECT * FROM orders.orders
WHERE shop_id = @shop_id
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
  AND (NOT @finished_only::bool OR status IN ('delivered', 'cancelled', 'returned', 'refunded'))
  AND (NOT @has_cursor::bool OR (created_at, id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: BuyerSummary :many
-- Counts and amounts of a buyer's orders by month and status, months cut in time zone tz.
SELECT to_char(date_trunc('month', created_at AT TIME ZONE @tz::text), 'YYYY-MM')::text AS month, status,
       count(*)::bigint AS orders, sum(total)::bigint AS amount
FROM orders.orders WHERE buyer_id = @buyer_id
GROUP BY 1, 2 ORDER BY 1 DESC, 2;

-- name: CreateRefundRequest :one
INSERT INTO orders.refund_requests (order_id, buyer_id, amount, reason) VALUES ($1, $2, $3, $4) RETURNING *;

-- name: RefundRequests :many
SELECT * FROM orders.refund_requests
WHERE buyer_id = @buyer_id
  AND (NOT @has_cursor::bool OR (created_at, id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: OrderRefundRequests :many
SELECT * FROM orders.refund_requests WHERE order_id = $1 ORDER BY created_at;

-- name: SetRefundRequestsStatus :exec
UPDATE orders.refund_requests SET status = @status, updated_at = now()
WHERE order_id = @order_id AND status IN ('requested', 'approved');

-- name: Payables :many
SELECT * FROM orders.orders
WHERE buyer_id = @buyer_id
  AND (sqlc.narg(order_id)::uuid IS NULL OR id = sqlc.narg(order_id)::uuid)
  AND (sqlc.narg(checkout_id)::uuid IS NULL OR checkout_id = sqlc.narg(checkout_id)::uuid)
  AND (sqlc.narg(order_id)::uuid IS NOT NULL OR sqlc.narg(checkout_id)::uuid IS NOT NULL)
ORDER BY created_at, id;

-- name: DeliveredItems :many
-- A buyer's items of delivered orders (delivered_at is set once and kept through a return), for
-- reviews: optionally of one order, of one product.
SELECT o.id AS order_id, o.shop_id, o.delivered_at::timestamptz AS delivered_at, i.id AS item_id, i.product_id,
    i.variant_id, i.variant_name
FROM orders.orders o JOIN orders.items i ON i.order_id = o.id
WHERE o.buyer_id = @buyer_id AND o.delivered_at IS NOT NULL AND o.status <> 'cancelled'
  AND (sqlc.narg(order_id)::uuid IS NULL OR o.id = sqlc.narg(order_id)::uuid)
  AND (sqlc.narg(product_id)::uuid IS NULL OR i.product_id = sqlc.narg(product_id)::uuid)
ORDER BY o.delivered_at, o.id, i.id
LIMIT 100;

-- name: FactOrders :many
-- Orders by ID, for the analytics context's port (Facts).
SELECT * FROM orders.orders WHERE id = ANY(@ids::uuid[]) ORDER BY id;

-- name: FactOrdersAfter :many
-- Every order, a page at a time by ID, for analytics' rebuild.
SELECT * FROM orders.orders WHERE id > @after ORDER BY id LIMIT @max_rows;
