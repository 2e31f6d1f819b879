package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// gqlMutation is one GraphQL mutation, the permission it needs, and a
// valid operation for a user who may run it.
type gqlMutation struct {
	name string
	perm string
	also []string // as restRoute.also
	rule string
	// op returns the operation and its variables for a request by a in f,
	// creating the records a destructive mutation consumes.
	op func(f *tenantFixture, a actor) (string, map[string]any)
}

// gqlOp builds "mutation(<decls>) { name(<args>) <sel> }".
func gqlOp(decls, name, args, sel string) string {
	if decls != "" {
		decls = "(" + decls + ")"
	}
	return fmt.Sprintf("mutation%s { %s(%s) %s }", decls, name, args, sel)
}

func withID(decl, name, sel string, target func(f *tenantFixture, a actor) uuid.UUID, input func(f *tenantFixture, a actor) any) func(*tenantFixture, actor) (string, map[string]any) {
	return func(f *tenantFixture, a actor) (string, map[string]any) {
		vars := map[string]any{"id": target(f, a).String()}
		decls, args := "$id: ID!", "id: $id"
		if input != nil {
			vars["input"] = input(f, a)
			decls += ", $input: " + decl
			args += ", input: $input"
		}
		return gqlOp(decls, name, args, sel), vars
	}
}

func create(decl, name, sel string, input func(f *tenantFixture, a actor) any) func(*tenantFixture, actor) (string, map[string]any) {
	return func(f *tenantFixture, a actor) (string, map[string]any) {
		return gqlOp("$input: "+decl, name, "input: $input", sel), map[string]any{"input": input(f, a)}
	}
}

var graphqlMutations = []gqlMutation{
	{name: "createAccount", perm: crm.PermAccountWrite, op: create("AccountInput!", "createAccount", "{ id }",
		func(f *tenantFixture, _ actor) any { return map[string]any{"name": f.name("GraphQL account")} })},
	{name: "updateAccount", perm: crm.PermAccountWrite, op: withID("AccountInput!", "updateAccount", "{ id }",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newAccount() },
		func(f *tenantFixture, _ actor) any { return map[string]any{"name": f.name("Renamed")} })},
	{name: "deleteAccount", perm: crm.PermAccountDelete, op: withID("", "deleteAccount", "",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newAccount() }, nil)},

	{name: "createLead", perm: crm.PermLeadCreate, op: create("LeadInput!", "createLead", "{ id }",
		func(f *tenantFixture, _ actor) any {
			return map[string]any{"subject": f.name("GraphQL lead"), "departmentID": f.department, "contactID": f.contact,
				"sourceID": f.source, "franchiseID": f.franchise}
		})},
	{name: "copyLead", perm: crm.PermLeadCopy, op: withID("CopyLeadInput!", "copyLead", "{ id }",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.lead },
		func(f *tenantFixture, _ actor) any { return map[string]any{"contactID": f.contact2} })},

	{name: "deleteLead", perm: crm.PermLeadDelete, op: withID("", "deleteLead", "",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newLead() }, nil)},

	{name: "createTask", perm: crm.PermTaskWrite, op: create("TaskInput!", "createTask", "{ id }",
		func(f *tenantFixture, a actor) any {
			return map[string]any{"title": f.name("GraphQL task"), "assigneeID": a.id}
		})},
	{name: "updateTask", perm: crm.PermTaskWrite, rule: ruleTask, op: withID("TaskInput!", "updateTask", "{ id }",
		func(f *tenantFixture, a actor) uuid.UUID { return f.newTask(a, a.id) },
		func(f *tenantFixture, _ actor) any { return map[string]any{"title": f.name("Retitled")} })},
	{name: "deleteTask", perm: crm.PermTaskDelete, rule: ruleTask, op: withID("", "deleteTask", "",
		func(f *tenantFixture, a actor) uuid.UUID { return f.newTask(a, a.id) }, nil)},

	{name: "createAppointment", perm: crm.PermEventWrite, op: create("AppointmentInput!", "createAppointment", "{ id }",
		func(f *tenantFixture, a actor) any {
			return map[string]any{"title": f.name("GraphQL appointment"), "assigneeID": a.id}
		})},
	{name: "updateAppointment", perm: crm.PermEventWrite, rule: ruleTask, op: withID("AppointmentInput!", "updateAppointment", "{ id }",
		func(f *tenantFixture, a actor) uuid.UUID { return f.newAppointment(a, a.id) },
		func(f *tenantFixture, _ actor) any {
			return map[string]any{"title": f.name("Retitled"), "noShow": true}
		})},
	{name: "completeAppointment", perm: crm.PermEventWrite, rule: ruleTask, op: withID("", "completeAppointment", "{ id taskDone }",
		func(f *tenantFixture, a actor) uuid.UUID { return f.newAppointment(a, a.id) }, nil)},
	{name: "deleteAppointment", perm: crm.PermEventDelete, rule: ruleTask, op: withID("", "deleteAppointment", "",
		func(f *tenantFixture, a actor) uuid.UUID { return f.newAppointment(a, a.id) }, nil)},
	{name: "createFollowUp", perm: crm.PermEventWrite, op: create("FollowUpInput!", "createFollowUp", "{ id }",
		func(f *tenantFixture, a actor) any {
			return map[string]any{"title": f.name("GraphQL follow-up"), "assigneeID": a.id}
		})},
	{name: "updateFollowUp", perm: crm.PermEventWrite, rule: ruleTask, op: withID("FollowUpInput!", "updateFollowUp", "{ id }",
		func(f *tenantFixture, a actor) uuid.UUID { return f.newFollowUp(a, a.id) },
		func(f *tenantFixture, _ actor) any { return map[string]any{"title": f.name("Retitled")} })},
	{name: "completeFollowUp", perm: crm.PermEventWrite, rule: ruleTask, op: withID("", "completeFollowUp", "{ id taskDone }",
		func(f *tenantFixture, a actor) uuid.UUID { return f.newFollowUp(a, a.id) }, nil)},
	{name: "deleteFollowUp", perm: crm.PermEventDelete, rule: ruleTask, op: withID("", "deleteFollowUp", "",
		func(f *tenantFixture, a actor) uuid.UUID { return f.newFollowUp(a, a.id) }, nil)},

	{name: "createStage", perm: crm.PermStageManage, op: create("StageInput!", "createStage", "{ id }",
		func(f *tenantFixture, _ actor) any { return map[string]any{"name": f.name("GraphQL stage")} })},
	{name: "updateStage", perm: crm.PermStageManage, op: withID("StageInput!", "updateStage", "{ id }",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newStage() },
		func(f *tenantFixture, _ actor) any { return map[string]any{"name": f.name("Renamed stage")} })},
	{name: "deleteStage", perm: crm.PermStageManage, op: withID("", "deleteStage", "",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newStage() }, nil)},

	{name: "createCustomField", perm: crm.PermCustomFieldManage, op: create("CustomFieldInput!", "createCustomField", "{ id }",
		func(f *tenantFixture, _ actor) any {
			return map[string]any{"entity": "lead", "fieldName": strings.ReplaceAll(f.name("gql_field"), " ", "_"), "fieldType": "text"}
		})},
	{name: "updateCustomField", perm: crm.PermCustomFieldManage, op: withID("CustomFieldInput!", "updateCustomField", "{ id }",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newCustomField() },
		func(f *tenantFixture, _ actor) any {
			return map[string]any{"fieldName": strings.ReplaceAll(f.name("gql_renamed"), " ", "_")}
		})},
	{name: "deleteCustomField", perm: crm.PermCustomFieldManage, op: withID("", "deleteCustomField", "",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newCustomField() }, nil)},

	{name: "createCustomLabel", perm: crm.PermCustomLabelManage, op: func(f *tenantFixture, _ actor) (string, map[string]any) {
		return gqlOp("$value: Map!", "createCustomLabel", "value: $value", "{ id }"), map[string]any{"value": map[string]any{"lead": f.name("Deal")}}
	}},
	{name: "updateCustomLabel", perm: crm.PermCustomLabelManage, op: func(f *tenantFixture, _ actor) (string, map[string]any) {
		return gqlOp("$id: ID!, $value: Map!", "updateCustomLabel", "id: $id, value: $value", "{ id }"),
			map[string]any{"id": f.newLabel(), "value": map[string]any{"lead": "Opportunity"}}
	}},
	{name: "deleteCustomLabel", perm: crm.PermCustomLabelManage, op: withID("", "deleteCustomLabel", "",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newLabel() }, nil)},

	{name: "createAutomation", perm: crm.PermAutomationManage, op: create("AutomationInput!", "createAutomation", "{ id }",
		func(f *tenantFixture, _ actor) any {
			return map[string]any{"name": f.name("GraphQL automation"), "automationTrigger": "lead.created"}
		})},
	{name: "updateAutomation", perm: crm.PermAutomationManage, op: withID("AutomationInput!", "updateAutomation", "{ id }",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newAutomation() },
		func(f *tenantFixture, _ actor) any { return map[string]any{"name": f.name("Renamed automation")} })},
	{name: "duplicateAutomation", perm: crm.PermAutomationManage, op: withID("", "duplicateAutomation", "{ id }",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newAutomation() }, nil)},
	{name: "deleteAutomation", perm: crm.PermAutomationManage, op: withID("", "deleteAutomation", "",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newAutomation() }, nil)},

	{name: "createSavedFilter", perm: crm.PermSavedFilterWrite, also: []string{crm.PermLeadRead},
		op: create("SavedFilterInput!", "createSavedFilter", "{ id }", func(f *tenantFixture, _ actor) any {
			return map[string]any{"name": f.name("GraphQL filter"), "module": "lead", "value": savedFilterValue}
		})},
	{name: "updateSavedFilter", perm: crm.PermSavedFilterWrite, rule: ruleSavedFilter, op: withID("SavedFilterInput!", "updateSavedFilter", "{ id }",
		func(f *tenantFixture, a actor) uuid.UUID { return f.newSavedFilter(a, true) },
		func(f *tenantFixture, _ actor) any { return map[string]any{"name": f.name("Renamed filter")} })},
	{name: "deleteSavedFilter", perm: crm.PermSavedFilterWrite, rule: ruleSavedFilter, op: withID("", "deleteSavedFilter", "",
		func(f *tenantFixture, a actor) uuid.UUID { return f.newSavedFilter(a, true) }, nil)},

	{name: "createApiKey", perm: crm.PermAPIKeyManage, op: create("CreateApiKeyInput!", "createApiKey", "{ secret }",
		func(f *tenantFixture, _ actor) any { return map[string]any{"name": f.name("GraphQL key")} })},
	{name: "revokeApiKey", perm: crm.PermAPIKeyManage, op: withID("", "revokeApiKey", "{ id }",
		func(f *tenantFixture, _ actor) uuid.UUID { return f.newAPIKey() }, nil)},
}

// mutationLanded reports whether the schema has the mutation.
func mutationLanded(g *gateway, a actor, name string) bool {
	res, out := g.graphql(a, `{ __type(name: "Mutation") { fields { name } } }`, nil)
	if res.Status != http.StatusOK {
		return false
	}
	var typ struct {
		Type *struct{ Fields []struct{ Name string } } `json:"__type"`
	}
	if err := json.Unmarshal(out.Data["__type"], &typ.Type); err != nil || typ.Type == nil {
		return false
	}
	return slices.ContainsFunc(typ.Type.Fields, func(f struct{ Name string }) bool { return f.Name == name })
}

// forbidden fails t unless out is a FORBIDDEN error and no data.
func forbidden(t *testing.T, who string, res int, out gqlResponse, body []byte) {
	t.Helper()
	if res != http.StatusOK || len(out.Errors) == 0 || !slices.Contains(out.codes(), "FORBIDDEN") {
		t.Errorf("as %s: %d %s; want a FORBIDDEN error", who, res, body)
	}
}

// The GraphQL permission matrix, as the REST one: every mutation and every
// root list as ADMIN, MANAGER, USER, a user with no role, a user holding
// only the permission and one holding all but it. Without the permission:
// a FORBIDDEN error and nothing written.
func TestGraphQLPermissionMatrix(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		all := make([]string, 0, len(crm.Catalogue))
		for _, p := range crm.Catalogue {
			all = append(all, p.Name)
		}
		type cell struct {
			a       actor
			allowed bool
		}
		cells := func(perm string, also []string) []cell {
			only := f.roleUser("gqlonly", append([]string{perm}, also...))
			allBut := f.roleUser("gqlallbut", slices.DeleteFunc(slices.Clone(all), func(p string) bool { return p == perm }))
			return []cell{
				{f.admin, holds("ADMIN", perm)}, {f.manager, holds("MANAGER", perm)}, {f.user, holds("USER", perm)},
				{f.noRole, false}, {only, true}, {allBut, false},
			}
		}
		for _, m := range graphqlMutations {
			t.Run(m.name, func(t *testing.T) {
				if !mutationLanded(g, f.admin, m.name) {
					t.Fatalf("mutation %s has not landed", m.name)
				}
				for _, c := range cells(m.perm, m.also) {
					query, vars := m.op(f, c.a)
					before := storetest.TakeSnapshot(t, db)
					res, out := g.graphql(c.a, query, vars)
					if !c.allowed {
						forbidden(t, c.a.name, res.Status, out, res.Body)
						storetest.NothingWritten(t, db, before)
						continue
					}
					if res.Status != http.StatusOK || len(out.Errors) > 0 {
						t.Errorf("as %s (with %s): %d %s", c.a.name, m.perm, res.Status, res.Body)
					}
				}
			})
		}
		queries := map[string]string{`filterConfig(entity: "lead")`: `{ filterConfig(entity: "lead") }`}
		// Every root list of the registry, with its read permission.
		var roots []struct{ field, perm string }
		for _, e := range registry.Roots() {
			roots = append(roots, struct{ field, perm string }{e.Root, e.Read})
		}
		roots = append(roots, struct{ field, perm string }{`filterConfig(entity: "lead")`, crm.PermLeadRead})
		for _, r := range roots {
			t.Run(r.field, func(t *testing.T) {
				q, ok := queries[r.field]
				if !ok {
					q = fmt.Sprintf("{ %s(first: 1) { totalCount } }", r.field)
				}
				if res, _ := g.graphql(f.admin, q, nil); strings.Contains(string(res.Body), "Cannot query field") {
					t.Fatalf("%s has not landed", r.field)
				}
				for _, c := range cells(r.perm, nil) {
					res, out := g.graphql(c.a, q, nil)
					if !c.allowed {
						forbidden(t, c.a.name, res.Status, out, res.Body)
						continue
					}
					if res.Status != http.StatusOK || len(out.Errors) > 0 {
						t.Errorf("as %s (with %s): %d %s", c.a.name, r.perm, res.Status, res.Body)
					}
				}
			})
		}
	})
}
