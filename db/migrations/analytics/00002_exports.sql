-- +goose Up
-- Report exports: a report too large to answer at once is written by a River job
-- (analytics_export) into a file kept here until it expires. The file's bytes and the export's
-- status `ready` are written in one transaction, so a file is either whole and ready or not
-- there at all: a job killed half-way leaves the export `pending`, and River runs it again.
CREATE TABLE analytics.exports (
    id           uuid PRIMARY KEY,
    shop_id      uuid NOT NULL,
    -- requested_by is the user who asked: only they (and admins) may see or download it.
    requested_by uuid NOT NULL,
    report       text NOT NULL CHECK (report IN ('sales', 'performance')),
    format       text NOT NULL CHECK (format IN ('json', 'csv', 'xlsx', 'pdf')),
    from_day     date NOT NULL,
    to_day       date NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),
    row_count    bigint,
    size_bytes   bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    ready_at     timestamptz,
    -- expires_at: when the export and its file go (a pending one too, should its job never end).
    expires_at   timestamptz NOT NULL
);
-- The exports a user has in progress, counted against ANALYTICS_EXPORTS_PER_USER.
CREATE INDEX exports_pending_idx ON analytics.exports (requested_by) WHERE status = 'pending';
CREATE INDEX exports_expires_idx ON analytics.exports (expires_at);

-- The file of a ready export, apart from the export so that reading its status never reads it.
CREATE TABLE analytics.export_files (
    export_id    uuid PRIMARY KEY REFERENCES analytics.exports (id) ON DELETE CASCADE,
    content_type text NOT NULL,
    filename     text NOT NULL,
    content      bytea NOT NULL
);

-- +goose Down
DROP TABLE analytics.export_files;
DROP TABLE analytics.exports;
