-- +goose Up
-- A person's language and time zone now live on their profile (the identity context), which the
-- notification context reads through its port: one record of them, changed by the profile route
-- and, forwarded, by the preferences route. What stays here is the quiet hours.
ALTER TABLE notify.settings DROP COLUMN locale;
ALTER TABLE notify.settings DROP COLUMN time_zone;

-- +goose Down
ALTER TABLE notify.settings ADD COLUMN locale text NOT NULL DEFAULT 'vi' CHECK (locale IN ('vi', 'en'));
ALTER TABLE notify.settings ADD COLUMN time_zone text NOT NULL DEFAULT 'Asia/Ho_Chi_Minh';
