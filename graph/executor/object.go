package executor

import (
	"context"
	"reflect"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
)

// fieldSetFields is the offset of graphql.FieldSet's collected fields
// (unexported: gqlgen's NewFieldSet sets them, ResolveConcurrently and the
// @defer views read them), found once and checked by type, so NewFieldSet
// can set them in a field set of its own allocation.
var fieldSetFields = func() uintptr {
	f, ok := reflect.TypeFor[graphql.FieldSet]().FieldByName("fields")
	if !ok || f.Type != reflect.TypeFor[[]graphql.CollectedField]() {
		panic("graph/executor: graphql.FieldSet has no fields []graphql.CollectedField: update NewFieldSet")
	}
	return f.Offset
}()

// Set is an object's field set (graphql.FieldSet, embedded: the generated
// executor uses it as gqlgen's) and its written form, allocated together;
// the sized variants hold the values too.
type Set struct {
	graphql.FieldSet
	obj object
}

type (
	set2 struct {
		Set
		values [2]graphql.Marshaler
	}
	set4 struct {
		Set
		values [4]graphql.Marshaler
	}
	set8 struct {
		Set
		values [8]graphql.Marshaler
	}
)

// NewFieldSet replaces graphql.NewFieldSet in the generated executor (graph/
// gqlgen): the same field set, allocated with the object Object returns
// and, for up to 8 fields, the values — one allocation per object
// marshalled instead of three (the lead screen marshals ~340).
func NewFieldSet(fields []graphql.CollectedField) *Set {
	var s *Set
	switch n := len(fields); {
	case n <= 2:
		v := new(set2)
		v.Values, s = v.values[:n:n], &v.Set
	case n <= 4:
		v := new(set4)
		v.Values, s = v.values[:n:n], &v.Set
	case n <= 8:
		v := new(set8)
		v.Values, s = v.values[:n:n], &v.Set
	default:
		s = new(Set)
		s.Values = make([]graphql.Marshaler, n)
	}
	*(*[]graphql.CollectedField)(unsafe.Add(unsafe.Pointer(&s.FieldSet), fieldSetFields)) = fields
	return s
}

// fieldCtx is a context holding a field context, allocated together (the
// list elements' in one slice per list).
type fieldCtx struct {
	context.Context
	fc    graphql.FieldContext
	index int // an element's, for fc.Index
}

// fieldContextKey is the key graphql.GetFieldContext asks its context for
// (unexported in gqlgen), learnt by asking.
var fieldContextKey = func() any {
	var k keyProbe
	graphql.GetFieldContext(&k)
	if k.key == nil {
		panic("graph/executor: graphql.GetFieldContext asks its context for no key: update fieldCtx")
	}
	return k.key
}()

type keyProbe struct {
	context.Context
	key any
}

func (k *keyProbe) Value(key any) any {
	k.key = key
	return nil
}

func (c *fieldCtx) Value(key any) any {
	if key == fieldContextKey {
		return &c.fc
	}
	return c.Context.Value(key)
}

// WithFieldContext is graphql.WithFieldContext for the generated object
// fields (graph/gqlgen): the context and a copy of fc in one allocation
// rather than two, and the copy, which the context holds, returned.
func WithFieldContext(ctx context.Context, fc *graphql.FieldContext) (context.Context, *graphql.FieldContext) {
	c := &fieldCtx{Context: ctx, fc: *fc}
	c.fc.Parent = graphql.GetFieldContext(ctx)
	return c, &c.fc
}
