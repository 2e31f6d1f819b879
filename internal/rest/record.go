package rest

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
)

// RecordShape returns the record a domain event is about in the shape its
// REST resource answers, read by svc (crm.Service.EventRecord; a webhook
// renders it in the write's transaction: automation.Config.Records):
// leads, accounts, contacts and tasks as their routes answer them,
// appointments and follow-ups as the filter route does (the spec's
// Appointment and FollowUp), pipelines as Pipeline. Other types answer
// nil; so does a record svc cannot see.
func RecordShape(ctx context.Context, svc *crm.Service, recordType string, id uuid.UUID) (any, error) {
	row, err := svc.EventRecord(ctx, recordType, id)
	if err != nil || row == nil {
		return nil, err
	}
	switch r := row.(type) {
	case *ent.Lead:
		return Leads([]*ent.Lead{r})[0], nil
	case *ent.Account:
		return Accounts([]*ent.Account{r})[0], nil
	case *ent.Contact:
		return Contacts([]*ent.Contact{r})[0], nil
	case crm.TaskView:
		return newTask(r), nil
	case *ent.Appointment:
		return appointments([]*ent.Appointment{r})[0], nil
	case *ent.FollowUp:
		return followUps([]*ent.FollowUp{r})[0], nil
	case *ent.Pipeline:
		return newPipeline(r), nil
	}
	return nil, fmt.Errorf("rest: no shape for %T", row)
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
