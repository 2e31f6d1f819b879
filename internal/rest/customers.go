package rest

import (
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
)

// Customer nesting (DESIGN §7): an account embeds its primary contact and
// contacts, each embedded contact embeds its accounts; at nestDepth the
// recursion ends with [] lists and a {"id"} primary contact, as the spec's
// examples do. A contact response starts the same rule from the contact.
// The crm.With*Graph eager loads fetch exactly these levels.
const nestDepth = 2

// BaseCustomer is the spec's BaseCustomer, shared by accounts and contacts.
type BaseCustomer struct {
	ID                 uuid.UUID      `json:"id"`
	PrimaryEmail       *string        `json:"primaryEmail"`
	SecondaryEmail     *string        `json:"secondaryEmail"`
	HomePhone          *string        `json:"homePhone"`
	WorkPhone          *string        `json:"workPhone"`
	WorkPhoneExtension *string        `json:"workPhoneExtension"`
	MobilePhone        *string        `json:"mobilePhone"`
	Address            *string        `json:"address"`
	City               *string        `json:"city"`
	Province           *string        `json:"province"`
	PostalCode         *string        `json:"postalCode"`
	Country            *string        `json:"country"`
	Language           *string        `json:"language"`
	IsActive           bool           `json:"isActive"`
	ThirdPartyIDs      []ThirdPartyID `json:"thirdPartyIds"`
}

// Account is the spec's Account. PrimaryContact is a *Contact, an *IDRef
// at the end of the nesting, or nil.
type Account struct {
	BaseCustomer
	Name           string    `json:"name"`
	PrimaryContact any       `json:"primaryContact"`
	Contacts       []Contact `json:"contacts"`
}

// Contact is the spec's Contact.
type Contact struct {
	BaseCustomer
	FirstName                string    `json:"firstName"`
	LastName                 string    `json:"lastName"`
	CompanyName              *string   `json:"companyName"`
	Civility                 *string   `json:"civility"`
	PreferredMethodOfContact *string   `json:"preferredMethodOfContact"`
	Accounts                 []Account `json:"accounts"`
}

// Accounts serializes accounts loaded with crm.WithAccountGraph.
func Accounts(rows []*ent.Account) []Account {
	out := make([]Account, 0, len(rows))
	for _, a := range rows {
		out = append(out, newAccount(a, 0))
	}
	return out
}

// Contacts serializes contacts loaded with crm.WithContactGraph.
func Contacts(rows []*ent.Contact) []Contact {
	out := make([]Contact, 0, len(rows))
	for _, c := range rows {
		out = append(out, newContact(c, 0))
	}
	return out
}

func newAccount(a *ent.Account, depth int) Account {
	out := Account{
		BaseCustomer: BaseCustomer{
			ID: a.ID, PrimaryEmail: a.PrimaryEmail, SecondaryEmail: a.SecondaryEmail,
			HomePhone: a.HomePhone, WorkPhone: a.WorkPhone, WorkPhoneExtension: a.WorkPhoneExtension,
			MobilePhone: a.MobilePhone, Address: a.Address, City: a.City, Province: a.Province,
			PostalCode: a.PostalCode, Country: a.Country, Language: a.Language, IsActive: a.IsActive,
			ThirdPartyIDs: thirdPartyIDs(a.Edges.ThirdPartyIds),
		},
		Name:     a.Name,
		Contacts: []Contact{},
	}
	if depth >= nestDepth {
		if a.PrimaryContactID != nil {
			out.PrimaryContact = &IDRef{ID: *a.PrimaryContactID}
		}
		return out
	}
	if pc := a.Edges.PrimaryContact; pc != nil {
		c := newContact(pc, depth+1)
		out.PrimaryContact = &c
	}
	for _, c := range a.Edges.Contacts {
		out.Contacts = append(out.Contacts, newContact(c, depth+1))
	}
	return out
}

func newContact(c *ent.Contact, depth int) Contact {
	out := Contact{
		BaseCustomer: BaseCustomer{
			ID: c.ID, PrimaryEmail: c.PrimaryEmail, SecondaryEmail: c.SecondaryEmail,
			HomePhone: c.HomePhone, WorkPhone: c.WorkPhone, WorkPhoneExtension: c.WorkPhoneExtension,
			MobilePhone: c.MobilePhone, Address: c.Address, City: c.City, Province: c.Province,
			PostalCode: c.PostalCode, Country: c.Country, Language: c.Language, IsActive: c.IsActive,
			ThirdPartyIDs: thirdPartyIDs(c.Edges.ThirdPartyIds),
		},
		FirstName: c.FirstName, LastName: c.LastName, CompanyName: c.CompanyName,
		Civility: c.Civility, PreferredMethodOfContact: c.PreferredMethodOfContact,
		Accounts: []Account{},
	}
	if depth >= nestDepth {
		return out
	}
	for _, a := range c.Edges.Accounts {
		out.Accounts = append(out.Accounts, newAccount(a, depth+1))
	}
	return out
}
