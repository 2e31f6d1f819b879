package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/conecrm/gateway/internal/metrics"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/source"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/automation"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/live"
	"github.com/conecrm/gateway/internal/rest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

const (
	admin      = "admin@demo-motors.test"
	otherAdmin = "admin@northwind-auto.test"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// instance is one gateway (REST + GraphQL with subscriptions) over db.
type instance struct {
	*apptest.Server
	db *store.DB
}

func start(t *testing.T, db *store.DB, limits graph.SubscriptionLimits) *instance {
	t.Helper()
	url := "sqlite"
	if db.Dialect == "postgres" {
		url = storetest.DBURL(t, db)
	}
	return startURL(t, db, url, limits)
}

func startURL(t *testing.T, db *store.DB, url string, limits graph.SubscriptionLimits) *instance {
	t.Helper()
	return startWith(t, db, url, limits, false)
}

// startWith starts the automation runtime too when runtime is set.
func startWith(t *testing.T, db *store.DB, url string, limits graph.SubscriptionLimits, runtime bool) *instance {
	t.Helper()
	return startApp(t, db, url, limits, runtime, app.Config{})
}

// startApp serves with the HTTP layer's configuration cfg.
func startApp(t *testing.T, db *store.DB, url string, limits graph.SubscriptionLimits, runtime bool, cfg app.Config) *instance {
	t.Helper()
	svc := crm.NewService(db.Client)
	bus := live.New(db, url, svc, limits.Buffer, quiet)
	bus.SetReplay(limits.ReplayWindow, limits.ReplayMax)
	if err := bus.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Stop)
	if runtime {
		cfg := automation.DefaultConfig()
		cfg.PollInterval, cfg.Logger, cfg.RunChanged = 50*time.Millisecond, quiet, bus.PublishRun
		rt, err := automation.New(db, svc, cfg)
		must(t, err)
		must(t, rt.Start(context.Background()))
		t.Cleanup(func() { _ = rt.Stop(context.Background()) })
	}
	srv := apptest.StartConfig(t, db, cfg, map[string]http.Handler{
		"/api/":    rest.New(svc, quiet),
		"/graphql": graph.NewHandler(graph.Config{Client: db.Client, CRM: svc, Logger: quiet, Live: bus, Subscriptions: limits}),
	})
	return &instance{Server: srv, db: db}
}

// client speaks graphql-transport-ws.
type client struct {
	t       *testing.T
	conn    *websocket.Conn
	pending []message // events read while waiting for another subscription's
}

type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (in *instance) dial(t *testing.T) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(in.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &client{t: t, conn: conn}
}

func (c *client) send(m any) {
	c.t.Helper()
	b, _ := json.Marshal(m)
	if err := c.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next message that is not a ping or pong, or the error
// that ended the connection.
func (c *client) next(timeout time.Duration) (message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return message{}, err
		}
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Fatalf("not JSON: %s", b)
		}
		if m.Type != "ping" && m.Type != "pong" && m.Type != "ka" {
			return m, nil
		}
	}
}

func (c *client) init(token string) error {
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	m, err := c.next(10 * time.Second)
	if err != nil {
		return err
	}
	if m.Type != "connection_ack" {
		return fmt.Errorf("got %s %s", m.Type, m.Payload)
	}
	return nil
}

func (c *client) subscribe(id, query string) {
	c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query}})
}

// closed waits for the connection to end and returns its close code.
func (c *client) closed(timeout time.Duration) websocket.StatusCode {
	c.t.Helper()
	for {
		_, err := c.next(timeout)
		if err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			c.t.Fatalf("connection not closed: %v", err)
		}
	}
}

// event waits for the next "next" message of subscription id (others are
// kept) and decodes its data.
func (c *client) event(id string, timeout time.Duration, out any) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var m message
		if i := slices.IndexFunc(c.pending, func(m message) bool { return m.ID == id }); i >= 0 {
			m = c.pending[i]
			c.pending = slices.Delete(c.pending, i, i+1)
		} else {
			var err error
			if m, err = c.next(time.Until(deadline)); err != nil {
				c.t.Fatalf("waiting for an event of %s: %v", id, err)
			}
			if m.ID != id {
				c.pending = append(c.pending, m)
				continue
			}
		}
		if m.Type == "error" {
			c.t.Fatalf("subscription %s: %s", m.ID, m.Payload)
		}
		if m.Type == "next" && m.ID == id {
			var p struct {
				Data   json.RawMessage
				Errors []any
			}
			_ = json.Unmarshal(m.Payload, &p)
			if len(p.Errors) > 0 {
				c.t.Fatalf("event with errors: %s", m.Payload)
			}
			if err := json.Unmarshal(p.Data, out); err != nil {
				c.t.Fatal(err)
			}
			return
		}
	}
}

// answer returns the first message of subscription id other than its
// "complete" (an error answer, or the first event).
func (c *client) answer(id string) message {
	c.t.Helper()
	for {
		m, err := c.next(5 * time.Second)
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", id, err)
		}
		if m.ID == id && m.Type != "complete" {
			return m
		}
	}
}

// silent checks that nothing arrives for a while.
func (c *client) silent(d time.Duration) {
	c.t.Helper()
	if len(c.pending) > 0 {
		c.t.Fatalf("unexpected %s", c.pending[0].Payload)
	}
	m, err := c.next(d)
	if err == nil {
		c.t.Fatalf("unexpected %s %s %s", m.Type, m.ID, m.Payload)
	}
}

// newLead is a lead body of the seeded tenant of domain.
func newLead(t *testing.T, db *store.DB, domain, subject string) map[string]any {
	ctx := tenancy.Bypass(context.Background())
	tid := storetest.TenantID(t, db, domain)
	fr, err := db.Franchise.Query().Where(franchise.TenantID(tid)).Order(franchise.ByID()).First(ctx)
	must(t, err)
	dep, err := db.Department.Query().Where(department.FranchiseID(fr.ID)).Order(department.ByID()).First(ctx)
	must(t, err)
	c, err := db.Contact.Query().Where(contact.TenantID(tid)).Order(contact.ByID()).First(ctx)
	must(t, err)
	src, err := db.Source.Query().Where(source.TenantID(tid)).Order(source.ByID()).First(ctx)
	must(t, err)
	ref := func(id uuid.UUID) map[string]any { return map[string]any{"id": id} }
	return map[string]any{"subject": subject, "department": ref(dep.ID), "franchise": ref(fr.ID), "contact": ref(c.ID), "source": ref(src.ID)}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (in *instance) createLead(t *testing.T, as, domain, subject string) string {
	t.Helper()
	res := in.Do(http.MethodPost, "/api/lead", as, newLead(t, in.db, domain, subject))
	if res.Status != 200 {
		t.Fatalf("create lead: %d %s", res.Status, res.Body)
	}
	var l struct{ ID string }
	res.JSON(t, &l)
	return l.ID
}

const (
	recordSub = `subscription { recordChanged(types: ["lead", "task"]) { eventId topic recordType recordId occurredAt record { id ... on Lead { subject } } } }`
	vipSub    = `subscription { leadChanged(filter: {combinator: "and", rules: [{field: "subject", operator: "contains", value: "VIP"}]}) { topic leadId lead { subject } } }`
)

type recordChange struct {
	RecordChanged struct {
		EventID, Topic, RecordType, RecordID string
		OccurredAt                           time.Time
		Record                               *struct{ ID, Subject string }
	}
}

// A subscriber gets its tenant's committed changes, read as itself, in
// order: creations by REST, updates by GraphQL; a filtered lead
// subscription only the matching leads; another tenant's changes never.
func TestSubscriptionsPushCommittedChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		in := start(t, db, graph.SubscriptionLimits{})
		c := in.dial(t)
		must(t, c.init(in.Token(admin)))
		c.subscribe("all", recordSub)
		c.subscribe("vip", vipSub)
		time.Sleep(100 * time.Millisecond) // the subscriptions are registered

		in.createLead(t, otherAdmin, "northwind-auto.test", "Their lead")
		plain := in.createLead(t, admin, "demo-motors.test", "Plain lead")
		var ev recordChange
		c.event("all", 10*time.Second, &ev)
		if ev.RecordChanged.Topic != "lead.created" || ev.RecordChanged.RecordID != plain ||
			ev.RecordChanged.Record == nil || ev.RecordChanged.Record.Subject != "Plain lead" {
			t.Fatalf("first event %+v", ev)
		}
		vip := in.createLead(t, admin, "demo-motors.test", "VIP deal")
		var lc struct {
			LeadChanged struct {
				Topic, LeadID string
				Lead          *struct{ Subject string }
			}
		}
		c.event("vip", 10*time.Second, &lc)
		if lc.LeadChanged.LeadID != vip || lc.LeadChanged.Lead == nil || lc.LeadChanged.Lead.Subject != "VIP deal" {
			t.Fatalf("vip event %+v", lc)
		}
		res := in.Do(http.MethodPost, "/graphql", admin, map[string]any{
			"query":     `mutation($id: ID!) { updateLead(id: $id, input: {subject: "Plain, renamed"}) { id } }`,
			"variables": map[string]any{"id": plain}})
		if res.Status != 200 || strings.Contains(string(res.Body), "errors") {
			t.Fatalf("update: %s", res.Body)
		}
		c.event("all", 10*time.Second, &ev) // the VIP lead's creation
		if ev.RecordChanged.RecordID != vip {
			t.Fatalf("event %+v, want the VIP lead's", ev)
		}
		c.event("all", 10*time.Second, &ev)
		if ev.RecordChanged.Topic != "lead.updated" || ev.RecordChanged.RecordID != plain || ev.RecordChanged.Record.Subject != "Plain, renamed" {
			t.Fatalf("update event %+v", ev)
		}
		c.silent(300 * time.Millisecond) // nothing else: not the other tenant's lead, not the plain lead on "vip"
	})
}

// The token goes in connection_init: none or a bad one closes the
// connection with 4401; so does its expiry; a user deactivated meanwhile
// loses the connection with 4403 at the next check.
func TestSubscriptionAuthentication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		in := start(t, db, graph.SubscriptionLimits{Recheck: 200 * time.Millisecond})
		for _, tok := range []string{"", "not-a-token"} {
			c := in.dial(t)
			c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}})
			if code := c.closed(5 * time.Second); code != graph.CloseUnauthorized {
				t.Fatalf("token %q: close %d", tok, code)
			}
		}
		// Without connection_init nothing can be subscribed.
		uid, tid := storetest.UserID(t, db, admin), storetest.TenantID(t, db, "demo-motors.test")
		short, err := auth.Mint(apptest.Secret, uid, tid, 1500*time.Millisecond)
		must(t, err)
		c := in.dial(t)
		must(t, c.init(short))
		c.subscribe("all", recordSub)
		if code := c.closed(10 * time.Second); code != graph.CloseUnauthorized {
			t.Fatalf("expired token: close %d", code)
		}

		manager := "manager@demo-motors.test"
		c = in.dial(t)
		must(t, c.init(in.Token(manager)))
		c.subscribe("all", recordSub)
		must(t, db.User.Update().Where(user.Email(manager)).SetIsActive(false).Exec(tenancy.Bypass(context.Background())))
		if code := c.closed(10 * time.Second); code != graph.CloseForbidden {
			t.Fatalf("deactivated user: close %d", code)
		}
	})
}

// Subscriptions per connection and connections per user are bounded;
// a subscription to a type the viewer may not read is refused.
func TestSubscriptionLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		in := start(t, db, graph.SubscriptionLimits{PerConnection: 1, PerUser: 1})
		open := openSubscriptions(t)
		c := in.dial(t)
		must(t, c.init(in.Token(admin)))
		if n := openSubscriptions(t); n != open+1 {
			t.Fatalf("subscriptions gauge %v after a connection, want %v", n, open+1)
		}
		c.subscribe("1", recordSub)
		time.Sleep(100 * time.Millisecond) // gqlgen starts subscriptions concurrently
		c.subscribe("2", recordSub)
		if m := c.answer("2"); !strings.Contains(string(m.Payload), "too many subscriptions on this connection") {
			t.Fatalf("second subscription: %s %s", m.Type, m.Payload)
		}
		second := in.dial(t)
		second.send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + in.Token(admin)}})
		if code := second.closed(5 * time.Second); code != graph.CloseTooMany {
			t.Fatalf("second connection: close %d", code)
		}
		if n := openSubscriptions(t); n != open+1 {
			t.Fatalf("subscriptions gauge %v with a refused connection, want %v", n, open+1)
		}
		c.subscribe("3", `subscription { recordChanged(types: ["webhook"]) { topic } }`)
		if m := c.answer("3"); !strings.Contains(string(m.Payload), "unknown record type") {
			t.Fatalf("unknown type: %s %s", m.Type, m.Payload)
		}
		_ = c.conn.Close(websocket.StatusNormalClosure, "")
		deadline := time.Now().Add(5 * time.Second)
		for openSubscriptions(t) != open {
			if time.Now().After(deadline) {
				t.Fatalf("subscriptions gauge %v after the connection closed, want %v", openSubscriptions(t), open)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// Two gateway instances on one PostgreSQL: a change written through one
// reaches a subscriber of the other (LISTEN/NOTIFY). Logs the change →
// event latency (occurredAt, stamped in the write's transaction, to
// receipt).
func TestSubscriptionsAcrossInstances(t *testing.T) {
	db := storetest.Open(t, "postgres")
	second, err := store.Open(context.Background(), storetest.DBURL(t, db))
	must(t, err)
	t.Cleanup(func() { _ = second.Close() })
	a := start(t, db, graph.SubscriptionLimits{})
	b := startURL(t, second, storetest.DBURL(t, db), graph.SubscriptionLimits{})
	c := b.dial(t)
	must(t, c.init(b.Token(admin)))
	c.subscribe("all", recordSub)
	time.Sleep(100 * time.Millisecond)
	const n = 30
	var lat []time.Duration
	for i := range n {
		id := a.createLead(t, admin, "demo-motors.test", fmt.Sprintf("Across %d", i))
		var ev recordChange
		c.event("all", 10*time.Second, &ev)
		got := time.Now()
		if ev.RecordChanged.RecordID != id || ev.RecordChanged.Record == nil {
			t.Fatalf("event %+v, want lead %s", ev, id)
		}
		lat = append(lat, got.Sub(ev.RecordChanged.OccurredAt))
	}
	slices.Sort(lat)
	t.Logf("change → event across instances (n=%d): p50 %s, p99 %s, max %s", n, lat[n/2], lat[n*99/100], lat[n-1])
}

// automationRunChanged pushes the runs of one automation as they finish.
func TestAutomationRunChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		url := "sqlite"
		if db.Dialect == "postgres" {
			url = storetest.DBURL(t, db)
		}
		in := startWith(t, db, url, graph.SubscriptionLimits{}, true)
		res := in.Do(http.MethodPost, "/api/automation", admin, map[string]any{"name": "Pushed", "automationTrigger": "lead.created",
			"nodes": []any{map[string]any{"id": "start", "type": "trigger"}}, "edges": []any{}})
		if res.Status != 200 {
			t.Fatalf("automation: %d %s", res.Status, res.Body)
		}
		var a struct{ ID string }
		res.JSON(t, &a)
		c := in.dial(t)
		must(t, c.init(in.Token(admin)))
		c.send(map[string]any{"id": "runs2", "type": "subscribe", "payload": map[string]any{
			"query": `subscription($a: ID!) { automationRunChanged(automation: $a) { runId run { status } } }`, "variables": map[string]any{"a": a.ID}}})
		time.Sleep(100 * time.Millisecond)
		in.createLead(t, admin, "demo-motors.test", "Runs pushed")
		var ev struct {
			AutomationRunChanged struct {
				RunID string
				Run   *struct{ Status string }
			}
		}
		c.event("runs2", 20*time.Second, &ev)
		if ev.AutomationRunChanged.Run == nil || ev.AutomationRunChanged.Run.Status != "DONE" {
			t.Fatalf("run event %+v", ev)
		}
	})
}

// openSubscriptions reads the gateway's subscriptions gauge.
func openSubscriptions(t *testing.T) float64 {
	t.Helper()
	var m dto.Metric
	if err := metrics.Subscriptions.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}
