package rest_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// The case: search=info13@acme returned every account whose phone
// held "13". A word with letters is never compared with phones, on
// accounts and contacts alike; a phone-like word still is.
func TestSearchWordsWithLettersDoNotMatchPhones(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		var a struct {
			ID       string
			Contacts []struct{ ID string }
		}
		s.Expect(t, http.StatusOK, http.MethodPost, "/api/account", resttest.Admin, map[string]any{
			"name": "Zeta Holdings", "workPhone": "(213) 555-0113",
			"contacts": []any{map[string]any{"firstName": "Quill", "lastName": "Marr", "homePhone": "(313) 555-0131"}},
		}).JSON(t, &a)
		contact := a.Contacts[0].ID
		accounts := func(q string) []string {
			var p struct{ Accounts []struct{ ID string } }
			s.Expect(t, http.StatusOK, http.MethodGet, "/api/account?limit=100&search="+url.QueryEscape(q), resttest.Admin, nil).JSON(t, &p)
			var ids []string
			for _, x := range p.Accounts {
				ids = append(ids, x.ID)
			}
			return ids
		}
		contacts := func(q string) []string {
			var cs []struct{ ID string }
			s.Expect(t, http.StatusOK, http.MethodGet, "/api/contact?limit=100&search="+url.QueryEscape(q), resttest.Admin, nil).JSON(t, &cs)
			var ids []string
			for _, x := range cs {
				ids = append(ids, x.ID)
			}
			return ids
		}
		for _, q := range []string{"info13@acme", "x13", "13a", "info213"} {
			if slices.Contains(accounts(q), a.ID) || slices.Contains(contacts(q), contact) {
				t.Errorf("search %q matches through a phone", q)
			}
		}
		for _, q := range []string{"213", "555-0113", "(213)"} {
			if !slices.Contains(accounts(q), a.ID) {
				t.Errorf("phone-like search %q does not find the account", q)
			}
		}
		if !slices.Contains(contacts("313 555"), contact) {
			t.Error("phone-like search does not find the contact")
		}
	})
}
