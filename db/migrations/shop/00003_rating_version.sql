-- +goose Up
-- The version of the rating the shop holds (the review context's summary version), so that a
-- rating event delivered late never overwrites a newer rating.
ALTER TABLE shop.shops ADD COLUMN rating_version bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE shop.shops DROP COLUMN rating_version;
