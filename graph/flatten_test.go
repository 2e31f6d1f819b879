package graph_test

import (
	"testing"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// The recursive account ↔ contact graph costs one statement per relation
// level plus a constant, whatever the page size.
func TestRecursiveGraphCostsOneStatementPerLevel(t *testing.T) {
	const q = `query($n: Int) { accounts(first: $n) { edges { node {
		name contacts { firstName accounts { name contacts { lastName accounts { name } } } }
	} } } }`
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// A budget above the default: first: 100 explores a million leaves.
		s := start(t, db, graph.Config{Limits: graph.Limits{MaxComplexity: 2_000_000}})
		base := baseline(t, s, admin)
		var counts []int64
		for _, n := range []int{1, 10, 100} {
			r := query(t, s, admin, q, map[string]any{"n": n})
			var data struct {
				Accounts struct {
					Edges []struct{ Node struct{ Contacts []any } }
				}
			}
			r.into(t, &data)
			if len(data.Accounts.Edges) == 0 || len(data.Accounts.Edges[0].Node.Contacts) == 0 {
				t.Fatalf("n=%d: no accounts with contacts: %s", n, r.Data)
			}
			counts = append(counts, r.Statements-base)
		}
		// accounts, contacts, accounts, contacts, accounts: five levels.
		for i, n := range []int{1, 10, 100} {
			if counts[i] != 5 {
				t.Errorf("first: %d cost %d statements beyond authentication, want 5 (one per level); all: %v", n, counts[i], counts)
			}
		}
	})
}

// A lead screen: lead → contact, account, stage, assignees, tasks →
// assignee (a user or a group, through a dataloader), audit users.
func TestLeadScreenCostsOneStatementPerRelation(t *testing.T) {
	const q = `query($n: Int) { leads(first: $n) { totalCount edges { node {
		subject
		contact { firstName lastName }
		account { name }
		stage { name }
		assignees { displayName }
		createdBy { displayName }
		tasks { title assignee { displayName isGroup ... on User { email } } }
		appointments { title assignee { displayName } }
	} } } }`
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		base := baseline(t, s, admin)
		var counts []int64
		for _, n := range []int{1, 10, 30} {
			r := query(t, s, admin, q, map[string]any{"n": n})
			var data struct {
				Leads struct {
					Edges []struct {
						Node struct {
							Tasks []struct{ Assignee *struct{ DisplayName string } }
						}
					}
				}
			}
			r.into(t, &data)
			if len(data.Leads.Edges) != n {
				t.Fatalf("first: %d returned %d leads", n, len(data.Leads.Edges))
			}
			counts = append(counts, r.Statements-base)
		}
		// count, leads (with contact, account, stage and createdBy joined:
		// TestLeadScreenJoinsItsToOneRelations), assignees, tasks,
		// appointments, task assignee users and groups, appointment
		// assignee users: 8, whatever the page size. A small
		// page may cost less: a loader with no key to load runs no query
		// (e.g. when no task of the page is assigned to a group). The four
		// dataloader batches collect their keys for a few milliseconds; on a
		// starved CPU a late key may cost one more statement each, never one
		// per lead, so the bound allows for that (N+1 would cost 30 more).
		const bound = 8 + 4
		for i, n := range []int{1, 10, 30} {
			if counts[i] > bound {
				t.Errorf("first: %d cost %d statements, want at most %d; all: %v", n, counts[i], bound, counts)
			}
		}
		t.Logf("lead screen: %v statements beyond authentication (first: 1, 10, 30)", counts)
	})
}
