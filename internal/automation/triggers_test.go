package automation_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/followup"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/pipelinestage"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// stages are the stages of the pipeline of franchise code's sales
// department, in board order (a new lead starts on the first).
func (e *env) stages(code string) []uuid.UUID {
	e.t.Helper()
	dep, err := e.db.Department.Query().Where(department.FranchiseID(e.franchise(code).ID), department.Name("Sales")).Only(e.ctx)
	e.must(err)
	if dep.PipelineID == nil {
		e.t.Fatal("the sales department has no pipeline")
	}
	rows, err := e.db.PipelineStage.Query().Where(pipelinestage.PipelineID(*dep.PipelineID)).
		Order(pipelinestage.ByPosition(), pipelinestage.ByID()).All(e.ctx)
	e.must(err)
	if len(rows) < 2 {
		e.t.Fatalf("the pipeline has %d stages", len(rows))
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.StageID
	}
	return ids
}

// column is the board positions of the leads on stage, by position.
func (e *env) column(stage uuid.UUID) []int {
	rows, err := e.db.Lead.Query().Where(lead.StageID(stage)).Order(lead.ByBoardPosition()).All(e.ctx)
	e.must(err)
	pos := make([]int, len(rows))
	for i, r := range rows {
		pos[i] = r.BoardPosition
	}
	return pos
}

func dense(pos []int) bool {
	for i, p := range pos {
		if p != i {
			return false
		}
	}
	return true
}

// A user's lead update (GraphQL updateLead) fires lead.updated; its
// changeStage action moves the lead through the domain's one lead write:
// the lead goes last on its new column and both columns stay dense.
func TestLeadUpdatedTriggersChangeStage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		stages := e.stages("DT")
		target := stages[1]
		n, ed := chain()
		n = append(n,
			node("renamed", "filter", map[string]any{"query": map[string]any{"combinator": "and", "rules": []any{
				map[string]any{"field": "subject", "operator": "contains", "value": "Hot"}}}}),
			node("stage", "changeStage", map[string]any{"stageId": target.String()}))
		ed = append(ed, edge("start", "renamed"), edge("renamed", "stage", "true"))
		id := e.automation("Hot leads move on", "lead.updated", nil, n, ed)
		var leads []uuid.UUID
		for _, s := range []string{"First", "Second", "Third"} {
			leads = append(leads, e.createLead(s, "DT"))
		}
		e.gql(admin, `mutation($id: ID!) { updateLead(id: $id, input: {subject: "Hot second"}) { id } }`,
			map[string]any{"id": leads[1]}, nil)
		runs := e.finished(id, 1)
		if runs[0].Topic != "lead.updated" || runs[0].LeadID == nil || *runs[0].LeadID != leads[1] {
			t.Fatalf("run %+v", runs[0])
		}
		l, err := e.db.Lead.Get(e.ctx, leads[1])
		e.must(err)
		if l.StageID == nil || *l.StageID != target {
			t.Fatalf("the lead is on stage %v, want %v", l.StageID, target)
		}
		if c := e.column(target); !dense(c) || l.BoardPosition != len(c)-1 {
			t.Fatalf("target column %v, lead at %d", c, l.BoardPosition)
		}
		if c := e.column(stages[0]); !dense(c) {
			t.Fatalf("the column the lead left is not dense: %v", c)
		}
		// The automation's own move emitted lead.updated again: it did not
		// re-trigger itself.
		if r := e.finished(id, 1); len(r) != 1 {
			t.Fatalf("%d runs", len(r))
		}
	})
}

// A task created through REST fires task.created; the run's subject is
// the task's lead, on which it creates a follow-up marked fromAutomation.
func TestTaskCreatedTriggersFollowUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		n, ed := chain(node("f", "createFollowUp", map[string]any{"title": "Check the task", "dueInHours": 24}))
		id := e.automation("Task follow-up", "task.created", nil, n, ed)
		leadID := e.createLead("With a task", "DT")
		userID := storetest.UserID(t, db, "user@demo-motors.test")
		e.do(http.MethodPost, "/api/task", admin, map[string]any{"title": "Call back", "assignee": userID.String(),
			"connection": leadID.String()}, nil)
		runs := e.finished(id, 1)
		if runs[0].Topic != "task.created" || runs[0].LeadID == nil || *runs[0].LeadID != leadID {
			t.Fatalf("run %+v", runs[0])
		}
		f, err := e.db.FollowUp.Query().Where(followup.ConnectionID(leadID), followup.Title("Check the task")).All(e.ctx)
		e.must(err)
		if len(f) != 1 || !f[0].FromAutomation {
			t.Fatalf("follow-ups %+v", f)
		}
	})
}

// Completing a task (REST PATCH taskDone) fires task.completed; its
// changeStatus action sells the lead through UpdateLead, which records the
// lifecycle dates and the seller.
func TestTaskCompletedTriggersChangeStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		sold, err := e.db.Status.Query().Where(status.TenantID(e.tid), status.KindEQ(status.KindSOLD)).First(e.ctx)
		e.must(err)
		n, ed := chain(node("s", "changeStatus", map[string]any{"statusId": sold.ID.String()}))
		id := e.automation("Done means sold", "task.completed", nil, n, ed)
		leadID := e.createLead("Closing", "DT")
		userID := storetest.UserID(t, db, "user@demo-motors.test")
		var task struct{ ID uuid.UUID }
		e.do(http.MethodPost, "/api/task", admin, map[string]any{"title": "Sign", "assignee": userID.String(),
			"connection": leadID.String()}, &task)
		if r := e.runs(id); len(r) != 0 {
			t.Fatalf("%d runs before completion", len(r))
		}
		e.do(http.MethodPatch, "/api/task/"+task.ID.String(), admin, map[string]any{"taskDone": true}, nil)
		runs := e.finished(id, 1)
		if runs[0].Topic != "task.completed" || runs[0].Status != "DONE" {
			t.Fatalf("run %+v", runs[0])
		}
		l, err := e.db.Lead.Get(e.ctx, leadID)
		e.must(err)
		author := storetest.UserID(t, db, manager)
		if l.StatusID == nil || *l.StatusID != sold.ID || l.SoldDate == nil || l.SoldByID == nil || *l.SoldByID != author {
			t.Fatalf("lead status %v sold %v by %v (author %v)", l.StatusID, l.SoldDate, l.SoldByID, author)
		}
	})
}

// An automation without an author (the seed's, say) acts as no user: its
// changeStatus sells the lead, recording the dates but no seller, closer
// or first modifier, rather than failing on a user that does not exist.
func TestAuthorlessAutomationChangesStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		sold, err := e.db.Status.Query().Where(status.TenantID(e.tid), status.KindEQ(status.KindSOLD)).First(e.ctx)
		e.must(err)
		n, ed := chain(node("s", "changeStatus", map[string]any{"statusId": sold.ID.String()}))
		id := e.automation("Sell at once", "lead.created", nil, n, ed)
		_, err = db.SQL.ExecContext(e.ctx, "UPDATE automations SET created_by_id = NULL WHERE id = $1", id)
		e.must(err)
		leadID := e.createLead("Sold by nobody", "DT")
		if r := e.finished(id, 1)[0]; r.Status != "DONE" {
			t.Fatalf("run %s: %s %+v", r.Status, r.Reason, r.Edges.Steps)
		}
		l, err := e.db.Lead.Get(e.ctx, leadID)
		e.must(err)
		if l.StatusID == nil || *l.StatusID != sold.ID || l.SoldDate == nil || l.SoldByID != nil ||
			l.ConnectionClosedByID != nil || l.DateFirstModified == nil || l.FirstModifiedByID != nil {
			t.Fatalf("lead status %v sold %v by %v closed by %v first modified %v by %v",
				l.StatusID, l.SoldDate, l.SoldByID, l.ConnectionClosedByID, l.DateFirstModified, l.FirstModifiedByID)
		}
	})
}
