package graph

import (
	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"
)

// introspection returns the cost of a __schema or __type root field
// resolved mult times. The schema is known, so the cost is exact: the
// selection is walked over the very values the executor will return,
// every list item, alias and level counted like any field. The walk stops
// once the budget is spent, so it costs at most MaxComplexity steps.
func (w *walker) introspection(f *ast.Field, depth, mult int) int {
	s := introspection.WrapSchema(w.schema)
	var root any
	switch f.Name {
	case "__schema":
		root = s
	case "__type":
		name, _ := f.ArgumentMap(w.vars)["name"].(string)
		if def := w.schema.Types[name]; def != nil {
			root = introspection.WrapTypeFromDef(w.schema, def)
		}
	}
	return w.add(mult, w.mul(mult, w.introSet(f.SelectionSet, root, depth)))
}

// introSet is the cost of resolving set once on obj (an introspection
// value; nil resolves to null and costs nothing below) at depth.
func (w *walker) introSet(set ast.SelectionSet, obj any, depth int) int {
	cost := 0
	for _, sel := range set {
		if cost > w.limits.MaxComplexity {
			return cost
		}
		switch s := sel.(type) {
		case *ast.Field:
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			d := depth
			if s.Name != "ofType" {
				d++
			}
			w.depth = max(w.depth, d)
			cost = w.add(cost, 1)
			for _, child := range introChildren(s, obj) {
				cost = w.add(cost, w.introSet(s.SelectionSet, child, d))
			}
		case *ast.InlineFragment:
			cost = w.add(cost, w.introSet(s.SelectionSet, obj, depth))
		case *ast.FragmentSpread:
			if fr := w.doc.Fragments.ForName(s.Name); fr != nil {
				cost = w.add(cost, w.introSet(fr.SelectionSet, obj, depth))
			}
		}
	}
	return cost
}

// introChildren returns the values field f of obj resolves to: the items
// of a list, the object of an object field, none for a scalar or null.
func introChildren(f *ast.Field, obj any) []any {
	if len(f.SelectionSet) == 0 {
		return nil
	}
	one := func(t *introspection.Type) []any {
		if t == nil {
			return nil
		}
		return []any{t}
	}
	types := func(ts []introspection.Type) []any {
		out := make([]any, len(ts))
		for i := range ts {
			out[i] = &ts[i]
		}
		return out
	}
	values := func(vs []introspection.InputValue) []any {
		out := make([]any, len(vs))
		for i := range vs {
			out[i] = &vs[i]
		}
		return out
	}
	switch o := obj.(type) {
	case *introspection.Schema:
		switch f.Name {
		case "types":
			return types(o.Types())
		case "queryType":
			return one(o.QueryType())
		case "mutationType":
			return one(o.MutationType())
		case "subscriptionType":
			return one(o.SubscriptionType())
		case "directives":
			ds := o.Directives()
			out := make([]any, len(ds))
			for i := range ds {
				out[i] = &ds[i]
			}
			return out
		}
	case *introspection.Type:
		switch f.Name {
		case "fields":
			fs := o.Fields(true)
			out := make([]any, len(fs))
			for i := range fs {
				out[i] = &fs[i]
			}
			return out
		case "inputFields":
			return values(o.InputFields())
		case "interfaces":
			return types(o.Interfaces())
		case "possibleTypes":
			return types(o.PossibleTypes())
		case "enumValues":
			return make([]any, len(o.EnumValues(true))) // scalars only below
		case "ofType":
			return one(o.OfType())
		}
	case *introspection.Field:
		switch f.Name {
		case "args":
			return values(o.Args)
		case "type":
			return one(o.Type)
		}
	case *introspection.InputValue:
		if f.Name == "type" {
			return one(o.Type)
		}
	case *introspection.Directive:
		if f.Name == "args" {
			return values(o.Args)
		}
	}
	return nil
}
