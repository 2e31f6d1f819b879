package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// A query-builder config offers at most crm.MaxFilterOptions value options
// per related table (CONECRM_FILTER_MAX_OPTIONS), the first by label: with
// exactly that many users every user field lists them all; with one more
// it lists the same first ones and says valuesTruncated, on REST (valid
// against the OpenAPI document) and GraphQL's filterConfig alike. A field
// over two tables (a task's assignee: users and groups) is truncated when
// either is; fields of short tables (stage) are not.
func TestFilterValueOptionsAreCapped(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		max := crm.MaxFilterOptions
		users, err := db.User.Query().Where(user.TenantID(f.id)).Count(f.sys)
		f.must(err)
		addUsers := func(n int) {
			t.Helper()
			// "zz-…" sort after the seeded users, so they are the ones cut.
			var bulk []*ent.UserCreate
			for i := range n {
				email := fmt.Sprintf("zz-probe-%04d@demo-motors.test", users+i)
				bulk = append(bulk, db.User.Create().SetTenantID(f.id).SetUsername(email).SetEmail(email).
					SetDisplayName(email).SetUserType(user.UserTypeUSER))
			}
			f.must(db.User.CreateBulk(bulk...).Exec(f.sys))
			users += n
		}
		config := func(entity string) (map[string]querybuilder.ConfigField, map[string]json.RawMessage) {
			t.Helper()
			path := "/api/query-builder/config/" + entity
			res := g.do(f.admin, http.MethodGet, path, nil)
			if err := resttest.Validate(http.MethodGet, path, res); err != nil || res.Status != http.StatusOK {
				t.Fatalf("%s: %d %v %s", path, res.Status, err, res.Body)
			}
			var cfg querybuilder.Config
			res.JSON(t, &cfg)
			byName := map[string]querybuilder.ConfigField{}
			for _, cf := range cfg.Fields {
				byName[cf.Name] = cf
			}
			_, out := g.graphql(f.admin, fmt.Sprintf(`{ filterConfig(entity: %q) }`, entity), nil)
			var gql struct{ Fields []json.RawMessage }
			if len(out.Errors) > 0 || json.Unmarshal(out.Data["filterConfig"], &gql) != nil {
				t.Fatalf("filterConfig(%s): %+v", entity, out.Errors)
			}
			raw := map[string]json.RawMessage{}
			for _, r := range gql.Fields {
				var cf querybuilder.ConfigField
				if err := json.Unmarshal(r, &cf); err != nil {
					t.Fatal(err)
				}
				raw[cf.Name] = r
			}
			return byName, raw
		}
		check := func(state string, truncated bool) {
			t.Helper()
			lead, gql := config("lead")
			var first []querybuilder.Option
			for _, name := range []string{"soldBy", "assignees"} {
				cf := lead[name]
				if len(cf.Values) != max || cf.ValuesTruncated != truncated {
					t.Errorf("%s: lead %s has %d values, truncated %v; want %d, %v", state, name, len(cf.Values), cf.ValuesTruncated, max, truncated)
				}
				if !slices.IsSortedFunc(cf.Values, func(a, b querybuilder.Option) int { return strings.Compare(a.Label, b.Label) }) {
					t.Errorf("%s: lead %s's values are not by label", state, name)
				}
				if first == nil {
					first = cf.Values
				} else if !slices.Equal(first, cf.Values) {
					t.Errorf("%s: soldBy and assignees offer different users", state)
				}
				if got := strings.Contains(string(gql[name]), `"valuesTruncated":true`); got != truncated {
					t.Errorf("%s: GraphQL lead %s: %s", state, name, gql[name])
				}
			}
			if stage := lead["stage"]; len(stage.Values) == 0 || stage.ValuesTruncated || strings.Contains(string(gql["stage"]), "valuesTruncated") {
				t.Errorf("%s: stage %+v / %s", state, stage, gql["stage"])
			}
			task, _ := config("task")
			if a := task["assignee"]; a.ValuesTruncated != truncated || len(a.Values) <= max {
				t.Errorf("%s: task assignee has %d values (users and groups), truncated %v; want more than %d, %v", state, len(a.Values), a.ValuesTruncated, max, truncated)
			}
		}
		if users > max {
			t.Fatalf("the fixture tenant has %d users, more than the cap %d", users, max)
		}
		addUsers(max - users)
		check("exactly the cap", false)
		addUsers(1)
		check("one more", true)
	})
}
