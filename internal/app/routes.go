package app

import (
	"log/slog"
	"net/http"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/live"
	"github.com/conecrm/gateway/internal/rest"
)

// Transports is what the two transports need besides the domain service.
type Transports struct {
	Logger     *slog.Logger
	Production bool // GraphQL: no introspection, no "did you mean"
	GraphQL    graph.Limits
	// Automation answers testAutomation (internal/automation.Runtime);
	// nil says the runtime is not running.
	Automation graph.AutomationTester
	// Live serves subscriptions; nil serves no websocket.
	Live          *live.Bus
	Subscriptions graph.SubscriptionLimits
}

// Routes are the authenticated transports, by mux pattern, for New: REST
// under /api/, GraphQL at /graphql. Both call svc, the domain; GraphQL's
// root lists, node and loaders also read through client (entgql), whose
// data layer enforces tenancy and read permission by itself.
func Routes(client *ent.Client, svc *crm.Service, t Transports) map[string]http.Handler {
	if t.Logger == nil {
		t.Logger = slog.Default()
	}
	return map[string]http.Handler{
		"/api/": rest.New(svc, t.Logger),
		"/graphql": graph.NewHandler(graph.Config{Client: client, CRM: svc, Logger: t.Logger, Production: t.Production, Limits: t.GraphQL,
			Automation: t.Automation, Live: t.Live, Subscriptions: t.Subscriptions}),
	}
}
