package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"runtime"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// slowRead counts to a billion: seconds of SQLite's work, a SELECT (the
// statement cache's kind of read).
const slowRead = `SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT x FROM c)`

// interruptAllLater interrupts every watched SQLite connection after d, so
// a failing test fails in seconds, not after the billion steps.
func interruptAllLater(t *testing.T, d time.Duration) {
	stop := time.AfterFunc(d, func() {
		tls := libc.NewTLS()
		defer tls.Close()
		sqliteWatches.Range(func(db, _ any) bool {
			sqlite3.Xsqlite3_interrupt(tls, db.(uintptr))
			return true
		})
	})
	t.Cleanup(func() { stop.Stop() })
}

func openSQLite(t *testing.T) *DB {
	t.Helper()
	o := DefaultOptions()
	o.MaxOpenConns = 1 // one connection: the read after an interrupted one uses the same pool slot
	db, err := OpenWith(context.Background(), t.TempDir()+"/i.db", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// withDriverConn runs f on the pool's driver connection.
func withDriverConn(t *testing.T, db *DB, f func(c *conn)) {
	t.Helper()
	sc, err := db.SQL.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if err := sc.Raw(func(dc any) error { f(dc.(*conn)); return nil }); err != nil {
		t.Fatal(err)
	}
}

// Every SQLite connection gets its watch: a modernc.org/sqlite upgrade
// that hides the connection's handle fails here rather than quietly
// bringing back the driver's goroutine per read.
func TestSQLiteReadsAreWatchedWithoutAGoroutine(t *testing.T) {
	db := openSQLite(t)
	withDriverConn(t, db, func(c *conn) {
		if c.sw == nil {
			t.Fatal("the SQLite connection has no watch: its handle was not found (modernc.org/sqlite changed?)")
		}
	})
}

// A deadline interrupts a slow read of the statement cache — ent's path
// and hand-written SQL's —, reports itself, and leaves the pool usable.
func TestSQLiteDeadlineInterruptsASlowRead(t *testing.T) {
	db := openSQLite(t)
	interruptAllLater(t, 5*time.Second)
	reads := map[string]func(ctx context.Context) (interface {
		Next() bool
		Err() error
		Close() error
	}, error){
		"ent": func(ctx context.Context) (interface {
			Next() bool
			Err() error
			Close() error
		}, error) {
			rows := &entsql.Rows{}
			return rows, db.prepared.query(ctx, slowRead, []any{}, rows)
		},
		"hand-written": func(ctx context.Context) (interface {
			Next() bool
			Err() error
			Close() error
		}, error) {
			return db.prepared.QueryContext(ctx, slowRead)
		},
	}
	for name, read := range reads {
		for _, d := range []time.Duration{0, 200 * time.Millisecond} { // before the statement starts, and during it
			ctx, cancel := context.WithTimeout(context.Background(), d)
			start := time.Now()
			rows, err := read(ctx)
			if err == nil {
				for rows.Next() {
				}
				err = rows.Err()
				rows.Close()
			}
			cancel()
			if el := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || el > d+time.Second {
				t.Fatalf("%s, deadline %s: err = %v after %s, want context.DeadlineExceeded at once", name, d, err, el)
			}
			var n int
			if err := db.SQL.QueryRowContext(context.Background(), "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
				t.Fatalf("%s: the read after the interrupted one: %v", name, err)
			}
		}
	}
}

// ent's reads on SQLite cost no goroutine (neither the driver's nor
// database/sql's) while their rows are open, and a read waiting for a
// connection of the pool still gives up at its deadline.
func TestSQLiteReadsRunWithoutAGoroutine(t *testing.T) {
	db := openSQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const q = "SELECT name FROM sqlite_master"
	read := func() *entsql.Rows {
		rows := &entsql.Rows{}
		if err := db.prepared.query(ctx, q, []any{}, rows); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	read().Close() // the connection and the statement
	for range 3 {
		before := runtime.NumGoroutine()
		rows := read()
		during := runtime.NumGoroutine()
		rows.Close()
		if during != before {
			t.Fatalf("%d goroutines while a read's rows are open, %d before", during, before)
		}
	}

	// The pool's one connection held: the read waits, until its deadline.
	held, err := db.SQL.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer wcancel()
	start := time.Now()
	err = db.prepared.query(wctx, q, []any{}, &entsql.Rows{})
	if el := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || el > time.Second {
		t.Fatalf("a read waiting for the pool: err = %v after %s, want context.DeadlineExceeded", err, el)
	}
}

// An end of the context that comes before SQLite starts the statement
// (which would clear a plain sqlite3_interrupt) still stops it: the
// progress handler reports the watch's flag.
func TestSQLiteWatchStopsAStatementStartedAfterTheEnd(t *testing.T) {
	db := openSQLite(t)
	interruptAllLater(t, 3*time.Second)
	withDriverConn(t, db, func(c *conn) {
		ctx, cancel := context.WithCancel(context.Background())
		if err := c.sw.watch(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		for c.sw.ctl.Load() == 0 { // the AfterFunc runs in a goroutine of its own
			time.Sleep(time.Millisecond)
		}
		s, err := c.PrepareContext(context.Background(), slowRead)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		start := time.Now()
		r, err := s.(driver.StmtQueryContext).QueryContext(context.Background(), nil)
		if err == nil {
			r.Close()
		}
		c.sw.unwatch()
		if el := time.Since(start); err == nil || el > time.Second {
			t.Fatalf("statement started after the context ended: err = %v after %s, want an interrupt at once", err, el)
		}
		// Unwatched, the flag is down: the next statement runs.
		s2, err := c.PrepareContext(context.Background(), "SELECT 1")
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		r2, err := s2.(driver.StmtQueryContext).QueryContext(context.Background(), nil)
		if err != nil {
			t.Fatalf("the statement after the interrupted one: %v", err)
		}
		r2.Close()
	})
}
