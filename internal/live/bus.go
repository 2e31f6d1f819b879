// Package live fans the domain events out to the GraphQL subscriptions of
// every gateway instance. A notification carries ids only; each subscriber
// reads the record itself, through the normal read path, as its viewer.
//
// On PostgreSQL the event hook sends pg_notify in the write's transaction
// (PostgreSQL delivers it only if the transaction commits) and every
// instance LISTENs (lib/pq's Listener, which reconnects by itself). On
// SQLite, which serves one process, the hook hands the note to the
// instance's own subscribers once the transaction has committed
// (crm.Service.AfterCommit). docs/subscriptions.md describes the design.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
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

// Bus is one instance's fan-out.
type Bus struct {
	svc    *crm.Service
	pg     bool
	url    string
	log    *slog.Logger
	buffer int

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
	b := &Bus{svc: svc, pg: store.IsPostgres(url), url: url, log: log, buffer: max(buffer, 1),
		subs: map[uuid.UUID]map[*Sub]struct{}{}, done: make(chan struct{})}
	svc.OnEvent(b.onEvent)
	return b
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
		if n == nil { // reconnected: notes sent meanwhile are lost
			b.log.Warn("live: listener reconnected; changes during the gap were not pushed")
			continue
		}
		var note Note
		if err := json.Unmarshal([]byte(n.Extra), &note); err != nil {
			b.log.Error("live: bad notification", "payload", n.Extra, "err", err)
			continue
		}
		b.dispatch(note)
	}
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
