package crm_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"entgo.io/ent/dialect"
	"modernc.org/sqlite"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// What a concurrent writer can meet on SQLite, with real locks: the
// gateway's transactions begin IMMEDIATE (the write lock up front, waiting
// up to busy_timeout, 10 s, for it), so they never upgrade a read to a
// write; past the timeout — here a connection without one, beside a
// transaction of the gateway — it is SQLITE_BUSY, a transient conflict:
// inTx runs the transaction again while the request lasts, and then it is
// Busy (503), not a 500.
func TestSQLiteBusyIsATransientConflict(t *testing.T) {
	db := storetest.Open(t, dialect.SQLite)
	ctx := context.Background()
	file := storetest.DBURL(t, db)
	open := func(params string) *sql.DB {
		d, err := sql.Open("sqlite", "file:"+file+"?"+params)
		if err != nil {
			t.Fatal(err)
		}
		d.SetMaxOpenConns(1)
		t.Cleanup(func() { d.Close() })
		return d
	}
	check := func(what string, err error, code int) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		if !store.IsTransientConflict(err) {
			t.Errorf("%s: %v is not a transient conflict", what, err)
		}
		if e := crm.AsError(err); e.Code != fault.Busy {
			t.Errorf("%s: mapped to %s, want %s", what, e.Code, fault.Busy)
		}
		if se := (*sqlite.Error)(nil); !errors.As(err, &se) || se.Code() != code {
			t.Errorf("%s: %v, want SQLite code %d", what, err, code)
		}
	}

	// The gateway holds the write lock; a writer that does not wait.
	held, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Rollback()
	_, err = open("_pragma=busy_timeout(0)&_txlock=immediate").BeginTx(ctx, nil)
	check("an immediate transaction without busy timeout", err, 5) // SQLITE_BUSY
}
