-- name: CreateUser :one
INSERT INTO users.users (email, password_hash, full_name, phone, roles)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;

-- name: GetUser :one
SELECT * FROM users.users WHERE id = $1 AND deleted_at IS NULL;

-- name: GetUserByEmail :one
SELECT * FROM users.users WHERE lower(email) = lower(@email) AND deleted_at IS NULL;

-- name: UpdateProfile :one
UPDATE users.users
SET full_name = @full_name, phone = @phone, locale = @locale, time_zone = @time_zone, updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: SetLocale :one
-- A person's language and time zone, each kept when not given.
UPDATE users.users
SET locale = coalesce(sqlc.narg(locale), locale), time_zone = coalesce(sqlc.narg(time_zone), time_zone), updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: ContactsOf :many
-- How to reach the live accounts among ids, and in which language: one query for every reader
-- of a send job's deliveries.
SELECT id, email, full_name, phone, locale, time_zone FROM users.users WHERE id = ANY(@ids::uuid[]) AND deleted_at IS NULL;

-- name: LocalesOf :many
-- The language and time zone of the live accounts among ids: one query for every recipient of
-- an event.
SELECT id, locale, time_zone FROM users.users WHERE id = ANY(@ids::uuid[]) AND deleted_at IS NULL;

-- name: SetPassword :exec
UPDATE users.users SET password_hash = $2, updated_at = now() WHERE id = $1 AND deleted_at IS NULL;

-- name: AddRole :one
UPDATE users.users
SET roles = CASE WHEN @role::text = ANY (roles) THEN roles ELSE array_append(roles, @role::text) END,
    updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: SoftDeleteUser :execrows
-- Personal data goes; the row stays so that orders and payments keep their buyer's ID.
UPDATE users.users
SET email = 'deleted+' || id::text || '@invalid', password_hash = '', full_name = '',
    phone = NULL, deleted_at = now(), updated_at = now()
WHERE id = $1 AND deleted_at IS NULL;

-- name: CreateSession :one
INSERT INTO users.sessions (user_id, user_agent, ip) VALUES ($1, $2, $3) RETURNING *;

-- name: GetSession :one
SELECT * FROM users.sessions WHERE id = $1;

-- name: RevokeSession :exec
UPDATE users.sessions SET revoked_at = now(), revoke_reason = $2 WHERE id = $1 AND revoked_at IS NULL;

-- name: RevokeUserSessions :many
-- Ends every live session of a user but one (pass the nil UUID to end them all).
UPDATE users.sessions SET revoked_at = now(), revoke_reason = @reason
WHERE user_id = @user_id AND revoked_at IS NULL AND id <> @keep
RETURNING id;

-- name: CreateRefreshToken :exec
INSERT INTO users.refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3);

-- name: UseRefreshToken :one
-- Spends a refresh token exactly once: of two concurrent uses, only one gets the row.
UPDATE users.refresh_tokens SET used_at = now()
WHERE token_hash = $1 AND used_at IS NULL
RETURNING session_id, expires_at;

-- name: FindRefreshToken :one
SELECT session_id, used_at, expires_at FROM users.refresh_tokens WHERE token_hash = $1;

-- name: CreatePasswordOTP :exec
INSERT INTO users.password_otps (id, user_id, otp_hash, code_sealed, expires_at) VALUES ($1, $2, $3, $4, $5);

-- name: ExpireUserOTPs :exec
-- A new code replaces the previous ones.
UPDATE users.password_otps SET consumed_at = now(), code_sealed = NULL WHERE user_id = $1 AND consumed_at IS NULL;

-- name: ResetCodeToMail :one
-- The sealed code a mail job sends, with where to; no row once it was sent (or never sealed).
SELECT o.code_sealed, o.expires_at, o.consumed_at, u.email
FROM users.password_otps o JOIN users.users u ON u.id = o.user_id
WHERE o.id = $1 AND o.code_sealed IS NOT NULL AND u.deleted_at IS NULL;

-- name: ForgetResetCode :exec
UPDATE users.password_otps SET code_sealed = NULL WHERE id = $1;

-- name: TryLatestOTP :one
-- Counts one attempt at the user's live code, atomically, and returns it with the new count.
UPDATE users.password_otps SET attempts = attempts + 1
WHERE id = (
    SELECT o.id FROM users.password_otps o
    WHERE o.user_id = $1 AND o.consumed_at IS NULL AND o.expires_at > now()
    ORDER BY o.created_at DESC LIMIT 1
    FOR UPDATE
)
RETURNING id, otp_hash, attempts;

-- name: ConsumeOTP :execrows
UPDATE users.password_otps SET consumed_at = now(), code_sealed = NULL WHERE id = $1 AND consumed_at IS NULL;

-- name: CreateResetToken :exec
INSERT INTO users.reset_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3);

-- name: UseResetToken :one
UPDATE users.reset_tokens SET used_at = now()
WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
RETURNING user_id;

-- name: ListAddresses :many
SELECT * FROM users.addresses
WHERE user_id = @user_id
  AND (NOT @has_cursor::bool OR (created_at, id) > (@after_created::timestamptz, @after_id::uuid))
ORDER BY created_at, id
LIMIT @lim;

-- name: CountAddresses :one
SELECT count(*) FROM users.addresses WHERE user_id = $1;

-- name: GetAddress :one
SELECT * FROM users.addresses WHERE id = $1 AND user_id = $2;

-- name: CreateAddress :one
INSERT INTO users.addresses (user_id, recipient_name, phone, line1, ward, district, province, country, lat, lng, is_default)
VALUES (@user_id, @recipient_name, @phone, @line1, @ward, @district, @province, @country, @lat, @lng, @is_default)
RETURNING *;

-- name: UpdateAddress :one
UPDATE users.addresses
SET recipient_name = @recipient_name, phone = @phone, line1 = @line1, ward = @ward,
    district = @district, province = @province, country = @country, lat = @lat, lng = @lng,
    updated_at = now()
WHERE id = @id AND user_id = @user_id
RETURNING *;

-- name: ClearDefaultAddress :exec
UPDATE users.addresses SET is_default = false, updated_at = now() WHERE user_id = $1 AND is_default;

-- name: SetDefaultAddress :one
UPDATE users.addresses SET is_default = true, updated_at = now() WHERE id = $1 AND user_id = $2 RETURNING *;

-- name: DeleteAddress :one
DELETE FROM users.addresses WHERE id = $1 AND user_id = $2 RETURNING is_default;

-- name: OldestAddress :one
SELECT id FROM users.addresses WHERE user_id = $1 ORDER BY created_at, id LIMIT 1;

-- name: DeleteUserAddresses :exec
DELETE FROM users.addresses WHERE user_id = $1;

-- name: LockUser :one
-- Serialises address changes of one user, so that "exactly one default" holds under concurrency.
SELECT id FROM users.users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE;

-- name: UpsertShipperProfile :one
INSERT INTO users.shipper_profiles (user_id, vehicle_type, vehicle_plate, id_number, service_area)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id) DO UPDATE
SET vehicle_type = EXCLUDED.vehicle_type, vehicle_plate = EXCLUDED.vehicle_plate,
    id_number = EXCLUDED.id_number, service_area = EXCLUDED.service_area, updated_at = now()
RETURNING *;

-- name: GetShipperProfile :one
SELECT * FROM users.shipper_profiles WHERE user_id = $1;

-- name: DeleteShipperProfile :exec
DELETE FROM users.shipper_profiles WHERE user_id = $1;
