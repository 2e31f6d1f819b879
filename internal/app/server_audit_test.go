package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// The audit users (createdBy, modifiedBy, deletedBy) are ent edges on the
// stamped columns: they name the writers, are eager-loaded in lists (one
// statement per level, not per row) and go through User's read policy, so a
// user of another tenant or a deleted user is never shown — the field is
// null, as for an unknown id — and a viewer without user.read gets null with
// FORBIDDEN (the read-policy matrix checks that on every type).
func TestAuditUsersAreEdgesInTheViewersTenant(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		demo, g := fx.demo, startGateway(t, db)
		gql := func(a actor, q string, vars map[string]any) map[string]json.RawMessage {
			t.Helper()
			res, out := g.graphql(a, q, vars)
			if res.Status != http.StatusOK || len(out.Errors) > 0 {
				t.Fatalf("as %s: %s → %d %s", a.name, q, res.Status, res.Body)
			}
			return out.Data
		}
		type who struct{ ID uuid.UUID }
		type audited struct {
			ID                               uuid.UUID
			CreatedBy, ModifiedBy, DeletedBy *who
		}
		id := func(w *who) string {
			if w == nil {
				return "null"
			}
			return w.ID.String()
		}
		const fields = `id createdBy { id } modifiedBy { id } deletedBy { id }`

		// The writers, through the mutations' answers (read in their
		// transactions, resolved as the viewer).
		var created struct{ CreateAccount audited }
		data := gql(demo.manager, `mutation { createAccount(input: {name: "Audit probe"}) { `+fields+` } }`, nil)
		if err := json.Unmarshal(mustJSON(t, data), &created); err != nil {
			t.Fatal(err)
		}
		acc := created.CreateAccount
		if id(acc.CreatedBy) != demo.manager.id.String() || acc.ModifiedBy != nil || acc.DeletedBy != nil {
			t.Errorf("created by the manager: createdBy %s, modifiedBy %s, deletedBy %s", id(acc.CreatedBy), id(acc.ModifiedBy), id(acc.DeletedBy))
		}
		var updated struct{ UpdateAccount audited }
		data = gql(demo.admin, `mutation($id: ID!) { updateAccount(id: $id, input: {name: "Audit probe 2"}) { `+fields+` } }`,
			map[string]any{"id": acc.ID})
		if err := json.Unmarshal(mustJSON(t, data), &updated); err != nil {
			t.Fatal(err)
		}
		if u := updated.UpdateAccount; id(u.CreatedBy) != demo.manager.id.String() || id(u.ModifiedBy) != demo.admin.id.String() {
			t.Errorf("updated by the admin: createdBy %s, modifiedBy %s", id(u.CreatedBy), id(u.ModifiedBy))
		}

		// In a list (eager-loaded) and through node: the same users.
		list := func(n int) (map[uuid.UUID]audited, int64) {
			t.Helper()
			before := db.Counter.Total()
			data := gql(demo.admin, fmt.Sprintf(`{ accounts(first: %d, orderBy: {field: NAME}) { edges { node { %s } } } }`, n, fields), nil)
			stmts := db.Counter.Total() - before
			var out struct {
				Accounts struct{ Edges []struct{ Node audited } }
			}
			if err := json.Unmarshal(mustJSON(t, data), &out); err != nil {
				t.Fatal(err)
			}
			rows := map[uuid.UUID]audited{}
			for _, e := range out.Accounts.Edges {
				rows[e.Node.ID] = e.Node
			}
			return rows, stmts
		}
		rows, _ := list(100)
		if r, ok := rows[acc.ID]; !ok || id(r.CreatedBy) != demo.manager.id.String() || id(r.ModifiedBy) != demo.admin.id.String() {
			t.Errorf("the list shows the account as %+v (found %v)", r, ok)
		}
		// Three audit edges are three statements, for 1 row as for 100
		// (a per-row load would cost up to 300).
		_, one := list(1)
		_, many := list(100)
		t.Logf("accounts with createdBy, modifiedBy, deletedBy: %d statements for 1 row, %d for 100", one, many)
		if one != many {
			t.Errorf("accounts with their audit users: %d statements for 1, %d for 100; want the same", one, many)
		}

		// A lead's lifecycle users are edges too: eager-loaded, a statement
		// per field for any page.
		leads := func(n int) int64 {
			t.Helper()
			before := db.Counter.Total()
			gql(demo.admin, fmt.Sprintf(`{ leads(first: %d) { edges { node { firstModifiedBy { id } connectionClosedBy { id } lostBy { id } firstOpenBy { id } soldBy { id } } } } }`, n), nil)
			return db.Counter.Total() - before
		}
		if one, many := leads(1), leads(100); many > 7 || one > many {
			t.Errorf("leads with their lifecycle users: %d statements for 1, %d for 100; want at most 7 (auth, leads, 5 user loads)", one, many)
		}

		// Users a dataloader resolves (a task's assignee) eager-load their
		// audit users with them: the loader collects the field's selection.
		tasks := func(n int) int64 {
			t.Helper()
			before := db.Counter.Total()
			gql(demo.admin, fmt.Sprintf(`{ tasks(first: %d) { edges { node { assignee { ... on User { createdBy { id } modifiedBy { id } } } } } } }`, n), nil)
			return db.Counter.Total() - before
		}
		// (The seed writes users under tenancy.Bypass, without audit users.)
		execSQL(t, db, "UPDATE users SET created_by_id = $1, modified_by_id = $1 WHERE tenant_id = $2", demo.admin.id, demo.id)
		// Authentication, tasks, assignee users, groups, the users'
		// createdBy and modifiedBy: 6. On a starved CPU a key may reach a
		// loader late: one more user batch with its two edges (3), or one
		// more group batch; one statement per row would be about 100 more.
		tasks(100)
		n := tasks(100)
		t.Logf("100 tasks' assignees with createdBy, modifiedBy: %d statements", n)
		if n > 6+2*3 {
			t.Errorf("100 tasks' assignees with their audit users cost %d statements, want at most 12", n)
		}

		// Another tenant's user in the column (no write path puts one there:
		// the hooks stamp the viewer) is not loaded, eagerly or not: null, as
		// for an unknown user; so is a deleted user.
		foreignUser := fx.other.admin.id
		deletedUser := demo.newUser("audit-deleted", "USER")
		execSQL(t, db, "UPDATE accounts SET created_by_id = $1, modified_by_id = $2 WHERE id = $3", foreignUser, deletedUser, acc.ID)
		execSQL(t, db, "UPDATE users SET is_deleted = $1 WHERE id = $2", true, deletedUser)
		rows, _ = list(100)
		if r := rows[acc.ID]; r.CreatedBy != nil || r.ModifiedBy != nil {
			t.Errorf("the list shows createdBy %s (another tenant's), modifiedBy %s (deleted); want null", id(r.CreatedBy), id(r.ModifiedBy))
		}
		var node struct{ Node audited }
		data = gql(demo.admin, `query($id: ID!) { node(id: $id) { ... on Account { `+fields+` } } }`, map[string]any{"id": acc.ID})
		if err := json.Unmarshal(mustJSON(t, data), &node); err != nil {
			t.Fatal(err)
		}
		if node.Node.CreatedBy != nil || node.Node.ModifiedBy != nil {
			t.Errorf("node shows createdBy %s, modifiedBy %s; want null", id(node.Node.CreatedBy), id(node.Node.ModifiedBy))
		}
		// A mutation's answer resolves them one by one (not eager-loaded).
		data = gql(demo.admin, `mutation($id: ID!) { updateAccount(id: $id, input: {name: "Audit probe 3"}) { `+fields+` } }`,
			map[string]any{"id": acc.ID})
		updated = struct{ UpdateAccount audited }{}
		if err := json.Unmarshal(mustJSON(t, data), &updated); err != nil {
			t.Fatal(err)
		}
		if u := updated.UpdateAccount; u.CreatedBy != nil || id(u.ModifiedBy) != demo.admin.id.String() {
			t.Errorf("the answer shows createdBy %s (another tenant's), modifiedBy %s; want null and the admin", id(u.CreatedBy), id(u.ModifiedBy))
		}
		res, _ := g.graphql(demo.admin, `{ users(first: 500) { edges { node { id createdBy { id } } } } }`, nil)
		if strings.Contains(string(res.Body), foreignUser.String()) {
			t.Errorf("the users list shows the other tenant's user %s", foreignUser)
		}

		// A note's creator is its author; its editor the last writer.
		var note struct {
			UpdateNote *struct{ Author, CreatedBy, ModifiedBy *who }
		}
		data = gql(demo.user, `mutation($lead: ID!) { createNote(input: {leadID: $lead, text: "Called back"}) { id } }`,
			map[string]any{"lead": demo.lead})
		var noteID struct{ CreateNote struct{ ID uuid.UUID } }
		if err := json.Unmarshal(mustJSON(t, data), &noteID); err != nil {
			t.Fatal(err)
		}
		data = gql(demo.manager, `mutation($id: ID!) { updateNote(id: $id, text: "Called back twice") { author { id } createdBy { id } modifiedBy { id } } }`,
			map[string]any{"id": noteID.CreateNote.ID})
		if err := json.Unmarshal(mustJSON(t, data), &note); err != nil {
			t.Fatal(err)
		}
		if n := note.UpdateNote; n == nil || id(n.Author) != demo.user.id.String() || id(n.CreatedBy) != demo.user.id.String() ||
			id(n.ModifiedBy) != demo.manager.id.String() {
			t.Errorf("note written by the user, edited by the manager: %s", mustJSON(t, data))
		}
	})
}

func execSQL(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.SQL.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}
