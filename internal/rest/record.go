package rest

import (
	"context"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/internal/crm"
)

// RecordShape returns the record a domain event is about in the shape its
// REST resource answers, read through db (a webhook renders it in the
// write's transaction: automation.Config.Records). Types without a REST
// resource answer nil; so does a record db cannot see.
func RecordShape(ctx context.Context, db *ent.Client, recordType string, id uuid.UUID) (any, error) {
	var (
		out any
		err error
	)
	switch recordType {
	case crm.RecordLead:
		var rows []*ent.Lead
		if rows, err = crm.WithLeadGraph(db.Lead.Query().Where(lead.ID(id))).All(ctx); err == nil && len(rows) == 1 {
			out = Leads(rows)[0]
		}
	case crm.RecordAccount:
		var rows []*ent.Account
		if rows, err = crm.WithAccountGraph(db.Account.Query().Where(account.ID(id))).All(ctx); err == nil && len(rows) == 1 {
			out = Accounts(rows)[0]
		}
	case crm.RecordContact:
		var rows []*ent.Contact
		if rows, err = crm.WithContactGraph(db.Contact.Query().Where(contact.ID(id))).All(ctx); err == nil && len(rows) == 1 {
			out = Contacts(rows)[0]
		}
	case crm.RecordTask:
		var rows []*ent.Task
		if rows, err = db.Task.Query().Where(task.ID(id)).All(ctx); err == nil && len(rows) == 1 {
			var views []crm.TaskView
			if views, err = crm.NewService(db).TaskViews(ctx, rows); err == nil {
				out = newTask(views[0])
			}
		}
	}
	return out, err
}
