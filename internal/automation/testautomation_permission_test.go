package automation_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// testAutomation needs automation.read (the GraphQL permission matrix
// cannot run it: its gateway has no automation runtime): a user without
// it gets FORBIDDEN; one with it (the default USER role) gets the steps.
func TestTestAutomationNeedsAutomationRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		n, ed := chain(node("t", "createTask", map[string]any{"title": "Dry"}))
		id := e.automation("Permission", "lead.updated", nil, n, ed)
		leadID := e.createLead("Permission dry run", "DT")
		tid := storetest.TenantID(t, db, "demo-motors.test")
		_, err := db.User.Create().SetTenantID(tid).SetEmail("noroles@demo-motors.test").SetUsername("noroles@demo-motors.test").
			SetDisplayName("No roles").SetUserType(user.UserTypeUSER).Save(e.ctx)
		e.must(err)
		q := map[string]any{"query": `mutation($id: ID!, $lead: ID!) { testAutomation(id: $id, leadId: $lead) { nodeId } }`,
			"variables": map[string]any{"id": id, "lead": leadID}}
		if res := e.srv.Do(http.MethodPost, "/graphql", "noroles@demo-motors.test", q); !strings.Contains(string(res.Body), `"FORBIDDEN"`) {
			t.Fatalf("without automation.read: %s", res.Body)
		}
		if res := e.srv.Do(http.MethodPost, "/graphql", "user@demo-motors.test", q); !strings.Contains(string(res.Body), `"nodeId":"t"`) {
			t.Fatalf("USER (automation.read): %s", res.Body)
		}
	})
}
