package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Routine writes never end the cached viewers: a lead created with a
// round-robin assignment takes its group's turn in a table of its own
// (round_robin_cursors), not in security_groups, so on a busy tenant the
// viewer cache stays warm while leads are created — on this instance (the
// generation does not move) and on the others (no notification is sent).
func TestRoundRobinLeadsKeepTheCachedViewers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		notified := authNotifications(t, db)
		for _, a := range []actor{f.manager, f.user} {
			authStatements(t, g, a)
			if n := authStatements(t, g, a); n != 0 {
				t.Fatalf("%s warm: %d statements, want 0", a.name, n)
			}
		}
		moves := db.AuthWatch().Moves()
		ref := func(id any) map[string]any { return map[string]any{"id": id} }
		assignees := map[string]int{}
		for i := range 3 {
			res := g.do(f.manager, http.MethodPost, "/api/lead", map[string]any{"subject": f.name("Round robin REST"),
				"department": ref(f.department), "franchise": ref(f.franchise), "contact": ref(f.contact), "source": ref(f.source)})
			var l struct {
				Assignees []struct{ ID string } `json:"assignees"`
			}
			if res.Status != http.StatusOK || json.Unmarshal(res.Body, &l) != nil || len(l.Assignees) != 1 {
				t.Fatalf("REST lead %d: %d %s", i, res.Status, res.Body)
			}
			assignees[l.Assignees[0].ID]++
			res, out := g.graphql(f.manager, `mutation($in: LeadInput!) { createLead(input: $in) { id assignees { id } } }`,
				map[string]any{"in": map[string]any{"subject": f.name("Round robin GraphQL"), "departmentID": f.department,
					"franchiseID": f.franchise, "contactID": f.contact, "sourceID": f.source}})
			var created struct {
				Assignees []struct{ ID string }
			}
			if res.Status != http.StatusOK || len(out.Errors) > 0 || json.Unmarshal(out.Data["createLead"], &created) != nil || len(created.Assignees) != 1 {
				t.Fatalf("GraphQL lead %d: %d %s", i, res.Status, res.Body)
			}
			assignees[created.Assignees[0].ID]++
			for _, a := range []actor{f.manager, f.user} {
				if n := authStatements(t, g, a); n != 0 {
					t.Errorf("after round-robin lead %d, %s: %d auth statements, want 0", i, a.name, n)
				}
			}
		}
		// Six turns over the group's three members: two each.
		if len(assignees) != 3 {
			t.Errorf("round robin served %v, want 3 members twice each", assignees)
		}
		for id, n := range assignees {
			if n != 2 {
				t.Errorf("member %s got %d leads, want 2", id, n)
			}
		}
		if now := db.AuthWatch().Moves(); now != moves {
			t.Errorf("the viewer generation moved %d times", now-moves)
		}
		if n := notified(); n != 0 {
			t.Errorf("%d notifications of a viewer change were sent", n)
		}
		// The control: a change of a viewer's facts still ends them.
		f.newUser("newcomer", "USER")
		if n := authStatements(t, g, f.user); n != 1 {
			t.Errorf("after a user write: %d statements, want 1", n)
		}
		if n := notified(); db.Dialect == dialect.Postgres && n == 0 {
			t.Error("a user write sent no notification")
		}
	})
}

// authNotifications listens to the viewer tables' notifications (on
// PostgreSQL; on SQLite it always answers 0) and returns how many arrived
// since the last call. It is exact: a sentinel notification, sent from
// another connection after everything before the call committed, arrives
// after them (PostgreSQL delivers in commit order).
func authNotifications(t *testing.T, db *store.DB) func() int {
	t.Helper()
	if db.Dialect != dialect.Postgres {
		return func() int { return 0 }
	}
	l := pq.NewListener(storetest.DBURL(t, db), 10*time.Millisecond, time.Second, nil)
	t.Cleanup(func() { _ = l.Close() })
	if err := l.Listen(store.AuthChannel); err != nil {
		t.Fatal(err)
	}
	return func() int {
		t.Helper()
		if _, err := db.SQL.ExecContext(context.Background(), `SELECT pg_notify($1, 'sentinel')`, store.AuthChannel); err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			select {
			case e := <-l.Notify:
				if e == nil {
					t.Fatal("the test's listener reconnected: notifications may be lost")
				}
				if e.Extra == "sentinel" {
					return n
				}
				n++
			case <-time.After(5 * time.Second):
				t.Fatal("the sentinel notification never arrived")
			}
		}
	}
}
