package graph

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/conecrm/gateway/graph/generated"
)

// TestDefaultPagesCopyOnlyWhatChanges: an operation that needs no default
// page is served as parsed (no copy per request), one that does gets
// first: DefaultPage on exactly its unsized connections, in fragments too,
// and the cached document is never changed.
func TestDefaultPagesCopyOnlyWhatChanges(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	printed := func(doc *ast.QueryDocument) string {
		var b strings.Builder
		formatter.NewFormatter(&b).FormatQueryDocument(doc)
		return b.String()
	}
	cases := []struct {
		name, query string
		vars        map[string]any
		changed     bool
		firsts      int // connections given first: DefaultPage
	}{
		{"node", `query($id: ID!) { node(id: $id) { id ... on Account { name city } } }`, map[string]any{"id": "x"}, false, 0},
		{"sized", `{ leads(first: 5) { edges { node { id } } } }`, nil, false, 0},
		{"sized by a variable", `query($n: Int) { leads(first: $n) { edges { node { id } } } }`, map[string]any{"n": 3}, false, 0},
		{"unsized", `{ leads { edges { node { id } } } }`, nil, true, 1},
		{"variable without a value", `query($n: Int) { leads(first: $n) { edges { node { id } } } }`, nil, true, 1},
		{"null first, sized by last", `{ leads(first: null, last: 2) { edges { node { id } } } }`, nil, true, 0},
		{"in a fragment", `{ users(first: 2) { edges { node { ...F } } } } fragment F on User { assignedLeads { edges { node { id } } } }`, nil, true, 1},
		{"nested under a sized one", `{ users(first: 2) { edges { node { assignedLeads { totalCount } } } } }`, nil, true, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(schema, c.query)
			if errs != nil {
				t.Fatal(errs)
			}
			before := printed(doc)
			op := doc.Operations[0]
			gotDoc, gotOp := withDefaultPages(doc, op, c.vars)
			if printed(doc) != before || doc.Operations[0] != op {
				t.Fatalf("the cached document was changed:\n%s", printed(doc))
			}
			if changed := gotDoc != doc || gotOp != op; changed != c.changed {
				t.Fatalf("copied: %v, want %v", changed, c.changed)
			}
			if gotDoc.Operations[0] != gotOp {
				t.Fatal("the returned document does not hold the returned operation")
			}
			out := printed(gotDoc)
			if n := strings.Count(out, fmt.Sprintf("first: %d", DefaultPage)); n != c.firsts {
				t.Errorf("%d connections got first: %d, want %d:\n%s", n, DefaultPage, c.firsts, out)
			}
			if strings.Contains(out, "first: null") {
				t.Errorf("a null first stayed:\n%s", out)
			}
		})
	}
}
