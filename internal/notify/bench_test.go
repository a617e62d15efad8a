package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/app/apptest"
	"github.com/goshop/goshop/internal/events"
	"github.com/goshop/goshop/internal/platform/eventbus"
)

// BenchmarkNotificationsFromOrderEvents publishes b.N order.placed events (in batches of 100
// transactions' worth, as checkouts would) and waits until their notifications exist: two per
// event (the buyer's and the shop's), each with its email queued. It reports notifications
// made per second, end to end through the bus's River jobs.
func BenchmarkNotificationsFromOrderEvents(b *testing.B) {
	env := apptest.New(b)
	seller := env.Register(b, "Seller")
	shop := env.CreateShop(b, seller, "Bench Shop")
	buyers := make([]string, 50)
	for i := range buyers {
		buyers[i] = env.Register(b, "Buyer").ID
	}
	ctx := context.Background()
	count := func() int {
		var n int
		require.NoError(b, env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM notify.notifications`).Scan(&n))
		return n
	}
	base := count()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += 100 {
		var evs []eventbus.Event
		for j := i; j < min(b.N, i+100); j++ {
			evs = append(evs, events.OrderPlaced{OrderID: uuid.NewString(), CheckoutID: uuid.NewString(), BuyerID: buyers[j%len(buyers)],
				ShopID: shop, Total: 100_000, Currency: "VND", PaymentMethod: events.MethodCOD, At: time.Now()})
		}
		tx, err := env.App.Pool.Begin(ctx)
		require.NoError(b, err)
		require.NoError(b, env.App.Bus.Publish(ctx, tx, evs...))
		require.NoError(b, tx.Commit(ctx))
	}
	for count()-base < 2*b.N {
		time.Sleep(20 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(2*b.N)/time.Since(start).Seconds(), "notifications/s")
}
