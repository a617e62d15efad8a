-- name: CreatePending :one
-- A row before its files are stored: the sweeper finds it if the upload never finishes.
INSERT INTO media.items (owner_kind, owner_id, uploader_id, kind, content_type, file_key)
VALUES (@owner_kind, @owner_id, @uploader_id, @kind, @content_type, @file_key)
RETURNING id;

-- name: CountLive :one
SELECT count(*) FROM media.items
WHERE owner_kind = @owner_kind AND owner_id = @owner_id AND deleted_at IS NULL AND attached_at IS NOT NULL;

-- name: LockOwner :exec
-- Serializes uploads and rearrangements of one owner's media, so that counts, positions and
-- the primary image stay consistent.
SELECT pg_advisory_xact_lock(hashtextextended(@owner_kind::text || ':' || @owner_id::text, 0));

-- name: NextPosition :one
SELECT COALESCE(max(position) + 1, 0)::integer FROM media.items
WHERE owner_kind = @owner_kind AND owner_id = @owner_id AND deleted_at IS NULL AND attached_at IS NOT NULL;

-- name: HasPrimary :one
SELECT EXISTS (SELECT 1 FROM media.items
    WHERE owner_kind = @owner_kind AND owner_id = @owner_id AND is_primary AND deleted_at IS NULL);

-- name: ClearPrimary :exec
UPDATE media.items SET is_primary = false
WHERE owner_kind = @owner_kind AND owner_id = @owner_id AND is_primary AND deleted_at IS NULL;

-- name: Finish :one
-- Records what was stored and attaches the upload to its owner (when it has one).
UPDATE media.items SET
    content_type = @content_type, file_key = @file_key, bytes = @bytes, width = @width, height = @height,
    duration_ms = @duration_ms, codec = @codec, thumbnails = @thumbnails, alt = @alt, position = @position,
    is_primary = @is_primary, attached_at = CASE WHEN owner_id IS NULL THEN NULL ELSE now() END
WHERE id = @id AND deleted_at IS NULL
RETURNING id, owner_kind, owner_id, uploader_id, kind, content_type, file_key, bytes, width, height, duration_ms,
    codec, poster_key, thumbnails, alt, position, is_primary, created_at, attached_at, deleted_at, purge_after;

-- name: Attach :many
-- Gives an owner uploads its uploader made without one.
UPDATE media.items SET owner_id = @owner_id, attached_at = now()
WHERE id = ANY(@ids::uuid[]) AND owner_kind = @owner_kind AND owner_id IS NULL AND uploader_id = @uploader_id
    AND deleted_at IS NULL AND bytes > 0
RETURNING id;

-- name: Get :one
SELECT id, owner_kind, owner_id, uploader_id, kind, content_type, file_key, bytes, width, height, duration_ms,
    codec, poster_key, thumbnails, alt, position, is_primary, created_at, attached_at, deleted_at, purge_after
FROM media.items WHERE id = @id;

-- name: ListOwned :many
SELECT id, owner_kind, owner_id, uploader_id, kind, content_type, file_key, bytes, width, height, duration_ms,
    codec, poster_key, thumbnails, alt, position, is_primary, created_at, attached_at, deleted_at, purge_after
FROM media.items
WHERE owner_kind = @owner_kind AND owner_id = ANY(@owner_ids::uuid[]) AND deleted_at IS NULL AND attached_at IS NOT NULL
ORDER BY owner_id, position, created_at, id;

-- name: Arrange :one
UPDATE media.items SET alt = @alt, position = @position, is_primary = @is_primary
WHERE id = @id AND deleted_at IS NULL
RETURNING id, owner_kind, owner_id, uploader_id, kind, content_type, file_key, bytes, width, height, duration_ms,
    codec, poster_key, thumbnails, alt, position, is_primary, created_at, attached_at, deleted_at, purge_after;

-- name: MarkDeleted :one
UPDATE media.items SET deleted_at = now(), purge_after = @purge_after, is_primary = false
WHERE id = @id AND owner_kind = @owner_kind AND owner_id = @owner_id AND deleted_at IS NULL
RETURNING id;

-- name: MarkOwnerDeleted :many
UPDATE media.items SET deleted_at = now(), purge_after = @purge_after, is_primary = false
WHERE owner_kind = @owner_kind AND owner_id = @owner_id AND deleted_at IS NULL
RETURNING id, purge_after;

-- name: PromoteFirstImage :exec
-- When the primary image goes, the first image left takes its place.
UPDATE media.items SET is_primary = true
WHERE id = (SELECT i.id FROM media.items i
    WHERE i.owner_kind = @owner_kind AND i.owner_id = @owner_id AND i.kind = 'image' AND i.deleted_at IS NULL
        AND i.attached_at IS NOT NULL
    ORDER BY i.position, i.created_at, i.id LIMIT 1)
AND NOT EXISTS (SELECT 1 FROM media.items j
    WHERE j.owner_kind = @owner_kind AND j.owner_id = @owner_id AND j.is_primary AND j.deleted_at IS NULL);

-- name: SetPoster :exec
UPDATE media.items SET poster_key = @poster_key WHERE id = @id AND deleted_at IS NULL;

-- name: DeleteRow :exec
DELETE FROM media.items WHERE id = @id;

-- name: Stale :many
-- Uploads never attached since before, and deleted media whose grace period is over.
SELECT id, owner_kind, owner_id, uploader_id, kind, content_type, file_key, bytes, width, height, duration_ms,
    codec, poster_key, thumbnails, alt, position, is_primary, created_at, attached_at, deleted_at, purge_after
FROM media.items
WHERE (attached_at IS NULL AND deleted_at IS NULL AND created_at < @unattached_before)
   OR (deleted_at IS NOT NULL AND purge_after <= now())
ORDER BY created_at
LIMIT @max;

-- name: MakeRoom :exec
-- Moves an owner's media at or after a position one place on, so an item put there comes first.
UPDATE media.items SET position = position + 1
WHERE owner_kind = @owner_kind AND owner_id = @owner_id AND position >= @position AND id <> @moved_id
    AND deleted_at IS NULL AND attached_at IS NOT NULL;
