package crm

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/lead"
)

// FollowUpInput is a follow-up an automation creates on a lead.
type FollowUpInput struct {
	LeadID     uuid.UUID
	Title      string
	Note       string
	AssigneeID uuid.UUID
	Due        time.Time
}

// CreateAutomationFollowUp creates a follow-up marked fromAutomation on a
// lead of the tenant.
func (s *Service) CreateAutomationFollowUp(ctx context.Context, in FollowUpInput) (*ent.FollowUp, error) {
	var out *ent.FollowUp
	err := s.inTx(ctx, func(tx *ent.Client) error {
		l, err := tx.Lead.Get(ctx, in.LeadID)
		if err != nil {
			return err
		}
		out, err = tx.FollowUp.Create().SetConnectionID(l.ID).SetNillableContactID(l.ContactID).
			SetNillableAccountID(l.AccountID).SetTitle(in.Title).SetNote(in.Note).SetAssigneeID(in.AssigneeID).
			SetStart(in.Due).SetFromAutomation(true).Save(ctx)
		return err
	})
	return out, err
}

// AssignLeadTo replaces a lead's assignees: with userID, or the next member
// of groupID's round robin (the lead's department's group when groupID is
// nil). It writes lead.assigned and returns the new assignee.
func (s *Service) AssignLeadTo(ctx context.Context, leadID uuid.UUID, userID, groupID *uuid.UUID) (uuid.UUID, error) {
	var assignee uuid.UUID
	err := s.inTx(ctx, func(tx *ent.Client) error {
		l, err := tx.Lead.Query().Where(lead.ID(leadID)).WithDepartment().Only(ctx)
		if err != nil {
			return err
		}
		switch {
		case userID != nil:
			assignee = *userID
		default:
			g := groupID
			if g == nil && l.Edges.Department != nil {
				g = l.Edges.Department.SecurityGroupID
			}
			if g == nil {
				return Errorf(Invalid, "the lead's department has no round-robin group")
			}
			next, err := nextRoundRobin(ctx, tx, *g)
			if err != nil {
				return err
			}
			if next == nil {
				return Errorf(Invalid, "the group is not round robin or has no active member")
			}
			assignee = *next
		}
		before, err := tx.Lead.QueryAssignees(l).IDs(ctx)
		if err != nil {
			return err
		}
		if err := tx.Lead.UpdateOneID(l.ID).ClearAssignees().AddAssigneeIDs(assignee).Exec(ctx); err != nil {
			return err
		}
		ch := Changes{}
		if !ch.Set("assignees", before, []uuid.UUID{assignee}) {
			return nil
		}
		return s.emit(ctx, tx, Event{Topic: TopicLeadAssigned, RecordType: RecordLead, RecordID: l.ID, Changes: ch})
	})
	return assignee, err
}

// SetLeadStageStatus sets a lead's stage (stageID) or status (statusID) and writes
// lead.stage_changed / lead.status_changed with the change. Setting the
// value it already has changes nothing and writes no event.
func (s *Service) SetLeadStageStatus(ctx context.Context, leadID uuid.UUID, stageID, statusID *uuid.UUID) error {
	return s.inTx(ctx, func(tx *ent.Client) error {
		l, err := tx.Lead.Get(ctx, leadID)
		if err != nil {
			return err
		}
		switch {
		case stageID != nil:
			if l.StageID != nil && *l.StageID == *stageID {
				return nil
			}
			if err := tx.Lead.UpdateOneID(l.ID).SetStageID(*stageID).Exec(ctx); err != nil {
				return err
			}
			ch := Changes{}
			ch.Set("stage", l.StageID, stageID)
			return s.emit(ctx, tx, Event{Topic: TopicLeadStageChanged, RecordType: RecordLead, RecordID: l.ID, Changes: ch})
		case statusID != nil:
			if l.StatusID != nil && *l.StatusID == *statusID {
				return nil
			}
			if err := tx.Lead.UpdateOneID(l.ID).SetStatusID(*statusID).Exec(ctx); err != nil {
				return err
			}
			ch := Changes{}
			ch.Set("status", l.StatusID, statusID)
			return s.emit(ctx, tx, Event{Topic: TopicLeadStatusChanged, RecordType: RecordLead, RecordID: l.ID, Changes: ch})
		}
		return nil
	})
}
