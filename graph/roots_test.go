package graph_test

import (
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/registry"
)

// A registered entity's root list needs no hand-written resolver:
// graph/gqlgen writes its body from internal/registry (the recipe in
// docs/ARCHITECTURE.md counts on it). Every root of the registry is such a
// body in ent.resolvers.go: rootPredicates for its own table (read check,
// filter arguments, record rules), then Paginate.
func TestRootListsAreGeneratedFromTheRegistry(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "ent.resolvers.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv == nil {
			continue
		}
		if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok && star.X.(*ast.Ident).Name == "queryResolver" {
			var b strings.Builder
			if err := printer.Fprint(&b, fset, fn.Body); err != nil {
				t.Fatal(err)
			}
			bodies[fn.Name.Name] = b.String()
		}
	}
	for _, e := range registry.Roots() {
		name := strings.ToUpper(e.Root[:1]) + e.Root[1:]
		body, ok := bodies[name]
		if !ok {
			t.Errorf("%s: no Query.%s resolver in ent.resolvers.go", e.Type, e.Root)
			continue
		}
		for _, want := range []string{
			"r.rootPredicates(ctx, " + strconv.Quote(e.Table) + ", ",
			"r.client." + e.Type + ".Query().Where(predicates[predicate." + e.Type + "](ps)...).Paginate(ctx, after, first, before, last",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("Query.%s is not the generated root list (want %s): %s", e.Root, want, body)
			}
		}
		if filterable := e.Filter != ""; filterable != strings.Contains(body, "filter, savedFilter") {
			t.Errorf("Query.%s: filterable %v, but its body reads %s", e.Root, filterable, body)
		}
	}
}
