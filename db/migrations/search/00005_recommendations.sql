-- +goose Up
-- Products seen (co-view: by the same visitor in the window) or bought (co-purchase: in the same
-- checkout) together, the strongest neighbours of each product, recomputed by the trending job.
CREATE TABLE search.neighbours (
    kind       text NOT NULL CHECK (kind IN ('view', 'purchase')),
    product_id uuid NOT NULL,
    other_id   uuid NOT NULL,
    weight     double precision NOT NULL,
    PRIMARY KEY (kind, product_id, other_id)
);
CREATE INDEX neighbours_rank_idx ON search.neighbours (product_id, weight DESC);

-- +goose Down
DROP TABLE search.neighbours;
