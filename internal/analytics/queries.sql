-- name: Lock :exec
-- A transaction-long advisory lock on a key: an order's, so that two refreshes of it cannot
-- write stale facts over fresh ones; a shop's, so that two recomputes of its days cannot each
-- miss the other's orders.
SELECT pg_advisory_xact_lock(hashtextextended(@key::text, 0));

-- name: LockKeys :exec
-- Lock's locks on several keys in one statement, taken in the array's order (the caller sorts
-- it), so that two transactions locking some of the same keys never wait on each other crosswise.
SELECT pg_advisory_xact_lock(hashtextextended(k.key, 0))
FROM unnest(@keys::text[]) WITH ORDINALITY AS k(key, n)
ORDER BY k.n;

-- name: MarkDirty :exec
-- Marks shop-days for recomputing (the arrays are the rows, zipped).
INSERT INTO analytics.dirty_days (shop_id, day)
SELECT unnest(@shop_ids::uuid[]), unnest(@days::date[]);

-- name: TakeDirty :many
-- The shop's days marked for recomputing, unmarked (in the transaction that recomputes them);
-- a day marked several times comes as often.
DELETE FROM analytics.dirty_days WHERE shop_id = @shop_id RETURNING day;

-- name: TakeDirtyIfFree :many
-- TakeDirty in a transaction that gets the shop's lock (the key) without waiting; when another
-- holds it, nothing: the days are its holder's to take. One statement, so one round trip: the
-- lock is asked for with the first marked row, before it is deleted.
DELETE FROM analytics.dirty_days
WHERE shop_id = @shop_id AND pg_try_advisory_xact_lock(hashtextextended(@key::text, 0))
RETURNING day;

-- name: ShopDirty :one
SELECT EXISTS (SELECT 1 FROM analytics.dirty_days WHERE shop_id = @shop_id);

-- name: DirtyShops :many
SELECT DISTINCT shop_id FROM analytics.dirty_days;

-- name: OrderDays :many
-- The days orders' facts touch now, before they are replaced: placed, sold, released (their
-- refunds' days: RefundDays). By the primary key, so that it can run under its generic plan.
SELECT DISTINCT o.shop_id, d.day::date AS day
FROM analytics.orders o, unnest(ARRAY[o.placed_day, o.sale_day, o.released_day]) AS d(day)
WHERE o.order_id = ANY(@order_ids::uuid[]) AND d.day IS NOT NULL;

-- name: RefundDays :many
-- The days orders' refunds touch now, before they are replaced.
SELECT DISTINCT r.shop_id, r.day FROM analytics.refunds r WHERE r.order_id = ANY(@order_ids::uuid[]);

-- name: DeleteOrders :exec
DELETE FROM analytics.orders WHERE order_id = ANY(@order_ids::uuid[]);

-- name: InsertOrders :exec
-- The facts of a refresh's orders in one statement whatever their number: the arrays are the
-- rows, zipped. Array elements cannot be NULL here (sqlc makes them Go values), so a nullable
-- column's NULL is sent as a zero: an invalid date, a zero time (Go's time.Time{}), and on_time
-- goes with arrived, false for an order not both shipped and delivered.
WITH o AS (
    SELECT unnest(@order_ids::uuid[]) AS order_id, unnest(@shop_ids::uuid[]) AS shop_id,
        unnest(@buyer_ids::uuid[]) AS buyer_id, unnest(@statuses::text[]) AS status,
        unnest(@payment_methods::text[]) AS payment_method, unnest(@shipping_methods::text[]) AS shipping_method,
        unnest(@subtotals::bigint[]) AS subtotal, unnest(@discounts::bigint[]) AS discount,
        unnest(@shipping_fees::bigint[]) AS shipping_fee, unnest(@totals::bigint[]) AS total,
        unnest(@currencies::text[]) AS currency, unnest(@placed_ats::timestamptz[]) AS placed_at,
        unnest(@placed_days::date[]) AS placed_day, unnest(@sale_ats::timestamptz[]) AS sale_at,
        unnest(@sale_days::date[]) AS sale_day, unnest(@confirmed_ats::timestamptz[]) AS confirmed_at,
        unnest(@shipped_ats::timestamptz[]) AS shipped_at, unnest(@delivered_ats::timestamptz[]) AS delivered_at,
        unnest(@cancelled_ats::timestamptz[]) AS cancelled_at, unnest(@returned_ats::timestamptz[]) AS returned_at,
        unnest(@arrived::bool[]) AS arrived, unnest(@on_times::bool[]) AS on_time,
        unnest(@commissions::bigint[]) AS commission, unnest(@released_days::date[]) AS released_day
)
INSERT INTO analytics.orders (order_id, shop_id, buyer_id, status, payment_method, shipping_method, subtotal, discount,
    shipping_fee, total, currency, placed_at, placed_day, sale_at, sale_day, confirmed_at, shipped_at, delivered_at,
    cancelled_at, returned_at, on_time, commission, released_day)
SELECT o.order_id, o.shop_id, o.buyer_id, o.status, o.payment_method, o.shipping_method, o.subtotal, o.discount,
    o.shipping_fee, o.total, o.currency, o.placed_at, o.placed_day, nullif(o.sale_at, '0001-01-01 00:00:00Z'), o.sale_day,
    nullif(o.confirmed_at, '0001-01-01 00:00:00Z'), nullif(o.shipped_at, '0001-01-01 00:00:00Z'),
    nullif(o.delivered_at, '0001-01-01 00:00:00Z'), nullif(o.cancelled_at, '0001-01-01 00:00:00Z'),
    nullif(o.returned_at, '0001-01-01 00:00:00Z'), CASE WHEN o.arrived THEN o.on_time END, o.commission, o.released_day
FROM o;

-- name: InsertLines :exec
-- The lines of a refresh's orders in one statement (the arrays are the rows, zipped).
WITH l AS (
    SELECT unnest(@order_ids::uuid[]) AS order_id, unnest(@line_nos::int[]) AS line_no,
        unnest(@product_ids::uuid[]) AS product_id, unnest(@titles::text[]) AS title,
        unnest(@quantities::int[]) AS quantity, unnest(@revenues::bigint[]) AS revenue
)
INSERT INTO analytics.order_lines (order_id, line_no, product_id, title, quantity, revenue)
SELECT l.order_id, l.line_no, l.product_id, l.title, l.quantity, l.revenue
FROM l;

-- name: InsertRefunds :exec
-- The refunds of a refresh's orders in one statement (the arrays are the rows, zipped).
WITH r AS (
    SELECT unnest(@refund_ids::uuid[]) AS refund_id, unnest(@order_ids::uuid[]) AS order_id,
        unnest(@shop_ids::uuid[]) AS shop_id, unnest(@amounts::bigint[]) AS amount,
        unnest(@days::date[]) AS day, unnest(@counted::bool[]) AS counted
)
INSERT INTO analytics.refunds (refund_id, order_id, shop_id, amount, day, counted)
SELECT r.refund_id, r.order_id, r.shop_id, r.amount, r.day, r.counted
FROM r;

-- name: DeleteShopDays :exec
DELETE FROM analytics.shop_days WHERE shop_id = @shop_id AND day = ANY(@days::date[]);

-- name: ComputeShopDays :exec
-- Sums the shop's facts for the given days; a day with nothing keeps no row.
INSERT INTO analytics.shop_days (shop_id, day, placed, pending, confirmed, shipped, delivered, cancelled, returned,
    confirm_count, confirm_seconds, ship_count, ship_seconds, arrived, on_time, sales, gross, discounts, refunds, commission)
SELECT @shop_id::uuid, d.day, p.placed, p.pending, p.confirmed, p.shipped, p.delivered, p.cancelled, p.returned,
    p.confirm_count, p.confirm_seconds, p.ship_count, p.ship_seconds, p.arrived, p.on_time,
    s.sales, s.gross, s.discounts, r.refunds, c.commission
FROM unnest(@days::date[]) AS d(day)
CROSS JOIN LATERAL (
    SELECT count(*)::int AS placed,
        (count(*) FILTER (WHERE o.status = 'pending'))::int AS pending,
        (count(*) FILTER (WHERE o.status = 'confirmed'))::int AS confirmed,
        (count(*) FILTER (WHERE o.status = 'shipped'))::int AS shipped,
        (count(*) FILTER (WHERE o.status = 'delivered'))::int AS delivered,
        (count(*) FILTER (WHERE o.status = 'cancelled'))::int AS cancelled,
        (count(*) FILTER (WHERE o.status IN ('return_requested', 'returned', 'refunded')))::int AS returned,
        (count(*) FILTER (WHERE o.confirmed_at IS NOT NULL))::int AS confirm_count,
        coalesce(sum(extract(epoch FROM o.confirmed_at - o.placed_at)) FILTER (WHERE o.confirmed_at IS NOT NULL), 0)::bigint AS confirm_seconds,
        (count(*) FILTER (WHERE o.shipped_at IS NOT NULL))::int AS ship_count,
        coalesce(sum(extract(epoch FROM o.shipped_at - o.placed_at)) FILTER (WHERE o.shipped_at IS NOT NULL), 0)::bigint AS ship_seconds,
        (count(*) FILTER (WHERE o.on_time IS NOT NULL))::int AS arrived,
        (count(*) FILTER (WHERE o.on_time))::int AS on_time
    FROM analytics.orders o WHERE o.shop_id = @shop_id AND o.placed_day = d.day) p
CROSS JOIN LATERAL (
    SELECT count(*)::int AS sales, coalesce(sum(o.subtotal), 0)::bigint AS gross, coalesce(sum(o.discount), 0)::bigint AS discounts
    FROM analytics.orders o WHERE o.shop_id = @shop_id AND o.sale_day = d.day) s
CROSS JOIN LATERAL (
    SELECT coalesce(sum(f.amount), 0)::bigint AS refunds
    FROM analytics.refunds f WHERE f.shop_id = @shop_id AND f.day = d.day AND f.counted) r
CROSS JOIN LATERAL (
    SELECT coalesce(sum(o.commission), 0)::bigint AS commission
    FROM analytics.orders o WHERE o.shop_id = @shop_id AND o.released_day = d.day) c
WHERE p.placed > 0 OR s.sales > 0 OR r.refunds > 0 OR c.commission > 0;

-- name: DeleteProductDays :exec
DELETE FROM analytics.product_days WHERE shop_id = @shop_id AND day = ANY(@days::date[]);

-- name: ComputeProductDays :exec
INSERT INTO analytics.product_days (shop_id, product_id, day, title, units, revenue, orders)
SELECT o.shop_id, l.product_id, o.sale_day, max(l.title), sum(l.quantity)::bigint, sum(l.revenue)::bigint,
    count(DISTINCT o.order_id)::int
FROM analytics.orders o JOIN analytics.order_lines l ON l.order_id = o.order_id
WHERE o.shop_id = @shop_id AND o.sale_day = ANY(@days::date[])
GROUP BY o.shop_id, l.product_id, o.sale_day;

-- name: ShopDays :many
SELECT shop_id, day, placed, pending, confirmed, shipped, delivered, cancelled, returned, confirm_count, confirm_seconds,
    ship_count, ship_seconds, arrived, on_time, sales, gross, discounts, refunds, commission, net
FROM analytics.shop_days WHERE shop_id = @shop_id AND day BETWEEN @from_day AND @to_day ORDER BY day;

-- name: AllShopDays :many
-- Every rollup row of some shops, for the checks that compare them with a recount.
SELECT shop_id, day, placed, pending, confirmed, shipped, delivered, cancelled, returned, confirm_count, confirm_seconds,
    ship_count, ship_seconds, arrived, on_time, sales, gross, discounts, refunds, commission, net
FROM analytics.shop_days WHERE shop_id = ANY(@shop_ids::uuid[]) ORDER BY shop_id, day;

-- name: AllProductDays :many
SELECT shop_id, product_id, day, title, units, revenue, orders
FROM analytics.product_days WHERE shop_id = ANY(@shop_ids::uuid[]) ORDER BY shop_id, day, product_id;

-- name: TopProducts :many
-- The shop's products sold in the range, with their views there; by units or by revenue.
SELECT p.product_id, max(p.title)::text AS title, sum(p.units)::bigint AS units, sum(p.revenue)::bigint AS revenue,
    sum(p.orders)::bigint AS orders,
    coalesce((SELECT sum(v.views) FROM analytics.product_views v
              WHERE v.product_id = p.product_id AND v.day BETWEEN @from_day AND @to_day), 0)::bigint AS views
FROM analytics.product_days p
WHERE p.shop_id = @shop_id AND p.day BETWEEN @from_day AND @to_day
GROUP BY p.product_id
ORDER BY CASE WHEN @by_revenue::boolean THEN sum(p.revenue) ELSE sum(p.units) END DESC, p.product_id
LIMIT @max_rows;

-- name: ShopViews :one
SELECT coalesce(sum(views), 0)::bigint AS views FROM analytics.product_views
WHERE shop_id = @shop_id AND day BETWEEN @from_day AND @to_day;

-- name: UpsertViews :exec
INSERT INTO analytics.product_views (product_id, day, shop_id, views)
SELECT unnest(@product_ids::uuid[]), unnest(@days::date[]), unnest(@shop_ids::uuid[]), unnest(@views::bigint[])
ON CONFLICT (product_id, day) DO UPDATE SET views = excluded.views;

-- name: SalesRows :many
-- The shop's orders placed in the range, oldest first, one page at a time.
SELECT order_id, status, payment_method, subtotal, discount, shipping_fee, total, currency, placed_at, sale_day,
    (SELECT coalesce(sum(f.amount), 0) FROM analytics.refunds f WHERE f.order_id = o.order_id)::bigint AS refunded,
    commission,
    (SELECT coalesce(sum(l.quantity), 0) FROM analytics.order_lines l WHERE l.order_id = o.order_id)::bigint AS units
FROM analytics.orders o
WHERE o.shop_id = @shop_id AND o.placed_day BETWEEN @from_day AND @to_day
  AND (NOT @has_cursor::boolean OR (o.placed_at, o.order_id) > (@after_at::timestamptz, @after_id::uuid))
ORDER BY o.placed_at, o.order_id
LIMIT @max_rows;

-- name: CountSalesRows :one
SELECT count(*) FROM analytics.orders WHERE shop_id = @shop_id AND placed_day BETWEEN @from_day AND @to_day;

-- name: Truncate :exec
-- Empties the read model before a rebuild (in the rebuild's transaction).
TRUNCATE analytics.orders, analytics.order_lines, analytics.refunds, analytics.shop_days, analytics.product_days;

-- name: FactShops :many
SELECT DISTINCT shop_id FROM analytics.orders ORDER BY shop_id;

-- name: FactDaysOfShop :many
SELECT o.placed_day AS day FROM analytics.orders o WHERE o.shop_id = @shop_id
UNION SELECT o.sale_day FROM analytics.orders o WHERE o.shop_id = @shop_id AND o.sale_day IS NOT NULL
UNION SELECT o.released_day FROM analytics.orders o WHERE o.shop_id = @shop_id AND o.released_day IS NOT NULL
UNION SELECT f.day FROM analytics.refunds f WHERE f.shop_id = @shop_id;

-- name: LockUser :exec
-- Serialises one user's export requests, so that two at once cannot both pass the limit.
SELECT pg_advisory_xact_lock(hashtextextended(@user_key::text, 0));

-- name: PendingExports :one
-- A user's exports in progress (an expired one no longer counts: its job is long over).
SELECT count(*) FROM analytics.exports
WHERE requested_by = @requested_by AND status = 'pending' AND expires_at > now();

-- name: SamePendingExport :one
-- The user's export of the same report still in progress, which a repeated request answers.
SELECT id, shop_id, requested_by, report, format, from_day, to_day, status, row_count, size_bytes, created_at, ready_at, expires_at
FROM analytics.exports
WHERE requested_by = @requested_by AND shop_id = @shop_id AND report = @report AND format = @format
  AND from_day = @from_day AND to_day = @to_day AND status = 'pending' AND expires_at > now()
ORDER BY created_at DESC LIMIT 1;

-- name: InsertExport :one
INSERT INTO analytics.exports (id, shop_id, requested_by, report, format, from_day, to_day, expires_at)
VALUES (@id, @shop_id, @requested_by, @report, @format, @from_day, @to_day, @expires_at)
RETURNING id, shop_id, requested_by, report, format, from_day, to_day, status, row_count, size_bytes, created_at, ready_at, expires_at;

-- name: GetExport :one
-- An export of a shop that has not expired.
SELECT id, shop_id, requested_by, report, format, from_day, to_day, status, row_count, size_bytes, created_at, ready_at, expires_at
FROM analytics.exports WHERE id = @id AND shop_id = @shop_id AND expires_at > now();

-- name: ExportByID :one
SELECT id, shop_id, requested_by, report, format, from_day, to_day, status, row_count, size_bytes, created_at, ready_at, expires_at
FROM analytics.exports WHERE id = @id;

-- name: LockExport :one
-- The export a job renders, locked so that two runs of the job cannot both write its file.
SELECT id, shop_id, requested_by, report, format, from_day, to_day, status, row_count, size_bytes, created_at, ready_at, expires_at
FROM analytics.exports WHERE id = @id FOR UPDATE;

-- name: InsertExportFile :exec
INSERT INTO analytics.export_files (export_id, content_type, filename, content)
VALUES (@export_id, @content_type, @filename, @content);

-- name: MarkExportReady :exec
UPDATE analytics.exports SET status = 'ready', row_count = @row_count, size_bytes = @size_bytes, ready_at = now(),
    expires_at = @expires_at
WHERE id = @id AND status = 'pending';

-- name: MarkExportFailed :exec
UPDATE analytics.exports SET status = 'failed' WHERE id = @id AND status = 'pending';

-- name: ExportFile :one
-- A ready export's file, unless it expired.
SELECT f.content_type, f.filename, f.content
FROM analytics.exports e JOIN analytics.export_files f ON f.export_id = e.id
WHERE e.id = @id AND e.status = 'ready' AND e.expires_at > now();

-- name: DeleteExpiredExports :execrows
-- Exports past their time, files with them (ON DELETE CASCADE).
DELETE FROM analytics.exports WHERE expires_at <= now();
