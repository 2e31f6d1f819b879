package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// User is a person who signs in; a security object (task assignee).
type User struct{ ent.Schema }

func (User) Mixin() []ent.Mixin { return []ent.Mixin{Record("User", "user")} }

func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").NotEmpty().Annotations(entgql.OrderField("USERNAME")),
		field.String("email").NotEmpty().Annotations(entgql.OrderField("EMAIL")),
		field.String("firstname").Optional().Nillable(),
		field.String("lastname").Optional().Nillable().Annotations(entgql.OrderField("LASTNAME")),
		field.String("signature").Optional().Nillable(),
		field.String("mobile_phone").Optional().Nillable(),
		field.Bool("stop_escalation").Default(false),
		field.Enum("user_type").Values("USER", "MANAGER", "ADMIN").Default("USER"),
		field.String("round_robin_status").Optional().Nillable(),
		field.Bool("is_third_party_provider").Default(false),
		field.String("api_key").Optional().Nillable().Sensitive().Annotations(entgql.Skip()),
		field.String("version_number").Optional().Nillable(),
		field.Bool("version_dont_show_again").Optional().Nillable(),
		field.Bool("is_impersonated").Default(false),
		// SecurityObject fields.
		field.String("display_name").Default(""),
		field.Bool("is_back_end").Default(false),
		field.Bool("is_disableable").Default(true),
		field.Bool("is_active").Default(true),
		// Tokens issued before this instant are refused even once the user is
		// active again: deactivation cuts access for good, reactivation needs
		// a new token (checked with the user on every request).
		field.Time("access_revoked_at").Optional().Nillable().Annotations(entgql.Skip()),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("roles", Role.Type),
		edge.To("franchises", Franchise.Type),
		edge.To("departments", Department.Type),
		edge.From("security_groups", SecurityGroup.Type).Ref("members"),
		edge.To("settings", UserSettings.Type).Unique(),
		edge.From("third_party_ids", UserThirdPartyID.Type).Ref("user"),
		edge.From("assigned_leads", Lead.Type).Ref("assignees").Annotations(entgql.RelayConnection()),
	}
}

func (User) Indexes() []ent.Index {
	return []ent.Index{
		// An email names one live user of a tenant (stored lower-cased).
		index.Fields("tenant_id", "email").Unique().Annotations(entsql.IndexWhere("is_deleted = false")),
		index.Fields("email"),
	}
}

func (User) Annotations() []schema.Annotation {
	return append(rootList(), entgql.Implements("SecurityObject"))
}

// SecurityGroup is a group of users; a security object. A round-robin group
// hands new leads to its members in turn (its RoundRobinCursor persists the
// turn).
type SecurityGroup struct{ ent.Schema }

func (SecurityGroup) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("SecurityGroup", "security_group")}
}

func (SecurityGroup) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Annotations(entgql.OrderField("NAME")),
		field.Bool("round_robin").Optional().Nillable(),
		field.Strings("members_order").Optional().Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.String("display_name").Default(""),
		field.Bool("is_back_end").Default(false),
		field.Bool("is_disableable").Default(true),
		field.Bool("is_active").Default(true),
	}
}

func (SecurityGroup) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("members", User.Type),
		edge.To("franchises", Franchise.Type),
		edge.To("departments", Department.Type),
	}
}

func (SecurityGroup) Annotations() []schema.Annotation {
	return append(rootList(), entgql.Implements("SecurityObject"))
}

// Role is a named set of permissions held by users.
type Role struct{ ent.Schema }

func (Role) Mixin() []ent.Mixin { return []ent.Mixin{Record("Role", "role")} }

func (Role) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Annotations(entgql.OrderField("NAME")),
		// The roles every tenant starts with (crm.DefaultRoles): editable,
		// never deleted, since user types map to them.
		field.Bool("is_default").Default(false).Immutable(),
	}
}

func (Role) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("permissions", Permission.Type),
		edge.From("users", User.Type).Ref("roles"),
	}
}

// Permission is one entry of the global permission catalogue
// (internal/crm/permissions.go); not owned by a tenant.
type Permission struct{ ent.Schema }

func (Permission) Fields() []ent.Field {
	return []ent.Field{
		globalID("Permission"),
		field.String("name").Unique().NotEmpty(),
		field.String("description").Default(""),
	}
}

func (Permission) Edges() []ent.Edge {
	return []ent.Edge{edge.From("roles", Role.Type).Ref("permissions")}
}

// Interceptors: the catalogue is global (no tenant scope) but still read
// with its registered permission.
func (Permission) Interceptors() []ent.Interceptor { return readPolicy("permissions") }

func (Permission) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: "permissions"}}
}

// UserSettings holds a user's preferences.
type UserSettings struct{ ent.Schema }

func (UserSettings) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("UserSettings", "user_settings")}
}

func (UserSettings) Fields() []ent.Field {
	return []ent.Field{
		field.String("audio_input").Optional().Nillable(),
		field.String("audio_output").Optional().Nillable(),
		field.Int("due_date_display_type").Default(0),
		field.Int("connection_view_type").Default(0),
		field.String("language").Default("en"),
		field.Bool("is_email_notifications_enabled").Default(true),
		field.Bool("is_push_notifications_enabled").Default(true),
		field.Bool("is_anytime_calling_enabled").Default(false),
		field.JSON("management_view_settings", map[string]any{}).Optional().
			Annotations(entgql.Type("Map"), entgql.Skip(entgql.SkipWhereInput)),
		field.String("frontend_state").Optional().Nillable(),
	}
}

func (UserSettings) Edges() []ent.Edge {
	return []ent.Edge{edge.From("user", User.Type).Ref("settings").Unique()}
}
