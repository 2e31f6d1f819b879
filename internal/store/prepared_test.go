package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/conecrm/gateway/internal/tenancy"
)

// Reads outside transactions run as prepared statements kept per query
// text, counted like any other; the set stays bounded.
func TestReadsArePreparedOncePerTextAndBounded(t *testing.T) {
	ctx := tenancy.Bypass(context.Background())
	db, err := Open(ctx, t.TempDir()+"/p.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	before, kept := db.Counter.Total(), len(db.prepared.stmts)
	for range 5 {
		if _, err := db.Tenant.Query().Count(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := db.Counter.Total() - before; n != 5 {
		t.Errorf("5 queries counted as %d", n)
	}
	if n := len(db.prepared.stmts) - kept; n != 1 {
		t.Errorf("%d statements prepared for one query text", n)
	}
	for i := range DefaultStatementCache + 10 {
		rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT %d", i))
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	if n := len(db.prepared.stmts); n > DefaultStatementCache {
		t.Errorf("%d statements kept, bound %d", n, DefaultStatementCache)
	}
	// A transaction's statements are not prepared through the pool.
	tx, err := db.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Tenant.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}
