package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/conecrm/gateway/ent"
)

// Page sizes of connections (the spec's paging rules).
const (
	DefaultPage = 25
	MaxPage     = 100
)

// Limits bound what one operation may ask for. They are checked after
// parsing and validation and before execution, so a rejected operation
// issues no SQL.
type Limits struct {
	// MaxDepth bounds nesting in selection levels; a connection's edges and
	// node wrappers do not count, so accounts → contacts → accounts is 3.
	MaxDepth int
	// MaxComplexity bounds the estimated number of fields resolved: a field
	// costs 1 plus its children, and a list multiplies its children by its
	// size (a connection's page size, a plain list's ent.ListLimit, the
	// number of ids of nodes).
	MaxComplexity int
	// MaxAliases bounds the aliased fields of an operation.
	MaxAliases int
	// MaxTokens bounds the lexical tokens of a query document (parser limit).
	MaxTokens int
}

// DefaultLimits are safe defaults: the five-level account ↔ contact
// exploration passes with first: 100, a third level of 100-item
// connections does not.
func DefaultLimits() Limits {
	return Limits{MaxDepth: 10, MaxComplexity: 1_500_000, MaxAliases: 30, MaxTokens: 10_000}
}

// Error codes of rejected operations. They are protocol errors: the
// response is 422, like a validation failure.
const (
	codeTooDeep      = "QUERY_TOO_DEEP"
	codeTooComplex   = "QUERY_TOO_COMPLEX"
	codeTooManyAlias = "TOO_MANY_ALIASES"
	codePageSize     = "PAGE_SIZE_INVALID"
)

func init() {
	for _, c := range []string{codeTooDeep, codeTooComplex, codeTooManyAlias, codePageSize} {
		errcode.RegisterErrorType(c, errcode.KindProtocol)
	}
}

// limitsExtension enforces Limits on every operation.
type limitsExtension struct{ Limits }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = limitsExtension{}

func (limitsExtension) ExtensionName() string                   { return "Limits" }
func (limitsExtension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext checks the operation against the limits and, when
// it passes, gives its connections their default page (withDefaultPages).
func (l limitsExtension) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	w := walker{limits: l.Limits, doc: oc.Doc, vars: oc.Variables}
	cost := w.selectionSet(oc.Operation.SelectionSet, 0, 1)
	switch {
	case w.err != nil:
		return w.err
	case w.aliases > l.MaxAliases:
		return reject(codeTooManyAlias, "operation has %d aliases; the limit is %d", w.aliases, l.MaxAliases)
	case w.depth > l.MaxDepth:
		return reject(codeTooDeep, "operation is %d levels deep; the limit is %d", w.depth, l.MaxDepth)
	case cost > l.MaxComplexity:
		return reject(codeTooComplex, "operation complexity is %d; the limit is %d (lower first/last or select less)", cost, l.MaxComplexity)
	}
	oc.Doc, oc.Operation = withDefaultPages(oc.Doc, oc.Operation, oc.Variables)
	return nil
}

func reject(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, code)
	return err
}

// walker measures an operation: its deepest level, aliases and cost.
type walker struct {
	limits  Limits
	doc     *ast.QueryDocument
	vars    map[string]any
	depth   int
	aliases int
	err     *gqlerror.Error
}

// selectionSet returns the cost of set at depth, each of its fields
// resolved mult times. Costs saturate at MaxComplexity+1 so deep fan-outs
// cannot overflow.
func (w *walker) selectionSet(set ast.SelectionSet, depth, mult int) int {
	cost := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			cost = w.add(cost, w.field(s, depth, mult))
		case *ast.InlineFragment:
			cost = w.add(cost, w.selectionSet(s.SelectionSet, depth, mult))
		case *ast.FragmentSpread:
			if f := w.doc.Fragments.ForName(s.Name); f != nil {
				cost = w.add(cost, w.selectionSet(f.SelectionSet, depth, mult))
			}
		}
	}
	return cost
}

func (w *walker) field(f *ast.Field, depth, mult int) int {
	if f.Alias != "" && f.Alias != f.Name {
		w.aliases++
	}
	if f.Definition == nil || strings.HasPrefix(f.Name, "__") {
		return mult
	}
	if !isWrapper(f) {
		depth++
	}
	w.depth = max(w.depth, depth)
	if len(f.SelectionSet) == 0 {
		return mult
	}
	return w.add(mult, w.selectionSet(f.SelectionSet, depth, w.mul(mult, w.size(f))))
}

// isWrapper reports whether f is a connection's edges or an edge's node:
// levels of Relay plumbing, not of data.
func isWrapper(f *ast.Field) bool {
	parent := f.ObjectDefinition
	if parent == nil {
		return false
	}
	return (f.Name == "edges" && strings.HasSuffix(parent.Name, "Connection")) ||
		(f.Name == "node" && strings.HasSuffix(parent.Name, "Edge"))
}

// size is how many times f's children are resolved per resolution of f.
func (w *walker) size(f *ast.Field) int {
	args := f.ArgumentMap(w.vars)
	if f.Name == "nodes" {
		if ids, ok := args["ids"].([]any); ok {
			if len(ids) > MaxPage {
				w.fail(codePageSize, f, "ids must list at most %d ids", MaxPage)
			}
			return len(ids)
		}
	}
	if isConnection(f) {
		return w.pageSize(f, args)
	}
	if f.Definition.Type.Elem != nil {
		if f.Name == "edges" {
			return 1 // multiplied by the connection's page size already
		}
		return ent.ListLimit // what SQL returns per parent at most
	}
	return 1
}

func isConnection(f *ast.Field) bool {
	t := f.Definition.Type
	return t.Elem == nil && strings.HasSuffix(t.NamedType, "Connection") &&
		f.Definition.Arguments.ForName("first") != nil
}

// pageSize checks first/last and returns the page a connection returns.
func (w *walker) pageSize(f *ast.Field, args map[string]any) int {
	size := DefaultPage
	for _, name := range []string{"first", "last"} {
		v, ok := args[name]
		if !ok || v == nil {
			continue
		}
		n, ok := asInt(v)
		switch {
		case !ok || n < 0:
			w.fail(codePageSize, f, "%s must be between 0 and %d", name, MaxPage)
		case n > MaxPage:
			w.fail(codePageSize, f, "%s must be at most %d, got %d", name, MaxPage, n)
		default:
			size = n
		}
	}
	return size
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), float64(int(n)) == n
	case interface{ Int64() (int64, error) }: // json.Number from variables
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

func (w *walker) fail(code string, f *ast.Field, format string, args ...any) {
	if w.err != nil {
		return
	}
	w.err = reject(code, "%s: %s", f.Alias, fmt.Sprintf(format, args...))
	w.err.Locations = []gqlerror.Location{{Line: f.Position.Line, Column: f.Position.Column}}
}

func (w *walker) add(a, b int) int { return min(a+b, w.limits.MaxComplexity+1) }

func (w *walker) mul(a, b int) int {
	if a != 0 && b > (w.limits.MaxComplexity+1)/a {
		return w.limits.MaxComplexity + 1
	}
	return a * b
}
