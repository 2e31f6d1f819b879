package rest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Neither database takes NUL characters in text (PostgreSQL cannot store
// them, SQLite is made to refuse them alike): the client's bad input (400)
// on every route, never a 500, and nothing is written.
func TestTextWithNULIsRefusedNeverAServerError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		res := s.Do(http.MethodPost, "/api/account", resttest.Admin, `{"name": "Null\u0000Corp"}`)
		n := db.Account.Query().Where(account.NameHasPrefix("Null")).CountX(tenancy.Bypass(context.Background()))
		if res.Status != http.StatusBadRequest || n != 0 {
			t.Fatalf("status %d, %d rows written: %s", res.Status, n, res.Body)
		}
		if err := resttest.Validate(http.MethodPost, "/api/account", res); err != nil {
			t.Fatal(err)
		}
	})
}
