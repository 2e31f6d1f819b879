package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/tenant"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// reopen opens db's database a second time with o: one connection, so
// what a test does to "the" connection is what the next read meets.
func reopen(t *testing.T, db *store.DB, o store.Options) *store.DB {
	t.Helper()
	o.MaxOpenConns = 1
	db2, err := store.OpenWith(context.Background(), storetest.DBURL(t, db), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	return db2
}

// names reads the tenants' names, a read kept prepared.
func names(t *testing.T, db *store.DB) []string {
	t.Helper()
	ns, err := db.Tenant.Query().Order(tenant.ByID()).Select(tenant.FieldName).Strings(tenancy.Bypass(context.Background()))
	if err != nil {
		t.Fatalf("read after %d statements prepared: %v", db.Counter.Prepared(), err)
	}
	return ns
}

// A read is prepared once per text and then reused: statements counted,
// preparations not.
func TestStatementCacheReusesAPreparedRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		db2 := reopen(t, db, store.Options{})
		want := names(t, db2)
		total, prepared := db2.Counter.Total(), db2.Counter.Prepared()
		for range 5 {
			if got := names(t, db2); !slices.Equal(got, want) {
				t.Fatalf("%v, first %v", got, want)
			}
		}
		if n := db2.Counter.Total() - total; n != 5 {
			t.Errorf("5 reads counted as %d statements", n)
		}
		if n := db2.Counter.Prepared() - prepared; n != 0 {
			t.Errorf("5 reads of a kept text prepared %d statements", n)
		}
	})
}

// CONECRM_DB_STATEMENT_CACHE=0: nothing is prepared or kept, the reads
// answer the same — on PostgreSQL with id lists still bound as one array.
func TestStatementCacheOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		o, err := store.OptionsFromEnv(func(k string) string {
			if k == "CONECRM_DB_STATEMENT_CACHE" {
				return "0"
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		off := reopen(t, db, o)
		ctx := tenancy.Bypass(context.Background())
		ids, err := db.Account.Query().Order(account.ByID()).Limit(3).IDs(ctx)
		if err != nil || len(ids) != 3 {
			t.Fatalf("accounts: %v %v", ids, err)
		}
		for range 3 {
			if got, want := names(t, off), names(t, db); !slices.Equal(got, want) {
				t.Fatalf("without the cache %v, with it %v", got, want)
			}
			got, err := off.Account.Query().Where(account.IDIn(ids...)).Order(account.ByID()).IDs(ctx)
			if err != nil || !slices.Equal(got, ids) {
				t.Fatalf("id list without the cache: %v %v, want %v", got, err, ids)
			}
		}
		if n := off.Counter.Prepared(); n != 0 || len(store.PreparedTexts(off)) != 0 {
			t.Errorf("statement cache off: %d statements prepared, %d kept", n, len(store.PreparedTexts(off)))
		}
		if _, err := store.OptionsFromEnv(func(k string) string {
			if k == "CONECRM_DB_STATEMENT_CACHE" {
				return "-1"
			}
			return ""
		}); err == nil {
			t.Error("CONECRM_DB_STATEMENT_CACHE=-1 accepted")
		}
	})
}

// A kept statement the server has forgotten (DISCARD ALL, DEALLOCATE: a
// pooler's reset query) is prepared again instead of failing the read.
func TestStatementCacheSurvivesAConnectionReset(t *testing.T) {
	db := storetest.Open(t, dialect.Postgres)
	db2 := reopen(t, db, store.Options{})
	want := names(t, db2)
	prepared := db2.Counter.Prepared()
	for _, reset := range []string{"DEALLOCATE ALL", "DISCARD ALL"} {
		if _, err := db2.SQL.ExecContext(context.Background(), reset); err != nil {
			t.Fatal(err)
		}
		if got := names(t, db2); !slices.Equal(got, want) {
			t.Fatalf("after %s: %v, want %v", reset, got, want)
		}
	}
	if n := db2.Counter.Prepared() - prepared; n != 2 {
		t.Errorf("after two resets the read was prepared %d more times, want 2", n)
	}
}

// A migration that changes what a kept statement returns (a column's type,
// on PostgreSQL "cached plan must not change result type"; a column added,
// on SQLite) does not fail the reads that follow.
func TestStatementCacheSurvivesASchemaChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		db2 := reopen(t, db, store.Options{})
		want := names(t, db2)
		change := `ALTER TABLE tenants ADD COLUMN extra TEXT`
		if db.Dialect == dialect.Postgres {
			change = `ALTER TABLE tenants ALTER COLUMN name TYPE text`
		}
		if _, err := db.SQL.ExecContext(context.Background(), change); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if got := names(t, db2); !slices.Equal(got, want) {
				t.Fatalf("after %q: %v, want %v", change, got, want)
			}
		}
	})
}

// Every PostgreSQL connection of the pool runs with Memoize off
// (sessionSettings), also one opened after the first.
func TestPostgresConnectionsRunWithoutMemoize(t *testing.T) {
	db := storetest.Open(t, dialect.Postgres)
	ctx := context.Background()
	c1, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	c2, err := db.SQL.Conn(ctx) // a second connection, opened now
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	for i, c := range []*sql.Conn{c1, c2} {
		var v string
		if err := c.QueryRowContext(ctx, "SHOW enable_memoize").Scan(&v); err != nil || v != "off" {
			t.Errorf("connection %d: enable_memoize %q, %v", i+1, v, err)
		}
	}
}

// Reads through the statement cache (on PostgreSQL in text form, UUIDs
// parsed in place) answer what the same read answers in a transaction
// (unprepared): ids, nullable references (some NULL), joined relations,
// a many-to-many load.
func TestPreparedReadsScanWhatATransactionScans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := tenancy.Bypass(context.Background())
		read := func(c *ent.Client) []string {
			t.Helper()
			leads, err := c.Lead.Query().WithContact().WithAccount().WithCreatedBy().WithAssignees().Order(lead.ByID()).All(ctx)
			if err != nil || len(leads) == 0 {
				t.Fatalf("%d leads, %v", len(leads), err)
			}
			var out []string
			for _, l := range leads {
				s := fmt.Sprint(l.ID, " ", l.ContactID != nil, " ", l.AccountID != nil, " ", *l.CreatedByID, " ", l.Edges.CreatedBy.ID)
				if l.ContactID != nil {
					s += fmt.Sprint(" ", *l.ContactID, " ", l.Edges.Contact.ID)
				}
				if l.AccountID != nil {
					s += fmt.Sprint(" ", *l.AccountID, " ", l.Edges.Account.ID)
				}
				for _, a := range l.Edges.Assignees {
					s += fmt.Sprint(" ", a.ID)
				}
				out = append(out, s)
			}
			return out
		}
		got := read(db.Client)
		tx, err := db.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if want := read(tx.Client()); !slices.Equal(got, want) {
			t.Errorf("prepared read:\n%v\nin a transaction:\n%v", got, want)
		}
		nulls := 0
		for _, s := range got {
			if strings.Contains(s, " false ") {
				nulls++
			}
		}
		if nulls == 0 {
			t.Error("no lead without a contact or an account: the NULL case is not read")
		}
	})
}
