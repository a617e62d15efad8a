-- name: CreatePayment :one
INSERT INTO payment.payments (id, buyer_id, checkout_id, method, provider, amount, currency, capture_mode)
VALUES (@id, @buyer_id, @checkout_id, @method, @provider, @amount, @currency, @capture_mode)
RETURNING *;

-- name: AttachProvider :one
UPDATE payment.payments
SET provider_ref = @provider_ref, redirect_url = @redirect_url, client_secret = @client_secret,
    capture_required = @capture_required, provider_created_at = @provider_created_at, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: CreateCODPayment :one
-- Cash on delivery is collected when it is recorded: it is born captured.
INSERT INTO payment.payments (id, buyer_id, method, provider, amount, currency, stage, status, captured_amount, captured_at)
VALUES (@id, @buyer_id, 'cod', 'cod', @amount, @currency, 'captured', 'captured', @amount, now())
RETURNING *;

-- name: GetPayment :one
SELECT * FROM payment.payments WHERE id = $1;

-- name: LockPayment :one
SELECT * FROM payment.payments WHERE id = $1 FOR UPDATE;

-- name: PaymentByRef :one
SELECT * FROM payment.payments WHERE provider = @provider AND provider_ref = @provider_ref;

-- name: PaymentByTransaction :one
SELECT * FROM payment.payments WHERE provider = @provider AND transaction_id = @transaction_id
ORDER BY created_at DESC LIMIT 1;

-- name: SetPaymentState :one
UPDATE payment.payments
SET stage = @stage, status = @status, captured_amount = @captured_amount, refunded_amount = @refunded_amount,
    transaction_id = coalesce(sqlc.narg(transaction_id), transaction_id),
    failure_reason = coalesce(sqlc.narg(failure_reason), failure_reason),
    authorized_at = CASE WHEN @stage = 'authorized' AND authorized_at IS NULL THEN now() ELSE authorized_at END,
    captured_at = CASE WHEN @stage = 'captured' AND captured_at IS NULL THEN now() ELSE captured_at END,
    failed_at = CASE WHEN @stage = 'failed' AND failed_at IS NULL THEN now() ELSE failed_at END,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: BuyerPayments :many
SELECT * FROM payment.payments
WHERE buyer_id = @buyer_id
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
  AND (NOT @has_cursor::bool OR (created_at, id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: AddPaymentOrder :execrows
-- Takes the order for this payment unless another live payment has it.
INSERT INTO payment.payment_orders (payment_id, order_id, shop_id, amount)
VALUES (@payment_id, @order_id, @shop_id, @amount)
ON CONFLICT (order_id) WHERE active DO NOTHING;

-- name: PaymentOrders :many
SELECT * FROM payment.payment_orders WHERE payment_id = $1 ORDER BY order_id;

-- name: PaymentOrdersOf :many
SELECT * FROM payment.payment_orders WHERE payment_id = ANY(@payment_ids::uuid[]) ORDER BY payment_id, order_id;

-- name: LetGoOfOrders :exec
-- A failed payment frees its orders to be paid again.
UPDATE payment.payment_orders SET active = false WHERE payment_id = $1;

-- name: RetakeOrders :execrows
-- A failed payment captured after all takes its orders back, unless another payment has them.
UPDATE payment.payment_orders po SET active = true
WHERE po.payment_id = $1 AND NOT po.active
  AND NOT EXISTS (SELECT 1 FROM payment.payment_orders o WHERE o.order_id = po.order_id AND o.active);

-- name: LivePaymentOfOrder :one
SELECT p.* FROM payment.payments p JOIN payment.payment_orders po ON po.payment_id = p.id
WHERE po.order_id = $1 AND po.active;

-- name: AddOrderRefunded :one
UPDATE payment.payment_orders SET refunded_amount = refunded_amount + @delta
WHERE payment_id = @payment_id AND order_id = @order_id
RETURNING *;

-- name: AddHistory :exec
INSERT INTO payment.status_history (payment_id, from_status, to_status, source, actor_id, reason, event_id)
VALUES (@payment_id, @from_status, @to_status, @source, @actor_id, @reason, @event_id);

-- name: History :many
SELECT * FROM payment.status_history WHERE payment_id = $1 ORDER BY id;

-- name: InsertWebhookEvent :execrows
-- The de-duplication: the first delivery of an event inserts it; any other finds it taken (a
-- concurrent one waits on the key until the first commits or rolls back).
INSERT INTO payment.webhook_events (provider, event_id, type, provider_type, payload)
VALUES (@provider, @event_id, @type, @provider_type, @payload)
ON CONFLICT DO NOTHING;

-- name: SetWebhookOutcome :exec
UPDATE payment.webhook_events SET payment_id = @payment_id, outcome = @outcome
WHERE provider = @provider AND event_id = @event_id;

-- name: CreateRefund :one
INSERT INTO payment.refunds (id, payment_id, order_id, amount, currency, source, reason, idempotency_key,
    requested_by, from_escrow, from_shop, status, provider_ref, settled_at)
VALUES (@id, @payment_id, @order_id, @amount, @currency, @source, @reason, @idempotency_key,
    @requested_by, @from_escrow, @from_shop, @status, @provider_ref, CASE WHEN @status = 'succeeded' THEN now() END)
ON CONFLICT (payment_id, idempotency_key) DO NOTHING
RETURNING *;

-- name: GetRefund :one
SELECT * FROM payment.refunds WHERE id = $1;

-- name: LockRefund :one
SELECT * FROM payment.refunds WHERE id = $1 FOR UPDATE;

-- name: RefundByKey :one
SELECT * FROM payment.refunds WHERE payment_id = @payment_id AND idempotency_key = @idempotency_key;

-- name: RefundByProviderRef :one
SELECT * FROM payment.refunds WHERE payment_id = @payment_id AND provider_ref = @provider_ref;

-- name: UnreferencedPendingRefund :one
-- A pending refund the provider answered for but whose answer was not recorded (the process
-- stopped in between): a notification of a refund of that amount is that one.
SELECT * FROM payment.refunds
WHERE payment_id = @payment_id AND status = 'pending' AND provider_ref IS NULL AND amount = @amount
ORDER BY created_at LIMIT 1;

-- name: SettleRefund :one
UPDATE payment.refunds
SET status = @status, provider_ref = coalesce(sqlc.narg(provider_ref), provider_ref),
    failure_reason = sqlc.narg(failure_reason), updated_at = now(),
    settled_at = CASE WHEN @status <> 'pending' THEN now() END
WHERE id = @id
RETURNING *;

-- name: RefundsOf :many
SELECT * FROM payment.refunds WHERE payment_id = $1 ORDER BY created_at, id;

-- name: PendingRefunds :many
SELECT * FROM payment.refunds WHERE payment_id = $1 AND status = 'pending' ORDER BY created_at, id;

-- name: CreateDispute :one
INSERT INTO payment.disputes (id, payment_id, provider_ref, amount, currency, reason, opened_by, opener_id)
VALUES (@id, @payment_id, @provider_ref, @amount, @currency, @reason, @opened_by, @opener_id)
RETURNING *;

-- name: DisputeByRef :one
SELECT * FROM payment.disputes WHERE payment_id = @payment_id AND provider_ref = @provider_ref;

-- name: OpenDisputes :many
SELECT * FROM payment.disputes WHERE payment_id = $1 AND status = 'open' ORDER BY created_at, id;

-- name: ResolveDispute :one
UPDATE payment.disputes SET status = @status, updated_at = now(), resolved_at = now()
WHERE id = @id AND status = 'open'
RETURNING *;

-- name: DisputesOf :many
SELECT * FROM payment.disputes WHERE payment_id = $1 ORDER BY created_at, id;

-- name: ListDisputes :many
SELECT d.*, p.buyer_id, p.provider FROM payment.disputes d JOIN payment.payments p ON p.id = d.payment_id
WHERE (sqlc.narg(status)::text IS NULL OR d.status = sqlc.narg(status)::text)
  AND (NOT @has_cursor::bool OR (d.created_at, d.id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY d.created_at DESC, d.id DESC
LIMIT @lim;

-- name: LockUserMethods :exec
-- Serializes changes to one user's saved methods (one default at a time), even while they have
-- none: an advisory lock on the user, held to the end of the transaction.
SELECT pg_advisory_xact_lock(hashtextextended('payment.saved_methods:' || $1::uuid::text, 0));

-- name: CountMethods :one
SELECT count(*) FROM payment.saved_methods WHERE user_id = $1;

-- name: CreateMethod :one
INSERT INTO payment.saved_methods (user_id, method, provider, token, brand, last4, exp_month, exp_year, label, is_default)
VALUES (@user_id, @method, @provider, @token, @brand, @last4, @exp_month, @exp_year, @label, @is_default)
ON CONFLICT (user_id, provider, token) DO NOTHING
RETURNING *;

-- name: ListMethods :many
SELECT * FROM payment.saved_methods WHERE user_id = $1 ORDER BY is_default DESC, created_at DESC, id;

-- name: GetMethod :one
SELECT * FROM payment.saved_methods WHERE id = @id AND user_id = @user_id;

-- name: DeleteMethod :one
DELETE FROM payment.saved_methods WHERE id = @id AND user_id = @user_id RETURNING *;

-- name: ClearDefault :exec
UPDATE payment.saved_methods SET is_default = false WHERE user_id = $1 AND is_default;

-- name: SetDefault :one
UPDATE payment.saved_methods SET is_default = true WHERE id = @id AND user_id = @user_id RETURNING *;

-- name: PromoteNewest :exec
UPDATE payment.saved_methods SET is_default = true
WHERE id = (SELECT m.id FROM payment.saved_methods m WHERE m.user_id = $1 ORDER BY m.created_at DESC, m.id LIMIT 1);

-- name: UpsertAccount :one
INSERT INTO payment.accounts (code, kind, normal, owner_id, provider, currency)
VALUES (@code, @kind, @normal, @owner_id, @provider, @currency)
ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code
RETURNING id;

-- name: CreateLedgerTransaction :one
INSERT INTO payment.ledger_transactions (kind, payment_id, order_id, refund_id, dispute_id, memo)
VALUES (@kind, @payment_id, @order_id, @refund_id, @dispute_id, @memo)
RETURNING *;

-- name: AddEntry :exec
INSERT INTO payment.ledger_entries (transaction_id, account_id, amount) VALUES (@transaction_id, @account_id, @amount);

-- name: AccountBalance :one
-- The balance on the account's normal side; 0 for an account that does not exist yet.
SELECT coalesce(sum(CASE a.normal WHEN 'debit' THEN e.amount ELSE -e.amount END), 0)::bigint
FROM payment.accounts a JOIN payment.ledger_entries e ON e.account_id = a.id
WHERE a.code = $1;

-- name: BuyerTransactions :many
SELECT lt.*, p.currency FROM payment.ledger_transactions lt JOIN payment.payments p ON p.id = lt.payment_id
WHERE p.buyer_id = @buyer_id
  AND (NOT @has_cursor::bool OR (lt.created_at, lt.id) < (@before_created::timestamptz, @before_id::uuid))
ORDER BY lt.created_at DESC, lt.id DESC
LIMIT @lim;

-- name: EntriesOf :many
SELECT e.transaction_id, e.amount, a.code, a.kind
FROM payment.ledger_entries e JOIN payment.accounts a ON a.id = e.account_id
WHERE e.transaction_id = ANY(@transaction_ids::uuid[])
ORDER BY e.id;

-- name: CreateEscrow :execrows
INSERT INTO payment.escrows (order_id, payment_id, buyer_id, shop_id, currency, held_amount)
VALUES (@order_id, @payment_id, @buyer_id, @shop_id, @currency, @held_amount)
ON CONFLICT (order_id) DO NOTHING;

-- name: GetEscrow :one
SELECT * FROM payment.escrows WHERE order_id = $1;

-- name: LockEscrow :one
SELECT * FROM payment.escrows WHERE order_id = $1 FOR UPDATE;

-- name: SetReleaseAfter :one
UPDATE payment.escrows SET release_after = @release_after, updated_at = now() WHERE order_id = @order_id RETURNING *;

-- name: SetEscrowHold :one
UPDATE payment.escrows SET on_hold = @on_hold, hold_reason = @hold_reason, updated_at = now()
WHERE order_id = @order_id
RETURNING *;

-- name: ReleaseEscrow :one
UPDATE payment.escrows
SET status = 'released', released_amount = @released_amount, commission = @commission, released_by = @released_by,
    released_at = now(), on_hold = false, updated_at = now()
WHERE order_id = @order_id AND status = 'held'
RETURNING *;

-- name: SetEscrowStatus :exec
UPDATE payment.escrows SET status = @status, updated_at = now() WHERE order_id = @order_id;

-- name: SettledRefundsOf :many
-- The refunds of some orders that went through, for the analytics context's port.
SELECT id, order_id, amount, coalesce(settled_at, updated_at)::timestamptz AS settled_at
FROM payment.refunds WHERE order_id = ANY(@order_ids::uuid[]) AND status = 'succeeded' ORDER BY order_id, id;

-- name: ReleasedEscrowsOf :many
-- The escrows of some orders released to their shops, with the commission kept.
SELECT order_id, commission, released_at::timestamptz AS released_at
FROM payment.escrows WHERE order_id = ANY(@order_ids::uuid[]) AND released_at IS NOT NULL ORDER BY order_id;
