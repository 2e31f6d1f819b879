package rest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// New nested contacts are inserted in one batch: an account with ten new
// contacts costs the same statements as one with a single new contact.
func TestNestedNewContactsCostFixedStatements(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		// The admin's first request reads its viewer; the next ones find it cached.
		s.Expect(t, http.StatusOK, http.MethodGet, "/api/account?limit=1", resttest.Admin, nil)
		cost := func(n int) int64 {
			var contacts []any
			for i := range n {
				contacts = append(contacts, map[string]any{"firstName": fmt.Sprint("New", i), "lastName": "Batch"})
			}
			before := s.Statements()
			s.Expect(t, http.StatusOK, http.MethodPost, "/api/account", resttest.Admin,
				map[string]any{"name": fmt.Sprint("Batch ", n), "contacts": contacts})
			return s.Statements() - before
		}
		if one, ten := cost(1), cost(10); one != ten {
			t.Fatalf("1 new contact: %d statements, 10 new contacts: %d", one, ten)
		}
	})
}
