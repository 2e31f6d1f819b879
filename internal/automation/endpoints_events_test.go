package automation_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Writes of webhook endpoints emit their domain events in their
// transaction like every configuration write — REST and GraphQL, and the
// delivery worker's switch-off (a system write, no actor) — and no event
// ever carries the secret.
func TestWebhookEndpointWritesEmitEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cfg := testConfig()
		cfg.WebhookDisableAfter = 1
		e := start(t, db, &cfg)
		r := newReceiver(t)
		r.status = http.StatusServiceUnavailable
		id := e.endpoint(admin, r, "lead.created") // REST create
		e.gql(admin, `mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: {description: "CRM sync"}) { id } }`,
			map[string]any{"id": id}, nil) // GraphQL update
		e.do(http.MethodPatch, "/api/webhook/"+id.String(), admin, map[string]any{"description": "CRM sync"}, nil) // changes nothing
		e.do(http.MethodPost, "/api/webhook/"+id.String()+"/rotate-secret", admin, nil, nil)
		e.createLead("Nobody listens", "DT")
		var ep struct{ IsActive bool }
		e.eventually("the endpoint switched off", 20*time.Second, func() bool {
			e.do(http.MethodGet, "/api/webhook/"+id.String(), admin, nil, &ep)
			return !ep.IsActive
		})
		e.gql(admin, `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, map[string]any{"id": id}, nil)

		rows, err := db.OutboxEvent.Query().Where(outboxevent.SubjectID(id)).
			Order(outboxevent.ByDateCreated(), outboxevent.ByID()).All(registry.Unchecked(e.ctx))
		e.must(err)
		var topics []string
		for _, row := range rows {
			topics = append(topics, row.Topic)
			b, _ := json.Marshal(row.Payload)
			if strings.Contains(string(b), "whsec_") {
				t.Fatalf("%s carries the secret: %s", row.Topic, b)
			}
		}
		want := []string{"webhookEndpoint.created", "webhookEndpoint.updated", "webhookEndpoint.secret_rotated",
			"webhookEndpoint.updated", "webhookEndpoint.deleted"}
		if fmt.Sprint(topics) != fmt.Sprint(want) {
			t.Fatalf("events %v, want %v", topics, want)
		}
		change := func(i int, field string) map[string]any {
			c, _ := rows[i].Payload["changes"].(map[string]any)[field].(map[string]any)
			return c
		}
		me := storetest.UserID(t, db, admin).String()
		if c := change(0, "url"); c == nil || c["after"] != r.URL+"/hooks" || rows[0].Payload["actorId"] != me {
			t.Fatalf("created %v", rows[0].Payload)
		}
		if c := change(1, "description"); c == nil || c["before"] != "" || c["after"] != "CRM sync" {
			t.Fatalf("updated %v", rows[1].Payload)
		}
		off := rows[3].Payload
		if c := change(3, "isActive"); c == nil || c["before"] != true || c["after"] != false || off["actorId"] != nil ||
			!strings.Contains(fmt.Sprint(change(3, "disabledReason")["after"]), "HTTP 503") {
			t.Fatalf("switch-off %v", off)
		}
		if rows[4].Payload["tenantId"] != e.tid.String() || rows[4].Payload["actorId"] != me {
			t.Fatalf("deleted %v", rows[4].Payload)
		}
		if _, err := uuid.Parse(fmt.Sprint(rows[2].Payload["recordId"])); err != nil {
			t.Fatalf("rotated %v", rows[2].Payload)
		}
	})
}
