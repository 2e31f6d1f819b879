package loader

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// The loads of one request are one statement, and only rows of the
// viewer's tenant are found.
func TestUsersAreBatchedAndTenantScoped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.As(t, db, "admin@demo-motors.test")
		all, err := db.User.Query().Select(user.FieldID, user.FieldTenantID).All(tenancy.Bypass(context.Background()))
		if err != nil {
			t.Fatal(err)
		}
		l := New(db.Client, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
		before := db.Counter.Total()
		// Loads are queued first and awaited after, as the executor's
		// concurrent resolvers do: they fall in one batch.
		thunks := make([]func() (*ent.User, error), len(all))
		for i, u := range all {
			thunks[i] = l.users.queue(ctx, key{id: u.ID})
		}
		found := make([]bool, len(all))
		for i, th := range thunks {
			got, err := th()
			if err != nil {
				t.Fatal(err)
			}
			found[i] = got != nil
		}
		if n := db.Counter.Total() - before; n != 1 {
			t.Errorf("%d loads cost %d statements, want 1", len(all), n)
		}
		mine := storetest.TenantID(t, db, "demo-motors.test")
		for i, u := range all {
			if found[i] != (u.TenantID == mine) {
				t.Errorf("user %s of tenant %s found=%v", u.ID, u.TenantID, found[i])
			}
		}
	})
}

// A panic in a batch function, which runs in the loader's goroutine, is
// recovered, logged with its stack and answered as an internal error.
func TestPanicInABatchIsRecovered(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var b batcher[int]
	b.init(log, "boom", nil, func(context.Context, *ent.Client, []uuid.UUID) (map[uuid.UUID]int, error) {
		panic("kaboom")
	})
	_, err := b.load(context.Background(), uuid.New())
	var e *fault.Error
	if !errors.As(err, &e) || e.Code != fault.Internal || strings.Contains(e.Message, "kaboom") {
		t.Fatalf("got %v, want a masked internal error", err)
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), "loader_test.go") {
		t.Errorf("panic not logged with its stack: %s", logs.String())
	}
}
