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
// shared through the query cache, so it is copied, never changed; only
// the selections on the way to a changed field are copied, and an
// operation that needs no default page (every connection sized, or none
// selected: node lookups) is returned as it is, copying nothing.
func withDefaultPages(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) (*ast.QueryDocument, *ast.OperationDefinition) {
	p := pager{vars: vars}
	set, changed := p.selectionSet(op.SelectionSet)
	fragments := make(ast.FragmentDefinitionList, len(doc.Fragments))
	for i, f := range doc.Fragments {
		fragments[i] = f
		if fs, ok := p.selectionSet(f.SelectionSet); ok {
			fc := *f
			fc.SelectionSet = fs
			fragments[i], changed = &fc, true
		}
	}
	if !changed {
		return doc, op
	}
	opCopy := *op
	opCopy.SelectionSet = set
	docCopy := *doc
	docCopy.Operations = make(ast.OperationList, len(doc.Operations))
	for i, o := range doc.Operations {
		if o == op {
			o = &opCopy
		}
		docCopy.Operations[i] = o
	}
	docCopy.Fragments = fragments
	return &docCopy, &opCopy
}

type pager struct{ vars map[string]any }

// selectionSet returns set with default pages added below it and whether
// anything was added; unchanged, set itself.
func (p pager) selectionSet(set ast.SelectionSet) (ast.SelectionSet, bool) {
	var out ast.SelectionSet // made at the first change
	for i, sel := range set {
		var changed ast.Selection
		switch s := sel.(type) {
		case *ast.Field:
			children, ok := p.selectionSet(s.SelectionSet)
			var args ast.ArgumentList
			if s.Definition != nil && isConnection(s) {
				args = p.paged(s)
			}
			if ok || args != nil {
				f := *s
				f.SelectionSet = children
				if args != nil {
					f.Arguments = args
				}
				changed = &f
			}
		case *ast.InlineFragment:
			if children, ok := p.selectionSet(s.SelectionSet); ok {
				c := *s
				c.SelectionSet = children
				changed = &c
			}
		}
		if changed != nil && out == nil {
			out = make(ast.SelectionSet, len(set))
			copy(out, set)
		}
		if changed != nil {
			out[i] = changed
		}
	}
	if out == nil {
		return set, false
	}
	return out, true
}

// paged returns f's arguments with first: DefaultPage added when neither
// first nor last has a value (absent, null, or a variable without one)
// and nil when nothing changes (one has a value, none is null).
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
	if sized {
		if len(args) == len(f.Arguments) {
			return nil
		}
		return args
	}
	return append(args, &ast.Argument{
		Name:     "first",
		Value:    &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(DefaultPage), Position: f.Position},
		Position: f.Position,
	})
}
