-- +goose Up
CREATE SCHEMA IF NOT EXISTS media;

-- One image or video and the files made from it. A row is written before its files are stored
-- (attached_at NULL): an upload that never finishes, or that no owner ever takes, is found by
-- the sweeper and its files removed. Deleting marks the row (deleted_at) and schedules the
-- purge of its files at purge_after; the row goes with its files.
CREATE TABLE media.items (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_kind    text NOT NULL CHECK (owner_kind IN ('product', 'review')),
    owner_id      uuid,
    uploader_id   uuid NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('image', 'video')),
    content_type  text NOT NULL,
    file_key      text NOT NULL,
    bytes         bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    width         integer NOT NULL DEFAULT 0 CHECK (width >= 0),
    height        integer NOT NULL DEFAULT 0 CHECK (height >= 0),
    duration_ms   bigint CHECK (duration_ms >= 0),
    codec         text NOT NULL DEFAULT '',
    poster_key    text,
    -- [{"width": 160, "key": "..."}], narrowest first.
    thumbnails    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(thumbnails) = 'array'),
    alt           text NOT NULL DEFAULT '',
    position      integer NOT NULL DEFAULT 0 CHECK (position >= 0),
    is_primary    boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    attached_at   timestamptz,
    deleted_at    timestamptz,
    purge_after   timestamptz,
    CHECK (attached_at IS NULL OR owner_id IS NOT NULL)
);

-- An owner's live media in their order.
CREATE INDEX items_owner ON media.items (owner_kind, owner_id, position, created_at)
    WHERE deleted_at IS NULL AND attached_at IS NOT NULL;
-- At most one primary image an owner.
CREATE UNIQUE INDEX items_one_primary ON media.items (owner_kind, owner_id)
    WHERE is_primary AND deleted_at IS NULL;
-- The sweeper's work: uploads never attached, and deleted media whose grace period is over.
CREATE INDEX items_unattached ON media.items (created_at) WHERE attached_at IS NULL AND deleted_at IS NULL;
CREATE INDEX items_purge ON media.items (purge_after) WHERE deleted_at IS NOT NULL;

-- +goose Down
DROP SCHEMA media CASCADE;
