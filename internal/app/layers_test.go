package app_test

import (
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
)

const module = "github.com/conecrm/gateway/"

var (
	importsOnce sync.Once
	importsOf   map[string][]string
	importsErr  error
)

// moduleImports returns, for every package of the module (by its path in
// the module), the module packages it imports outside its tests, as
// `go list` reports them: a new import fails the layering tests here, not
// in review.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	importsOnce.Do(func() {
		cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...")
		cmd.Dir = "../.."
		out, err := cmd.Output()
		if err != nil {
			importsErr = err
			return
		}
		importsOf = map[string][]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			fields := strings.Fields(line)
			pkg := strings.TrimPrefix(fields[0], module)
			importsOf[pkg] = []string{}
			for _, imp := range fields[1:] {
				if strings.HasPrefix(imp, module) {
					importsOf[pkg] = append(importsOf[pkg], strings.TrimPrefix(imp, module))
				}
			}
		}
	})
	if importsErr != nil {
		t.Fatalf("go list: %v", importsErr)
	}
	return importsOf
}

// within reports whether pkg is one of roots or below one.
func within(pkg string, roots ...string) bool {
	for _, r := range roots {
		if pkg == r || strings.HasPrefix(pkg, r+"/") {
			return true
		}
	}
	return false
}

// checkImports fails for every package of the module under roots that
// imports a package under forbidden; it expects at least min packages.
func checkImports(t *testing.T, roots, forbidden []string, min int) {
	t.Helper()
	checked := 0
	for pkg, imps := range moduleImports(t) {
		if !within(pkg, roots...) {
			continue
		}
		checked++
		for _, imp := range imps {
			if within(imp, forbidden...) {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
	if checked < min {
		t.Fatalf("only %d of %v listed", checked, roots)
	}
}

// The transports translate between HTTP and the domain layer: they import
// neither the package that mounts them (internal/app) nor the data model's
// definitions (ent/schema).
func TestTransportsImportNeitherTheAppNorTheSchema(t *testing.T) {
	checkImports(t, []string{"graph", "internal/rest", "internal/live", "internal/loader"},
		[]string{"internal/app", "ent/schema"}, 4)
}

// The query builder is a compiler (query JSON + catalogue → predicate):
// the domain layer (internal/crm) imports it to filter, never the other
// way round, and it knows no transport.
// Nor does it know the entities: each filterable entity declares its
// fields next to itself (crm's filterable), so of the data model it
// imports only ent's types and the custom fields, its own concept.
func TestTheQueryBuilderIsACompiler(t *testing.T) {
	checkImports(t, []string{"internal/querybuilder"},
		[]string{"internal/crm", "internal/app", "internal/rest", "graph", "internal/automation", "internal/store", "internal/seed"}, 1)
	for _, imp := range moduleImports(t)["internal/querybuilder"] {
		if strings.HasPrefix(imp, "ent/") && imp != "ent/customfield" && imp != "ent/customfieldvalue" {
			t.Errorf("internal/querybuilder imports %s: an entity's filter fields belong next to the entity (crm's filterable)", imp)
		}
	}
}

// REST reaches the data layer only through the domain: it imports ent
// for the record types it shapes, but no entity package (predicates,
// orders), so it builds no query of its own. (GraphQL's root lists, node
// and loaders read through ent by design of entgql.)
func TestRESTQueriesNothingItself(t *testing.T) {
	for pkg, imps := range moduleImports(t) {
		if !within(pkg, "internal/rest") {
			continue
		}
		for _, imp := range imps {
			if strings.HasPrefix(imp, "ent/") {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
}

// The domain's error type is a leaf: the domain, the query builder and the
// transports share it without importing each other.
func TestTheErrorTypeIsALeaf(t *testing.T) {
	imps, ok := moduleImports(t)["internal/fault"]
	if !ok {
		t.Fatal("internal/fault not listed")
	}
	if len(imps) > 0 {
		t.Errorf("internal/fault imports %v; it must import nothing of the gateway", imps)
	}
}

// Nothing outside the domain reaches the data layer through it: no method
// of crm.Service hands out its ent client (the transports filter through
// its Filter… methods; GraphQL's root lists get their client from
// app.Routes, by design of entgql).
func TestTheDomainHandsOutNoClient(t *testing.T) {
	client := reflect.TypeFor[*ent.Client]()
	svc := reflect.TypeFor[*crm.Service]()
	for i := range svc.NumMethod() {
		m := svc.Method(i)
		for j := range m.Type.NumOut() {
			if m.Type.Out(j) == client {
				t.Errorf("crm.Service.%s returns the ent client", m.Name)
			}
		}
	}
}
