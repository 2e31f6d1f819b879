package automation_test

import (
	"crypto/hmac"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	rt "github.com/conecrm/gateway/internal/automation"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// A webhook node's secret is write-only: stored apart from the graph,
// never in a REST or GraphQL answer (not even to its author), kept when
// the graph is saved back without it, copied by duplicate, required when
// the node has none; the delivery still signs with it.
func TestWebhookSecretIsWriteOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const secret = "write-only-signing-key-0123"
		var signed atomic.Int32
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			ts, _ := strconv.ParseInt(r.Header.Get(rt.HeaderTimestamp), 10, 64)
			if !hmac.Equal([]byte(r.Header.Get(rt.HeaderSignature)), []byte(rt.Sign(secret, ts, body))) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				return
			}
			signed.Add(1)
		}))
		defer receiver.Close()
		e := start(t, db, nil)
		n, ed := chain(node("hook", "webhook", map[string]any{"url": receiver.URL, "secret": secret}))
		id := e.automation("Signed", "lead.created", nil, n, ed)

		// No reader sees it: a mere automation.read user, nor the manager.
		for _, as := range []string{"user@demo-motors.test", manager} {
			for _, path := range []string{"/api/automation/" + id.String(), "/api/automation"} {
				res := e.srv.Do(http.MethodGet, path, as, nil)
				if res.Status != 200 || strings.Contains(string(res.Body), secret) || !strings.Contains(string(res.Body), `"hasSecret":true`) {
					t.Fatalf("GET %s as %s: %d %s", path, as, res.Status, res.Body)
				}
			}
			for _, q := range []string{`{ automations { edges { node { nodes } } } }`,
				`query($id: ID!) { node(id: $id) { ... on Automation { nodes } } }`} {
				res := e.srv.Do(http.MethodPost, "/graphql", as, map[string]any{"query": q, "variables": map[string]any{"id": id}})
				if res.Status != 200 || strings.Contains(string(res.Body), secret) || !strings.Contains(string(res.Body), `"hasSecret":true`) {
					t.Fatalf("%s as %s: %d %s", q, as, res.Status, res.Body)
				}
			}
		}

		// Saving back the graph as read (without the secret) keeps it.
		var got struct{ Nodes, Edges []map[string]any }
		e.do(http.MethodGet, "/api/automation/"+id.String(), manager, nil, &got)
		e.do(http.MethodPatch, "/api/automation/"+id.String(), manager, map[string]any{"nodes": got.Nodes, "edges": got.Edges}, nil)
		a, err := e.db.Automation.Get(e.ctx, id)
		e.must(err)
		if a.WebhookSecrets["hook"] != secret {
			t.Fatalf("stored secrets after a save without them: %v", a.WebhookSecrets)
		}
		var dup struct{ ID uuid.UUID }
		e.do(http.MethodPost, "/api/automation/"+id.String()+"/duplicate", manager, nil, &dup)
		c, err := e.db.Automation.Get(e.ctx, dup.ID)
		e.must(err)
		if c.WebhookSecrets["hook"] != secret {
			t.Fatalf("the copy's secrets: %v", c.WebhookSecrets)
		}
		e.do(http.MethodPatch, "/api/automation/"+dup.ID.String(), manager, map[string]any{"isActive": false}, nil)

		// A new webhook node needs one: 400 naming the field, nothing saved.
		before, err := e.db.Automation.Query().Count(e.ctx)
		e.must(err)
		n2, ed2 := chain(node("hook", "webhook", map[string]any{"url": receiver.URL}))
		res := e.srv.Do(http.MethodPost, "/api/automation", manager, map[string]any{"name": "No secret",
			"automationTrigger": "lead.created", "nodes": n2, "edges": ed2})
		if res.Status != 400 || !strings.Contains(string(res.Body), "nodes[1].data.secret") {
			t.Fatalf("webhook without a secret: %d %s", res.Status, res.Body)
		}
		if after, _ := e.db.Automation.Query().Count(e.ctx); after != before {
			t.Fatalf("automations %d → %d", before, after)
		}

		// The delivery signs with the stored secret.
		e.createLead("Signed lead", "DT")
		e.eventually("the signed delivery", 20*time.Second, func() bool {
			r := e.runs(id)
			return len(r) == 1 && len(r[0].Edges.Steps) == 1 && r[0].Edges.Steps[0].Status == "DONE"
		})
		if signed.Load() != 1 {
			t.Fatalf("%d correctly signed deliveries", signed.Load())
		}
	})
}

// A receiver slower than CONECRM_WEBHOOK_TIMEOUT counts as a failed
// attempt: the delivery is cut off and retried, and the step says so.
func TestWebhookTimeoutRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var calls atomic.Int32
		release := make(chan struct{})
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				select { // far slower than the timeout
				case <-release:
				case <-time.After(5 * time.Second):
				}
			}
		}))
		defer receiver.Close()
		defer close(release)
		cfg := testConfig()
		cfg.WebhookTimeout = 300 * time.Millisecond
		e := start(t, db, &cfg)
		n, ed := chain(node("hook", "webhook", map[string]any{"url": receiver.URL, "secret": "0123456789abcdef"}))
		id := e.automation("Slow", "lead.created", nil, n, ed)
		started := time.Now()
		e.createLead("Slow receiver", "DT")
		e.eventually("the retried delivery", 20*time.Second, func() bool {
			r := e.runs(id)
			return len(r) == 1 && len(r[0].Edges.Steps) == 1 && r[0].Edges.Steps[0].Status == "DONE"
		})
		step := e.runs(id)[0].Edges.Steps[0]
		if calls.Load() != 2 || !strings.Contains(step.Detail, "attempt 2") {
			t.Fatalf("%d calls, step %q", calls.Load(), step.Detail)
		}
		if took := time.Since(started); took > 4*time.Second {
			t.Fatalf("the slow attempt was not cut off: %s", took)
		}
	})
}
