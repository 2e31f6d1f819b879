//go:build ignore

package main

import (
	"fmt"
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("../gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("../schema/ent.graphqls"),
		entgql.WithTemplates(templates()...), // before WithWhereInputs, which appends to them
		entgql.WithWhereInputs(true),
		entgql.WithSchemaHook(filterArguments),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	opts := []entc.Option{
		entc.Extensions(ex),
		entc.TemplateFiles("template/visible.tmpl", "template/gql_lists.tmpl"),
		entc.FeatureNames("intercept", "sql/execquery", "sql/modifier", "sql/lock", "sql/upsert"),
	}
	if err := entc.Generate("./schema", &gen.Config{}, opts...); err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// templates are entgql's, with field collection replaced by
// template/gql_collection.tmpl (hand-written fields select their id column).
func templates() []*gen.Template {
	collection := gen.MustParse(gen.NewTemplate("gql_collection").
		Funcs(entgql.TemplateFuncs).ParseFiles("template/gql_collection.tmpl"))
	var ts []*gen.Template
	for _, t := range entgql.AllTemplates {
		if t == entgql.CollectionTemplate {
			t = collection
		}
		ts = append(ts, t)
	}
	return ts
}

// filterArguments gives the root connections of the entities the query
// builder catalogues its filter and savedFilter arguments (resolved in
// graph/): the same react-querybuilder language as the REST layer's.
func filterArguments(_ *gen.Graph, s *ast.Schema) error {
	for _, name := range []string{"accounts", "contacts", "leads", "tasks", "appointments", "followUps"} {
		f := s.Types["Query"].Fields.ForName(name)
		if f == nil {
			return fmt.Errorf("entc: no Query.%s to add filter arguments to", name)
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
