package automation_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/followup"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// A lead created through REST runs its franchise's lead.created
// automation: the task and the follow-up (fromAutomation) exist, the run
// and its steps are stored, automationDay is set, and GraphQL shows the
// run on the automation and on the lead.
func TestLeadCreatedRunsActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		dt := e.franchise("DT")
		nodes, edges := chain(
			node("task", "createTask", map[string]any{"title": "Call the new lead", "type": "CALL"}),
			node("follow", "createFollowUp", map[string]any{"title": "Check in", "dueInHours": 48}),
		)
		id := e.automation("Welcome", "lead.created", &dt.ID, nodes, edges)
		leadID := e.createLead("Automated", "DT")
		runs := e.finished(id, 1)
		r := runs[0]
		if r.Status != automationrun.StatusDONE || r.LeadID == nil || *r.LeadID != leadID || len(r.Edges.Steps) != 2 {
			t.Fatalf("run %+v steps %d", r, len(r.Edges.Steps))
		}
		for _, s := range r.Edges.Steps {
			if s.Status != "DONE" {
				t.Fatalf("step %s: %s %s", s.NodeID, s.Status, s.Error)
			}
		}
		n, err := db.Task.Query().Where(task.ConnectionID(leadID), task.Title("Call the new lead")).Count(e.ctx)
		e.must(err)
		f, err := db.FollowUp.Query().Where(followup.ConnectionID(leadID)).Only(e.ctx)
		e.must(err)
		if n != 1 || !f.FromAutomation || f.Title != "Check in" {
			t.Fatalf("tasks %d, follow-up %+v", n, f)
		}
		l, err := db.Lead.Query().Where(lead.ID(leadID)).Only(e.ctx)
		e.must(err)
		if l.AutomationDay == nil || *l.AutomationDay != 0 {
			t.Fatalf("automationDay = %v", l.AutomationDay)
		}
		// A lead of another franchise does not run it.
		e.createLead("Elsewhere", "NS")
		time.Sleep(300 * time.Millisecond)
		if got := len(e.runs(id)); got != 1 {
			t.Fatalf("%d runs after a lead of another franchise", got)
		}
		var out struct {
			Node struct {
				Runs struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							Status string
							Steps  []struct{ NodeID, Status string }
						}
					}
				}
			}
			Lead struct {
				AutomationRuns struct{ TotalCount int }
			}
		}
		e.gql(manager, `query($id: ID!, $lead: ID!) {
			node(id: $id) { ... on Automation { runs { totalCount edges { node { status steps { nodeID status } } } } } }
			lead: node(id: $lead) { ... on Lead { automationRuns { totalCount } } }
		}`, map[string]any{"id": id, "lead": leadID}, &out)
		if out.Node.Runs.TotalCount != 1 || out.Node.Runs.Edges[0].Node.Status != "DONE" ||
			len(out.Node.Runs.Edges[0].Node.Steps) != 2 || out.Lead.AutomationRuns.TotalCount != 1 {
			t.Fatalf("graphql runs: %+v", out)
		}
		_ = http.MethodGet
	})
}
