package crm_test

import (
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/automation"
	"github.com/conecrm/gateway/ent/delayedautomation"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// sampleData is valid data of the node types the tests use.
var sampleData = map[string]map[string]any{
	"createTask":    {"title": "Call"},
	"delay":         {"amount": 1, "unit": "hours"},
	"businessHours": {"start": "09:00", "end": "17:00"},
}

// graph returns nodes with the given ids and types (and valid data) and
// edges between them.
func graph(nodes [][2]string, edges ...[2]string) ([]map[string]any, []map[string]any) {
	ns := []map[string]any{}
	for _, n := range nodes {
		node := map[string]any{"id": n[0], "type": n[1], "position": map[string]any{"x": 0, "y": 0}}
		if d, ok := sampleData[n[1]]; ok {
			node["data"] = d
		}
		ns = append(ns, node)
	}
	es := []map[string]any{}
	for _, e := range edges {
		es = append(es, map[string]any{"id": e[0] + "-" + e[1], "source": e[0], "target": e[1]})
	}
	return ns, es
}

func TestAutomationValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		franchise := db.Franchise.Query().FirstIDX(ctx)
		foreignFranchise := db.Franchise.Query().FirstIDX(storetest.As(t, db, "admin@northwind-auto.test"))
		nodes, edges := graph([][2]string{{"t", "trigger"}, {"c", "businessHours"}, {"a", "createTask"}}, [2]string{"t", "c"}, [2]string{"c", "a"})
		foreignStage := db.ConnectionStage.Query().FirstIDX(storetest.As(t, db, "admin@northwind-auto.test"))
		withData := func(in *crm.AutomationInput, i int, data map[string]any) {
			ns := make([]map[string]any, len(in.Nodes))
			for j, n := range in.Nodes {
				ns[j] = maps.Clone(n)
			}
			ns[i]["data"] = data
			in.Nodes = ns
		}
		valid := func(change func(*crm.AutomationInput)) crm.AutomationInput {
			in := crm.AutomationInput{Name: new("Follow up"), Trigger: new("lead.created"), Nodes: nodes, Edges: edges}
			change(&in)
			return in
		}
		tests := []struct {
			name  string
			in    crm.AutomationInput
			field string // "" when valid
		}{
			{"a consistent graph is valid", valid(func(*crm.AutomationInput) {}), ""},
			{"an empty graph is valid", valid(func(in *crm.AutomationInput) { in.Nodes, in.Edges = nil, nil }), ""},
			{"a franchise of the tenant is valid", valid(func(in *crm.AutomationInput) { in.Franchise = &franchise }), ""},
			{"the name is required", valid(func(in *crm.AutomationInput) { in.Name = nil }), "name"},
			{"the trigger is required", valid(func(in *crm.AutomationInput) { in.Trigger = nil }), "automationTrigger"},
			{"the trigger must be a builder trigger", valid(func(in *crm.AutomationInput) { in.Trigger = new("lead.exploded") }), "automationTrigger"},
			{"a node needs an id", valid(func(in *crm.AutomationInput) {
				in.Nodes = []map[string]any{{"type": "trigger"}}
				in.Edges = nil
			}), "nodes[0].id"},
			{"node ids are unique", valid(func(in *crm.AutomationInput) {
				in.Nodes, in.Edges = graph([][2]string{{"t", "trigger"}, {"t", "delay"}})
			}), "nodes[1].id"},
			{"a node type must be a builder action or condition", valid(func(in *crm.AutomationInput) {
				in.Nodes, in.Edges = graph([][2]string{{"t", "trigger"}, {"x", "launchRocket"}})
			}), "nodes[1].type"},
			{"an edge must start at a node", valid(func(in *crm.AutomationInput) {
				in.Edges = []map[string]any{{"source": "nope", "target": "a"}}
			}), "edges[0].source"},
			{"an edge must end at a node", valid(func(in *crm.AutomationInput) {
				in.Edges = []map[string]any{{"source": "t", "target": 7}}
			}), "edges[0].target"},
			{"an edge cannot loop on one node", valid(func(in *crm.AutomationInput) {
				in.Edges = []map[string]any{{"source": "a", "target": "a"}}
			}), "edges[0].target"},
			{"edge ids are unique", valid(func(in *crm.AutomationInput) {
				in.Edges = []map[string]any{{"id": "e", "source": "t", "target": "c"}, {"id": "e", "source": "c", "target": "a"}}
			}), "edges[1].id"},
			{"another tenant's franchise is unknown", valid(func(in *crm.AutomationInput) { in.Franchise = &foreignFranchise }), "franchise.id"},
			{"a graph has one trigger node", valid(func(in *crm.AutomationInput) {
				in.Nodes, in.Edges = graph([][2]string{{"t", "trigger"}, {"u", "trigger"}})
			}), "nodes[1].type"},
			{"a graph needs a trigger node", valid(func(in *crm.AutomationInput) {
				in.Nodes, in.Edges = graph([][2]string{{"a", "createTask"}})
			}), "nodes"},
			{"a graph is acyclic", valid(func(in *crm.AutomationInput) {
				in.Nodes, in.Edges = graph([][2]string{{"t", "trigger"}, {"a", "createTask"}, {"b", "createTask"}},
					[2]string{"t", "a"}, [2]string{"a", "b"}, [2]string{"b", "a"})
			}), "edges[2]"},
			{"node data follows its type's schema: required field", valid(func(in *crm.AutomationInput) {
				withData(in, 2, map[string]any{"note": "no title"})
			}), "nodes[2].data"},
			{"node data follows its type's schema: units", valid(func(in *crm.AutomationInput) {
				in.Nodes, in.Edges = graph([][2]string{{"t", "trigger"}, {"d", "delay"}}, [2]string{"t", "d"})
				withData(in, 1, map[string]any{"amount": 3, "unit": "fortnights"})
			}), "nodes[1].data.unit"},
			{"ids in node data are the tenant's", valid(func(in *crm.AutomationInput) {
				in.Nodes, in.Edges = graph([][2]string{{"t", "trigger"}, {"s", "changeStage"}}, [2]string{"t", "s"})
				withData(in, 1, map[string]any{"stageId": foreignStage.String()})
			}), "nodes[1].data.stageId"},
		}
		before := db.Automation.Query().CountX(ctx)
		created := 0
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				a, err := svc.CreateAutomation(ctx, tc.in)
				if tc.field != "" {
					assertInvalid(t, err, tc.field)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				created++
				if a.Name != "Follow up" || a.Nodes == nil || a.FlowEdges == nil || a.DelayedCount != 0 {
					t.Fatalf("created %+v", a)
				}
			})
		}
		if n := db.Automation.Query().CountX(ctx); n != before+created {
			t.Fatalf("invalid input must write nothing: %d automations, want %d", n, before+created)
		}
		if _, err := svc.CreateAutomation(storetest.As(t, db, "user@demo-motors.test"), valid(func(*crm.AutomationInput) {})); crm.AsError(err).Code != fault.Forbidden {
			t.Fatalf("a USER creating an automation: want Forbidden, got %v", err)
		}
	})
}

func TestAutomationDelayedCountsAndCopies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		welcome := db.Automation.Query().Where(automation.Name("Welcome new leads")).OnlyX(ctx)
		pending := func(id uuid.UUID, done bool) {
			c := db.DelayedAutomation.Create().SetAutomationID(id).SetRunAt(time.Now().Add(time.Hour))
			if done {
				c.SetDoneAt(time.Now())
			}
			c.ExecX(ctx)
		}
		pending(welcome.ID, false)
		pending(welcome.ID, false)
		pending(welcome.ID, true) // done: not counted

		all, err := svc.Automations(ctx)
		if err != nil || len(all) != 1 || all[0].DelayedCount != 2 {
			t.Fatalf("list: %+v %v", all, err)
		}
		if all[0].Edges.Franchise == nil || len(all[0].Edges.Franchise.Edges.Automations) != 1 {
			t.Fatalf("the franchise and its automations should be loaded: %+v", all[0].Edges.Franchise)
		}

		cp, err := svc.DuplicateAutomation(ctx, welcome.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cp.ID == welcome.ID || cp.Name != "Welcome new leads (copy)" || cp.DelayedCount != 0 ||
			len(cp.Nodes) != len(welcome.Nodes) || len(cp.FlowEdges) != len(welcome.FlowEdges) ||
			*cp.FranchiseID != *welcome.FranchiseID {
			t.Fatalf("copy %+v", cp)
		}

		// Updating only the edges checks them against the stored nodes.
		_, err = svc.UpdateAutomation(ctx, cp.ID, crm.AutomationInput{Edges: []map[string]any{{"source": "trigger", "target": "ghost"}}})
		assertInvalid(t, err, "edges[0].target")
		up, err := svc.UpdateAutomation(ctx, cp.ID, crm.AutomationInput{Name: new("Renamed"), FranchiseSet: true})
		if err != nil || up.Name != "Renamed" || up.FranchiseID != nil || len(up.Nodes) != 3 {
			t.Fatalf("update: %+v %v", up, err)
		}

		if err := svc.DeleteAutomation(ctx, welcome.ID); err != nil {
			t.Fatal(err)
		}
		if n := db.DelayedAutomation.Query().Where(delayedautomation.AutomationIDEQ(welcome.ID)).CountX(ctx); n != 1 {
			t.Fatalf("only the done run should stay visible, got %d", n)
		}
		for name, err := range map[string]error{
			"get a deleted automation":    errOf(svc.Automation(ctx, welcome.ID)),
			"copy an unknown automation":  errOf(svc.DuplicateAutomation(ctx, uuid.New())),
			"update another tenant's one": errOf(svc.UpdateAutomation(ctx, foreignAutomation(t, db), crm.AutomationInput{Name: new("x")})),
			"delete another tenant's one": svc.DeleteAutomation(ctx, foreignAutomation(t, db)),
		} {
			if crm.AsError(err).Code != fault.NotFound {
				t.Errorf("%s: want NotFound, got %v", name, err)
			}
		}
		if db.Automation.GetX(tenancy.Bypass(ctx), foreignAutomation(t, db)).Name == "x" {
			t.Fatal("another tenant's automation was changed")
		}
	})
}

func foreignAutomation(t *testing.T, db *store.DB) uuid.UUID {
	return db.Automation.Query().FirstIDX(storetest.As(t, db, "admin@northwind-auto.test"))
}

func errOf[T any](_ T, err error) error { return err }
