//go:build ignore

package main

import (
	"fmt"
	"log"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/conecrm/gateway/internal/registry"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("../gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("../schema/ent.graphqls"),
		entgql.WithTemplates(templates()...), // before WithWhereInputs, which appends to them
		entgql.WithWhereInputs(true),
		entgql.WithSchemaHook(filterArguments, nullableRecords),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	opts := []entc.Option{
		entc.Extensions(ex),
		entc.TemplateFiles("template/visible.tmpl", "template/gql_lists.tmpl", "template/query.tmpl", "template/join.tmpl", "template/namedges.tmpl", "template/columns.tmpl", "template/shapes.tmpl"),
		entc.FeatureNames("intercept", "sql/execquery", "sql/modifier", "sql/lock", "sql/upsert"),
	}
	if err := entc.Generate("./schema", &gen.Config{}, opts...); err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// templates are entgql's, with field collection replaced by
// template/gql_collection.tmpl (hand-written fields select their id column),
// pagination by template/gql_pagination.tmpl (pageInfo cursors without
// edges) and the node by template/gql_node.tmpl (its id condition described,
// template/shapes.tmpl).
func templates() []*gen.Template {
	collection := gen.MustParse(gen.NewTemplate("gql_collection").
		Funcs(entgql.TemplateFuncs).ParseFiles("template/gql_collection.tmpl"))
	pagination := gen.MustParse(gen.NewTemplate("gql_pagination").
		Funcs(entgql.TemplateFuncs).ParseFiles("template/gql_pagination.tmpl"))
	node := gen.MustParse(gen.NewTemplate("gql_node").
		Funcs(entgql.TemplateFuncs).ParseFiles("template/gql_node.tmpl"))
	var ts []*gen.Template
	for _, t := range entgql.AllTemplates {
		switch t {
		case entgql.CollectionTemplate:
			t = collection
		case entgql.PaginationTemplate:
			t = pagination
		case entgql.NodeTemplate:
			t = node
		}
		ts = append(ts, t)
	}
	return ts
}

// filterArguments gives the root connections of the entities the query
// builder catalogues (internal/registry) its filter and savedFilter
// arguments (resolved in graph/): the same react-querybuilder language as
// the REST layer's.
func filterArguments(_ *gen.Graph, s *ast.Schema) error {
	for _, e := range registry.Filterable() {
		f := s.Types["Query"].Fields.ForName(e.Root)
		if f == nil {
			return fmt.Errorf("entc: no Query.%s to add filter arguments to", e.Root)
		}
		f.Arguments = append(f.Arguments,
			&ast.ArgumentDefinition{Name: "filter", Type: ast.NamedType("Map", nil),
				Description: "A react-querybuilder rule group (see filterConfig for the fields), ANDed with where."},
			&ast.ArgumentDefinition{Name: "savedFilter", Type: ast.NamedType("ID", nil),
				Description: "A saved filter of this entity visible to the viewer, ANDed with where and filter."},
		)
	}
	return nil
}

// nullableRecords makes every field that returns records (a record, a list
// of them or a connection) nullable: reading them needs their type's read
// permission, and a forbidden field answers null with a FORBIDDEN error at
// its path; were it non-null, the null would wipe out its parent too.
func nullableRecords(_ *gen.Graph, s *ast.Schema) error {
	for _, t := range s.Types {
		if t.Kind != ast.Object && t.Kind != ast.Interface {
			continue
		}
		for _, f := range t.Fields {
			if f.Type.NonNull && returnsRecords(f.Type) {
				f.Type.NonNull = false
			}
		}
	}
	return nil
}

func returnsRecords(t *ast.Type) bool {
	if t.Elem != nil {
		return returnsRecords(t.Elem)
	}
	name := strings.TrimSuffix(t.NamedType, "Connection")
	return registry.ByGraphQLType(name) != nil
}
