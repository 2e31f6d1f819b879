package crm

import (
	"context"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/internal/fault"
	qb "github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/registry"
)

// Filtered by the query builder (filter.go).
var _ = filterable("contact", contactFilterFields(), finder[*ent.Contact](func(c *ent.Client) *ent.ContactQuery {
	return WithContactGraph(c.Contact.Query())
}))

// contactFilterFields are a contact's query-builder fields.
func contactFilterFields() []qb.Field {
	memberships := qb.Join{Table: account.ContactsTable, Own: account.ContactsPrimaryKey[1], Other: account.ContactsPrimaryKey[0]}
	fs := []qb.Field{
		qb.Str("firstName", contact.FieldFirstName), qb.Str("lastName", contact.FieldLastName),
		qb.OptStr("companyName", contact.FieldCompanyName), qb.OptStr("civility", contact.FieldCivility),
		qb.OptStr("preferredMethodOfContact", contact.FieldPreferredMethodOfContact),
	}
	fs = append(fs, customerFilterFields()...)
	fs = append(fs, recordFields()...)
	return append(fs, qb.ToMany("accounts", memberships, accountTarget, true))
}

// contactSort is the whitelist of GET /api/contact's sortField.
var contactSort = sortable{
	"firstName":    contact.FieldFirstName,
	"lastName":     contact.FieldLastName,
	"dateCreated":  contact.FieldDateCreated,
	"dateModified": contact.FieldDateModified,
	"primaryEmail": contact.FieldPrimaryEmail,
	"city":         contact.FieldCity,
}

// WithContactGraph eager-loads what a contact response embeds: third-party
// ids and the accounts (at most MaxEmbedded), each with its primary
// contact and contacts (at most MaxEmbedded). The
// cost is a fixed number of statements whatever the number of contacts.
func WithContactGraph(q *ent.ContactQuery) *ent.ContactQuery {
	leaf := func(c *ent.ContactQuery) { c.WithThirdPartyIds() }
	return q.WithThirdPartyIds().WithAccounts(func(a *ent.AccountQuery) {
		a.WithThirdPartyIds().WithPrimaryContact(leaf).WithContacts(func(c *ent.ContactQuery) {
			leaf(c)
			c.Modify(embedLimit(account.ContactsPrimaryKey[0], contact.FieldID))
		}).Modify(embedLimit(contact.AccountsPrimaryKey[1], account.FieldID))
	})
}

// ListContacts returns a page of the tenant's contacts matching f.
func (s *Service) ListContacts(ctx context.Context, f CustomerFilter) ([]*ent.Contact, error) {
	if err := Require(ctx, PermContactRead); err != nil {
		return nil, err
	}
	order, err := contactSort.order(f.Sort, contact.FieldLastName)
	if err != nil {
		return nil, err
	}
	q := s.db.Contact.Query()
	p, err := s.searchPredicate(ctx, f.Search, contact.FieldFirstName, contact.FieldLastName, contact.FieldCompanyName,
		contact.FieldPrimaryEmail, contact.FieldSecondaryEmail) // phones: through their keys only
	if err != nil {
		return nil, err
	}
	if p != nil {
		q.Where(p)
	}
	if f.Exclude != nil {
		q.Where(contact.IDNEQ(*f.Exclude))
	}
	if f.Franchise != "" {
		q.Where(franchisePredicate(f.Franchise, lead.FieldContactID))
	}
	rows, err := WithContactGraph(q).
		Order(orderOptions[contact.OrderOption](order)...).
		Offset(f.Page.Offset).Limit(f.Page.Limit).
		All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return rows, nil
}

// maxPhoneMatches bounds a phone lookup; a phone shared by more contacts
// than this is not a useful lookup key anyway.
const maxPhoneMatches = 100

// ContactsByPhone returns the contacts whose home, work or mobile phone is
// the same number as phone, in E.164 form (schema.PhoneKey in the tenant's
// region: "+1 253-246-5274" and "12532465274" find "(253) 246-5274" in a US
// tenant). A phone without digits is Invalid.
func (s *Service) ContactsByPhone(ctx context.Context, phone string) ([]*ent.Contact, error) {
	if err := Require(ctx, PermContactRead); err != nil {
		return nil, err
	}
	if schema.PhoneDigits(phone) == "" {
		return nil, fault.FieldError("phone", "must contain digits")
	}
	region, err := s.viewerRegion(ctx)
	if err != nil {
		return nil, err
	}
	key := schema.PhoneKey(phone, region)
	rows, err := WithContactGraph(s.db.Contact.Query().Where(func(sel *sql.Selector) {
		var any []*sql.Predicate
		for _, c := range phoneDigitColumns {
			any = append(any, sql.EQ(sel.C(c), key))
		}
		sel.Where(sql.Or(any...))
	})).Order(contact.ByLastName(), contact.ByFirstName(), contact.ByID()).Limit(maxPhoneMatches).All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return rows, nil
}

// OpenLeads returns the contact's open leads, newest first: not closed,
// not lost, not sold (by status kind and by the lifecycle dates). NotFound
// when the contact is unknown or another tenant's.
func (s *Service) OpenLeads(ctx context.Context, contactID uuid.UUID) ([]*ent.Lead, error) {
	if err := Require(ctx, PermLeadRead); err != nil {
		return nil, err
	}
	// Existence, not reading the contact: lead.read is what the route needs.
	if _, err := s.db.Contact.Query().Where(contact.ID(contactID)).OnlyID(registry.Unchecked(ctx)); err != nil {
		return nil, AsError(err)
	}
	rows, err := WithLeadGraph(s.db.Lead.Query().Where(
		lead.ContactID(contactID),
		lead.Or(lead.StatusIDIsNil(), lead.HasStatusWith(status.KindEQ(status.KindOPEN))),
		lead.ConnectionClosedDateIsNil(), lead.LostDateIsNil(), lead.SoldDateIsNil(),
	)).Order(lead.ByDateCreated(sql.OrderDesc()), lead.ByID(sql.OrderDesc())).All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return rows, nil
}
