package rest

import (
	"context"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/appointment"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/followup"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/pipeline"
	"github.com/conecrm/gateway/ent/pipelinestage"
	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/internal/crm"
)

// RecordShape returns the record a domain event is about in the shape its
// REST resource answers, read through db (a webhook renders it in the
// write's transaction: automation.Config.Records): leads, accounts,
// contacts and tasks as their routes answer them, appointments and
// follow-ups as the filter route does (the spec's Appointment and
// FollowUp), pipelines as Pipeline. Other types answer nil; so does a
// record db cannot see.
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
	case crm.RecordAppointment:
		var rows []*ent.Appointment
		if rows, err = db.Appointment.Query().Where(appointment.ID(id)).All(ctx); err == nil && len(rows) == 1 {
			out = appointments(rows)[0]
		}
	case crm.RecordFollowUp:
		var rows []*ent.FollowUp
		if rows, err = db.FollowUp.Query().Where(followup.ID(id)).All(ctx); err == nil && len(rows) == 1 {
			out = followUps(rows)[0]
		}
	case crm.RecordPipeline:
		var rows []*ent.Pipeline
		rows, err = db.Pipeline.Query().Where(pipeline.ID(id)).WithPipelineStages(func(q *ent.PipelineStageQuery) {
			// Placements taken off are soft-deleted: only the live ones
			// (none once the pipeline itself is deleted, which takes them along).
			q.Where(pipelinestage.IsDeleted(false)).WithStage().Order(pipelinestage.ByPosition(), pipelinestage.ByID())
		}).All(ctx)
		if err == nil && len(rows) == 1 {
			out = newPipeline(rows[0])
		}
	}
	return out, err
}

// Pipeline is a pipeline as webhooks deliver it (it has no REST route):
// the record's audit fields, its name and its stages in board order, each
// as GET /api/stage answers it (none when deleted).
type Pipeline struct {
	BaseRecord
	Name   string  `json:"name"`
	Tenant IDRef   `json:"tenant"`
	Stages []Stage `json:"stages"`
}

// newPipeline expects p's placements loaded with their stages, in order.
func newPipeline(p *ent.Pipeline) Pipeline {
	out := Pipeline{
		BaseRecord: baseRecord(audit{p.ID, p.DateCreated, p.CreatedByID, p.DateModified, p.ModifiedByID,
			p.IsDeleted, p.DateDeleted, p.DeletedByID, p.Dtype}),
		Name: p.Name, Tenant: IDRef{ID: p.TenantID}, Stages: []Stage{},
	}
	for _, ps := range p.Edges.PipelineStages {
		if st := ps.Edges.Stage; st != nil { // nil: the stage was deleted meanwhile
			out.Stages = append(out.Stages, stageOf(st))
		}
	}
	return out
}
