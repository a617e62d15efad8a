-- +goose Up
-- Analytics reads the settled refunds of the orders each event delivery touches
-- (SettledRefundsOf): without an index by order it scanned every refund at every delivery.
CREATE INDEX refunds_order_idx ON payment.refunds (order_id, id) WHERE status = 'succeeded';

-- +goose Down
DROP INDEX payment.refunds_order_idx;
