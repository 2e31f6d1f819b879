package graph_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// recorder keeps the SQL text of every statement sent through a client.
type recorder struct {
	mu  sync.Mutex
	sql []string
}

func (r *recorder) log(_ context.Context, v ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sql = append(r.sql, fmt.Sprint(v...))
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.sql
	r.sql = nil
	return out
}

// recorded serves /graphql through a client over db's pool that records its
// SQL (authentication still goes through db's own client).
func recorded(t *testing.T, db *store.DB) (*recorder, func(q string, vars map[string]any) *result) {
	rec := &recorder{}
	client := ent.NewClient(ent.Driver(dialect.DebugWithContext(entsql.OpenDB(db.Dialect, db.SQL), rec.log)))
	s := start(t, db, graph.Config{Client: client, CRM: crm.NewService(client)})
	return rec, func(q string, vars map[string]any) *result {
		rec.take()
		return query(t, s, admin, q, vars)
	}
}

var selectList = regexp.MustCompile(`(?is)SELECT (.*?) FROM`)

// Only the selected columns of each relation are read.
func TestOnlySelectedColumnsAreRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec, do := recorded(t, db)
		do(`{ accounts(first: 3) { edges { node { name contacts { lastName accounts { city } } } } } }`, nil).into(t, &struct{}{})
		stmts := rec.take()
		if len(stmts) != 3 {
			t.Fatalf("%d statements, want 3 (accounts, contacts, accounts):\n%s", len(stmts), strings.Join(stmts, "\n"))
		}
		for i, want := range [][]string{{"name"}, {"last_name"}, {"city"}} {
			cols := strings.ToLower(selectList.FindStringSubmatch(stmts[i])[1])
			for _, c := range want {
				if !strings.Contains(cols, c) {
					t.Errorf("statement %d does not read %s: %s", i, c, stmts[i])
				}
			}
			for _, c := range []string{"primary_email", "mobile_phone", "first_name", "address", "date_created"} {
				if strings.Contains(cols, c) {
					t.Errorf("statement %d reads %s, which no field selects: %s", i, c, stmts[i])
				}
			}
		}
	})
}

// Plain lists nested under a list are capped per parent in SQL (a window
// function), not cut after fetching everything.
func TestPlainListsAreCappedPerParentInSQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec, do := recorded(t, db)
		var contacts []string
		for i := range ent.ListLimit + 2 {
			contacts = append(contacts, fmt.Sprintf(`{firstName: "C%d"}`, i))
		}
		var created struct{ CreateAccount struct{ ID string } }
		do(`mutation { createAccount(input: {name: "Big", contacts: [`+strings.Join(contacts, ",")+`]}) { id } }`, nil).into(t, &created)

		r := do(`{ accounts(first: 5, orderBy: [{field: DATE_CREATED, direction: DESC}]) {
			edges { node { id contacts { firstName } } } } }`, nil)
		var data struct {
			Accounts struct {
				Edges []struct {
					Node struct {
						ID       string
						Contacts []struct{ FirstName string }
					}
				}
			}
		}
		r.into(t, &data)
		found := false
		for _, e := range data.Accounts.Edges {
			if e.Node.ID == created.CreateAccount.ID {
				found = true
				if n := len(e.Node.Contacts); n != ent.ListLimit {
					t.Errorf("the account with %d contacts lists %d, want %d", ent.ListLimit+2, n, ent.ListLimit)
				}
			}
		}
		if !found {
			t.Fatalf("account not in the page: %s", r.Data)
		}
		stmts := rec.take()
		if len(stmts) < 2 || !strings.Contains(strings.ToUpper(stmts[len(stmts)-1]), "ROW_NUMBER() OVER (PARTITION BY") {
			t.Errorf("contacts were not limited per account in SQL:\n%s", strings.Join(stmts, "\n"))
		}

		// The cap keeps the first ListLimit by id of the rows the viewer
		// reads: a deleted contact does not take a place, the next one
		// does; the same from the other side of the many-to-many.
		var all struct {
			Contacts struct {
				Edges []struct{ Node struct{ ID string } }
			}
		}
		do(`query($a: ID!) { contacts(first: 50, where: {hasAccountsWith: {id: $a}}) { edges { node { id } } } }`,
			map[string]any{"a": created.CreateAccount.ID}).into(t, &all)
		var ids []string
		for _, e := range all.Contacts.Edges {
			ids = append(ids, e.Node.ID)
		}
		slices.Sort(ids)
		if len(ids) != ent.ListLimit+2 {
			t.Fatalf("%d contacts, want %d", len(ids), ent.ListLimit+2)
		}
		do(`mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": ids[3]}).into(t, &struct{}{})
		want := slices.Delete(slices.Clone(ids), 3, 4)[:ent.ListLimit]
		var listed struct {
			Accounts struct {
				Edges []struct {
					Node struct {
						Contacts []struct {
							ID       string
							Accounts []struct{ ID string }
						}
					}
				}
			}
		}
		do(`query($a: ID!) { accounts(first: 2, where: {id: $a}) { edges { node { contacts { id accounts { id } } } } } }`,
			map[string]any{"a": created.CreateAccount.ID}).into(t, &listed)
		var got []string
		for _, c := range listed.Accounts.Edges[0].Node.Contacts {
			got = append(got, c.ID)
			if len(c.Accounts) != 1 || c.Accounts[0].ID != created.CreateAccount.ID {
				t.Errorf("contact %s lists accounts %v", c.ID, c.Accounts)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("listed contacts %v, want the first %d by id without the deleted one: %v", got, ent.ListLimit, want)
		}
	})
}

// A connection without first or last returns the default page, at the root
// and nested under a list, where SQL limits it per parent.
func TestConnectionsDefaultToAPageOf25(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec, do := recorded(t, db)
		var root struct {
			Leads struct {
				TotalCount int
				Edges      []any
				PageInfo   struct{ HasNextPage bool }
			}
		}
		do(`query($n: Int) { leads(first: $n) { totalCount edges { node { id } } pageInfo { hasNextPage } } }`, nil).into(t, &root)
		if len(root.Leads.Edges) != graph.DefaultPage || !root.Leads.PageInfo.HasNextPage || root.Leads.TotalCount <= graph.DefaultPage {
			t.Errorf("root page: %d of %d leads, hasNextPage %v", len(root.Leads.Edges), root.Leads.TotalCount, root.Leads.PageInfo.HasNextPage)
		}
		do(`{ users(first: 3) { edges { node { assignedLeads { edges { node { id } } } } } } }`, nil).into(t, &struct{}{})
		stmts := rec.take()
		last := strings.ToUpper(stmts[len(stmts)-1])
		if !strings.Contains(last, "ROW_NUMBER() OVER (PARTITION BY") || !strings.Contains(last, fmt.Sprint(graph.DefaultPage+1)) {
			t.Errorf("nested connection not limited per parent to a page (+1 to know of a next one):\n%s", strings.Join(stmts, "\n"))
		}
	})
}

// Hand-written fields resolved by loaders (assignees, custom field values)
// and edges (the audit users) read their id column only, not the whole row.
func TestHandWrittenFieldsReadOnlyTheirIDColumn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec, do := recorded(t, db)
		do(`{ tasks(first: 3) { edges { node { title createdBy { email } assigneeID assignee { displayName } customFieldValues { value } } } } }`, nil).into(t, &struct{}{})
		stmts := rec.take()
		if len(stmts) == 0 {
			t.Fatal("no statement recorded")
		}
		cols := strings.ToLower(selectList.FindStringSubmatch(stmts[0])[1])
		for _, c := range []string{"title", "created_by_id", "assignee_id"} {
			if !strings.Contains(cols, c) {
				t.Errorf("tasks statement does not read %s: %s", c, stmts[0])
			}
		}
		for _, c := range []string{"note", "modified_by_id", "contact_id", "date_created", "task_done"} {
			if strings.Contains(cols, c) {
				t.Errorf("tasks statement reads %s, which no field selects: %s", c, stmts[0])
			}
		}
	})
}
