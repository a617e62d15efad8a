package payment

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/goshop/goshop/internal/payment/internal/store"
)

// The ledger: every money movement is one ledger transaction whose entries sum to zero (the
// database refuses to commit one that does not). An entry is a debit when positive and a
// credit when negative. Assets (what a gateway or a shipper holds for us) are debit-normal;
// what we owe (escrow, shops, buyers' refunds in flight) and our commission are
// credit-normal.
//
//	capture          Dr gateway clearing        Cr escrow of each order
//	cod_collected    Dr shipper cash            Cr escrow of the order
//	refund_reserved  Dr escrow (shop payable)   Cr buyer refunds
//	refund_settled   Dr buyer refunds           Cr gateway clearing
//	refund_reversed  Dr buyer refunds           Cr escrow (shop payable)
//	release          Dr escrow                  Cr shop payable, Cr platform commission
//	chargeback       Dr escrow (shop payable)   Cr gateway clearing

// account names a ledger account; it is created on first use.
type account struct {
	code     string
	kind     string
	normal   string
	owner    *uuid.UUID
	provider *string
	currency string
}

func clearingAccount(provider, cur string) account {
	return account{code: "clearing:" + provider + ":" + cur, kind: "gateway_clearing", normal: "debit", provider: &provider, currency: cur}
}

func escrowAccount(orderID uuid.UUID, cur string) account {
	return account{code: "escrow:" + orderID.String(), kind: "escrow", normal: "credit", owner: &orderID, currency: cur}
}

func shopAccount(shopID uuid.UUID, cur string) account {
	return account{code: "shop_payable:" + shopID.String() + ":" + cur, kind: "shop_payable", normal: "credit", owner: &shopID, currency: cur}
}

func commissionAccount(cur string) account {
	return account{code: "platform_commission:" + cur, kind: "platform_commission", normal: "credit", currency: cur}
}

func refundsAccount(cur string) account {
	return account{code: "buyer_refunds:" + cur, kind: "buyer_refunds", normal: "credit", currency: cur}
}

// shipperCashAccount is the cash a shipper collected on delivery and owes until remitted.
// Until order events name the delivering shipper, the cash is booked to the shippers' common
// account (shipper nil).
func shipperCashAccount(shipper *uuid.UUID, cur string) account {
	who := "unassigned"
	if shipper != nil {
		who = shipper.String()
	}
	return account{code: "shipper_cash:" + who + ":" + cur, kind: "shipper_cash", normal: "debit", owner: shipper, currency: cur}
}

// entry moves money: a positive amount debits the account, a negative one credits it.
type entry struct {
	acct   account
	amount int64
}

func debit(a account, amount int64) entry  { return entry{a, amount} }
func credit(a account, amount int64) entry { return entry{a, -amount} }

// ledgerTxn describes a ledger transaction.
type ledgerTxn struct {
	kind      string
	paymentID *uuid.UUID
	orderID   *uuid.UUID
	refundID  *uuid.UUID
	disputeID *uuid.UUID
	memo      string
}

// post writes one balanced ledger transaction; zero entries are left out. It checks the
// balance itself to fail early with a clear error, but the database's deferred constraint is
// what guarantees it.
func post(ctx context.Context, q *store.Queries, t ledgerTxn, entries ...entry) error {
	var sum int64
	kept := entries[:0]
	for _, e := range entries {
		sum += e.amount
		if e.amount != 0 {
			kept = append(kept, e)
		}
	}
	if sum != 0 {
		return fmt.Errorf("payment: ledger %s does not balance (%d)", t.kind, sum)
	}
	if len(kept) == 0 {
		return nil
	}
	lt, err := q.CreateLedgerTransaction(ctx, store.CreateLedgerTransactionParams{Kind: t.kind, PaymentID: t.paymentID,
		OrderID: t.orderID, RefundID: t.refundID, DisputeID: t.disputeID, Memo: t.memo})
	if err != nil {
		return err
	}
	for _, e := range kept {
		id, err := q.UpsertAccount(ctx, store.UpsertAccountParams{Code: e.acct.code, Kind: e.acct.kind, Normal: e.acct.normal,
			OwnerID: e.acct.owner, Provider: e.acct.provider, Currency: e.acct.currency})
		if err != nil {
			return err
		}
		if err := q.AddEntry(ctx, store.AddEntryParams{TransactionID: lt.ID, AccountID: id, Amount: e.amount}); err != nil {
			return err
		}
	}
	return nil
}

// balance is an account's balance on its normal side.
func balance(ctx context.Context, q *store.Queries, a account) (int64, error) {
	return q.AccountBalance(ctx, a.code)
}
