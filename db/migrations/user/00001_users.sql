-- +goose Up
CREATE SCHEMA IF NOT EXISTS users;

CREATE TABLE users.users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL,
    password_hash text NOT NULL,
    full_name     text NOT NULL,
    phone         text,
    roles         text[] NOT NULL DEFAULT ARRAY['user']::text[],
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    CONSTRAINT users_roles_valid CHECK (roles <@ ARRAY['user','shipper','admin']::text[])
);
-- Emails are unique among live accounts, case-insensitively; a deleted account frees its email.
CREATE UNIQUE INDEX users_email_key ON users.users (lower(email)) WHERE deleted_at IS NULL;

-- A session is one refresh-token family: every rotation stays in it, and reuse of a spent
-- token revokes the whole family. Access tokens carry the session id so revocation reaches them.
CREATE TABLE users.sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users.users (id),
    user_agent    text NOT NULL DEFAULT '',
    ip            text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    revoke_reason text
);
CREATE INDEX sessions_user_idx ON users.sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE users.refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES users.sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON users.refresh_tokens (session_id);

CREATE TABLE users.password_otps (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users.users (id),
    otp_hash    bytea NOT NULL,
    attempts    int NOT NULL DEFAULT 0,
    expires_at  timestamptz NOT NULL,
    consumed_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_otps_user_idx ON users.password_otps (user_id, created_at DESC);

CREATE TABLE users.reset_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users.users (id),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users.addresses (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES users.users (id),
    recipient_name text NOT NULL,
    phone          text NOT NULL,
    line1          text NOT NULL,
    ward           text NOT NULL DEFAULT '',
    district       text NOT NULL DEFAULT '',
    province       text NOT NULL,
    country        text NOT NULL DEFAULT 'VN',
    lat            double precision,
    lng            double precision,
    is_default     boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_user_idx ON users.addresses (user_id, created_at, id);
-- At most one default address a user; the service keeps it exactly one while any exist.
CREATE UNIQUE INDEX addresses_one_default ON users.addresses (user_id) WHERE is_default;

CREATE TABLE users.shipper_profiles (
    user_id       uuid PRIMARY KEY REFERENCES users.users (id),
    vehicle_type  text NOT NULL,
    vehicle_plate text NOT NULL,
    id_number     text NOT NULL,
    service_area  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shipper_vehicle_valid CHECK (vehicle_type IN ('motorbike','car','van','truck','bicycle'))
);

-- +goose Down
DROP SCHEMA users CASCADE;
