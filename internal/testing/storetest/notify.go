package storetest

import (
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/conecrm/gateway/internal/store"
)

// AuthPayloads listens on store.AuthChannel of the PostgreSQL database at
// url and returns a function that returns the payloads of the viewer
// tables' notifications sent since its last call, sorted. A sentinel of
// its own, sent after everything before the call committed, marks the end
// (PostgreSQL delivers in commit order).
func AuthPayloads(t *testing.T, url string) func() []string {
	t.Helper()
	l := pq.NewListener(url, 10*time.Millisecond, time.Second, nil)
	t.Cleanup(func() { _ = l.Close() })
	if err := l.Listen(store.AuthChannel); err != nil {
		t.Fatal(err)
	}
	conn, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return func() []string {
		t.Helper()
		sentinel := uuid.NewString()
		if _, err := conn.Exec(`SELECT pg_notify($1, $2)`, store.AuthChannel, sentinel); err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for {
			select {
			case n := <-l.Notify:
				if n == nil {
					t.Fatal("the test's listener reconnected: notifications may be lost")
				}
				if n.Extra == sentinel {
					slices.Sort(got)
					return got
				}
				got = append(got, n.Extra)
			case <-time.After(5 * time.Second):
				t.Fatal("the sentinel notification never arrived")
			}
		}
	}
}
