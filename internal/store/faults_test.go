package store_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/faultnet"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// throughProxy opens an empty PostgreSQL database through a fault proxy.
func throughProxy(t *testing.T, o store.Options) (*store.DB, *faultnet.Proxy) {
	t.Helper()
	u, err := url.Parse(storetest.URL(t, dialect.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultnet.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	u.Host = p.Addr()
	db, err := store.OpenWith(context.Background(), u.String(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, p
}

func ping(db *store.DB, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var one int
	return db.SQL.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// A frozen server (SIGSTOP, silent partition) must not hold a statement
// past its context's deadline, nor the readiness check past 2 s.
func TestFrozenDatabaseFailsWithinTheDeadline(t *testing.T) {
	db, p := throughProxy(t, store.DefaultOptions())
	if err := ping(db, time.Second); err != nil {
		t.Fatal(err)
	}
	// A statement prepared before the freeze runs on an already prepared
	// connection: its context must govern the socket too.
	st, err := db.SQL.Prepare("SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p.Set(faultnet.Frozen)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	var one int
	if err := st.QueryRowContext(ctx).Scan(&one); err == nil || time.Since(start) > 800*time.Millisecond {
		t.Errorf("prepared statement on a frozen server: err=%v after %s", err, time.Since(start))
	}
	cancel()
	var wg sync.WaitGroup
	for range 5 { // pooled and new connections alike
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := ping(db, 300*time.Millisecond)
			if el := time.Since(start); err == nil || el > 800*time.Millisecond {
				t.Errorf("statement on a frozen server: err=%v after %s, want an error within ~300ms", err, el)
			}
		}()
	}
	wg.Wait()
	start = time.Now()
	if err := db.Ready(context.Background()); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("Ready on a frozen server: err=%v after %s", err, time.Since(start))
	}
	p.Set(faultnet.Up)
	waitUp(t, db)
}

// During an outage connection attempts are spaced by the backoff, not made
// once per request; recovery is noticed within a second.
func TestOutageCostsBoundedConnectionAttempts(t *testing.T) {
	db, p := throughProxy(t, store.DefaultOptions())
	if err := ping(db, time.Second); err != nil {
		t.Fatal(err)
	}
	p.Set(faultnet.Down)
	before := p.Accepted.Load()
	const outage = 2 * time.Second
	deadline := time.Now().Add(outage)
	var wg sync.WaitGroup
	var mu sync.Mutex
	requests := 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				_ = ping(db, 200*time.Millisecond)
				mu.Lock()
				requests++
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	attempts := p.Accepted.Load() - before
	ga, gf := db.ConnectAttempts()
	t.Logf("outage of %s: %d requests, %d connections accepted, gate: %d attempts %d failures", outage, requests, attempts, ga, gf)
	// The first failures race: up to one attempt per concurrent caller
	// (20); then 50 ms doubling to 500 ms: 4 + 2 per further second.
	if bound := int64(20 + 4 + 2*outage/time.Second); attempts > bound || requests < 200 {
		t.Fatalf("%d connection attempts for %d requests in %s", attempts, requests, outage)
	}
	p.Set(faultnet.Up)
	waitUp(t, db)
}

// waitUp asserts that the database is usable again within a second.
func waitUp(t *testing.T, db *store.DB) {
	t.Helper()
	start := time.Now()
	for ping(db, 300*time.Millisecond) != nil {
		if time.Since(start) > time.Second {
			t.Fatalf("database still failing %s after recovery", time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("first success %s after recovery", time.Since(start).Round(time.Millisecond))
}

// A gateway started before its database waits for it.
func TestOpenWaitWaitsForTheDatabase(t *testing.T) {
	u, err := url.Parse(storetest.URL(t, dialect.Postgres))
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultnet.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Set(faultnet.Down)
	u.Host = p.Addr()
	time.AfterFunc(700*time.Millisecond, func() { p.Set(faultnet.Up) })
	o := store.DefaultOptions()
	o.StartupWait = 10 * time.Second
	start := time.Now()
	db, err := store.OpenWait(context.Background(), u.String(), o, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("OpenWait: %v", err)
	}
	db.Close()
	if el := time.Since(start); el < 700*time.Millisecond || el > 3*time.Second {
		t.Fatalf("OpenWait returned after %s", el)
	}
	// And gives up after the configured wait.
	p.Set(faultnet.Down)
	o.StartupWait = 500 * time.Millisecond
	start = time.Now()
	if _, err := store.OpenWait(context.Background(), u.String(), o, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Fatal("OpenWait succeeded against a database that is down")
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("OpenWait gave up after %s, want about 500ms", el)
	}
}

// A statement ended by its deadline reports the deadline.
func TestDeadlineIsReported(t *testing.T) {
	db, p := throughProxy(t, store.DefaultOptions())
	if err := ping(db, time.Second); err != nil {
		t.Fatal(err)
	}
	p.Set(faultnet.Frozen)
	defer p.Set(faultnet.Up)
	if err := ping(db, 200*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

// SQLite is ready only while its file and directory take writes; it is
// ready again, without a restart, once they do.
func TestSQLiteReadinessFollowsTheFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	db, err := store.Open(context.Background(), filepath.Join(dir, "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ready(context.Background()); err != nil {
		t.Fatalf("fresh database not ready: %v", err)
	}
	moved := dir + "-away"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(context.Background()); err == nil {
		t.Fatal("ready while its file is gone")
	}
	if err := os.Rename(moved, dir); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(context.Background()); err != nil {
		t.Fatalf("not ready again: %v", err)
	}
}
