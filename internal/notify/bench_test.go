package notify_test

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
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

// BenchmarkLiveDelivery1000 connects 1,000 users to WS /notifications/live, then (each op)
// publishes one order.placed event for each of them in one transaction, and measures for every
// notification the delay from its creation (created_at, in its transaction) to its receipt on
// its user's stream: p50 and p99 over all ops. The shop's owner, who gets 1,000 notifications
// an op, is not connected.
func BenchmarkLiveDelivery1000(b *testing.B) {
	const users = 1000
	env := apptest.New(b, apptest.WithEnv("REALTIME_MAX_STREAMS", "5000"), apptest.WithEnv("WORKER_COUNT", "10"))
	seller := env.Register(b, "Seller")
	shop := env.CreateShop(b, seller, "Bench Shop")
	type follower struct {
		id   string
		conn *websocket.Conn
	}
	fs := make([]follower, users)
	for i := range fs {
		u := env.Register(b, "Follower")
		conn, status := dial(b, env, "/notifications/live", u.AccessToken)
		require.Zero(b, status)
		fs[i] = follower{id: u.ID, conn: conn}
	}
	ctx := context.Background()
	var delays []time.Duration
	var mu sync.Mutex
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for _, f := range fs {
			wg.Go(func() {
				m := readLive(b, f.conn)
				at := time.Now()
				var n struct {
					CreatedAt time.Time `json:"created_at"`
				}
				require.NoError(b, json.Unmarshal(m.Data, &n))
				mu.Lock()
				delays = append(delays, at.Sub(n.CreatedAt))
				mu.Unlock()
			})
		}
		evs := make([]eventbus.Event, users)
		for i, f := range fs {
			evs[i] = events.OrderPlaced{OrderID: uuid.NewString(), CheckoutID: uuid.NewString(), BuyerID: f.id, ShopID: shop,
				Total: 100_000, Currency: "VND", PaymentMethod: events.MethodCOD, At: time.Now()}
		}
		tx, err := env.App.Pool.Begin(ctx)
		require.NoError(b, err)
		require.NoError(b, env.App.Bus.Publish(ctx, tx, evs...))
		require.NoError(b, tx.Commit(ctx))
		wg.Wait()
	}
	b.StopTimer()
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	q := func(p float64) float64 { return float64(delays[int(p*float64(len(delays)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
