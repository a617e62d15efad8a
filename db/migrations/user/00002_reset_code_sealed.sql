-- +goose Up
-- The reset code waiting to be mailed, sealed (AES-256-GCM under a key derived from JWT_SECRET,
-- bound to the row's id). The mail job carries only the row's id, since River keeps a job's
-- arguments for a day in plain text; the code is cleared once sent, used, replaced or expired.
ALTER TABLE users.password_otps ADD COLUMN code_sealed bytea;

-- +goose Down
ALTER TABLE users.password_otps DROP COLUMN code_sealed;
