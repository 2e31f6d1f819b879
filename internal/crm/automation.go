package crm

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/automation"
	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/delayedautomation"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/internal/fault"
)

// Automation is an automation with what is computed about it.
type Automation struct {
	*ent.Automation // Edges.Franchise loaded, with the franchise's automation ids
	// DelayedCount is the number of pending delayed runs (not done yet).
	DelayedCount int
}

// AutomationInput is an automation create or update. On update a nil field
// keeps the stored value; FranchiseSet says whether Franchise was sent at
// all (nil then clears it).
type AutomationInput struct {
	Name         *string
	Trigger      *string
	Nodes        []map[string]any
	Edges        []map[string]any
	Franchise    *uuid.UUID
	FranchiseSet bool
	// Active switches the automation on or off (on when created without it).
	Active *bool
}

// AutomationBuilderData returns the triggers, actions and conditions the
// server supports (copies: callers may not change the catalogue).
func (s *Service) AutomationBuilderData(ctx context.Context) (AutomationBuilder, error) {
	if err := Require(ctx, PermAutomationRead); err != nil {
		return AutomationBuilder{}, err
	}
	return AutomationBuilder{
		Triggers:    slices.Clone(automationCatalogue.Triggers),
		Actions:     slices.Clone(automationCatalogue.Actions),
		Conditions:  slices.Clone(automationCatalogue.Conditions),
		NodeSchemas: NodeDataSchemas(),
	}, nil
}

// Automations returns the tenant's automations in creation order, in a fixed
// number of statements whatever their number.
func (s *Service) Automations(ctx context.Context) ([]Automation, error) {
	if err := Require(ctx, PermAutomationRead); err != nil {
		return nil, err
	}
	rows, err := withAutomationFranchise(s.db.Automation.Query()).Order(automation.ByDateCreated(), automation.ByID()).All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return withDelayedCounts(ctx, s.db, rows)
}

// Automation returns one automation; NotFound when unknown or another tenant's.
func (s *Service) Automation(ctx context.Context, id uuid.UUID) (Automation, error) {
	if err := Require(ctx, PermAutomationRead); err != nil {
		return Automation{}, err
	}
	return loadAutomation(ctx, s.db, id)
}

// CreateAutomation creates an automation: name and trigger are required,
// nodes and edges default to empty and must form a consistent graph.
func (s *Service) CreateAutomation(ctx context.Context, in AutomationInput) (Automation, error) {
	if err := Require(ctx, PermAutomationManage); err != nil {
		return Automation{}, err
	}
	if in.Nodes == nil {
		in.Nodes = []map[string]any{}
	}
	if in.Edges == nil {
		in.Edges = []map[string]any{}
	}
	var out Automation
	err := s.inTx(ctx, func(tx *ent.Client) error {
		in := in // checkAutomation takes the secrets out: a rerun (inTx) needs them again
		secrets, err := checkAutomation(ctx, tx, &in, true, nil)
		if err != nil {
			return err
		}
		created, err := tx.Automation.Create().SetName(*in.Name).SetAutomationTrigger(*in.Trigger).
			SetNodes(in.Nodes).SetFlowEdges(in.Edges).SetWebhookSecrets(secrets).SetNillableFranchiseID(in.Franchise).
			SetNillableIsActive(in.Active).Save(ctx)
		if err != nil {
			return err
		}
		if out, err = loadAutomation(ctx, tx, created.ID); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordAutomation, "created", created.ID, nil, automationState(created))
	})
	return out.unwrap(), err
}

// UpdateAutomation changes the given fields of an automation. Nodes and
// edges are checked together, the stored half standing in for one not sent.
func (s *Service) UpdateAutomation(ctx context.Context, id uuid.UUID, in AutomationInput) (Automation, error) {
	if err := Require(ctx, PermAutomationManage); err != nil {
		return Automation{}, err
	}
	var out Automation
	err := s.inTx(ctx, func(tx *ent.Client) error {
		in := in // filled from cur and stripped of secrets below: a rerun (inTx) starts from the request's
		cur, err := tx.Automation.Get(ctx, id)
		if err != nil {
			return err
		}
		upd := tx.Automation.UpdateOne(cur)
		if in.Nodes != nil || in.Edges != nil {
			if in.Nodes == nil {
				in.Nodes = cur.Nodes
			}
			if in.Edges == nil {
				in.Edges = cur.FlowEdges
			}
		}
		secrets, err := checkAutomation(ctx, tx, &in, false, cur.WebhookSecrets)
		if err != nil {
			return err
		}
		if in.Nodes != nil {
			upd.SetNodes(in.Nodes).SetFlowEdges(in.Edges).SetWebhookSecrets(secrets)
		}
		if in.Name != nil {
			upd.SetName(*in.Name)
		}
		if in.Trigger != nil {
			upd.SetAutomationTrigger(*in.Trigger)
		}
		if in.Active != nil {
			upd.SetIsActive(*in.Active)
		}
		switch {
		case in.Franchise != nil:
			upd.SetFranchiseID(*in.Franchise)
		case in.FranchiseSet:
			upd.ClearFranchise()
		}
		if err := upd.Exec(ctx); err != nil {
			return err
		}
		if out, err = loadAutomation(ctx, tx, id); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordAutomation, "updated", id, automationState(cur), automationState(out.Automation))
	})
	return out.unwrap(), err
}

// DuplicateAutomation copies an automation's trigger, graph and franchise
// under the name "<name> (copy)". Pending delayed runs are not copied: the
// copy has run for nobody yet.
func (s *Service) DuplicateAutomation(ctx context.Context, id uuid.UUID) (Automation, error) {
	if err := Require(ctx, PermAutomationManage); err != nil {
		return Automation{}, err
	}
	var out Automation
	err := s.inTx(ctx, func(tx *ent.Client) error {
		src, err := tx.Automation.Get(ctx, id)
		if err != nil {
			return err
		}
		created, err := tx.Automation.Create().SetName(src.Name + " (copy)").
			SetAutomationTrigger(src.AutomationTrigger).SetNodes(src.Nodes).SetFlowEdges(src.FlowEdges).
			SetWebhookSecrets(src.WebhookSecrets).SetNillableFranchiseID(src.FranchiseID).Save(ctx)
		if err != nil {
			return err
		}
		if out, err = loadAutomation(ctx, tx, created.ID); err != nil {
			return err
		}
		ev := Event{Topic: RecordAutomation + ".created", RecordType: RecordAutomation, RecordID: created.ID,
			Changes: diff(nil, automationState(created)), Data: map[string]any{"duplicatedFrom": id}}
		return s.emit(ctx, tx, ev)
	})
	return out.unwrap(), err
}

// DeleteAutomation soft-deletes an automation and its pending delayed runs,
// so nothing of a deleted automation runs later.
func (s *Service) DeleteAutomation(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermAutomationManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := tx.Automation.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.Automation.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		if err := s.emitChange(ctx, tx, RecordAutomation, "deleted", id, automationState(cur), nil); err != nil {
			return err
		}
		if _, err := tx.DelayedAutomation.Delete().
			Where(delayedautomation.AutomationIDEQ(id), delayedautomation.DoneAtIsNil()).Exec(ctx); err != nil {
			return err
		}
		// Runs waiting on those delays end here, saying why.
		return tx.AutomationRun.Update().
			Where(automationrun.AutomationID(id), automationrun.StatusEQ(automationrun.StatusWAITING)).
			SetStatus(automationrun.StatusSTOPPED).SetReason("automation deleted during a delay").
			SetFinishedAt(time.Now().UTC()).Exec(ctx)
	})
}

// checkAutomation validates in (create: name and trigger required) and that
// its franchise, when given, is one of the tenant's: an unknown franchise is
// bad input (400), not a missing automation (404). It takes the webhook
// secrets out of in.Nodes and returns them (splitWebhookSecrets; stored
// are the automation's current ones).
func checkAutomation(ctx context.Context, tx *ent.Client, in *AutomationInput, create bool, stored map[string]string) (map[string]string, error) {
	var v fault.Validation
	if msg := nameProblem(in.Name, create); msg != "" {
		v.Add("name", msg)
	}
	switch {
	case in.Trigger == nil && create:
		v.Add("automationTrigger", "is required")
	case in.Trigger != nil && !slices.Contains(automationCatalogue.Triggers, *in.Trigger):
		v.Add("automationTrigger", "must be one of "+strings.Join(automationCatalogue.Triggers, ", "))
	}
	checkAutomationGraph(&v, in.Nodes, in.Edges)
	var secrets map[string]string
	if in.Nodes != nil {
		in.Nodes, secrets = splitWebhookSecrets(&v, in.Nodes, stored)
	}
	if err := checkNodeReferences(ctx, tx, &v, in.Nodes); err != nil {
		return nil, err
	}
	if in.Franchise != nil {
		ok, err := tx.Franchise.Query().Where(franchise.ID(*in.Franchise)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			v.Add("franchise.id", "unknown franchise")
		}
	}
	return secrets, v.Err()
}

// withAutomationFranchise eager-loads an automation's franchise and the ids
// of that franchise's automations (the spec's franchise.automations).
func withAutomationFranchise(q *ent.AutomationQuery) *ent.AutomationQuery {
	return q.WithFranchise(func(fq *ent.FranchiseQuery) {
		fq.WithAutomations(func(aq *ent.AutomationQuery) {
			aq.Select(automation.FieldID, automation.FieldFranchiseID).Order(automation.ByDateCreated(), automation.ByID())
		})
	})
}

// automationState is an automation's API fields as its events report them.
func automationState(a *ent.Automation) fields {
	return fields{"name": a.Name, "automationTrigger": a.AutomationTrigger, "nodes": a.Nodes, "edges": a.FlowEdges,
		"franchise": a.FranchiseID, "isActive": a.IsActive}
}

// unwrap detaches an automation read in a transaction from it (the answer
// of a write outlives its transaction), its loaded franchise too.
func (a Automation) unwrap() Automation {
	if a.Automation == nil {
		return a
	}
	a.Automation = a.Automation.Unwrap()
	if f := a.Edges.Franchise; f != nil {
		a.Edges.Franchise = f.Unwrap()
	}
	return a
}

func loadAutomation(ctx context.Context, db *ent.Client, id uuid.UUID) (Automation, error) {
	a, err := withAutomationFranchise(db.Automation.Query().Where(automation.ID(id))).Only(ctx)
	if err != nil {
		return Automation{}, AsError(err)
	}
	out, err := withDelayedCounts(ctx, db, []*ent.Automation{a})
	if err != nil {
		return Automation{}, err
	}
	return out[0], nil
}

// withDelayedCounts counts the pending delayed runs of rows in one grouped
// statement.
func withDelayedCounts(ctx context.Context, db *ent.Client, rows []*ent.Automation) ([]Automation, error) {
	out := make([]Automation, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]uuid.UUID, len(rows))
	for i, a := range rows {
		ids[i] = a.ID
	}
	var counts []struct {
		AutomationID uuid.UUID `json:"automation_id"`
		Count        int       `json:"count"`
	}
	err := db.DelayedAutomation.Query().
		Where(delayedautomation.AutomationIDIn(ids...), delayedautomation.DoneAtIsNil()).
		GroupBy(delayedautomation.FieldAutomationID).Aggregate(ent.Count()).Scan(ctx, &counts)
	if err != nil {
		return nil, AsError(err)
	}
	byID := make(map[uuid.UUID]int, len(counts))
	for _, c := range counts {
		byID[c.AutomationID] = c.Count
	}
	for i, a := range rows {
		out[i] = Automation{Automation: a, DelayedCount: byID[a.ID]}
	}
	return out, nil
}
