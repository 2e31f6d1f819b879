package automation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/automationrunstep"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/source"
	"github.com/conecrm/gateway/graph"
	rt "github.com/conecrm/gateway/internal/automation"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/rest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

const (
	admin   = "admin@demo-motors.test"
	manager = "manager@demo-motors.test"
)

// env is a gateway (REST + GraphQL over real HTTP) with a running
// automation runtime on a fresh seeded database.
type env struct {
	t   *testing.T
	db  *store.DB
	srv *apptest.Server
	svc *crm.Service // the transports' and the runtime's
	rt  *rt.Runtime
	ctx context.Context // system reads (tenancy bypassed)
	tid uuid.UUID
}

func testConfig() rt.Config {
	c := rt.DefaultConfig()
	c.PollInterval = 50 * time.Millisecond
	c.RetryBase = 50 * time.Millisecond
	c.OutboundAllow = "127.0.0.0/8"
	c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	c.Records = rest.RecordShape
	return c
}

// start serves db with a runtime configured by cfg (testConfig when nil).
// The seeded automation is switched off so that each test sees only its own.
func start(t *testing.T, db *store.DB, cfg *rt.Config) *env {
	t.Helper()
	c := testConfig()
	if cfg != nil {
		c = *cfg
	}
	e := &env{t: t, db: db, ctx: tenancy.Bypass(context.Background()), tid: storetest.TenantID(t, db, "demo-motors.test")}
	if err := db.Automation.Update().SetIsActive(false).Exec(e.ctx); err != nil {
		t.Fatal(err)
	}
	svc := crm.NewService(db.Client)
	e.svc = svc
	r, err := rt.New(db, svc, c)
	if err != nil {
		t.Fatal(err)
	}
	e.rt = r
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Stop(ctx)
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.srv = apptest.Start(t, db, map[string]http.Handler{
		"/api/":    rest.New(svc, log),
		"/graphql": graph.NewHandler(graph.Config{Client: db.Client, CRM: svc, Logger: log, Automation: r}),
	})
	return e
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// do sends a REST request and decodes a 2xx answer into out.
func (e *env) do(method, path, as string, body, out any) {
	e.t.Helper()
	res := e.srv.Do(method, path, as, body)
	if res.Status/100 != 2 {
		e.t.Fatalf("%s %s: %d %s", method, path, res.Status, res.Body)
	}
	if out != nil {
		res.JSON(e.t, out)
	}
}

// gql runs a GraphQL operation and decodes its data into out.
func (e *env) gql(as, query string, vars map[string]any, out any) {
	e.t.Helper()
	res := e.srv.Do(http.MethodPost, "/graphql", as, map[string]any{"query": query, "variables": vars})
	var body struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	res.JSON(e.t, &body)
	if len(body.Errors) > 0 || res.Status != 200 {
		e.t.Fatalf("graphql %d: %s", res.Status, res.Body)
	}
	if out != nil {
		e.must(json.Unmarshal(body.Data, out))
	}
}

func (e *env) franchise(code string) *ent.Franchise {
	f, err := e.db.Franchise.Query().Where(franchise.TenantID(e.tid), franchise.Code(code)).Only(e.ctx)
	e.must(err)
	return f
}

func ref(id uuid.UUID) map[string]any { return map[string]any{"id": id.String()} }

// newLead is a lead-creation body for franchise code's sales department.
func (e *env) newLead(subject, code string) map[string]any {
	fr := e.franchise(code)
	dep, err := e.db.Department.Query().Where(department.FranchiseID(fr.ID), department.Name("Sales")).Only(e.ctx)
	e.must(err)
	c, err := e.db.Contact.Query().Where(contact.TenantID(e.tid)).Order(contact.ByID()).First(e.ctx)
	e.must(err)
	src, err := e.db.Source.Query().Where(source.TenantID(e.tid)).Order(source.ByID()).First(e.ctx)
	e.must(err)
	return map[string]any{"subject": subject, "department": ref(dep.ID), "franchise": ref(fr.ID),
		"contact": ref(c.ID), "source": ref(src.ID)}
}

// createLead creates a lead through REST and returns its id.
func (e *env) createLead(subject, code string) uuid.UUID {
	e.t.Helper()
	var l struct{ ID uuid.UUID }
	e.do(http.MethodPost, "/api/lead", admin, e.newLead(subject, code), &l)
	return l.ID
}

// node and edge build graph JSON.
func node(id, typ string, data map[string]any) map[string]any {
	n := map[string]any{"id": id, "type": typ}
	if data != nil {
		n["data"] = data
	}
	return n
}

func edge(source, target string, branch ...string) map[string]any {
	e := map[string]any{"id": source + "-" + target, "source": source, "target": target}
	if len(branch) > 0 {
		e["sourceHandle"] = branch[0]
	}
	return e
}

// chain is a graph trigger → nodes[0] → nodes[1] → …
func chain(nodes ...map[string]any) ([]map[string]any, []map[string]any) {
	all := append([]map[string]any{node("start", "trigger", nil)}, nodes...)
	var edges []map[string]any
	for i := 1; i < len(all); i++ {
		edges = append(edges, edge(all[i-1]["id"].(string), all[i]["id"].(string)))
	}
	return all, edges
}

// automation creates an automation through REST and returns its id.
func (e *env) automation(name, trigger string, franchiseID *uuid.UUID, nodes, edges []map[string]any) uuid.UUID {
	e.t.Helper()
	body := map[string]any{"name": name, "automationTrigger": trigger, "nodes": nodes, "edges": edges}
	if franchiseID != nil {
		body["franchise"] = ref(*franchiseID)
	}
	var a struct{ ID uuid.UUID }
	e.do(http.MethodPost, "/api/automation", manager, body, &a)
	return a.ID
}

// eventually polls cond until it holds or the deadline passes.
func (e *env) eventually(what string, timeout time.Duration, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runs returns the stored runs of automation id.
func (e *env) runs(id uuid.UUID) []*ent.AutomationRun {
	rows, err := e.db.AutomationRun.Query().Where(automationrun.AutomationID(id)).
		WithSteps(func(q *ent.AutomationRunStepQuery) { q.Order(automationrunstep.ByPosition()) }).
		Order(automationrun.ByDateCreated()).All(e.ctx)
	e.must(err)
	return rows
}

// finished waits until automation id has n runs, none running or waiting.
func (e *env) finished(id uuid.UUID, n int) []*ent.AutomationRun {
	e.t.Helper()
	var rows []*ent.AutomationRun
	e.eventually(fmt.Sprintf("%d finished runs of %s", n, id), 30*time.Second, func() bool {
		rows = e.runs(id)
		if len(rows) < n {
			return false
		}
		for _, r := range rows {
			if r.Status == automationrun.StatusRUNNING || r.Status == automationrun.StatusWAITING {
				return false
			}
		}
		return true
	})
	if len(rows) != n {
		e.t.Fatalf("%d runs, want %d", len(rows), n)
	}
	return rows
}

type automationrunEntity = ent.AutomationRun

func crmService(db *store.DB) *crm.Service { return crm.NewService(db.Client) }

func entCount() ent.AggregateFunc { return ent.Count() }
