package graph_test

import (
	"net/http"
	"testing"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// A POST body that is not one GraphQL request is a 400 naming the
// expected shape, before the executor sees it; variables and extensions
// must be objects (or null), and nothing but white space may follow it.
func TestBodyThatIsNotOneRequestIs400(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		for _, body := range []string{
			`not json`,
			`[{"query":"{ __typename }"}]`,
			`{"query":"{ __typename }","variables":[1]}`,
			`{"query":"{ __typename }","variables":"x"}`,
			`{"query":"{ __typename }","extensions":7}`,
			`{"query":5}`,
			`{"query":["{ __typename }"]}`,
			`{"query":"{ __typename }","operationName":{}}`,
			`{"query":"{ __typename \x }"}`,
			`{"query":"{ __typename }"} {"query":"{ __typename }"}`,
			`{"query":"{ __typename }"}]`,
		} {
			r := decode(t, s.Do(http.MethodPost, "/graphql", admin, body), 0)
			if r.Status != http.StatusBadRequest || r.code() != "BAD_REQUEST" {
				t.Errorf("%s: status %d, errors %+v", body, r.Status, r.Errors)
			}
		}
		for _, body := range []string{
			`{"query":"{ __typename }"}`,
			`{"query":"{ __typename }","variables":null,"extensions":null}`,
			`{"query":"{ __typename }","variables":{"a":[1,{"b":null}]},"extensions":{}}`,
			`{"query":"query Q { __typename \u0020}","operationName":"Q"}`,
			`{"query":"{ __typename }","operationName":null}`,
			" {\"query\":\"{ __typename }\"}\r\n\t ",
		} {
			r := decode(t, s.Do(http.MethodPost, "/graphql", admin, body), 0)
			if r.Status != http.StatusOK || len(r.Errors) > 0 {
				t.Errorf("%s: status %d, errors %+v", body, r.Status, r.Errors)
			}
		}
	})
}
