package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

type automationBody struct {
	ID                      string
	Name                    string
	AutomationTrigger       string
	Nodes                   []map[string]any
	Edges                   []map[string]any
	Franchise               *struct{ ID, Name string }
	DelayedAutomationsCount int
}

// automations lists the automations as user as.
func automations(t *testing.T, s *resttest.Server, as string) []automationBody {
	t.Helper()
	var list []automationBody
	decodeOK(t, s, http.MethodGet, "/api/automation", as, nil, http.StatusOK, &list)
	return list
}

// flow is a valid Automation3 body with a trigger, a condition and an action.
func flow(name string) map[string]any {
	return map[string]any{
		"name": name, "automationTrigger": "lead.created", "delayedAutomationsCount": 99,
		"nodes": []map[string]any{
			{"id": "start", "type": "trigger", "position": map[string]any{"x": 0, "y": 0}},
			{"id": "web", "type": "businessHours", "data": map[string]any{"start": "09:00", "end": "17:00"}},
			{"id": "call", "type": "createTask", "data": map[string]any{"title": "Call"}},
		},
		"edges": []map[string]any{
			{"id": "e1", "source": "start", "target": "web"},
			{"id": "e2", "source": "web", "target": "call", "label": "yes"},
		},
	}
}

func TestAutomationRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		seeded := automations(t, s, asUser)[0]
		if seeded.Franchise == nil || len(seeded.Nodes) != 3 || len(seeded.Edges) != 2 {
			t.Fatalf("seeded automation %+v", seeded)
		}
		var created automationBody
		decodeOK(t, s, http.MethodPost, "/api/automation", asManager, flow("Web leads"), http.StatusOK, &created)
		if created.Name != "Web leads" || created.DelayedAutomationsCount != 0 || len(created.Nodes) != 3 ||
			created.Edges[1]["label"] != "yes" || created.Franchise != nil {
			t.Fatalf("created %+v", created)
		}
		mine := "/api/automation/" + created.ID
		foreignAutomation := automations(t, s, asOther)[0]
		foreign := "/api/automation/" + foreignAutomation.ID
		withFranchise := fmt.Sprintf(`{"franchise":{"id":%q}}`, seeded.Franchise.ID)
		invalid := func(change func(map[string]any)) map[string]any {
			body := flow("Broken")
			change(body)
			return body
		}
		node := func(id, typ string) map[string]any { return map[string]any{"id": id, "type": typ} }

		runRouteCases(t, s, append([]routeCase{
			{"builder data lists triggers, actions and conditions", "GET", "/api/automation/builder/data", asUser, nil, 200, `"conditions":[`},
			{"get one", "GET", mine, asUser, nil, 200, `"name":"Web leads"`},
			{"the name is required", "POST", "/api/automation", asManager, invalid(func(b map[string]any) { delete(b, "name") }), 400, "name"},
			{"the trigger must be the builder's", "POST", "/api/automation", asManager,
				invalid(func(b map[string]any) { b["automationTrigger"] = "lead.exploded" }), 400, "automationTrigger"},
			{"node types must be the builder's", "POST", "/api/automation", asManager,
				invalid(func(b map[string]any) {
					b["nodes"] = []map[string]any{node("start", "trigger"), node("x", "launch")}
					b["edges"] = nil
				}), 400, "nodes[1].type"},
			{"node ids must be unique", "POST", "/api/automation", asManager,
				invalid(func(b map[string]any) {
					b["nodes"] = []map[string]any{node("a", "trigger"), node("a", "delay")}
					b["edges"] = nil
				}), 400, "nodes[1].id"},
			{"edges must reference nodes", "POST", "/api/automation", asManager,
				invalid(func(b map[string]any) { b["edges"] = []map[string]any{{"source": "start", "target": "ghost"}} }), 400, "edges[0].target"},
			{"edges cannot loop on a node", "POST", "/api/automation", asManager,
				invalid(func(b map[string]any) { b["edges"] = []map[string]any{{"source": "web", "target": "web"}} }), 400, "edges[0].target"},
			{"nodes must be an array", "POST", "/api/automation", asManager, invalid(func(b map[string]any) { b["nodes"] = "start" }), 400, "nodes"},
			{"a node must be an object", "POST", "/api/automation", asManager, invalid(func(b map[string]any) { b["nodes"] = []any{1} }), 400, "nodes"},
			{"the franchise must be a reference", "POST", "/api/automation", asManager, invalid(func(b map[string]any) { b["franchise"] = "DT" }), 400, "franchise"},
			{"the franchise id must be a UUID", "POST", "/api/automation", asManager,
				invalid(func(b map[string]any) { b["franchise"] = map[string]any{"id": "DT"} }), 400, "franchise.id"},
			{"another tenant's franchise is unknown", "POST", "/api/automation", asManager,
				invalid(func(b map[string]any) { b["franchise"] = map[string]any{"id": foreignAutomation.Franchise.ID} }), 400, "franchise.id"},
			{"malformed JSON is rejected", "POST", "/api/automation", asManager, `{"name":"x",`, 400, "body"},
			{"a USER cannot create", "POST", "/api/automation", asUser, flow("Mine"), 403, ""},
			{"set the franchise", "PATCH", mine, asManager, withFranchise, 200, seeded.Franchise.ID},
			{"rename keeps the franchise and graph", "PATCH", mine, asManager, `{"name":"Website leads"}`, 200, `"type":"createTask"`},
			{"edges alone are checked against the stored nodes", "PATCH", mine, asManager,
				`{"edges":[{"source":"start","target":"nowhere"}]}`, 400, "edges[0].target"},
			{"a blank name is rejected", "PATCH", mine, asManager, `{"name":" "}`, 400, "name"},
			{"a USER cannot update", "PATCH", mine, asUser, `{"name":"x"}`, 403, ""},
			{"clear the franchise", "PATCH", mine, asManager, `{"franchise":null}`, 200, `"franchise":null`},
			{"duplicate copies under a new name", "POST", mine + "/duplicate", asManager, nil, 200, `"name":"Website leads (copy)"`},
			{"a USER cannot duplicate", "POST", mine + "/duplicate", asUser, nil, 403, ""},
			{"an unknown automation is not found", "GET", "/api/automation/" + uuid.NewString(), asUser, nil, 404, ""},
			{"a non-UUID id is not found", "GET", "/api/automation/7", asUser, nil, 404, ""},
			{"another tenant's automation cannot be read", "GET", foreign, asUser, nil, 404, ""},
			{"another tenant's automation cannot be updated", "PATCH", foreign, asAdmin, `{"name":"Hijacked"}`, 404, ""},
			{"another tenant's automation cannot be duplicated", "POST", foreign + "/duplicate", asAdmin, nil, 404, ""},
			{"another tenant's automation cannot be deleted", "DELETE", foreign, asAdmin, nil, 404, ""},
			{"an unknown automation cannot be updated", "PATCH", "/api/automation/" + uuid.NewString(), asAdmin, `{"name":"x"}`, 404, ""},
			{"an unknown automation cannot be duplicated", "POST", "/api/automation/" + uuid.NewString() + "/duplicate", asAdmin, nil, 404, ""},
			{"a USER cannot delete", "DELETE", mine, asUser, nil, 403, ""},
			{"delete answers null", "DELETE", mine, asManager, nil, 200, "null"},
			{"a deleted automation is gone", "GET", mine, asUser, nil, 404, ""},
			{"a deleted automation cannot be deleted again", "DELETE", mine, asManager, nil, 404, ""},
		}, unauthenticated(
			[2]string{"GET", "/api/automation/builder/data"}, [2]string{"GET", "/api/automation"},
			[2]string{"POST", "/api/automation"}, [2]string{"GET", mine}, [2]string{"PATCH", mine},
			[2]string{"DELETE", mine}, [2]string{"POST", mine + "/duplicate"},
		)...))

		names := map[string]bool{}
		for _, a := range automations(t, s, asUser) {
			names[a.Name] = true
		}
		if len(names) != 2 || !names[seeded.Name] || !names["Website leads (copy)"] {
			t.Fatalf("want the seeded automation and the copy, got %v", names)
		}
		if got := automations(t, s, asOther); len(got) != 1 || got[0].Name != foreignAutomation.Name {
			t.Fatalf("another tenant's automations changed: %+v", got)
		}
	})
}

// The list's delayedAutomationsCount counts pending runs, and the list costs
// the same number of statements for one automation as for many.
func TestAutomationListCountsDelayedRunsInFixedStatements(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		count := func() (int64, []automationBody) {
			before := s.Statements()
			list := automations(t, s, asUser)
			return s.Statements() - before, list
		}
		count() // the user's first request reads its viewer; the next ones find it cached
		one, list := count()
		if len(list) != 1 || list[0].DelayedAutomationsCount != 0 {
			t.Fatalf("seeded list %+v", list)
		}

		var created []automationBody
		for i := range 6 {
			var a automationBody
			body := flow(fmt.Sprint("Flow ", i))
			body["franchise"] = map[string]any{"id": list[0].Franchise.ID}
			decodeOK(t, s, http.MethodPost, "/api/automation", asManager, body, http.StatusOK, &a)
			created = append(created, a)
		}
		// Pending runs: i for automation i, plus one done run each (not counted).
		ctx := tenancy.Bypass(context.Background())
		tenant := storetest.TenantID(t, db, "demo-motors.test")
		for i, a := range created {
			id := uuid.MustParse(a.ID)
			for range i {
				db.DelayedAutomation.Create().SetTenantID(tenant).SetAutomationID(id).SetRunAt(time.Now()).ExecX(ctx)
			}
			db.DelayedAutomation.Create().SetTenantID(tenant).SetAutomationID(id).SetRunAt(time.Now()).
				SetDoneAt(time.Now()).ExecX(ctx)
		}

		many, list := count()
		if len(list) != 7 {
			t.Fatalf("want 7 automations, got %d", len(list))
		}
		for i, a := range list[1:] {
			if a.DelayedAutomationsCount != i {
				t.Errorf("%s: delayedAutomationsCount %d, want %d", a.Name, a.DelayedAutomationsCount, i)
			}
		}
		if one != many {
			t.Fatalf("GET /api/automation ran %d statements for 1 automation and %d for 7", one, many)
		}
		t.Logf("GET /api/automation: %d statements for 1 and for 7 automations", many)
	})
}
