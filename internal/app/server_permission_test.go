package app_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// restRoute is one REST route, the permission it needs, and how to build
// a request the route accepts from a user who may make it.
type restRoute struct {
	method, pattern string
	perm            string // the catalogue permission the route requires; "" for any authenticated user
	ok              int    // its success status
	// also lists permissions the matrix's request needs besides perm:
	// saving a filter checks its query against the module's catalogue, so
	// a lead filter needs lead.read too.
	also []string
	// rule names a record rule applying on top of the permission (for the
	// documentation); "" when none.
	rule string
	// note is a further condition, for the documentation.
	note string
	// req returns the path and body of a valid request by a in tenant f;
	// it creates the records a destructive request consumes, so every
	// call has a target of its own.
	req func(f *tenantFixture, a actor) (path string, body any)
}

func (r restRoute) String() string { return r.method + " " + r.pattern }

const (
	noteNestedContact = "`contact.write` too when a nested contact without an id is created"
	ruleTask          = "task: USER only when assigned (directly or through a group) or creator"
	ruleSavedFilter   = "saved filter: owner only (private ones are also read by their owner only)"
)

func static(path string) func(*tenantFixture, actor) (string, any) {
	return func(*tenantFixture, actor) (string, any) { return path, nil }
}

func withBody(path string, body func(f *tenantFixture, a actor) any) func(*tenantFixture, actor) (string, any) {
	return func(f *tenantFixture, a actor) (string, any) { return path, body(f, a) }
}

func id(u uuid.UUID) string { return u.String() }

// restRoutes is every REST route with its permission. A route added to the
// REST layer must be added here: TestEveryRESTRouteIsInThePermissionTable
// fails otherwise.
var restRoutes = []restRoute{
	{method: "GET", pattern: "/api/account", perm: crm.PermAccountRead, ok: 200, req: static("/api/account")},
	{method: "POST", pattern: "/api/account", perm: crm.PermAccountWrite, ok: 200, note: noteNestedContact,
		req: withBody("/api/account", func(f *tenantFixture, _ actor) any { return map[string]any{"name": f.name("Matrix account")} })},
	{method: "PATCH", pattern: "/api/account/{account}", perm: crm.PermAccountWrite, ok: 200, note: noteNestedContact,
		req: func(f *tenantFixture, _ actor) (string, any) {
			return "/api/account/" + id(f.newAccount()), map[string]any{"name": f.name("Renamed")}
		}},
	{method: "DELETE", pattern: "/api/account/{account}", perm: crm.PermAccountDelete, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) { return "/api/account/" + id(f.newAccount()), nil }},

	{method: "GET", pattern: "/api/contact", perm: crm.PermContactRead, ok: 200, req: static("/api/contact")},
	{method: "GET", pattern: "/api/contact/{contact}/lead/open", perm: crm.PermLeadRead, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) {
			return "/api/contact/" + id(f.contact) + "/lead/open", nil
		}},
	{method: "GET", pattern: "/api/contact/phone/{phone}", perm: crm.PermContactRead, ok: 200, req: static("/api/contact/phone/5145550100")},

	{method: "POST", pattern: "/api/lead", perm: crm.PermLeadCreate, ok: 200,
		req: withBody("/api/lead", func(f *tenantFixture, _ actor) any {
			return map[string]any{"subject": f.name("Matrix lead"), "department": ref(f.department), "contact": ref(f.contact),
				"source": ref(f.source), "franchise": ref(f.franchise)}
		})},
	{method: "POST", pattern: "/api/lead/{lead}/copy", perm: crm.PermLeadCopy, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) {
			return "/api/lead/" + id(f.lead) + "/copy", map[string]any{"contact": ref(f.contact2)}
		}},

	{method: "POST", pattern: "/api/task", perm: crm.PermTaskWrite, ok: 200,
		req: withBody("/api/task", func(f *tenantFixture, a actor) any {
			return map[string]any{"title": f.name("Matrix task"), "assignee": id(a.id)}
		})},
	{method: "PATCH", pattern: "/api/task/{task}", perm: crm.PermTaskWrite, ok: 200, rule: ruleTask,
		req: func(f *tenantFixture, a actor) (string, any) {
			return "/api/task/" + id(f.newTask(a, a.id)), map[string]any{"title": f.name("Retitled")}
		}},
	{method: "DELETE", pattern: "/api/task/{task}", perm: crm.PermTaskDelete, ok: 200, rule: ruleTask,
		req: func(f *tenantFixture, a actor) (string, any) { return "/api/task/" + id(f.newTask(a, a.id)), nil }},

	{method: "GET", pattern: "/api/stage", perm: crm.PermStageRead, ok: 200, req: static("/api/stage")},
	{method: "POST", pattern: "/api/stage", perm: crm.PermStageManage, ok: 201,
		req: withBody("/api/stage", func(f *tenantFixture, _ actor) any { return map[string]any{"name": f.name("Matrix stage")} })},
	{method: "GET", pattern: "/api/stage/{id}", perm: crm.PermStageRead, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) { return "/api/stage/" + id(f.newStage()), nil }},
	{method: "PATCH", pattern: "/api/stage/{id}", perm: crm.PermStageManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) {
			return "/api/stage/" + id(f.newStage()), map[string]any{"name": f.name("Renamed stage")}
		}},
	{method: "DELETE", pattern: "/api/stage/{id}", perm: crm.PermStageManage, ok: 204,
		req: func(f *tenantFixture, _ actor) (string, any) { return "/api/stage/" + id(f.newStage()), nil }},

	{method: "GET", pattern: "/api/custom-field", perm: crm.PermCustomFieldRead, ok: 200, req: static("/api/custom-field")},
	{method: "GET", pattern: "/api/custom-field/{entity}", perm: crm.PermCustomFieldRead, ok: 200, req: static("/api/custom-field/lead")},
	{method: "POST", pattern: "/api/custom-field", perm: crm.PermCustomFieldManage, ok: 200,
		req: withBody("/api/custom-field", func(f *tenantFixture, _ actor) any {
			return map[string]any{"entity": "lead", "fieldName": strings.ReplaceAll(f.name("matrix_field"), " ", "_"), "fieldType": "text"}
		})},
	{method: "PATCH", pattern: "/api/custom-field/{customField}", perm: crm.PermCustomFieldManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) {
			return "/api/custom-field/" + id(f.newCustomField()), map[string]any{"fieldName": strings.ReplaceAll(f.name("renamed_field"), " ", "_")}
		}},
	{method: "DELETE", pattern: "/api/custom-field/{customField}", perm: crm.PermCustomFieldManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) {
			return "/api/custom-field/" + id(f.newCustomField()), nil
		}},

	{method: "GET", pattern: "/api/custom-labels", perm: crm.PermCustomLabelRead, ok: 200, req: static("/api/custom-labels")},
	{method: "POST", pattern: "/api/custom-labels", perm: crm.PermCustomLabelManage, ok: 200,
		req: withBody("/api/custom-labels", func(f *tenantFixture, _ actor) any {
			return map[string]any{"value": map[string]any{"lead": f.name("Deal")}}
		})},
	{method: "PATCH", pattern: "/api/custom-labels/{id}", perm: crm.PermCustomLabelManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) {
			return "/api/custom-labels/" + id(f.newLabel()), map[string]any{"value": map[string]any{"lead": "Opportunity"}}
		}},
	{method: "DELETE", pattern: "/api/custom-labels/{id}", perm: crm.PermCustomLabelManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) { return "/api/custom-labels/" + id(f.newLabel()), nil }},

	{method: "GET", pattern: "/api/api-key", perm: crm.PermAPIKeyManage, ok: 200, req: static("/api/api-key")},
	{method: "POST", pattern: "/api/api-key", perm: crm.PermAPIKeyManage, ok: 201,
		req: withBody("/api/api-key", func(f *tenantFixture, _ actor) any { return map[string]any{"name": f.name("Probe key")} })},
	{method: "DELETE", pattern: "/api/api-key/{key}", perm: crm.PermAPIKeyManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) { return "/api/api-key/" + id(f.newAPIKey()), nil }},

	{method: "GET", pattern: "/api/webhook", perm: crm.PermWebhookManage, ok: 200, req: static("/api/webhook")},
	{method: "GET", pattern: "/api/webhook/event-types", perm: crm.PermWebhookManage, ok: 200, req: static("/api/webhook/event-types")},
	{method: "POST", pattern: "/api/webhook", perm: crm.PermWebhookManage, ok: 201,
		req: withBody("/api/webhook", func(*tenantFixture, actor) any {
			return map[string]any{"url": "https://example.com/hook", "events": []string{"lead.created"}}
		})},
	{method: "GET", pattern: "/api/webhook/{webhook}", perm: crm.PermWebhookManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) { return "/api/webhook/" + id(f.newWebhook()), nil }},
	{method: "PATCH", pattern: "/api/webhook/{webhook}", perm: crm.PermWebhookManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) {
			return "/api/webhook/" + id(f.newWebhook()), map[string]any{"isActive": false}
		}},
	{method: "DELETE", pattern: "/api/webhook/{webhook}", perm: crm.PermWebhookManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) { return "/api/webhook/" + id(f.newWebhook()), nil }},
	{method: "POST", pattern: "/api/webhook/{webhook}/rotate-secret", perm: crm.PermWebhookManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) {
			return "/api/webhook/" + id(f.newWebhook()) + "/rotate-secret", nil
		}},
	{method: "GET", pattern: "/api/webhook/{webhook}/attempts", perm: crm.PermWebhookManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) {
			return "/api/webhook/" + id(f.newWebhook()) + "/attempts", nil
		}},

	{method: "GET", pattern: "/api/automation/builder/data", perm: crm.PermAutomationRead, ok: 200, req: static("/api/automation/builder/data")},
	{method: "GET", pattern: "/api/automation", perm: crm.PermAutomationRead, ok: 200, req: static("/api/automation")},
	{method: "POST", pattern: "/api/automation", perm: crm.PermAutomationManage, ok: 200,
		req: withBody("/api/automation", func(f *tenantFixture, _ actor) any {
			return map[string]any{"name": f.name("Matrix automation"), "automationTrigger": "lead.created"}
		})},
	{method: "GET", pattern: "/api/automation/{automation}", perm: crm.PermAutomationRead, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) { return "/api/automation/" + id(f.newAutomation()), nil }},
	{method: "PATCH", pattern: "/api/automation/{automation}", perm: crm.PermAutomationManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) {
			return "/api/automation/" + id(f.newAutomation()), map[string]any{"name": f.name("Renamed automation")}
		}},
	{method: "DELETE", pattern: "/api/automation/{automation}", perm: crm.PermAutomationManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) { return "/api/automation/" + id(f.newAutomation()), nil }},
	{method: "POST", pattern: "/api/automation/{automation}/duplicate", perm: crm.PermAutomationManage, ok: 200,
		req: func(f *tenantFixture, _ actor) (string, any) {
			return "/api/automation/" + id(f.newAutomation()) + "/duplicate", nil
		}},

	{method: "GET", pattern: "/api/saved-filter", perm: crm.PermSavedFilterRead, ok: 200, req: static("/api/saved-filter")},
	{method: "POST", pattern: "/api/saved-filter", perm: crm.PermSavedFilterWrite, ok: 201, also: []string{crm.PermLeadRead},
		req: withBody("/api/saved-filter", func(f *tenantFixture, _ actor) any {
			return map[string]any{"name": f.name("Matrix filter"), "module": "lead", "value": savedFilterValue}
		})},
	{method: "GET", pattern: "/api/saved-filter/{id}", perm: crm.PermSavedFilterRead, ok: 200, rule: ruleSavedFilter,
		req: func(f *tenantFixture, a actor) (string, any) {
			return "/api/saved-filter/" + id(f.newSavedFilter(a, true)), nil
		}},
	{method: "PATCH", pattern: "/api/saved-filter/{filter}", perm: crm.PermSavedFilterWrite, ok: 200, rule: ruleSavedFilter,
		req: func(f *tenantFixture, a actor) (string, any) {
			return "/api/saved-filter/" + id(f.newSavedFilter(a, true)), map[string]any{"name": f.name("Renamed filter")}
		}},
	{method: "DELETE", pattern: "/api/saved-filter/{filter}", perm: crm.PermSavedFilterWrite, ok: 204, rule: ruleSavedFilter,
		req: func(f *tenantFixture, a actor) (string, any) {
			return "/api/saved-filter/" + id(f.newSavedFilter(a, true)), nil
		}},

	// The field catalogue of an entity, and filtering its records, need the
	// entity's read permission (lead.read for lead, event.read for
	// appointment and followup…); the list of all catalogues shows the
	// entities the viewer may read.
	{method: "GET", pattern: "/api/filters", ok: 200, req: static("/api/filters")},
	{method: "GET", pattern: "/api/filters/{entity}", perm: crm.PermLeadRead, ok: 200, req: static("/api/filters/lead")},
	{method: "GET", pattern: "/api/query-builder/config/{entity}", perm: crm.PermLeadRead, ok: 200, req: static("/api/query-builder/config/lead")},
	{method: "POST", pattern: "/api/query-builder/filter/{entity}", perm: crm.PermLeadRead, ok: 200,
		req: withBody("/api/query-builder/filter/lead", func(*tenantFixture, actor) any { return savedFilterValue })},
}

func ref(u uuid.UUID) map[string]any { return map[string]any{"id": u.String()} }

// landed returns the routes of the table the REST layer serves (an
// unregistered /api path answers "No route found"); a route of the table
// that is not served fails the test.
func landed(t *testing.T, g *gateway, a actor) []restRoute {
	t.Helper()
	var out []restRoute
	for _, r := range restRoutes {
		path := strings.NewReplacer("{account}", uuid.NewString(), "{contact}", uuid.NewString(), "{lead}", uuid.NewString(),
			"{task}", uuid.NewString(), "{id}", uuid.NewString(), "{customField}", uuid.NewString(),
			"{automation}", uuid.NewString(), "{filter}", uuid.NewString(), "{entity}", "lead", "{phone}", "1").Replace(r.pattern)
		res := g.do(a, r.method, path, "{}")
		if res.Status == http.StatusNotFound && strings.Contains(string(res.Body), "No route found") {
			t.Errorf("%s is not served (a missing route fails)", r)
			continue
		}
		out = append(out, r)
	}
	return out
}

// The permission matrix: every REST route, as an ADMIN, a MANAGER, a USER
// (default roles), a user with no role, a user whose role holds only the
// route's permission and one whose role holds every permission but that
// one. A user without the permission gets 403 {"error": "Access denied"}
// and nothing is written; a user with it gets the route's success status.
func TestRESTPermissionMatrix(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		f := fx.demo
		g := startGateway(t, db)
		all := make([]string, 0, len(crm.Catalogue))
		for _, p := range crm.Catalogue {
			all = append(all, p.Name)
		}
		for _, r := range landed(t, g, f.admin) {
			t.Run(r.String(), func(t *testing.T) {
				type cell struct {
					a       actor
					allowed bool
				}
				var cells []cell
				if r.perm == "" {
					cells = []cell{{f.admin, true}, {f.manager, true}, {f.user, true}, {f.noRole, true}}
				} else {
					only := f.roleUser("only", append([]string{r.perm}, r.also...))
					allBut := f.roleUser("allbut", slices.DeleteFunc(slices.Clone(all), func(p string) bool { return p == r.perm }))
					cells = []cell{
						{f.admin, holds("ADMIN", r.perm)},
						{f.manager, holds("MANAGER", r.perm)},
						{f.user, holds("USER", r.perm)},
						{f.noRole, false},
						{only, true},
						{allBut, false},
					}
				}
				for _, c := range cells {
					path, body := r.req(f, c.a)
					before := storetest.TakeSnapshot(t, db)
					res := g.do(c.a, r.method, path, body)
					if err := resttest.Validate(r.method, path, res); err != nil {
						t.Errorf("as %s: %s %s → %d does not match the OpenAPI document: %v", c.a.name, r.method, path, res.Status, err)
					}
					if !c.allowed {
						if res.Status != http.StatusForbidden || errorBody(t, res) != "Access denied" {
							t.Errorf("as %s (without %s): %d %s; want 403 Access denied", c.a.name, r.perm, res.Status, res.Body)
						}
						storetest.NothingWritten(t, db, before)
						continue
					}
					if res.Status != r.ok {
						t.Errorf("as %s (with %s): %d %s; want %d", c.a.name, r.perm, res.Status, res.Body, r.ok)
					}
				}
			})
		}
	})
}

// Every route the OpenAPI document describes is in the permission table
// (so the matrix, and docs/permissions.md, cannot silently miss one), and
// every route of the table is in the document.
func TestEveryRESTRouteIsInThePermissionTable(t *testing.T) {
	t.Parallel()
	doc, err := resttest.Document()
	if err != nil {
		t.Fatal(err)
	}
	// Parameter names do not matter: the document cannot hold two paths
	// differing only in them (GET /api/custom-field/{entity}).
	params := regexp.MustCompile(`\{[^}]*\}`)
	inTable := map[string]bool{}
	for _, r := range restRoutes {
		inTable[r.method+" "+params.ReplaceAllString(r.pattern, "{}")] = true
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			k := method + " " + params.ReplaceAllString(path, "{}")
			if path == "/api/doc.json" {
				continue // the OpenAPI document itself: public documentation
			}
			if !inTable[k] {
				t.Errorf("%s is served but not in restRoutes: add it with its permission", k)
			}
			delete(inTable, k)
		}
	}
	for k := range inTable {
		t.Logf("%s is in restRoutes but not (yet) in the OpenAPI document", k)
	}
}

// routeLanded reports whether the REST layer serves method path yet.
func routeLanded(g *gateway, a actor, method, path string) bool {
	res := g.do(a, method, path, "{}")
	return !(res.Status == http.StatusNotFound && strings.Contains(string(res.Body), "No route found"))
}

// The task record rule: a USER may update or delete a task only when it is
// assigned to them, or to a security group they are a member of, or when
// they created it; a MANAGER or an ADMIN any task of the tenant. A refusal
// is 403 Access denied and writes nothing.
func TestTaskRecordRule(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		// A USER with the default User permissions who is in no group.
		outsider := f.roleUser("outsider", crm.DefaultRoles[crm.RoleForUserType["USER"]])
		tests := []struct {
			name     string
			as       actor
			creator  actor
			assignee uuid.UUID
			allowed  bool
		}{
			{"USER, task assigned to them", f.user, f.admin, f.user.id, true},
			{"USER, task assigned to their group", f.user, f.admin, f.group, true},
			{"USER, task they created for someone else", f.user, f.user, f.sales1.id, true},
			{"USER, task of a colleague created by another", f.user, f.admin, f.sales1.id, false},
			{"USER outside the group, task assigned to the group", outsider, f.admin, f.group, false},
			{"USER outside the group, task of a colleague", outsider, f.manager, f.user.id, false},
			{"MANAGER, task of someone else", f.manager, f.admin, f.sales1.id, true},
			{"MANAGER, task assigned to a group", f.manager, f.admin, f.group, true},
			{"ADMIN, task of someone else", f.admin, f.manager, f.sales1.id, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, op := range []struct {
					method string
					body   any
				}{{http.MethodPatch, map[string]any{"title": "Retitled", "taskDone": true}}, {http.MethodDelete, nil}} {
					path := "/api/task/" + f.newTask(tt.creator, tt.assignee).String()
					before := storetest.TakeSnapshot(t, db)
					res := g.do(tt.as, op.method, path, op.body)
					if tt.allowed {
						if res.Status != http.StatusOK {
							t.Errorf("%s: %d %s; want 200", op.method, res.Status, res.Body)
						}
						continue
					}
					if res.Status != http.StatusForbidden {
						t.Errorf("%s: %d %s; want 403", op.method, res.Status, res.Body)
					}
					storetest.NothingWritten(t, db, before)
				}
			})
		}
	})
}

// The saved-filter record rules: a private filter is seen and changed by
// its owner only (whatever the other user's type); a shared one is seen by
// the whole tenant and changed by its owner only.
func TestSavedFilterRecordRules(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		if !routeLanded(g, f.admin, http.MethodGet, "/api/saved-filter") {
			t.Fatal("the saved-filter routes have not landed")
		}
		private := f.newSavedFilter(f.user, true)
		shared := f.newSavedFilter(f.user, false)
		listed := func(a actor) map[uuid.UUID]bool {
			t.Helper()
			res := g.do(a, http.MethodGet, "/api/saved-filter", nil)
			if res.Status != http.StatusOK {
				t.Fatalf("list as %s: %d %s", a.name, res.Status, res.Body)
			}
			var rows []struct{ ID uuid.UUID }
			res.JSON(t, &rows)
			out := map[uuid.UUID]bool{}
			for _, r := range rows {
				out[r.ID] = true
			}
			return out
		}

		// The owner sees and changes both.
		if l := listed(f.user); !l[private] || !l[shared] {
			t.Errorf("the owner's list lacks their filters: %v", l)
		}
		for _, fid := range []uuid.UUID{private, shared} {
			if res := g.do(f.user, http.MethodGet, "/api/saved-filter/"+fid.String(), nil); res.Status != http.StatusOK {
				t.Errorf("owner GET: %d %s", res.Status, res.Body)
			}
			if res := g.do(f.user, http.MethodPatch, "/api/saved-filter/"+fid.String(), map[string]any{"name": "Mine"}); res.Status != http.StatusOK {
				t.Errorf("owner PATCH: %d %s", res.Status, res.Body)
			}
		}

		for _, other := range []actor{f.sales1, f.manager, f.admin} {
			t.Run("as "+other.name, func(t *testing.T) {
				l := listed(other)
				if l[private] {
					t.Error("another user's private filter is listed")
				}
				if !l[shared] {
					t.Error("a shared filter of the tenant is not listed")
				}
				if res := g.do(other, http.MethodGet, "/api/saved-filter/"+private.String(), nil); res.Status != http.StatusForbidden && res.Status != http.StatusNotFound {
					t.Errorf("GET another user's private filter: %d %s; want 403 or 404", res.Status, res.Body)
				}
				if res := g.do(other, http.MethodGet, "/api/saved-filter/"+shared.String(), nil); res.Status != http.StatusOK {
					t.Errorf("GET a shared filter: %d %s; want 200", res.Status, res.Body)
				}
				for _, fid := range []uuid.UUID{private, shared} {
					for _, op := range []struct {
						method string
						body   any
					}{{http.MethodPatch, map[string]any{"name": "Hijacked", "private": false}}, {http.MethodDelete, nil}} {
						before := storetest.TakeSnapshot(t, db)
						res := g.do(other, op.method, "/api/saved-filter/"+fid.String(), op.body)
						if res.Status != http.StatusForbidden && res.Status != http.StatusNotFound {
							t.Errorf("%s another user's filter: %d %s; want 403 or 404", op.method, res.Status, res.Body)
						}
						storetest.NothingWritten(t, db, before)
					}
				}
			})
		}
		// Finally the owner may delete both.
		for _, fid := range []uuid.UUID{private, shared} {
			if res := g.do(f.user, http.MethodDelete, "/api/saved-filter/"+fid.String(), nil); res.Status != http.StatusNoContent {
				t.Errorf("owner DELETE: %d %s", res.Status, res.Body)
			}
		}
	})
}

// Writing an account that links existing contacts needs account.write;
// creating a contact on the way (a nested contact without an id) is writing
// a contact and needs contact.write as well.
func TestNestedContactCreationNeedsContactWrite(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		accountOnly := f.roleUser("accountonly", []string{crm.PermAccountWrite})
		both := f.roleUser("accountcontact", []string{crm.PermAccountWrite, crm.PermContactWrite})
		newContact := []any{map[string]any{"firstName": "Nested", "lastName": "Contact"}}
		existing := []any{ref(f.contact)}
		tests := []struct {
			name    string
			as      actor
			method  string
			path    func() string
			body    map[string]any
			allowed bool
		}{
			{"create linking an existing contact", accountOnly, "POST", func() string { return "/api/account" },
				map[string]any{"name": "Linked", "contacts": existing}, true},
			{"create with a new contact, without contact.write", accountOnly, "POST", func() string { return "/api/account" },
				map[string]any{"name": "Nested", "contacts": newContact}, false},
			{"create with a new primary contact, without contact.write", accountOnly, "POST", func() string { return "/api/account" },
				map[string]any{"name": "Nested", "primaryContact": newContact[0]}, false},
			{"update with a new contact, without contact.write", accountOnly, "PATCH", func() string { return "/api/account/" + f.newAccount().String() },
				map[string]any{"contacts": newContact}, false},
			{"create with a new contact, with contact.write", both, "POST", func() string { return "/api/account" },
				map[string]any{"name": "Nested", "contacts": newContact}, true},
			{"update with a new contact, with contact.write", both, "PATCH", func() string { return "/api/account/" + f.newAccount().String() },
				map[string]any{"contacts": newContact}, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				path := tt.path()
				before := storetest.TakeSnapshot(t, db)
				res := g.do(tt.as, tt.method, path, tt.body)
				if !tt.allowed {
					if res.Status != http.StatusForbidden || errorBody(t, res) != "Access denied" {
						t.Errorf("%d %s; want 403 Access denied", res.Status, res.Body)
					}
					storetest.NothingWritten(t, db, before)
					return
				}
				if res.Status != http.StatusOK {
					t.Errorf("%d %s; want 200", res.Status, res.Body)
				}
			})
		}
		t.Run("GraphQL createAccount with a new contact", func(t *testing.T) {
			if !mutationLanded(g, f.admin, "createAccount") {
				t.Fatal("createAccount has not landed")
			}
			const q = `mutation { createAccount(input: {name: "Nested", contacts: [{firstName: "Nested"}]}) { id } }`
			before := storetest.TakeSnapshot(t, db)
			res, out := g.graphql(accountOnly, q, nil)
			forbidden(t, accountOnly.name, res.Status, out, res.Body)
			storetest.NothingWritten(t, db, before)
			if res, out := g.graphql(both, q, nil); res.Status != http.StatusOK || len(out.Errors) > 0 {
				t.Errorf("with contact.write: %d %s", res.Status, res.Body)
			}
		})
	})
}
