package crm

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/pipelinestage"
	"github.com/conecrm/gateway/internal/fault"
)

// maxNameLength bounds the free-text names of configuration records.
const maxNameLength = 255

// ListStages returns the tenant's connection stages in board order: by
// their position on the tenant's pipelines (the lowest when a stage is on
// several), then the stages on no pipeline in creation order. (Ids only
// order by millisecond: the type code takes the bits that would order ids
// made within one.)
func (s *Service) ListStages(ctx context.Context) ([]*ent.ConnectionStage, error) {
	if err := Require(ctx, PermStageRead); err != nil {
		return nil, err
	}
	stages, err := s.db.ConnectionStage.Query().Order(connectionstage.ByDateCreated(), connectionstage.ByID()).All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	placements, err := s.db.PipelineStage.Query().Select(pipelinestage.FieldStageID, pipelinestage.FieldPosition).All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	position := map[uuid.UUID]int{}
	for _, p := range placements {
		if at, ok := position[p.StageID]; !ok || p.Position < at {
			position[p.StageID] = p.Position
		}
	}
	slices.SortStableFunc(stages, func(a, b *ent.ConnectionStage) int {
		pa, onA := position[a.ID]
		pb, onB := position[b.ID]
		switch {
		case onA && onB:
			return cmp.Compare(pa, pb)
		case onA:
			return -1
		case onB:
			return 1
		}
		return 0
	})
	return stages, nil
}

// Stage returns one stage; NotFound when it is unknown or another tenant's.
func (s *Service) Stage(ctx context.Context, id uuid.UUID) (*ent.ConnectionStage, error) {
	if err := Require(ctx, PermStageRead); err != nil {
		return nil, err
	}
	st, err := s.db.ConnectionStage.Get(ctx, id)
	if err != nil {
		return nil, AsError(err)
	}
	return st, nil
}

// CreateStage creates a stage named name (required, not blank); emits
// stage.created.
func (s *Service) CreateStage(ctx context.Context, name *string) (*ent.ConnectionStage, error) {
	if err := Require(ctx, PermStageManage); err != nil {
		return nil, err
	}
	if msg := nameProblem(name, true); msg != "" {
		return nil, fault.FieldError("name", msg)
	}
	var out *ent.ConnectionStage
	err := s.inTx(ctx, func(tx *ent.Client) error {
		st, err := tx.ConnectionStage.Create().SetName(*name).Save(ctx)
		if err != nil {
			return err
		}
		out = st
		return s.emitChange(ctx, tx, RecordStage, "created", st.ID, nil, fields{"name": st.Name})
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// UpdateStage renames a stage; a nil name leaves it unchanged. Emits
// stage.updated when the name changed.
func (s *Service) UpdateStage(ctx context.Context, id uuid.UUID, name *string) (*ent.ConnectionStage, error) {
	if err := Require(ctx, PermStageManage); err != nil {
		return nil, err
	}
	if msg := nameProblem(name, false); msg != "" {
		return nil, fault.FieldError("name", msg)
	}
	var out *ent.ConnectionStage
	err := s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := tx.ConnectionStage.Get(ctx, id)
		if err != nil {
			return err
		}
		upd := tx.ConnectionStage.UpdateOneID(id)
		if name != nil {
			upd.SetName(*name)
		}
		if out, err = upd.Save(ctx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordStage, "updated", id, fields{"name": cur.Name}, fields{"name": out.Name})
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// DeleteStage soft-deletes a stage that no live lead is on and no pipeline
// includes; a used stage is a Conflict, since deleting it would leave leads
// on, or pipelines pointing at, a stage nobody can see. Emits stage.deleted.
func (s *Service) DeleteStage(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermStageManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		st, err := tx.ConnectionStage.Get(ctx, id)
		if err != nil {
			return err
		}
		leads, err := tx.Lead.Query().Where(lead.StageID(id)).Count(ctx)
		if err != nil {
			return err
		}
		pipelines, err := tx.PipelineStage.Query().Where(pipelinestage.StageID(id)).Count(ctx)
		if err != nil {
			return err
		}
		if leads > 0 || pipelines > 0 {
			return fault.Errorf(fault.Conflict, "Cannot delete stage that is used in connections or pipelines (%d connections, %d pipelines)", leads, pipelines)
		}
		if err := tx.ConnectionStage.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordStage, "deleted", id, fields{"name": st.Name}, nil)
	})
}

// nameProblem says what is wrong with a record's name, or "": required
// says whether nil is wrong; a given name must not be blank nor longer than
// maxNameLength.
func nameProblem(name *string, required bool) string {
	switch {
	case name == nil && required:
		return "is required"
	case name == nil:
		return ""
	case strings.TrimSpace(*name) == "":
		return "must not be blank"
	case len(*name) > maxNameLength:
		return fmt.Sprintf("must be at most %d characters", maxNameLength)
	}
	return ""
}
