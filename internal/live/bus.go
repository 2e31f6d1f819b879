// Package live fans the domain events out to the GraphQL subscriptions of
// every gateway instance. A notification carries ids only; each subscriber
// reads the record itself, through the normal read path, as its viewer.
//
// On PostgreSQL the event hook sends pg_notify in the write's transaction
// (PostgreSQL delivers it only if the transaction commits) and every
// instance LISTENs (lib/pq's Listener, which reconnects by itself). The
// notifications sent while a listener reconnects are lost to it, so after
// a reconnection the instance reads the outbox rows written since the last
// note it saw and publishes the ones it has not (replay, deduplicated by
// event id). On SQLite, which serves one process, the hook hands the note
// to the instance's own subscribers once the transaction has committed
// (crm.Service.AfterCommit). docs/subscriptions.md describes the design.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/metrics"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
)

// Channel is the PostgreSQL notification channel.
const Channel = "conecrm_live"

// Note is one change: what happened to which record of which tenant.
type Note struct {
	Event  uuid.UUID `json:"e"`
	Tenant uuid.UUID `json:"t"`
	Topic  string    `json:"k"` // e.g. "lead.updated", "automationRun.updated"
	Type   string    `json:"y"` // the record type (crm.Record*, or "automationRun")
	Record uuid.UUID `json:"r"`
	// Parent is a record the change belongs to (an automation run's
	// automation); zero when none.
	Parent uuid.UUID `json:"p,omitempty"`
	At     time.Time `json:"a"` // when the write emitted it
}

// Sub is one subscription's queue of notes.
type Sub struct {
	tenant uuid.UUID
	match  func(Note) bool
	ch     chan Note
	// overflow is called (once) when the queue is full: the subscriber
	// does not keep up and is dropped rather than buffered without bound.
	overflow func()
	once     sync.Once
}

// C is the subscription's queue.
func (s *Sub) C() <-chan Note { return s.ch }

// Replay defaults (docs/subscriptions.md): how far back, and how many
// changes at most, an instance reads the outbox after its listener
// reconnected; slack covers writers' clocks and transactions that
// committed after later ones.
const (
	DefaultReplayWindow = 5 * time.Minute
	DefaultReplayMax    = 10_000
	replaySlack         = 10 * time.Second
)

// Bus is one instance's fan-out.
type Bus struct {
	svc    *crm.Service
	db     *store.DB
	pg     bool
	url    string
	log    *slog.Logger
	buffer int

	replayWindow time.Duration
	replayMax    int
	// Owned by the listening goroutine: when the last note heard was
	// written, and the events already published (for the replay's
	// deduplication), at most replayMax of them, oldest dropped first.
	started  time.Time
	lastSeen time.Time
	seen     map[uuid.UUID]struct{}
	seenRing []uuid.UUID
	seenNext int

	mu   sync.RWMutex
	subs map[uuid.UUID]map[*Sub]struct{} // by tenant

	listener *pq.Listener
	done     chan struct{}
}

// New registers the bus as svc's event hook over db (url is db's address,
// for LISTEN on PostgreSQL). buffer bounds each subscription's queue.
func New(db *store.DB, url string, svc *crm.Service, buffer int, log *slog.Logger) *Bus {
	if log == nil {
		log = slog.Default()
	}
	b := &Bus{svc: svc, db: db, pg: store.IsPostgres(url), url: url, log: log, buffer: max(buffer, 1),
		replayWindow: DefaultReplayWindow, replayMax: DefaultReplayMax,
		subs: map[uuid.UUID]map[*Sub]struct{}{}, done: make(chan struct{})}
	svc.OnEvent(b.onEvent)
	return b
}

// SetReplay bounds the replay after a reconnection: changes written at
// most window ago (CONECRM_SUBSCRIPTION_REPLAY_WINDOW), at most max of them
// (CONECRM_SUBSCRIPTION_REPLAY_MAX); zero keeps a default. Call before Start.
func (b *Bus) SetReplay(window time.Duration, max int) {
	if window > 0 {
		b.replayWindow = window
	}
	if max > 0 {
		b.replayMax = max
	}
}

// Start listens for the other instances' notes (PostgreSQL); Stop ends it.
func (b *Bus) Start(ctx context.Context) error {
	if !b.pg {
		return nil
	}
	b.listener = pq.NewListener(b.url, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			b.log.Warn("live: notification listener", "event", ev, "err", err)
		}
	})
	if err := b.listener.Listen(Channel); err != nil {
		_ = b.listener.Close()
		return err
	}
	b.started = time.Now().UTC()
	b.lastSeen = b.started
	b.seen = make(map[uuid.UUID]struct{}, b.replayMax)
	b.seenRing = make([]uuid.UUID, b.replayMax)
	go b.listen()
	return nil
}

// Stop closes the listener.
func (b *Bus) Stop() {
	if b.listener != nil {
		_ = b.listener.Close()
		<-b.done
	}
}

func (b *Bus) listen() {
	defer close(b.done)
	for n := range b.listener.Notify {
		if n == nil { // reconnected: the notes sent meanwhile are lost
			b.replay()
			continue
		}
		var note Note
		if err := json.Unmarshal([]byte(n.Extra), &note); err != nil {
			b.log.Error("live: bad notification", "payload", n.Extra, "err", err)
			continue
		}
		if note.Type != RecordAutomationRun { // run notes are not in the outbox
			if !b.firstSight(note.Event) {
				continue // replayed already
			}
			if note.At.After(b.lastSeen) {
				b.lastSeen = note.At
			}
		}
		b.dispatch(note)
	}
}

// firstSight records id as published and reports whether it was new.
func (b *Bus) firstSight(id uuid.UUID) bool {
	if _, ok := b.seen[id]; ok {
		return false
	}
	if old := b.seenRing[b.seenNext]; old != uuid.Nil {
		delete(b.seen, old)
	}
	b.seenRing[b.seenNext] = id
	b.seenNext = (b.seenNext + 1) % len(b.seenRing)
	b.seen[id] = struct{}{}
	return true
}

// replay publishes the changes this instance missed while its listener
// was reconnecting: the outbox rows written since the last note it heard
// (less replaySlack; not before it started listening, at most replayWindow
// ago), oldest first, at most
// replayMax, skipping the events it published already. Automation run
// notes have no outbox row and are not replayed.
func (b *Bus) replay() {
	since := b.lastSeen.Add(-replaySlack)
	// Not before this instance listened: earlier changes were never its to push.
	if since.Before(b.started) {
		since = b.started
	}
	if oldest := time.Now().Add(-b.replayWindow); since.Before(oldest) {
		since = oldest
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = registry.Unchecked(tenancy.Bypass(ctx))
	// Ids are UUIDv7: time-ordered, so the primary key finds the rows
	// written since then, newest first (those are kept when there are too
	// many); they are pushed oldest first.
	rows, err := b.db.OutboxEvent.Query().
		Where(func(s *entsql.Selector) { s.Where(entsql.GTE(s.C(outboxevent.FieldID), idAt(since))) }).
		Order(outboxevent.ByID(entsql.OrderDesc())).Limit(b.replayMax + 1).All(ctx)
	if err != nil {
		b.log.Error("live: listener reconnected; cannot read the changes of the gap, they are not pushed", "since", since, "err", err)
		return
	}
	if len(rows) > b.replayMax {
		b.log.Warn("live: listener reconnected; more changes in the gap than CONECRM_SUBSCRIPTION_REPLAY_MAX, the newest are pushed",
			"max", b.replayMax)
		rows = rows[:b.replayMax]
	}
	slices.Reverse(rows)
	published, dup := 0, 0
	for _, r := range rows {
		note := Note{Event: r.ID, Tenant: r.TenantID, Topic: r.Topic, Record: r.SubjectID}
		note.Type, _ = r.Payload["recordType"].(string)
		if at, ok := r.Payload["occurredAt"].(string); ok {
			note.At, _ = time.Parse(time.RFC3339Nano, at)
		}
		if !b.firstSight(note.Event) {
			dup++
			continue
		}
		if note.At.After(b.lastSeen) {
			b.lastSeen = note.At
		}
		published++
		b.dispatch(note)
	}
	metrics.LiveReplayed.WithLabelValues("published").Add(float64(published))
	metrics.LiveReplayed.WithLabelValues("already_seen").Add(float64(dup))
	b.log.Info("live: listener reconnected; changes of the gap replayed from the outbox", "since", since,
		"published", published, "already_seen", dup)
}

// idAt is the smallest UUIDv7 of instant t (its millisecond in the first
// 48 bits, version 7, the rest zero).
func idAt(t time.Time) uuid.UUID {
	var id uuid.UUID
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		id[i] = byte(ms >> (40 - 8*i))
	}
	id[6], id[8] = 0x70, 0x80
	return id
}

// onEvent publishes a domain event (crm.Service.OnEvent).
func (b *Bus) onEvent(ctx context.Context, tx *ent.Client, ev crm.Event) error {
	return b.Publish(ctx, tx, Note{Event: ev.ID, Tenant: ev.TenantID, Topic: ev.Topic, Type: ev.RecordType, Record: ev.RecordID, At: ev.OccurredAt})
}

// RecordAutomationRun is the Type of an automation run's notes.
const RecordAutomationRun = "automationRun"

// PublishRun tells the subscriptions that a run of automation changed
// (automation.Config.RunChanged), when tx commits.
func (b *Bus) PublishRun(ctx context.Context, tx *ent.Client, tenant, run, automation uuid.UUID) error {
	return b.Publish(ctx, tx, Note{Event: run, Tenant: tenant, Topic: RecordAutomationRun + ".updated",
		Type: RecordAutomationRun, Record: run, Parent: automation, At: time.Now().UTC()})
}

// Publish sends note when the transaction of tx commits (tx is a client of
// a transaction of the bus's service).
func (b *Bus) Publish(ctx context.Context, tx *ent.Client, note Note) error {
	if note.Tenant == uuid.Nil {
		return nil
	}
	if !b.pg {
		b.svc.AfterCommit(tx, func() { b.dispatch(note) })
		return nil
	}
	sqlTx := b.svc.SQLTx(tx)
	if sqlTx == nil {
		return errors.New("live: event emitted outside a transaction of the bus's service")
	}
	payload, err := json.Marshal(note)
	if err != nil {
		return err
	}
	_, err = sqlTx.ExecContext(ctx, "SELECT pg_notify($1, $2)", Channel, string(payload))
	return err
}

// Subscribe queues the notes of tenant that match for the caller until
// Unsubscribe; overflow is called once if the queue fills up.
func (b *Bus) Subscribe(tenant uuid.UUID, match func(Note) bool, overflow func()) *Sub {
	s := &Sub{tenant: tenant, match: match, ch: make(chan Note, b.buffer), overflow: overflow}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs[tenant] == nil {
		b.subs[tenant] = map[*Sub]struct{}{}
	}
	b.subs[tenant][s] = struct{}{}
	return s
}

// Unsubscribe stops s's queue.
func (b *Bus) Unsubscribe(s *Sub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs[s.tenant], s)
	if len(b.subs[s.tenant]) == 0 {
		delete(b.subs, s.tenant)
	}
}

// dispatch hands note to the matching subscriptions of its tenant without
// ever blocking: a full queue drops its subscriber.
func (b *Bus) dispatch(note Note) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs[note.Tenant] {
		if s.match != nil && !s.match(note) {
			continue
		}
		select {
		case s.ch <- note:
		default:
			s.once.Do(s.overflow)
		}
	}
}
