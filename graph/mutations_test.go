package graph_test

import (
	"context"
	"testing"

	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func TestMutationsGoThroughTheDomainRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})

		t.Run("a write answers with the selection", func(t *testing.T) {
			r := query(t, s, admin, `mutation { createAccount(input: {name: "Acme", city: "Laval",
				contacts: [{firstName: "Ada", lastName: "Byron", primaryEmail: "ada@acme.test"}]}) {
				id name city createdBy { email } contacts { firstName accounts { name } } } }`, nil)
			var data struct {
				CreateAccount struct {
					Name      string
					CreatedBy struct{ Email string }
					Contacts  []struct {
						FirstName string
						Accounts  []struct{ Name string }
					}
				}
			}
			r.into(t, &data)
			a := data.CreateAccount
			if a.Name != "Acme" || a.CreatedBy.Email != admin || len(a.Contacts) != 1 ||
				a.Contacts[0].FirstName != "Ada" || a.Contacts[0].Accounts[0].Name != "Acme" {
				t.Fatalf("created %+v", a)
			}
		})

		t.Run("bad input names each field by its path and writes nothing", func(t *testing.T) {
			before, _ := db.Task.Query().Count(tenancy.Bypass(context.Background()))
			r := query(t, s, admin, `mutation { createTask(input: {note: "n"}) { id } }`, nil)
			if r.code() != "BAD_USER_INPUT" {
				t.Fatalf("errors %+v", r.Errors)
			}
			fields, _ := r.Errors[0].Extensions["fields"].(map[string]any)
			for _, f := range []string{"input.title", "input.assigneeID"} {
				if _, ok := fields[f]; !ok {
					t.Errorf("no error for %s in %v", f, fields)
				}
			}
			after, _ := db.Task.Query().Count(tenancy.Bypass(context.Background()))
			if after != before {
				t.Errorf("tasks: %d before, %d after a refused create", before, after)
			}
		})

		t.Run("a rule of the domain layer holds", func(t *testing.T) {
			r := query(t, s, admin, `mutation { createStage(input: {name: "  "}) { id } }`, nil)
			if r.code() != "BAD_USER_INPUT" {
				t.Fatalf("blank stage name: %+v", r.Errors)
			}
		})

		t.Run("a user without the permission is refused", func(t *testing.T) {
			ctx := tenancy.Bypass(context.Background())
			n, _ := db.ConnectionStage.Query().Where(connectionstage.TenantID(storetest.TenantID(t, db, "demo-motors.test"))).Count(ctx)
			r := query(t, s, user, `mutation { createStage(input: {name: "Mine"}) { id } }`, nil)
			if r.code() != "FORBIDDEN" || r.Errors[0].Message != "Access denied" {
				t.Fatalf("errors %+v", r.Errors)
			}
			if m, _ := db.ConnectionStage.Query().Where(connectionstage.TenantID(storetest.TenantID(t, db, "demo-motors.test"))).Count(ctx); m != n {
				t.Errorf("stages: %d before, %d after", n, m)
			}
		})

		t.Run("unknown ids are NOT_FOUND", func(t *testing.T) {
			r := query(t, s, admin, `mutation { deleteTask(id: "01900000-0000-7000-8000-000000000000") }`, nil)
			if r.code() != "NOT_FOUND" {
				t.Fatalf("errors %+v", r.Errors)
			}
		})
	})
}
