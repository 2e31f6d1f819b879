package rest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// accountJSON is the part of an Account response the tests read.
type accountJSON struct {
	ID             string
	Name           string
	City           *string
	PrimaryContact *contactJSON
	Contacts       []contactJSON
}

type contactJSON struct {
	ID        string
	FirstName string
	LastName  string
	Accounts  []struct {
		ID             string
		PrimaryContact map[string]any
		Contacts       []any
	}
}

type accountPage struct {
	Total    int
	Accounts []accountJSON
}

func accountIDs(p accountPage) []string {
	var ids []string
	for _, a := range p.Accounts {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestListAccounts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		demo := tenantData(t, db, "demo-motors.test")
		seededAccounts := demo.accounts()
		list := func(t *testing.T, query string) accountPage {
			var p accountPage
			s.Expect(t, http.StatusOK, http.MethodGet, "/api/account"+query, resttest.User, nil).JSON(t, &p)
			return p
		}

		t.Run("pages with the total and the nesting", func(t *testing.T) {
			p := list(t, "?limit=3&offset=1")
			if p.Total != storetest.Sizes.Accounts || len(p.Accounts) != 3 {
				t.Fatalf("total %d, %d accounts; want %d, 3", p.Total, len(p.Accounts), storetest.Sizes.Accounts)
			}
			all := list(t, "")
			if !slices.Equal(accountIDs(p), accountIDs(all)[1:4]) {
				t.Fatalf("offset 1 limit 3 = %v, not a window of %v", accountIDs(p), accountIDs(all))
			}
			a := p.Accounts[0]
			if a.PrimaryContact == nil || len(a.Contacts) == 0 {
				t.Fatalf("account without its primary contact or contacts: %+v", a)
			}
			deep := a.Contacts[0].Accounts
			if len(deep) == 0 || len(deep[0].Contacts) != 0 || len(deep[0].PrimaryContact) != 1 {
				t.Fatalf("nesting must end at the contacts' accounts with [] and {id}: %+v", deep)
			}
		})
		t.Run("sorts by a whitelisted field", func(t *testing.T) {
			p := list(t, "?sortField=name&sortDirection=desc&limit=100")
			if !slices.IsSortedFunc(p.Accounts, func(a, b accountJSON) int { return strings.Compare(b.Name, a.Name) }) {
				t.Fatalf("not sorted by name descending: %v", p.Accounts)
			}
		})
		t.Run("searches names, emails and phones, case-insensitively", func(t *testing.T) {
			target := seededAccounts[2]
			digits := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, *target.WorkPhone)
			for _, q := range []string{
				strings.ToUpper(strings.Fields(target.Name)[0]),
				*target.PrimaryEmail,
				digits[:3] + "-" + digits[3:6] + " " + digits[6:], // formatted differently
			} {
				p := list(t, "?limit=100&search="+url.QueryEscape(q))
				if !slices.Contains(accountIDs(p), target.ID.String()) || p.Total != len(p.Accounts) {
					t.Errorf("search %q: %v does not contain %s", q, accountIDs(p), target.ID)
				}
			}
			if p := list(t, "?search=no-such-account-anywhere"); p.Total != 0 || p.Accounts == nil {
				t.Errorf("no match must be total 0 and []: %+v", p)
			}
		})
		t.Run("excludes one id", func(t *testing.T) {
			p := list(t, "?limit=100&exclude="+seededAccounts[0].ID.String())
			if p.Total != len(seededAccounts)-1 || slices.Contains(accountIDs(p), seededAccounts[0].ID.String()) {
				t.Fatalf("exclude: %d accounts %v", p.Total, accountIDs(p))
			}
		})
		t.Run("filters by franchise id or code", func(t *testing.T) {
			fr := demo.franchise("DT")
			want := map[string]bool{}
			for _, a := range seededAccounts {
				n, err := db.Lead.Query().Where(leadOf(a), leadIn(fr)).Count(demo.ctx)
				demo.must(err)
				if n > 0 {
					want[a.ID.String()] = true
				}
			}
			for _, f := range []string{fr.ID.String(), "DT"} {
				p := list(t, "?limit=100&franchise="+f)
				if p.Total != len(want) {
					t.Errorf("franchise %s: %d accounts, want %d", f, p.Total, len(want))
				}
				for _, id := range accountIDs(p) {
					if !want[id] {
						t.Errorf("franchise %s: account %s has no lead there", f, id)
					}
				}
			}
			if p := list(t, "?franchise=XX"); p.Total != 0 {
				t.Errorf("unknown franchise code: %d accounts", p.Total)
			}
		})
		t.Run("caps the limit at 100", func(t *testing.T) {
			if p := list(t, "?limit=1000"); len(p.Accounts) != storetest.Sizes.Accounts {
				t.Fatalf("limit 1000: %d accounts", len(p.Accounts))
			}
		})
		t.Run("sees only its tenant", func(t *testing.T) {
			var p accountPage
			s.Expect(t, http.StatusOK, http.MethodGet, "/api/account?limit=100", resttest.OtherAdmin, nil).JSON(t, &p)
			for _, id := range accountIDs(p) {
				if slices.ContainsFunc(seededAccounts, func(a *ent.Account) bool { return a.ID.String() == id }) {
					t.Fatalf("northwind sees demo's account %s", id)
				}
			}
		})
		for _, c := range []struct{ query, field string }{
			{"?sortField=password", "sortField"},
			{"?sortField=" + url.QueryEscape("name;DROP TABLE accounts"), "sortField"},
			{"?sortDirection=UP", "sortDirection"},
			{"?limit=0", "limit"},
			{"?limit=ten", "limit"},
			{"?offset=-1", "offset"},
			{"?exclude=42", "exclude"},
		} {
			t.Run("400 for "+c.query, func(t *testing.T) {
				res := s.Expect(t, http.StatusBadRequest, http.MethodGet, "/api/account"+c.query, resttest.User, nil)
				if !strings.Contains(string(res.Body), c.field) {
					t.Fatalf("error does not name %s: %s", c.field, res.Body)
				}
			})
		}
		t.Run("401 without a token", func(t *testing.T) {
			s.Expect(t, http.StatusUnauthorized, http.MethodGet, "/api/account", resttest.NoToken, nil)
		})
		t.Run("403 without account.read", func(t *testing.T) {
			s.Expect(t, http.StatusForbidden, http.MethodGet, "/api/account", withoutRoles(t, db), nil)
		})
	})
}

// A list costs the same number of statements for 1 row as for 100,
// embedded customers included (ent eager loading, no N+1).
func TestCustomerListsCostFixedStatements(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		// The user's first request reads its viewer; the next ones find it cached.
		s.Expect(t, http.StatusOK, http.MethodGet, "/api/account?limit=1", resttest.User, nil)
		for _, path := range []string{"/api/account", "/api/contact"} {
			cost := func(limit int) int64 {
				before := s.Statements()
				s.Expect(t, http.StatusOK, http.MethodGet, fmt.Sprintf("%s?limit=%d", path, limit), resttest.User, nil)
				return s.Statements() - before
			}
			one, hundred := cost(1), cost(100)
			t.Logf("%s: %d statements for limit 1, %d for limit 100", path, one, hundred)
			if one != hundred {
				t.Errorf("%s: %d statements for limit 1 but %d for limit 100", path, one, hundred)
			}
		}
	})
}
