package store_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// On PostgreSQL ent's reads cost no goroutine of database/sql's while
// their rows are open (the socket's watch interrupts them), and the watch
// ends when the connection returns to the pool — not when the request's
// context ends later, which would start context.AfterFunc's goroutine and
// set a deadline on an idle socket. A deadline still cuts a slow read
// short and leaves the pool usable.
func TestPostgresReadsRunWithoutAGoroutine(t *testing.T) {
	db := storetest.Open(t, dialect.Postgres)
	db.SQL.SetMaxOpenConns(1) // the connection checked is the one read on
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const q = "SELECT id FROM tenants"
	read := func() interface{ Close() error } {
		rows, err := store.CachedRead(ctx, db, q)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	read().Close() // the connection and the statement
	c, err := store.PoolConn(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		time.Sleep(20 * time.Millisecond) // the last read's goroutines, if any, have exited
		before := runtime.NumGoroutine()
		rows := read()
		during := runtime.NumGoroutine()
		rows.Close()
		if during != before {
			t.Fatalf("%d goroutines while a read's rows are open, %d before", during, before)
		}
		watched, ok := store.SocketWatched(c)
		if !ok {
			t.Fatal("the pool's connection has no socket to watch")
		}
		if watched {
			t.Fatal("the socket still watches the read's context after its rows were closed")
		}
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer dcancel()
	start := time.Now()
	rows, err := store.CachedRead(dctx, db, "SELECT pg_sleep(5)")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if el := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || el > 2*time.Second {
		t.Fatalf("a slow read past its deadline: err = %v after %s, want context.DeadlineExceeded at once", err, el)
	}
	read().Close()
}
