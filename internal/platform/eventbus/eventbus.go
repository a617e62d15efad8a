// Package eventbus is GoShop's in-process event bus, standing in for a message broker.
//
// Publish runs inside the publisher's transaction and inserts, in that transaction, one River job
// that carries the events of the call to all their subscribers, so an event exists if and only
// if its transaction committed. The job runs the handlers one after another; a handler that
// fails gets a job of its own (in the transaction that completes the first), retried with
// backoff, so each subscriber receives each event at least once and a failing subscriber neither
// holds up nor repeats the others. Handlers must therefore be idempotent (the envelope's ID is
// stable across retries).
//
// One job a publish, not one a subscriber: a checkout's events reach eight subscribers, and a
// River job costs an insert, a fetch and a completion on the primary whatever its work.
package eventbus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
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
	river.AddWorker(runner.Workers, &batchWorker{bus: b})
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

// Jobs returns the River job that delivers events to their subscribers (none when no one
// subscribes), for a caller that inserts it together with jobs of its own in one InsertManyTx
// call (one round trip).
func (b *Bus) Jobs(events ...Event) ([]river.InsertManyParams, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var batch batchArgs
	deliveries := 0
	for _, ev := range events {
		subs := b.subs[ev.Topic()]
		if len(subs) == 0 {
			continue
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("eventbus: encode %s: %w", ev.Topic(), err)
		}
		env := Envelope{ID: uuid.NewString(), Topic: ev.Topic(), OccurredAt: time.Now().UTC(), Payload: payload}
		batch.Events = append(batch.Events, batchEvent{Envelope: env, Subscribers: subs})
		deliveries += len(subs)
	}
	switch deliveries {
	case 0:
		return nil, nil
	case 1: // the job of one delivery, as a failed one's retry is
		ev := batch.Events[0]
		return []river.InsertManyParams{{Args: deliveryArgs{Subscriber: ev.Subscribers[0], Envelope: ev.Envelope}}}, nil
	}
	return []river.InsertManyParams{{Args: batch}}, nil
}

// handler finds a subscriber's handler by name.
func (b *Bus) handler(name string) (Handler, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	h, ok := b.byName[name]
	return h, ok
}

// deliveryArgs is the River job that carries one event to one subscriber: a publish with a single
// delivery, and the retries of a delivery that failed in a batch.
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
	h, ok := w.bus.handler(job.Args.Subscriber)
	if !ok {
		// A subscriber removed in a later release: nothing will ever handle it.
		return river.JobCancel(fmt.Errorf("eventbus: no subscriber %q", job.Args.Subscriber))
	}
	return h(ctx, job.Args.Envelope)
}

// batchArgs is the River job that carries the events of one publish to all their subscribers.
type batchArgs struct {
	Events []batchEvent `json:"events"`
}

// batchEvent is one event and the subscribers it goes to, named when it was published.
type batchEvent struct {
	Envelope    Envelope `json:"envelope"`
	Subscribers []string `json:"subscribers"`
}

func (batchArgs) Kind() string { return "event_batch" }

type batchWorker struct {
	river.WorkerDefaults[batchArgs]
	bus *Bus
}

// Work runs every delivery in publish order. The ones that fail become jobs of their own,
// inserted in the transaction that completes this job, so that the ones that succeeded do not
// run again; when that transaction fails, or the job's time is up, the whole batch runs again.
func (w *batchWorker) Work(ctx context.Context, job *river.Job[batchArgs]) error {
	var failed []river.InsertManyParams
	for _, ev := range job.Args.Events {
		for _, name := range ev.Subscribers {
			h, ok := w.bus.handler(name)
			if !ok {
				slog.WarnContext(ctx, "eventbus: delivery to a removed subscriber dropped", "subscriber", name, "topic", ev.Envelope.Topic)
				continue
			}
			if err := h(ctx, ev.Envelope); err != nil {
				if ctx.Err() != nil {
					return err
				}
				slog.WarnContext(ctx, "eventbus: delivery failed, retried on its own", "subscriber", name, "topic", ev.Envelope.Topic, "err", err)
				failed = append(failed, river.InsertManyParams{Args: deliveryArgs{Subscriber: name, Envelope: ev.Envelope}})
			}
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return jobs.CompleteInserting(ctx, w.bus.runner, job, failed)
}
