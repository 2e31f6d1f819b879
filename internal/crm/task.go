package crm

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/fault"
	qb "github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/viewer"
)

// Filtered by the query builder (filter.go).
var _ = filterable("task",
	eventFilterFields(qb.Enum("type", task.FieldType, true, "CALL", "MEETING", "OTHER", "SMS", "FOLLOW_UP", "REMINDER", "LINKEDIN_MESSAGE", "DM")),
	finder[*ent.Task](func(c *ent.Client) *ent.TaskQuery { return c.Task.Query() }))

// eventFilterFields are the query-builder fields of the EventBase of
// tasks, appointments and follow-ups (their tables share the column
// names), then extra.
func eventFilterFields(extra ...qb.Field) []qb.Field {
	fs := []qb.Field{
		qb.Str("title", task.FieldTitle), qb.Str("note", task.FieldNote),
		qb.OptInstant("start", task.FieldStart), qb.OptInstant("end", task.FieldEnd),
		qb.Flag("taskDone", task.FieldTaskDone), qb.Flag("notified", task.FieldNotified), qb.OptFlag("edited", task.FieldEdited),
	}
	fs = append(fs, extra...)
	fs = append(fs, recordFields()...)
	return append(fs,
		// The assignee is a security object: a user (by email) or a group (by name).
		qb.Ref("assignee", task.FieldAssigneeID, userTarget, groupTarget),
		qb.Ref("connection", task.FieldConnectionID, leadTarget),
		qb.ToOne("connection.subject", qb.TypeString, task.FieldConnectionID, leadTarget),
		qb.Ref("contact", task.FieldContactID, contactTarget),
		qb.ToOne("contact.lastName", qb.TypeString, task.FieldContactID, qb.Target{Table: contact.Table, Column: contact.FieldLastName}),
		qb.Ref("account", task.FieldAccountID, accountTarget),
		qb.ToOne("account.name", qb.TypeString, task.FieldAccountID, accountTarget),
	)
}

// Opt is an optional input that can also be cleared: Set says whether the
// client sent the field at all, a nil Value with Set clears it.
type Opt[T any] struct {
	Set   bool
	Value *T
}

// Messages of the task routes, in the reference's wording; the REST layer
// prefixes each with its field ("title This value should not be blank.").
const (
	msgTaskChoice   = "The value you selected is not a valid choice."
	msgTaskAssignee = "This value should be a user or a security group of the tenant."
	msgTaskEnd      = "The end date must not be before the start date."
	msgTaskRef      = "This value is not valid: no such record."
)

// TaskInput is the spec's TaskRequest. On an update, fields the client did
// not send are left unchanged. TaskDone is not in the reference's
// TaskRequest; without it a client could never complete a task.
type TaskInput struct {
	Title        *string
	AssigneeID   *uuid.UUID
	Type         Opt[string]
	Start, End   Opt[time.Time]
	Note         Opt[string]
	ContactID    Opt[uuid.UUID]
	AccountID    Opt[uuid.UUID]
	ConnectionID Opt[uuid.UUID]
	TaskDone     *bool
	// CustomFieldValues replaces the value of each given task custom field
	// (an empty value removes it).
	CustomFieldValues []CustomFieldValueInput
}

// TaskView is a task with its assignee resolved, ready to serialize.
type TaskView struct {
	*ent.Task
	Assignee *Assignee // nil when the assignee no longer exists
}

// Assignee is a task's security object: a user or a security group.
type Assignee struct {
	ID          uuid.UUID
	IsGroup     bool
	DisplayName string
	IsActive    bool
}

// CreateTask creates a task after checking in (title and assignee
// required; assignee a user or group of the tenant; type from the enum; end
// not before start; contact, account and connection of the tenant).
func (s *Service) CreateTask(ctx context.Context, in TaskInput) (*TaskView, error) {
	if err := Require(ctx, PermTaskWrite); err != nil {
		return nil, err
	}
	var v fault.Validation
	if in.Title == nil {
		v.Add("title", msgBlank)
	}
	if in.AssigneeID == nil {
		v.Add("assignee", msgBlank)
	}
	var out *ent.Task
	err := s.inTx(ctx, func(tx *ent.Client) error {
		if err := in.check(ctx, tx, &v, nil); err != nil {
			return err
		}
		create := tx.Task.Create()
		in.apply(create.Mutation())
		t, err := create.Save(ctx)
		if err != nil {
			return err
		}
		if err := replaceCustomValues(ctx, tx, "task", t.ID, in.CustomFieldValues); err != nil {
			return err
		}
		after, state, err := taskState(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		out = after
		if err := s.emit(ctx, tx, Event{Topic: "task.created", RecordType: RecordTask, RecordID: t.ID, Changes: diff(nil, state)}); err != nil {
			return err
		}
		if t.TaskDone {
			return s.emit(ctx, tx, Event{Topic: TopicTaskCompleted, RecordType: RecordTask, RecordID: t.ID,
				Changes: Changes{"taskDone": {Before: nil, After: true}}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.taskViewOf(ctx, out.Unwrap())
}

// UpdateTask applies in to task id. A USER may only update tasks assigned
// to them (or to one of their groups) or created by them; MANAGER and ADMIN
// any task of the tenant.
func (s *Service) UpdateTask(ctx context.Context, id uuid.UUID, in TaskInput) (*TaskView, error) {
	if err := Require(ctx, PermTaskWrite); err != nil {
		return nil, err
	}
	var out *ent.Task
	err := s.inTx(ctx, func(tx *ent.Client) error {
		t, err := ownTask(ctx, tx, id)
		if err != nil {
			return err
		}
		var v fault.Validation
		if err := in.check(ctx, tx, &v, &span{t.Start, t.End}); err != nil {
			return err
		}
		_, before, err := taskState(ctx, tx, id)
		if err != nil {
			return err
		}
		update := tx.Task.UpdateOneID(id).SetEdited(true)
		in.apply(update.Mutation())
		if err := update.Exec(ctx); err != nil {
			return err
		}
		if err := replaceCustomValues(ctx, tx, "task", id, in.CustomFieldValues); err != nil {
			return err
		}
		after, state, err := taskState(ctx, tx, id)
		if err != nil {
			return err
		}
		out = after
		if err := s.emitUpdated(ctx, tx, RecordTask, id, before, state); err != nil {
			return err
		}
		if !t.TaskDone && after.TaskDone {
			return s.emit(ctx, tx, Event{Topic: TopicTaskCompleted, RecordType: RecordTask, RecordID: id,
				Changes: Changes{"taskDone": {Before: false, After: true}}})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.taskViewOf(ctx, out.Unwrap())
}

// DeleteTask soft-deletes task id under the record rule of UpdateTask.
func (s *Service) DeleteTask(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermTaskDelete); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		if _, err := ownTask(ctx, tx, id); err != nil {
			return err
		}
		if err := tx.Task.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, Event{Topic: "task.deleted", RecordType: RecordTask, RecordID: id})
	})
}

// ownTask loads task id and applies the record rule: NotFound when it is
// not the tenant's, Forbidden when a USER is neither its assignee (nor in
// its group) nor its creator.
func ownTask(ctx context.Context, tx *ent.Client, id uuid.UUID) (*ent.Task, error) {
	t, err := tx.Task.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return t, recordRule(ctx, t.AssigneeID, t.CreatedByID)
}

// recordRule is the USER record rule of tasks, appointments and follow-ups:
// a USER may change one assigned to them (or to one of their groups) or
// created by them; MANAGER and ADMIN any of the tenant. Forbidden otherwise.
func recordRule(ctx context.Context, assignee uuid.UUID, createdBy *uuid.UUID) error {
	v := viewer.FromContext(ctx)
	if v.Type == viewer.TypeManager || v.Type == viewer.TypeAdmin {
		return nil
	}
	if v.IsMember(assignee) || (createdBy != nil && *createdBy == v.UserID) {
		return nil
	}
	return &fault.Error{Code: fault.Forbidden, Message: "Access denied"}
}

// span is the start and end of the task, appointment or follow-up being
// updated.
type span struct{ Start, End *time.Time }

// check validates in into v against the tenant's records; current is the
// span of the record being updated (nil on create), whose values stand in
// for the dates in leaves unchanged.
func (in TaskInput) check(ctx context.Context, tx *ent.Client, v *fault.Validation, current *span) error {
	if in.Title != nil && blank(*in.Title) {
		v.Add("title", msgBlank)
	}
	checkText(v, "title", in.Title)
	if in.Type.Set && in.Type.Value != nil && *in.Type.Value != "" {
		if task.TypeValidator(task.Type(*in.Type.Value)) != nil {
			v.Add("type", msgTaskChoice)
		}
	}
	start, end := in.Start.Value, in.End.Value
	if current != nil {
		if !in.Start.Set {
			start = current.Start
		}
		if !in.End.Set {
			end = current.End
		}
	}
	if start != nil && end != nil && end.Before(*start) {
		v.Add("end", msgTaskEnd)
	}
	if in.AssigneeID != nil {
		ok, err := isSecurityObject(ctx, tx, *in.AssigneeID)
		if err != nil {
			return err
		}
		if !ok {
			v.Add("assignee", msgTaskAssignee)
		}
	}
	exists := map[string]func(context.Context) (bool, error){}
	if id := in.ContactID.Value; id != nil {
		exists["contact"] = tx.Contact.Query().Where(contact.ID(*id)).Exist
	}
	if id := in.AccountID.Value; id != nil {
		exists["account"] = tx.Account.Query().Where(account.ID(*id)).Exist
	}
	if id := in.ConnectionID.Value; id != nil {
		exists["connection"] = tx.Lead.Query().Where(lead.ID(*id)).Exist
	}
	for name, exist := range exists {
		ok, err := exist(ctx)
		if err != nil {
			return err
		}
		if !ok {
			v.Add(name, msgTaskRef)
		}
	}
	return v.Err()
}

// isSecurityObject reports whether id names a live, active user or a live
// security group of the tenant; the id's type code says which table.
func isSecurityObject(ctx context.Context, tx *ent.Client, id uuid.UUID) (bool, error) {
	switch registry.TableOf(id) {
	case user.Table:
		return tx.User.Query().Where(user.ID(id), user.IsActive(true)).Exist(ctx)
	case securitygroup.Table:
		return tx.SecurityGroup.Query().Where(securitygroup.ID(id)).Exist(ctx)
	}
	return false, nil
}

// apply writes the fields the client sent into m.
func (in TaskInput) apply(m *ent.TaskMutation) {
	in.applyBase(m)
	if in.Type.Set {
		if in.Type.Value == nil || *in.Type.Value == "" {
			m.ClearType()
		} else {
			m.SetType(task.Type(*in.Type.Value))
		}
	}
}

// eventMutation is the EventBase setters shared by the task, appointment
// and follow-up mutations.
type eventMutation interface {
	SetTitle(string)
	SetAssigneeID(uuid.UUID)
	SetTaskDone(bool)
	SetNote(string)
	SetStart(time.Time)
	ClearStart()
	SetEnd(time.Time)
	ClearEnd()
	SetContactID(uuid.UUID)
	ClearContactID()
	SetAccountID(uuid.UUID)
	ClearAccountID()
	SetConnectionID(uuid.UUID)
	ClearConnectionID()
}

// applyBase writes the EventBase fields the client sent into m.
func (in TaskInput) applyBase(m eventMutation) {
	if in.Title != nil {
		m.SetTitle(trim(*in.Title))
	}
	if in.AssigneeID != nil {
		m.SetAssigneeID(*in.AssigneeID)
	}
	if in.TaskDone != nil {
		m.SetTaskDone(*in.TaskDone)
	}
	if in.Note.Set {
		m.SetNote(trimOr(in.Note.Value, ""))
	}
	setOpt(in.Start, m.SetStart, m.ClearStart)
	setOpt(in.End, m.SetEnd, m.ClearEnd)
	setOpt(in.ContactID, m.SetContactID, m.ClearContactID)
	setOpt(in.AccountID, m.SetAccountID, m.ClearAccountID)
	setOpt(in.ConnectionID, m.SetConnectionID, m.ClearConnectionID)
}

func setOpt[T any](o Opt[T], set func(T), clear func()) {
	switch {
	case !o.Set:
	case o.Value == nil:
		clear()
	default:
		set(*o.Value)
	}
}

// taskState reads task id in the transaction with its event snapshot.
func taskState(ctx context.Context, tx *ent.Client, id uuid.UUID) (*ent.Task, map[string]any, error) {
	t, err := tx.Task.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	snap := map[string]any{
		"title": t.Title, "assignee": t.AssigneeID, "type": t.Type, "start": t.Start, "end": t.End,
		"note": t.Note, "contact": t.ContactID, "account": t.AccountID, "connection": t.ConnectionID,
		"taskDone": t.TaskDone,
	}
	if err := addCustomValues(ctx, tx, id, snap); err != nil {
		return nil, nil, err
	}
	return t, snap, nil
}

// taskViewOf resolves the assignee of t (read by the write's transaction).
func (s *Service) taskViewOf(ctx context.Context, t *ent.Task) (*TaskView, error) {
	views, err := s.TaskViews(ctx, []*ent.Task{t})
	if err != nil {
		return nil, err
	}
	return &views[0], nil
}

// TaskViews resolves the assignees of tasks in two statements (users and
// security groups), whatever the number of tasks.
func (s *Service) TaskViews(ctx context.Context, tasks []*ent.Task) ([]TaskView, error) {
	var users, groups []uuid.UUID
	for _, t := range tasks {
		switch registry.TableOf(t.AssigneeID) {
		case user.Table:
			users = append(users, t.AssigneeID)
		case securitygroup.Table:
			groups = append(groups, t.AssigneeID)
		}
	}
	byID := map[uuid.UUID]*Assignee{}
	if len(users) > 0 {
		rows, err := s.db.User.Query().Where(user.IDIn(unique(users)...)).
			Select(user.FieldID, user.FieldDisplayName, user.FieldIsActive).All(ctx)
		if err != nil {
			return nil, AsError(err)
		}
		for _, u := range rows {
			byID[u.ID] = &Assignee{ID: u.ID, DisplayName: u.DisplayName, IsActive: u.IsActive}
		}
	}
	if len(groups) > 0 {
		rows, err := s.db.SecurityGroup.Query().Where(securitygroup.IDIn(unique(groups)...)).
			Select(securitygroup.FieldID, securitygroup.FieldDisplayName, securitygroup.FieldName, securitygroup.FieldIsActive).All(ctx)
		if err != nil {
			return nil, AsError(err)
		}
		for _, g := range rows {
			name := g.DisplayName
			if name == "" {
				name = g.Name
			}
			byID[g.ID] = &Assignee{ID: g.ID, IsGroup: true, DisplayName: name, IsActive: g.IsActive}
		}
	}
	views := make([]TaskView, len(tasks))
	for i, t := range tasks {
		views[i] = TaskView{Task: t, Assignee: byID[t.AssigneeID]}
	}
	return views, nil
}
