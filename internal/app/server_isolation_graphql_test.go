package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// sameGraphQLAnswer fails t unless two GraphQL responses are the same up
// to the ids they name.
func sameGraphQLAnswer(t *testing.T, what string, foreign, unknown []byte, foreignID, unknownID uuid.UUID) {
	t.Helper()
	a := strings.ReplaceAll(string(foreign), foreignID.String(), "<id>")
	b := strings.ReplaceAll(string(unknown), unknownID.String(), "<id>")
	if a != b {
		t.Errorf("%s: another tenant's record answers %s, an unknown one %s: they must not differ", what, a, b)
	}
}

// foreignRecords returns one record of each kind of the other tenant.
func foreignRecords(o *tenantFixture) map[string]uuid.UUID {
	return map[string]uuid.UUID{
		"account": o.newAccount(), "contact": o.contact, "lead": o.lead, "task": o.newTask(o.admin, o.user.id),
		"stage": o.newStage(), "custom field": o.newCustomField(), "custom label": o.newLabel(),
		"automation": o.newAutomation(), "shared saved filter": o.newSavedFilter(o.admin, false),
		"user": o.user.id, "security group": o.group, "franchise": o.franchise, "department": o.department,
		"source": o.source, "tenant": o.id,
	}
}

// node(id) and nodes(ids) answer another tenant's record of any type
// exactly like an id that exists nowhere.
func TestGraphQLNodeOfAnotherTenantIsLikeAnUnknownID(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		g := startGateway(t, db)
		for kind, foreignID := range foreignRecords(fx.other) {
			t.Run(kind, func(t *testing.T) {
				unknownID := unknownLike(foreignID)
				for _, q := range []string{
					`query($id: ID!) { node(id: $id) { id __typename } }`,
					`query($id: ID!) { nodes(ids: [$id]) { id __typename } }`,
				} {
					resF, outF := g.graphql(fx.demo.admin, q, map[string]any{"id": foreignID})
					resU, _ := g.graphql(fx.demo.admin, q, map[string]any{"id": unknownID})
					if resF.Status != http.StatusOK {
						t.Fatalf("%d %s", resF.Status, resF.Body)
					}
					if strings.Contains(string(outF.Data["node"]), foreignID.String()) || strings.Contains(string(outF.Data["nodes"]), foreignID.String()) {
						t.Errorf("%s returned another tenant's %s: %s", q, kind, resF.Body)
					}
					sameGraphQLAnswer(t, q, resF.Body, resU.Body, foreignID, unknownID)
				}
			})
		}
	})
}

// No GraphQL read shows another tenant's rows: the ids of every row of the
// other tenant are absent from every root list, nested relations included,
// and from lists filtered on those ids.
func TestGraphQLReadsNeverShowAnotherTenantsRecords(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		g := startGateway(t, db)
		fr := foreignRecords(fx.other)
		foreign := tenantIDs(t, db, fx.other.id)
		queries := []string{
			`{ accounts(first: 100) { totalCount edges { node { id name primaryContact { id } contacts { id accounts { id } } } } } }`,
			`{ contacts(first: 100) { totalCount edges { node { id accounts { id contacts { id } } } } } }`,
			`{ leads(first: 100) { totalCount edges { node { id contact { id } account { id } franchise { id } department { id } source { id } stage { id } assignees { id } } } } }`,
			`{ tasks(first: 100) { edges { node { id } } } }`,
			`{ users(first: 100) { edges { node { id } } } securityGroups(first: 100) { edges { node { id } } } }`,
			`{ stages(first: 100) { edges { node { id } } } customFields(first: 100) { edges { node { id } } } customLabels(first: 100) { edges { node { id } } } }`,
			`{ automations(first: 100) { edges { node { id } } } savedFilters(first: 100) { edges { node { id } } } }`,
			`{ franchises(first: 100) { edges { node { id } } } departments(first: 100) { edges { node { id } } } sources(first: 100) { edges { node { id } } } statuses(first: 100) { edges { node { id } } } pipelines(first: 100) { edges { node { id } } } }`,
			`{ viewer { user { id } tenant { id } permissions } }`,
			fmt.Sprintf(`{ leads(where: {hasContactWith: {id: %q}}) { totalCount edges { node { id } } } }`, fr["contact"]),
			fmt.Sprintf(`{ accounts(where: {id: %q}) { totalCount edges { node { id } } } }`, fr["account"]),
		}
		for _, as := range []actor{fx.demo.admin, fx.demo.user} {
			for _, q := range queries {
				res, out := g.graphql(as, q, nil)
				if res.Status != http.StatusOK {
					t.Errorf("as %s: %s → %d %s", as.name, q, res.Status, res.Body)
					continue
				}
				if as.name == "ADMIN" && len(out.Errors) > 0 {
					t.Errorf("as ADMIN: %s → %s", q, res.Body)
				}
				for _, id := range foreign {
					if strings.Contains(string(res.Body), id) {
						t.Errorf("as %s: %s shows %s of the other tenant", as.name, q, id)
					}
				}
			}
		}
	})
}

// gqlRef is a mutation naming another tenant's record, in its id argument
// or in its input.
type gqlRef struct {
	name     string
	mutation string
	foreign  func(o *tenantFixture) uuid.UUID
	op       func(f *tenantFixture, ref uuid.UUID) (string, map[string]any)
}

func gqlRefs() []gqlRef {
	byID := func(name, decl string, input func(f *tenantFixture) any) func(*tenantFixture, uuid.UUID) (string, map[string]any) {
		return func(f *tenantFixture, ref uuid.UUID) (string, map[string]any) {
			vars := map[string]any{"id": ref}
			decls, args := "$id: ID!", "id: $id"
			if input != nil {
				vars["input"] = input(f)
				decls += ", $input: " + decl
				args += ", input: $input"
			}
			sel := "{ id }"
			if strings.HasPrefix(name, "delete") {
				sel = ""
			}
			return gqlOp(decls, name, args, sel), vars
		}
	}
	in := func(name, decl string, input func(f *tenantFixture, ref uuid.UUID) any) func(*tenantFixture, uuid.UUID) (string, map[string]any) {
		return func(f *tenantFixture, ref uuid.UUID) (string, map[string]any) {
			return gqlOp("$input: "+decl, name, "input: $input", "{ id }"), map[string]any{"input": input(f, ref)}
		}
	}
	lead := func(key string) func(*tenantFixture, uuid.UUID) any {
		return func(f *tenantFixture, ref uuid.UUID) any {
			m := map[string]any{"subject": "Isolation", "departmentID": f.department, "contactID": f.contact,
				"sourceID": f.source, "franchiseID": f.franchise}
			if key == "assigneeIDs" {
				m[key] = []any{ref}
			} else {
				m[key] = ref
			}
			return m
		}
	}
	task := func(key string) func(*tenantFixture, uuid.UUID) any {
		return func(f *tenantFixture, ref uuid.UUID) any {
			return map[string]any{"title": "Isolation", "assigneeID": f.user.id, key: ref}
		}
	}
	name := func(f *tenantFixture) any { return map[string]any{"name": "Stolen"} }
	return append(writeRefs(), []gqlRef{
		{"updateAccount id", "updateAccount", func(o *tenantFixture) uuid.UUID { return o.newAccount() }, byID("updateAccount", "AccountInput!", name)},
		{"deleteAccount id", "deleteAccount", func(o *tenantFixture) uuid.UUID { return o.newAccount() }, byID("deleteAccount", "", nil)},
		{"copyLead id", "copyLead", func(o *tenantFixture) uuid.UUID { return o.lead },
			byID("copyLead", "CopyLeadInput!", func(f *tenantFixture) any { return map[string]any{"contactID": f.contact} })},
		{"updateTask id", "updateTask", func(o *tenantFixture) uuid.UUID { return o.newTask(o.admin, o.user.id) },
			byID("updateTask", "TaskInput!", func(*tenantFixture) any { return map[string]any{"title": "Stolen"} })},
		{"deleteTask id", "deleteTask", func(o *tenantFixture) uuid.UUID { return o.newTask(o.admin, o.user.id) }, byID("deleteTask", "", nil)},
		{"deleteLead id", "deleteLead", func(o *tenantFixture) uuid.UUID { return o.newLead() }, byID("deleteLead", "", nil)},
		{"updateAppointment id", "updateAppointment", func(o *tenantFixture) uuid.UUID { return o.newAppointment(o.admin, o.user.id) },
			byID("updateAppointment", "AppointmentInput!", func(*tenantFixture) any { return map[string]any{"title": "Stolen"} })},
		{"completeAppointment id", "completeAppointment", func(o *tenantFixture) uuid.UUID { return o.newAppointment(o.admin, o.user.id) }, byID("completeAppointment", "", nil)},
		{"deleteAppointment id", "deleteAppointment", func(o *tenantFixture) uuid.UUID { return o.newAppointment(o.admin, o.user.id) }, byID("deleteAppointment", "", nil)},
		{"updateFollowUp id", "updateFollowUp", func(o *tenantFixture) uuid.UUID { return o.newFollowUp(o.admin, o.user.id) },
			byID("updateFollowUp", "FollowUpInput!", func(*tenantFixture) any { return map[string]any{"title": "Stolen"} })},
		{"completeFollowUp id", "completeFollowUp", func(o *tenantFixture) uuid.UUID { return o.newFollowUp(o.admin, o.user.id) }, byID("completeFollowUp", "", nil)},
		{"deleteFollowUp id", "deleteFollowUp", func(o *tenantFixture) uuid.UUID { return o.newFollowUp(o.admin, o.user.id) }, byID("deleteFollowUp", "", nil)},
		{"updateStage id", "updateStage", func(o *tenantFixture) uuid.UUID { return o.newStage() }, byID("updateStage", "StageInput!", name)},
		{"deleteStage id", "deleteStage", func(o *tenantFixture) uuid.UUID { return o.newStage() }, byID("deleteStage", "", nil)},
		{"updateCustomField id", "updateCustomField", func(o *tenantFixture) uuid.UUID { return o.newCustomField() },
			byID("updateCustomField", "CustomFieldInput!", func(*tenantFixture) any { return map[string]any{"fieldName": "stolen"} })},
		{"deleteCustomField id", "deleteCustomField", func(o *tenantFixture) uuid.UUID { return o.newCustomField() }, byID("deleteCustomField", "", nil)},
		{"deleteCustomLabel id", "deleteCustomLabel", func(o *tenantFixture) uuid.UUID { return o.newLabel() }, byID("deleteCustomLabel", "", nil)},
		{"updateAutomation id", "updateAutomation", func(o *tenantFixture) uuid.UUID { return o.newAutomation() }, byID("updateAutomation", "AutomationInput!", name)},
		{"duplicateAutomation id", "duplicateAutomation", func(o *tenantFixture) uuid.UUID { return o.newAutomation() }, byID("duplicateAutomation", "", nil)},
		{"deleteAutomation id", "deleteAutomation", func(o *tenantFixture) uuid.UUID { return o.newAutomation() }, byID("deleteAutomation", "", nil)},
		{"updateSavedFilter id", "updateSavedFilter", func(o *tenantFixture) uuid.UUID { return o.newSavedFilter(o.admin, false) },
			byID("updateSavedFilter", "SavedFilterInput!", name)},
		{"deleteSavedFilter id", "deleteSavedFilter", func(o *tenantFixture) uuid.UUID { return o.newSavedFilter(o.admin, false) }, byID("deleteSavedFilter", "", nil)},

		{"createAccount primary contact", "createAccount", func(o *tenantFixture) uuid.UUID { return o.contact },
			in("createAccount", "AccountInput!", func(_ *tenantFixture, ref uuid.UUID) any {
				return map[string]any{"name": "Isolation", "primaryContact": map[string]any{"id": ref}}
			})},
		{"createAccount contacts", "createAccount", func(o *tenantFixture) uuid.UUID { return o.contact },
			in("createAccount", "AccountInput!", func(_ *tenantFixture, ref uuid.UUID) any {
				return map[string]any{"name": "Isolation", "contacts": []any{map[string]any{"id": ref}}}
			})},
		{"createLead contact", "createLead", func(o *tenantFixture) uuid.UUID { return o.contact }, in("createLead", "LeadInput!", lead("contactID"))},
		{"createLead account", "createLead", func(o *tenantFixture) uuid.UUID { return o.newAccount() }, in("createLead", "LeadInput!", lead("accountID"))},
		{"createLead source", "createLead", func(o *tenantFixture) uuid.UUID { return o.source }, in("createLead", "LeadInput!", lead("sourceID"))},
		{"createLead franchise", "createLead", func(o *tenantFixture) uuid.UUID { return o.franchise }, in("createLead", "LeadInput!", lead("franchiseID"))},
		{"createLead department", "createLead", func(o *tenantFixture) uuid.UUID { return o.department }, in("createLead", "LeadInput!", lead("departmentID"))},
		{"createLead assignee", "createLead", func(o *tenantFixture) uuid.UUID { return o.user.id }, in("createLead", "LeadInput!", lead("assigneeIDs"))},
		{"createTask assignee", "createTask", func(o *tenantFixture) uuid.UUID { return o.user.id }, in("createTask", "TaskInput!", task("assigneeID"))},
		{"createTask contact", "createTask", func(o *tenantFixture) uuid.UUID { return o.contact }, in("createTask", "TaskInput!", task("contactID"))},
		{"createTask connection", "createTask", func(o *tenantFixture) uuid.UUID { return o.lead }, in("createTask", "TaskInput!", task("connectionID"))},
		{"createAppointment assignee", "createAppointment", func(o *tenantFixture) uuid.UUID { return o.user.id }, in("createAppointment", "AppointmentInput!", task("assigneeID"))},
		{"createAppointment contact", "createAppointment", func(o *tenantFixture) uuid.UUID { return o.contact }, in("createAppointment", "AppointmentInput!", task("contactID"))},
		{"createAppointment account", "createAppointment", func(o *tenantFixture) uuid.UUID { return o.newAccount() }, in("createAppointment", "AppointmentInput!", task("accountID"))},
		{"createFollowUp connection", "createFollowUp", func(o *tenantFixture) uuid.UUID { return o.lead }, in("createFollowUp", "FollowUpInput!", task("connectionID"))},
		{"createAutomation franchise", "createAutomation", func(o *tenantFixture) uuid.UUID { return o.franchise },
			in("createAutomation", "AutomationInput!", func(_ *tenantFixture, ref uuid.UUID) any {
				return map[string]any{"name": "Isolation", "automationTrigger": "lead.created", "franchiseID": ref}
			})},
	}...)
}

// A mutation naming another tenant's record — as its id argument or in its
// input — answers exactly like one naming an id that exists nowhere, and
// writes nothing.
func TestGraphQLMutationsWithAnotherTenantsIDsAreLikeUnknownIDs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		g := startGateway(t, db)
		for _, c := range gqlRefs() {
			t.Run(c.name, func(t *testing.T) {
				if !mutationLanded(g, fx.demo.admin, c.mutation) {
					t.Fatalf("mutation %s has not landed", c.mutation)
				}
				foreignID := c.foreign(fx.other)
				unknownID := unknownLike(foreignID)
				before := storetest.TakeSnapshot(t, db)
				q, vars := c.op(fx.demo, foreignID)
				resF, outF := g.graphql(fx.demo.admin, q, vars)
				storetest.NothingWritten(t, db, before)
				q, vars = c.op(fx.demo, unknownID)
				resU, _ := g.graphql(fx.demo.admin, q, vars)
				storetest.NothingWritten(t, db, before)
				if resF.Status != http.StatusOK || len(outF.Errors) == 0 {
					t.Errorf("%d %s; want an error", resF.Status, resF.Body)
				}
				sameGraphQLAnswer(t, c.name, resF.Body, resU.Body, foreignID, unknownID)
			})
		}
	})
}

// The task record rule holds on GraphQL too, for tasks, appointments and
// follow-ups: a USER cannot change or delete a colleague's (FORBIDDEN,
// nothing written); a MANAGER can.
func TestGraphQLTaskRecordRule(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		if !mutationLanded(g, f.admin, "updateTask") {
			t.Fatal("updateTask has not landed")
		}
		for _, c := range []struct {
			q   string
			rec func(actor, uuid.UUID) uuid.UUID
		}{
			{`mutation($id: ID!) { updateTask(id: $id, input: {title: "Mine now"}) { id } }`, f.newTask},
			{`mutation($id: ID!) { deleteTask(id: $id) }`, f.newTask},
			{`mutation($id: ID!) { updateAppointment(id: $id, input: {title: "Mine now"}) { id } }`, f.newAppointment},
			{`mutation($id: ID!) { completeAppointment(id: $id) { id } }`, f.newAppointment},
			{`mutation($id: ID!) { deleteAppointment(id: $id) }`, f.newAppointment},
			{`mutation($id: ID!) { updateFollowUp(id: $id, input: {title: "Mine now"}) { id } }`, f.newFollowUp},
			{`mutation($id: ID!) { completeFollowUp(id: $id) { id } }`, f.newFollowUp},
			{`mutation($id: ID!) { deleteFollowUp(id: $id) }`, f.newFollowUp},
		} {
			id := c.rec(f.admin, f.sales1.id)
			before := storetest.TakeSnapshot(t, db)
			res, out := g.graphql(f.user, c.q, map[string]any{"id": id})
			forbidden(t, f.user.name, res.Status, out, res.Body)
			storetest.NothingWritten(t, db, before)
			if res, out := g.graphql(f.manager, c.q, map[string]any{"id": c.rec(f.admin, f.sales1.id)}); len(out.Errors) > 0 {
				t.Errorf("as MANAGER: %s", res.Body)
			}
		}
	})
}

// Nobody but its owner sees a private saved filter on GraphQL — through the
// savedFilters list or node(id), whatever their user type — and nobody but
// the owner changes a filter; shared filters are listed for the tenant.
func TestGraphQLPrivateSavedFiltersAreSeenByTheirOwnerOnly(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		private := f.newSavedFilter(f.user, true)
		shared := f.newSavedFilter(f.user, false)
		for _, other := range []actor{f.sales1, f.manager, f.admin} {
			res, _ := g.graphql(other, `{ savedFilters(first: 100) { edges { node { id } } } }`, nil)
			if strings.Contains(string(res.Body), private.String()) {
				t.Errorf("as %s: savedFilters lists another user's private filter", other.name)
			}
			if !strings.Contains(string(res.Body), shared.String()) {
				t.Errorf("as %s: savedFilters lacks a shared filter: %s", other.name, res.Body)
			}
			res, out := g.graphql(other, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": private})
			if strings.Contains(string(out.Data["node"]), private.String()) {
				t.Errorf("as %s: node(id) shows another user's private filter: %s", other.name, res.Body)
			}
			if mutationLanded(g, f.admin, "updateSavedFilter") {
				for _, fid := range []uuid.UUID{private, shared} {
					before := storetest.TakeSnapshot(t, db)
					res, out := g.graphql(other, `mutation($id: ID!) { updateSavedFilter(id: $id, input: {name: "Hijacked", private: false}) { id } }`,
						map[string]any{"id": fid})
					if len(out.Errors) == 0 {
						t.Errorf("as %s: changed another user's filter: %s", other.name, res.Body)
					}
					storetest.NothingWritten(t, db, before)
				}
			}
		}
		res, _ := g.graphql(f.user, `{ savedFilters(first: 100) { edges { node { id } } } }`, nil)
		if !strings.Contains(string(res.Body), private.String()) || !strings.Contains(string(res.Body), shared.String()) {
			t.Errorf("the owner's list lacks their filters: %s", res.Body)
		}
	})
}

// GraphQL inputs cannot carry server-owned fields at all: no input type of
// the schema has a tenant, owner, audit or dtype field (an id only where
// it links an existing record), so such a field in a request fails
// validation and nothing is written.
func TestGraphQLInputsHaveNoServerOwnedFields(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, "sqlite3")
	f := newFixture(t, db).demo
	g := startGateway(t, db)
	res, out := g.graphql(f.admin, `{ __schema { types { name kind inputFields { name } } } }`, nil)
	if res.Status != http.StatusOK || len(out.Errors) > 0 {
		t.Fatalf("introspection: %d %s", res.Status, res.Body)
	}
	var schema struct {
		Types []struct {
			Name, Kind  string
			InputFields []struct{ Name string }
		}
	}
	if err := json.Unmarshal(out.Data["__schema"], &schema); err != nil {
		t.Fatal(err)
	}
	owned := map[string]bool{}
	for _, n := range []string{"tenant", "tenantID", "tenantId", "createdBy", "createdByID", "dateCreated",
		"modifiedBy", "modifiedByID", "dateModified", "isDeleted", "dateDeleted", "deletedBy", "deletedByID",
		"dtype", "owner", "ownerID"} {
		owned[n] = true
	}
	inputs := 0
	for _, typ := range schema.Types {
		if typ.Kind != "INPUT_OBJECT" || strings.HasSuffix(typ.Name, "WhereInput") || strings.HasSuffix(typ.Name, "Order") {
			continue // filters and orderings read, they do not write
		}
		inputs++
		for _, fld := range typ.InputFields {
			if owned[fld.Name] {
				t.Errorf("input %s has the server-owned field %s", typ.Name, fld.Name)
			}
		}
	}
	if mutationLanded(g, f.admin, "createAccount") {
		before := storetest.TakeSnapshot(t, db)
		res, out := g.graphql(f.admin, fmt.Sprintf(`mutation { createAccount(input: {name: "Owned", tenantID: %q}) { id } }`, f.id), nil)
		if len(out.Errors) == 0 {
			t.Errorf("a tenant in the input was accepted: %s", res.Body)
		}
		storetest.NothingWritten(t, db, before)
	}
	t.Logf("%d input types checked", inputs)
}

// The savedFilter argument of the root lists applies a filter only when the
// viewer may read it: another user's private filter is refused, another
// tenant's filter answers like an unknown id, and neither yields rows.
func TestGraphQLSavedFilterArgumentFollowsTheRecordRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		f := fx.demo
		g := startGateway(t, db)
		const q = `query($id: ID!) { leads(first: 5, savedFilter: $id) { totalCount edges { node { id } } } }`
		probe, _ := g.graphql(f.user, q, map[string]any{"id": f.newSavedFilter(f.user, true)})
		if strings.Contains(string(probe.Body), `Unknown argument`) {
			t.Fatal("the savedFilter argument has not landed")
		}
		if _, out := g.graphql(f.user, q, map[string]any{"id": f.newSavedFilter(f.user, true)}); len(out.Errors) > 0 {
			t.Fatalf("the owner's own filter: %v", out.Errors)
		}
		if _, out := g.graphql(f.sales1, q, map[string]any{"id": f.newSavedFilter(f.user, false)}); len(out.Errors) > 0 {
			t.Errorf("a shared filter: %v", out.Errors)
		}
		res, out := g.graphql(f.sales1, q, map[string]any{"id": f.newSavedFilter(f.user, true)})
		if len(out.Errors) == 0 || strings.Contains(string(out.Data["leads"]), `"node"`) {
			t.Errorf("another user's private filter was applied: %s", res.Body)
		}
		foreignID := fx.other.newSavedFilter(fx.other.admin, false)
		unknownID := unknownLike(foreignID)
		resF, outF := g.graphql(f.admin, q, map[string]any{"id": foreignID})
		resU, _ := g.graphql(f.admin, q, map[string]any{"id": unknownID})
		if len(outF.Errors) == 0 {
			t.Errorf("another tenant's filter was applied: %s", resF.Body)
		}
		sameGraphQLAnswer(t, "savedFilter of another tenant", resF.Body, resU.Body, foreignID, unknownID)
	})
}
