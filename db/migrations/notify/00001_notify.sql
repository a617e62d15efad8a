-- +goose Up
CREATE SCHEMA IF NOT EXISTS notify;

-- In-app notifications. One event makes at most one notification of a kind per person: the
-- unique key on (event_id, user_id, kind) makes a redelivered event insert nothing. The kind is
-- part of the key because one event may tell one person two things (a buyer who owns the shop
-- hears of a placed order as buyer and as seller). Deleting hides the row but keeps the key, so
-- a late redelivery does not bring it back.
CREATE TABLE notify.notifications (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL,
    kind       text NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    event_id   text NOT NULL,
    read_at    timestamptz,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, user_id, kind)
);
CREATE INDEX notifications_user ON notify.notifications (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX notifications_unread ON notify.notifications (user_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL AND read_at IS NULL;

-- A person's overrides of the default channels (the defaults are in code): one row per kind of
-- message and channel they changed.
CREATE TABLE notify.preferences (
    user_id    uuid NOT NULL,
    kind       text NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('in_app', 'email', 'sms', 'push')),
    enabled    boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, kind, channel)
);

-- A person's language, time zone and quiet hours (minutes after local midnight; both or
-- neither): SMS and push wait until the quiet hours end.
CREATE TABLE notify.settings (
    user_id     uuid PRIMARY KEY,
    locale      text NOT NULL DEFAULT 'vi' CHECK (locale IN ('vi', 'en')),
    time_zone   text NOT NULL DEFAULT 'Asia/Ho_Chi_Minh',
    quiet_start smallint CHECK (quiet_start BETWEEN 0 AND 1439),
    quiet_end   smallint CHECK (quiet_end BETWEEN 0 AND 1439),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- Admins' templates, per kind, channel and language. A new one for the same three is a new
-- version that replaces the active one; older versions stay. Without one the built-in default
-- applies.
CREATE TABLE notify.templates (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind       text NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('in_app', 'email', 'sms', 'push')),
    locale     text NOT NULL CHECK (locale IN ('vi', 'en')),
    version    integer NOT NULL CHECK (version > 0),
    subject    text NOT NULL DEFAULT '',
    body       text NOT NULL,
    html       text NOT NULL DEFAULT '',
    active     boolean NOT NULL DEFAULT true,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, channel, locale, version)
);
CREATE UNIQUE INDEX templates_active ON notify.templates (kind, channel, locale) WHERE active;
CREATE INDEX templates_list ON notify.templates (created_at DESC, id DESC);

-- Browsers' web push subscriptions (RFC 8030 endpoint, RFC 8291 keys).
CREATE TABLE notify.push_subscriptions (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL,
    endpoint   text NOT NULL UNIQUE,
    p256dh     text NOT NULL,
    auth       text NOT NULL,
    user_agent text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_user ON notify.push_subscriptions (user_id);

-- Each outgoing message (email, SMS, push): what to render and where it stands. Event-made ones
-- are unique per event, person, kind and channel like notifications; messages sent by hand have
-- no event. Data holds the template's variables, never a secret: secrets are rendered at send
-- time by their owner.
CREATE TABLE notify.deliveries (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL,
    kind        text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    event_id    text,
    template_id uuid,
    subject     text NOT NULL DEFAULT '',
    body        text NOT NULL DEFAULT '',
    data        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'skipped')),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text NOT NULL DEFAULT '',
    created_by  uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    UNIQUE (event_id, user_id, kind, channel)
);
CREATE INDEX deliveries_user ON notify.deliveries (user_id, created_at DESC);

-- +goose Down
DROP SCHEMA notify CASCADE;
