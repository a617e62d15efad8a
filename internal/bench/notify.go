package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// notifyOptions shape the notification rows.
type notifyOptions struct {
	// Users are the WebSocket users of the live row, each placing an order and receiving its
	// notification on their own stream.
	Users int
}

// notifyEventsRow is the row of notifications made from order events.
const notifyEventsRow = "notifications from order events"

func notifyLiveRowName(o notifyOptions) string {
	return fmt.Sprintf("notifications live (%d users)", o.Users)
}

// notifyCheckouts is how many checkouts the live row has in flight at once: enough to keep
// the server busy, few enough that the row measures delivery, not a checkout storm.
const notifyCheckouts = 8

// notifyWindow is how many orders the events row's buyers keep ahead of their notifications at
// most: enough to keep the workers busy, few enough that the queue does not grow with the row.
const notifyWindow = 64

// queueWait bounds the wait, before a notification row, for the jobs earlier rows left queued;
// the row starts once fewer than queueLeft are ready to run.
const (
	queueWait = 5 * time.Minute
	queueLeft = 20
)

// notifyLiveWindow is how many orders the live row keeps ahead of the notifications its users
// received at most, so that the delay from checkout to receipt is not a queue's growing wait.
const notifyLiveWindow = 20

// notifyDrain bounds the wait, after the last checkout, for the notifications still on their
// way; one that has not come by then is an error of the row.
const notifyDrain = 2 * time.Minute

func init() {
	scenarios = append(scenarios,
		scenario{
			name:         notifyEventsRow,
			setup:        (*runner).setupCheckout,
			rows:         func(options) []string { return []string{notifyEventsRow} },
			measure:      measureNotifyEvents,
			placesOrders: true,
		},
		scenario{
			name:         "notifications live",
			rows:         func(o options) []string { return []string{notifyLiveRowName(o.Notify)} },
			measure:      measureNotifyLive,
			placesOrders: true,
		})
}

// measureNotifyEvents drives real order events through the server: the checkout row's buyers
// check out closed-loop for the row's duration, each cart one product of each of two shops of a
// seller of the row's own, and every order.placed makes two notifications (the buyer's, the
// seller's) through the bus's River jobs. The buyers keep at most notifyWindow orders ahead of
// the seller's notifications (read as a client reads them, GET /notifications), so that the row
// measures the pipeline's sustained rate rather than a queue growing for as long as it runs.
// It starts once the queue holds no earlier rows' jobs, then waits until every notification
// exists and reports them: reqs = notifications, req/s = notifications a second from the first
// checkout to the last notification, latency = from an order's creation to its notification's
// (the event's way through the queue and the notification context).
func measureNotifyEvents(ctx context.Context, r *runner, emit func(stats) error) error {
	f, fx := r.f, r.f.checkout
	seller, products, err := f.notifyShops(ctx)
	if err != nil {
		return fmt.Errorf("bench: %s: %w", notifyEventsRow, err)
	}
	waited, err := r.waitForQueue(ctx)
	if err != nil {
		return err
	}
	var (
		mu     sync.Mutex
		orders []string
		failed stats
		placed atomic.Int64 // orders placed
		told   atomic.Int64 // the seller's notifications of them
	)
	before, err := r.cpuSample()
	if err != nil {
		return err
	}
	start := time.Now()
	deadline := start.Add(r.o.Duration)
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	go func() {
		for pollCtx.Err() == nil {
			var p struct {
				UnreadCount int64 `json:"unread_count"`
			}
			if f.call(pollCtx, http.MethodGet, "/api/v1/notifications?unread=true&limit=1", seller.token, nil, &p) == nil {
				told.Store(p.UnreadCount)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	for _, b := range fx.buyers {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if placed.Load()-told.Load() >= notifyWindow {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				var out struct {
					Orders []struct{ ID string }
				}
				var err error
				for _, p := range products {
					if err == nil {
						err = f.call(ctx, http.MethodPost, "/api/v1/cart/items", b.token, map[string]any{"product_id": p, "quantity": 1}, nil)
					}
				}
				if err == nil {
					err = f.call(ctx, http.MethodPost, "/api/v1/orders", b.token,
						map[string]any{"address_id": b.addressID, "payment_method": "cod"}, &out)
				}
				mu.Lock()
				if err != nil && ctx.Err() == nil {
					failed.fail(err.Error())
				}
				for _, o := range out.Orders {
					orders = append(orders, o.ID)
				}
				mu.Unlock()
				placed.Add(int64(len(out.Orders)))
			}
		})
	}
	wg.Wait()
	stopPolling()
	placedBy := time.Since(start)
	if err := ctx.Err(); err != nil {
		return err
	}
	want := 2 * len(orders)
	recipients, err := r.orderRecipients(ctx, orders)
	if err != nil {
		return err
	}
	// The notifications still on their way come within notifyDrain, or are errors.
	var got int
	var last time.Time
	for drainBy := time.Now().Add(notifyDrain); ; {
		err := r.pool.QueryRow(ctx, `SELECT count(*), coalesce(max(created_at), now()) FROM notify.notifications
			WHERE user_id = ANY($1::text[]::uuid[]) AND created_at >= $2 AND kind IN ('order_placed', 'new_order')
			  AND data->>'order_id' = ANY($3::text[])`, recipients, start, orders).Scan(&got, &last)
		if err != nil {
			return fmt.Errorf("bench: %s: count notifications: %w", notifyEventsRow, err)
		}
		if got >= want || time.Now().After(drainBy) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	var delays []time.Duration
	rows, err := r.pool.Query(ctx, `SELECT extract(epoch FROM n.created_at - o.created_at)::float8
		FROM notify.notifications n JOIN orders.orders o ON o.id::text = n.data->>'order_id'
		WHERE n.user_id = ANY($1::text[]::uuid[]) AND n.created_at >= $2 AND n.kind IN ('order_placed', 'new_order')
		  AND o.id = ANY($3::text[]::uuid[])`, recipients, start, orders)
	if err != nil {
		return fmt.Errorf("bench: %s: delays: %w", notifyEventsRow, err)
	}
	for rows.Next() {
		var sec float64
		if err := rows.Scan(&sec); err != nil {
			rows.Close()
			return err
		}
		delays = append(delays, time.Duration(sec*float64(time.Second)))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	s := exact(notifyEventsRow, delays, last.Sub(start))
	s.absorb(failed)
	s.lose(want-got, fmt.Sprintf("%d of %d notifications did not come within %s of the last checkout", want-got, want, notifyDrain))
	if s.CPU, err = r.cpuSince(before); err != nil {
		return err
	}
	r.rep.note(fmt.Sprintf("%s: %d buyers checked out closed-loop for %s, at most %d orders ahead of their notifications "+
		"(%d orders, %.0f orders/s; each order.placed tells its buyer and its shop's owner; started after %s waiting for "+
		"earlier rows' jobs); reqs = notifications made, req/s = notifications a second from the first checkout to the last "+
		"notification (%s after the last checkout), latency = from the order's creation to its notification's",
		notifyEventsRow, len(fx.buyers), r.o.Duration, notifyWindow, len(orders), float64(len(orders))/placedBy.Seconds(),
		waited.Round(time.Second), last.Sub(start.Add(placedBy)).Round(time.Millisecond)))
	return emit(s)
}

// notifyShops opens, for a seller of the events row's own (so that its notifications are the
// row's alone), two shops of one product each, and answers the seller and the products.
func (f *fixture) notifyShops(ctx context.Context) (account, []string, error) {
	seller, err := f.newUser(ctx, "notify-seller")
	if err != nil {
		return seller, nil, err
	}
	var products []string
	for i := range 2 {
		shop, err := f.newShop(ctx, seller.token, fmt.Sprintf("Bench notify shop %d %s", i, randomHex(3)), 10.78, 106.70)
		if err != nil {
			return seller, nil, err
		}
		p, err := f.newProduct(ctx, seller.token, shop, "Bench notify item", 100_000_000)
		if err != nil {
			return seller, nil, err
		}
		products = append(products, p)
	}
	return seller, products, nil
}

// waitForQueue waits until River holds no job ready to run (earlier rows leave theirs, such as
// the checkout row's events and mails), so that a row of event-driven work measures its own;
// it answers how long it waited.
func (r *runner) waitForQueue(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	for {
		var n int
		if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'available'`).Scan(&n); err != nil {
			return 0, fmt.Errorf("bench: queued jobs: %w", err)
		}
		if n < queueLeft {
			return time.Since(start), nil
		}
		if time.Since(start) > queueWait {
			return 0, fmt.Errorf("bench: %d jobs still queued after %s", n, queueWait)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// orderRecipients are the buyers and shop owners of orders, for reads that go by the
// notifications' index on their recipient.
func (r *runner) orderRecipients(ctx context.Context, orders []string) ([]string, error) {
	rows, err := r.pool.Query(ctx, `SELECT o.buyer_id::text FROM orders.orders o WHERE o.id = ANY($1::text[]::uuid[])
		UNION SELECT s.owner_id::text FROM orders.orders o JOIN shop.shops s ON s.id = o.shop_id WHERE o.id = ANY($1::text[]::uuid[])`, orders)
	if err != nil {
		return nil, fmt.Errorf("bench: order recipients: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// liveUser is one user of the notifications-live row: their account, address and stream, and
// what their stream received.
type liveUser struct {
	account
	address string
	conn    *websocket.Conn
	// sent is when their checkout was sent (UnixNano), for the end-to-end delay.
	sent atomic.Int64
	// order is the order their checkout placed (nil: it failed); got receives its notification.
	order   atomic.Pointer[string]
	got     chan liveReceipt
	readErr error
}

// liveReceipt is one notification as a user's stream received it: when, and when the server
// made it.
type liveReceipt struct {
	at, createdAt time.Time
}

// measureNotifyLive connects o.Users users, each to their own WS /api/v1/notifications/live,
// then has every one of them place an order (notifyCheckouts checkouts in flight at once, at
// most notifyLiveWindow orders ahead of the notifications received, once earlier rows' jobs are
// done) and waits for each user's order_placed notification on their stream. The row: reqs =
// notifications received (errs = those that never came), latency = from the notification's
// creation (its created_at, in the server's transaction) to its receipt; a note gives the
// delay from sending the checkout, and what the setup took.
func measureNotifyLive(ctx context.Context, r *runner, emit func(stats) error) error {
	o, f := r.o.Notify, r.f
	name := notifyLiveRowName(o)
	setupStart := time.Now()
	seller, err := f.newUser(ctx, "notify-seller")
	if err != nil {
		return fmt.Errorf("bench: %s: %w", name, err)
	}
	shop, err := f.newShop(ctx, seller.token, "Bench notify shop "+randomHex(3), 10.78, 106.70)
	if err != nil {
		return fmt.Errorf("bench: %s: %w", name, err)
	}
	product, err := f.newProduct(ctx, seller.token, shop, "Bench notify item", o.Users+10)
	if err != nil {
		return fmt.Errorf("bench: %s: %w", name, err)
	}
	// Each stream is read from the moment it is open: the server pings its followers, and a
	// stream whose pongs (answered while it is read) do not come is dropped.
	readCtx, stopReading := context.WithCancel(ctx)
	var readers sync.WaitGroup
	var placed, received atomic.Int64
	users, err := f.liveUsers(ctx, o.Users, func(u *liveUser) { readers.Go(func() { u.read(readCtx, &received) }) })
	defer func() {
		stopReading()
		readers.Wait()
		for _, u := range users {
			if u != nil && u.conn != nil {
				u.conn.Close(websocket.StatusNormalClosure, "bench done")
			}
		}
	}()
	if err != nil {
		return fmt.Errorf("bench: %s: %w", name, err)
	}
	setup := time.Since(setupStart)
	waited, err := r.waitForQueue(ctx)
	if err != nil {
		return err
	}
	before, err := r.cpuSample()
	if err != nil {
		return err
	}
	var (
		mu     sync.Mutex
		failed stats
	)
	start := time.Now()
	next := make(chan *liveUser)
	var buyers sync.WaitGroup
	for range notifyCheckouts {
		buyers.Go(func() {
			for u := range next {
				// A notification that never comes must not hold the rest for ever: it is lost by
				// the time notifyDrain has passed.
				for held := time.Now(); placed.Load()-received.Load() >= notifyLiveWindow && ctx.Err() == nil &&
					time.Since(held) < notifyDrain; {
					time.Sleep(5 * time.Millisecond)
				}
				err := f.call(ctx, http.MethodPost, "/api/v1/cart/items", u.token, map[string]any{"product_id": product, "quantity": 1}, nil)
				var out struct {
					Orders []struct{ ID string }
				}
				if err == nil {
					u.sent.Store(time.Now().UnixNano())
					err = f.call(ctx, http.MethodPost, "/api/v1/orders", u.token, map[string]any{"address_id": u.address, "payment_method": "cod"}, &out)
				}
				if err == nil && len(out.Orders) != 1 {
					err = fmt.Errorf("checkout made %d orders, want 1", len(out.Orders))
				}
				if err != nil {
					mu.Lock()
					failed.fail(err.Error())
					mu.Unlock()
					continue
				}
				u.order.Store(&out.Orders[0].ID)
				placed.Add(1)
			}
		})
	}
	for _, u := range users {
		next <- u
	}
	close(next)
	buyers.Wait()

	// Every user's notification, or notifyDrain after the last checkout.
	var delays, e2e []time.Duration
	var last time.Time
	var readErr string
	drainBy := time.Now().Add(notifyDrain)
	lost := 0
	for _, u := range users {
		if u.order.Load() == nil {
			continue // its checkout failed, counted already
		}
		var rc liveReceipt
		ok := false
		select {
		case rc = <-u.got: // come already: no timer's race with it
			ok = true
		default:
			select {
			case rc = <-u.got:
				ok = true
			case <-time.After(time.Until(drainBy)):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if !ok {
			lost++
			continue
		}
		delays = append(delays, rc.at.Sub(rc.createdAt))
		e2e = append(e2e, rc.at.Sub(time.Unix(0, u.sent.Load())))
		if rc.at.After(last) {
			last = rc.at
		}
	}
	stopReading()
	readers.Wait()
	for _, u := range users {
		if u.readErr != nil {
			readErr = cmpOr(readErr, u.readErr.Error())
		}
	}
	s := exact(name, delays, last.Sub(start))
	s.absorb(failed)
	why := fmt.Sprintf("%d notifications never arrived", lost)
	if readErr != "" {
		why += " (a stream: " + readErr + ")"
	}
	s.lose(lost, why)
	if s.CPU, err = r.cpuSince(before); err != nil {
		return err
	}
	ends := exact("", e2e, 0)
	verdict := "within"
	if s.P99 > 100*time.Millisecond {
		verdict = "OVER"
	}
	r.rep.note(fmt.Sprintf("%s: each user on their own stream places one order (%d checkouts in flight, at most %d orders "+
		"ahead of the notifications received) and receives its order_placed notification; reqs = notifications received, "+
		"latency = from the notification's creation to its receipt (p99 %s the 100 ms target); from sending the checkout: "+
		"p50 %s, p99 %s; setup (accounts, addresses, streams) took %s, then %s waiting for earlier rows' jobs",
		name, notifyCheckouts, notifyLiveWindow, verdict, formatLatency(ends.P50), formatLatency(ends.P99), setup.Round(time.Second),
		waited.Round(time.Second)))
	return emit(s)
}

// liveUsers registers n users, a few at a time (each registration is a password hash; a 503 is
// the hashing bound at work, waited out and tried again), gives each an address, and connects
// each to their notification stream, handing each to connected once its stream is open. The
// users made are returned even with an error, for the caller to close.
func (f *fixture) liveUsers(ctx context.Context, n int, connected func(*liveUser)) ([]*liveUser, error) {
	users := make([]*liveUser, n)
	next := make(chan int)
	var wg sync.WaitGroup
	var firstErr atomic.Pointer[error]
	for range min(8, n) {
		wg.Go(func() {
			for i := range next {
				if firstErr.Load() != nil {
					continue
				}
				u, err := f.liveUser(ctx)
				users[i] = u
				if err != nil {
					firstErr.CompareAndSwap(nil, &err)
					continue
				}
				connected(u)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return users, *e
	}
	return users, nil
}

func (f *fixture) liveUser(ctx context.Context) (*liveUser, error) {
	u := &liveUser{got: make(chan liveReceipt, 1)}
	var err error
	for range 10 {
		if u.account, err = f.newUser(ctx, "notify"); err == nil || !strings.Contains(err.Error(), ": 503 ") {
			break
		}
		select {
		case <-ctx.Done():
			return u, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		return u, err
	}
	if u.address, err = f.newAddress(ctx, u.token); err != nil {
		return u, err
	}
	url := "ws" + strings.TrimPrefix(f.goshop, "http") + "/api/v1/notifications/live?token=" + u.token
	fl, err := follow(ctx, url, 1)
	if err != nil {
		return u, err
	}
	u.conn = fl.conn
	return u, nil
}

// read takes the user's stream until their order's notification comes (handed to got) or ctx
// ends; other messages are passed over.
func (u *liveUser) read(ctx context.Context, received *atomic.Int64) {
	for {
		_, raw, err := u.conn.Read(ctx)
		at := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				u.readErr = err
			}
			return
		}
		var m struct {
			Type string `json:"type"`
			Data struct {
				Kind      string    `json:"kind"`
				CreatedAt time.Time `json:"created_at"`
			} `json:"data"`
		}
		if json.Unmarshal(raw, &m) != nil || m.Type != "notification" || m.Data.Kind != "order_placed" {
			continue
		}
		// The notification may come before the checkout's answer is read: it is the user's
		// only order's.
		received.Add(1)
		u.got <- liveReceipt{at: at, createdAt: m.Data.CreatedAt}
		return
	}
}

// lose counts n failures of one cause (none when n is not positive).
func (s *stats) lose(n int, why string) {
	if n <= 0 {
		return
	}
	s.fail(why)
	s.Errors += uint64(n) - 1
}

// cpuSample samples the CPUs when the run measures them (the zero sample otherwise).
func (r *runner) cpuSample() (cpuSample, error) {
	if r.load.CPU == nil {
		return cpuSample{}, nil
	}
	return r.load.CPU.sample()
}

// cpuSince is how the CPUs were shared since before, nil when the run does not measure them.
func (r *runner) cpuSince(before cpuSample) (*cpuShare, error) {
	if r.load.CPU == nil {
		return nil, nil
	}
	after, err := r.load.CPU.sample()
	if err != nil {
		return nil, err
	}
	sh := after.since(before)
	return &sh, nil
}

// errNoUsers refuses a live row without users.
var errNoUsers = errors.New("bench: -notify-users must be at least 1")
