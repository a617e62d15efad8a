// Package eventbus is GoShop's in-process event bus, standing in for a message broker.
//
// Publish runs inside the publisher's transaction and inserts one River job per subscriber in
// that transaction, so an event exists if and only if its transaction committed, and each
// subscriber receives it at least once, retried with backoff when its handler fails. Handlers
// must therefore be idempotent (the envelope's ID is stable across retries).
package eventbus

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/platform/jobs"
)

// Event is an integration event; its payload types live in internal/events.
type Event interface {
	// Topic names the event, e.g. "user.registered".
	Topic() string
}

// Envelope is what a subscriber receives: the event's identity and its JSON payload.
type Envelope struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	OccurredAt time.Time       `json:"occurred_at"`
	Payload    json.RawMessage `json:"payload"`
}

// Handler handles one delivery of an event.
type Handler func(ctx context.Context, env Envelope) error

// Bus routes published events to subscribers through River jobs.
type Bus struct {
	runner *jobs.Runner
	mu     sync.RWMutex
	subs   map[string][]string // topic -> subscriber names
	byName map[string]Handler  // subscriber name -> handler
}

// New returns a Bus whose delivery worker is registered on runner.
func New(runner *jobs.Runner) *Bus {
	b := &Bus{runner: runner, subs: map[string][]string{}, byName: map[string]Handler{}}
	river.AddWorker(runner.Workers, &deliverWorker{bus: b})
	return b
}

// Subscribe registers handler under a unique subscriber name for topic. Names must stay stable
// across releases: queued deliveries find their handler by it.
func (b *Bus) Subscribe(topic, name string, h Handler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.byName[name]; dup {
		panic("eventbus: duplicate subscriber " + name)
	}
	b.byName[name] = h
	b.subs[topic] = append(b.subs[topic], name)
}

// On subscribes a typed handler: the payload is decoded into T before h runs.
func On[T Event](b *Bus, name string, h func(ctx context.Context, id string, ev T) error) {
	var zero T
	b.Subscribe(zero.Topic(), name, func(ctx context.Context, env Envelope) error {
		var ev T
		if err := json.Unmarshal(env.Payload, &ev); err != nil {
			return fmt.Errorf("eventbus: decode %s: %w", env.Topic, err)
		}
		return h(ctx, env.ID, ev)
	})
}

// Publish enqueues every event for each of its topic's subscribers inside tx.
func (b *Bus) Publish(ctx context.Context, tx pgx.Tx, events ...Event) error {
	params, err := b.Jobs(events...)
	if err != nil {
		return err
	}
	if err := b.runner.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("eventbus: publish: %w", err)
	}
	return nil
}

// Jobs returns the River jobs that deliver events to their subscribers, for a caller that
// inserts them together with jobs of its own in one InsertManyTx call (one round trip).
func (b *Bus) Jobs(events ...Event) ([]river.InsertManyParams, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var params []river.InsertManyParams
	for _, ev := range events {
		payload, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("eventbus: encode %s: %w", ev.Topic(), err)
		}
		env := Envelope{ID: uuid.NewString(), Topic: ev.Topic(), OccurredAt: time.Now().UTC(), Payload: payload}
		for _, name := range b.subs[ev.Topic()] {
			params = append(params, river.InsertManyParams{Args: deliveryArgs{Subscriber: name, Envelope: env}})
		}
	}
	return params, nil
}

// deliveryArgs is the River job that carries one event to one subscriber.
type deliveryArgs struct {
	Subscriber string   `json:"subscriber"`
	Envelope   Envelope `json:"envelope"`
}

func (deliveryArgs) Kind() string { return "event_delivery" }

type deliverWorker struct {
	river.WorkerDefaults[deliveryArgs]
	bus *Bus
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	w.bus.mu.RLock()
	h, ok := w.bus.byName[job.Args.Subscriber]
	w.bus.mu.RUnlock()
	if !ok {
		// A subscriber removed in a later release: nothing will ever handle it.
		return river.JobCancel(fmt.Errorf("eventbus: no subscriber %q", job.Args.Subscriber))
	}
	return h(ctx, job.Args.Envelope)
}
