package rest_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func TestListContacts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		seededContacts := tenantData(t, db, "demo-motors.test").contacts()
		list := func(t *testing.T, query string) []contactJSON {
			var cs []contactJSON
			s.Expect(t, http.StatusOK, http.MethodGet, "/api/contact"+query, resttest.User, nil).JSON(t, &cs)
			return cs
		}
		ids := func(cs []contactJSON) []string {
			var out []string
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}

		t.Run("pages with start and limit, sorted by last name", func(t *testing.T) {
			all := list(t, "?limit=100")
			if len(all) != len(seededContacts) {
				t.Fatalf("%d contacts, want %d", len(all), len(seededContacts))
			}
			if !slices.IsSortedFunc(all, func(a, b contactJSON) int { return strings.Compare(a.LastName, b.LastName) }) {
				t.Fatal("default order is not by last name")
			}
			if page := list(t, "?start=2&limit=5"); !slices.Equal(ids(page), ids(all)[2:7]) {
				t.Fatalf("start 2 limit 5 = %v", ids(page))
			}
			// Three more contacts than the seed, so the default page is full.
			s.Expect(t, http.StatusOK, http.MethodPost, "/api/account", resttest.User, map[string]any{"name": "Padding", "contacts": []any{
				map[string]any{"lastName": "Zz1"}, map[string]any{"lastName": "Zz2"}, map[string]any{"lastName": "Zz3"},
			}})
			if n := len(list(t, "")); n != 25 {
				t.Fatalf("default page has %d contacts, want 25", n)
			}
		})
		t.Run("embeds accounts, whose contacts end the nesting", func(t *testing.T) {
			for _, c := range list(t, "?limit=100") {
				for _, a := range c.Accounts {
					if a.PrimaryContact == nil || len(a.Contacts) == 0 {
						t.Fatalf("account %s of contact %s lacks its contacts", a.ID, c.ID)
					}
					return
				}
			}
			t.Fatal("no contact has an account")
		})
		t.Run("sorts by firstName DESC", func(t *testing.T) {
			cs := list(t, "?limit=100&sortField=firstName&sortDirection=DESC")
			if !slices.IsSortedFunc(cs, func(a, b contactJSON) int { return strings.Compare(b.FirstName, a.FirstName) }) {
				t.Fatal("not sorted by first name descending")
			}
		})
		t.Run("searches full names across words, and excludes", func(t *testing.T) {
			target := seededContacts[4]
			q := strings.ToLower(target.FirstName + " " + target.LastName)
			cs := list(t, "?limit=100&search="+url.QueryEscape(q))
			if !slices.Contains(ids(cs), target.ID.String()) {
				t.Fatalf("search %q misses %s", q, target.ID)
			}
			for _, c := range cs {
				if !strings.EqualFold(c.FirstName, target.FirstName) || !strings.EqualFold(c.LastName, target.LastName) {
					if !strings.Contains(strings.ToLower(c.FirstName+c.LastName), strings.Fields(q)[0]) {
						t.Errorf("search %q returned %s %s", q, c.FirstName, c.LastName)
					}
				}
			}
			cs = list(t, "?limit=100&search="+url.QueryEscape(q)+"&exclude="+target.ID.String())
			if slices.Contains(ids(cs), target.ID.String()) {
				t.Fatal("exclude ignored")
			}
		})
		t.Run("filters by franchise code", func(t *testing.T) {
			for _, c := range list(t, "?limit=100&franchise=NS") {
				n, err := db.Lead.Query().Where(lead.ContactID(mustUUID(t, c.ID)), lead.HasFranchiseWith()).Count(tenantData(t, db, "demo-motors.test").ctx)
				if err != nil || n == 0 {
					t.Fatalf("contact %s has no lead (%v)", c.ID, err)
				}
			}
		})
		for _, q := range []string{"?sortField=mobilePhone", "?sortDirection=sideways", "?start=x", "?limit=-5"} {
			t.Run("400 for "+q, func(t *testing.T) {
				s.Expect(t, http.StatusBadRequest, http.MethodGet, "/api/contact"+q, resttest.User, nil)
			})
		}
		t.Run("401 and 403", func(t *testing.T) {
			s.Expect(t, http.StatusUnauthorized, http.MethodGet, "/api/contact", resttest.NoToken, nil)
			s.Expect(t, http.StatusForbidden, http.MethodGet, "/api/contact", withoutRoles(t, db), nil)
		})
	})
}

func TestContactsByPhone(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		target := tenantData(t, db, "demo-motors.test").contacts()[7]
		digits := strings.Map(func(r rune) rune {
			if r < '0' || r > '9' {
				return -1
			}
			return r
		}, *target.MobilePhone)
		for _, phone := range []string{digits, digits[:3] + "." + digits[3:6] + "." + digits[6:], "(" + digits[:3] + ") " + digits[3:6] + "-" + digits[6:]} {
			var cs []contactJSON
			s.Expect(t, http.StatusOK, http.MethodGet, "/api/contact/phone/"+url.PathEscape(phone), resttest.User, nil).JSON(t, &cs)
			if !slices.ContainsFunc(cs, func(c contactJSON) bool { return c.ID == target.ID.String() }) {
				t.Errorf("phone %q does not find %s", phone, target.ID)
			}
		}
		res := s.Expect(t, http.StatusOK, http.MethodGet, "/api/contact/phone/0000000", resttest.User, nil)
		if strings.TrimSpace(string(res.Body)) != "[]" {
			t.Errorf("no match must be []: %s", res.Body)
		}
		// The other tenant has no contact with these digits.
		res = s.Expect(t, http.StatusOK, http.MethodGet, "/api/contact/phone/"+digits, resttest.OtherAdmin, nil)
		if strings.Contains(string(res.Body), target.ID.String()) {
			t.Error("another tenant finds the contact")
		}
		s.Expect(t, http.StatusBadRequest, http.MethodGet, "/api/contact/phone/no-digits", resttest.User, nil)
		s.Expect(t, http.StatusUnauthorized, http.MethodGet, "/api/contact/phone/"+digits, resttest.NoToken, nil)
		s.Expect(t, http.StatusForbidden, http.MethodGet, "/api/contact/phone/"+digits, withoutRoles(t, db), nil)
	})
}

func TestContactOpenLeads(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		demo := tenantData(t, db, "demo-motors.test")
		// The contact with the most open leads (at least two: one is closed below).
		leads, err := db.Lead.Query().Where(lead.TenantID(demo.tid)).WithStatus().All(demo.ctx)
		demo.must(err)
		byContact := map[string][]*ent.Lead{}
		open := map[string]int{}
		for _, l := range leads {
			byContact[l.ContactID.String()] = append(byContact[l.ContactID.String()], l)
			if l.Edges.Status.Kind == status.KindOPEN {
				open[l.ContactID.String()]++
			}
		}
		var contactID string
		for id := range byContact {
			if open[id] > open[contactID] {
				contactID = id
			}
		}
		if open[contactID] < 2 {
			t.Skip("the seed gives no contact two open leads")
		}
		// Close one of its open leads by date only: it must not be listed.
		var closed string
		for _, l := range byContact[contactID] {
			if l.Edges.Status.Kind == status.KindOPEN {
				demo.must(db.Lead.UpdateOneID(l.ID).SetConnectionClosedDate(time.Now()).Exec(demo.ctx))
				closed = l.ID.String()
				break
			}
		}
		var want []string
		for _, l := range byContact[contactID] {
			if l.Edges.Status.Kind == status.KindOPEN && l.ID.String() != closed {
				want = append(want, l.ID.String())
			}
		}
		var got []struct {
			ID          string
			DateCreated time.Time
		}
		s.Expect(t, http.StatusOK, http.MethodGet, "/api/contact/"+contactID+"/lead/open", resttest.User, nil).JSON(t, &got)
		var gotIDs []string
		for _, l := range got {
			gotIDs = append(gotIDs, l.ID)
		}
		if !slices.IsSortedFunc(got, func(a, b struct {
			ID          string
			DateCreated time.Time
		}) int {
			return b.DateCreated.Compare(a.DateCreated)
		}) {
			t.Error("not newest first")
		}
		slices.Sort(gotIDs)
		slices.Sort(want)
		if len(want) == 0 || !slices.Equal(gotIDs, want) {
			t.Fatalf("open leads %v, want %v (of %d leads)", gotIDs, want, len(byContact[contactID]))
		}

		other := tenantData(t, db, "northwind-auto.test").contacts()[0]
		s.Expect(t, http.StatusNotFound, http.MethodGet, "/api/contact/"+other.ID.String()+"/lead/open", resttest.User, nil)
		s.Expect(t, http.StatusNotFound, http.MethodGet, "/api/contact/12/lead/open", resttest.User, nil)
		s.Expect(t, http.StatusNotFound, http.MethodGet, "/api/contact/01a21b42-3cf7-700f-b719-000000000000/lead/open", resttest.User, nil)
		s.Expect(t, http.StatusUnauthorized, http.MethodGet, "/api/contact/"+contactID+"/lead/open", resttest.NoToken, nil)
		s.Expect(t, http.StatusForbidden, http.MethodGet, "/api/contact/"+contactID+"/lead/open", withoutRoles(t, db), nil)
	})
}
