package rest

import (
	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/crm"
)

// Task is the spec's Task (EventBase + type). The reference embeds whole
// records for connection, contact, account and tenant; here they are
// {"id"} references, as everywhere the nesting ends (DESIGN §7), and the
// assignee is a summary of the security object.
type Task struct {
	BaseRecord
	Connection *IDRef          `json:"connection"`
	Start      *Time           `json:"start"`
	End        *Time           `json:"end"`
	Title      string          `json:"title"`
	Note       string          `json:"note"`
	Assignee   *SecurityObject `json:"assignee"`
	TaskDone   bool            `json:"taskDone"`
	Notified   bool            `json:"notified"`
	Edited     *bool           `json:"edited"`
	Tenant     IDRef           `json:"tenant"`
	Contact    *IDRef          `json:"contact"`
	Account    *IDRef          `json:"account"`
	Type       *string         `json:"type"`
}

// SecurityObject summarises a task's assignee: a user or a security group.
type SecurityObject struct {
	ID          uuid.UUID `json:"id"`
	IsGroup     bool      `json:"isGroup"`
	DisplayName string    `json:"displayName"`
	IsActive    bool      `json:"isActive"`
}

// Tasks serializes tasks with their assignees (crm.Service.TaskViews).
func Tasks(views []crm.TaskView) []Task {
	out := make([]Task, 0, len(views))
	for _, v := range views {
		out = append(out, newTask(v))
	}
	return out
}

func newTask(v crm.TaskView) Task {
	t := v.Task
	out := Task{
		BaseRecord: baseRecord(audit{t.ID, t.DateCreated, t.CreatedByID, t.DateModified, t.ModifiedByID,
			t.IsDeleted, t.DateDeleted, t.DeletedByID, t.Dtype}),
		Connection: refOf(t.ConnectionID), Start: timeOf(t.Start), End: timeOf(t.End),
		Title: t.Title, Note: t.Note, TaskDone: t.TaskDone, Notified: t.Notified, Edited: t.Edited,
		Tenant: IDRef{ID: t.TenantID}, Contact: refOf(t.ContactID), Account: refOf(t.AccountID),
	}
	if t.Type != nil {
		s := string(*t.Type)
		out.Type = &s
	}
	if a := v.Assignee; a != nil {
		out.Assignee = &SecurityObject{ID: a.ID, IsGroup: a.IsGroup, DisplayName: a.DisplayName, IsActive: a.IsActive}
	}
	return out
}
