package automation_test

import (
	"testing"

	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/followup"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/storetest"
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
