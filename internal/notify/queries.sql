-- name: CreateNotifications :many
-- Events' in-app notifications, set-based (the arrays are its rows, zipped). One made already
-- (a redelivered event) inserts nothing and is not returned: the unique key (event, person, kind).
INSERT INTO notify.notifications (user_id, kind, title, body, data, event_id)
SELECT unnest(@user_ids::uuid[]), unnest(@kinds::text[]), unnest(@titles::text[]), unnest(@bodies::text[]),
    unnest(@data::text[])::jsonb, unnest(@event_ids::text[])
ON CONFLICT DO NOTHING
RETURNING id, user_id, kind, title, body, data, event_id, read_at, deleted_at, created_at;

-- name: ListNotifications :many
-- A person's notifications, newest first, after the keyset (cursor) when given.
SELECT id, user_id, kind, title, body, data, event_id, read_at, deleted_at, created_at
FROM notify.notifications
WHERE user_id = @user_id AND deleted_at IS NULL
  AND (NOT @unread_only::boolean OR read_at IS NULL)
  AND (NOT @has_cursor::boolean OR (created_at, id) < (@cursor_at::timestamptz, @cursor_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: NotificationsSince :many
-- What a reconnecting live client missed: a person's notifications newer than one of theirs,
-- oldest first.
SELECT n.id, n.user_id, n.kind, n.title, n.body, n.data, n.event_id, n.read_at, n.deleted_at, n.created_at
FROM notify.notifications n
JOIN notify.notifications a ON a.id = @after_id AND a.user_id = n.user_id
WHERE n.user_id = @user_id AND n.deleted_at IS NULL AND (n.created_at, n.id) > (a.created_at, a.id)
ORDER BY n.created_at, n.id
LIMIT @lim;

-- name: CountUnread :one
SELECT count(*) FROM notify.notifications WHERE user_id = @user_id AND deleted_at IS NULL AND read_at IS NULL;

-- name: MarkRead :one
UPDATE notify.notifications SET read_at = coalesce(read_at, now())
WHERE id = @id AND user_id = @user_id AND deleted_at IS NULL
RETURNING id, user_id, kind, title, body, data, event_id, read_at, deleted_at, created_at;

-- name: DeleteNotification :execrows
UPDATE notify.notifications SET deleted_at = now() WHERE id = @id AND user_id = @user_id AND deleted_at IS NULL;

-- name: MarkAllRead :execrows
UPDATE notify.notifications SET read_at = now() WHERE user_id = @user_id AND deleted_at IS NULL AND read_at IS NULL;

-- name: ListPreferences :many
SELECT user_id, kind, channel, enabled, updated_at FROM notify.preferences WHERE user_id = @user_id ORDER BY kind, channel;

-- name: UpsertPreference :exec
INSERT INTO notify.preferences (user_id, kind, channel, enabled) VALUES (@user_id, @kind, @channel, @enabled)
ON CONFLICT (user_id, kind, channel) DO UPDATE SET enabled = excluded.enabled, updated_at = now();

-- name: RecipientPreferences :many
-- The overrides of an event's recipients for the event's kinds.
SELECT user_id, kind, channel, enabled, updated_at FROM notify.preferences
WHERE user_id = ANY(@user_ids::uuid[]) AND kind = ANY(@kinds::text[]);

-- name: GetSettings :one
SELECT user_id, quiet_start, quiet_end, updated_at FROM notify.settings WHERE user_id = @user_id;

-- name: RecipientQuietHours :many
-- The quiet hours of an event's recipients who have some.
SELECT user_id, quiet_start, quiet_end, updated_at FROM notify.settings
WHERE user_id = ANY(@user_ids::uuid[]) AND quiet_start IS NOT NULL;

-- name: UpsertSettings :exec
INSERT INTO notify.settings (user_id, quiet_start, quiet_end)
VALUES (@user_id, sqlc.narg(quiet_start), sqlc.narg(quiet_end))
ON CONFLICT (user_id) DO UPDATE SET quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, updated_at = now();

-- name: ActiveTemplatesOf :many
-- The active templates of an event's kinds on one channel, in every language.
SELECT id, kind, channel, locale, version, subject, body, html, active, created_by, created_at
FROM notify.templates WHERE kind = ANY(@kinds::text[]) AND channel = @channel AND active;

-- name: LockTemplateVersions :one
-- Serializes the versions of one kind, channel and language: the newest version, 0 when none.
SELECT coalesce(max(version), 0)::integer FROM notify.templates
WHERE kind = @kind AND channel = @channel AND locale = @locale;

-- name: DeactivateTemplates :exec
UPDATE notify.templates SET active = false WHERE kind = @kind AND channel = @channel AND locale = @locale AND active;

-- name: CreateTemplate :one
INSERT INTO notify.templates (kind, channel, locale, version, subject, body, html, created_by)
VALUES (@kind, @channel, @locale, @version, @subject, @body, @html, @created_by)
RETURNING id, kind, channel, locale, version, subject, body, html, active, created_by, created_at;

-- name: ListTemplates :many
SELECT id, kind, channel, locale, version, subject, body, html, active, created_by, created_at
FROM notify.templates
WHERE (sqlc.narg(kind)::text IS NULL OR kind = sqlc.narg(kind))
  AND (sqlc.narg(channel)::text IS NULL OR channel = sqlc.narg(channel))
  AND (NOT @has_cursor::boolean OR (created_at, id) < (@cursor_at::timestamptz, @cursor_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: UpsertPushSubscription :one
-- A browser registering again (or for another account on the same device) takes the endpoint over.
INSERT INTO notify.push_subscriptions (user_id, endpoint, p256dh, auth, user_agent)
VALUES (@user_id, @endpoint, @p256dh, @auth, @user_agent)
ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth,
    user_agent = excluded.user_agent, created_at = now()
RETURNING id, user_id, endpoint, p256dh, auth, user_agent, created_at;

-- name: DeletePushSubscription :execrows
DELETE FROM notify.push_subscriptions WHERE endpoint = @endpoint AND user_id = @user_id;

-- name: DeletePushEndpoint :exec
DELETE FROM notify.push_subscriptions WHERE id = @id;

-- name: CountPushSubscriptions :one
SELECT count(*) FROM notify.push_subscriptions WHERE user_id = @user_id;

-- name: PushSubscriptions :many
SELECT id, user_id, endpoint, p256dh, auth, user_agent, created_at FROM notify.push_subscriptions
WHERE user_id = @user_id ORDER BY created_at;

-- name: CreateDelivery :one
-- Event-made deliveries are unique per event, person, kind and channel: a redelivered event
-- inserts nothing.
INSERT INTO notify.deliveries (user_id, kind, channel, event_id, template_id, subject, body, data, created_by)
VALUES (@user_id, @kind, @channel, sqlc.narg(event_id), sqlc.narg(template_id), @subject, @body, @data, sqlc.narg(created_by))
ON CONFLICT DO NOTHING
RETURNING id, user_id, kind, channel, event_id, template_id, subject, body, data, status, attempts, last_error, created_by,
    created_at, sent_at;

-- name: CreateDeliveries :many
-- Events' outgoing messages, set-based (the arrays are its rows, zipped). One made already (a
-- redelivered event) inserts nothing and is not returned: the unique key (event, person, kind,
-- channel).
INSERT INTO notify.deliveries (user_id, kind, channel, event_id, data)
SELECT unnest(@user_ids::uuid[]), unnest(@kinds::text[]), unnest(@channels::text[]), unnest(@event_ids::text[]),
    unnest(@data::text[])::jsonb
ON CONFLICT DO NOTHING
RETURNING id, user_id, kind, channel;

-- name: GetDelivery :one
SELECT id, user_id, kind, channel, event_id, template_id, subject, body, data, status, attempts, last_error, created_by,
    created_at, sent_at
FROM notify.deliveries WHERE id = @id;

-- name: AttemptDeliveries :many
-- The deliveries among ids still queued, each tried once more: one statement for a send job's.
UPDATE notify.deliveries SET attempts = attempts + 1 WHERE id = ANY(@ids::uuid[]) AND status = 'queued'
RETURNING id, user_id, kind, channel, event_id, template_id, subject, body, data, status, attempts, last_error, created_by,
    created_at, sent_at;

-- name: ActiveTemplatesFor :many
-- The active templates, in every language, of the kinds and channels of the deliveries among
-- ids: one read for a send job's.
SELECT t.id, t.kind, t.channel, t.locale, t.version, t.subject, t.body, t.html, t.active, t.created_by, t.created_at
FROM notify.templates t
WHERE t.active AND (t.kind, t.channel) IN (SELECT d.kind, d.channel FROM notify.deliveries d WHERE d.id = ANY(@ids::uuid[]));

-- name: FinishDeliveries :exec
-- Deliveries' ends, set-based (the arrays are its rows, zipped); one that ended already is left
-- as it is.
UPDATE notify.deliveries d SET status = f.status, last_error = f.last_error,
    sent_at = CASE WHEN f.status = 'sent' THEN now() ELSE d.sent_at END
FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@statuses::text[]) AS status,
    unnest(@last_errors::text[]) AS last_error) f
WHERE d.id = f.id AND d.status = 'queued';

-- name: NoteDeliveryError :exec
UPDATE notify.deliveries SET last_error = @last_error WHERE id = @id;

-- name: UserDeliveries :many
SELECT id, user_id, kind, channel, event_id, template_id, subject, body, data, status, attempts, last_error, created_by,
    created_at, sent_at
FROM notify.deliveries WHERE user_id = @user_id ORDER BY created_at DESC, id DESC LIMIT 500;

-- name: LockKey :exec
-- Serializes, for the rest of the transaction, the writers of one key (a person's push
-- registrations, the versions of one template).
SELECT pg_advisory_xact_lock(hashtextextended(@key::text, 0));
