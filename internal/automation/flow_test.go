package automation_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/delayedautomation"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/ent/task"
	rt "github.com/conecrm/gateway/internal/automation"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func (e *env) tasksOf(leadID uuid.UUID, title string) int {
	n, err := e.db.Task.Query().Where(task.ConnectionID(leadID), task.Title(title)).Count(e.ctx)
	e.must(err)
	return n
}

// Actions' own events trigger further automations (lead.stage_changed,
// lead.status_changed, lead.assigned), each with its representative
// action, and conditions branch on true/false edges, including the generic
// filter condition of the query builder.
func TestEventsOfActionsTriggerAutomations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		stageID := e.stages("DT")[1]
		sold, err := e.db.Status.Query().Where(status.TenantID(e.tid), status.KindEQ(status.KindSOLD)).First(e.ctx)
		e.must(err)
		userID := storetest.UserID(t, db, "user@demo-motors.test")
		// lead.created → filter condition: VIP subjects change stage, others are assigned.
		n, ed := chain()
		n = append(n,
			node("vip", "filter", map[string]any{"query": map[string]any{"combinator": "and", "rules": []any{
				map[string]any{"field": "subject", "operator": "contains", "value": "VIP"}}}}),
			node("stage", "changeStage", map[string]any{"stageId": stageID.String()}),
			node("assign", "assignLead", map[string]any{"mode": "user", "userId": userID.String()}),
		)
		ed = append(ed, edge("start", "vip"), edge("vip", "stage", "true"), edge("vip", "assign", "false"))
		start := e.automation("Route", "lead.created", nil, n, ed)
		n, ed = chain(node("status", "changeStatus", map[string]any{"statusId": sold.ID.String()}))
		onStage := e.automation("On stage", "lead.stage_changed", nil, n, ed)
		n, ed = chain(node("t", "createTask", map[string]any{"title": "Sold!"}))
		onStatus := e.automation("On status", "lead.status_changed", nil, n, ed)
		n, ed = chain(node("t", "createTask", map[string]any{"title": "Welcome aboard"}))
		onAssign := e.automation("On assign", "lead.assigned", nil, n, ed)

		vip := e.createLead("VIP customer", "DT")
		plain := e.createLead("Plain customer", "DT")
		e.finished(start, 2)
		e.finished(onStage, 1)
		e.finished(onStatus, 1)
		e.finished(onAssign, 1)
		if e.tasksOf(vip, "Sold!") != 1 || e.tasksOf(plain, "Sold!") != 0 || e.tasksOf(plain, "Welcome aboard") != 1 {
			t.Fatalf("tasks: vip sold %d, plain sold %d, plain welcome %d",
				e.tasksOf(vip, "Sold!"), e.tasksOf(plain, "Sold!"), e.tasksOf(plain, "Welcome aboard"))
		}
		l, err := e.db.Lead.Query().Where(lead.ID(vip)).Only(e.ctx)
		e.must(err)
		if l.StageID == nil || *l.StageID != stageID || l.StatusID == nil || *l.StatusID != sold.ID {
			t.Fatalf("vip lead stage %v status %v", l.StageID, l.StatusID)
		}
		// Each chained run records its depth and cause.
		r := e.runs(onStatus)[0]
		if r.Depth != 2 || r.CausationRunID == nil {
			t.Fatalf("chained run depth %d cause %v", r.Depth, r.CausationRunID)
		}
		// The filter's step says which branch it took.
		for _, s := range e.runs(start)[0].Edges.Steps {
			if s.NodeType == "filter" && !strings.HasPrefix(s.Detail, "true") && !strings.HasPrefix(s.Detail, "false") {
				t.Fatalf("filter step detail %q", s.Detail)
			}
		}
	})
}

// Two automations that re-assign a lead on lead.assigned would trigger
// each other forever; the causal chain stops at the depth limit with a
// visible reason, and no automation re-triggers on its own effects.
func TestLoopProtection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cfg := testConfig()
		cfg.MaxDepth = 4
		e := start(t, db, &cfg)
		u1 := storetest.UserID(t, db, "user@demo-motors.test")
		u2 := storetest.UserID(t, db, "manager@demo-motors.test")
		// The kick-off assigns someone neither X nor Y does, so its event
		// is a change whoever the round robin picked at creation.
		n, ed := chain(node("a", "assignLead", map[string]any{"mode": "user", "userId": storetest.UserID(t, db, admin).String()}))
		e.automation("Kick off", "lead.created", nil, n, ed)
		n, ed = chain(node("a", "assignLead", map[string]any{"mode": "user", "userId": u1.String()}))
		x := e.automation("X", "lead.assigned", nil, n, ed)
		n, ed = chain(node("a", "assignLead", map[string]any{"mode": "user", "userId": u2.String()}))
		y := e.automation("Y", "lead.assigned", nil, n, ed)
		e.createLead("Ping pong", "DT")
		var stopped []*automationrunEntity
		e.eventually("a stopped run", 90*time.Second, func() bool {
			stopped = nil
			for _, id := range []uuid.UUID{x, y} {
				for _, r := range e.runs(id) {
					if r.Status == automationrun.StatusSTOPPED {
						stopped = append(stopped, r)
					}
				}
			}
			return len(stopped) > 0
		})
		// The chain ends: the run count settles (unchanged for a second, none
		// running) instead of growing without bound.
		settled, last, since := 0, -1, time.Now()
		e.eventually("the runs to stop growing", 60*time.Second, func() bool {
			all := append(e.runs(x), e.runs(y)...)
			for _, r := range all {
				if r.Status == automationrun.StatusRUNNING {
					last = -1
					return false
				}
			}
			if len(all) != last {
				last, since = len(all), time.Now()
				return false
			}
			settled = len(all)
			return time.Since(since) > time.Second
		})
		if settled > 16 { // 6–7 with MaxDepth 4
			t.Fatalf("%d runs before the chain stopped", settled)
		}
		for _, r := range stopped {
			if !strings.Contains(r.Reason, "loop protection") || r.Depth != cfg.MaxDepth {
				t.Fatalf("stopped run: depth %d reason %q", r.Depth, r.Reason)
			}
		}
		for _, id := range []uuid.UUID{x, y} {
			for _, r := range e.runs(id) {
				if r.Depth > cfg.MaxDepth {
					t.Fatalf("run at depth %d", r.Depth)
				}
				if r.CausationRunID != nil {
					cause, err := e.db.AutomationRun.Get(e.ctx, *r.CausationRunID)
					e.must(err)
					if cause.AutomationID == id {
						t.Fatalf("automation %s re-triggered by its own run", id)
					}
				}
			}
		}
	})
}

// A delay stores a DelayedAutomation row and a scheduled job: the
// automation's delayedAutomationsCount counts it, it survives a restart of
// the runtime, and the rest of the graph runs after it.
func TestDelaySurvivesRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		n, ed := chain(
			node("wait", "delay", map[string]any{"amount": 2, "unit": "seconds"}),
			node("t", "createTask", map[string]any{"title": "After the wait"}),
		)
		id := e.automation("Later", "lead.created", nil, n, ed)
		leadID := e.createLead("Patient", "DT")
		e.eventually("the delayed row", 10*time.Second, func() bool {
			n, err := e.db.DelayedAutomation.Query().Where(delayedautomation.AutomationID(id), delayedautomation.DoneAtIsNil()).Count(e.ctx)
			e.must(err)
			return n == 1
		})
		var a struct{ DelayedAutomationsCount int }
		e.do(http.MethodGet, "/api/automation/"+id.String(), manager, nil, &a)
		if a.DelayedAutomationsCount != 1 {
			t.Fatalf("delayedAutomationsCount = %d, want 1", a.DelayedAutomationsCount)
		}
		if r := e.runs(id); len(r) != 1 || r[0].Status != automationrun.StatusWAITING {
			t.Fatalf("runs %+v", r)
		}
		// Restart: this runtime stops, a new one (a new process's) takes over.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.must(e.rt.Stop(ctx))
		if e.tasksOf(leadID, "After the wait") != 0 {
			t.Fatal("the task exists before the delay ended")
		}
		again, err := rt.New(db, crmService(db), testConfig())
		e.must(err)
		e.must(again.Start(context.Background()))
		t.Cleanup(func() { _ = again.Stop(context.Background()) })
		e.finished(id, 1)
		if e.tasksOf(leadID, "After the wait") != 1 {
			t.Fatal("no task after the delay")
		}
		e.do(http.MethodGet, "/api/automation/"+id.String(), manager, nil, &a)
		if a.DelayedAutomationsCount != 0 {
			t.Fatalf("delayedAutomationsCount = %d after the delay", a.DelayedAutomationsCount)
		}
		steps := e.runs(id)[0].Edges.Steps
		if len(steps) != 2 || steps[0].Status != "WAITING" || steps[0].WaitUntil == nil || steps[1].Status != "DONE" {
			t.Fatalf("steps %+v", steps)
		}
	})
}

// Deleting the automation cancels its pending delays: the count drops to
// zero at once, the waiting run says why it stopped, nothing runs later.
func TestDeletingTheAutomationCancelsDelays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		n, ed := chain(
			node("wait", "delay", map[string]any{"amount": 1, "unit": "seconds"}),
			node("t", "createTask", map[string]any{"title": "Never"}),
		)
		id := e.automation("Cancelled", "lead.created", nil, n, ed)
		leadID := e.createLead("Cancelled lead", "DT")
		e.eventually("the waiting run", 10*time.Second, func() bool {
			r := e.runs(id)
			return len(r) == 1 && r[0].Status == automationrun.StatusWAITING
		})
		e.do(http.MethodDelete, "/api/automation/"+id.String(), manager, nil, nil)
		time.Sleep(1500 * time.Millisecond)
		if e.tasksOf(leadID, "Never") != 0 {
			t.Fatal("a deleted automation's delayed step ran")
		}
		r := e.runs(id)
		if len(r) != 1 || r[0].Status != automationrun.StatusSTOPPED || !strings.Contains(r[0].Reason, "deleted") {
			t.Fatalf("run after delete: %+v", r[0])
		}
	})
}

// The webhook action POSTs the event signed with HMAC-SHA256 over the
// timestamp and body; a 500 is retried with backoff until it succeeds.
func TestWebhookSignedAndRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const secret = "a-very-secret-webhook-key"
		var calls atomic.Int32
		var mu sync.Mutex
		var got []map[string]any
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			ts, err := strconv.ParseInt(r.Header.Get(rt.HeaderTimestamp), 10, 64)
			if err != nil || time.Since(time.Unix(ts, 0)) > time.Minute {
				http.Error(w, "stale", http.StatusBadRequest)
				return
			}
			if !hmac.Equal([]byte(r.Header.Get(rt.HeaderSignature)), []byte(rt.Sign(secret, ts, body))) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			if calls.Add(1) <= 2 {
				http.Error(w, "try again", http.StatusInternalServerError)
				return
			}
			var m map[string]any
			_ = json.Unmarshal(body, &m)
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
		}))
		defer receiver.Close()
		e := start(t, db, nil)
		n, ed := chain(node("hook", "webhook", map[string]any{"url": receiver.URL + "/hook", "secret": secret}))
		id := e.automation("Hook", "lead.created", nil, n, ed)
		leadID := e.createLead("Hooked", "DT")
		e.eventually("the delivered webhook", 20*time.Second, func() bool {
			r := e.runs(id)
			return len(r) == 1 && len(r[0].Edges.Steps) == 1 && r[0].Edges.Steps[0].Status == "DONE"
		})
		if calls.Load() != 3 || len(got) != 1 {
			t.Fatalf("%d calls, %d accepted", calls.Load(), len(got))
		}
		l := got[0]["lead"].(map[string]any)
		ev := got[0]["event"].(map[string]any)
		if l["id"] != leadID.String() || ev["topic"] != "lead.created" {
			t.Fatalf("payload %v", got[0])
		}
		if d := e.runs(id)[0].Edges.Steps[0].Detail; !strings.Contains(d, "attempt 3") {
			t.Fatalf("step detail %q", d)
		}
	})
}

// Without CONECRM_OUTBOUND_ALLOW, loopback, private, link-local and cloud
// metadata destinations are refused (no retries), with the reason on the
// step.
func TestWebhookSSRFGuard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var calls atomic.Int32
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
		defer receiver.Close()
		cfg := testConfig()
		cfg.OutboundAllow = ""
		e := start(t, db, &cfg)
		local := strings.Replace(receiver.URL, "127.0.0.1", "localhost", 1)
		targets := map[string]string{
			"loopback":      receiver.URL,
			"loopback-name": local,
			"private":       "http://10.1.2.3/hook",
			"metadata":      "http://169.254.169.254/latest/meta-data",
			"link-local":    "http://[fe80::1]/hook",
			"unspecified":   "http://0.0.0.0:1/",
		}
		var nodes []map[string]any
		var edges []map[string]any
		nodes = append(nodes, node("start", "trigger", nil))
		i := 0
		for _, u := range targets {
			id := "h" + strconv.Itoa(i)
			i++
			nodes = append(nodes, node(id, "webhook", map[string]any{"url": u, "secret": "0123456789abcdef"}))
			edges = append(edges, edge("start", id))
		}
		id := e.automation("Guarded", "lead.created", nil, nodes, edges)
		e.createLead("Guarded lead", "DT")
		e.eventually("every delivery refused", 20*time.Second, func() bool {
			r := e.runs(id)
			if len(r) != 1 || len(r[0].Edges.Steps) != len(targets) {
				return false
			}
			for _, s := range r[0].Edges.Steps {
				if s.Status != "FAILED" {
					return false
				}
			}
			return true
		})
		for _, s := range e.runs(id)[0].Edges.Steps {
			if !strings.Contains(s.Error, "refused") {
				t.Fatalf("step %s error %q", s.NodeID, s.Error)
			}
		}
		if calls.Load() != 0 {
			t.Fatalf("the guarded receiver got %d calls", calls.Load())
		}
	})
}
