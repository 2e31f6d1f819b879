package crm

import (
	"context"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/fault"
	qb "github.com/conecrm/gateway/internal/querybuilder"
)

// Filtered by the query builder (filter.go), with the fields of every
// event (eventFilterFields) and their own.
var (
	_ = filterable("appointment",
		eventFilterFields(qb.Str("type", "type"), qb.Flag("noShow", "no_show"), qb.Flag("customerConfirmed", "customer_confirmed"),
			qb.Flag("canceled", "canceled"), qb.OptStr("url", "url")),
		finder[*ent.Appointment](func(c *ent.Client) *ent.AppointmentQuery { return c.Appointment.Query() }))
	_ = filterable("followup", eventFilterFields(qb.Flag("fromAutomation", "from_automation")),
		finder[*ent.FollowUp](func(c *ent.Client) *ent.FollowUpQuery { return c.FollowUp.Query() }))
)

// EventInput is the spec's EventBase fields of an appointment or follow-up
// write. They are checked and applied as a task's (TaskInput): title and
// assignee required on create, the assignee a user or group of the tenant,
// end not before start, contact/account/connection of the tenant. On an
// update, fields the client did not send are left unchanged.
type EventInput struct {
	Title        *string
	AssigneeID   *uuid.UUID
	Start, End   Opt[time.Time]
	Note         Opt[string]
	ContactID    Opt[uuid.UUID]
	AccountID    Opt[uuid.UUID]
	ConnectionID Opt[uuid.UUID]
	TaskDone     *bool
	// CustomFieldValues replaces the value of each given custom field of
	// the record's entity (appointment, followup); an empty value removes it.
	CustomFieldValues []CustomFieldValueInput
}

// task is in as the task input whose checks and setters it shares.
func (in EventInput) task() TaskInput {
	return TaskInput{
		Title: in.Title, AssigneeID: in.AssigneeID, Start: in.Start, End: in.End, Note: in.Note,
		ContactID: in.ContactID, AccountID: in.AccountID, ConnectionID: in.ConnectionID, TaskDone: in.TaskDone,
	}
}

// AppointmentInput is an appointment create or update: the EventBase
// fields and the spec's Appointment fields.
type AppointmentInput struct {
	EventInput
	Type                      Opt[string] // free text; null or "" clears it
	NoShow, CustomerConfirmed *bool
	Canceled                  *bool
	URL                       Opt[string] // an absolute http(s) URL; null or "" clears it
}

// eventHead is what the shared write path needs of an appointment or a
// follow-up: the record rule's fields, the dates and the done flag.
type eventHead struct {
	AssigneeID  uuid.UUID
	CreatedByID *uuid.UUID
	Start, End  *time.Time
	TaskDone    bool
}

// eventKind binds the shared write path to one record type.
type eventKind[T any] struct {
	record string // RecordAppointment or RecordFollowUp, the topics' prefix
	entity string // the custom field entity
	// read reads record id in tx: the answer, its head and its event
	// snapshot (custom values included).
	read func(ctx context.Context, tx *ent.Client, id uuid.UUID) (T, eventHead, map[string]any, error)
}

var appointmentKind = eventKind[*ent.Appointment]{
	record: RecordAppointment, entity: "appointment",
	read: func(ctx context.Context, tx *ent.Client, id uuid.UUID) (*ent.Appointment, eventHead, map[string]any, error) {
		a, err := tx.Appointment.Get(ctx, id)
		if err != nil {
			return nil, eventHead{}, nil, err
		}
		snap := eventSnapshot(a.Title, a.AssigneeID, a.Start, a.End, a.Note, a.ContactID, a.AccountID, a.ConnectionID, a.TaskDone)
		snap["type"], snap["noShow"], snap["customerConfirmed"] = a.Type, a.NoShow, a.CustomerConfirmed
		snap["canceled"], snap["url"] = a.Canceled, a.URL
		if err := addCustomValues(ctx, tx, id, snap); err != nil {
			return nil, eventHead{}, nil, err
		}
		return a, eventHead{a.AssigneeID, a.CreatedByID, a.Start, a.End, a.TaskDone}, snap, nil
	},
}

var followUpKind = eventKind[*ent.FollowUp]{
	record: RecordFollowUp, entity: "followup",
	read: func(ctx context.Context, tx *ent.Client, id uuid.UUID) (*ent.FollowUp, eventHead, map[string]any, error) {
		f, err := tx.FollowUp.Get(ctx, id)
		if err != nil {
			return nil, eventHead{}, nil, err
		}
		snap := eventSnapshot(f.Title, f.AssigneeID, f.Start, f.End, f.Note, f.ContactID, f.AccountID, f.ConnectionID, f.TaskDone)
		snap["fromAutomation"] = f.FromAutomation
		if err := addCustomValues(ctx, tx, id, snap); err != nil {
			return nil, eventHead{}, nil, err
		}
		return f, eventHead{f.AssigneeID, f.CreatedByID, f.Start, f.End, f.TaskDone}, snap, nil
	},
}

// eventSnapshot is the EventBase fields as events report them.
func eventSnapshot(title string, assignee uuid.UUID, start, end *time.Time, note string,
	contact, account, connection *uuid.UUID, done bool) map[string]any {
	return map[string]any{
		"title": title, "assignee": assignee, "start": start, "end": end, "note": note,
		"contact": contact, "account": account, "connection": connection, "taskDone": done,
	}
}

// writeEvent is the one write path of appointments and follow-ups. In one
// transaction it applies the record rule (update), checks in (v may hold
// the record type's own errors already), saves (save gets the current
// record's id, nil on create, and returns the written id), writes the
// custom values and emits "<record>.created" or ".updated", plus
// ".completed" when taskDone turned true. It answers the record as read
// inside the transaction.
func writeEvent[T interface {
	*ent.Appointment | *ent.FollowUp
}](ctx context.Context, s *Service, k eventKind[T],
	id *uuid.UUID, in EventInput, v fault.Validation, save func(tx *ent.Client) (uuid.UUID, error)) (T, error) {
	var zero, out T
	if err := Require(ctx, PermEventWrite); err != nil {
		return zero, err
	}
	if id == nil {
		if in.Title == nil {
			v.Add("title", msgBlank)
		}
		if in.AssigneeID == nil {
			v.Add("assignee", msgBlank)
		}
	}
	err := s.inTx(ctx, func(tx *ent.Client) error {
		var before map[string]any
		var cur *span
		done := false
		if id != nil {
			_, head, snap, err := k.read(ctx, tx, *id)
			if err != nil {
				return err
			}
			if err := recordRule(ctx, head.AssigneeID, head.CreatedByID); err != nil {
				return err
			}
			before, cur, done = snap, &span{head.Start, head.End}, head.TaskDone
		}
		if err := in.task().check(ctx, tx, &v, cur); err != nil {
			return err
		}
		rid, err := save(tx)
		if err != nil {
			return err
		}
		if err := replaceCustomValues(ctx, tx, k.entity, rid, in.CustomFieldValues); err != nil {
			return err
		}
		answer, head, after, err := k.read(ctx, tx, rid)
		if err != nil {
			return err
		}
		out = answer
		if id == nil {
			err = s.emit(ctx, tx, Event{Topic: k.record + ".created", RecordType: k.record, RecordID: rid, Changes: diff(nil, after)})
		} else {
			err = s.emitUpdated(ctx, tx, k.record, rid, before, after)
		}
		if err != nil {
			return err
		}
		if !done && head.TaskDone {
			return s.emit(ctx, tx, Event{Topic: k.record + ".completed", RecordType: k.record, RecordID: rid,
				Changes: Changes{"taskDone": {Before: done, After: true}}})
		}
		return nil
	})
	return out, err
}

// deleteEvent soft-deletes record id under the record rule and emits
// "<record>.deleted", in one transaction.
func deleteEvent[T any](ctx context.Context, s *Service, k eventKind[T], id uuid.UUID, del func(tx *ent.Client) error) error {
	if err := Require(ctx, PermEventDelete); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		_, head, _, err := k.read(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := recordRule(ctx, head.AssigneeID, head.CreatedByID); err != nil {
			return err
		}
		if err := del(tx); err != nil {
			return err
		}
		return s.emit(ctx, tx, Event{Topic: k.record + ".deleted", RecordType: k.record, RecordID: id})
	})
}

// check adds the errors of the appointment's own fields to v.
func (in AppointmentInput) check(v *fault.Validation) {
	checkText(v, "type", in.Type.Value)
	checkText(v, "url", in.URL.Value)
	if u := in.URL.Value; u != nil && *u != "" && !v.Has("url") {
		p, err := url.Parse(*u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			v.Add("url", "This value is not a valid URL.")
		}
	}
}

// apply writes the appointment's fields the client sent into m.
func (in AppointmentInput) apply(m *ent.AppointmentMutation) {
	in.task().applyBase(m)
	if in.Type.Set {
		m.SetType(trimOr(in.Type.Value, ""))
	}
	if in.NoShow != nil {
		m.SetNoShow(*in.NoShow)
	}
	if in.CustomerConfirmed != nil {
		m.SetCustomerConfirmed(*in.CustomerConfirmed)
	}
	if in.Canceled != nil {
		m.SetCanceled(*in.Canceled)
	}
	if in.URL.Set {
		if in.URL.Value == nil || *in.URL.Value == "" {
			m.ClearURL()
		} else {
			m.SetURL(trim(*in.URL.Value))
		}
	}
}

// CreateAppointment creates an appointment (event.write); emits
// appointment.created (and appointment.completed when created done).
func (s *Service) CreateAppointment(ctx context.Context, in AppointmentInput) (*ent.Appointment, error) {
	var v fault.Validation
	in.check(&v)
	a, err := writeEvent(ctx, s, appointmentKind, nil, in.EventInput, v, func(tx *ent.Client) (uuid.UUID, error) {
		c := tx.Appointment.Create()
		in.apply(c.Mutation())
		a, err := c.Save(ctx)
		if err != nil {
			return uuid.Nil, err
		}
		return a.ID, nil
	})
	if err != nil {
		return nil, err
	}
	return a.Unwrap(), nil
}

// UpdateAppointment changes appointment id (event.write) under the task
// record rule: a USER only one assigned to them (or their group) or created
// by them. Emits appointment.updated, and appointment.completed when
// taskDone turns true.
func (s *Service) UpdateAppointment(ctx context.Context, id uuid.UUID, in AppointmentInput) (*ent.Appointment, error) {
	var v fault.Validation
	in.check(&v)
	a, err := writeEvent(ctx, s, appointmentKind, &id, in.EventInput, v, func(tx *ent.Client) (uuid.UUID, error) {
		u := tx.Appointment.UpdateOneID(id).SetEdited(true)
		in.apply(u.Mutation())
		return id, u.Exec(ctx)
	})
	if err != nil {
		return nil, err
	}
	return a.Unwrap(), nil
}

// CompleteAppointment marks appointment id done, as UpdateAppointment
// with taskDone true.
func (s *Service) CompleteAppointment(ctx context.Context, id uuid.UUID) (*ent.Appointment, error) {
	return s.UpdateAppointment(ctx, id, AppointmentInput{EventInput: EventInput{TaskDone: new(true)}})
}

// DeleteAppointment soft-deletes appointment id (event.delete) under the
// record rule of UpdateAppointment; emits appointment.deleted.
func (s *Service) DeleteAppointment(ctx context.Context, id uuid.UUID) error {
	return deleteEvent(ctx, s, appointmentKind, id, func(tx *ent.Client) error {
		return tx.Appointment.DeleteOneID(id).Exec(ctx)
	})
}

// CreateFollowUp creates a follow-up (event.write); emits followUp.created
// (and followUp.completed when created done). One created by an
// automation's action (a context with a cause, see WithCause) is marked
// fromAutomation.
func (s *Service) CreateFollowUp(ctx context.Context, in EventInput) (*ent.FollowUp, error) {
	f, err := writeEvent(ctx, s, followUpKind, nil, in, fault.Validation{}, func(tx *ent.Client) (uuid.UUID, error) {
		c := tx.FollowUp.Create()
		in.task().applyBase(c.Mutation())
		if _, caused := CauseFrom(ctx); caused {
			c.SetFromAutomation(true)
		}
		f, err := c.Save(ctx)
		if err != nil {
			return uuid.Nil, err
		}
		return f.ID, nil
	})
	if err != nil {
		return nil, err
	}
	return f.Unwrap(), nil
}

// UpdateFollowUp changes follow-up id (event.write) under the task record
// rule; emits followUp.updated, and followUp.completed when taskDone turns
// true.
func (s *Service) UpdateFollowUp(ctx context.Context, id uuid.UUID, in EventInput) (*ent.FollowUp, error) {
	f, err := writeEvent(ctx, s, followUpKind, &id, in, fault.Validation{}, func(tx *ent.Client) (uuid.UUID, error) {
		u := tx.FollowUp.UpdateOneID(id).SetEdited(true)
		in.task().applyBase(u.Mutation())
		return id, u.Exec(ctx)
	})
	if err != nil {
		return nil, err
	}
	return f.Unwrap(), nil
}

// CompleteFollowUp marks follow-up id done, as UpdateFollowUp with
// taskDone true.
func (s *Service) CompleteFollowUp(ctx context.Context, id uuid.UUID) (*ent.FollowUp, error) {
	return s.UpdateFollowUp(ctx, id, EventInput{TaskDone: new(true)})
}

// DeleteFollowUp soft-deletes follow-up id (event.delete) under the record
// rule; emits followUp.deleted.
func (s *Service) DeleteFollowUp(ctx context.Context, id uuid.UUID) error {
	return deleteEvent(ctx, s, followUpKind, id, func(tx *ent.Client) error {
		return tx.FollowUp.DeleteOneID(id).Exec(ctx)
	})
}
