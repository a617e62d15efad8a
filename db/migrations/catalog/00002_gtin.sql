-- +goose Up
-- A product's barcode (GTIN-8, -12, -13 or -14), optional: price comparison matches the same
-- product sold by several shops by it. '' is none.
ALTER TABLE catalog.products ADD COLUMN gtin text NOT NULL DEFAULT ''
    CONSTRAINT products_gtin_digits CHECK (gtin ~ '^([0-9]{8}|[0-9]{12,14})?$');
CREATE INDEX products_gtin_idx ON catalog.products (gtin) WHERE gtin <> '' AND deleted_at IS NULL;

-- +goose Down
DROP INDEX catalog.products_gtin_idx;
ALTER TABLE catalog.products DROP COLUMN gtin;
