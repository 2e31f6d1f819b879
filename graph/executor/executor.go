// Package executor decides where the generated GraphQL executor needs
// goroutines.
//
// gqlgen resolves every field bound to a resolver or to a method that takes
// a context, and every element of a list, in a goroutine of its own. Most
// of those fields are entgql's edge methods, whose rows the field
// collection has already eager-loaded: a goroutine each (hundreds per
// request) only costs scheduling and stack growth. What needs concurrency
// are the hand-written resolvers backed by per-request dataloaders
// (createdBy, assignee, customFieldValues…): their loads are batched across
// a list's rows only while the rows resolve at the same time.
//
// So the generated executor (graph/gqlgen) calls ResolveField and
// MarshalSlice where gqlgen would start goroutines, and they decide per
// operation, from a plan Extension makes before execution:
//   - a field resolves concurrently, as gqlgen does, when it is a
//     hand-written resolver or selects one somewhere below it, or is
//     deferred; otherwise on its object's goroutine;
//   - a list's elements resolve concurrently when the list selects a
//     hand-written resolver somewhere below it; otherwise one after another.
//
// Concurrency is kept wherever it can matter, so loads batch and
// statements count exactly as before; an operation with no hand-written
// resolver (the recursive account ↔ contact query) runs on one goroutine.
// The hand-written resolvers are generated next to the executor
// (generated.ConcurrentFields).
package executor

import (
	"bytes"
	"context"
	"io"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/conecrm/gateway/internal/ids"
)

// Fields lists, per GraphQL type (objects and the interfaces they
// implement), the fields that need concurrency: the hand-written resolvers.
type Fields map[string]map[string]bool

// Extension is the gqlgen handler extension that plans each operation: it
// records, for every field of the operation, whether it is or selects a
// concurrent field. ResolveField and MarshalSlice read the plan.
type Extension struct {
	Concurrent Fields
	// plans keeps the plans of parsed operations (NewExtension); nil, one
	// is made per request.
	plans *plans
}

// NewExtension returns an Extension that plans each parsed operation once
// and keeps the plan for its later requests, as the executor keeps the
// parsed document (at most size plans).
func NewExtension(concurrent Fields, size int) Extension {
	return Extension{Concurrent: concurrent, plans: &plans{size: size, m: map[opKey]*plan{}}}
}

var (
	_ graphql.HandlerExtension     = Extension{}
	_ graphql.OperationInterceptor = Extension{}
)

func (Extension) ExtensionName() string                   { return "SequentialLists" }
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

func (e Extension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil {
		return next(ctx)
	}
	var p *plan
	if e.plans != nil {
		p = e.plans.get(e.Concurrent, oc)
	} else {
		p = newPlan(e.Concurrent, oc.Operation)
	}
	if !p.fixed { // its collected fields are this request's own
		p = &plan{concurrent: p.concurrent, reaches: p.reaches, op: p.op}
		p.collected = p.first[:0]
	}
	return next(context.WithValue(ctx, planKey{}, p))
}

type planKey struct{}

// plan holds, per field of one operation, whether the field itself or
// anything selected below it is concurrent ("reaches" one). It is written
// before execution and only read during it, but for the cache of
// collected fields.
type plan struct {
	concurrent Fields
	reaches    map[*ast.Field]bool
	op         *ast.OperationDefinition
	// fixed: no directive of the document depends on a variable, so the
	// fields collected from a selection set are the same for every request
	// of the operation, and the plan's cache of them serves them all;
	// otherwise each request caches its own.
	fixed bool

	// The collected fields, cached during execution: a selection set per
	// object type selected (8 on the lead screen), searched in order.
	mu        sync.Mutex
	collected []collected
	first     [8]collected
}

func newPlan(concurrent Fields, op *ast.OperationDefinition) *plan {
	p := &plan{concurrent: concurrent, reaches: map[*ast.Field]bool{}, op: op}
	p.collected = p.first[:0]
	p.selection(op.SelectionSet)
	return p
}

// plans are the plans of operations by query text and operation name,
// each valid while the executor's parse of it (the operation's pointer,
// from its cache of parsed documents) is the one the request runs.
type plans struct {
	size int
	mu   sync.Mutex
	m    map[opKey]*plan
}

type opKey struct{ query, name string }

// get returns the plan of oc's operation, planning it when the kept plan
// is of another parse of the text: a document the executor parsed again,
// or a request's own copy of the operation (graph's default pages add
// arguments to a copy), which is planned for each request.
func (c *plans) get(concurrent Fields, oc *graphql.OperationContext) *plan {
	k := opKey{oc.RawQuery, oc.OperationName}
	c.mu.Lock()
	kept := c.m[k]
	c.mu.Unlock()
	if kept != nil && kept.op == oc.Operation {
		return kept
	}
	p := newPlan(concurrent, oc.Operation)
	if kept != nil {
		p.fixed = kept.fixed // the same text, the same directives
	} else {
		p.fixed = !variableDirectives(oc.Doc)
	}
	c.mu.Lock()
	if len(c.m) >= c.size {
		clear(c.m) // as many as the executor keeps parsed documents: rarely
	}
	c.m[k] = p
	c.mu.Unlock()
	return p
}

// variableDirectives reports whether a directive of doc has an argument
// that is or holds a variable (@include(if: $x), @defer(if: $x)…): which
// fields are collected then depends on the request's variables.
func variableDirectives(doc *ast.QueryDocument) bool {
	var set func(ast.SelectionSet) bool
	dirs := func(ds ast.DirectiveList) bool {
		for _, d := range ds {
			for _, a := range d.Arguments {
				if holdsVariable(a.Value) {
					return true
				}
			}
		}
		return false
	}
	set = func(ss ast.SelectionSet) bool {
		for _, s := range ss {
			switch s := s.(type) {
			case *ast.Field:
				if dirs(s.Directives) || set(s.SelectionSet) {
					return true
				}
			case *ast.InlineFragment:
				if dirs(s.Directives) || set(s.SelectionSet) {
					return true
				}
			case *ast.FragmentSpread:
				if dirs(s.Directives) {
					return true
				}
			}
		}
		return false
	}
	for _, op := range doc.Operations {
		if dirs(op.Directives) || set(op.SelectionSet) {
			return true
		}
	}
	for _, f := range doc.Fragments {
		if dirs(f.Directives) || set(f.SelectionSet) {
			return true
		}
	}
	return false
}

func holdsVariable(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable {
		return true
	}
	for _, c := range v.Children {
		if holdsVariable(c.Value) {
			return true
		}
	}
	return false
}

// selection reports whether set reaches a concurrent field, recording every
// field below it (each field once: fragments spread twice share theirs).
func (p *plan) selection(set ast.SelectionSet) bool {
	reaches := false
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if p.field(s) {
				reaches = true
			}
		case *ast.InlineFragment:
			if p.selection(s.SelectionSet) {
				reaches = true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && p.selection(s.Definition.SelectionSet) {
				reaches = true
			}
		}
	}
	return reaches
}

func (p *plan) field(f *ast.Field) bool {
	if r, ok := p.reaches[f]; ok {
		return r
	}
	r := f.ObjectDefinition != nil && p.concurrent[f.ObjectDefinition.Name][f.Name]
	if p.selection(f.SelectionSet) {
		r = true
	}
	p.reaches[f] = r
	return r
}

// reached reports whether the collected selection set reaches a concurrent
// field; anything the plan does not know counts as reaching one.
func (p *plan) reached(set ast.SelectionSet) bool {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if r, ok := p.reaches[s]; !ok || r {
				return true
			}
		case *ast.InlineFragment:
			if p.reached(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition == nil || p.reached(s.Definition.SelectionSet) {
				return true
			}
		}
	}
	return false
}

// planned returns the operation's plan, or nil when the executor runs
// without Extension (then everything is concurrent, as gqlgen does).
func planned(ctx context.Context) *plan {
	p, _ := ctx.Value(planKey{}).(*plan)
	return p
}

// ResolveField replaces FieldSet.ResolveConcurrently in the generated
// executor (the same arguments, after the object's context, field set and
// field): field i resolves concurrently when it reaches a concurrent field
// or is deferred, else right away on the calling goroutine, with the same
// panic guard and invalid-result bookkeeping.
func ResolveField(
	ctx context.Context,
	out *Set,
	field graphql.CollectedField,
	oc *graphql.OperationContext,
	deferred *graphql.DeferredGroup,
	i int,
	recoverFromPanic bool,
	nonNull bool,
	resolve func(ctx context.Context) graphql.Marshaler,
) {
	if p := planned(ctx); p == nil || field.IsDeferred() || p.reachedBy(field) {
		out.ResolveConcurrently(oc, deferred, i, recoverFromPanic, nonNull, resolve)
		return
	}
	v := resolveGuarded(ctx, oc, recoverFromPanic, resolve)
	out.Values[i] = v
	if (nonNull && v == graphql.Null) || (!nonNull && v == graphql.RequiredNull) {
		atomic.AddUint32(&out.Invalids, 1)
	}
}

// Inline reports whether the object field resolves on its object's
// goroutine in this operation (what ResolveField decides): graph/gqlgen
// then calls the field's function directly, without a closure. The
// functions it calls so are the rewritten object fields, each guarded
// against panics as ResolveField's call would be.
func Inline(ctx context.Context, field graphql.CollectedField) bool {
	p := planned(ctx)
	return p != nil && !field.IsDeferred() && !p.reachedBy(field)
}

// SetField stores the value of an object's field i resolved inline, counting
// an invalid null as ResolveField does.
func SetField(out *Set, i int, nonNull bool, v graphql.Marshaler) {
	out.Values[i] = v
	if (nonNull && v == graphql.Null) || (!nonNull && v == graphql.RequiredNull) {
		atomic.AddUint32(&out.Invalids, 1)
	}
}

// collectedKey names a selection set collected for an object type: the
// set's and the type's list's backing arrays (parsed once per document,
// generated once per type) and lengths.
type collectedKey struct {
	sel          *ast.Selection
	selLen       int
	satisfies    *string
	satisfiesLen int
}

// CollectFields replaces graphql.CollectFields in the generated executor:
// the same fields, cached per operation by the identity of the selection
// set and the object type's implementors. gqlgen caches per operation
// too, but keys its cache with an FNV hash of the implementors' names,
// allocated and computed for every object marshalled (~370 times on the
// lead screen).
func CollectFields(ctx context.Context, oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	p := planned(ctx)
	if p == nil {
		return graphql.CollectFields(oc, sel, satisfies)
	}
	k := collectedKey{unsafe.SliceData(sel), len(sel), unsafe.SliceData(satisfies), len(satisfies)}
	p.mu.Lock()
	for i := range p.collected {
		if p.collected[i].key == k {
			fields := p.collected[i].fields
			p.mu.Unlock()
			return fields
		}
	}
	p.mu.Unlock()
	fields := graphql.CollectFields(oc, sel, satisfies)
	p.mu.Lock()
	p.collected = append(p.collected, collected{k, fields})
	p.mu.Unlock()
	return fields
}

// collected is one selection set's collected fields.
type collected struct {
	key    collectedKey
	fields []graphql.CollectedField
}

// resolveGuarded runs resolve, turning a panic into an error at the
// field's path and a null when recoverFromPanic is set (as
// FieldSet.ResolveConcurrently does).
func resolveGuarded(ctx context.Context, oc *graphql.OperationContext, recoverFromPanic bool, resolve func(ctx context.Context) graphql.Marshaler) (res graphql.Marshaler) {
	if recoverFromPanic {
		defer func() {
			if r := recover(); r != nil {
				oc.Error(ctx, oc.Recover(ctx, r))
				res = graphql.Null
			}
		}()
	}
	return resolve(ctx)
}

// reachedBy reports whether the collected field is or selects a concurrent
// field (a field selected twice under one name is collected once, with
// both selections).
func (p *plan) reachedBy(field graphql.CollectedField) bool {
	if field.Field == nil {
		return true
	}
	if r, ok := p.reaches[field.Field]; !ok || r {
		return true
	}
	return p.reached(field.Selections)
}

// concurrentElements reports whether the elements of the list being
// marshalled in ctx must resolve concurrently: when the list selects a
// concurrent field, or when the plan or the list's field is unknown (a
// list inside a list).
func concurrentElements(ctx context.Context) bool {
	p := planned(ctx)
	fc := graphql.GetFieldContext(ctx)
	if p == nil || fc == nil || fc.Field.Field == nil {
		return true
	}
	return p.reached(fc.Field.Selections)
}

// MarshalSlice replaces graphql.MarshalSliceConcurrently in the generated
// executor (same signature): the elements resolve one after another on the
// calling goroutine, unless the list selects a concurrent field (one
// element always does: gqlgen too resolves it in place).
func MarshalSlice(
	ctx context.Context,
	length int,
	workerLimit int64,
	omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	if length == 0 || (length > 1 && concurrentElements(ctx)) {
		return graphql.MarshalSliceConcurrently(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	ret := make(graphql.Array, length)
	// The elements' contexts, field contexts and indexes in one allocation
	// per list rather than three per element.
	parent := graphql.GetFieldContext(ctx)
	ctxs := make([]fieldCtx, length)
	for i := range ctxs {
		c := &ctxs[i]
		c.Context, c.index = ctx, i
		c.fc.Index, c.fc.Parent = &c.index, parent
		ret[i] = marshalElement1(c, i, omitPanicHandler, marshalElement)
	}
	return ret
}

// marshalElement1 marshals element i, turning a panic into an error at its
// path and a null unless omitPanicHandler (as gqlgen does per element).
func marshalElement1(ctx context.Context, i int, omitPanicHandler bool, marshalElement func(ctx context.Context, i int) graphql.Marshaler) (ret graphql.Marshaler) {
	if !omitPanicHandler {
		defer func() {
			if r := recover(); r != nil {
				graphql.AddError(ctx, graphql.Recover(ctx, r))
				ret = graphql.Null
			}
		}()
	}
	return marshalElement(ctx, i)
}

// DeferredGroup is graphql.NewDeferredGroup for an object whose collected
// fields are fields. gqlgen makes the group for every object it marshals —
// the object's path built from the context, a field set, a map — and uses
// it only when one of the fields is deferred (@defer): otherwise the
// group is empty, which ProcessDeferredGroup ignores. On the lead screen
// that was 6 % of the process's CPU.
func DeferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for i := range fields {
		if fields[i].IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{Context: ctx}
}

// Object replaces the *graphql.FieldSet an object's generated executor
// returns when none of its fields is deferred (graph/gqlgen rewrites the
// return): it writes the same JSON object — the fields in order, each
// alias once — without what gqlgen's FieldSet.MarshalGQL allocates per
// object marshalled: an iterator closure, a heap copy of every collected
// field and a map of the aliases written (13 % of the lead screen's
// allocations).
// The object is allocated with its set (NewFieldSet).
func Object(out *Set, fields []graphql.CollectedField) graphql.Marshaler {
	out.obj = object{values: out.Values, fields: fields}
	return &out.obj
}

type object struct {
	values []graphql.Marshaler
	fields []graphql.CollectedField
}

func (o *object) MarshalGQL(w io.Writer) {
	io.WriteString(w, "{")
	first := true
	for i := range o.fields {
		alias := o.fields[i].Alias
		if aliased(o.fields[:i], alias) {
			continue // as gqlgen: a name is written once
		}
		if !first {
			io.WriteString(w, ",")
		}
		first = false
		// An alias is a GraphQL name ([_A-Za-z][_0-9A-Za-z]*): nothing to
		// escape.
		io.WriteString(w, `"`)
		io.WriteString(w, alias)
		io.WriteString(w, `":`)
		if v := o.values[i]; v != nil {
			v.MarshalGQL(w)
		} else {
			io.WriteString(w, "null")
		}
	}
	io.WriteString(w, "}")
}

// aliased reports whether one of fields answers under alias.
func aliased(fields []graphql.CollectedField, alias string) bool {
	for i := range fields {
		if fields[i].Alias == alias {
			return true
		}
	}
	return false
}

// String is a string field of a resolved object, written as
// graphql.MarshalString writes it. graph/gqlgen marshals a string leaf as
// a pointer to the object's own field converted to *String, which costs
// no allocation; graphql.MarshalString's closure is one per string
// marshalled (~400 on the lead screen). The object is not written to
// after it is resolved, so the field still holds its value when the
// response is written.
type String string

func (s *String) MarshalGQL(w io.Writer) {
	graphql.MarshalString(string(*s)).MarshalGQL(w)
}

// UUID is a non-nil UUID field of a resolved object, written as
// graphql.MarshalUUID writes it. graph/gqlgen marshals such a leaf as a
// pointer to the object's own field converted to *UUID: no allocation,
// where graphql.MarshalUUID makes the UUID's string and a closure (two
// per lead id on the lead screen).
type UUID uuid.UUID

func (u *UUID) MarshalGQL(w io.Writer) {
	b, ok := w.(*bytes.Buffer)
	if !ok {
		graphql.MarshalUUID(uuid.UUID(*u)).MarshalGQL(w)
		return
	}
	// A UUID's text needs no escaping.
	var s [38]byte
	q := append(s[:0], '"')
	q = ids.AppendText(q, uuid.UUID(*u))
	b.Write(append(q, '"'))
}
