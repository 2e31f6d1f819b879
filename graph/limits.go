package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

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
	// MaxSelections bounds the field selections and fragment spreads of a
	// document, fragments counted where they are spread. It is checked in
	// one pass before validation, whose overlapping-fields rule is
	// quadratic in the selections of a selection set.
	MaxSelections int
	// MaxResponseBytes bounds the JSON data of one answer; past it the
	// data is dropped and the answer is an error.
	MaxResponseBytes int
}

// DefaultLimits are safe defaults, measured (docs/limits.md): the worst
// operation the complexity budget admits answers about 1 MB in well under
// a second; a lead screen of 100 leads passes.
func DefaultLimits() Limits {
	return Limits{MaxDepth: 10, MaxComplexity: 60_000, MaxAliases: 30, MaxTokens: 10_000,
		MaxSelections: 1_000, MaxResponseBytes: 8 << 20}
}

// orDefaults returns l with each unset (zero) limit at its default.
func (l Limits) orDefaults() Limits {
	d := DefaultLimits()
	for _, p := range []struct{ v, def *int }{
		{&l.MaxDepth, &d.MaxDepth}, {&l.MaxComplexity, &d.MaxComplexity}, {&l.MaxAliases, &d.MaxAliases},
		{&l.MaxTokens, &d.MaxTokens}, {&l.MaxSelections, &d.MaxSelections}, {&l.MaxResponseBytes, &d.MaxResponseBytes},
	} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	return l
}

// Error codes of rejected operations. They are protocol errors: the
// response is 422, like a validation failure.
const (
	codeTooDeep      = "QUERY_TOO_DEEP"
	codeTooComplex   = "QUERY_TOO_COMPLEX"
	codeTooManyAlias = "TOO_MANY_ALIASES"
	codePageSize     = "PAGE_SIZE_INVALID"
	codeTooMany      = "TOO_MANY_SELECTIONS"
	// codeTooLarge is an execution error: the operation ran, its answer
	// was too big to send.
	codeTooLarge = "RESPONSE_TOO_LARGE"
)

func init() {
	for _, c := range []string{codeTooDeep, codeTooComplex, codeTooManyAlias, codePageSize, codeTooMany} {
		errcode.RegisterErrorType(c, errcode.KindProtocol)
	}
}

// limitsExtension enforces Limits on every operation.
type limitsExtension struct {
	Limits
	// validated is the executor's cache of parsed and validated documents:
	// a document found there has passed the selection count already.
	validated graphql.Cache[*ast.QueryDocument]
	// schema is what introspection answers from, so its cost is exact.
	schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
	graphql.ResponseInterceptor
} = limitsExtension{}

func newLimitsExtension(l Limits, schema *ast.Schema, validated graphql.Cache[*ast.QueryDocument]) limitsExtension {
	return limitsExtension{Limits: l, validated: validated, schema: schema}
}

// MutateOperationParameters counts the selections of a document not yet
// validated, in one pass over its parse (bounded by MaxTokens), before
// validation can spend quadratic time on them.
func (l limitsExtension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil
	}
	if _, ok := l.validated.Get(ctx, p.Query); ok {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, l.MaxTokens)
	if err != nil {
		return nil // the executor parses again and reports it
	}
	if n := countSelections(doc, l.MaxSelections); n > l.MaxSelections {
		return reject(codeTooMany, "operation has more than %d field selections and fragment spreads", l.MaxSelections)
	}
	return nil
}

// countSelections returns how many fields and fragment spreads doc
// selects, each fragment counted wherever it is spread; it saturates just
// past limit. Each fragment is measured once (memoized), so the count is
// linear in the document; a fragment cycle counts nothing (validation
// rejects it).
func countSelections(doc *ast.QueryDocument, limit int) int {
	const visiting = -1
	memo := map[string]int{}
	var set func(ast.SelectionSet) int
	set = func(s ast.SelectionSet) int {
		n := 0
		for _, sel := range s {
			switch s := sel.(type) {
			case *ast.Field:
				n += 1 + set(s.SelectionSet)
			case *ast.InlineFragment:
				n += set(s.SelectionSet)
			case *ast.FragmentSpread:
				n++
				c, seen := memo[s.Name]
				if !seen {
					c = 0
					if f := doc.Fragments.ForName(s.Name); f != nil {
						memo[s.Name] = visiting
						c = set(f.SelectionSet)
					}
					memo[s.Name] = c
				}
				n += max(c, 0)
			}
			if n > limit {
				return limit + 1
			}
		}
		return n
	}
	total := 0
	for _, op := range doc.Operations {
		total = min(total+set(op.SelectionSet), limit+1)
	}
	for _, f := range doc.Fragments {
		if _, seen := memo[f.Name]; !seen { // unused: validation rejects it, but it was parsed
			total = min(total+set(f.SelectionSet), limit+1)
		}
	}
	return total
}

// InterceptResponse drops an answer whose data is larger than
// MaxResponseBytes. The complexity budget keeps admitted operations well
// below it; this bounds what the estimate cannot see (long text values).
func (l limitsExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || len(resp.Data) <= l.MaxResponseBytes {
		return resp
	}
	err := gqlerror.Errorf("the answer is larger than %d bytes; select less or page with smaller first/last", l.MaxResponseBytes)
	errcode.Set(err, codeTooLarge)
	resp.Data = nil
	resp.Errors = gqlerror.List{err}
	return resp
}

func (limitsExtension) ExtensionName() string                   { return "Limits" }
func (limitsExtension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext checks the operation against the limits and, when
// it passes, gives its connections their default page (withDefaultPages).
func (l limitsExtension) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	w := walker{limits: l.Limits, doc: oc.Doc, vars: oc.Variables, schema: l.schema}
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
	schema  *ast.Schema
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
	if f.Definition == nil {
		return mult
	}
	if !isWrapper(f) {
		depth++
	}
	w.depth = max(w.depth, depth)
	if len(f.SelectionSet) == 0 {
		return mult
	}
	if f.Name == "__schema" || f.Name == "__type" {
		return w.introspection(f, depth, mult)
	}
	return w.add(mult, w.selectionSet(f.SelectionSet, depth, w.mul(mult, w.size(f))))
}

// isWrapper reports whether f is a connection's edges or an edge's node,
// or a type's ofType: levels of Relay or type-wrapper plumbing, not of
// data (GraphiQL's introspection query nests ofType seven deep).
func isWrapper(f *ast.Field) bool {
	parent := f.ObjectDefinition
	if parent == nil {
		return false
	}
	return (f.Name == "edges" && strings.HasSuffix(parent.Name, "Connection")) ||
		(f.Name == "node" && strings.HasSuffix(parent.Name, "Edge")) ||
		(f.Name == "ofType" && parent.Name == "__Type")
}

// size is how many times f's children are resolved per resolution of f.
func (w *walker) size(f *ast.Field) int {
	// The arguments' map only where a size is read from them: it is made
	// anew on every call.
	if f.Name == "nodes" {
		if ids, ok := f.ArgumentMap(w.vars)["ids"].([]any); ok {
			if len(ids) > MaxPage {
				w.fail(codePageSize, f, "ids must list at most %d ids", MaxPage)
			}
			return len(ids)
		}
	}
	if isConnection(f) {
		return w.pageSize(f, f.ArgumentMap(w.vars))
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
