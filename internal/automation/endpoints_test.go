package automation_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

const otherAdmin = "admin@northwind-auto.test"

// receiver is an independent webhook receiver: it verifies the signature
// with the secret it was given (crypto/hmac, not the gateway's code path),
// refuses stale timestamps and keeps what it accepted.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	status int // answered to every request when not 0
	got    []map[string]any
	ids    []string // X-Conecrm-Event-Id of each accepted delivery
	bad    int      // deliveries with a wrong signature
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.status != 0 {
			http.Error(w, "receiver is down", r.status)
			return
		}
		ts, err := strconv.ParseInt(req.Header.Get("X-Conecrm-Timestamp"), 10, 64)
		sig := hmacHex(r.secret, req.Header.Get("X-Conecrm-Timestamp")+"."+string(body))
		if err != nil || time.Since(time.Unix(ts, 0)) > 5*time.Minute ||
			!hmac.Equal([]byte(req.Header.Get("X-Conecrm-Signature")), []byte("sha256="+sig)) {
			r.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		r.got = append(r.got, m)
		r.ids = append(r.ids, req.Header.Get("X-Conecrm-Event-Id"))
		_, _ = io.WriteString(w, "thanks")
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) deliveries() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.got...)
}

// endpoint creates a webhook endpoint through REST and gives its secret to r.
func (e *env) endpoint(as string, r *receiver, events ...string) uuid.UUID {
	e.t.Helper()
	var out struct {
		ID     uuid.UUID
		Secret string
	}
	res := e.srv.Do(http.MethodPost, "/api/webhook", as, map[string]any{"url": r.URL + "/hooks", "events": events})
	if res.Status != http.StatusCreated {
		e.t.Fatalf("create endpoint: %d %s", res.Status, res.Body)
	}
	res.JSON(e.t, &out)
	if !strings.HasPrefix(out.Secret, "whsec_") {
		e.t.Fatalf("secret %q", out.Secret)
	}
	r.mu.Lock()
	r.secret = out.Secret
	r.mu.Unlock()
	return out.ID
}

// Every matching event reaches the endpoint exactly once, whatever wrote
// it (REST, GraphQL, an automation's action), signed, with the record in
// its REST shape; another tenant's events never do.
func TestWebhookEndpointsDeliverEveryWritePath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		mine, theirs := newReceiver(t), newReceiver(t)
		id := e.endpoint(admin, mine, "lead.created", "lead.updated", "task.created", "task.updated")
		e.endpoint(otherAdmin, theirs, "lead.created", "lead.updated", "task.created", "task.updated")

		// An automation's action (createTask on lead.created) is a write path too.
		n, ed := chain(node("task", "createTask", map[string]any{"title": "Hooked follow-up", "type": "CALL"}))
		e.automation("Task per lead", "lead.created", nil, n, ed)

		leadID := e.createLead("Webhooked", "DT") // REST: lead.created
		var upd struct{ UpdateLead struct{ ID string } }
		e.gql(admin, `mutation($id: ID!) { updateLead(id: $id, input: {subject: "Webhooked again"}) { id } }`,
			map[string]any{"id": leadID}, &upd) // GraphQL: lead.updated
		userID := storetest.UserID(t, db, admin)
		var tk struct{ CreateTask struct{ ID string } }
		e.gql(admin, `mutation($u: ID!) { createTask(input: {title: "By GraphQL", assigneeID: $u}) { id } }`,
			map[string]any{"u": userID}, &tk) // GraphQL: task.created

		want := map[string]int{"lead.created": 1, "lead.updated": 1, "task.created": 2}
		e.eventually("four deliveries", 20*time.Second, func() bool { return len(mine.deliveries()) >= 4 })
		time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
		got := mine.deliveries()
		counts := map[string]int{}
		seen := map[string]bool{}
		var byAutomation bool
		for i, d := range got {
			counts[d["type"].(string)]++
			if seen[d["id"].(string)] || mine.ids[i] != d["id"] {
				t.Fatalf("event %v delivered twice or with header id %q", d["id"], mine.ids[i])
			}
			seen[d["id"].(string)] = true
			if d["tenantId"] != e.tid.String() || d["occurredAt"] == nil || d["changes"] == nil {
				t.Fatalf("delivery %v", d)
			}
			rec, _ := d["record"].(map[string]any)
			if rec == nil || rec["id"] != d["recordId"] {
				t.Fatalf("record of %v", d)
			}
			if d["type"] == "lead.updated" {
				ch := d["changes"].(map[string]any)["subject"].(map[string]any)
				if ch["before"] != "Webhooked" || ch["after"] != "Webhooked again" || rec["subject"] != "Webhooked again" {
					t.Fatalf("lead.updated %v", d)
				}
			}
			if d["type"] == "task.created" && d["causationId"] != nil {
				byAutomation = true
			}
		}
		if len(got) != 4 || counts["lead.created"] != want["lead.created"] || counts["lead.updated"] != 1 || counts["task.created"] != 2 || !byAutomation {
			t.Fatalf("deliveries by type %v (automation's task: %v)", counts, byAutomation)
		}
		if mine.bad != 0 || len(theirs.deliveries()) != 0 || theirs.bad != 0 {
			t.Fatalf("bad signatures %d; the other tenant got %d", mine.bad, len(theirs.deliveries()))
		}

		// Every attempt is kept and readable, by REST and GraphQL.
		var attempts []struct {
			EventID    string
			Succeeded  bool
			StatusCode int
			Response   string
		}
		// The receiver has answered; the attempt is recorded right after.
		e.eventually("four recorded attempts", 10*time.Second, func() bool {
			e.do(http.MethodGet, "/api/webhook/"+id.String()+"/attempts", admin, nil, &attempts)
			return len(attempts) >= 4
		})
		if len(attempts) != 4 || !attempts[0].Succeeded || attempts[0].StatusCode != 200 || attempts[0].Response != "thanks" {
			t.Fatalf("attempts %+v", attempts)
		}
		var q struct {
			WebhookEndpoints struct {
				Edges []struct {
					Node struct {
						URL      string
						Events   []string
						Attempts struct{ TotalCount int }
					}
				}
			}
		}
		e.gql(admin, `{ webhookEndpoints { edges { node { url events attempts { totalCount } } } } }`, nil, &q)
		if len(q.WebhookEndpoints.Edges) != 1 || q.WebhookEndpoints.Edges[0].Node.Attempts.TotalCount != 4 {
			t.Fatalf("graphql endpoints %+v", q)
		}
		// The other tenant's administrator cannot see this endpoint.
		if res := e.srv.Do(http.MethodGet, "/api/webhook/"+id.String(), otherAdmin, nil); res.Status != http.StatusNotFound {
			t.Fatalf("another tenant's endpoint: %d %s", res.Status, res.Body)
		}
	})
}

// A receiver that keeps failing gets retries with backoff, every attempt
// recorded, then its endpoint is switched off with a reason; switching it
// on again clears the reason.
func TestWebhookEndpointDisabledAfterFailures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cfg := testConfig()
		cfg.WebhookDisableAfter = 3
		e := start(t, db, &cfg)
		r := newReceiver(t)
		r.status = http.StatusServiceUnavailable
		id := e.endpoint(admin, r, "lead.created")
		e.createLead("Nobody listens", "DT")
		var ep struct {
			IsActive            bool
			DisabledReason      string
			ConsecutiveFailures int
		}
		e.eventually("the endpoint disabled", 20*time.Second, func() bool {
			e.do(http.MethodGet, "/api/webhook/"+id.String(), admin, nil, &ep)
			return !ep.IsActive
		})
		if ep.ConsecutiveFailures != 3 || !strings.Contains(ep.DisabledReason, "3 failed delivery attempts") ||
			!strings.Contains(ep.DisabledReason, "HTTP 503") {
			t.Fatalf("endpoint %+v", ep)
		}
		time.Sleep(400 * time.Millisecond) // no attempt after the switch-off
		var attempts []struct {
			Attempt    int
			Succeeded  bool
			StatusCode int
			Response   string
			DurationMs int
		}
		e.do(http.MethodGet, "/api/webhook/"+id.String()+"/attempts", admin, nil, &attempts) // recorded with the switch-off
		if len(attempts) != 3 || attempts[0].Attempt != 3 || attempts[2].Attempt != 1 || attempts[0].Succeeded ||
			attempts[0].StatusCode != 503 || !strings.Contains(attempts[0].Response, "receiver is down") {
			t.Fatalf("attempts %+v", attempts)
		}
		e.do(http.MethodPatch, "/api/webhook/"+id.String(), admin, map[string]any{"isActive": true}, &ep)
		if !ep.IsActive || ep.DisabledReason != "" || ep.ConsecutiveFailures != 0 {
			t.Fatalf("re-enabled %+v", ep)
		}
	})
}

// Managing endpoints needs webhook.manage (ADMIN); bad input is a 400
// naming the field and changes nothing; the secret is shown once.
func TestWebhookEndpointManagement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		for _, c := range []struct {
			method, path, as string
			body             any
			status           int
			want             string
		}{
			{"GET", "/api/webhook", manager, nil, 403, "Access denied"},
			{"POST", "/api/webhook", manager, map[string]any{"url": "https://example.com/h", "events": []string{"lead.created"}}, 403, "Access denied"},
			{"POST", "/api/webhook", admin, map[string]any{"url": "ftp://example.com/h", "events": []string{"lead.created"}}, 400, "url: must be an absolute http or https URL"},
			{"POST", "/api/webhook", admin, map[string]any{"url": "https://example.com/h", "events": []string{"lead.exploded"}}, 400, `events: unknown event type \"lead.exploded\"`},
			{"POST", "/api/webhook", admin, map[string]any{"url": "https://example.com/h"}, 400, "events: is required"},
			{"POST", "/api/webhook", admin, map[string]any{"events": []string{"lead.created"}}, 400, "url: is required"},
			{"POST", "/api/webhook", admin, map[string]any{"url": "https://u:p@example.com/h", "events": []string{"lead.created"}}, 400, "url: must not carry credentials"},
			{"GET", "/api/webhook", admin, nil, 200, "[]"},
			{"GET", "/api/webhook/event-types", admin, nil, 200, `"lead.stage_changed"`},
			{"GET", "/api/webhook/" + uuid.NewString(), admin, nil, 404, ""},
		} {
			res := e.srv.Do(c.method, c.path, c.as, c.body)
			if res.Status != c.status || !strings.Contains(string(res.Body), c.want) {
				t.Fatalf("%s %s as %s: %d %s; want %d %q", c.method, c.path, c.as, res.Status, res.Body, c.status, c.want)
			}
		}
		// GraphQL: the secret comes once, in the create answer; the type has no secret field.
		var cr struct {
			CreateWebhookEndpoint struct {
				Secret   string
				Endpoint struct {
					ID       string
					IsActive bool
				}
			}
		}
		e.gql(admin, `mutation { createWebhookEndpoint(input: {url: "https://example.com/hook", events: ["task.completed", "lead.assigned"]}) { secret endpoint { id isActive } } }`, nil, &cr)
		if !strings.HasPrefix(cr.CreateWebhookEndpoint.Secret, "whsec_") || !cr.CreateWebhookEndpoint.Endpoint.IsActive {
			t.Fatalf("create %+v", cr)
		}
		res := e.srv.Do(http.MethodPost, "/graphql", admin, map[string]any{"query": `{ webhookEndpoints { edges { node { secret } } } }`})
		if !strings.Contains(string(res.Body), "Cannot query field") {
			t.Fatalf("secret queryable: %s", res.Body)
		}
		res = e.srv.Do(http.MethodPost, "/graphql", manager, map[string]any{"query": `{ webhookEndpoints { totalCount } }`})
		if !strings.Contains(string(res.Body), "FORBIDDEN") {
			t.Fatalf("manager read endpoints: %s", res.Body)
		}
		res = e.srv.Do(http.MethodPost, "/graphql", admin, map[string]any{"query": `mutation { updateWebhookEndpoint(id: "` + cr.CreateWebhookEndpoint.Endpoint.ID + `", input: {events: []}) { id } }`})
		if !strings.Contains(string(res.Body), "must name at least one event type") {
			t.Fatalf("empty events: %s", res.Body)
		}
		var rot struct{ RotateWebhookEndpointSecret struct{ Secret string } }
		e.gql(admin, `mutation($id: ID!) { rotateWebhookEndpointSecret(id: $id) { secret } }`, map[string]any{"id": cr.CreateWebhookEndpoint.Endpoint.ID}, &rot)
		if rot.RotateWebhookEndpointSecret.Secret == cr.CreateWebhookEndpoint.Secret || rot.RotateWebhookEndpointSecret.Secret == "" {
			t.Fatal("rotation kept the secret")
		}
		var del struct{ DeleteWebhookEndpoint string }
		e.gql(admin, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, map[string]any{"id": cr.CreateWebhookEndpoint.Endpoint.ID}, &del)
		e.do(http.MethodGet, "/api/webhook", admin, nil, &[]any{})
		if res := e.srv.Do(http.MethodGet, "/api/webhook/"+del.DeleteWebhookEndpoint, admin, nil); res.Status != 404 {
			t.Fatalf("deleted endpoint: %d", res.Status)
		}
	})
}

func hmacHex(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}
