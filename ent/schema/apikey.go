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

// APIKey is a long-lived credential of an integration. It acts as its user
// (same tenancy, permissions, rate limits; refused once the user is
// inactive), narrowed to one role's permissions when role_id is set. Only
// the SHA-256 of the secret is stored; the secret is shown once, at
// creation. The GraphQL type is hand-written (schema/apikeys.graphqls) so the
// hash can never be selected.
type APIKey struct{ ent.Schema }

func (APIKey) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("APIKey", "api_key")}
}

func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty(),
		field.String("prefix").NotEmpty().Immutable().Comment("the secret's first characters, to recognise a key"),
		field.String("secret_hash").NotEmpty().Unique().Immutable().Sensitive().Comment("hex SHA-256 of the secret"),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.UUID("role_id", uuid.UUID{}).Optional().Nillable().Immutable(),
		field.Time("expires_at").Optional().Nillable().Immutable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.UUID("revoked_by_id", uuid.UUID{}).Optional().Nillable(),
	}
}

func (APIKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Unique().Required().Immutable().Field("user_id"),
		edge.To("role", Role.Type).Unique().Immutable().Field("role_id"),
	}
}

func (APIKey) Indexes() []ent.Index { return []ent.Index{index.Fields("tenant_id", "user_id")} }

func (APIKey) Annotations() []schema.Annotation { return []schema.Annotation{entgql.Skip()} }
