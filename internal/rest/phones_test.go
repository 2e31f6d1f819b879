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

// Phones are stored with an E.164 key (libphonenumber, region US by
// default): the phone lookup finds a number however it is written, and a
// search word matches phones only when it looks like a phone number.
func TestPhonesAreFoundByTheirE164Form(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		var a struct {
			ID       string
			Contacts []struct{ ID string }
		}
		s.Expect(t, http.StatusOK, http.MethodPost, "/api/account", resttest.Admin, map[string]any{
			"name": "Phone Test Co", "workPhone": "+1 (253) 246-5274",
			"contacts": []any{map[string]any{"firstName": "Tel", "lastName": "Ephone", "mobilePhone": "(253) 246-5274"}},
		}).JSON(t, &a)
		if len(a.Contacts) != 1 {
			t.Fatalf("account %+v", a)
		}
		contactID := a.Contacts[0].ID
		for _, phone := range []string{"+1 253-246-5274", "12532465274", "2532465274", "253.246.5274", "+12532465274"} {
			var cs []struct{ ID string }
			s.Expect(t, http.StatusOK, http.MethodGet, "/api/contact/phone/"+url.PathEscape(phone), resttest.Admin, nil).JSON(t, &cs)
			if !slices.ContainsFunc(cs, func(c struct{ ID string }) bool { return c.ID == contactID }) {
				t.Errorf("phone %q does not find the contact: %v", phone, cs)
			}
		}
		var none []struct{ ID string }
		s.Expect(t, http.StatusOK, http.MethodGet, "/api/contact/phone/"+url.PathEscape("+44 253 246 5274"), resttest.Admin, nil).JSON(t, &none)
		if slices.ContainsFunc(none, func(c struct{ ID string }) bool { return c.ID == contactID }) {
			t.Error("a number of another country finds the contact")
		}

		search := func(q string) []string {
			var p struct{ Accounts []struct{ ID string } }
			s.Expect(t, http.StatusOK, http.MethodGet, "/api/account?limit=100&search="+url.QueryEscape(q), resttest.Admin, nil).JSON(t, &p)
			var ids []string
			for _, x := range p.Accounts {
				ids = append(ids, x.ID)
			}
			return ids
		}
		for _, q := range []string{"+1 253-246-5274", "(253) 246", "246-5274", "12532465274", "phone test 253"} {
			if !slices.Contains(search(q), a.ID) {
				t.Errorf("search %q does not find the account", q)
			}
		}
		// Not phone-like: letters around the digits, or too few digits.
		for _, q := range []string{"info74@acme", "52"} {
			if slices.Contains(search(q), a.ID) {
				t.Errorf("search %q finds the account through its phone", q)
			}
		}
	})
}
