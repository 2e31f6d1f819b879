package executor

import (
	"bytes"
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// NewFieldSet's field set is gqlgen's in all it does — its fields resolve
// concurrently, it writes itself as gqlgen's does — for every size class,
// and Object writes the same JSON from it.
func TestNewFieldSetIsGqlgensFieldSet(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 4, 5, 8, 9, 20} {
		fields := make([]graphql.CollectedField, n)
		for i := range fields {
			fields[i] = graphql.CollectedField{Field: &ast.Field{Alias: string(rune('a' + i))}}
		}
		ours, theirs := NewFieldSet(fields), graphql.NewFieldSet(fields)
		for i := range n {
			v := graphql.MarshalInt(i)
			resolve := func(context.Context) graphql.Marshaler { return v }
			// ResolveConcurrently reads the set's collected fields.
			ours.ResolveConcurrently(nil, &graphql.DeferredGroup{}, i, false, true, resolve)
			theirs.ResolveConcurrently(nil, &graphql.DeferredGroup{}, i, false, true, resolve)
		}
		ours.Dispatch(context.Background())
		theirs.Dispatch(context.Background())
		var a, b bytes.Buffer
		ours.MarshalGQL(&a)
		theirs.MarshalGQL(&b)
		if a.String() != b.String() || len(ours.Values) != n || cap(ours.Values) != n {
			t.Errorf("%d fields: NewFieldSet's writes %s (values %d, cap %d), gqlgen's %s", n, a.String(), len(ours.Values), cap(ours.Values), b.String())
		}
		var o bytes.Buffer
		Object(ours, fields).MarshalGQL(&o)
		if o.String() != b.String() {
			t.Errorf("%d fields: Object writes %s, gqlgen's field set %s", n, o.String(), b.String())
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { Object(NewFieldSet(make([]graphql.CollectedField, 7)), nil) }); allocs > 2 {
		t.Errorf("an object of 7 fields costs %.0f allocations, want 2 (its fields' slice here, its set)", allocs)
	}
}

type otherKey struct{}

// WithFieldContext's context answers graphql.GetFieldContext with its copy
// of the field context, whose parent is the enclosing field's, and every
// other key as its parent does; so do a list's elements' contexts.
func TestFieldContextsAreGqlgens(t *testing.T) {
	// A plan whose lists select no concurrent field: MarshalSlice's own path.
	ctx := context.WithValue(context.Background(), planKey{}, &plan{reaches: map[*ast.Field]bool{}})
	ctx = context.WithValue(ctx, otherKey{}, "v")
	outer := &graphql.FieldContext{Object: "Query"}
	ctx = graphql.WithFieldContext(ctx, outer)
	fc := &graphql.FieldContext{Object: "Lead", Field: graphql.CollectedField{Field: &ast.Field{Alias: "account"}}}
	ctx, got := WithFieldContext(ctx, fc)
	if graphql.GetFieldContext(ctx) != got || got.Parent != outer || got.Object != "Lead" || got.Field.Alias != "account" {
		t.Fatalf("the context holds %+v, returned %+v, want a copy of %+v under %p", graphql.GetFieldContext(ctx), got, fc, outer)
	}
	if ctx.Value(otherKey{}) != "v" {
		t.Error("another key is lost")
	}
	var paths []string
	MarshalSlice(ctx, 3, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		fc := graphql.GetFieldContext(ctx)
		if fc.Parent != got || *fc.Index != i || ctx.Value(otherKey{}) != "v" {
			t.Errorf("element %d: field context %+v", i, fc)
		}
		paths = append(paths, fc.Path().String())
		return graphql.Null
	})
	if len(paths) != 3 || paths[0] != "account[0]" || paths[2] != "account[2]" {
		t.Errorf("the elements' paths are %v", paths)
	}
}
