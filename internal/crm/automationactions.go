package crm

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/internal/fault"
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
// lead of the tenant; emits followUp.created.
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
		if err != nil {
			return err
		}
		_, _, after, err := followUpKind.read(ctx, tx, out.ID)
		if err != nil {
			return err
		}
		return s.emit(ctx, tx, Event{Topic: RecordFollowUp + ".created", RecordType: RecordFollowUp, RecordID: out.ID, Changes: diff(nil, after)})
	})
	return out, err
}

// RoundRobinTurn is the next assignee of groupID's round robin (the
// group of lead leadID's department when groupID is nil), taking that turn.
// The assignment itself is AssignLead's.
func (s *Service) RoundRobinTurn(ctx context.Context, leadID uuid.UUID, groupID *uuid.UUID) (uuid.UUID, error) {
	var turn uuid.UUID
	err := s.inTx(ctx, func(tx *ent.Client) error {
		g := groupID
		if g == nil {
			l, err := tx.Lead.Query().Where(lead.ID(leadID)).WithDepartment().Only(ctx)
			if err != nil {
				return err
			}
			if l.Edges.Department != nil {
				g = l.Edges.Department.SecurityGroupID
			}
		}
		if g == nil {
			return fault.Errorf(fault.Invalid, "the lead's department has no round-robin group")
		}
		next, err := nextRoundRobin(ctx, tx, *g)
		if err != nil {
			return err
		}
		if next == nil {
			return fault.Errorf(fault.Invalid, "the group is not round robin or has no active member")
		}
		turn = *next
		return nil
	})
	return turn, err
}
