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

	"github.com/conecrm/gateway/internal/ids"
	"github.com/conecrm/gateway/internal/registry"
)

// globalID is the id field of the rows that no tenant owns, by the
// entity's type name in internal/registry.
func globalID(entity string) ent.Field {
	typ := registry.ByType(entity).Code
	return field.UUID("id", uuid.UUID{}).Default(func() uuid.UUID { return ids.New(typ) }).Immutable()
}

// Tenant is one customer organisation of the gateway; every other row but
// Permission belongs to exactly one tenant.
type Tenant struct{ ent.Schema }

func (Tenant) Fields() []ent.Field {
	return []ent.Field{
		globalID("Tenant"),
		field.String("name").NotEmpty(),
		field.String("vertical").Default(""),
		field.String("domain").Unique().Comment("email domain of the tenant's users"),
		field.String("country").Default("").
			Comment("ISO 3166-1 alpha-2 code: the region of phone numbers written without a country code (empty: the server's CONECRM_PHONE_REGION)"),
		// The region the tenant's stored phone keys were computed in; when it
		// differs from the tenant's effective region, crm.BackfillPhoneKeys
		// recomputes them. Empty for keys written before regions were kept.
		field.String("phone_key_region").Default("").Annotations(entgql.Skip()),
		// The catalogue permissions the tenant's default roles have been
		// offered: at creation, or by crm.OfferNewPermissions on a later
		// start. A permission added to the catalogue since is granted once
		// to the default roles whose defaults include it; one an
		// administrator took away stays away. Nil for tenants made before
		// it was kept.
		field.Strings("offered_permissions").Optional().Annotations(entgql.Skip()),
		field.Time("date_created").Default(now).Immutable(),
	}
}

func (Tenant) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "tenants"}}
}

// Franchise is a dealership (location) of a tenant.
type Franchise struct{ ent.Schema }

func (Franchise) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("Franchise", "franchise")}
}

func (Franchise) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Annotations(entgql.OrderField("NAME")),
		field.String("code").Annotations(entgql.OrderField("CODE")),
		field.Bool("is_active").Default(true),
	}
}

func (Franchise) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("departments", Department.Type).Ref("franchise"),
		edge.From("automations", Automation.Type).Ref("franchise"),
		edge.From("users", User.Type).Ref("franchises").Annotations(entgql.Skip()),
		edge.From("security_groups", SecurityGroup.Type).Ref("franchises").Annotations(entgql.Skip()),
	}
}

func (Franchise) Indexes() []ent.Index { return []ent.Index{index.Fields("tenant_id", "code")} }

func (Franchise) Annotations() []schema.Annotation { return rootList() }

// Department is a department (sales, service…) within a franchise.
type Department struct{ ent.Schema }

func (Department) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("Department", "department")}
}

func (Department) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Annotations(entgql.OrderField("NAME")),
		field.UUID("franchise_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("pipeline_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("security_group_id", uuid.UUID{}).Optional().Nillable().
			Comment("the round-robin group new leads of this department are assigned by"),
		field.Bool("is_active").Default(true),
	}
}

func (Department) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("franchise", Franchise.Type).Unique().Field("franchise_id"),
		edge.To("pipeline", Pipeline.Type).Unique().Field("pipeline_id"),
		edge.To("security_group", SecurityGroup.Type).Unique().Field("security_group_id"),
		edge.From("users", User.Type).Ref("departments").Annotations(entgql.Skip()),
		edge.From("security_groups", SecurityGroup.Type).Ref("departments").Annotations(entgql.Skip()),
	}
}

func (Department) Annotations() []schema.Annotation { return rootList() }

// Pipeline is the ordered list of stages a department's leads move through.
type Pipeline struct{ ent.Schema }

func (Pipeline) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("Pipeline", "pipeline")}
}

func (Pipeline) Fields() []ent.Field {
	return []ent.Field{field.String("name").NotEmpty().Annotations(entgql.OrderField("NAME"))}
}

func (Pipeline) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("departments", Department.Type).Ref("pipeline"),
		edge.From("pipeline_stages", PipelineStage.Type).Ref("pipeline"),
	}
}

func (Pipeline) Annotations() []schema.Annotation { return rootList() }

// PipelineStage places a stage at a position of a pipeline.
type PipelineStage struct{ ent.Schema }

func (PipelineStage) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("PipelineStage", "pipeline_stage")}
}

func (PipelineStage) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("pipeline_id", uuid.UUID{}),
		field.UUID("stage_id", uuid.UUID{}),
		field.Int("position").NonNegative(),
	}
}

func (PipelineStage) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("pipeline", Pipeline.Type).Unique().Required().Field("pipeline_id"),
		edge.To("stage", ConnectionStage.Type).Unique().Required().Field("stage_id"),
	}
}

func (PipelineStage) Indexes() []ent.Index {
	return []ent.Index{index.Fields("pipeline_id", "position"), index.Fields("stage_id")}
}

// ConnectionStage is a step of a sales pipeline (spec: ConnectionStage).
type ConnectionStage struct{ ent.Schema }

func (ConnectionStage) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("ConnectionStage", "connection_stage")}
}

func (ConnectionStage) Fields() []ent.Field {
	return []ent.Field{field.String("name").NotEmpty().Annotations(entgql.OrderField("NAME"))}
}

func (ConnectionStage) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("pipeline_stages", PipelineStage.Type).Ref("stage"),
		edge.From("leads", Lead.Type).Ref("stage").Annotations(entgql.RelayConnection()),
	}
}

func (ConnectionStage) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField("stages"), entgql.MultiOrder()}
}

// Status is a connection status; its kind says whether a lead is open.
type Status struct{ ent.Schema }

func (Status) Mixin() []ent.Mixin { return []ent.Mixin{Record("Status", "status")} }

func (Status) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Annotations(entgql.OrderField("NAME")),
		field.Enum("kind").Values("OPEN", "CLOSED", "LOST", "SOLD").Default("OPEN"),
		field.Int("position").Default(0).Annotations(entgql.OrderField("POSITION")),
		field.Bool("is_active").Default(true),
	}
}

func (Status) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField("statuses"), entgql.MultiOrder()}
}

// Source is where a lead came from (web form, walk-in, phone…).
type Source struct{ ent.Schema }

func (Source) Mixin() []ent.Mixin { return []ent.Mixin{Record("Source", "source")} }

func (Source) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Annotations(entgql.OrderField("NAME")),
		field.Bool("is_active").Default(true),
	}
}

func (Source) Annotations() []schema.Annotation { return rootList() }

// rootList exposes an entity as a root Relay connection with ordering.
func rootList() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.QueryField(), entgql.MultiOrder()}
}
