-- name: UpsertShipper :one
-- Both ways of becoming a shipper end here (the identity route's event and the shipping
-- route), in either order: the profile fields follow the identity context, the working state
-- (status, position) is left as it is.
INSERT INTO shipping.shippers (user_id, vehicle_type, service_area)
VALUES (@user_id, @vehicle_type, @service_area)
ON CONFLICT (user_id) DO UPDATE SET vehicle_type = EXCLUDED.vehicle_type, service_area = EXCLUDED.service_area,
    updated_at = now()
RETURNING *;

-- name: GetShipper :one
SELECT * FROM shipping.shippers WHERE user_id = @user_id;

-- name: LockShipper :one
SELECT * FROM shipping.shippers WHERE user_id = @user_id FOR UPDATE;

-- name: ListShippers :many
SELECT * FROM shipping.shippers
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
  AND (NOT @has_cursor::bool OR (created_at, user_id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY created_at DESC, user_id DESC
LIMIT @lim;

-- name: SetShipperState :one
UPDATE shipping.shippers
SET status = @status,
    lat = coalesce(sqlc.narg(lat)::float8, lat),
    lng = coalesce(sqlc.narg(lng)::float8, lng),
    located_at = CASE WHEN sqlc.narg(lat)::float8 IS NULL THEN located_at ELSE now() END,
    updated_at = now()
WHERE user_id = @user_id
RETURNING *;

-- name: NearbyAvailableShippers :many
-- Available shippers within radius metres of a point, nearest first. The earth_box test uses
-- the partial GiST index; the distance test trims the box's corners.
SELECT sqlc.embed(s), shipping.distance_m(@lat::float8, @lng::float8, s.lat, s.lng)::float8 AS distance_m
FROM shipping.shippers s
WHERE s.status = 'available' AND s.lat IS NOT NULL
  AND public.earth_box(shipping.earth_point(@lat::float8, @lng::float8), @radius::float8) @> shipping.earth_point(s.lat, s.lng)
  AND shipping.distance_m(@lat::float8, @lng::float8, s.lat, s.lng) <= @radius::float8
ORDER BY distance_m, s.user_id
LIMIT @lim;

-- name: ClaimNearestShipper :one
-- Takes the nearest available shipper within radius metres for a delivery. SKIP LOCKED lets
-- concurrent assignments pass over a shipper another one is taking, and the status test on
-- the update itself means that a shipper is only ever taken once.
UPDATE shipping.shippers AS s SET status = 'busy', updated_at = now()
WHERE s.user_id = (
    SELECT c.user_id FROM shipping.shippers c
    WHERE c.status = 'available' AND c.lat IS NOT NULL
      AND public.earth_box(shipping.earth_point(@lat::float8, @lng::float8), @radius::float8) @> shipping.earth_point(c.lat, c.lng)
      AND shipping.distance_m(@lat::float8, @lng::float8, c.lat, c.lng) <= @radius::float8
    ORDER BY shipping.distance_m(@lat::float8, @lng::float8, c.lat, c.lng), c.user_id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
) AND s.status = 'available'
RETURNING s.*;

-- name: ClaimShipper :one
-- Takes one named shipper if, and only if, they are available.
UPDATE shipping.shippers SET status = 'busy', updated_at = now()
WHERE user_id = @user_id AND status = 'available'
RETURNING *;

-- name: ReleaseShipper :exec
-- A busy shipper with nothing left to carry is available again.
UPDATE shipping.shippers s SET status = 'available', updated_at = now()
WHERE s.user_id = @user_id AND s.status = 'busy'
  AND NOT EXISTS (SELECT 1 FROM shipping.shipments m
                  WHERE m.shipper_id = s.user_id AND m.status IN ('awaiting_pickup', 'picked_up', 'in_transit'));

-- name: CountActiveDeliveries :one
SELECT count(*) FROM shipping.shipments
WHERE shipper_id = @shipper_id::uuid AND status IN ('awaiting_pickup', 'picked_up', 'in_transit');

-- name: ActiveDeliveries :many
SELECT order_id FROM shipping.shipments
WHERE shipper_id = @shipper_id::uuid AND status IN ('awaiting_pickup', 'picked_up', 'in_transit')
ORDER BY assigned_at, order_id;

-- name: FollowsShipper :one
-- Whether the user is the buyer or the shop owner of a delivery the shipper is carrying now.
SELECT EXISTS (
    SELECT 1 FROM shipping.shipments
    WHERE shipper_id = @shipper_id::uuid AND status IN ('awaiting_pickup', 'picked_up', 'in_transit')
      AND (buyer_id = @user_id OR shop_owner_id = @user_id)
)::bool;

-- name: CreateShipment :one
INSERT INTO shipping.shipments (order_id, tracking_number, buyer_id, shop_id, shop_owner_id, shop_name, method, fee,
    currency, cod_amount, distance_km, weight_grams, pickup_lat, pickup_lng, dropoff_lat, dropoff_lng, recipient)
VALUES (@order_id, @tracking_number, @buyer_id, @shop_id, @shop_owner_id, @shop_name, @method, @fee,
    @currency, @cod_amount, @distance_km, @weight_grams, @pickup_lat, @pickup_lng, sqlc.narg(dropoff_lat), sqlc.narg(dropoff_lng), @recipient)
ON CONFLICT (order_id) DO NOTHING
RETURNING *;

-- name: GetShipment :one
SELECT * FROM shipping.shipments WHERE order_id = @order_id;

-- name: LockShipment :one
SELECT * FROM shipping.shipments WHERE order_id = @order_id FOR UPDATE;

-- name: AssignShipment :one
UPDATE shipping.shipments SET shipper_id = @shipper_id::uuid, assigned_at = now(), updated_at = now()
WHERE order_id = @order_id AND status = 'awaiting_pickup'
RETURNING *;

-- name: SetShipmentStatus :one
UPDATE shipping.shipments SET status = @status, updated_at = now()
WHERE order_id = @order_id AND status = @from_status
RETURNING *;

-- name: RecordLocation :one
-- One round trip per GPS point: the delivery's last position and the shipper's, both only when
-- the caller carries the delivery and it is still under way. The previous position (read in the
-- statement's snapshot, before the update) and the drop-off tell when the shipper comes near.
WITH prev AS (
    SELECT s0.order_id, s0.last_lat AS prev_lat, s0.last_lng AS prev_lng FROM shipping.shipments s0 WHERE s0.order_id = @order_id
), m AS (
    UPDATE shipping.shipments SET last_lat = @lat::float8, last_lng = @lng::float8, last_at = @at::timestamptz
    WHERE order_id = @order_id AND shipper_id = @shipper_id::uuid
      AND status IN ('awaiting_pickup', 'picked_up', 'in_transit')
    RETURNING order_id, shipper_id, status, buyer_id, dropoff_lat, dropoff_lng
), p AS (
    UPDATE shipping.shippers SET lat = @lat::float8, lng = @lng::float8, located_at = @at::timestamptz
    WHERE user_id = (SELECT m.shipper_id FROM m)
    RETURNING user_id
)
SELECT m.order_id, m.shipper_id, m.status, m.buyer_id, m.dropoff_lat, m.dropoff_lng, prev.prev_lat, prev.prev_lng
FROM m JOIN prev ON prev.order_id = m.order_id;

-- name: AddEvent :exec
INSERT INTO shipping.shipment_events (order_id, kind, status, shipper_id, actor_id, actor_role, note, lat, lng)
VALUES (@order_id, @kind, @status, sqlc.narg(shipper_id), sqlc.narg(actor_id), @actor_role, @note, sqlc.narg(lat), sqlc.narg(lng));

-- name: ListEvents :many
SELECT * FROM shipping.shipment_events WHERE order_id = @order_id ORDER BY id;

-- name: ShipperOfOrder :one
SELECT shipper_id FROM shipping.shipments WHERE order_id = @order_id;
