package crm

import (
	"context"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
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
// and the contacts, each with their accounts. The cost is a fixed number of
// statements whatever the number of accounts.
func WithAccountGraph(q *ent.AccountQuery) *ent.AccountQuery {
	contact := func(c *ent.ContactQuery) {
		c.WithThirdPartyIds().WithAccounts(func(a *ent.AccountQuery) { a.WithThirdPartyIds() })
	}
	return q.WithThirdPartyIds().WithPrimaryContact(contact).WithContacts(contact)
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
