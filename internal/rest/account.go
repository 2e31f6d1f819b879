package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
)

// The rows of the filter route (querybuilder.go).
var _ = filterShape("account", func(_ context.Context, _ *Server, rows []*ent.Account) (any, error) {
	return Accounts(rows), nil
})

var _ = routes((*Server).accountRoutes)

func (s *Server) accountRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/account", s.handle(PlainErrors, s.listAccounts))
	mux.Handle("POST /api/account", s.handle(PlainErrors, s.createAccount))
	mux.Handle("PATCH /api/account/{account}", s.handle(PlainErrors, s.updateAccount))
	mux.Handle("DELETE /api/account/{account}", s.handle(PlainErrors, s.deleteAccount))
}

// accountList is GET /api/account's body.
type accountList struct {
	Total    int       `json:"total"`
	Accounts []Account `json:"accounts"`
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) error {
	f, err := customerFilter(r, "offset")
	if err != nil {
		return err
	}
	total, rows, err := s.svc.ListAccounts(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accountList{Total: total, Accounts: Accounts(rows)})
	return nil
}

// customerFilter reads the query parameters the account and contact lists
// share; offsetName is "offset" for accounts and "start" for contacts.
func customerFilter(r *http.Request, offsetName string) (crm.CustomerFilter, error) {
	q := r.URL.Query()
	f := crm.CustomerFilter{Search: q.Get("search"), Franchise: q.Get("franchise")}
	var err error
	if f.Page, err = pageParams(q, offsetName); err != nil {
		return f, err
	}
	if f.Sort, err = sortParams(q); err != nil {
		return f, err
	}
	if f.Exclude, err = optionalID(q, "exclude"); err != nil {
		return f, err
	}
	return f, nil
}

// customerBody holds the BaseCustomer fields of a request.
type customerBody struct {
	PrimaryEmail       *string `json:"primaryEmail"`
	SecondaryEmail     *string `json:"secondaryEmail"`
	HomePhone          *string `json:"homePhone"`
	WorkPhone          *string `json:"workPhone"`
	WorkPhoneExtension *string `json:"workPhoneExtension"`
	MobilePhone        *string `json:"mobilePhone"`
	Address            *string `json:"address"`
	City               *string `json:"city"`
	Province           *string `json:"province"`
	PostalCode         *string `json:"postalCode"`
	Country            *string `json:"country"`
	Language           *string `json:"language"`
	IsActive           *bool   `json:"isActive"`
	// ThirdPartyIDs, when sent, replace the customer's third-party ids
	// (the server-owned id, customer, tenant and audit fields are ignored).
	ThirdPartyIDs *[]struct {
		SystemName   string  `json:"systemName"`
		ThirdPartyID string  `json:"thirdPartyId"`
		Metadata     *string `json:"metadata"`
	} `json:"thirdPartyIds"`
}

func (b customerBody) fields() crm.CustomerFields {
	f := crm.CustomerFields{
		PrimaryEmail: b.PrimaryEmail, SecondaryEmail: b.SecondaryEmail, HomePhone: b.HomePhone,
		WorkPhone: b.WorkPhone, WorkPhoneExtension: b.WorkPhoneExtension, MobilePhone: b.MobilePhone,
		Address: b.Address, City: b.City, Province: b.Province, PostalCode: b.PostalCode,
		Country: b.Country, Language: b.Language, IsActive: b.IsActive,
	}
	if b.ThirdPartyIDs != nil {
		ids := make([]crm.ThirdPartyIDInput, 0, len(*b.ThirdPartyIDs))
		for _, t := range *b.ThirdPartyIDs {
			ids = append(ids, crm.ThirdPartyIDInput{SystemName: t.SystemName, ThirdPartyID: t.ThirdPartyID, Metadata: t.Metadata})
		}
		f.ThirdPartyIDs = &ids
	}
	return f
}

// contactBody is a contact nested in an account request: with "id" it
// links that contact (updating the fields sent with it), without it
// creates one.
type contactBody struct {
	ID *string `json:"id"`
	customerBody
	FirstName                *string `json:"firstName"`
	LastName                 *string `json:"lastName"`
	CompanyName              *string `json:"companyName"`
	Civility                 *string `json:"civility"`
	PreferredMethodOfContact *string `json:"preferredMethodOfContact"`
}

func (b contactBody) input(field string) (crm.ContactInput, error) {
	in := crm.ContactInput{
		CustomerFields: b.fields(), FirstName: b.FirstName, LastName: b.LastName,
		CompanyName: b.CompanyName, Civility: b.Civility, PreferredMethodOfContact: b.PreferredMethodOfContact,
	}
	if b.ID != nil {
		id, err := parseID(field+".id", *b.ID)
		if err != nil {
			return in, err
		}
		in.ID = &id
	}
	return in, nil
}

// optContact is a nested primary contact that tells null (clear it) from
// absent (keep it).
type optContact struct {
	set   bool
	value *contactBody
}

func (o *optContact) UnmarshalJSON(b []byte) error {
	o.set = true
	return json.Unmarshal(b, &o.value)
}

// accountBody is the body of POST /api/account and PATCH /api/account/{account}.
type accountBody struct {
	Name *string `json:"name"`
	customerBody
	PrimaryContact    optContact       `json:"primaryContact"`
	Contacts          *[]contactBody   `json:"contacts"`
	CustomFieldValues customValuesBody `json:"customFieldValues"`
}

func (b accountBody) input() (crm.AccountInput, error) {
	in := crm.AccountInput{Name: b.Name, CustomerFields: b.fields()}
	in.PrimaryContactSet = b.PrimaryContact.set
	if b.PrimaryContact.value != nil {
		c, err := b.PrimaryContact.value.input("primaryContact")
		if err != nil {
			return in, err
		}
		in.PrimaryContact = &c
	}
	if b.Contacts != nil {
		contacts := make([]crm.ContactInput, 0, len(*b.Contacts))
		for i, cb := range *b.Contacts {
			c, err := cb.input(fmt.Sprintf("contacts[%d]", i))
			if err != nil {
				return in, err
			}
			contacts = append(contacts, c)
		}
		in.Contacts = &contacts
	}
	var err error
	in.CustomFieldValues, err = b.CustomFieldValues.input()
	return in, err
}

func decodeAccount(r *http.Request) (crm.AccountInput, error) {
	var b accountBody
	if err := decode(r, &b); err != nil {
		return crm.AccountInput{}, err
	}
	return b.input()
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeAccount(r)
	if err != nil {
		return err
	}
	a, err := s.svc.CreateAccount(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Accounts([]*ent.Account{a})[0])
	return nil
}

func (s *Server) updateAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "account")
	if err != nil {
		return err
	}
	in, err := decodeAccount(r)
	if err != nil {
		return err
	}
	a, err := s.svc.UpdateAccount(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Accounts([]*ent.Account{a})[0])
	return nil
}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "account")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteAccount(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
