package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"
)

// Decimals are kept as strings: the spec types them string(decimal), and a
// string round-trips exactly on both databases.
func decimal(name string) ent.Field { return field.String(name).Default("0") }

func leadRef() ent.Field { return field.UUID("lead_id", uuid.UUID{}).Optional().Nillable() }

func leadEdge() ent.Edge { return edge.To("lead", Lead.Type).Unique().Field("lead_id") }

// Product is an item that can be offered on a lead.
type Product struct{ ent.Schema }

func (Product) Mixin() []ent.Mixin { return []ent.Mixin{Record("Product", "product")} }

func (Product) Fields() []ent.Field {
	return []ent.Field{
		field.String("sku").Default("").Annotations(entgql.OrderField("SKU")),
		field.String("name").NotEmpty().Annotations(entgql.OrderField("NAME")),
		field.String("description").Default(""),
		decimal("default_cost"),
		decimal("default_sales_price"),
		decimal("default_margin"),
		field.String("currency").Default("USD"),
		field.UUID("product_group_id", uuid.UUID{}).Optional().Nillable(),
		field.Bool("is_active").Default(true),
	}
}

func (Product) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("product_group", ProductGroup.Type).Unique().Field("product_group_id"),
		edge.From("third_party_ids", ProductThirdPartyID.Type).Ref("product"),
	}
}

func (Product) Annotations() []schema.Annotation { return rootList() }

// ProductGroup is a node of the product group tree.
type ProductGroup struct{ ent.Schema }

func (ProductGroup) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("ProductGroup", "product_group")}
}

func (ProductGroup) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Annotations(entgql.OrderField("NAME")),
		field.UUID("parent_id", uuid.UUID{}).Optional().Nillable(),
		field.Bool("is_active").Default(true),
	}
}

func (ProductGroup) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("product_groups", ProductGroup.Type).From("parent").Unique().Field("parent_id"),
		edge.From("products", Product.Type).Ref("product_group"),
	}
}

func (ProductGroup) Annotations() []schema.Annotation { return rootList() }

// LeadProduct is a product offered on a lead, with its own price.
type LeadProduct struct{ ent.Schema }

func (LeadProduct) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("LeadProduct", "lead_product")}
}

func (LeadProduct) Fields() []ent.Field {
	return []ent.Field{
		field.Int("quantity").Default(1),
		decimal("cost"),
		decimal("sales_price"),
		decimal("margin"),
		field.String("currency").Default("USD"),
		field.UUID("product_id", uuid.UUID{}),
		leadRef(),
	}
}

func (LeadProduct) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("product", Product.Type).Unique().Required().Field("product_id"),
		leadEdge(),
	}
}

// Survey is a customer survey attached to a lead.
type Survey struct{ ent.Schema }

func (Survey) Mixin() []ent.Mixin { return []ent.Mixin{Record("Survey", "survey")} }

func (Survey) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty(),
		field.String("description").Optional().Nillable(),
		leadRef(),
	}
}

func (Survey) Edges() []ent.Edge { return []ent.Edge{leadEdge()} }

// Incentive is a manufacturer or dealer incentive applied to a lead.
type Incentive struct{ ent.Schema }

func (Incentive) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("Incentive", "incentive")}
}

func (Incentive) Fields() []ent.Field {
	return []ent.Field{
		field.String("incentive_id").Optional().Nillable(),
		field.String("name").NotEmpty(),
		field.String("source").Optional().Nillable(),
		field.String("description").Optional().Nillable(),
		leadRef(),
	}
}

func (Incentive) Edges() []ent.Edge { return []ent.Edge{leadEdge()} }

// LeadPackage (GraphQL: Package; "package" is a Go keyword) is a bundle (warranty, maintenance…) offered on a lead.
type LeadPackage struct{ ent.Schema }

func (LeadPackage) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("LeadPackage", "package")}
}

func (LeadPackage) Fields() []ent.Field {
	return []ent.Field{
		field.String("type").Default(""),
		field.Int("term_months").Optional().Nillable(),
		field.String("name").NotEmpty(),
		field.JSON("items", []map[string]any{}).Default([]map[string]any{}).
			Annotations(entgql.Type("[Map!]"), entgql.Skip(entgql.SkipWhereInput)),
		leadRef(),
	}
}

func (LeadPackage) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Type("Package")}
}

func (LeadPackage) Edges() []ent.Edge {
	return []ent.Edge{leadEdge(), edge.From("prices", PackagePrice.Type).Ref("package")}
}

// PackagePrice is one price of a package.
type PackagePrice struct{ ent.Schema }

func (PackagePrice) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("PackagePrice", "package_price")}
}

func (PackagePrice) Fields() []ent.Field {
	return []ent.Field{
		field.String("type").Default(""),
		field.String("value").Optional().Nillable(),
		field.String("currency").Default("USD"),
		field.String("source").Optional().Nillable(),
		field.UUID("package_id", uuid.UUID{}),
	}
}

func (PackagePrice) Edges() []ent.Edge {
	return []ent.Edge{edge.To("package", LeadPackage.Type).Unique().Required().Field("package_id")}
}

// CreditAssessment is a financing check for a lead. The spec only names it
// by id; these fields are what a dealer's credit check records.
type CreditAssessment struct{ ent.Schema }

func (CreditAssessment) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("CreditAssessment", "credit_assessment")}
}

func (CreditAssessment) Fields() []ent.Field {
	return []ent.Field{
		field.String("provider").Default(""),
		field.Enum("status").Values("PENDING", "APPROVED", "DECLINED").Default("PENDING"),
		field.Int("score").Optional().Nillable(),
		field.String("amount").Optional().Nillable(),
		field.Time("submitted_date").Optional().Nillable(),
		leadRef(),
	}
}

func (CreditAssessment) Edges() []ent.Edge { return []ent.Edge{leadEdge()} }

func (CreditAssessment) Annotations() []schema.Annotation { return nil }
