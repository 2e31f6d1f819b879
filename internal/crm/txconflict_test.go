package crm_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"
	"modernc.org/sqlite"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
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

// inTx's rerun rule, with the conflict reported by the transaction's own
// function (as the driver reports a deadlock): the whole function runs
// again, its rows and AfterCommit functions only from the attempt that
// commits; a conflict that outlasts the retries is Busy; and once the
// request's context has ended nothing is run again.
func TestTransientConflictsRunTheTransactionAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		sys := tenancy.Bypass(context.Background())
		deadlock := &pq.Error{Code: "40P01", Message: "deadlock detected"}
		tid := storetest.TenantID(t, db, "demo-motors.test")
		name := func(attempt int) string { return fmt.Sprintf("Retried %d", attempt) }
		run := func(ctx context.Context, conflicts int, onConflict func()) (attempts, committed int, err error) {
			err = svc.InTx(ctx, func(bound *crm.Service, tx *ent.Client, _ *sql.Tx) error {
				attempts++
				if _, err := tx.Account.Create().SetTenantID(tid).SetName(name(attempts)).Save(ctx); err != nil {
					return err
				}
				bound.AfterCommit(tx, func() { committed++ })
				if attempts <= conflicts {
					if onConflict != nil {
						onConflict()
					}
					return deadlock
				}
				return nil
			})
			return attempts, committed, err
		}
		written := func() []string {
			var out []string
			for _, a := range db.Account.Query().Where(account.NameHasPrefix("Retried ")).AllX(sys) {
				out = append(out, a.Name)
			}
			db.Account.Delete().Where(account.NameHasPrefix("Retried ")).ExecX(sys)
			return out
		}

		attempts, committed, err := run(sys, 2, nil)
		if err != nil || attempts != 3 || committed != 1 {
			t.Fatalf("two conflicts: err %v, %d attempts, AfterCommit ran %d times; want nil, 3, 1", err, attempts, committed)
		}
		if got := written(); len(got) != 1 || got[0] != name(3) {
			t.Errorf("two conflicts: written %v, want only the third attempt's", got)
		}

		attempts, committed, err = run(sys, 100, nil)
		if e := crm.AsError(err); e.Code != fault.Busy || attempts != crm.DefaultTxRetries+1 || committed != 0 {
			t.Fatalf("a lasting conflict: %v (%s), %d attempts, AfterCommit %d; want busy after %d, none",
				err, e.Code, attempts, committed, crm.DefaultTxRetries+1)
		}
		if got := written(); len(got) != 0 {
			t.Errorf("a lasting conflict: written %v, want nothing", got)
		}

		ctx, cancel := context.WithCancel(sys)
		attempts, committed, err = run(ctx, 100, cancel) // the request ends during the first attempt
		if e := crm.AsError(err); e.Code != fault.Busy || attempts != 1 || committed != 0 {
			t.Fatalf("the request ended: %v (%s), %d attempts, AfterCommit %d; want busy after 1, none", err, e.Code, attempts, committed)
		}
		if got := written(); len(got) != 0 {
			t.Errorf("the request ended: written %v, want nothing", got)
		}
	})
}
