package automation_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Appointments, follow-ups and pipelines are delivered with their record
// too (the spec's Appointment and FollowUp as the filter route answers
// them; a pipeline with its stages in order), each event exactly once,
// from GraphQL mutations and from an automation's action alike.
func TestWebhookRecordOfEveryType(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		mine := newReceiver(t)
		e.endpoint(admin, mine, "appointment.created", "appointment.updated", "appointment.deleted",
			"followUp.created", "followUp.deleted", "pipeline.created", "pipeline.updated", "pipeline.deleted")
		n, ed := chain(node("follow", "createFollowUp", map[string]any{"title": "Confirm the visit"}))
		auto := e.automation("Follow-up per appointment", "appointment.created", nil, n, ed)
		me := storetest.UserID(t, db, admin)
		leadID := e.createLead("Visited lead", "DT")

		var ap struct{ CreateAppointment struct{ ID string } }
		e.gql(admin, `mutation($lead: ID!, $me: ID!) { createAppointment(input: {title: "Visit", assigneeID: $me, connectionID: $lead, type: "showroom", url: "https://meet.example/visit"}) { id } }`,
			map[string]any{"lead": leadID, "me": me}, &ap)
		e.finished(auto, 1) // before the appointment is deleted
		e.gql(admin, `mutation($id: ID!) { updateAppointment(id: $id, input: {noShow: true}) { id } }`, map[string]any{"id": ap.CreateAppointment.ID}, nil)
		e.gql(admin, `mutation($id: ID!) { deleteAppointment(id: $id) }`, map[string]any{"id": ap.CreateAppointment.ID}, nil)
		var fu struct{ CreateFollowUp struct{ ID string } }
		e.gql(admin, `mutation($me: ID!) { createFollowUp(input: {title: "Call back", assigneeID: $me}) { id } }`, map[string]any{"me": me}, &fu)
		e.gql(admin, `mutation($id: ID!) { deleteFollowUp(id: $id) }`, map[string]any{"id": fu.CreateFollowUp.ID}, nil)

		stages, err := db.ConnectionStage.Query().Where(connectionstage.TenantID(e.tid)).Order(connectionstage.ByID()).Limit(2).All(e.ctx)
		e.must(err)
		if len(stages) != 2 {
			t.Fatalf("%d stages seeded", len(stages))
		}
		var pl struct{ CreatePipeline struct{ ID string } }
		e.gql(admin, `mutation($s: [ID!]) { createPipeline(name: "Hooked board", stageIDs: $s) { id } }`,
			map[string]any{"s": []string{stages[1].ID.String(), stages[0].ID.String()}}, &pl)
		e.gql(admin, `mutation($p: ID!, $s: ID!) { removePipelineStage(pipelineID: $p, stageID: $s) { id } }`,
			map[string]any{"p": pl.CreatePipeline.ID, "s": stages[1].ID.String()}, nil)
		e.gql(admin, `mutation($p: ID!) { deletePipeline(id: $p) }`, map[string]any{"p": pl.CreatePipeline.ID}, nil)

		const want = 9
		e.eventually("nine deliveries", 20*time.Second, func() bool { return len(mine.deliveries()) >= want })
		time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
		got := mine.deliveries()
		if len(got) != want || mine.bad != 0 {
			t.Fatalf("%d deliveries (%d badly signed), want %d", len(got), mine.bad, want)
		}
		byTopic := map[string][]map[string]any{}
		seen := map[any]bool{}
		for _, d := range got {
			if seen[d["id"]] {
				t.Fatalf("event %v delivered twice", d["id"])
			}
			seen[d["id"]] = true
			rec, _ := d["record"].(map[string]any)
			if rec == nil || rec["id"] != d["recordId"] || rec["tenant"].(map[string]any)["id"] != e.tid.String() {
				t.Fatalf("%v: record %v", d["type"], d["record"])
			}
			byTopic[d["type"].(string)] = append(byTopic[d["type"].(string)], rec)
		}
		field := func(topic string, i int, name string) any {
			t.Helper()
			if len(byTopic[topic]) <= i {
				t.Fatalf("%s: %d deliveries", topic, len(byTopic[topic]))
			}
			return byTopic[topic][i][name]
		}
		check := func(what string, got, want any) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s = %v, want %v", what, got, want)
			}
		}
		check("appointment.created title", field("appointment.created", 0, "title"), "Visit")
		check("appointment.created type", field("appointment.created", 0, "type"), "showroom")
		check("appointment.created url", field("appointment.created", 0, "url"), "https://meet.example/visit")
		check("appointment.created connection", field("appointment.created", 0, "connection"), map[string]any{"id": leadID.String()})
		check("appointment.created assignee", field("appointment.created", 0, "assignee"), map[string]any{"id": me.String()})
		check("appointment.updated noShow", field("appointment.updated", 0, "noShow"), true)
		check("appointment.deleted isDeleted", field("appointment.deleted", 0, "isDeleted"), true)
		fromAutomation := 0
		for i := range byTopic["followUp.created"] {
			if field("followUp.created", i, "fromAutomation") == true {
				fromAutomation++
				check("automation's follow-up title", field("followUp.created", i, "title"), "Confirm the visit")
			}
		}
		check("follow-ups from the automation", fromAutomation, 1)
		check("followUp.deleted isDeleted", field("followUp.deleted", 0, "isDeleted"), true)
		stage := func(i int) map[string]any {
			return map[string]any{"id": stages[i].ID.String(), "name": stages[i].Name}
		}
		check("pipeline.created", []any{field("pipeline.created", 0, "name"), field("pipeline.created", 0, "stages")},
			[]any{"Hooked board", []any{stage(1), stage(0)}})
		check("pipeline.updated stages", field("pipeline.updated", 0, "stages"), []any{stage(0)})
		check("pipeline.deleted", []any{field("pipeline.deleted", 0, "isDeleted"), field("pipeline.deleted", 0, "stages")}, []any{true, []any{}})
	})
}
