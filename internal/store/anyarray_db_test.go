package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// On PostgreSQL an id list is one array parameter: lists of any length are
// one prepared statement, and answer what the IN list answers (read in a
// transaction, which is not rewritten). SQLite keeps its IN lists.
func TestIDListsAreOneArrayParameterOnPostgres(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := tenancy.Bypass(context.Background())
		all, err := db.Client.Account.Query().Order(account.ByID()).IDs(ctx)
		if err != nil || len(all) < 7 {
			t.Fatalf("accounts: %d, %v", len(all), err)
		}
		contactsOf := func(c *ent.Client, ids []uuid.UUID) map[uuid.UUID][]uuid.UUID {
			t.Helper()
			accs, err := c.Account.Query().Where(account.IDIn(ids...), account.NameNEQ("")).
				WithContacts().Order(account.ByID()).All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out := map[uuid.UUID][]uuid.UUID{}
			for _, a := range accs {
				for _, c := range a.Edges.Contacts {
					out[a.ID] = append(out[a.ID], c.ID)
				}
				slices.SortFunc(out[a.ID], func(x, y uuid.UUID) int { return strings.Compare(x.String(), y.String()) })
				if out[a.ID] == nil {
					out[a.ID] = []uuid.UUID{}
				}
			}
			return out
		}
		for _, n := range []int{1, 3, 7} {
			got := contactsOf(db.Client, all[:n])
			tx, err := db.Client.Tx(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := contactsOf(tx.Client(), all[:n])
			_ = tx.Rollback()
			if len(got) != n || !equal(got, want) {
				t.Errorf("%d ids: %v, in a transaction %v", n, got, want)
			}
		}
		var lists, arrays int
		for _, q := range store.PreparedTexts(db) {
			if !strings.Contains(q, `"accounts"`) && !strings.Contains(q, `"account_contacts"`) {
				continue
			}
			if strings.Contains(q, " IN ($") {
				lists++
			}
			if strings.Contains(q, "= ANY($") {
				arrays++
			}
		}
		if db.Dialect == dialect.Postgres && (lists != 0 || arrays != 2) {
			t.Errorf("PostgreSQL prepared %d texts with IN lists and %d with arrays, want 0 and 2 (accounts, their contacts) for three list lengths", lists, arrays)
		}
		if db.Dialect == dialect.SQLite && arrays != 0 {
			t.Errorf("SQLite prepared %d texts with arrays", arrays)
		}
	})
}

func equal(a, b map[uuid.UUID][]uuid.UUID) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
