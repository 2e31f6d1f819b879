package crm

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/pipeline"
	"github.com/conecrm/gateway/ent/pipelinestage"
	"github.com/conecrm/gateway/internal/fault"
)

// CreatePipeline creates a pipeline named name with stages in that order
// (positions 0, 1, …) and emits pipeline.created.
func (s *Service) CreatePipeline(ctx context.Context, name string, stages []uuid.UUID) (*ent.Pipeline, error) {
	if err := Require(ctx, PermStageManage); err != nil {
		return nil, err
	}
	var v fault.Validation
	if blank(name) {
		v.Add("name", msgBlank)
	}
	checkText(&v, "name", &name)
	if len(unique(stages)) != len(stages) {
		v.Add("stageIDs", "a stage may be on a pipeline once")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *ent.Pipeline
	err := s.inTx(ctx, func(tx *ent.Client) error {
		if len(stages) > 0 {
			n, err := tx.ConnectionStage.Query().Where(connectionstage.IDIn(stages...)).Count(ctx)
			if err != nil {
				return err
			}
			if n != len(stages) {
				return fault.FieldError("stageIDs", msgNotFound)
			}
		}
		p, err := tx.Pipeline.Create().SetName(trim(name)).Save(ctx)
		if err != nil {
			return err
		}
		bulk := make([]*ent.PipelineStageCreate, len(stages))
		for i, st := range stages {
			bulk[i] = tx.PipelineStage.Create().SetPipelineID(p.ID).SetStageID(st).SetPosition(i)
		}
		if err := tx.PipelineStage.CreateBulk(bulk...).Exec(ctx); err != nil {
			return err
		}
		out, err = pipelineWithStages(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		return s.emit(ctx, tx, Event{Topic: "pipeline.created", RecordType: RecordPipeline, RecordID: p.ID,
			Changes: diff(nil, pipelineSnapshot(out))})
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// RenamePipeline renames pipeline id and emits pipeline.updated.
func (s *Service) RenamePipeline(ctx context.Context, id uuid.UUID, name string) (*ent.Pipeline, error) {
	if err := Require(ctx, PermStageManage); err != nil {
		return nil, err
	}
	var v fault.Validation
	if blank(name) {
		v.Add("name", msgBlank)
	}
	checkText(&v, "name", &name)
	return s.changePipeline(ctx, id, func(tx *ent.Client, stages []*ent.PipelineStage) error {
		if err := v.Err(); err != nil {
			return err
		}
		return tx.Pipeline.UpdateOneID(id).SetName(trim(name)).Exec(ctx)
	})
}

// DeletePipeline soft-deletes pipeline id with its stage placements and
// emits pipeline.deleted; Conflict while a department uses it.
func (s *Service) DeletePipeline(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermStageManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		if _, err := lockPipeline(ctx, tx, id); err != nil {
			return err
		}
		used, err := tx.Department.Query().Where(department.PipelineID(id)).Exist(ctx)
		if err != nil {
			return err
		}
		if used {
			return fault.Errorf(fault.Conflict, "the pipeline is used by a department")
		}
		if _, err := tx.PipelineStage.Delete().Where(pipelinestage.PipelineID(id)).Exec(ctx); err != nil {
			return err
		}
		if err := tx.Pipeline.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, Event{Topic: "pipeline.deleted", RecordType: RecordPipeline, RecordID: id})
	})
}

// AddPipelineStage puts stage on pipeline id at position (nil or past the
// end: last), shifting the stages after it.
func (s *Service) AddPipelineStage(ctx context.Context, id, stage uuid.UUID, position *int) (*ent.Pipeline, error) {
	if err := Require(ctx, PermStageManage); err != nil {
		return nil, err
	}
	if position != nil && *position < 0 {
		return nil, fault.FieldError("position", "must not be negative")
	}
	return s.changePipeline(ctx, id, func(tx *ent.Client, stages []*ent.PipelineStage) error {
		ok, err := tx.ConnectionStage.Query().Where(connectionstage.ID(stage)).Exist(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return fault.FieldError("stageID", msgNotFound)
		}
		if slices.ContainsFunc(stages, func(ps *ent.PipelineStage) bool { return ps.StageID == stage }) {
			return fault.FieldError("stageID", "the stage is already on the pipeline")
		}
		at := len(stages)
		if position != nil && *position < at {
			at = *position
		}
		row, err := tx.PipelineStage.Create().SetPipelineID(id).SetStageID(stage).SetPosition(at).Save(ctx)
		if err != nil {
			return err
		}
		return renumberStages(ctx, tx, slices.Insert(stages, at, row))
	})
}

// RemovePipelineStage takes stage off pipeline id, closing the gap;
// Conflict while a live lead of a department on this pipeline is on it.
func (s *Service) RemovePipelineStage(ctx context.Context, id, stage uuid.UUID) (*ent.Pipeline, error) {
	if err := Require(ctx, PermStageManage); err != nil {
		return nil, err
	}
	return s.changePipeline(ctx, id, func(tx *ent.Client, stages []*ent.PipelineStage) error {
		i := slices.IndexFunc(stages, func(ps *ent.PipelineStage) bool { return ps.StageID == stage })
		if i < 0 {
			return fault.FieldError("stageID", "the stage is not on the pipeline")
		}
		used, err := tx.Lead.Query().Where(lead.StageID(stage), lead.HasDepartmentWith(department.PipelineID(id))).Exist(ctx)
		if err != nil {
			return err
		}
		if used {
			return fault.Errorf(fault.Conflict, "leads of this pipeline are on the stage")
		}
		if err := tx.PipelineStage.DeleteOneID(stages[i].ID).Exec(ctx); err != nil {
			return err
		}
		return renumberStages(ctx, tx, slices.Delete(stages, i, i+1))
	})
}

// MovePipelineStage moves stage to position on pipeline id (past the end:
// last), shifting the stages in between.
func (s *Service) MovePipelineStage(ctx context.Context, id, stage uuid.UUID, position int) (*ent.Pipeline, error) {
	if err := Require(ctx, PermStageManage); err != nil {
		return nil, err
	}
	if position < 0 {
		return nil, fault.FieldError("position", "must not be negative")
	}
	return s.changePipeline(ctx, id, func(tx *ent.Client, stages []*ent.PipelineStage) error {
		i := slices.IndexFunc(stages, func(ps *ent.PipelineStage) bool { return ps.StageID == stage })
		if i < 0 {
			return fault.FieldError("stageID", "the stage is not on the pipeline")
		}
		row := stages[i]
		rest := slices.Delete(slices.Clone(stages), i, i+1)
		at := min(position, len(rest))
		return renumberStages(ctx, tx, slices.Insert(rest, at, row))
	})
}

// changePipeline locks pipeline id (PostgreSQL; SQLite serialises writers),
// loads its stages in position order, runs change, emits pipeline.updated
// with what changed and answers the pipeline read in the transaction.
func (s *Service) changePipeline(ctx context.Context, id uuid.UUID, change func(tx *ent.Client, stages []*ent.PipelineStage) error) (*ent.Pipeline, error) {
	var out *ent.Pipeline
	err := s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := lockPipeline(ctx, tx, id)
		if err != nil {
			return err
		}
		before := pipelineSnapshot(cur)
		if err := change(tx, cur.Edges.PipelineStages); err != nil {
			return err
		}
		if out, err = pipelineWithStages(ctx, tx, id); err != nil {
			return err
		}
		return s.emitUpdated(ctx, tx, RecordPipeline, id, before, pipelineSnapshot(out))
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// lockPipeline reads pipeline id with its stages, locking its row.
func lockPipeline(ctx context.Context, tx *ent.Client, id uuid.UUID) (*ent.Pipeline, error) {
	q := tx.Pipeline.Query().Where(pipeline.ID(id))
	q.Modify(pgLock)
	if _, err := q.OnlyID(ctx); err != nil {
		return nil, err
	}
	return pipelineWithStages(ctx, tx, id)
}

// pipelineWithStages reads pipeline id with its stages in position order.
func pipelineWithStages(ctx context.Context, tx *ent.Client, id uuid.UUID) (*ent.Pipeline, error) {
	return tx.Pipeline.Query().Where(pipeline.ID(id)).WithPipelineStages(func(q *ent.PipelineStageQuery) {
		q.Order(pipelinestage.ByPosition(), pipelinestage.ByID())
	}).Only(ctx)
}

// renumberStages gives the placements positions 0, 1, … in order, writing
// only those that change.
func renumberStages(ctx context.Context, tx *ent.Client, stages []*ent.PipelineStage) error {
	for i, ps := range stages {
		if ps.Position != i {
			if err := tx.PipelineStage.UpdateOneID(ps.ID).SetPosition(i).Exec(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

func pipelineSnapshot(p *ent.Pipeline) map[string]any {
	stages := make([]string, 0, len(p.Edges.PipelineStages))
	for _, ps := range p.Edges.PipelineStages {
		stages = append(stages, ps.StageID.String())
	}
	return map[string]any{"name": p.Name, "stages": stages}
}
