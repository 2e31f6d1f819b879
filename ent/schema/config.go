package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// Automation is a trigger plus a React-Flow-style graph of nodes and edges.
type Automation struct{ ent.Schema }

func (Automation) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("Automation", "automation")}
}

func (Automation) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Annotations(entgql.OrderField("NAME")),
		field.String("automation_trigger").NotEmpty(),
		field.JSON("nodes", []map[string]any{}).Default([]map[string]any{}).
			Annotations(entgql.Type("[Map!]"), entgql.Skip(entgql.SkipWhereInput)),
		// "edges" would clash with ent's generated Edges struct field.
		field.JSON("flow_edges", []map[string]any{}).Default([]map[string]any{}).StorageKey("edges").
			Annotations(entgql.Skip()),
		field.UUID("franchise_id", uuid.UUID{}).Optional().Nillable(),
		// An inactive automation keeps its graph but starts no run.
		field.Bool("is_active").Default(true),
		// Webhook nodes' signing secrets by node id, kept out of the graph:
		// write-only, never in an answer (Sensitive, not in GraphQL).
		field.JSON("webhook_secrets", map[string]string{}).Optional().Sensitive().
			Annotations(entgql.Skip()),
	}
}

func (Automation) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("franchise", Franchise.Type).Unique().Field("franchise_id"),
		edge.From("delayed", DelayedAutomation.Type).Ref("automation").Annotations(entgql.Skip()),
		edge.From("runs", AutomationRun.Type).Ref("automation").Annotations(entgql.RelayConnection()),
	}
}

func (Automation) Annotations() []schema.Annotation { return rootList() }

// DelayedAutomation is a pending run of an automation for a lead; the
// automation's delayedAutomationsCount counts the pending ones.
type DelayedAutomation struct{ ent.Schema }

func (DelayedAutomation) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("DelayedAutomation", "delayed_automation")}
}

func (DelayedAutomation) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("automation_id", uuid.UUID{}),
		field.UUID("lead_id", uuid.UUID{}).Optional().Nillable(),
		field.String("node_id").Default(""),
		field.Time("run_at"),
		field.Time("done_at").Optional().Nillable(),
		// The run that waits: the delayed continuation resumes it.
		field.UUID("run_id", uuid.UUID{}).Optional().Nillable(),
	}
}

func (DelayedAutomation) Edges() []ent.Edge {
	return []ent.Edge{edge.To("automation", Automation.Type).Unique().Required().Field("automation_id")}
}

func (DelayedAutomation) Indexes() []ent.Index {
	return []ent.Index{index.Fields("automation_id", "done_at"), index.Fields("run_at"), index.Fields("lead_id", "done_at")}
}

func (DelayedAutomation) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}

// CustomField is a tenant-defined field of an entity.
type CustomField struct{ ent.Schema }

func (CustomField) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("CustomField", "custom_field")}
}

func (CustomField) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("entity").Values("account", "contact", "lead", "task", "appointment", "followup"),
		field.String("field_name").NotEmpty().Annotations(entgql.OrderField("FIELD_NAME")),
		field.Enum("field_type").Values("text", "textarea", "number", "date", "datetime", "boolean", "select", "multiselect"),
		field.String("options").Default("{}").Comment("JSON encoded object; select types carry choices"),
	}
}

func (CustomField) Indexes() []ent.Index {
	// Unique among live fields only: a deleted field's name can be reused.
	return []ent.Index{
		index.Fields("tenant_id", "entity", "field_name").Unique().
			Annotations(entsql.IndexWhere("is_deleted = false")),
	}
}

func (CustomField) Annotations() []schema.Annotation { return rootList() }

// CustomFieldValue is the value of a custom field on one record of any
// entity (record_id; internal/ids tells its table).
type CustomFieldValue struct{ ent.Schema }

func (CustomFieldValue) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("CustomFieldValue", "custom_field_value")}
}

func (CustomFieldValue) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("field_id", uuid.UUID{}),
		field.UUID("record_id", uuid.UUID{}),
		field.String("value").Default(""),
	}
}

func (CustomFieldValue) Edges() []ent.Edge {
	return []ent.Edge{edge.To("custom_field", CustomField.Type).Unique().Required().Field("field_id")}
}

func (CustomFieldValue) Indexes() []ent.Index {
	return []ent.Index{index.Fields("record_id", "field_id"), index.Fields("field_id", "value")}
}

// CustomLabel is a tenant's set of label overrides (a JSON object).
type CustomLabel struct{ ent.Schema }

func (CustomLabel) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("CustomLabel", "custom_label")}
}

func (CustomLabel) Fields() []ent.Field {
	return []ent.Field{
		field.JSON("value", map[string]any{}).Annotations(entgql.Type("Map"), entgql.Skip(entgql.SkipWhereInput)),
	}
}

func (CustomLabel) Annotations() []schema.Annotation { return rootList() }

// SavedFilter is a named query-builder query over one module (entity).
type SavedFilter struct{ ent.Schema }

func (SavedFilter) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("SavedFilter", "saved_filter")}
}

func (SavedFilter) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Annotations(entgql.OrderField("NAME")),
		field.String("module").NotEmpty(),
		field.String("value").Comment("JSON encoded query-builder query"),
		field.UUID("owner_id", uuid.UUID{}),
		field.Bool("private").Default(true),
	}
}

func (SavedFilter) Edges() []ent.Edge {
	return []ent.Edge{edge.To("owner", User.Type).Unique().Required().Field("owner_id")}
}

func (SavedFilter) Indexes() []ent.Index { return []ent.Index{index.Fields("tenant_id", "owner_id")} }

func (SavedFilter) Annotations() []schema.Annotation { return rootList() }

// OutboxEvent is a domain event written in the transaction that caused it
// (e.g. lead.created); automations consume it later.
type OutboxEvent struct{ ent.Schema }

func (OutboxEvent) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("OutboxEvent", "outbox_event")}
}

func (OutboxEvent) Fields() []ent.Field {
	return []ent.Field{
		field.String("topic").NotEmpty(),
		field.UUID("subject_id", uuid.UUID{}),
		field.JSON("payload", map[string]any{}),
		field.Time("processed_at").Optional().Nillable(),
	}
}

func (OutboxEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("processed_at", "date_created")}
}

func (OutboxEvent) Annotations() []schema.Annotation { return []schema.Annotation{entgql.Skip()} }
