package automation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/followup"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// An appointment created through GraphQL on a lead fires the automations
// whose trigger is appointment.created (the run is about the lead), and
// the follow-up the action creates emits followUp.created.
func TestAppointmentCreatedTriggersAutomations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		nodes, edges := chain(node("follow", "createFollowUp", map[string]any{"title": "Confirm the appointment"}))
		id := e.automation("On appointment", "appointment.created", nil, nodes, edges)
		leadID := e.createLead("Appointment lead", "DT")
		var out struct{ CreateAppointment struct{ ID string } }
		e.gql(admin, `mutation($lead: ID!, $me: ID!) { createAppointment(input: {title: "Visit", assigneeID: $me, connectionID: $lead}) { id } }`,
			map[string]any{"lead": leadID, "me": storetest.UserID(t, db, admin)}, &out)
		runs := e.finished(id, 1)
		if r := runs[0]; r.Status != automationrun.StatusDONE || r.LeadID == nil || *r.LeadID != leadID {
			t.Fatalf("run %+v", r)
		}
		f, err := db.FollowUp.Query().Where(followup.ConnectionID(leadID), followup.Title("Confirm the appointment")).Only(e.ctx)
		e.must(err)
		if !f.FromAutomation {
			t.Fatalf("follow-up %+v", f)
		}
		n, err := db.OutboxEvent.Query().Where(outboxevent.Topic("followUp.created"), outboxevent.SubjectID(f.ID)).Count(registry.Unchecked(e.ctx))
		e.must(err)
		if n != 1 {
			t.Fatalf("%d followUp.created events", n)
		}
	})
}

// Deleting a lead through GraphQL (deleteLead) emits lead.deleted, on
// which the runtime stops the lead's waiting runs in the delete's
// transaction: the delayed step never runs.
func TestDeletingTheLeadCancelsItsDelays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		n, ed := chain(
			node("wait", "delay", map[string]any{"amount": 1, "unit": "seconds"}),
			node("t", "createTask", map[string]any{"title": "Never for a deleted lead"}),
		)
		id := e.automation("Lead gone", "lead.created", nil, n, ed)
		leadID := e.createLead("Deleted lead", "DT")
		e.eventually("the waiting run", 10*time.Second, func() bool {
			r := e.runs(id)
			return len(r) == 1 && r[0].Status == automationrun.StatusWAITING
		})
		var out struct{ DeleteLead string }
		e.gql(manager, `mutation($id: ID!) { deleteLead(id: $id) }`, map[string]any{"id": leadID}, &out)
		time.Sleep(1500 * time.Millisecond)
		if e.tasksOf(leadID, "Never for a deleted lead") != 0 {
			t.Fatal("a deleted lead's delayed step ran")
		}
		r := e.runs(id)
		if len(r) != 1 || r[0].Status != automationrun.StatusSTOPPED || !strings.Contains(r[0].Reason, "lead deleted") {
			t.Fatalf("run after the lead's delete: %+v", r[0])
		}
	})
}
