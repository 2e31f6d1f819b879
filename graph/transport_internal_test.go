package graph

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/conecrm/gateway/graph/generated"
)

// post answers what gqlgen's POST transport answers — status, content
// type and the same JSON — for plain answers, errors of every stage and
// both response media types; only the bytes of a plain answer's data may
// differ (not re-encoded).
func TestPostAnswersAsGqlgensTransport(t *testing.T) {
	serve := func(tr graphql.Transport) http.Handler {
		srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{}}))
		srv.AddTransport(tr)
		return srv
	}
	ours, gqlgens := serve(post{}), serve(transport.POST{})
	for _, c := range []struct{ name, accept, body string }{
		{"plain", "", `{"query":"{ __typename a: __typename }"}`},
		{"plain, graphql-response+json", "application/graphql-response+json", `{"query":"{ __typename }"}`},
		{"plain, any", "*/*", `{"query":"{ __typename }"}`},
		{"unknown accept", "text/html", `{"query":"{ __typename }"}`},
		{"validation error", "", `{"query":"{ nope }"}`},
		{"validation error, graphql-response+json", "application/graphql-response+json", `{"query":"{ nope }"}`},
		{"parse error", "application/json", `{"query":"{"}`},
		{"not JSON", "", `{"query":`},
		{"unknown operation", "", `{"query":"query A { __typename }","operationName":"B"}`},
		{"variables", "", `{"query":"query($x: Int) { __typename }","variables":{"x":1}}`},
	} {
		var answers [2]*httptest.ResponseRecorder
		for i, h := range []http.Handler{ours, gqlgens} {
			r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(c.body))
			r.Header.Set("Content-Type", "application/json")
			if c.accept != "" {
				r.Header.Set("Accept", c.accept)
			}
			answers[i] = httptest.NewRecorder()
			h.ServeHTTP(answers[i], r)
		}
		got, want := answers[0], answers[1]
		if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
			t.Errorf("%s: %d %q, want %d %q", c.name, got.Code, got.Header().Get("Content-Type"), want.Code, want.Header().Get("Content-Type"))
		}
		var g, w any
		if err := json.Unmarshal(got.Body.Bytes(), &g); err != nil {
			t.Errorf("%s: %v: %s", c.name, err, got.Body)
		}
		json.Unmarshal(want.Body.Bytes(), &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: %s, want %s", c.name, got.Body, want.Body)
		}
	}
}

// post takes the requests gqlgen's POST transport takes.
func TestPostSupportsWhatGqlgensTransportSupports(t *testing.T) {
	for _, c := range []struct{ method, contentType, upgrade string }{
		{http.MethodPost, "application/json", ""},
		{http.MethodPost, "application/json; charset=utf-8", ""},
		{http.MethodPost, "Application/JSON", ""},
		{http.MethodPost, "application/json;", ""},
		{http.MethodPost, "application/graphql", ""},
		{http.MethodPost, "text/plain", ""},
		{http.MethodPost, "", ""},
		{http.MethodPost, "application/json", "websocket"},
		{http.MethodGet, "application/json", ""},
		{http.MethodPut, "application/json", ""},
	} {
		r := httptest.NewRequest(c.method, "/graphql", nil)
		if c.contentType != "" {
			r.Header.Set("Content-Type", c.contentType)
		}
		if c.upgrade != "" {
			r.Header.Set("Upgrade", c.upgrade)
		}
		if got, want := (post{}).Supports(r), (transport.POST{}).Supports(r); got != want {
			t.Errorf("%+v: post %v, gqlgen %v", c, got, want)
		}
	}
}
