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

// WebhookEndpoint is a tenant's integration: the domain events named by
// its filter are POSTed to its URL, signed with its secret
// (internal/automation delivers them; docs/webhooks.md).
type WebhookEndpoint struct{ ent.Schema }

func (WebhookEndpoint) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("WebhookEndpoint", "webhook_endpoint")}
}

func (WebhookEndpoint) Fields() []ent.Field {
	return []ent.Field{
		field.String("url").NotEmpty().Annotations(entgql.OrderField("URL")),
		field.String("description").Default(""),
		// Shown once, when generated; the deliveries are signed with it.
		field.String("secret").Sensitive().Annotations(entgql.Skip()),
		field.JSON("events", []string{}).Default([]string{}).
			Comment("the topics delivered: record type × created/updated/deleted and the lifecycle events").
			Annotations(entgql.Type("[String!]"), entgql.Skip(entgql.SkipWhereInput)),
		field.Bool("is_active").Default(true),
		field.String("disabled_reason").Default("").Comment("why the endpoint was switched off automatically"),
		field.Time("disabled_at").Optional().Nillable(),
		field.Int("consecutive_failures").Default(0).Comment("failed attempts since the last success"),
	}
}

func (WebhookEndpoint) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("attempts", WebhookAttempt.Type).Ref("endpoint").Annotations(entgql.RelayConnection()),
	}
}

func (WebhookEndpoint) Annotations() []schema.Annotation { return rootList() }

// WebhookAttempt is one HTTP attempt to deliver one event to one endpoint:
// every try is kept, so an integrator can see what the receiver answered.
type WebhookAttempt struct{ ent.Schema }

func (WebhookAttempt) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("WebhookAttempt", "webhook_attempt")}
}

func (WebhookAttempt) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("endpoint_id", uuid.UUID{}),
		field.UUID("event_id", uuid.UUID{}).Comment("the domain event (X-Conecrm-Event-Id)"),
		field.String("topic"),
		field.Int("attempt").Comment("1 for the first try of this event, 2 for its first retry…"),
		field.Bool("succeeded"),
		field.Int("status_code").Default(0).Comment("the receiver's HTTP status; 0 when none came"),
		field.Int("duration_ms"),
		field.String("response").Default("").Comment("the start of the receiver's answer"),
		field.String("error").Default(""),
	}
}

func (WebhookAttempt) Edges() []ent.Edge {
	return []ent.Edge{edge.To("endpoint", WebhookEndpoint.Type).Unique().Required().Field("endpoint_id")}
}

func (WebhookAttempt) Indexes() []ent.Index {
	return []ent.Index{index.Fields("endpoint_id", "date_created")}
}

func (WebhookAttempt) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.MultiOrder()}
}
