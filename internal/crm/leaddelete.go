package crm

import (
	"context"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/lead"
)

// DeleteLead soft-deletes lead id (lead.delete) and emits lead.deleted, in
// one transaction. The leads below it in its board column move up one, so
// positions stay dense; the column is locked first as on a move. The
// automation runtime cancels the lead's pending delays on lead.deleted, in
// the same transaction.
func (s *Service) DeleteLead(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermLeadDelete); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		l, err := tx.Lead.Query().Where(lead.ID(id)).Select(lead.FieldStageID).Only(ctx)
		if err != nil {
			return err
		}
		if l.StageID != nil {
			if err := lockColumns(ctx, tx, *l.StageID, nil); err != nil {
				return err
			}
		}
		// Read again under the column lock: a move may have changed it.
		if l, err = tx.Lead.Get(ctx, id); err != nil {
			return err
		}
		if err := tx.Lead.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		if l.StageID != nil {
			if err := tx.Lead.Update().Where(lead.StageID(*l.StageID), lead.BoardPositionGT(l.BoardPosition)).
				AddBoardPosition(-1).Exec(ctx); err != nil {
				return err
			}
		}
		return s.emit(ctx, tx, Event{Topic: TopicLeadDeleted, RecordType: RecordLead, RecordID: id,
			Data: map[string]any{"subject": l.Subject}})
	})
}
