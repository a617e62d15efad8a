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
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/goshop/goshop/internal/platform/jobs"
	"github.com/goshop/goshop/internal/platform/pgdb"
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

// ManyHandler handles the events of one publish that its subscriber takes, all at once, in
// publish order: a subscriber whose work for several events is cheaper done together (one
// transaction, a product re-indexed once for its sale and its stock). A retry after a failure
// may hand it fewer of them.
type ManyHandler func(ctx context.Context, envs []Envelope) error

// subscriber is a handler of one event at a time or of many.
type subscriber struct {
	one  Handler
	many ManyHandler
}

func (s subscriber) handle(ctx context.Context, envs []Envelope) error {
	if s.many != nil {
		return s.many(ctx, envs)
	}
	for _, env := range envs {
		if err := s.one(ctx, env); err != nil {
			return err
		}
	}
	return nil
}

// Bus routes published events to subscribers through River jobs.
type Bus struct {
	runner *jobs.Runner
	mu     sync.RWMutex
	subs   map[string][]string   // topic -> subscriber names
	byName map[string]subscriber // subscriber name -> handler
	async  []string              // prefixes of the subscriber names that commit asynchronously
}

// New returns a Bus whose delivery worker is registered on runner.
func New(runner *jobs.Runner) *Bus {
	b := &Bus{runner: runner, subs: map[string][]string{}, byName: map[string]subscriber{}}
	river.AddWorker(runner.Workers, &deliverWorker{bus: b})
	river.AddWorker(runner.Workers, &batchWorker{bus: b})
	return b
}

// Subscribe registers handler under a unique subscriber name for topic. Names must stay stable
// across releases: queued deliveries find their handler by it.
func (b *Bus) Subscribe(topic, name string, h Handler) {
	b.add(name, subscriber{one: h}, topic)
}

// SubscribeMany registers h under a unique subscriber name for topics: the events of one
// publish among them reach it in one call.
func (b *Bus) SubscribeMany(name string, h ManyHandler, topics ...string) {
	b.add(name, subscriber{many: h}, topics...)
}

// CommitAsync lets the subscribers whose names start with prefix commit their work without
// waiting for the disk (pgdb.AsyncCommit): a context whose subscribers keep a read model or send
// notifications, idempotent work no client waits on. The job that ran them completes in a
// synchronous commit after theirs, so what a crash of PostgreSQL takes back runs again.
func (b *Bus) CommitAsync(prefix string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.async = append(b.async, prefix)
}

// contextFor is the context a subscriber's delivery runs in.
func (b *Bus) contextFor(ctx context.Context, name string) context.Context {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, prefix := range b.async {
		if strings.HasPrefix(name, prefix) {
			return pgdb.AsyncCommit(ctx)
		}
	}
	return ctx
}

// Retire keeps a subscriber name that is no longer subscribed to anything as another name for
// current's handler, so that the deliveries queued under it before a release still run.
func (b *Bus) Retire(name, current string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	sub, ok := b.byName[current]
	if !ok {
		panic("eventbus: retiring " + name + " into unknown subscriber " + current)
	}
	if _, dup := b.byName[name]; dup {
		panic("eventbus: duplicate subscriber " + name)
	}
	b.byName[name] = sub
}

func (b *Bus) add(name string, sub subscriber, topics ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.byName[name]; dup {
		panic("eventbus: duplicate subscriber " + name)
	}
	b.byName[name] = sub
	for _, topic := range topics {
		b.subs[topic] = append(b.subs[topic], name)
	}
}

// On subscribes a typed handler: the payload is decoded into T before h runs.
func On[T Event](b *Bus, name string, h func(ctx context.Context, id string, ev T) error) {
	var zero T
	b.Subscribe(zero.Topic(), name, func(ctx context.Context, env Envelope) error {
		ev, err := Decode[T](env)
		if err != nil {
			return err
		}
		return h(ctx, env.ID, ev)
	})
}

// Decode decodes an envelope's payload into T.
func Decode[T Event](env Envelope) (T, error) {
	var ev T
	if err := json.Unmarshal(env.Payload, &ev); err != nil {
		return ev, fmt.Errorf("eventbus: decode %s: %w", env.Topic, err)
	}
	return ev, nil
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
func (b *Bus) handler(name string) (subscriber, bool) {
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
	return h.handle(w.bus.contextFor(ctx, job.Args.Subscriber), []Envelope{job.Args.Envelope})
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

// Work runs every delivery: a one-event subscriber's in publish order, then each many-event
// subscriber's events in one call. The deliveries that fail become jobs of their own, inserted
// in the transaction that completes this job, so that the ones that succeeded do not run again
// and each failure is retried (or cancelled) on its own terms; when that transaction fails, or
// when the job's time is up, the whole job runs again (with River's backoff).
func (w *batchWorker) Work(ctx context.Context, job *river.Job[batchArgs]) error {
	type group struct {
		name string
		sub  subscriber
		envs []Envelope
	}
	var groups []*group
	byName := map[string]*group{}
	for _, ev := range job.Args.Events {
		for _, name := range ev.Subscribers {
			g, ok := byName[name]
			if !ok {
				sub, known := w.bus.handler(name)
				if !known {
					slog.WarnContext(ctx, "eventbus: delivery to a removed subscriber dropped", "subscriber", name, "topic", ev.Envelope.Topic)
					continue
				}
				g = &group{name: name, sub: sub}
				byName[name] = g
				groups = append(groups, g)
			}
			g.envs = append(g.envs, ev.Envelope)
		}
	}
	var failed []river.InsertManyParams
	var firstErr error
	ran := 0
	for _, g := range groups {
		parts := [][]Envelope{g.envs}
		if g.sub.many == nil {
			parts = make([][]Envelope, len(g.envs))
			for i := range g.envs {
				parts[i] = g.envs[i : i+1]
			}
		}
		for _, envs := range parts {
			ran++
			err := g.sub.handle(w.bus.contextFor(ctx, g.name), envs)
			if err == nil {
				continue
			}
			if ctx.Err() != nil {
				return err
			}
			firstErr = cmp.Or(firstErr, err)
			slog.WarnContext(ctx, "eventbus: delivery failed, retried on its own", "subscriber", g.name, "topic", envs[0].Topic, "err", err)
			failed = append(failed, retryOf(g.name, envs))
		}
	}
	switch {
	case len(failed) == 0:
		return nil
	case ran == 1:
		// The job's one delivery (a retry of a many-event subscriber's): River retries it,
		// or cancels it when its error says so.
		return firstErr
	}
	return jobs.CompleteInserting(ctx, w.bus.runner, job, failed)
}

// retryOf is the job that runs a failed delivery again: one event, or a many-event
// subscriber's events of the publish.
func retryOf(name string, envs []Envelope) river.InsertManyParams {
	if len(envs) == 1 {
		return river.InsertManyParams{Args: deliveryArgs{Subscriber: name, Envelope: envs[0]}}
	}
	var batch batchArgs
	for _, env := range envs {
		batch.Events = append(batch.Events, batchEvent{Envelope: env, Subscribers: []string{name}})
	}
	return river.InsertManyParams{Args: batch}
}
