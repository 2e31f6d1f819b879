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

// Lead is the spec's Lead: the Connection fields plus the lead fields.
type Lead struct{ ent.Schema }

func (Lead) Mixin() []ent.Mixin { return []ent.Mixin{Record("Lead", "lead")} }

func (Lead) Fields() []ent.Field {
	optTime := func(name string) ent.Field { return field.Time(name).Optional().Nillable() }
	optBool := func(name string) ent.Field { return field.Bool(name).Optional().Nillable() }
	optStr := func(name string) ent.Field { return field.String(name).Optional().Nillable() }
	userRef := func(name string) ent.Field {
		return field.UUID(name, uuid.UUID{}).Optional().Nillable().Annotations(entgql.Skip())
	}
	ref := func(name string) ent.Field { return field.UUID(name, uuid.UUID{}).Optional().Nillable() }
	return []ent.Field{
		// Connection
		field.String("subject").NotEmpty().Annotations(entgql.OrderField("SUBJECT")),
		optStr("description"),
		ref("status_id"),
		optTime("date_first_modified"),
		userRef("first_modified_by_id"),
		ref("source_id"),
		ref("contact_id"),
		ref("account_id"),
		ref("franchise_id"),
		ref("department_id"),
		field.Time("due_date").Optional().Nillable().Annotations(entgql.OrderField("DUE_DATE")),
		ref("stage_id"),
		field.String("direction").Default("INBOUND"),
		field.Bool("is_qualified").Default(false),
		optTime("connection_closed_date"),
		userRef("connection_closed_by_id"),
		optTime("expected_delivery_date"),
		optBool("is_lost_approved"),
		userRef("lost_by_id"),
		optTime("lost_date"),
		optTime("first_open_date"),
		userRef("first_open_by_id"),
		optBool("test_drive_done"),
		optTime("test_drive_date"),
		optBool("order_placed"),
		optTime("order_date"),
		optBool("trade_in_appraisal_done"),
		optTime("trade_in_appraisal_date"),
		optBool("credit_application_submitted"),
		optTime("credit_application_submitted_date"),
		field.Int("priority").Optional().Nillable().Annotations(entgql.OrderField("PRIORITY")),
		// Lead
		optStr("category"),
		field.Int("automation_day").Optional().Nillable(),
		field.Int("visit_count").Default(0),
		field.Bool("is_take_over").Default(false),
		field.Bool("is_walk_around_done").Default(false),
		optTime("walk_around_date"),
		optTime("take_over_date"),
		optBool("offer_made"),
		optTime("offer_made_date"),
		optTime("sold_date"),
		ref("sold_by_id"),
		field.Int("presale_visit_count").Default(0),
		field.Int("postsale_visit_count").Default(0),
		field.Bool("customer_initiated").Default(false),
		optBool("in_transit"),
		optBool("cpo"),
		optBool("demo"),
		optStr("form_name"),
		optStr("lead_handling_instructions"),
		optStr("make_str"),
		optStr("model_str"),
		optStr("year_str"),
		optStr("trim_str"),
		optStr("utm_campaign"),
		optStr("utm_source"),
		// The lead's place in its stage's column of a pipeline board: dense
		// (0, 1, …) per stage, kept so by crm.MoveLead.
		field.Int("board_position").Default(0).Annotations(entgql.OrderField("BOARD_POSITION")),
	}
}

func (Lead) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("status", Status.Type).Unique().Field("status_id"),
		edge.To("source", Source.Type).Unique().Field("source_id"),
		edge.To("contact", Contact.Type).Unique().Field("contact_id"),
		edge.To("account", Account.Type).Unique().Field("account_id"),
		edge.To("franchise", Franchise.Type).Unique().Field("franchise_id"),
		edge.To("department", Department.Type).Unique().Field("department_id"),
		edge.To("stage", ConnectionStage.Type).Unique().Field("stage_id"),
		edge.To("sold_by", User.Type).Unique().Field("sold_by_id"),
		// The lifecycle's users, stamped by internal/crm (lostBy may come
		// from the client, checked there): edges without where-input or
		// foreign key (internal/store), as the audit users.
		edge.To("first_modified_by", User.Type).Unique().Field("first_modified_by_id").Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("connection_closed_by", User.Type).Unique().Field("connection_closed_by_id").Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("lost_by", User.Type).Unique().Field("lost_by_id").Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("first_open_by", User.Type).Unique().Field("first_open_by_id").Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("assignees", User.Type),
		edge.From("tasks", Task.Type).Ref("connection"),
		edge.From("appointments", Appointment.Type).Ref("connection"),
		edge.From("follow_ups", FollowUp.Type).Ref("connection"),
		edge.From("products", LeadProduct.Type).Ref("lead"),
		edge.From("credit_assessments", CreditAssessment.Type).Ref("lead"),
		edge.From("incentives", Incentive.Type).Ref("lead"),
		edge.From("packages", LeadPackage.Type).Ref("lead"),
		edge.From("surveys", Survey.Type).Ref("lead"),
		edge.From("third_party_ids", ConnectionThirdPartyID.Type).Ref("connection"),
		edge.From("automation_runs", AutomationRun.Type).Ref("lead").Annotations(entgql.RelayConnection()),
	}
}

func (Lead) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "due_date"),
		index.Fields("tenant_id", "subject"),
		index.Fields("contact_id"),
		index.Fields("account_id"),
		index.Fields("stage_id", "board_position"),
		index.Fields("franchise_id"),
		index.Fields("department_id"),
		index.Fields("status_id"),
		index.Fields("source_id"),
	}
}

func (Lead) Annotations() []schema.Annotation {
	return append(rootList(), entgql.Implements("ConnectionRecord"))
}

// eventBase holds the spec's EventBase fields shared by tasks, appointments
// and follow-ups. The assignee is a security object (a user or a group), so
// it is a plain id; internal/ids tells which table it names.
func eventBase() []ent.Field {
	return []ent.Field{
		field.UUID("connection_id", uuid.UUID{}).Optional().Nillable(),
		field.Time("start").Optional().Nillable().Annotations(entgql.OrderField("START")),
		field.Time("end").Optional().Nillable().Annotations(entgql.OrderField("END")),
		field.String("title").NotEmpty().Annotations(entgql.OrderField("TITLE")),
		field.String("note").Default(""),
		field.UUID("assignee_id", uuid.UUID{}).Annotations(entgql.Skip(entgql.SkipType)),
		field.Bool("task_done").Default(false),
		field.Bool("notified").Default(false),
		field.Bool("edited").Optional().Nillable(),
		field.UUID("contact_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("account_id", uuid.UUID{}).Optional().Nillable(),
	}
}

func eventEdges() []ent.Edge {
	return []ent.Edge{
		edge.To("connection", Lead.Type).Unique().Field("connection_id"),
		edge.To("contact", Contact.Type).Unique().Field("contact_id"),
		edge.To("account", Account.Type).Unique().Field("account_id"),
	}
}

func eventIndexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "start"),
		index.Fields("tenant_id", "assignee_id"),
		index.Fields("connection_id"),
		index.Fields("contact_id"),
		index.Fields("account_id"),
	}
}

func eventAnnotations() []schema.Annotation {
	return append(rootList(), entgql.Implements("Event"))
}

// Task is a to-do assigned to a security object.
type Task struct{ ent.Schema }

func (Task) Mixin() []ent.Mixin { return []ent.Mixin{Record("Task", "task")} }

func (Task) Fields() []ent.Field {
	return append(eventBase(),
		field.Enum("type").Values("CALL", "MEETING", "OTHER", "SMS", "FOLLOW_UP", "REMINDER", "LINKEDIN_MESSAGE", "DM").
			Optional().Nillable())
}

func (Task) Edges() []ent.Edge                { return eventEdges() }
func (Task) Indexes() []ent.Index             { return eventIndexes() }
func (Task) Annotations() []schema.Annotation { return eventAnnotations() }

// Appointment is a meeting with the customer.
type Appointment struct{ ent.Schema }

func (Appointment) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("Appointment", "appointment")}
}

func (Appointment) Fields() []ent.Field {
	return append(eventBase(),
		field.String("type").Default(""),
		field.Bool("no_show").Default(false),
		field.Bool("customer_confirmed").Default(false),
		field.Bool("canceled").Default(false),
		field.String("url").Optional().Nillable(),
	)
}

func (Appointment) Edges() []ent.Edge                { return eventEdges() }
func (Appointment) Indexes() []ent.Index             { return eventIndexes() }
func (Appointment) Annotations() []schema.Annotation { return eventAnnotations() }

// FollowUp is a follow-up reminder, possibly created by an automation.
type FollowUp struct{ ent.Schema }

func (FollowUp) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("FollowUp", "follow_up")}
}

func (FollowUp) Fields() []ent.Field {
	return append(eventBase(), field.Bool("from_automation").Default(false))
}

func (FollowUp) Edges() []ent.Edge                { return eventEdges() }
func (FollowUp) Indexes() []ent.Index             { return eventIndexes() }
func (FollowUp) Annotations() []schema.Annotation { return eventAnnotations() }
