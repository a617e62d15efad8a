-- +goose Up
-- Products whose sales or stock changed and whose documents are not yet rewritten. A sale or a
-- stock change marks its products here; whoever gets the refresher's lock without waiting
-- rewrites every product marked meanwhile, once, so that a product sold a hundred times a second
-- is re-indexed a few times a second rather than a hundred. A log (a unique mark would make
-- every sale of a busy product wait for the commit of the one before it); the id orders the
-- marks, so a refresher takes only those its catalog read came after; the sweep takes only
-- marks old enough that no live refresher is coming for them.
CREATE TABLE search.stale_products (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id uuid NOT NULL,
    marked_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE search.stale_products;
