package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// delivery is an order under way and the token of the shipper carrying it.
type delivery struct {
	orderID      string
	shipperToken string
}

// liveOptions shape the live-tracking measurement.
type liveOptions struct {
	Subscribers int           // WebSocket followers of one delivery
	Posts       int           // location posts, each one message to every follower
	Interval    time.Duration // between posts
	Wait        time.Duration // how long after the last post messages may still arrive
}

// setupDeliveries makes the deliveries the location and live-tracking rows need, once.
func (r *runner) setupDeliveries(ctx context.Context) error {
	if len(r.f.deliveries) > 0 {
		return nil
	}
	return r.f.makeDeliveries(ctx, r.o.Deliveries)
}

// liveRowName is the live-tracking row's name.
func liveRowName(o liveOptions) string {
	return fmt.Sprintf("live tracking (%d followers)", o.Subscribers)
}

// assignTimeout bounds the wait for the server's assignment jobs to give each order a shipper.
const assignTimeout = time.Minute

// makeDeliveries makes n deliveries under way through the real API, the way they happen: a
// shop with a product, n shippers made available beside it, a buyer who orders n times cash on
// delivery, the shop confirming each order, and the server's assignment job giving each its
// nearest free shipper. The shop sits at a random place in Viet Nam, so that the shippers of
// earlier runs, left in the database, are rarely within reach.
func (f *fixture) makeDeliveries(ctx context.Context, n int) error {
	lat, lng := 8.7+rand.Float64()*14, 104.5+rand.Float64()*4
	shop, err := f.newShop(ctx, f.token, "Bench shop "+randomHex(4), lat, lng)
	if err != nil {
		return err
	}
	product, err := f.newProduct(ctx, f.token, shop, "Bench parcel", n+10)
	if err != nil {
		return err
	}
	buyerAccount, err := f.newUser(ctx, "buyer")
	if err != nil {
		return err
	}
	buyer := buyerAccount.token
	addr, err := f.newAddress(ctx, buyer)
	if err != nil {
		return err
	}
	tokens := map[string]string{}
	for i := range n {
		shipper, err := f.newUser(ctx, "shipper")
		if err != nil {
			return err
		}
		tok := shipper.token
		var reg struct {
			Shipper struct {
				ID string `json:"id"`
			} `json:"shipper"`
			AccessToken string `json:"access_token"`
		}
		if err := f.call(ctx, http.MethodPost, "/api/v1/shipping/shippers/register", tok, map[string]any{"vehicle_type": "motorbike",
			"vehicle_plate": "59X1-" + fmt.Sprint(10000+i), "id_number": "079123456789", "service_area": "bench",
			"lat": lat + float64(i+1)*0.0005, "lng": lng}, &reg); err != nil {
			return err
		}
		if err := f.call(ctx, http.MethodPut, "/api/v1/shipping/shippers/"+reg.Shipper.ID+"/status", reg.AccessToken,
			map[string]any{"status": "available"}, nil); err != nil {
			return err
		}
		tokens[reg.Shipper.ID] = reg.AccessToken
	}
	var orderIDs []string
	for range n {
		if err := f.call(ctx, http.MethodPost, "/api/v1/cart/items", buyer, map[string]any{"product_id": product, "quantity": 1}, nil); err != nil {
			return err
		}
		var placed struct {
			Orders []struct {
				ID string `json:"id"`
			} `json:"orders"`
		}
		if err := f.call(ctx, http.MethodPost, "/api/v1/orders", buyer, map[string]any{"address_id": addr, "payment_method": "cod"}, &placed); err != nil {
			return err
		}
		if len(placed.Orders) != 1 {
			return fmt.Errorf("bench: checkout made %d orders, want 1", len(placed.Orders))
		}
		if err := f.call(ctx, http.MethodPut, "/api/v1/orders/"+placed.Orders[0].ID+"/confirm", f.token, map[string]any{}, nil); err != nil {
			return err
		}
		orderIDs = append(orderIDs, placed.Orders[0].ID)
	}
	f.buyerToken = buyer
	f.deliveries = f.deliveries[:0]
	deadline := time.Now().Add(assignTimeout)
	for _, id := range orderIDs {
		for {
			var m struct {
				ShipperID *string `json:"shipper_id"`
			}
			err := f.call(ctx, http.MethodGet, "/api/v1/shipping/"+id+"/tracking", buyer, nil, &m)
			if err == nil && m.ShipperID != nil {
				tok, ours := tokens[*m.ShipperID]
				if !ours {
					return fmt.Errorf("bench: order %s went to shipper %s of an earlier run; run again", id, *m.ShipperID)
				}
				f.deliveries = append(f.deliveries, delivery{orderID: id, shipperToken: tok})
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("bench: order %s got no shipper within %s (last answer: %v)", id, assignTimeout, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// locationTargets cycles location posts over the deliveries, each by its own shipper, a few
// metres further each time.
func locationTargets(f *fixture, base string) vegeta.Targeter {
	ts := make([]vegeta.Target, len(f.deliveries))
	for i, d := range f.deliveries {
		body, _ := json.Marshal(map[string]float64{"lat": 10.7769 + float64(i)*0.0001, "lng": 106.7009})
		ts[i] = vegeta.Target{Method: http.MethodPost, URL: base + "/api/v1/shipping/" + d.orderID + "/location", Body: body,
			Header: http.Header{"Authorization": {"Bearer " + d.shipperToken}, "Content-Type": {"application/json"}}}
	}
	return vegeta.NewStaticTargeter(ts...)
}

// liveSeqBase and liveSeqStep encode a post's sequence number in its latitude, so that a
// follower knows which post each message is.
const (
	liveSeqBase = 10.0
	liveSeqStep = 1e-5
)

// measureLive has o.Subscribers WebSocket clients follow one delivery while its shipper posts
// o.Posts locations o.Interval apart, and times each message from just before its post was
// sent to its arrival at each follower. Requests counts the messages received, Errors the
// failed posts and the messages that never arrived (a dropped or refused follower misses all of
// them). The CPU columns cover the posts and the deliveries, not the followers' dialling.
func measureLive(ctx context.Context, r *runner, emit func(stats) error) error {
	o, name := r.o.Live, liveRowName(r.o.Live)
	s, err := followLive(ctx, r.f, name, o, r.load.CPU)
	if err != nil {
		return err
	}
	r.rep.note(fmt.Sprintf("%s: %d location posts %s apart; reqs = messages received, req/s = messages a second, "+
		"latency = from sending the post to receiving its message", name, o.Posts, o.Interval))
	return emit(s)
}

func followLive(ctx context.Context, f *fixture, name string, o liveOptions, probe *cpuProbe) (stats, error) {
	if len(f.deliveries) == 0 {
		return stats{}, errors.New("bench: live tracking needs a delivery")
	}
	followers, err := dialFollowers(ctx, f, o.Subscribers, o.Posts)
	defer closeFollowers(followers)
	if err != nil {
		return stats{}, err
	}
	s, _, err := deliverLive(ctx, f, name, o, probe, followers)
	return s, err
}

// liveURL is the live-tracking stream of the bench's first delivery, as its buyer follows it.
func liveURL(f *fixture) string {
	return "ws" + strings.TrimPrefix(f.goshop, "http") + "/api/v1/shipping/" + f.deliveries[0].orderID +
		"/live-tracking?token=" + f.buyerToken
}

// dialFollowers connects n followers of the first delivery, each expecting posts messages. The
// followers dialled are returned even with an error, for the caller to close.
func dialFollowers(ctx context.Context, f *fixture, n, posts int) ([]*follower, error) {
	url := liveURL(f)
	followers := make([]*follower, n)
	dialCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	// Dial in parallel but not all at once, as a burst of 1,000 handshakes would time itself out.
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var dialErr atomic.Pointer[error]
	for i := range followers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fl, err := follow(dialCtx, url, posts)
			if err != nil {
				dialErr.CompareAndSwap(nil, &err)
				return
			}
			followers[i] = fl
		}()
	}
	wg.Wait()
	if e := dialErr.Load(); e != nil {
		return followers, fmt.Errorf("bench: live tracking: %w", *e)
	}
	return followers, nil
}

func closeFollowers(followers []*follower) {
	var wg sync.WaitGroup
	for _, fl := range followers {
		if fl != nil {
			wg.Go(func() { fl.conn.Close(websocket.StatusNormalClosure, "bench done") })
		}
	}
	wg.Wait()
}

// deliverLive has the first delivery's shipper post o.Posts locations o.Interval apart to the
// followers, and answers the row of the messages' delays and the posts' own latencies.
func deliverLive(ctx context.Context, f *fixture, name string, o liveOptions, probe *cpuProbe, followers []*follower) (stats, []time.Duration, error) {
	d := f.deliveries[0]
	sent := make([]atomic.Int64, o.Posts)
	var wg sync.WaitGroup
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	for _, fl := range followers {
		wg.Go(func() { fl.read(readCtx, sent) })
	}
	var before cpuSample
	if probe != nil {
		var err error
		if before, err = probe.sample(); err != nil {
			return stats{}, nil, err
		}
	}
	start := time.Now()
	post := vegeta.Target{Method: http.MethodPost, URL: f.goshop + "/api/v1/shipping/" + d.orderID + "/location",
		Header: http.Header{"Authorization": {"Bearer " + d.shipperToken}, "Content-Type": {"application/json"}}}
	var failed stats
	posts := make([]time.Duration, 0, o.Posts)
	for i := range o.Posts {
		post.Body, _ = json.Marshal(map[string]float64{"lat": liveSeqBase + float64(i)*liveSeqStep, "lng": 106.7})
		at := time.Now()
		sent[i].Store(at.UnixNano())
		if err := checkTarget(ctx, f.client, name, vegeta.NewStaticTargeter(post)); err != nil {
			if ctx.Err() != nil {
				return stats{}, nil, ctx.Err()
			}
			failed.fail(err.Error())
		} else {
			posts = append(posts, time.Since(at))
		}
		select {
		case <-ctx.Done():
			return stats{}, nil, ctx.Err()
		case <-time.After(time.Until(start.Add(time.Duration(i+1) * o.Interval))):
		}
	}
	// Followers stop once they have every message; the rest get o.Wait more.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(o.Wait):
		stopReading()
		<-done
	case <-ctx.Done():
		stopReading()
		<-done
		return stats{}, nil, ctx.Err()
	}

	var delays []time.Duration
	var last time.Time
	var followerErr string
	for _, fl := range followers {
		delays = append(delays, fl.delays...)
		if fl.last.After(last) {
			last = fl.last
		}
		if fl.err != nil {
			followerErr = cmpOr(followerErr, fl.err.Error())
		}
	}
	s := exact(name, delays, last.Sub(start))
	s.absorb(failed) // the failed posts, whose messages nobody expects
	if want := uint64(o.Subscribers) * (uint64(o.Posts) - failed.Errors); s.Requests < want {
		why := "messages never arrived"
		if followerErr != "" {
			why += " (a follower: " + followerErr + ")"
		}
		s.fail(why)
		s.Errors += want - s.Requests - 1
	}
	if probe != nil {
		after, err := probe.sample()
		if err != nil {
			return stats{}, nil, err
		}
		sh := after.since(before)
		s.CPU = &sh
	}
	return s, posts, nil
}

// follower is one WebSocket client of the live-tracking stream.
type follower struct {
	conn   *websocket.Conn
	want   int
	delays []time.Duration
	last   time.Time
	err    error
}

// follow connects and reads up to the hub's "subscribed", after which every post reaches it.
func follow(ctx context.Context, url string, want int) (*follower, error) {
	conn, res, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		if res != nil {
			body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
			return nil, fmt.Errorf("dial: %s: %s", res.Status, bytes.TrimSpace(body))
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	conn.SetReadLimit(1 << 16)
	_, raw, err := conn.Read(ctx)
	if err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("first message: %w", err)
	}
	var m struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &m) != nil || m.Type != "subscribed" {
		conn.CloseNow()
		return nil, fmt.Errorf("first message %q, want subscribed", raw)
	}
	return &follower{conn: conn, want: want, delays: make([]time.Duration, 0, want)}, nil
}

// read takes location messages until it has one per post or ctx ends, timing each against the
// moment its post was sent.
func (fl *follower) read(ctx context.Context, sent []atomic.Int64) {
	for len(fl.delays) < fl.want {
		_, raw, err := fl.conn.Read(ctx)
		now := time.Now()
		if err != nil {
			if ctx.Err() == nil {
				fl.err = err
			}
			return
		}
		var m struct {
			Type string `json:"type"`
			Data struct {
				Lat float64 `json:"lat"`
			} `json:"data"`
		}
		if json.Unmarshal(raw, &m) != nil || m.Type != "location" {
			continue
		}
		seq := int(math.Round((m.Data.Lat - liveSeqBase) / liveSeqStep))
		if seq < 0 || seq >= len(sent) {
			continue
		}
		fl.delays = append(fl.delays, now.Sub(time.Unix(0, sent[seq].Load())))
		fl.last = now
	}
}
