package realtime_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/goshop/goshop/internal/platform/realtime"
)

// BenchmarkPublishToReceive1000 measures the delay from Publish on one instance to receipt
// by each of 1,000 WebSocket subscribers on another, both sharing the local Redis: one
// op is one message delivered to all 1,000. It reports the p50, p99 and max delay.
//
//	go test -run '^$' -bench PublishToReceive ./internal/platform/realtime/
func BenchmarkPublishToReceive1000(b *testing.B) {
	const subscribers = 1000
	rdb := redisClient(b)
	cfg := realtime.Config{Prefix: prefix()}
	pub, sub := newInstance(b, rdb, cfg), newInstance(b, rdb, cfg)

	conns := make([]*websocket.Conn, subscribers)
	var dialing sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range conns {
		dialing.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := tryDial(sub, "bench")
			if err != nil {
				b.Error(err)
				return
			}
			conns[i] = c
		})
	}
	dialing.Wait()
	if b.Failed() {
		b.FailNow()
	}
	require.Equal(b, subscribers, sub.hub.Subscribers("bench"))

	var received sync.WaitGroup
	delays := make([][]time.Duration, subscribers)
	var readers sync.WaitGroup
	for i, c := range conns {
		readers.Go(func() {
			for {
				_, data, err := c.Read(context.Background())
				if err != nil {
					return
				}
				at := time.Now()
				var m realtime.Message
				if json.Unmarshal(data, &m) != nil {
					return
				}
				sent, _ := strconv.ParseInt(string(m.Data), 10, 64)
				delays[i] = append(delays[i], at.Sub(time.Unix(0, sent)))
				received.Done()
			}
		})
	}

	for b.Loop() {
		received.Add(subscribers)
		if err := pub.hub.Publish(context.Background(), "bench", "t", time.Now().UnixNano()); err != nil {
			b.Fatal(err)
		}
		received.Wait()
	}
	b.StopTimer()
	for _, c := range conns {
		_ = c.CloseNow()
	}
	readers.Wait()

	all := slices.Concat(delays...)
	slices.Sort(all)
	if len(all) == 0 {
		b.Fatal("nothing received")
	}
	q := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(all[len(all)-1].Microseconds())/1000, "max-ms")
	if d := sub.hub.Dropped(); d != 0 {
		b.Errorf("%d subscribers dropped as too slow", d)
	}
}
