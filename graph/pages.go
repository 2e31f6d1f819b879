package graph

import (
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
)

// withDefaultPages returns a copy of op (and of doc, holding the copy) in
// which every connection field without a first or last asks for
// first: DefaultPage. entgql reads page sizes from the operation itself
// when it collects nested connections, so this is what limits them per
// parent in SQL (a window function) when the client gave no size, and what
// gives every connection the spec's default page. The parsed document is
// shared through the query cache, so it is copied, never changed.
func withDefaultPages(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) (*ast.QueryDocument, *ast.OperationDefinition) {
	p := pager{vars: vars}
	opCopy := *op
	opCopy.SelectionSet = p.selectionSet(op.SelectionSet)
	docCopy := *doc
	docCopy.Operations = make(ast.OperationList, len(doc.Operations))
	for i, o := range doc.Operations {
		if o == op {
			o = &opCopy
		}
		docCopy.Operations[i] = o
	}
	docCopy.Fragments = make(ast.FragmentDefinitionList, len(doc.Fragments))
	for i, f := range doc.Fragments {
		fc := *f
		fc.SelectionSet = p.selectionSet(f.SelectionSet)
		docCopy.Fragments[i] = &fc
	}
	return &docCopy, &opCopy
}

type pager struct{ vars map[string]any }

func (p pager) selectionSet(set ast.SelectionSet) ast.SelectionSet {
	if set == nil {
		return nil
	}
	out := make(ast.SelectionSet, len(set))
	for i, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			f := *s
			f.SelectionSet = p.selectionSet(s.SelectionSet)
			if f.Definition != nil && isConnection(&f) {
				f.Arguments = p.paged(s)
			}
			out[i] = &f
		case *ast.InlineFragment:
			c := *s
			c.SelectionSet = p.selectionSet(s.SelectionSet)
			out[i] = &c
		default:
			out[i] = sel
		}
	}
	return out
}

// paged returns f's arguments with first: DefaultPage added when neither
// first nor last has a value (absent, null, or a variable without one).
func (p pager) paged(f *ast.Field) ast.ArgumentList {
	args := make(ast.ArgumentList, 0, len(f.Arguments)+1)
	sized := false
	for _, a := range f.Arguments {
		if a.Name == "first" || a.Name == "last" {
			if v, err := a.Value.Value(p.vars); err != nil || v == nil {
				continue
			}
			sized = true
		}
		args = append(args, a)
	}
	if !sized {
		args = append(args, &ast.Argument{
			Name:     "first",
			Value:    &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(DefaultPage), Position: f.Position},
			Position: f.Position,
		})
	}
	return args
}
