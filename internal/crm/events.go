package crm

import (
	"context"
	"reflect"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/viewer"
)

// Topics of the domain events (docs/events.md describes each payload). The
// lifecycle topics are the automation catalogue's triggers.
const (
	TopicLeadCreated       = "lead.created"
	TopicLeadUpdated       = "lead.updated"
	TopicLeadStageChanged  = "lead.stage_changed"
	TopicLeadStatusChanged = "lead.status_changed"
	TopicLeadAssigned      = "lead.assigned"
	TopicLeadDeleted       = "lead.deleted"
	TopicTaskCompleted     = "task.completed"
)

// Record types named by events (Event.RecordType); the created, updated and
// deleted topics of a record type are "<type>.created" and so on.
const (
	RecordAccount     = "account"
	RecordContact     = "contact"
	RecordLead        = "lead"
	RecordTask        = "task"
	RecordAppointment = "appointment"
	RecordFollowUp    = "followUp"
	RecordPipeline    = "pipeline"
	// Configuration records.
	RecordStage       = "stage"
	RecordCustomField = "customField"
	RecordCustomLabel = "customLabel"
	RecordAutomation  = "automation"
	RecordSavedFilter = "savedFilter"
)

// Change is one field's value before and after a write (nil when absent:
// Before of a created record, After of a deleted one).
type Change struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// Changes maps a field's API name to its change.
type Changes map[string]Change

// Set records field's change when before and after differ (pointers are
// compared by what they point to, times by instant), and reports whether
// it did.
func (c Changes) Set(field string, before, after any) bool {
	before, after = plain(before), plain(after)
	if equal(before, after) {
		return false
	}
	c[field] = Change{Before: before, After: after}
	return true
}

// plain dereferences pointers so that events carry values, not addresses.
func plain(v any) any {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil
	}
	if rv.Kind() == reflect.Slice && rv.Len() == 0 {
		return nil
	}
	return rv.Interface()
}

func equal(a, b any) bool {
	ta, okA := a.(time.Time)
	tb, okB := b.(time.Time)
	if okA && okB {
		return ta.Equal(tb)
	}
	return reflect.DeepEqual(a, b)
}

// Event is one domain event: what a write changed, written to the outbox in
// the write's transaction by Service.emit.
type Event struct {
	ID         uuid.UUID // the outbox row's id, set by emit
	Topic      string    // e.g. "lead.stage_changed"
	TenantID   uuid.UUID
	ActorID    uuid.UUID // the user who wrote; zero for system work without a user
	RecordType string    // one of the Record* constants
	RecordID   uuid.UUID
	Changes    Changes        // field → before/after; every field set on create
	Data       map[string]any // topic-specific context (e.g. copiedFrom)
	// CausationID is the automation run whose action made this write (see
	// WithCause); nil for a user's own write. The automation engine uses it
	// to stop loops.
	CausationID *uuid.UUID
	OccurredAt  time.Time
}

// Payload is the event as stored in the outbox row's payload column.
func (e Event) Payload() map[string]any {
	changes := map[string]any{}
	for f, c := range e.Changes {
		changes[f] = map[string]any{"before": c.Before, "after": c.After}
	}
	p := map[string]any{
		"topic":       e.Topic,
		"tenantId":    e.TenantID.String(),
		"actorId":     nil,
		"recordType":  e.RecordType,
		"recordId":    e.RecordID.String(),
		"changes":     changes,
		"causationId": nil,
		"occurredAt":  e.OccurredAt.UTC().Format(time.RFC3339Nano),
	}
	if e.ActorID != uuid.Nil {
		p["actorId"] = e.ActorID.String()
	}
	if e.CausationID != nil {
		p["causationId"] = e.CausationID.String()
	}
	if len(e.Data) > 0 {
		p["data"] = e.Data
	}
	return p
}

// EventHook runs for every emitted event inside the write's transaction
// (tx is the client bound to it), after the outbox row is written. An error
// rolls the whole write back. The automation engine registers one to
// enqueue its runs atomically with the write.
type EventHook func(ctx context.Context, tx *ent.Client, ev Event) error

// OnEvent registers h to run for every emitted event. Call it while wiring,
// before the Service serves requests: the hook list is not synchronised.
func (s *Service) OnEvent(h EventHook) { s.hooks = append(s.hooks, h) }

type causeKey struct{}

// WithCause returns a context whose writes carry runID as their events'
// causation id: the automation engine wraps an action's context with it.
func WithCause(ctx context.Context, runID uuid.UUID) context.Context {
	return context.WithValue(ctx, causeKey{}, runID)
}

// CauseFrom returns the causation id WithCause put in ctx.
func CauseFrom(ctx context.Context) (uuid.UUID, bool) {
	id, ok := ctx.Value(causeKey{}).(uuid.UUID)
	return id, ok
}

// emit is the one way a write publishes what it did: it completes ev
// (tenant, actor, causation, time), writes its outbox row and runs the
// registered hooks, all in the transaction of tx, so a write that rolls
// back leaves no event and an event never describes an uncommitted write.
// An update that changed nothing should not call it.
func (s *Service) emit(ctx context.Context, tx *ent.Client, ev Event) error {
	if v := viewer.FromContext(ctx); v != nil {
		ev.TenantID, ev.ActorID = v.TenantID, v.UserID
	}
	if id, ok := CauseFrom(ctx); ok {
		ev.CausationID = &id
	}
	if ev.Changes == nil {
		ev.Changes = Changes{}
	}
	ev.OccurredAt = time.Now().UTC()
	row, err := tx.OutboxEvent.Create().SetTopic(ev.Topic).SetSubjectID(ev.RecordID).
		SetPayload(ev.Payload()).Save(ctx)
	if err != nil {
		return err
	}
	ev.ID = row.ID
	// Hooks are the write's own consequences (the outbox row, automations),
	// not the viewer reading: their reads are unchecked, still tenant-scoped.
	hctx := registry.Unchecked(ctx)
	for _, h := range s.hooks {
		if err := h(hctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}
