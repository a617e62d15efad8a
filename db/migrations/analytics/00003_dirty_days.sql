-- +goose Up
-- The shop-days whose orders changed and whose rollups are not yet recomputed. A refresh writes
-- an order's facts and marks its days here, without waiting for the shop; whoever holds the
-- shop's lock recomputes every day marked meanwhile in one go, so that a busy shop's day is
-- summed once for many orders rather than once for each. A log, without a key: a unique mark
-- would make every refresh of a busy day wait for the commit of the one before it.
CREATE TABLE analytics.dirty_days (
    shop_id uuid NOT NULL,
    day     date NOT NULL
);
CREATE INDEX dirty_days_shop ON analytics.dirty_days (shop_id);

-- +goose Down
DROP TABLE analytics.dirty_days;
