// Package registry is the one list of the gateway's entities: for each, its
// table, the permission that lets a viewer read its rows, its GraphQL root
// list, its REST resource, whether the query builder filters it, and what
// its REST responses embed. The data layer (the Record mixin's interceptor
// in ent/schema), the GraphQL field collection, the query builder, the REST
// layer and the code generator (ent/entc.go) all read it from here, so
// nothing else repeats it.
//
// It is a leaf package (it imports only internal/ids, internal/viewer and
// internal/tenancy): ent/entc.go runs it at generate time and the generated
// ent package calls it.
package registry

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/ids"
)

// Read permissions. The other permissions (writes, management) are in
// internal/crm, which re-exports these under the same names.
const (
	PermAccountRead     = "account.read"
	PermContactRead     = "contact.read"
	PermLeadRead        = "lead.read"
	PermTaskRead        = "task.read"
	PermEventRead       = "event.read"
	PermStageRead       = "stage.read"
	PermAutomationRead  = "automation.read"
	PermCustomFieldRead = "custom_field.read"
	PermCustomLabelRead = "custom_label.read"
	PermSavedFilterRead = "saved_filter.read"
	PermProductRead     = "product.read"
	PermUserRead        = "user.read"
	PermSettingsRead    = "settings.read"
	// PermAPIKeyManage both reads and manages API keys: the key list is
	// administration, not data other roles read.
	PermAPIKeyManage  = "api_key.manage"
	PermWebhookManage = "webhook.manage"
	PermNoteRead      = "note.read"
)

// Entity describes one ent entity.
type Entity struct {
	// Type is the ent type name.
	Type string
	// GraphQL is its GraphQL type name when it differs from Type.
	GraphQL string
	// Code is the type code its ids carry (internal/ids), so TableOf finds
	// a row's table from its id alone. Never reuse or renumber one: a new
	// entity takes the highest code + 1.
	Code uint16
	// Table is its SQL table.
	Table string
	// Read is the permission that lets a viewer read its rows, through any
	// path: a root list, node(id), an edge, a loader field, a filter. Rows
	// that belong to a parent (a lead's products) carry the parent's. ""
	// means no viewer reads it: only system work (tenancy.Bypass) or the
	// domain layer's own checks (Unchecked).
	Read string
	// Root is its GraphQL root connection ("" for none).
	Root string
	// Filter is its query-builder name ("" when it is not filterable): the
	// {entity} of /api/filters, /api/query-builder/* and filterConfig, and
	// a saved filter's module.
	Filter string
	// REST is its REST resource path ("" for none).
	REST string
	// Embeds are the types a REST response of this entity carries inside
	// it (a lead's contact, stage…): part of the resource, read with its
	// permission on REST (docs/permissions.md lists them). GraphQL has no
	// embedding: each field checks its own type.
	Embeds []string
	// AlsoRead, when set, is another permission that reads its rows too
	// (a customer's third-party ids belong to an account or a contact).
	AlsoRead string
	// Owner, when set, is the column naming the user a row belongs to: a
	// USER reads only their own rows (settings, third-party metadata).
	Owner string
}

// Entities is the registry, in the order of GET /api/filters.
var Entities = []Entity{
	{Type: "Account", Code: 14, Table: "accounts", Read: PermAccountRead, Root: "accounts", Filter: "account", REST: "/api/account",
		Embeds: []string{"Contact", "CustomerThirdPartyID"}},
	{Type: "Contact", Code: 15, Table: "contacts", Read: PermContactRead, Root: "contacts", Filter: "contact", REST: "/api/contact",
		Embeds: []string{"Account", "CustomerThirdPartyID"}},
	{Type: "Lead", Code: 20, Table: "leads", Read: PermLeadRead, Root: "leads", Filter: "lead", REST: "/api/lead",
		Embeds: []string{"User"}},
	{Type: "Task", Code: 21, Table: "tasks", Read: PermTaskRead, Root: "tasks", Filter: "task", REST: "/api/task",
		Embeds: []string{"User", "SecurityGroup"}},
	{Type: "Appointment", Code: 22, Table: "appointments", Read: PermEventRead, Root: "appointments", Filter: "appointment"},
	{Type: "FollowUp", Code: 23, Table: "follow_ups", Read: PermEventRead, Root: "followUps", Filter: "followup"},

	{Type: "CustomerThirdPartyID", Code: 16, Table: "customer_third_party_ids", Read: PermAccountRead, AlsoRead: PermContactRead},
	{Type: "ConnectionThirdPartyID", Code: 18, Table: "connection_third_party_ids", Read: PermLeadRead},
	{Type: "LeadProduct", Code: 32, Table: "lead_products", Read: PermLeadRead},
	{Type: "CreditAssessment", Code: 37, Table: "credit_assessments", Read: PermLeadRead},
	{Type: "Incentive", Code: 34, Table: "incentives", Read: PermLeadRead},
	{Type: "LeadPackage", GraphQL: "Package", Code: 35, Table: "packages", Read: PermLeadRead},
	{Type: "PackagePrice", Code: 36, Table: "package_prices", Read: PermLeadRead},
	{Type: "Survey", Code: 33, Table: "surveys", Read: PermLeadRead},
	{Type: "ConnectionStage", Code: 6, Table: "connection_stages", Read: PermStageRead, Root: "stages", REST: "/api/stage"},
	{Type: "PipelineStage", Code: 5, Table: "pipeline_stages", Read: PermStageRead},
	{Type: "Automation", Code: 24, Table: "automations", Read: PermAutomationRead, Root: "automations", REST: "/api/automation",
		Embeds: []string{"Franchise"}},
	{Type: "DelayedAutomation", Code: 25, Table: "delayed_automations", Read: PermAutomationRead},
	{Type: "AutomationRun", Code: 39, Table: "automation_runs", Read: PermAutomationRead},
	{Type: "AutomationRunStep", Code: 40, Table: "automation_run_steps", Read: PermAutomationRead},
	{Type: "OutboundMessage", Code: 41, Table: "outbound_messages", Read: PermAutomationRead},
	{Type: "CustomField", Code: 26, Table: "custom_fields", Read: PermCustomFieldRead, Root: "customFields", REST: "/api/custom-field"},
	{Type: "CustomFieldValue", Code: 27, Table: "custom_field_values", Read: PermCustomFieldRead},
	{Type: "CustomLabel", Code: 28, Table: "custom_labels", Read: PermCustomLabelRead, Root: "customLabels", REST: "/api/custom-labels"},
	{Type: "SavedFilter", Code: 29, Table: "saved_filters", Read: PermSavedFilterRead, Root: "savedFilters", REST: "/api/saved-filter"},
	{Type: "Product", Code: 30, Table: "products", Read: PermProductRead, Root: "products"},
	{Type: "ProductGroup", Code: 31, Table: "product_groups", Read: PermProductRead, Root: "productGroups"},
	{Type: "ProductThirdPartyID", Code: 19, Table: "product_third_party_ids", Read: PermProductRead},
	{Type: "User", Code: 9, Table: "users", Read: PermUserRead, Root: "users"},
	{Type: "UserThirdPartyID", Code: 17, Table: "user_third_party_ids", Read: PermUserRead, Owner: "user_id"},
	{Type: "UserSettings", Code: 13, Table: "user_settings", Read: PermUserRead, Owner: "user_settings"},
	{Type: "SecurityGroup", Code: 10, Table: "security_groups", Read: PermUserRead, Root: "securityGroups"},
	{Type: "Role", Code: 11, Table: "roles", Read: PermUserRead},
	{Type: "Permission", Code: 12, Table: "permissions", Read: PermUserRead},
	// A round-robin group's turn: read with its group's permission.
	{Type: "RoundRobinCursor", Code: 46, Table: "round_robin_cursors", Read: PermUserRead},
	{Type: "Franchise", Code: 2, Table: "franchises", Read: PermSettingsRead, Root: "franchises"},
	{Type: "Department", Code: 3, Table: "departments", Read: PermSettingsRead, Root: "departments"},
	{Type: "Pipeline", Code: 4, Table: "pipelines", Read: PermSettingsRead, Root: "pipelines"},
	{Type: "Status", Code: 7, Table: "statuses", Read: PermSettingsRead, Root: "statuses"},
	{Type: "Source", Code: 8, Table: "sources", Read: PermSettingsRead, Root: "sources"},
	// A tenant's webhook endpoints and their delivery attempts: only
	// their managers see them (an endpoint's URL may carry a credential).
	{Type: "WebhookEndpoint", Code: 43, Table: "webhook_endpoints", Read: PermWebhookManage, Root: "webhookEndpoints", REST: "/api/webhook"},
	{Type: "WebhookAttempt", Code: 44, Table: "webhook_attempts", Read: PermWebhookManage},
	// The domain events of the transactional outbox: not served to clients,
	// read by the automation runtime (as its system viewer).
	{Type: "OutboxEvent", Code: 38, Table: "outbox_events", Read: PermAutomationRead},
	// API keys (hashed secrets, their users and roles) are the
	// administrators' only; the GraphQL type is hand-written (no root
	// connection, no node).
	{Type: "APIKey", GraphQL: "ApiKey", Code: 42, Table: "api_keys", Read: PermAPIKeyManage},
	// A lead's notes: free text by a user.
	{Type: "Note", Code: 45, Table: "notes", Read: PermNoteRead, Root: "notes", Filter: "note", REST: "/api/note"},
	// The tenant is no tenant's row; node(id) of one's own tenant is
	// checked by internal/crm.
	{Type: "Tenant", Code: 1, Table: "tenants"},
}

var byTable, byType, byGraphQL, byFilter, byCode = index()

func index() (table, typ, gql, filter map[string]*Entity, code map[uint16]*Entity) {
	table, typ, gql, filter = map[string]*Entity{}, map[string]*Entity{}, map[string]*Entity{}, map[string]*Entity{}
	code = map[uint16]*Entity{}
	for i := range Entities {
		e := &Entities[i]
		if table[e.Table] != nil || typ[e.Type] != nil {
			panic(fmt.Sprintf("registry: %s (%s) registered twice", e.Type, e.Table))
		}
		if e.Code == 0 || e.Code >= 1<<12 || code[e.Code] != nil {
			panic(fmt.Sprintf("registry: %s: type code %d is not in 1..4095 or not unique", e.Type, e.Code))
		}
		table[e.Table], typ[e.Type], gql[e.GraphQLType()], code[e.Code] = e, e, e, e
		if e.Filter != "" {
			filter[e.Filter] = e
		}
	}
	for i := range Entities {
		for _, t := range Entities[i].Embeds {
			if typ[t] == nil {
				panic(fmt.Sprintf("registry: %s embeds unknown type %s", Entities[i].Type, t))
			}
		}
	}
	return table, typ, gql, filter, code
}

// GraphQLType is e's GraphQL type name.
func (e *Entity) GraphQLType() string {
	if e.GraphQL != "" {
		return e.GraphQL
	}
	return e.Type
}

// ByGraphQLType returns the entity of a GraphQL object type, or nil.
func ByGraphQLType(name string) *Entity { return byGraphQL[name] }

// TableOf returns the table of the row an id names, or "" when the id was
// not made for a registered entity.
func TableOf(id uuid.UUID) string {
	if e := byCode[ids.TypeOf(id)]; e != nil {
		return e.Table
	}
	return ""
}

// ByTable returns the entity stored in table, or nil.
func ByTable(table string) *Entity { return byTable[table] }

// ByType returns the entity of an ent/GraphQL type name, or nil.
func ByType(name string) *Entity { return byType[name] }

// ByFilter returns the filterable entity the query builder calls name, or nil.
func ByFilter(name string) *Entity { return byFilter[name] }

// Filterable returns the filterable entities, in registry order.
func Filterable() []*Entity {
	var out []*Entity
	for i := range Entities {
		if Entities[i].Filter != "" {
			out = append(out, &Entities[i])
		}
	}
	return out
}

// Roots returns the entities with a GraphQL root list, in registry order.
func Roots() []*Entity {
	var out []*Entity
	for i := range Entities {
		if Entities[i].Root != "" {
			out = append(out, &Entities[i])
		}
	}
	return out
}

// EmbeddedTables returns the tables of the types e's REST responses embed.
func (e *Entity) EmbeddedTables() []string {
	out := make([]string, 0, len(e.Embeds))
	for _, t := range e.Embeds {
		out = append(out, byType[t].Table)
	}
	return slices.Clip(out)
}
