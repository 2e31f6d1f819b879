package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Writes must declare a JSON body (415 otherwise); a known path with an
// unknown method is 405 with Allow; an unknown path stays 404.
func TestContentTypeAndMethodRules(t *testing.T) {
	db := storetest.Open(t, "sqlite3")
	s := resttest.Start(t, db)
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", ""} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/account", strings.NewReader(`{"name":"X"}`))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.Header.Set("Authorization", "Bearer "+s.Token(resttest.Admin))
		if r := s.Send(req); r.Status != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %d %s", ct, r.Status, r.Body)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/account", strings.NewReader(`{"name":"Typed"}`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", "Bearer "+s.Token(resttest.Admin))
	if r := s.Send(req); r.Status != http.StatusOK {
		t.Errorf("application/json with a charset: %d %s", r.Status, r.Body)
	}
	r := s.Server.Do(http.MethodPut, "/api/account", resttest.Admin, map[string]any{})
	if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("PUT /api/account: %d Allow %q %s", r.Status, r.Header.Get("Allow"), r.Body)
	}
	if r := s.Server.Do(http.MethodGet, "/api/nothing-here", resttest.Admin, nil); r.Status != http.StatusNotFound {
		t.Errorf("unknown path: %d", r.Status)
	}
}

// Embedded lists are capped per record (crm.MaxEmbedded): an account's
// contacts, and each embedded contact's accounts.
func TestEmbeddedListsAreCapped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		contacts := make([]map[string]any, crm.MaxEmbedded+3)
		for i := range contacts {
			contacts[i] = map[string]any{"firstName": fmt.Sprintf("Embed%d", i), "lastName": "Capped"}
		}
		var created struct {
			ID       string
			Contacts []struct{ ID string }
		}
		s.Expect(t, http.StatusOK, http.MethodPost, "/api/account", resttest.Admin, map[string]any{"name": "Embedcap 0", "contacts": contacts}).JSON(t, &created)
		if len(created.Contacts) != crm.MaxEmbedded {
			t.Errorf("created account embeds %d contacts, want %d", len(created.Contacts), crm.MaxEmbedded)
		}
		first := created.Contacts[0].ID
		for i := 1; i <= crm.MaxEmbedded+2; i++ {
			s.Expect(t, http.StatusOK, http.MethodPost, "/api/account", resttest.Admin,
				map[string]any{"name": fmt.Sprintf("Embedcap %d", i), "contacts": []map[string]any{{"id": first}}})
		}
		var page struct {
			Accounts []struct {
				Name     string
				Contacts []struct {
					ID       string
					Accounts []struct{ ID string }
				}
			}
		}
		s.Expect(t, http.StatusOK, http.MethodGet, "/api/account?search=Embedcap&limit=100", resttest.Admin, nil).JSON(t, &page)
		if len(page.Accounts) == 0 {
			t.Fatal("no accounts")
		}
		for _, a := range page.Accounts {
			if len(a.Contacts) > crm.MaxEmbedded {
				t.Errorf("%s embeds %d contacts", a.Name, len(a.Contacts))
			}
			for _, c := range a.Contacts {
				if len(c.Accounts) > crm.MaxEmbedded {
					t.Errorf("%s: contact embeds %d accounts", a.Name, len(c.Accounts))
				}
				if c.ID == first && len(c.Accounts) != crm.MaxEmbedded {
					t.Errorf("the shared contact embeds %d accounts, want %d", len(c.Accounts), crm.MaxEmbedded)
				}
			}
		}
	})
}
