package payment_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/platform/pgdb"
)

// TestTheDatabaseEnforcesTheLedger writes to the ledger behind the service's back: a
// transaction that does not balance, or that overdraws an escrow account, does not commit, and
// entries cannot be changed.
func TestTheDatabaseEnforcesTheLedger(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	ctx := context.Background()
	accounts := func(tx pgx.Tx) (clearing, escrow string) {
		require.NoError(t, tx.QueryRow(ctx, `INSERT INTO payment.accounts (code, kind, normal, currency)
			VALUES ('clearing:sandbox:VND', 'gateway_clearing', 'debit', 'VND')
			ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code RETURNING id`).Scan(&clearing))
		require.NoError(t, tx.QueryRow(ctx, `INSERT INTO payment.accounts (code, kind, normal, currency)
			VALUES ('escrow:test', 'escrow', 'credit', 'VND')
			ON CONFLICT (code) DO UPDATE SET code = EXCLUDED.code RETURNING id`).Scan(&escrow))
		return clearing, escrow
	}
	write := func(amounts map[string]int64) error {
		return pgdb.WithTx(ctx, env.App.Pool, func(tx pgx.Tx) error {
			clearing, escrow := accounts(tx)
			var txn string
			require.NoError(t, tx.QueryRow(ctx, `INSERT INTO payment.ledger_transactions (kind) VALUES ('capture') RETURNING id`).Scan(&txn))
			for acct, amount := range map[string]int64{clearing: amounts["clearing"], escrow: amounts["escrow"]} {
				if amount != 0 {
					if _, err := tx.Exec(ctx, `INSERT INTO payment.ledger_entries (transaction_id, account_id, amount) VALUES ($1, $2, $3)`,
						txn, acct, amount); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}

	err := write(map[string]int64{"clearing": 1000, "escrow": -900})
	assert.True(t, pgdb.IsCheckViolation(err, "ledger_balanced"), "unbalanced: %v", err)
	err = write(map[string]int64{"clearing": 1000})
	assert.True(t, pgdb.IsCheckViolation(err, "ledger_balanced"), "one-legged: %v", err)
	err = write(map[string]int64{"clearing": -500, "escrow": 500})
	assert.True(t, pgdb.IsCheckViolation(err, "escrow_not_negative"), "escrow overdrawn: %v", err)
	assert.Zero(t, count(t, env, `SELECT count(*) FROM payment.ledger_entries`), "nothing was committed")

	require.NoError(t, write(map[string]int64{"clearing": 1000, "escrow": -1000}))
	require.NoError(t, write(map[string]int64{"clearing": -400, "escrow": 400}), "taking out what escrow holds is fine")
	_, err = env.App.Pool.Exec(ctx, `UPDATE payment.ledger_entries SET amount = amount * 2`)
	assert.Error(t, err, "entries are append-only")
	_, err = env.App.Pool.Exec(ctx, `DELETE FROM payment.ledger_entries`)
	assert.Error(t, err, "entries are append-only")
	requireLedgerBalanced(t, env)
	assert.Equal(t, int64(600), balance(t, env, "escrow:test"))
}
