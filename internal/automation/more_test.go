package automation_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/task"
	rt "github.com/conecrm/gateway/internal/automation"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

// testAutomation shows the path a run would take — the condition's branch,
// the wait, the actions — and writes nothing.
func TestDryRunHasNoSideEffects(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		n, ed := chain()
		n = append(n,
			node("vip", "filter", map[string]any{"query": map[string]any{"combinator": "and", "rules": []any{
				map[string]any{"field": "subject", "operator": "contains", "value": "VIP"}}}}),
			node("wait", "delay", map[string]any{"amount": 2, "unit": "days"}),
			node("t", "createTask", map[string]any{"title": "Dry"}),
			node("other", "createFollowUp", map[string]any{"title": "Not VIP"}),
		)
		ed = append(ed, edge("start", "vip"), edge("vip", "wait", "true"), edge("wait", "t"), edge("vip", "other", "false"))
		id := e.automation("Dry", "lead.updated", nil, n, ed)
		leadID := e.createLead("VIP dry", "DT")
		tasks, err := db.Task.Query().Count(e.ctx)
		e.must(err)
		var out struct {
			TestAutomation []struct {
				NodeID, NodeType, Status, Detail string
				WaitUntil                        *time.Time
			}
		}
		e.gql(manager, `mutation($id: ID!, $lead: ID!) { testAutomation(id: $id, leadId: $lead) { nodeId nodeType status detail waitUntil } }`,
			map[string]any{"id": id, "lead": leadID}, &out)
		steps := out.TestAutomation
		if len(steps) != 3 || steps[0].NodeID != "vip" || !strings.HasPrefix(steps[0].Detail, "true") ||
			steps[1].Status != "WAITING" || steps[1].WaitUntil == nil || steps[2].NodeID != "t" {
			t.Fatalf("dry run %+v", steps)
		}
		after, err := db.Task.Query().Count(e.ctx)
		e.must(err)
		if after != tasks || len(e.runs(id)) != 0 {
			t.Fatalf("a dry run wrote: tasks %d → %d, runs %d", tasks, after, len(e.runs(id)))
		}
		// Another tenant's automation answers like an unknown one.
		res := e.srv.Do(http.MethodPost, "/graphql", "admin@northwind-auto.test", map[string]any{
			"query":     `mutation($id: ID!, $lead: ID!) { testAutomation(id: $id, leadId: $lead) { nodeId } }`,
			"variables": map[string]any{"id": id, "lead": leadID}})
		if !strings.Contains(string(res.Body), "not found") {
			t.Fatalf("another tenant's testAutomation: %s", res.Body)
		}
	})
}

// Without CONECRM_SMTP_URL, sendEmail and sendSms keep their messages in
// the development mailbox, readable through GraphQL.
func TestMessagesGoToTheDevelopmentMailbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		n, ed := chain(
			node("mail", "sendEmail", map[string]any{"to": "buyer@example.com", "subject": "Welcome", "body": "Hello!"}),
			node("sms", "sendSms", map[string]any{"to": "+15145550100", "body": "Hi"}),
		)
		id := e.automation("Messages", "lead.created", nil, n, ed)
		e.createLead("Messaged", "DT")
		e.finished(id, 1)
		var out struct {
			OutboundMessages struct {
				TotalCount int
				Edges      []struct {
					Node struct{ Channel, Recipient, Subject, Body, Status string }
				}
			}
		}
		e.gql(manager, `{ outboundMessages(first: 10) { totalCount edges { node { channel recipient subject body status } } } }`, nil, &out)
		if out.OutboundMessages.TotalCount != 2 {
			t.Fatalf("mailbox %+v", out)
		}
		for _, m := range out.OutboundMessages.Edges {
			if m.Node.Status != "MAILBOX" || (m.Node.Channel == "EMAIL" && (m.Node.Recipient != "buyer@example.com" || m.Node.Subject != "Welcome")) {
				t.Fatalf("message %+v", m.Node)
			}
		}
		res := e.srv.Do(http.MethodPost, "/graphql", "admin@northwind-auto.test", map[string]any{"query": `{ outboundMessages { totalCount } }`})
		if !strings.Contains(string(res.Body), `"totalCount":0`) {
			t.Fatalf("another tenant sees the mailbox: %s", res.Body)
		}
	})
}

// Two runtimes (two gateway instances: separate pools and River clients) on
// one PostgreSQL database work 200 events with no action doubled or lost.
func TestTwoInstancesExactlyOnce(t *testing.T) {
	db := storetest.Open(t, dialect.Postgres)
	url := storetest.DBURL(t, db)
	e := start(t, db, nil)
	second, err := store.Open(context.Background(), url)
	e.must(err)
	defer second.Close()
	other, err := rt.New(second, crm.NewService(second.Client), testConfig())
	e.must(err)
	e.must(other.Start(context.Background()))
	defer func() { _ = other.Stop(context.Background()) }()
	n, ed := chain(node("t", "createTask", map[string]any{"title": "Once"}))
	id := e.automation("Once", "lead.created", nil, n, ed)

	// Leads are written through the domain service (200 concurrent-ish writes).
	svc := crm.NewService(db.Client)
	_, err = rt.New(db, svc, testConfig()) // insert-only: registers the event hook
	e.must(err)
	u := storetest.UserID(t, db, admin)
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u, TenantID: e.tid, Type: viewer.TypeAdmin})
	body := e.newLead("x", "DT")
	ids := func(k string) *uuid.UUID {
		v := uuid.MustParse(body[k].(map[string]any)["id"].(string))
		return &v
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			subject := fmt.Sprintf("Lead %03d", i)
			if _, err := svc.CreateLead(ctx, crm.LeadInput{Subject: &subject, DepartmentID: ids("department"),
				ContactID: ids("contact"), SourceID: ids("source"), FranchiseID: ids("franchise")}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	e.eventually("200 runs", 60*time.Second, func() bool {
		n, err := db.AutomationRun.Query().Where(automationrun.AutomationID(id), automationrun.StatusEQ(automationrun.StatusDONE)).Count(e.ctx)
		e.must(err)
		return n == 200
	})
	time.Sleep(300 * time.Millisecond)
	var perLead []struct {
		ConnectionID uuid.UUID `json:"connection_id"`
		Count        int       `json:"count"`
	}
	e.must(db.Task.Query().Where(task.Title("Once")).GroupBy(task.FieldConnectionID).Aggregate(entCount()).Scan(e.ctx, &perLead))
	if len(perLead) != 200 {
		t.Fatalf("%d leads have a task, want 200", len(perLead))
	}
	for _, p := range perLead {
		if p.Count != 1 {
			t.Fatalf("lead %s has %d tasks", p.ConnectionID, p.Count)
		}
	}
	// Both instances took part.
	rows, err := db.SQL.QueryContext(e.ctx, `SELECT DISTINCT attempted_by[array_length(attempted_by, 1)] FROM river_job WHERE kind = 'automation.run'`)
	e.must(err)
	defer rows.Close()
	workers := 0
	for rows.Next() {
		workers++
	}
	t.Logf("run jobs were worked by %d instances", workers)
	if workers != 2 {
		t.Fatalf("jobs worked by %d instances, want 2", workers)
	}
}
