package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// statement_timeout bounds a PostgreSQL statement whose context is never
// canceled (the backstop of the request deadline).
func TestStatementTimeoutBackstop(t *testing.T) {
	url := store.WithStatementTimeout(storetest.URL(t, dialect.Postgres), 200*time.Millisecond)
	if !strings.Contains(url, "statement_timeout=200") {
		t.Fatalf("url %s", url)
	}
	if u := store.WithStatementTimeout("postgres://h/db?statement_timeout=5", time.Second); !strings.Contains(u, "statement_timeout=5") || strings.Contains(u, "1000") {
		t.Errorf("an explicit statement_timeout was replaced: %s", u)
	}
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	_, err = db.SQL.ExecContext(context.Background(), "SELECT pg_sleep(5)")
	if !store.IsStatementTimeout(err) || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %s", err, time.Since(start))
	}
}

// SQLite refuses text PostgreSQL cannot store, so both answer alike.
func TestSQLiteRefusesUnstorableText(t *testing.T) {
	db := storetest.Open(t, dialect.SQLite)
	for _, bad := range []string{"a\x00b", "\xff\xfe"} {
		err := db.Tenant.Update().SetName(bad).Exec(context.Background())
		if !errors.Is(err, store.ErrUnstorableText) || !store.IsUnstorableText(err) {
			t.Errorf("%q: %v", bad, err)
		}
		// Hand-written SQL goes through the same check.
		if _, err := db.QueryContext(context.Background(), "SELECT ?", bad); !errors.Is(err, store.ErrUnstorableText) {
			t.Errorf("QueryContext %q: %v", bad, err)
		}
	}
}
