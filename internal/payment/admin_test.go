package payment_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/payment"
	"github.com/goshop/goshop/internal/platform/apperr"
	"github.com/goshop/goshop/internal/platform/auth"
	"github.com/goshop/goshop/internal/platform/httpx"
)

func principal(u apptest.User, roles ...string) auth.Principal {
	return auth.Principal{UserID: uuid.MustParse(u.ID), Roles: append([]string{auth.RoleUser}, roles...)}
}

// TestAdminActionsAreCheckedByTheService calls the service as no route does: the router's role
// check is not the only one.
func TestAdminActionsAreCheckedByTheService(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	svc := f.env.App.Payments
	b, o, captured := f.paid(t)
	pendingOrder := f.checkout(t, b, "card", "sandbox")[0]
	pending := f.pay(t, b, pendingOrder.ID, nil)["id"].(string)

	for name, p := range map[string]auth.Principal{"buyer": principal(b), "seller": principal(f.seller), "shipper": principal(b, auth.RoleShipper)} {
		_, err := svc.SetStatus(ctx, p, uuid.MustParse(pending), payment.StatusInput{Status: payment.StatusCaptured, Reason: "paid, trust me"})
		assert.Equal(t, apperr.Forbidden, apperr.CodeOf(err), "%s corrects a status: %v", name, err)
		_, _, err = svc.Refund(ctx, p, "", uuid.MustParse(captured), payment.RefundInput{Reason: "want it back"})
		assert.Equal(t, apperr.Forbidden, apperr.CodeOf(err), "%s refunds: %v", name, err)
		_, err = svc.Hold(ctx, p, payment.EscrowInput{OrderID: uuid.MustParse(o.ID)})
		assert.Equal(t, apperr.Forbidden, apperr.CodeOf(err), "%s holds escrow: %v", name, err)
		_, err = svc.Chargebacks(ctx, p, payment.ChargebackFilter{}, httpx.Page{Limit: 20})
		assert.Equal(t, apperr.Forbidden, apperr.CodeOf(err), "%s lists chargebacks: %v", name, err)
	}
	assert.Equal(t, "pending", f.payment(t, b, pending)["status"])
	pay := f.payment(t, b, captured)
	assert.Equal(t, "captured", pay["status"])
	assert.EqualValues(t, 0, pay["refunded_amount"])
	assert.Equal(t, false, f.escrow(t, b, o.ID)["on_hold"])

	admin := principal(f.admin, auth.RoleAdmin)
	e, err := svc.Hold(ctx, admin, payment.EscrowInput{OrderID: uuid.MustParse(o.ID), Reason: "review"})
	require.NoError(t, err)
	assert.True(t, e.OnHold)
	_, err = svc.Chargebacks(ctx, admin, payment.ChargebackFilter{}, httpx.Page{Limit: 20})
	require.NoError(t, err)
	_, err = svc.SetStatus(ctx, admin, uuid.MustParse(pending), payment.StatusInput{Status: payment.StatusFailed, Reason: "abandoned"})
	require.NoError(t, err)
}
