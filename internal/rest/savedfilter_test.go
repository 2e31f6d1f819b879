package rest_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

type savedFilterBody struct {
	ID      string
	Name    string
	Module  string
	Value   string
	Owner   struct{ ID string }
	Private bool
}

func TestSavedFilterRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		const query = `{"combinator":"and","rules":[{"id":"r1","field":"priority","operator":">=","value":2}]}`
		var mine, shared savedFilterBody
		decodeOK(t, s, "POST", "/api/saved-filter", asUser,
			map[string]any{"name": " Hot leads ", "module": "lead", "value": query, "owner": map[string]any{"id": uuid.NewString()}},
			201, &mine)
		user := storetest.UserID(t, db, asUser).String()
		if mine.Name != "Hot leads" || !mine.Private || mine.Owner.ID != user || mine.Value != query {
			t.Fatalf("created %+v", mine)
		}
		decodeOK(t, s, "POST", "/api/saved-filter", asUser,
			map[string]any{"name": "Team view", "module": "task", "private": false,
				"value": map[string]any{"rules": []any{map[string]any{"field": "taskDone", "operator": "=", "value": false}}}},
			201, &shared)
		if shared.Private || shared.Value != `{"rules":[{"field":"taskDone","operator":"=","value":false}]}` {
			t.Fatalf("shared %+v", shared)
		}
		var list []savedFilterBody
		decodeOK(t, s, "GET", "/api/saved-filter", asManager, nil, 200, &list)
		var names []string
		for _, f := range list {
			names = append(names, f.Name)
		}
		if fmt.Sprint(names) != "[Open website leads Team view]" {
			t.Fatalf("the manager lists %v: own and shared only, by name", names)
		}
		seededShared := list[0].ID

		var other savedFilterBody
		decodeOK(t, s, "POST", "/api/saved-filter", asOther, map[string]any{"name": "x", "module": "lead", "value": query}, 201, &other)
		minePath, sharedPath, otherPath := "/api/saved-filter/"+mine.ID, "/api/saved-filter/"+shared.ID, "/api/saved-filter/"+other.ID
		norole := withoutRoles(t, db)
		before := storetest.TakeSnapshot(t, db)
		runRouteCases(t, s, []routeCase{
			{"name is required", "POST", "/api/saved-filter", asUser, `{"module":"lead","value":"{}"}`, 400, "name"},
			{"a NUL in the name", "POST", "/api/saved-filter", asUser, `{"name":"a\u0000","module":"lead","value":"{}"}`, 400, "NUL"},
			{"value is required", "POST", "/api/saved-filter", asUser, `{"name":"a","module":"lead"}`, 400, "value"},
			{"unknown module", "POST", "/api/saved-filter", asUser, `{"name":"a","module":"widget","value":"{}"}`, 400, `module: unknown module \"widget\"`},
			{"value must be a query of its module", "POST", "/api/saved-filter", asUser,
				`{"name":"a","module":"account","value":"{\"rules\":[{\"id\":\"r9\",\"field\":\"subject\",\"operator\":\"=\",\"value\":\"x\"}]}"}`, 400, "rule r9: unknown field"},
			{"value that is not JSON", "POST", "/api/saved-filter", asUser, `{"name":"a","module":"lead","value":"{"}`, 400, "value"},
			{"value of the wrong type", "POST", "/api/saved-filter", asUser, `{"name":"a","module":"lead","value":5}`, 400, "value"},
			{"private of the wrong type", "POST", "/api/saved-filter", asUser, `{"name":"a","module":"lead","value":"{}","private":"no"}`, 400, "private"},
			{"malformed JSON", "POST", "/api/saved-filter", asUser, `{"name":`, 400, "body"},
			{"no write permission", "POST", "/api/saved-filter", norole, `{"name":"a","module":"lead","value":"{}"}`, 403, "Access denied"},
		})
		storetest.NothingWritten(t, db, before)
		runRouteCases(t, s, append([]routeCase{
			{"the owner reads a private filter", "GET", minePath, asUser, nil, 200, `"name":"Hot leads"`},
			{"another user may not read it", "GET", minePath, asManager, nil, 403, "Access denied"},
			{"a shared filter is readable by the tenant", "GET", sharedPath, asManager, nil, 200, `"private":false`},
			{"only the owner edits a private filter", "PATCH", minePath, asManager, `{"name":"Mine now"}`, 403, "Access denied"},
			{"only the owner edits a shared filter", "PATCH", "/api/saved-filter/" + seededShared, asUser, `{"name":"x"}`, 403, "Access denied"},
			{"only the owner deletes", "DELETE", sharedPath, asManager, nil, 403, "Access denied"},
			{"rename", "PATCH", minePath, asUser, `{"name":"Hotter"}`, 200, `"name":"Hotter"`},
			{"share", "PATCH", minePath, asUser, `{"private":false}`, 200, `"private":false`},
			{"now the manager reads it", "GET", minePath, asManager, nil, 200, `"name":"Hotter"`},
			{"a new value must be valid", "PATCH", minePath, asUser, `{"value":"{\"rules\":[{\"id\":\"b\",\"field\":\"priority\",\"operator\":\"contains\",\"value\":1}]}"}`, 400, "rule b"},
			{"a new module must fit the value", "PATCH", minePath, asUser, `{"module":"account"}`, 400, "unknown field"},
			{"nothing changed", "GET", minePath, asUser, nil, 200, `"module":"lead"`},
			{"blank rename", "PATCH", minePath, asUser, `{"name":" "}`, 400, "name"},
			{"another tenant's filter is not found", "GET", otherPath, asUser, nil, 404, ""},
			{"nor editable", "PATCH", otherPath, asUser, `{"name":"x"}`, 404, ""},
			{"nor deletable", "DELETE", otherPath, asUser, nil, 404, ""},
			{"not a UUID", "GET", "/api/saved-filter/12", asUser, nil, 404, ""},
			{"unknown id", "DELETE", "/api/saved-filter/" + uuid.NewString(), asUser, nil, 404, ""},
			{"delete", "DELETE", minePath, asUser, nil, 204, ""},
			{"deleted", "GET", minePath, asUser, nil, 404, ""},
			{"no read permission", "GET", "/api/saved-filter", norole, nil, 403, "Access denied"},
		}, unauthenticated(
			[2]string{"GET", "/api/saved-filter"}, [2]string{"POST", "/api/saved-filter"},
			[2]string{"GET", sharedPath}, [2]string{"PATCH", sharedPath}, [2]string{"DELETE", sharedPath})...))

		// A saved filter's value is a query the filter route accepts as is.
		var f savedFilterBody
		decodeOK(t, s, "GET", "/api/saved-filter/"+seededShared, asUser, nil, 200, &f)
		var b filterBody
		decodeOK(t, s, "POST", filterPath(f.Module, ""), asUser, f.Value, 200, &b)
		if b.Total == 0 {
			t.Fatalf("the seeded filter %s matches nothing", f.Value)
		}
	})
}
