package rest_test

import (
	"net/http"
	"testing"

	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/storetest"
)

func TestListAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		var body struct {
			Total    int
			Accounts []map[string]any
		}
		res := s.Do(http.MethodGet, "/api/account?limit=3", "user@demo-motors.test", nil)
		if res.Status != http.StatusOK {
			t.Fatalf("status %d: %s", res.Status, res.Body)
		}
		res.JSON(t, &body)
		if body.Total != storetest.Sizes.Accounts || len(body.Accounts) != 3 {
			t.Fatalf("total %d, %d accounts; want %d, 3", body.Total, len(body.Accounts), storetest.Sizes.Accounts)
		}
		t.Logf("%s", res.Body[:min(len(res.Body), 3000)])
	})
}
