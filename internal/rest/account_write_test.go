package rest_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func contactIDs(cs []contactJSON) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestCreateAccount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		demo := tenantData(t, db, "demo-motors.test")
		northwind := tenantData(t, db, "northwind-auto.test")
		existing := demo.contacts()[0]

		t.Run("creates the account, links and creates its contacts in one go", func(t *testing.T) {
			var a accountJSON
			s.Expect(t, http.StatusOK, http.MethodPost, "/api/account", resttest.User, map[string]any{
				"id": "01a21b42-3cf8-700e-b376-2958bfc9e509", "dtype": "ignored", "dateCreated": "ignored", // server-owned
				"name": "  Zephyr Fleet  ", "workPhone": "(514) 555-0199", "city": "Laval", "unknownField": true,
				"primaryContact": map[string]any{"firstName": "Ada", "lastName": "Lovelace", "mobilePhone": "514.555.0100"},
				"contacts":       []any{map[string]any{"id": existing.ID.String(), "firstName": "Renamed"}},
			}).JSON(t, &a)
			if a.Name != "Zephyr Fleet" || a.PrimaryContact == nil || a.PrimaryContact.FirstName != "Ada" {
				t.Fatalf("created %+v", a)
			}
			if a.ID == "01a21b42-3cf8-700e-b376-2958bfc9e509" {
				t.Fatal("the client chose the id")
			}
			want := []string{a.PrimaryContact.ID, existing.ID.String()}
			slices.Sort(want)
			if got := contactIDs(a.Contacts); !slices.Equal(got, want) {
				t.Fatalf("contacts %v, want the primary and the linked one %v", got, want)
			}
			// A linked contact sent with fields is updated with them.
			for _, c := range a.Contacts {
				if c.ID == existing.ID.String() && c.FirstName != "Renamed" {
					t.Fatalf("a linked contact's fields were dropped: %+v", c)
				}
			}
			var found []contactJSON
			s.Expect(t, http.StatusOK, http.MethodGet, "/api/contact/phone/5145550100", resttest.User, nil).JSON(t, &found)
			if len(found) != 1 || found[0].ID != a.PrimaryContact.ID {
				t.Fatalf("the new contact's phone digits are not searchable: %+v", found)
			}
		})
		rejected := []struct {
			name   string
			body   any
			status int
			want   string
		}{
			{"malformed JSON", `{"name": "x",`, http.StatusBadRequest, "body"},
			{"not an object", `[1]`, http.StatusBadRequest, "body"},
			{"empty body", ``, http.StatusBadRequest, "body"},
			{"two values", `{"name":"a"} {"name":"b"}`, http.StatusBadRequest, "body"},
			{"wrong type", map[string]any{"name": 5}, http.StatusBadRequest, "name"},
			{"wrong nested type", map[string]any{"name": "x", "contacts": []any{map[string]any{"firstName": true}}}, http.StatusBadRequest, "contacts.firstName"},
			{"missing name", map[string]any{"city": "Laval"}, http.StatusBadRequest, "name"},
			{"blank name", map[string]any{"name": "   "}, http.StatusBadRequest, "name"},
			{"bad email", map[string]any{"name": "x", "primaryEmail": "not-an-email"}, http.StatusBadRequest, "primaryEmail"},
			{"too long", map[string]any{"name": strings.Repeat("x", 256)}, http.StatusBadRequest, "name"},
			{"bad nested id", map[string]any{"name": "x", "contacts": []any{map[string]any{"id": "42"}}}, http.StatusBadRequest, "contacts[0].id"},
			{"unknown contact", map[string]any{"name": "x", "contacts": []any{map[string]any{"firstName": "New"}, map[string]any{"id": "01a21b42-3cf7-700f-b719-f8abd25f8a24"}}}, http.StatusBadRequest, "contacts[1].id"},
			{"another tenant's contact", map[string]any{"name": "x", "primaryContact": map[string]any{"id": northwind.contacts()[0].ID.String()}}, http.StatusBadRequest, "primaryContact.id"},
			{"body over the limit", `{"name": "` + strings.Repeat("x", 2<<20) + `"}`, http.StatusRequestEntityTooLarge, "too large"},
			{"no token", map[string]any{"name": "x"}, http.StatusUnauthorized, ""},
		}
		for _, c := range rejected {
			t.Run(c.name, func(t *testing.T) {
				before := storetest.TakeSnapshot(t, db)
				as := resttest.User
				if c.status == http.StatusUnauthorized {
					as = resttest.NoToken
				}
				res := s.Expect(t, c.status, http.MethodPost, "/api/account", as, c.body)
				if !strings.Contains(string(res.Body), c.want) {
					t.Fatalf("body %s does not name %q", res.Body, c.want)
				}
				storetest.NothingWritten(t, db, before)
			})
		}
		t.Run("403 without account.write", func(t *testing.T) {
			s.Expect(t, http.StatusForbidden, http.MethodPost, "/api/account", withoutRoles(t, db), map[string]any{"name": "x"})
		})
	})
}

func TestUpdateAccount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		demo := tenantData(t, db, "demo-motors.test")
		northwind := tenantData(t, db, "northwind-auto.test")
		target := demo.accounts()[1]
		path := "/api/account/" + target.ID.String()
		contacts := demo.contacts()

		t.Run("changes only the fields sent; empty text clears", func(t *testing.T) {
			var a accountJSON
			s.Expect(t, http.StatusOK, http.MethodPatch, path, resttest.User, map[string]any{"name": "Renamed", "city": ""}).JSON(t, &a)
			if a.Name != "Renamed" || a.City != nil || a.PrimaryContact == nil {
				t.Fatalf("updated %+v", a)
			}
			stored, err := db.Account.Query().Where(account.ID(target.ID)).Only(demo.ctx)
			demo.must(err)
			if stored.PrimaryEmail == nil || *stored.PrimaryEmail != *target.PrimaryEmail || stored.ModifiedByID == nil {
				t.Fatalf("unsent fields changed or no audit: %+v", stored)
			}
		})
		t.Run("contacts replace the set; the primary contact stays among them", func(t *testing.T) {
			var a accountJSON
			s.Expect(t, http.StatusOK, http.MethodPatch, path, resttest.User, map[string]any{
				"primaryContact": map[string]any{"id": contacts[5].ID.String()},
				"contacts":       []any{map[string]any{"id": contacts[6].ID.String()}},
			}).JSON(t, &a)
			want := []string{contacts[5].ID.String(), contacts[6].ID.String()}
			slices.Sort(want)
			if got := contactIDs(a.Contacts); !slices.Equal(got, want) || a.PrimaryContact.ID != contacts[5].ID.String() {
				t.Fatalf("contacts %v primary %v; want %v", got, a.PrimaryContact.ID, want)
			}
		})
		t.Run("a nested contact with an id and fields is updated; primaryContact null clears it", func(t *testing.T) {
			var a accountJSON
			s.Expect(t, http.StatusOK, http.MethodPatch, path, resttest.User, map[string]any{
				"contacts": []any{map[string]any{"id": contacts[5].ID.String(), "city": "Gatineau"}, map[string]any{"id": contacts[6].ID.String()}},
			}).JSON(t, &a)
			c, err := db.Contact.Get(demo.ctx, contacts[5].ID)
			demo.must(err)
			if c.City == nil || *c.City != "Gatineau" || a.PrimaryContact == nil {
				t.Fatalf("nested contact %+v, primary %+v", c, a.PrimaryContact)
			}
			s.Expect(t, http.StatusOK, http.MethodPatch, path, resttest.User, map[string]any{"primaryContact": nil}).JSON(t, &a)
			stored, err := db.Account.Get(demo.ctx, target.ID)
			demo.must(err)
			if a.PrimaryContact != nil || stored.PrimaryContactID != nil {
				t.Fatalf("primary contact %+v / %v after null", a.PrimaryContact, stored.PrimaryContactID)
			}
		})
		other := northwind.accounts()[0]
		for _, c := range []struct {
			name, path, as string
			body           any
			status         int
		}{
			{"unknown id", "/api/account/01a21b42-3cf8-700e-b376-000000000000", resttest.User, map[string]any{"name": "x"}, http.StatusNotFound},
			{"not a UUID", "/api/account/42", resttest.User, map[string]any{"name": "x"}, http.StatusNotFound},
			{"another tenant's account", "/api/account/" + other.ID.String(), resttest.User, map[string]any{"name": "stolen"}, http.StatusNotFound},
			{"wrong type", path, resttest.User, map[string]any{"isActive": "yes"}, http.StatusBadRequest},
			{"blank name", path, resttest.User, map[string]any{"name": ""}, http.StatusBadRequest},
			{"another tenant's contact", path, resttest.User, map[string]any{"contacts": []any{map[string]any{"id": northwind.contacts()[0].ID.String()}}}, http.StatusBadRequest},
			{"no token", path, resttest.NoToken, map[string]any{"name": "x"}, http.StatusUnauthorized},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := storetest.TakeSnapshot(t, db)
				s.Expect(t, c.status, http.MethodPatch, c.path, c.as, c.body)
				storetest.NothingWritten(t, db, before)
			})
		}
		t.Run("another tenant's account is untouched", func(t *testing.T) {
			stored, err := db.Account.Get(northwind.ctx, other.ID)
			northwind.must(err)
			if stored.Name != other.Name || stored.DateModified != nil {
				t.Fatalf("modified: %+v", stored)
			}
		})
	})
}

func TestDeleteAccount(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		demo := tenantData(t, db, "demo-motors.test")
		target := demo.accounts()[3]
		path := "/api/account/" + target.ID.String()
		other := tenantData(t, db, "northwind-auto.test").accounts()[0]

		s.Expect(t, http.StatusUnauthorized, http.MethodDelete, path, resttest.NoToken, nil)
		s.Expect(t, http.StatusForbidden, http.MethodDelete, path, resttest.User, nil) // USER lacks account.delete
		s.Expect(t, http.StatusNotFound, http.MethodDelete, "/api/account/"+other.ID.String(), resttest.Manager, nil)
		s.Expect(t, http.StatusNotFound, http.MethodDelete, "/api/account/not-a-uuid", resttest.Manager, nil)
		s.Expect(t, http.StatusOK, http.MethodDelete, path, resttest.Manager, nil)
		s.Expect(t, http.StatusNotFound, http.MethodDelete, path, resttest.Manager, nil)

		var p accountPage
		s.Expect(t, http.StatusOK, http.MethodGet, "/api/account?limit=100", resttest.User, nil).JSON(t, &p)
		if slices.Contains(accountIDs(p), target.ID.String()) || p.Total != storetest.Sizes.Accounts-1 {
			t.Fatalf("deleted account still listed: total %d", p.Total)
		}
		stored, err := db.Account.Get(tenantData(t, db, "northwind-auto.test").ctx, other.ID)
		if err != nil || stored.IsDeleted {
			t.Fatalf("another tenant's account was deleted: %v %+v", err, stored)
		}
		deleted, err := db.Account.Query().Where(account.ID(target.ID), account.IsDeleted(true)).Only(withDeleted(demo.ctx))
		if err != nil || deleted.DeletedByID == nil || deleted.DateDeleted == nil {
			t.Fatalf("delete is not soft with audit: %v %+v", err, deleted)
		}
	})
}
