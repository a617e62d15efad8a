-- +goose Up
-- A person's language and time zone, on their profile: every message to them (email, push,
-- in-app, quiet hours) is written in the one and timed in the other. The languages are those the
-- message templates speak; the zone is an IANA name, checked against Go's zone database by the
-- service, since PostgreSQL's own list of zones may differ from the one the server runs with.
ALTER TABLE users.users ADD COLUMN locale text NOT NULL DEFAULT 'vi' CHECK (locale IN ('vi', 'en'));
ALTER TABLE users.users ADD COLUMN time_zone text NOT NULL DEFAULT 'Asia/Ho_Chi_Minh'
    CHECK (time_zone <> '' AND length(time_zone) <= 64);

-- +goose Down
ALTER TABLE users.users DROP COLUMN time_zone;
ALTER TABLE users.users DROP COLUMN locale;
