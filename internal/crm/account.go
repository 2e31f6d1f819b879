package crm

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/contact"
)

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
	if p := searchPredicate(f.Search, account.FieldName, account.FieldPrimaryEmail,
		account.FieldSecondaryEmail, account.FieldHomePhone, account.FieldWorkPhone, account.FieldMobilePhone); p != nil {
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
// contacts. The primary contact is always made one of the contacts.
type AccountInput struct {
	Name *string
	CustomerFields
	PrimaryContact *ContactInput
	Contacts       *[]ContactInput
}

func (in AccountInput) check(create bool) error {
	var v Validation
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
	var id uuid.UUID
	err := s.inTx(ctx, func(tx *ent.Client) error {
		create := tx.Account.Create().SetName(strings.TrimSpace(*in.Name))
		in.CustomerFields.apply(create.Mutation(), true)
		if err := in.writeContacts(ctx, tx, create.Mutation()); err != nil {
			return err
		}
		a, err := create.Save(ctx)
		if err != nil {
			return err
		}
		id = a.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.account(ctx, id)
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
	err := s.inTx(ctx, func(tx *ent.Client) error {
		if _, err := tx.Account.Get(ctx, id); err != nil {
			return err
		}
		update := tx.Account.UpdateOneID(id)
		if in.Name != nil {
			update.SetName(strings.TrimSpace(*in.Name))
		}
		in.CustomerFields.apply(update.Mutation(), false)
		if err := in.writeContacts(ctx, tx, update.Mutation()); err != nil {
			return err
		}
		return update.Exec(ctx)
	})
	if err != nil {
		return nil, err
	}
	return s.account(ctx, id)
}

// writeContacts resolves the nested contacts (linking or creating them)
// and sets the primary contact and the contact list on m.
func (in AccountInput) writeContacts(ctx context.Context, tx *ent.Client, m *ent.AccountMutation) error {
	var primary *uuid.UUID
	if in.PrimaryContact != nil {
		ids, err := resolveContacts(ctx, tx, []ContactInput{*in.PrimaryContact}, func(int) string { return "primaryContact" })
		if err != nil {
			return err
		}
		primary = &ids[0]
		m.SetPrimaryContactID(*primary)
	}
	if in.Contacts == nil {
		if primary != nil {
			m.AddContactIDs(*primary)
		}
		return nil
	}
	ids, err := resolveContacts(ctx, tx, *in.Contacts, func(i int) string { return fmt.Sprintf("contacts[%d]", i) })
	if err != nil {
		return err
	}
	if primary != nil {
		ids = append(ids, *primary)
	}
	m.ClearContacts()
	m.AddContactIDs(unique(ids)...)
	return nil
}

// DeleteAccount soft-deletes account id.
func (s *Service) DeleteAccount(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermAccountDelete); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		return tx.Account.DeleteOneID(id).Exec(ctx)
	})
}

// account loads one account with WithAccountGraph.
func (s *Service) account(ctx context.Context, id uuid.UUID) (*ent.Account, error) {
	a, err := WithAccountGraph(s.db.Account.Query().Where(account.ID(id))).Only(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return a, nil
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
