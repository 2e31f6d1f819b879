package graph_test

import (
	"context"
	"testing"

	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func TestLeadMutations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		ctx := tenancy.Bypass(context.Background())
		tid := storetest.TenantID(t, db, "demo-motors.test")
		d := db.Department.Query().Where(department.TenantID(tid), department.FranchiseIDNotNil(), department.PipelineIDNotNil()).FirstX(ctx)
		l := db.Lead.Query().Where(lead.TenantID(tid), lead.DepartmentID(d.ID), lead.HasStatusWith(status.KindEQ(status.KindOPEN))).FirstX(ctx)
		sold := db.Status.Query().Where(status.TenantID(tid), status.KindEQ(status.KindSOLD)).FirstIDX(ctx)

		t.Run("updateLead answers the committed state and emits its events", func(t *testing.T) {
			r := query(t, s, admin, `mutation($id: ID!, $st: ID!) { updateLead(id: $id, input: {statusID: $st, makeStr: "Honda", testDriveDone: true}) {
				id makeStr soldDate testDriveDone testDriveDate dateFirstModified status { id } } }`,
				map[string]any{"id": l.ID, "st": sold})
			var data struct {
				UpdateLead struct {
					MakeStr                                    *string
					SoldDate, TestDriveDate, DateFirstModified *string
					TestDriveDone                              *bool
					Status                                     struct{ ID string }
				}
			}
			r.into(t, &data)
			u := data.UpdateLead
			if *u.MakeStr != "Honda" || u.SoldDate == nil || u.TestDriveDate == nil || !*u.TestDriveDone || u.Status.ID != sold.String() {
				t.Fatalf("answer %+v", u)
			}
			n := db.OutboxEvent.Query().Where(outboxevent.SubjectID(l.ID), outboxevent.TopicIn("lead.updated", "lead.status_changed")).CountX(ctx)
			if n != 2 {
				t.Fatalf("%d events, want lead.updated and lead.status_changed", n)
			}
		})
		t.Run("a refused transition is BAD_USER_INPUT naming the field", func(t *testing.T) {
			lost := db.Status.Query().Where(status.TenantID(tid), status.KindEQ(status.KindLOST)).FirstIDX(ctx)
			r := query(t, s, admin, `mutation($id: ID!, $st: ID!) { updateLead(id: $id, input: {statusID: $st}) { id } }`,
				map[string]any{"id": l.ID, "st": lost})
			if r.code() != "BAD_USER_INPUT" {
				t.Fatalf("errors %+v", r.Errors)
			}
			if _, ok := r.Errors[0].Extensions["fields"].(map[string]any)["input.statusID"]; !ok {
				t.Fatalf("fields %v", r.Errors[0].Extensions)
			}
		})
		t.Run("moveLead, assignLead, openLead", func(t *testing.T) {
			other := db.Lead.Query().Where(lead.TenantID(tid), lead.DepartmentID(d.ID), lead.HasStatusWith(status.KindEQ(status.KindOPEN)), lead.IDNEQ(l.ID)).FirstX(ctx)
			r := query(t, s, admin, `mutation($id: ID!, $stage: ID!) { moveLead(id: $id, stageID: $stage, position: 0) { boardPosition stage { id } } }`,
				map[string]any{"id": other.ID, "stage": other.StageID})
			var moved struct{ MoveLead struct{ BoardPosition int } }
			r.into(t, &moved)
			if moved.MoveLead.BoardPosition != 0 {
				t.Fatalf("moved %+v", moved)
			}
			r = query(t, s, admin, `mutation($id: ID!) { assignLead(id: $id, assigneeIDs: ["01900000-0000-7000-8000-000000000000"]) { id } }`,
				map[string]any{"id": other.ID})
			if r.code() != "BAD_USER_INPUT" {
				t.Fatalf("errors %+v", r.Errors)
			}
			r = query(t, s, user, `mutation($id: ID!) { openLead(id: $id) { firstOpenDate } }`, map[string]any{"id": other.ID})
			var opened struct {
				OpenLead struct{ FirstOpenDate *string }
			}
			r.into(t, &opened)
			if opened.OpenLead.FirstOpenDate == nil {
				t.Fatalf("opened %+v", opened)
			}
			r = query(t, s, user, `mutation($id: ID!) { updateLead(id: $id, input: {subject: "x"}) { id } }`, map[string]any{"id": other.ID})
			if r.code() != "FORBIDDEN" {
				t.Fatalf("USER update: %+v", r.Errors)
			}
		})
		t.Run("another tenant's lead is NOT_FOUND", func(t *testing.T) {
			foreign := db.Lead.Query().Where(lead.TenantIDNEQ(tid)).FirstIDX(ctx)
			r := query(t, s, admin, `mutation($id: ID!) { updateLead(id: $id, input: {subject: "x"}) { id } }`, map[string]any{"id": foreign})
			if r.code() != "NOT_FOUND" {
				t.Fatalf("errors %+v", r.Errors)
			}
		})
	})
}

func TestContactAndPipelineMutations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		ctx := tenancy.Bypass(context.Background())

		r := query(t, s, admin, `mutation { createContact(input: {firstName: "Ada", city: "Laval"}) { id firstName city } }`, nil)
		var created struct {
			CreateContact struct{ ID, FirstName, City string }
		}
		r.into(t, &created)
		id := created.CreateContact.ID
		if created.CreateContact.FirstName != "Ada" || created.CreateContact.City != "Laval" {
			t.Fatalf("created %+v", created)
		}
		r = query(t, s, admin, `mutation($id: ID!) { updateContact(id: $id, input: {primaryEmail: "nope"}) { id } }`, map[string]any{"id": id})
		if r.code() != "BAD_USER_INPUT" {
			t.Fatalf("errors %+v", r.Errors)
		}
		if _, ok := r.Errors[0].Extensions["fields"].(map[string]any)["input.primaryEmail"]; !ok {
			t.Fatalf("fields %v", r.Errors[0].Extensions)
		}
		r = query(t, s, user, `mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": id})
		if r.code() != "FORBIDDEN" {
			t.Fatalf("USER delete: %+v", r.Errors)
		}
		r = query(t, s, admin, `mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": id})
		if len(r.Errors) > 0 {
			t.Fatalf("errors %+v", r.Errors)
		}
		if n := db.OutboxEvent.Query().Where(outboxevent.TopicIn("contact.created", "contact.deleted")).CountX(ctx); n != 2 {
			t.Fatalf("%d contact events", n)
		}

		tid := storetest.TenantID(t, db, "demo-motors.test")
		stage := db.ConnectionStage.Create().SetTenantID(tid).SetName("Fresh").SaveX(ctx).ID
		r = query(t, s, admin, `mutation($st: ID!) { createPipeline(name: "Service", stageIDs: [$st]) { id name pipelineStages { position stage { id } } } }`,
			map[string]any{"st": stage})
		var p struct {
			CreatePipeline struct {
				ID             string
				PipelineStages []struct{ Position int }
			}
		}
		r.into(t, &p)
		if len(p.CreatePipeline.PipelineStages) != 1 {
			t.Fatalf("pipeline %+v", p)
		}
		r = query(t, s, user, `mutation($id: ID!) { renamePipeline(id: $id, name: "x") { id } }`, map[string]any{"id": p.CreatePipeline.ID})
		if r.code() != "FORBIDDEN" {
			t.Fatalf("USER rename: %+v", r.Errors)
		}
		r = query(t, s, admin, `mutation($id: ID!, $st: ID!) { movePipelineStage(pipelineID: $id, stageID: $st, position: -1) { id } }`,
			map[string]any{"id": p.CreatePipeline.ID, "st": stage})
		if r.code() != "BAD_USER_INPUT" {
			t.Fatalf("negative position: %+v", r.Errors)
		}
	})
}
