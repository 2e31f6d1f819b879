package schema

import (
	"context"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
	"github.com/nyaruka/phonenumbers"
)

// baseCustomer holds the spec's BaseCustomer fields shared by Account and
// Contact. The *_digits columns hold the phones' lookup keys (E.164 without
// the "+", see PhoneKey), maintained by a hook, so phone lookup ignores
// formatting and can use an index.
func baseCustomer() []ent.Field {
	digits := func(name string) ent.Field {
		return field.String(name).Default("").Annotations(entgql.Skip())
	}
	return []ent.Field{
		field.String("primary_email").Optional().Nillable().Annotations(entgql.OrderField("PRIMARY_EMAIL")),
		field.String("secondary_email").Optional().Nillable(),
		field.String("home_phone").Optional().Nillable(),
		field.String("work_phone").Optional().Nillable(),
		field.String("work_phone_extension").Optional().Nillable(),
		field.String("mobile_phone").Optional().Nillable(),
		field.String("address").Optional().Nillable(),
		field.String("city").Optional().Nillable().Annotations(entgql.OrderField("CITY")),
		field.String("province").Optional().Nillable(),
		field.String("postal_code").Optional().Nillable(),
		field.String("country").Optional().Nillable(),
		field.String("language").Optional().Nillable(),
		field.Bool("is_active").Default(true),
		digits("home_phone_digits"),
		digits("work_phone_digits"),
		digits("mobile_phone_digits"),
	}
}

// customerIndexes are a customer table's lookup indexes and the indexes its
// lists sort by (sort, and the primary email). A sort index ends with the
// id, every list's tie-breaker (ORDER BY name, id), so the index alone
// gives a page's order and the read stops after the page; see sortIndex.
func customerIndexes(sort ...string) []ent.Index {
	idx := []ent.Index{
		sortIndex("primary_email"),
		index.Fields("tenant_id", "home_phone_digits"),
		index.Fields("tenant_id", "work_phone_digits"),
		index.Fields("tenant_id", "mobile_phone_digits"),
	}
	for _, f := range sort {
		idx = append(idx, sortIndex(f))
	}
	return idx
}

// Account is a company customer, linked many-to-many with contacts.
type Account struct{ ent.Schema }

func (Account) Mixin() []ent.Mixin { return []ent.Mixin{Record("Account", "account")} }

func (Account) Fields() []ent.Field {
	return append([]ent.Field{
		field.String("name").Default("").Annotations(entgql.OrderField("NAME")),
		field.UUID("primary_contact_id", uuid.UUID{}).Optional().Nillable(),
	}, baseCustomer()...)
}

func (Account) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("primary_contact", Contact.Type).Unique().Field("primary_contact_id"),
		edge.To("contacts", Contact.Type),
		edge.From("leads", Lead.Type).Ref("account").Annotations(entgql.RelayConnection()),
		edge.From("third_party_ids", CustomerThirdPartyID.Type).Ref("account"),
	}
}

func (Account) Indexes() []ent.Index { return customerIndexes("name") }

func (Account) Annotations() []schema.Annotation {
	return append(rootList(), entgql.Implements("Customer"))
}

// Contact is a person customer.
type Contact struct{ ent.Schema }

func (Contact) Mixin() []ent.Mixin { return []ent.Mixin{Record("Contact", "contact")} }

func (Contact) Fields() []ent.Field {
	return append([]ent.Field{
		field.String("first_name").Default("").Annotations(entgql.OrderField("FIRST_NAME")),
		field.String("last_name").Default("").Annotations(entgql.OrderField("LAST_NAME")),
		field.String("company_name").Optional().Nillable(),
		field.String("civility").Optional().Nillable(),
		field.String("preferred_method_of_contact").Optional().Nillable(),
	}, baseCustomer()...)
}

func (Contact) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("accounts", Account.Type).Ref("contacts"),
		edge.From("leads", Lead.Type).Ref("contact").Annotations(entgql.RelayConnection()),
		edge.From("third_party_ids", CustomerThirdPartyID.Type).Ref("contact"),
	}
}

func (Contact) Indexes() []ent.Index { return customerIndexes("last_name", "first_name") }

func (Contact) Annotations() []schema.Annotation {
	return append(rootList(), entgql.Implements("Customer"))
}

// thirdPartyFields are the spec's ThirdPartyId fields.
func thirdPartyFields() []ent.Field {
	return []ent.Field{
		field.String("system_name").NotEmpty(),
		field.String("third_party_id").NotEmpty(),
		field.String("metadata").Optional().Nillable(),
	}
}

func thirdPartyIndexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "system_name", "third_party_id")}
}

// CustomerThirdPartyID is a customer's id in another system.
type CustomerThirdPartyID struct{ ent.Schema }

func (CustomerThirdPartyID) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("CustomerThirdPartyID", "customer_third_party_id")}
}

func (CustomerThirdPartyID) Fields() []ent.Field {
	return append(thirdPartyFields(),
		field.UUID("account_id", uuid.UUID{}).Optional().Nillable(),
		field.UUID("contact_id", uuid.UUID{}).Optional().Nillable(),
	)
}

func (CustomerThirdPartyID) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("account", Account.Type).Unique().Field("account_id"),
		edge.To("contact", Contact.Type).Unique().Field("contact_id"),
	}
}

func (CustomerThirdPartyID) Indexes() []ent.Index { return thirdPartyIndexes() }

// UserThirdPartyID is a user's id in another system.
type UserThirdPartyID struct{ ent.Schema }

func (UserThirdPartyID) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("UserThirdPartyID", "user_third_party_id")}
}

func (UserThirdPartyID) Fields() []ent.Field {
	return append(thirdPartyFields(), field.UUID("user_id", uuid.UUID{}))
}

func (UserThirdPartyID) Edges() []ent.Edge {
	return []ent.Edge{edge.To("user", User.Type).Unique().Required().Field("user_id")}
}

func (UserThirdPartyID) Indexes() []ent.Index { return thirdPartyIndexes() }

// ConnectionThirdPartyID is a lead's id in another system.
type ConnectionThirdPartyID struct{ ent.Schema }

func (ConnectionThirdPartyID) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("ConnectionThirdPartyID", "connection_third_party_id")}
}

func (ConnectionThirdPartyID) Fields() []ent.Field {
	return append(thirdPartyFields(), field.UUID("connection_id", uuid.UUID{}))
}

func (ConnectionThirdPartyID) Edges() []ent.Edge {
	return []ent.Edge{edge.To("connection", Lead.Type).Unique().Required().Field("connection_id")}
}

func (ConnectionThirdPartyID) Indexes() []ent.Index { return thirdPartyIndexes() }

// ProductThirdPartyID is a product's id in another system.
type ProductThirdPartyID struct{ ent.Schema }

func (ProductThirdPartyID) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("ProductThirdPartyID", "product_third_party_id")}
}

func (ProductThirdPartyID) Fields() []ent.Field {
	return append(thirdPartyFields(), field.UUID("product_id", uuid.UUID{}))
}

func (ProductThirdPartyID) Edges() []ent.Edge {
	return []ent.Edge{edge.To("product", Product.Type).Unique().Required().Field("product_id")}
}

func (ProductThirdPartyID) Indexes() []ent.Index { return thirdPartyIndexes() }

// phoneDigits keeps the *_digits columns equal to the lookup keys of the
// phones (PhoneKey in the tenant's region), whichever code path writes a
// customer.
func phoneDigits(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		region := ""
		for _, f := range PhoneFields {
			if v, ok := m.Field(f); ok {
				if region == "" {
					r, err := mutationPhoneRegion(ctx, m)
					if err != nil {
						return nil, err
					}
					region = r
				}
				_ = m.SetField(f+"_digits", PhoneKey(v.(string), region))
			} else if m.FieldCleared(f) {
				_ = m.SetField(f+"_digits", "")
			}
		}
		return next.Mutate(ctx, m)
	})
}

// PhoneFields are the customers' phone columns; each has a "_digits"
// column holding its lookup key.
var PhoneFields = []string{"home_phone", "work_phone", "mobile_phone"}

// PhoneRegion is the region (ISO 3166-1 alpha-2) in which a phone number
// written without a country code is read for tenants without a country.
// The server sets it from CONECRM_PHONE_REGION while starting, before any
// write.
var PhoneRegion = "US"

// TenantPhoneRegion returns the region of the tenant a customer mutation
// writes (its country, else PhoneRegion), read through the mutation's own
// transaction. internal/crm sets it; the schema cannot query ent itself.
var TenantPhoneRegion func(ctx context.Context, m ent.Mutation) (string, error)

type phoneRegionKey struct{}

// WithPhoneRegion tells the customer writes made with ctx that their
// tenant's region is region, sparing the per-row lookup (bulk seeding of a
// tenant that has just been created).
func WithPhoneRegion(ctx context.Context, region string) context.Context {
	return context.WithValue(ctx, phoneRegionKey{}, region)
}

func mutationPhoneRegion(ctx context.Context, m ent.Mutation) (string, error) {
	if r, ok := ctx.Value(phoneRegionKey{}).(string); ok {
		return r, nil
	}
	if TenantPhoneRegion == nil {
		return PhoneRegion, nil
	}
	return TenantPhoneRegion(ctx, m)
}

// PhoneKey returns the stored, indexed form of a phone number: its E.164
// form without the "+" when libphonenumber reads it as a possible number
// (national numbers in region), so "(253) 246-5274", "+1 253-246-5274" and
// "12532465274" share the key "12532465274" in region US; otherwise its
// digits.
func PhoneKey(s, region string) string {
	digits := PhoneDigits(s)
	if digits == "" {
		return ""
	}
	n, err := phonenumbers.Parse(s, region)
	// A local-only number (7 digits in the US) has no area code to make
	// it E.164; its digits are the best key.
	if err != nil || phonenumbers.IsPossibleNumberWithReason(n) != phonenumbers.IS_POSSIBLE {
		return digits
	}
	return strings.TrimPrefix(phonenumbers.Format(n, phonenumbers.E164), "+")
}

// PhoneDigits returns the digits of a phone number, formatting dropped.
func PhoneDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (Account) Hooks() []ent.Hook { return []ent.Hook{phoneDigits} }
func (Contact) Hooks() []ent.Hook { return []ent.Hook{phoneDigits} }
