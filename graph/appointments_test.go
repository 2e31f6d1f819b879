package graph_test

import (
	"context"
	"testing"

	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func TestAppointmentAndFollowUpMutations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		ctx := registry.Unchecked(tenancy.Bypass(context.Background()))
		me := storetest.UserID(t, db, user)

		r := query(t, s, user, `mutation($me: ID!) { createAppointment(input: {title: "Visit", assigneeID: $me, type: "showroom", url: "https://x.example/a"}) {
			id title type url taskDone } }`, map[string]any{"me": me})
		var created struct {
			CreateAppointment struct {
				ID, Title, Type, URL string
				TaskDone             bool
			}
		}
		r.into(t, &created)
		a := created.CreateAppointment
		if a.Title != "Visit" || a.Type != "showroom" || a.URL != "https://x.example/a" || a.TaskDone {
			t.Fatalf("answer %+v", a)
		}
		r = query(t, s, user, `mutation($id: ID!) { completeAppointment(id: $id) { taskDone edited } }`, map[string]any{"id": a.ID})
		var done struct {
			CompleteAppointment struct{ TaskDone, Edited bool }
		}
		r.into(t, &done)
		if !done.CompleteAppointment.TaskDone || !done.CompleteAppointment.Edited {
			t.Fatalf("completed %+v", done)
		}
		n := db.OutboxEvent.Query().Where(outboxevent.TopicIn("appointment.created", "appointment.updated", "appointment.completed")).CountX(ctx)
		if n != 3 {
			t.Fatalf("%d appointment events, want created, updated, completed", n)
		}

		r = query(t, s, user, `mutation($id: ID!) { updateAppointment(id: $id, input: {url: "ftp://x", assigneeID: "01900000-0000-7000-8000-000000000000"}) { id } }`,
			map[string]any{"id": a.ID})
		if r.code() != "BAD_USER_INPUT" {
			t.Fatalf("errors %+v", r.Errors)
		}
		fields := r.Errors[0].Extensions["fields"].(map[string]any)
		if _, ok := fields["input.url"]; !ok {
			t.Fatalf("fields %v", fields)
		}
		if _, ok := fields["input.assigneeID"]; !ok {
			t.Fatalf("fields %v", fields)
		}

		r = query(t, s, user, `mutation($me: ID!) { createFollowUp(input: {title: "Call back", assigneeID: $me}) { id title fromAutomation } }`, map[string]any{"me": me})
		var fu struct {
			CreateFollowUp struct {
				ID, Title      string
				FromAutomation bool
			}
		}
		r.into(t, &fu)
		if fu.CreateFollowUp.Title != "Call back" || fu.CreateFollowUp.FromAutomation {
			t.Fatalf("follow-up %+v", fu)
		}
		r = query(t, s, otherAdmin, `mutation($id: ID!) { deleteFollowUp(id: $id) }`, map[string]any{"id": fu.CreateFollowUp.ID})
		if r.code() != "NOT_FOUND" {
			t.Fatalf("another tenant's delete: %+v", r.Errors)
		}
		r = query(t, s, user, `mutation($id: ID!) { deleteFollowUp(id: $id) }`, map[string]any{"id": fu.CreateFollowUp.ID})
		var deleted struct{ DeleteFollowUp string }
		r.into(t, &deleted)
		if deleted.DeleteFollowUp != fu.CreateFollowUp.ID {
			t.Fatalf("deleted %+v", deleted)
		}
	})
}
