package ids

import "github.com/google/uuid"

// Type codes carried in ids, and the table of each: the one list of the
// entities (ent/schema uses it for the ids it makes and the tables it names).
// Never reuse or renumber a code; a new entity appends its code at the end
// of the list and its table to tables.
const (
	Tenant uint16 = iota + 1
	Franchise
	Department
	Pipeline
	PipelineStage
	ConnectionStage
	Status
	Source
	User
	SecurityGroup
	Role
	Permission
	UserSettings
	Account
	Contact
	CustomerThirdPartyID
	UserThirdPartyID
	ConnectionThirdPartyID
	ProductThirdPartyID
	Lead
	Task
	Appointment
	FollowUp
	Automation
	DelayedAutomation
	CustomField
	CustomFieldValue
	CustomLabel
	SavedFilter
	Product
	ProductGroup
	LeadProduct
	Survey
	Incentive
	Package
	PackagePrice
	CreditAssessment
	OutboxEvent
	AutomationRun
	AutomationRunStep
	OutboundMessage
	APIKey
	WebhookEndpoint
	WebhookAttempt
)

// tables is the table of each type code.
var tables = map[uint16]string{
	Tenant:                 "tenants",
	Franchise:              "franchises",
	Department:             "departments",
	Pipeline:               "pipelines",
	PipelineStage:          "pipeline_stages",
	ConnectionStage:        "connection_stages",
	Status:                 "statuses",
	Source:                 "sources",
	User:                   "users",
	SecurityGroup:          "security_groups",
	Role:                   "roles",
	Permission:             "permissions",
	UserSettings:           "user_settings",
	Account:                "accounts",
	Contact:                "contacts",
	CustomerThirdPartyID:   "customer_third_party_ids",
	UserThirdPartyID:       "user_third_party_ids",
	ConnectionThirdPartyID: "connection_third_party_ids",
	ProductThirdPartyID:    "product_third_party_ids",
	Lead:                   "leads",
	Task:                   "tasks",
	Appointment:            "appointments",
	FollowUp:               "follow_ups",
	Automation:             "automations",
	DelayedAutomation:      "delayed_automations",
	CustomField:            "custom_fields",
	CustomFieldValue:       "custom_field_values",
	CustomLabel:            "custom_labels",
	SavedFilter:            "saved_filters",
	Product:                "products",
	ProductGroup:           "product_groups",
	LeadProduct:            "lead_products",
	Survey:                 "surveys",
	Incentive:              "incentives",
	Package:                "packages",
	PackagePrice:           "package_prices",
	CreditAssessment:       "credit_assessments",
	OutboxEvent:            "outbox_events",
	AutomationRun:          "automation_runs",
	AutomationRunStep:      "automation_run_steps",
	OutboundMessage:        "outbound_messages",
	APIKey:                 "api_keys",
	WebhookEndpoint:        "webhook_endpoints",
	WebhookAttempt:         "webhook_attempts",
}

// Table returns the table of the rows whose ids carry typ, "" for a code
// no entity has.
func Table(typ uint16) string { return tables[typ] }

// TableOf returns the table of the row an id names, or "" when the id was
// not made for an entity.
func TableOf(id uuid.UUID) string { return tables[TypeOf(id)] }
