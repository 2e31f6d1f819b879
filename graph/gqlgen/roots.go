package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/codegen"

	"github.com/conecrm/gateway/internal/registry"
)

// rootLists is the gqlgen plugin that writes the bodies of the root lists
// entgql declares (schema/ent.graphqls) for the registry's entities: every
// one is the same call — the read check, the filter and savedFilter
// arguments when the entity has them, the record rules (graph/roots.go
// rootPredicates), then entgql's Paginate — so a new entity's root list
// needs no hand-written resolver. Every other resolver keeps its
// hand-written body (gqlgen's panic stub when it has none yet).
type rootLists struct{}

func (rootLists) Name() string { return "rootLists" }

func (rootLists) Implement(prev string, f *codegen.Field) string {
	e := rootEntity(f)
	if e == nil {
		if prev != "" {
			return prev
		}
		return fmt.Sprintf("panic(fmt.Errorf(%q))", "not implemented: "+f.GoFieldName+" - "+f.Name)
	}
	args := "nil, nil"
	if hasArg(f, "filter") && hasArg(f, "savedFilter") {
		args = "filter, savedFilter"
	}
	var opts []string
	if hasArg(f, "orderBy") {
		opts = append(opts, fmt.Sprintf("ent.With%sOrder(orderBy)", e.Type))
	}
	if hasArg(f, "where") {
		opts = append(opts, fmt.Sprintf("ent.With%sFilter(where.Filter)", e.Type))
	}
	return fmt.Sprintf(`ps, err := r.rootPredicates(ctx, %q, %s)
if err != nil {
	return nil, err
}
return r.client.%s.Query().Where(predicates[predicate.%s](ps)...).Paginate(ctx, after, first, before, last%s)`,
		e.Table, args, e.Type, e.Type, strings.Join(append([]string{""}, opts...), ", "))
}

// rootEntity returns the registered entity whose root list f is, or nil:
// a Query field entgql generated, named as the entity's Root.
func rootEntity(f *codegen.Field) *registry.Entity {
	if f.Object == nil || f.Object.Name != "Query" || f.Position == nil || f.Position.Src == nil ||
		filepath.Base(f.Position.Src.Name) != "ent.graphqls" {
		return nil
	}
	i := slices.IndexFunc(registry.Roots(), func(e *registry.Entity) bool { return e.Root == f.Name })
	if i < 0 {
		return nil
	}
	return registry.Roots()[i]
}

func hasArg(f *codegen.Field, name string) bool {
	return slices.ContainsFunc(f.Args, func(a *codegen.FieldArgument) bool { return a.Name == name })
}
