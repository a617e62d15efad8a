-- +goose Up
CREATE SCHEMA IF NOT EXISTS payment;

-- A payment collects the money of one order or of a whole checkout through one provider.
-- `stage` is the provider-driven lifecycle and only moves up its rank (pending < authorized <
-- failed < captured), so an out-of-order notification never moves a payment backwards; `status`
-- is what clients see, derived from the stage, the captured and refunded amounts and open
-- disputes.
CREATE TABLE payment.payments (
    id                  uuid PRIMARY KEY,
    buyer_id            uuid NOT NULL,
    checkout_id         uuid,
    method              text NOT NULL CHECK (method IN ('card', 'ewallet', 'bank_transfer', 'cod')),
    provider            text NOT NULL CHECK (provider IN ('stripe', 'paypal', 'vnpay', 'momo', 'sandbox', 'cod')),
    amount              bigint NOT NULL CHECK (amount > 0),
    currency            text NOT NULL,
    stage               text NOT NULL DEFAULT 'pending' CHECK (stage IN ('pending', 'authorized', 'failed', 'captured')),
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN
        ('pending', 'authorized', 'captured', 'failed', 'refunded', 'partially_refunded', 'disputed')),
    capture_mode        text NOT NULL DEFAULT 'automatic' CHECK (capture_mode IN ('automatic', 'manual')),
    capture_required    boolean NOT NULL DEFAULT false,
    provider_ref        text,
    transaction_id      text,
    redirect_url        text,
    client_secret       text,
    provider_created_at timestamptz,
    captured_amount     bigint NOT NULL DEFAULT 0 CHECK (captured_amount >= 0),
    refunded_amount     bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
    failure_reason      text,
    authorized_at       timestamptz,
    captured_at         timestamptz,
    failed_at           timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT payments_refund_bound CHECK (refunded_amount <= captured_amount)
);
CREATE UNIQUE INDEX payments_provider_ref ON payment.payments (provider, provider_ref);
CREATE INDEX payments_transaction_idx ON payment.payments (provider, transaction_id);
CREATE INDEX payments_buyer_idx ON payment.payments (buyer_id, created_at DESC, id DESC);

-- The orders a payment covers, with each one's share. An order has at most one live payment:
-- a failed payment lets go of its orders so that they can be paid again.
CREATE TABLE payment.payment_orders (
    payment_id      uuid NOT NULL REFERENCES payment.payments (id),
    order_id        uuid NOT NULL,
    shop_id         uuid NOT NULL,
    amount          bigint NOT NULL CHECK (amount >= 0),
    refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    active          boolean NOT NULL DEFAULT true,
    PRIMARY KEY (payment_id, order_id)
);
CREATE UNIQUE INDEX payment_orders_live ON payment.payment_orders (order_id) WHERE active;

-- Every status change of a payment: by a provider's notification, the API, an admin's
-- correction or the system.
CREATE TABLE payment.status_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id  uuid NOT NULL REFERENCES payment.payments (id),
    from_status text,
    to_status   text NOT NULL,
    source      text NOT NULL CHECK (source IN ('api', 'webhook', 'admin', 'system')),
    actor_id    uuid,
    reason      text NOT NULL DEFAULT '',
    event_id    text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_history_payment_idx ON payment.status_history (payment_id, id);

-- Verified provider notifications, keyed by the provider's event ID. A notification is inserted
-- first, in the transaction that applies it: a redelivery, even a concurrent one, finds the key
-- taken and changes nothing.
CREATE TABLE payment.webhook_events (
    provider      text NOT NULL,
    event_id      text NOT NULL,
    type          text NOT NULL,
    provider_type text NOT NULL DEFAULT '',
    payment_id    uuid,
    outcome       text NOT NULL DEFAULT '',
    payload       text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

-- Refunds, one order's money each. `idempotency_key` names the refund at the provider and
-- de-duplicates automatic refunds; from_escrow and from_shop remember where the money was
-- taken, so that a failed refund puts it back.
CREATE TABLE payment.refunds (
    id              uuid PRIMARY KEY,
    payment_id      uuid NOT NULL REFERENCES payment.payments (id),
    order_id        uuid NOT NULL,
    amount          bigint NOT NULL CHECK (amount > 0),
    currency        text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    source          text NOT NULL CHECK (source IN ('api', 'order', 'provider')),
    reason          text NOT NULL DEFAULT '',
    idempotency_key text NOT NULL,
    provider_ref    text,
    failure_reason  text,
    requested_by    uuid,
    from_escrow     bigint NOT NULL DEFAULT 0 CHECK (from_escrow >= 0),
    from_shop       bigint NOT NULL DEFAULT 0 CHECK (from_shop >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    settled_at      timestamptz,
    CONSTRAINT refunds_split CHECK (from_escrow + from_shop = amount),
    UNIQUE (payment_id, idempotency_key)
);
CREATE UNIQUE INDEX refunds_provider_ref ON payment.refunds (payment_id, provider_ref) WHERE provider_ref IS NOT NULL;

-- Disputes and chargebacks: opened by the buyer, or by the provider's notification.
CREATE TABLE payment.disputes (
    id           uuid PRIMARY KEY,
    payment_id   uuid NOT NULL REFERENCES payment.payments (id),
    provider_ref text,
    amount       bigint NOT NULL CHECK (amount > 0),
    currency     text NOT NULL,
    reason       text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
    opened_by    text NOT NULL CHECK (opened_by IN ('buyer', 'provider')),
    opener_id    uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz
);
CREATE UNIQUE INDEX disputes_provider_ref ON payment.disputes (payment_id, provider_ref) WHERE provider_ref IS NOT NULL;
CREATE UNIQUE INDEX disputes_one_open_by_buyer ON payment.disputes (payment_id) WHERE status = 'open' AND opened_by = 'buyer';
CREATE INDEX disputes_list_idx ON payment.disputes (created_at DESC, id DESC);

-- Saved payment methods: a gateway token and what a buyer needs to recognise it. Never a card
-- number: the service refuses anything that looks like one.
CREATE TABLE payment.saved_methods (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL,
    method     text NOT NULL CHECK (method IN ('card', 'ewallet', 'bank_transfer')),
    provider   text NOT NULL,
    token      text NOT NULL,
    brand      text NOT NULL DEFAULT '',
    last4      text CHECK (last4 ~ '^[0-9]{4}$'),
    exp_month  integer CHECK (exp_month BETWEEN 1 AND 12),
    exp_year   integer,
    label      text NOT NULL DEFAULT '',
    is_default boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, provider, token)
);
CREATE UNIQUE INDEX saved_methods_one_default ON payment.saved_methods (user_id) WHERE is_default;

-- The double-entry ledger. An entry's amount is a debit when positive and a credit when
-- negative; each account has a normal side, and its balance is the sum of its entries on that
-- side (credit-normal accounts: minus the sum).
CREATE TABLE payment.accounts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code       text NOT NULL UNIQUE,
    kind       text NOT NULL CHECK (kind IN
        ('gateway_clearing', 'escrow', 'shop_payable', 'platform_commission', 'buyer_refunds', 'shipper_cash')),
    normal     text NOT NULL CHECK (normal IN ('debit', 'credit')),
    owner_id   uuid,
    provider   text,
    currency   text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payment.ledger_transactions (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind       text NOT NULL CHECK (kind IN
        ('capture', 'cod_collected', 'refund_reserved', 'refund_settled', 'refund_reversed', 'release', 'chargeback')),
    payment_id uuid REFERENCES payment.payments (id),
    order_id   uuid,
    refund_id  uuid,
    dispute_id uuid,
    memo       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_transactions_payment_idx ON payment.ledger_transactions (payment_id, created_at DESC, id DESC);

CREATE TABLE payment.ledger_entries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id uuid NOT NULL REFERENCES payment.ledger_transactions (id),
    account_id     uuid NOT NULL REFERENCES payment.accounts (id),
    amount         bigint NOT NULL CHECK (amount <> 0),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_transaction_idx ON payment.ledger_entries (transaction_id);
CREATE INDEX ledger_entries_account_idx ON payment.ledger_entries (account_id);

-- The ledger's rules, enforced by the database whatever code writes to it: when a transaction
-- that added entries commits, each ledger transaction it touched sums to zero in every
-- currency, and no escrow account it touched holds less than nothing.
-- +goose StatementBegin
CREATE FUNCTION payment.check_ledger_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT a.currency, sum(e.amount) AS total INTO bad
    FROM payment.ledger_entries e JOIN payment.accounts a ON a.id = e.account_id
    WHERE e.transaction_id = NEW.transaction_id
    GROUP BY a.currency
    HAVING sum(e.amount) <> 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: % %', NEW.transaction_id, bad.total, bad.currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
    END IF;
    SELECT a.code, -sum(e.amount) AS balance INTO bad
    FROM payment.accounts a JOIN payment.ledger_entries e ON e.account_id = a.id
    WHERE a.kind = 'escrow'
      AND a.id IN (SELECT account_id FROM payment.ledger_entries WHERE transaction_id = NEW.transaction_id)
    GROUP BY a.code
    HAVING sum(e.amount) > 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'escrow account % would hold %', bad.code, bad.balance
            USING ERRCODE = 'check_violation', CONSTRAINT = 'escrow_not_negative';
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER ledger_balanced
    AFTER INSERT ON payment.ledger_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION payment.check_ledger_transaction();

-- Entries are never changed or removed: a correction is a new transaction.
-- +goose StatementBegin
CREATE FUNCTION payment.ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_entries_append_only
    BEFORE UPDATE OR DELETE ON payment.ledger_entries
    FOR EACH ROW EXECUTE FUNCTION payment.ledger_append_only();

-- Escrow per order: the ledger holds the money (account escrow:<order>); this row holds what
-- the ledger does not: when it may be released, whether an admin holds it, how it ended.
CREATE TABLE payment.escrows (
    order_id        uuid PRIMARY KEY,
    payment_id      uuid NOT NULL REFERENCES payment.payments (id),
    buyer_id        uuid NOT NULL,
    shop_id         uuid NOT NULL,
    currency        text NOT NULL,
    held_amount     bigint NOT NULL CHECK (held_amount >= 0),
    status          text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'released', 'refunded')),
    on_hold         boolean NOT NULL DEFAULT false,
    hold_reason     text NOT NULL DEFAULT '',
    release_after   timestamptz,
    released_amount bigint NOT NULL DEFAULT 0 CHECK (released_amount >= 0),
    commission      bigint NOT NULL DEFAULT 0 CHECK (commission >= 0),
    released_by     text CHECK (released_by IN ('buyer', 'admin', 'system')),
    released_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Idempotency-Key records of POST /payments, capture and refund.
CREATE TABLE payment.idempotency_keys (
    user_id      uuid NOT NULL,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    status_code  integer,
    response     jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- +goose Down
DROP SCHEMA payment CASCADE;
