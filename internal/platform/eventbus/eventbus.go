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
// River job costs an insert, a fetch and a completion on the primary whatever its work. The
// jobs that run at the same time run as one (coalescer): a many-event subscriber takes all
// their events in one call, so that under load a subscriber's transaction serves several
// checkouts.
package eventbus

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
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

// ManyHandler handles the events that its subscriber takes of one publish, or of several run
// together, all at once, each publish's in its order: a subscriber whose work for several events
// is cheaper done together (one transaction, a product re-indexed once for its sale and its
// stock). A retry after a failure may hand it fewer of them.
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
	// together runs the batch jobs that wait at the same time as one.
	together coalescer
}

// New returns a Bus whose delivery worker is registered on runner.
func New(runner *jobs.Runner) *Bus {
	b := &Bus{runner: runner, subs: map[string][]string{}, byName: map[string]subscriber{},
		together: coalescer{lanes: make(chan struct{}, lanes)}}
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

// Work runs the job's deliveries (deliver), together with those of the other batch jobs that
// wait at the same time (coalescer). The deliveries that fail become jobs of their own, inserted
// in the transaction that completes this job, so that the ones that succeeded do not run again
// and each failure is retried (or cancelled) on its own terms; when that transaction fails, or
// when the job's time is up, the whole job runs again (with River's backoff).
func (w *batchWorker) Work(ctx context.Context, job *river.Job[batchArgs]) error {
	if !job.Args.fansOut() {
		// A retry of a failed delivery (or a publish to one subscriber) runs alone: its error is
		// its own, a JobCancel included, and another job's events never take it with them.
		out := w.bus.deliver(ctx, []batchArgs{job.Args})[0]
		if out.abort == nil && out.ran == 1 && len(out.failed) > 0 {
			return out.firstErr
		}
		return w.complete(ctx, job, out)
	}
	out, err := w.bus.together.do(ctx, w.bus, job.Args)
	if err != nil {
		return err
	}
	return w.complete(ctx, job, out)
}

// complete ends the job as its deliveries' outcome says: done, run again whole, or done with
// the retries of its failed deliveries inserted in the transaction that completes it.
func (w *batchWorker) complete(ctx context.Context, job *river.Job[batchArgs], out outcome) error {
	switch {
	case out.abort != nil:
		return out.abort
	case len(out.failed) == 0:
		return nil
	}
	return jobs.CompleteInserting(ctx, w.bus.runner, job, out.failed)
}

// fansOut reports whether the job's events go to more than one subscriber: a publish's first
// delivery, where a retry (retryOf) goes to one.
func (a batchArgs) fansOut() bool {
	var first string
	for _, ev := range a.Events {
		for _, name := range ev.Subscribers {
			if first == "" {
				first = name
			} else if name != first {
				return true
			}
		}
	}
	return false
}

// outcome is what one batch job's deliveries came to.
type outcome struct {
	ran      int                      // the calls of handlers the job's events took part in
	failed   []river.InsertManyParams // the retries of the job's deliveries that failed
	firstErr error                    // the first of their errors
	abort    error                    // the run stopped with its context: the whole job runs again
}

// deliver runs the deliveries of batch jobs' events and answers each job's outcome, in jobs'
// order: a one-event subscriber's events one at a time, in publish order; a many-event
// subscriber's events of every job in one call. Several jobs' events in one call is what makes
// a checkout's read models and notifications cheap under load: one transaction, one statement
// a table and one send job for all of them, where each checkout paid its own.
func (b *Bus) deliver(ctx context.Context, batches []batchArgs) []outcome {
	type group struct {
		name string
		sub  subscriber
		envs []Envelope
		from []int // the job of each envelope
	}
	var groups []*group
	byName := map[string]*group{}
	for j, args := range batches {
		for _, ev := range args.Events {
			for _, name := range ev.Subscribers {
				g, ok := byName[name]
				if !ok {
					sub, known := b.handler(name)
					if !known {
						slog.WarnContext(ctx, "eventbus: delivery to a removed subscriber dropped", "subscriber", name, "topic", ev.Envelope.Topic)
						continue
					}
					g = &group{name: name, sub: sub}
					byName[name] = g
					groups = append(groups, g)
				}
				g.envs = append(g.envs, ev.Envelope)
				g.from = append(g.from, j)
			}
		}
	}
	out := make([]outcome, len(batches))
	for _, g := range groups {
		// The calls, as ranges of g.envs: all of them at once, or each on its own.
		calls := [][2]int{{0, len(g.envs)}}
		if g.sub.many == nil {
			calls = make([][2]int, len(g.envs))
			for i := range g.envs {
				calls[i] = [2]int{i, i + 1}
			}
		}
		for _, c := range calls {
			envs, from := g.envs[c[0]:c[1]], g.from[c[0]:c[1]]
			var in []int // the jobs whose events the call takes
			for _, j := range from {
				if !slices.Contains(in, j) {
					in = append(in, j)
					out[j].ran++
				}
			}
			err := g.sub.handle(b.contextFor(ctx, g.name), envs)
			if err == nil {
				continue
			}
			if ctx.Err() != nil {
				for j := range out {
					out[j].abort = err
				}
				return out
			}
			slog.WarnContext(ctx, "eventbus: delivery failed, retried on its own", "subscriber", g.name, "topic", envs[0].Topic, "jobs", len(in), "err", err)
			for _, j := range in {
				var mine []Envelope
				for i, env := range envs {
					if from[i] == j {
						mine = append(mine, env)
					}
				}
				out[j].firstErr = cmp.Or(out[j].firstErr, err)
				out[j].failed = append(out[j].failed, retryOf(g.name, mine))
			}
		}
	}
	return out
}

// lanes is how many runs of batch jobs (deliver) go on at once in a process; maxTogether is
// how many jobs one of them takes. A job that finds every lane busy waits, and the next run
// takes it with the others waiting: under load each run serves several checkouts in each
// subscriber's one transaction, and alone a job runs at once. Two lanes keep both of a small
// machine's cores and PostgreSQL busy; more only make the runs smaller.
const (
	lanes       = 2
	maxTogether = 16
)

// coalescer gathers the batch jobs that wait for a lane, for one run of them all.
type coalescer struct {
	lanes   chan struct{}
	mu      sync.Mutex
	waiting []*waiter
}

// waiter is a batch job waiting for a run.
type waiter struct {
	args  batchArgs
	taken bool         // a run took it (under the coalescer's mutex)
	done  chan outcome // its outcome, once its run ended
}

// do runs a job's deliveries with those of the jobs waiting with it, and answers its outcome.
// The job waits for a free lane, or for a run that another job's lane made of it. When its
// context ends first, it stops waiting with the context's error, and River runs it again
// whole: its deliveries may then run twice, as a retry's may (handlers are idempotent).
func (c *coalescer) do(ctx context.Context, b *Bus, args batchArgs) (outcome, error) {
	w := &waiter{args: args, done: make(chan outcome, 1)}
	c.mu.Lock()
	c.waiting = append(c.waiting, w)
	c.mu.Unlock()
	select {
	case c.lanes <- struct{}{}:
	case out := <-w.done:
		return out, nil
	case <-ctx.Done():
		c.leave(w)
		return outcome{}, ctx.Err()
	}
	c.runUntilTaken(ctx, b, w)
	select {
	case out := <-w.done:
		return out, nil
	case <-ctx.Done():
		return outcome{}, ctx.Err()
	}
}

// runUntilTaken runs the waiting jobs, oldest first, with the lane w's job holds, until a run
// took w (this one or another lane's): the jobs that waited longest are served first, and none
// is left waiting with no one to run it. A handler's panic ends each job of its run with it as
// its error, and the lane is given back.
func (c *coalescer) runUntilTaken(ctx context.Context, b *Bus, w *waiter) {
	defer func() { <-c.lanes }()
	for {
		group := c.take()
		if len(group) > 0 {
			c.run(ctx, b, group)
		}
		c.mu.Lock()
		taken := w.taken
		c.mu.Unlock()
		if taken {
			return
		}
	}
}

// run delivers a group's jobs and hands each its outcome.
func (c *coalescer) run(ctx context.Context, b *Bus, group []*waiter) {
	batches := make([]batchArgs, len(group))
	for i, g := range group {
		batches[i] = g.args
	}
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("eventbus: a delivery panicked: %v", p)
			slog.ErrorContext(ctx, err.Error(), "jobs", len(group))
			for _, g := range group {
				g.done <- outcome{abort: err}
			}
		}
	}()
	for i, out := range b.deliver(ctx, batches) {
		group[i].done <- out
	}
}

// take takes the oldest waiting jobs, maxTogether at most.
func (c *coalescer) take() []*waiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := min(len(c.waiting), maxTogether)
	group := slices.Clone(c.waiting[:n])
	c.waiting = slices.Delete(c.waiting, 0, n)
	for _, g := range group {
		g.taken = true
	}
	return group
}

// leave takes a job that stopped waiting out of the queue, unless a run took it already.
func (c *coalescer) leave(w *waiter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !w.taken {
		c.waiting = slices.DeleteFunc(c.waiting, func(x *waiter) bool { return x == w })
	}
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
