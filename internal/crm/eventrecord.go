package crm

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
)

// EventRecord reads the record a domain event is about, loaded with what
// its REST resource embeds, for a webhook delivery (rendered in the
// write's transaction: call it on a Service over that transaction's
// client). It answers *ent.Lead, *ent.Account, *ent.Contact (with their
// REST graphs), TaskView, *ent.Appointment, *ent.FollowUp, or *ent.Pipeline
// with its live placements and their stages in board order; nil for other
// types and for a record ctx cannot see.
func (s *Service) EventRecord(ctx context.Context, recordType string, id uuid.UUID) (any, error) {
	var (
		out any
		err error
	)
	switch recordType {
	case RecordLead:
		var rows []*ent.Lead
		if rows, err = WithLeadGraph(s.db.Lead.Query().Where(lead.ID(id))).All(ctx); err == nil && len(rows) == 1 {
			out = rows[0]
		}
	case RecordAccount:
		var rows []*ent.Account
		if rows, err = WithAccountGraph(s.db.Account.Query().Where(account.ID(id))).All(ctx); err == nil && len(rows) == 1 {
			out = rows[0]
		}
	case RecordContact:
		var rows []*ent.Contact
		if rows, err = WithContactGraph(s.db.Contact.Query().Where(contact.ID(id))).All(ctx); err == nil && len(rows) == 1 {
			out = rows[0]
		}
	case RecordTask:
		var rows []*ent.Task
		if rows, err = s.db.Task.Query().Where(task.ID(id)).All(ctx); err == nil && len(rows) == 1 {
			var views []TaskView
			if views, err = s.TaskViews(ctx, rows); err == nil {
				out = views[0]
			}
		}
	case RecordAppointment:
		var rows []*ent.Appointment
		if rows, err = s.db.Appointment.Query().Where(appointment.ID(id)).All(ctx); err == nil && len(rows) == 1 {
			out = rows[0]
		}
	case RecordFollowUp:
		var rows []*ent.FollowUp
		if rows, err = s.db.FollowUp.Query().Where(followup.ID(id)).All(ctx); err == nil && len(rows) == 1 {
			out = rows[0]
		}
	case RecordPipeline:
		var rows []*ent.Pipeline
		rows, err = s.db.Pipeline.Query().Where(pipeline.ID(id)).WithPipelineStages(func(q *ent.PipelineStageQuery) {
			// Placements taken off are soft-deleted: only the live ones
			// (none once the pipeline itself is deleted, which takes them along).
			q.Where(pipelinestage.IsDeleted(false)).WithStage().Order(pipelinestage.ByPosition(), pipelinestage.ByID())
		}).All(ctx)
		if err == nil && len(rows) == 1 {
			out = rows[0]
		}
	}
	return out, err
}
