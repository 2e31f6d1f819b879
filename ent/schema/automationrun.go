package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// AutomationRun is one run of an automation for one domain event. The
// unique (automation_id, event_id) key is what makes a run happen exactly
// once, whatever redelivers the event.
type AutomationRun struct{ ent.Schema }

func (AutomationRun) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("AutomationRun", "automation_run")}
}

func (AutomationRun) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("automation_id", uuid.UUID{}),
		field.UUID("event_id", uuid.UUID{}).Comment("the outbox event that triggered the run"),
		field.String("topic"),
		field.UUID("record_id", uuid.UUID{}).Comment("the event's subject"),
		field.UUID("lead_id", uuid.UUID{}).Optional().Nillable(),
		field.Enum("status").Values("RUNNING", "WAITING", "DONE", "FAILED", "STOPPED"),
		field.String("reason").Default("").Comment("why a run stopped or failed"),
		field.Int("depth").Default(0).Comment("length of the causal chain of automation runs before this one"),
		field.UUID("causation_run_id", uuid.UUID{}).Optional().Nillable().Comment("the run whose effect caused the event"),
		field.Time("finished_at").Optional().Nillable(),
	}
}

func (AutomationRun) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("automation", Automation.Type).Unique().Required().Field("automation_id"),
		edge.To("lead", Lead.Type).Unique().Field("lead_id"),
		edge.From("steps", AutomationRunStep.Type).Ref("run"),
	}
}

func (AutomationRun) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("automation_id", "event_id").Unique(),
		index.Fields("lead_id"),
	}
}

func (AutomationRun) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.MultiOrder()}
}

// AutomationRunStep is what a run did at one node: a condition's outcome,
// an action done or failed, a delay waiting until a time.
type AutomationRunStep struct{ ent.Schema }

func (AutomationRunStep) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("AutomationRunStep", "automation_run_step")}
}

func (AutomationRunStep) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("run_id", uuid.UUID{}),
		field.Int("position").Comment("order of the step within its run"),
		field.String("node_id"),
		field.String("node_type"),
		field.Enum("status").Values("DONE", "SKIPPED", "FAILED", "WAITING"),
		field.String("detail").Default("").Comment("a condition's outcome, the record an action made…"),
		field.String("error").Default(""),
		field.Time("wait_until").Optional().Nillable(),
	}
}

func (AutomationRunStep) Edges() []ent.Edge {
	return []ent.Edge{edge.To("run", AutomationRun.Type).Unique().Required().Field("run_id")}
}

func (AutomationRunStep) Indexes() []ent.Index {
	return []ent.Index{index.Fields("run_id", "position")}
}

// OutboundMessage is an email or SMS an automation sent. Without a
// configured transport it stays here, readable through the API (the
// development mailbox); with one, it records the delivery.
type OutboundMessage struct{ ent.Schema }

func (OutboundMessage) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("OutboundMessage", "outbound_message")}
}

func (OutboundMessage) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("channel").Values("EMAIL", "SMS"),
		field.String("recipient"),
		field.String("subject").Default(""),
		field.String("body").Default(""),
		field.Enum("status").Values("MAILBOX", "PENDING", "SENT", "FAILED").
			Comment("MAILBOX: kept in the development mailbox (no transport configured)"),
		field.String("error").Default(""),
		field.UUID("run_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("lead_id", uuid.UUID{}).Optional().Nillable(),
		field.Time("sent_at").Optional().Nillable(),
	}
}

func (OutboundMessage) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.MultiOrder()}
}
