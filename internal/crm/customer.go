package crm

import (
	"context"
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"github.com/nyaruka/phonenumbers"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/internal/fault"
	qb "github.com/conecrm/gateway/internal/querybuilder"
)

// customerFilterFields are the query-builder fields of the BaseCustomer
// shared by accounts and contacts (their tables share the column names).
func customerFilterFields() []qb.Field {
	return []qb.Field{
		qb.OptStr("primaryEmail", account.FieldPrimaryEmail), qb.OptStr("secondaryEmail", account.FieldSecondaryEmail),
		qb.OptStr("homePhone", account.FieldHomePhone), qb.OptStr("workPhone", account.FieldWorkPhone),
		qb.OptStr("workPhoneExtension", account.FieldWorkPhoneExtension), qb.OptStr("mobilePhone", account.FieldMobilePhone),
		qb.OptStr("address", account.FieldAddress), qb.OptStr("city", account.FieldCity),
		qb.OptStr("province", account.FieldProvince), qb.OptStr("postalCode", account.FieldPostalCode),
		qb.OptStr("country", account.FieldCountry), qb.OptStr("language", account.FieldLanguage),
		qb.Flag("isActive", account.FieldIsActive),
	}
}

// CustomerFilter selects accounts or contacts for the list routes.
type CustomerFilter struct {
	// Search is a case-insensitive substring of names, emails and phones;
	// every word must match some field, so "ada lovelace" finds Ada
	// Lovelace. A phone-like word (digits and phone punctuation only, at
	// least three digits) is also compared with the phones' E.164 keys, so
	// "(514) 555" finds "514-555-0199"; a whole phone number is one term.
	Search string
	// Exclude drops one record from the result.
	Exclude *uuid.UUID
	// Franchise keeps customers with a lead in that franchise, given by id
	// or by code.
	Franchise string
	Page      Page
	Sort      Sort
}

// searchPredicate builds the Search condition over textCols (compared
// case-insensitively) and, for phone-like words only, the phones' keys
// (the *_digits columns, words keyed in the tenant's region); nil when
// Search is blank.
func (s *Service) searchPredicate(ctx context.Context, search string, textCols ...string) (func(*sql.Selector), error) {
	words := strings.Fields(search)
	if len(words) == 0 {
		return nil, nil
	}
	// A whole phone number is one term: "+1 253-246-5274" must not need
	// "+1" to match a field on its own.
	if phoneLike(search) {
		words = []string{strings.TrimSpace(search)}
	}
	region := ""
	for _, w := range words {
		if phoneLike(w) {
			r, err := s.viewerRegion(ctx)
			if err != nil {
				return nil, err
			}
			region = r
			break
		}
	}
	return func(s *sql.Selector) {
		var all []*sql.Predicate
		for _, w := range words {
			var any []*sql.Predicate
			for _, c := range textCols {
				any = append(any, sql.ContainsFold(s.C(c), w))
			}
			if phoneLike(w) {
				key := phoneSearchKey(w, region)
				for _, c := range phoneDigitColumns {
					any = append(any, sql.Contains(s.C(c), key))
				}
			}
			all = append(all, sql.Or(any...))
		}
		// One Where per word: sql.And of a single sql.Or leaves the OR
		// unparenthesised, and it would escape the soft-delete scope.
		for _, p := range all {
			s.Where(p)
		}
	}, nil
}

// phoneSearchKey is what a phone-like search word is looked for in the
// phones' keys: its key (schema.PhoneKey), and for a partial national
// number its digits without the region's trunk prefix, which E.164 keys
// do not hold ("06 12 34" in France is looked for as "61234" in
// "33612345678").
func phoneSearchKey(w, region string) string {
	key := schema.PhoneKey(w, region)
	if key != schema.PhoneDigits(w) || strings.HasPrefix(strings.TrimSpace(w), "+") {
		return key
	}
	// In the US the prefix "1" is also the country code, which keys hold.
	np := phonenumbers.GetNddPrefixForRegion(region, true)
	if np != "" && np != strconv.Itoa(phonenumbers.GetCountryCodeForRegion(region)) && strings.HasPrefix(key, np) {
		return strings.TrimPrefix(key, np)
	}
	return key
}

// minPhoneSearchDigits is the fewest digits a search term needs to be
// compared with phone numbers: one or two digits are in most numbers.
const minPhoneSearchDigits = 3

// phoneLike reports whether a search term looks like a phone number or a
// part of one: only digits and phone punctuation, with at least
// minPhoneSearchDigits digits. "info13@acme" is not, so it does not match
// every phone holding "13".
func phoneLike(term string) bool {
	digits := 0
	for _, r := range term {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case !strings.ContainsRune("+-(). /", r):
			return false
		}
	}
	return digits >= minPhoneSearchDigits
}

// phoneDigitColumns hold the phones' lookup keys (schema.PhoneKey,
// maintained by the schema).
var phoneDigitColumns = []string{"home_phone_digits", "work_phone_digits", "mobile_phone_digits"}

// franchisePredicate keeps customers (customerCol is the leads' column
// naming them) with a live lead in the franchise given by id or code.
func franchisePredicate(franchise, customerCol string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		fr := sql.Table("franchises")
		match := sql.EQ(fr.C("code"), franchise)
		if id, err := uuid.Parse(franchise); err == nil {
			match = sql.Or(sql.EQ(fr.C("id"), id), match)
		}
		franchises := sql.Select(fr.C("id")).From(fr).
			Where(sql.And(sql.EQ(fr.C("is_deleted"), false), sql.ColumnsEQ(fr.C("tenant_id"), s.C("tenant_id")), match))
		leads := sql.Table("leads")
		withLead := sql.Select(leads.C(customerCol)).From(leads).
			Where(sql.And(
				sql.EQ(leads.C("is_deleted"), false),
				sql.In(leads.C("franchise_id"), franchises),
			))
		s.Where(sql.In(s.C("id"), withLead))
	}
}

// CustomerFields are the BaseCustomer fields a client may write. A nil
// field is left as it is; an empty (or blank) string clears it.
type CustomerFields struct {
	PrimaryEmail, SecondaryEmail                 *string
	HomePhone, WorkPhone, WorkPhoneExtension     *string
	MobilePhone                                  *string
	Address, City, Province, PostalCode, Country *string
	Language                                     *string
	IsActive                                     *bool
	// ThirdPartyIDs, when given, replace the customer's ids in other
	// systems.
	ThirdPartyIDs *[]ThirdPartyIDInput
}

// maxTextLength bounds free-text customer fields.
const maxTextLength = 255

// columns pairs each field with its column and API name.
func (f CustomerFields) columns() []textField {
	return []textField{
		{"primary_email", "primaryEmail", f.PrimaryEmail}, {"secondary_email", "secondaryEmail", f.SecondaryEmail},
		{"home_phone", "homePhone", f.HomePhone}, {"work_phone", "workPhone", f.WorkPhone},
		{"work_phone_extension", "workPhoneExtension", f.WorkPhoneExtension}, {"mobile_phone", "mobilePhone", f.MobilePhone},
		{"address", "address", f.Address}, {"city", "city", f.City}, {"province", "province", f.Province},
		{"postal_code", "postalCode", f.PostalCode}, {"country", "country", f.Country}, {"language", "language", f.Language},
	}
}

// textField is an optional text input bound to a column.
type textField struct {
	column, name string
	value        *string
}

// check validates the fields into v, naming them under prefix ("" or
// "contacts[0].").
func (f CustomerFields) check(v *fault.Validation, prefix string) {
	checkThirdPartyIDs(v, prefix, f.ThirdPartyIDs)
	for _, c := range f.columns() {
		checkText(v, prefix+c.name, c.value)
	}
	for _, e := range []struct {
		name  string
		value *string
	}{{"primaryEmail", f.PrimaryEmail}, {"secondaryEmail", f.SecondaryEmail}} {
		if e.value == nil || strings.TrimSpace(*e.value) == "" || v.Has(prefix+e.name) {
			continue
		}
		s := strings.TrimSpace(*e.value)
		if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
			v.Add(prefix+e.name, "must be an email address")
		}
	}
}

func checkText(v *fault.Validation, name string, s *string) {
	if s != nil && len(*s) > maxTextLength {
		v.Add(name, fmt.Sprintf("must be at most %d characters", maxTextLength))
	}
}

// mutator is what both customer mutations offer for generic field writes.
type mutator interface {
	SetField(name string, value ent.Value) error
	ClearField(name string) error
}

// apply writes the fields into m; on a create, empty values are skipped.
func (f CustomerFields) apply(m mutator, create bool) {
	for _, c := range f.columns() {
		setText(m, c.column, c.value, create)
	}
	if f.IsActive != nil {
		_ = m.SetField("is_active", *f.IsActive)
	}
}

// setText sets column to the trimmed value, clears it when blank, and
// leaves it alone when value is nil. Errors cannot happen: the columns
// exist on every customer (tests cover both entities).
func setText(m mutator, column string, value *string, create bool) {
	if value == nil {
		return
	}
	if s := strings.TrimSpace(*value); s != "" {
		_ = m.SetField(column, s)
	} else if !create {
		_ = m.ClearField(column)
	}
}

// ContactInput is a contact written directly or nested in an account.
// Nested in an account, an input with ID links that existing contact (its
// other fields are ignored); one without creates the contact.
type ContactInput struct {
	ID *uuid.UUID
	CustomerFields
	FirstName, LastName, CompanyName, Civility, PreferredMethodOfContact *string
}

func (c ContactInput) check(v *fault.Validation, prefix string) {
	if c.ID != nil {
		return
	}
	c.CustomerFields.check(v, prefix)
	for _, t := range c.texts() {
		checkText(v, prefix+t.name, t.value)
	}
}

func (c ContactInput) texts() []textField {
	return []textField{
		{"first_name", "firstName", c.FirstName}, {"last_name", "lastName", c.LastName},
		{"company_name", "companyName", c.CompanyName}, {"civility", "civility", c.Civility},
		{"preferred_method_of_contact", "preferredMethodOfContact", c.PreferredMethodOfContact},
	}
}

// contactCreate returns the builder of the contact described by c.
func contactCreate(tx *ent.Client, c ContactInput) *ent.ContactCreate {
	create := tx.Contact.Create()
	m := create.Mutation()
	c.CustomerFields.apply(m, true)
	for _, t := range c.texts() {
		setText(m, t.column, t.value, true)
	}
	return create
}

// resolveContacts returns the ids of inputs: linked ids are checked to be
// live contacts of the tenant (unknown → Invalid naming
// <prefix>[i].id), the others are created. Order is kept.
func resolveContacts(ctx context.Context, tx *ent.Client, inputs []ContactInput, name func(i int) string) ([]uuid.UUID, error) {
	var linked []uuid.UUID
	for _, in := range inputs {
		if in.ID != nil {
			linked = append(linked, *in.ID)
		}
	}
	known := map[uuid.UUID]bool{}
	if len(linked) > 0 {
		found, err := tx.Contact.Query().Where(contact.IDIn(linked...)).IDs(ctx)
		if err != nil {
			return nil, err
		}
		for _, id := range found {
			known[id] = true
		}
	}
	var v fault.Validation
	for i, in := range inputs {
		if in.ID != nil && !known[*in.ID] {
			v.Add(name(i)+".id", "unknown contact")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(inputs))
	var creates []*ent.ContactCreate
	var at []int // index in inputs of each create
	for i, in := range inputs {
		if in.ID != nil {
			ids[i] = *in.ID
			continue
		}
		creates = append(creates, contactCreate(tx, in))
		at = append(at, i)
	}
	if len(creates) > 0 {
		// Linking a contact is part of writing the account; creating one
		// is writing a contact.
		if err := Require(ctx, PermContactWrite); err != nil {
			return nil, err
		}
		created, err := tx.Contact.CreateBulk(creates...).Save(ctx) // one INSERT for all
		if err != nil {
			return nil, err
		}
		for k, c := range created {
			ids[at[k]] = c.ID
			if err := writeThirdPartyIDs(ctx, tx, c.ID, false, inputs[at[k]].ThirdPartyIDs); err != nil {
				return nil, err
			}
		}
	}
	return ids, nil
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

func trim(s string) string { return strings.TrimSpace(s) }

// trimOr returns the trimmed *s, or def when s is nil.
func trimOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return strings.TrimSpace(*s)
}
