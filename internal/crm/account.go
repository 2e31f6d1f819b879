package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/internal/fault"
	qb "github.com/conecrm/gateway/internal/querybuilder"
)

// Filtered by the query builder (filter.go).
var _ = filterable("account", accountFilterFields(), finder[*ent.Account](func(c *ent.Client) *ent.AccountQuery {
	return WithAccountGraph(c.Account.Query())
}))

// accountFilterFields are an account's query-builder fields.
func accountFilterFields() []qb.Field {
	members := qb.Join{Table: account.ContactsTable, Own: account.ContactsPrimaryKey[0], Other: account.ContactsPrimaryKey[1]}
	fs := []qb.Field{qb.Str("name", account.FieldName)}
	fs = append(fs, customerFilterFields()...)
	fs = append(fs, recordFields()...)
	return append(fs,
		qb.Ref("primaryContact", account.FieldPrimaryContactID, contactTarget),
		qb.ToOne("primaryContact.firstName", qb.TypeString, account.FieldPrimaryContactID, qb.Target{Table: contact.Table, Column: contact.FieldFirstName}),
		qb.ToOne("primaryContact.lastName", qb.TypeString, account.FieldPrimaryContactID, qb.Target{Table: contact.Table, Column: contact.FieldLastName}),
		qb.ToOne("primaryContact.primaryEmail", qb.TypeString, account.FieldPrimaryContactID, qb.Target{Table: contact.Table, Column: contact.FieldPrimaryEmail}),
		qb.ToMany("contacts", members, contactTarget, true),
		qb.ToMany("contacts.firstName", members, qb.Target{Table: contact.Table, Column: contact.FieldFirstName}, false),
		qb.ToMany("contacts.primaryEmail", members, qb.Target{Table: contact.Table, Column: contact.FieldPrimaryEmail}, false),
	)
}

// accountSort is the whitelist of GET /api/account's sortField.
var accountSort = sortable{
	"name":         account.FieldName,
	"dateCreated":  account.FieldDateCreated,
	"dateModified": account.FieldDateModified,
	"primaryEmail": account.FieldPrimaryEmail,
	"city":         account.FieldCity,
}

// WithAccountGraph eager-loads what an account response embeds (see
// internal/rest's customer nesting): third-party ids, the primary contact
// and the contacts (at most MaxEmbedded), each with their accounts (at most
// MaxEmbedded). The cost is a fixed number of statements whatever the
// number of accounts.
func WithAccountGraph(q *ent.AccountQuery) *ent.AccountQuery {
	contactGraph := func(c *ent.ContactQuery) {
		c.WithThirdPartyIds().WithAccounts(func(a *ent.AccountQuery) {
			a.WithThirdPartyIds().Modify(embedLimit(contact.AccountsPrimaryKey[1], account.FieldID))
		})
	}
	return q.WithThirdPartyIds().WithPrimaryContact(contactGraph).WithContacts(func(c *ent.ContactQuery) {
		contactGraph(c)
		c.Modify(embedLimit(account.ContactsPrimaryKey[0], contact.FieldID))
	})
}

// ListAccounts returns a page of the tenant's accounts matching f, with the
// total number of matches.
func (s *Service) ListAccounts(ctx context.Context, f CustomerFilter) (int, []*ent.Account, error) {
	if err := Require(ctx, PermAccountRead); err != nil {
		return 0, nil, err
	}
	order, err := accountSort.order(f.Sort, account.FieldName)
	if err != nil {
		return 0, nil, err
	}
	q := s.db.Account.Query()
	// Phones are searched through their keys only (searchPredicate).
	p, err := s.searchPredicate(ctx, f.Search, account.FieldName, account.FieldPrimaryEmail, account.FieldSecondaryEmail)
	if err != nil {
		return 0, nil, err
	}
	if p != nil {
		q.Where(p)
	}
	if f.Exclude != nil {
		q.Where(account.IDNEQ(*f.Exclude))
	}
	if f.Franchise != "" {
		q.Where(franchisePredicate(f.Franchise, "account_id"))
	}
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return 0, nil, AsError(err)
	}
	rows, err := WithAccountGraph(q).
		Order(orderOptions[account.OrderOption](order)...).
		Offset(f.Page.Offset).Limit(f.Page.Limit).
		All(ctx)
	if err != nil {
		return 0, nil, AsError(err)
	}
	return total, rows, nil
}

// AccountInput is what a client writes to an account. On an update, nil
// fields are left unchanged; Contacts, when not nil, replaces the account's
// contacts. The primary contact is always made one of the contacts; a
// primary contact sent as null (PrimaryContactSet without PrimaryContact)
// clears it, and so does a contact list without it. A nested contact with
// an id and fields links that contact and updates it.
type AccountInput struct {
	Name *string
	CustomerFields
	PrimaryContact    *ContactInput
	PrimaryContactSet bool
	Contacts          *[]ContactInput
	CustomFieldValues []CustomFieldValueInput
}

func (in AccountInput) check(create bool) error {
	var v fault.Validation
	switch {
	case in.Name != nil && strings.TrimSpace(*in.Name) == "":
		v.Add("name", "must not be blank")
	case in.Name == nil && create:
		v.Add("name", "is required")
	}
	checkText(&v, "name", in.Name)
	in.CustomerFields.check(&v, "")
	if in.PrimaryContact != nil {
		in.PrimaryContact.check(&v, "primaryContact.")
	}
	if in.Contacts != nil {
		for i, c := range *in.Contacts {
			c.check(&v, fmt.Sprintf("contacts[%d].", i))
		}
	}
	return v.Err()
}

// CreateAccount creates an account with its nested contacts in one
// transaction and returns it loaded with WithAccountGraph.
func (s *Service) CreateAccount(ctx context.Context, in AccountInput) (*ent.Account, error) {
	if err := Require(ctx, PermAccountWrite); err != nil {
		return nil, err
	}
	if err := in.check(true); err != nil {
		return nil, err
	}
	var out *ent.Account
	err := s.inTx(ctx, func(tx *ent.Client) error {
		create := tx.Account.Create().SetName(strings.TrimSpace(*in.Name))
		in.CustomerFields.apply(create.Mutation(), true)
		if err := s.writeContacts(ctx, tx, in, nil, create.Mutation()); err != nil {
			return err
		}
		a, err := create.Save(ctx)
		if err != nil {
			return err
		}
		if err := writeThirdPartyIDs(ctx, tx, a.ID, true, in.ThirdPartyIDs); err != nil {
			return err
		}
		if err := replaceCustomValues(ctx, tx, "account", a.ID, in.CustomFieldValues); err != nil {
			return err
		}
		after, state, err := accountState(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		out = after
		return s.emit(ctx, tx, Event{Topic: "account.created", RecordType: RecordAccount, RecordID: a.ID, Changes: diff(nil, state)})
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// UpdateAccount applies in to account id; NotFound when it is unknown or
// another tenant's.
func (s *Service) UpdateAccount(ctx context.Context, id uuid.UUID, in AccountInput) (*ent.Account, error) {
	if err := Require(ctx, PermAccountWrite); err != nil {
		return nil, err
	}
	if err := in.check(false); err != nil {
		return nil, err
	}
	var out *ent.Account
	err := s.inTx(ctx, func(tx *ent.Client) error {
		cur, before, err := accountState(ctx, tx, id)
		if err != nil {
			return err
		}
		update := tx.Account.UpdateOneID(id)
		if in.Name != nil {
			update.SetName(strings.TrimSpace(*in.Name))
		}
		in.CustomerFields.apply(update.Mutation(), false)
		if err := s.writeContacts(ctx, tx, in, cur, update.Mutation()); err != nil {
			return err
		}
		if err := update.Exec(ctx); err != nil {
			return err
		}
		if err := writeThirdPartyIDs(ctx, tx, id, true, in.ThirdPartyIDs); err != nil {
			return err
		}
		if err := replaceCustomValues(ctx, tx, "account", id, in.CustomFieldValues); err != nil {
			return err
		}
		after, state, err := accountState(ctx, tx, id)
		if err != nil {
			return err
		}
		out = after
		return s.emitUpdated(ctx, tx, RecordAccount, id, before, state)
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// writeContacts resolves the nested contacts (linking, updating or
// creating them) and sets the primary contact and the contact list on m;
// cur is the account being updated (nil on create).
func (s *Service) writeContacts(ctx context.Context, tx *ent.Client, in AccountInput, cur *ent.Account, m *ent.AccountMutation) error {
	var primary *uuid.UUID
	switch {
	case in.PrimaryContact != nil:
		ids, err := s.resolveAndUpdate(ctx, tx, []ContactInput{*in.PrimaryContact}, func(int) string { return "primaryContact" })
		if err != nil {
			return err
		}
		primary = &ids[0]
		m.SetPrimaryContactID(*primary)
	case in.PrimaryContactSet:
		m.ClearPrimaryContact()
	case cur != nil:
		primary = cur.PrimaryContactID
	}
	if in.Contacts == nil {
		if in.PrimaryContact != nil {
			m.AddContactIDs(*primary)
		}
		return nil
	}
	ids, err := s.resolveAndUpdate(ctx, tx, *in.Contacts, func(i int) string { return fmt.Sprintf("contacts[%d]", i) })
	if err != nil {
		return err
	}
	switch {
	case in.PrimaryContact != nil:
		ids = append(ids, *primary)
	case primary != nil && !slices.Contains(ids, *primary):
		m.ClearPrimaryContact() // the primary contact was unlinked
	}
	m.ClearContacts()
	m.AddContactIDs(unique(ids)...)
	return nil
}

// resolveAndUpdate resolves nested contacts (see resolveContacts) and
// updates each linked contact that came with fields, emitting its
// contact.updated.
func (s *Service) resolveAndUpdate(ctx context.Context, tx *ent.Client, inputs []ContactInput, name func(int) string) ([]uuid.UUID, error) {
	var v fault.Validation
	for i, c := range inputs {
		if c.ID != nil && c.hasFields() {
			c.CustomerFields.check(&v, name(i)+".")
			for _, t := range c.texts() {
				checkText(&v, name(i)+"."+t.name, t.value)
			}
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	ids, err := resolveContacts(ctx, tx, inputs, name)
	if err != nil {
		return nil, err
	}
	for _, c := range inputs {
		if c.ID == nil || !c.hasFields() {
			continue
		}
		if err := Require(ctx, PermContactWrite); err != nil {
			return nil, err
		}
		_, before, err := contactState(ctx, tx, *c.ID)
		if err != nil {
			return nil, err
		}
		if err := updateContact(ctx, tx, *c.ID, c); err != nil {
			return nil, err
		}
		if err := writeThirdPartyIDs(ctx, tx, *c.ID, false, c.ThirdPartyIDs); err != nil {
			return nil, err
		}
		_, after, err := contactState(ctx, tx, *c.ID)
		if err != nil {
			return nil, err
		}
		if err := s.emitUpdated(ctx, tx, RecordContact, *c.ID, before, after); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// DeleteAccount soft-deletes account id.
func (s *Service) DeleteAccount(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermAccountDelete); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		if err := tx.Account.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, Event{Topic: "account.deleted", RecordType: RecordAccount, RecordID: id})
	})
}

// unique returns ids without repeats, in first-seen order.
func unique(ids []uuid.UUID) []uuid.UUID {
	seen := make(map[uuid.UUID]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
