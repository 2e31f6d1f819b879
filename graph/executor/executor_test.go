package executor

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

const schema = `
type Query { accounts: [Account!]! node: Node }
interface Node { id: ID! createdBy: User }
type Account implements Node { id: ID! name: String createdBy: User contacts: [Contact!]! }
type Contact implements Node { id: ID! name: String createdBy: User accounts: [Account!]! }
type User { id: ID! name: String }
`

var concurrent = Fields{
	"Account": {"createdBy": true},
	"Contact": {"createdBy": true},
	"Node":    {"createdBy": true},
}

// planOf plans q and returns the plan and the operation's fields by path
// (aliases joined with dots; the last field of a path wins).
func planOf(t *testing.T, q string) (*plan, map[string]*ast.Field) {
	t.Helper()
	s := gqlparser.MustLoadSchema(&ast.Source{Input: schema})
	doc, errs := gqlparser.LoadQuery(s, q)
	if errs != nil {
		t.Fatal(errs)
	}
	p := &plan{concurrent: concurrent, reaches: map[*ast.Field]bool{}}
	p.selection(doc.Operations[0].SelectionSet)
	fields := map[string]*ast.Field{}
	var walk func(prefix string, set ast.SelectionSet)
	walk = func(prefix string, set ast.SelectionSet) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				fields[prefix+s.Alias] = s
				walk(prefix+s.Alias+".", s.SelectionSet)
			case *ast.InlineFragment:
				walk(prefix, s.SelectionSet)
			case *ast.FragmentSpread:
				walk(prefix, s.Definition.SelectionSet)
			}
		}
	}
	walk("", doc.Operations[0].SelectionSet)
	return p, fields
}

func TestPlanMarksWhatReachesAResolver(t *testing.T) {
	p, f := planOf(t, `{
		accounts { name contacts { name accounts { name } } }
		plain: accounts { contacts { accounts { name } } }
		viaFragment: accounts { contacts { ...audited } }
		viaInterface: node { ... on Node { createdBy { name } } }
		viaInline: accounts { contacts { ... on Contact { createdBy { id } } } }
	}
	fragment audited on Contact { createdBy { name } }`)
	for path, want := range map[string]bool{
		"accounts":                            false,
		"accounts.contacts":                   false,
		"accounts.contacts.accounts":          false,
		"plain":                               false,
		"viaFragment":                         true,
		"viaFragment.contacts":                true,
		"viaFragment.contacts.createdBy":      true,
		"viaFragment.contacts.createdBy.name": false,
		"viaInterface":                        true,
		"viaInterface.createdBy":              true,
		"viaInline.contacts":                  true,
	} {
		if got := p.reaches[f[path]]; got != want {
			t.Errorf("%s reaches a concurrent field: %v, want %v", path, got, want)
		}
	}
	// A list's elements are concurrent when its selection reaches one.
	if p.reached(f["accounts.contacts"].SelectionSet) {
		t.Error("accounts.contacts' elements planned concurrent")
	}
	if !p.reached(f["viaFragment.contacts"].SelectionSet) {
		t.Error("viaFragment.contacts' elements planned sequential")
	}
	// A field the plan has not seen (another operation's) is concurrent.
	_, other := planOf(t, `{ accounts { name } }`)
	if !p.reached(ast.SelectionSet{other["accounts.name"]}) {
		t.Error("an unplanned field planned sequential")
	}
}

// An object without a deferred field gets an empty @defer group (no path,
// field set or map made); one with a deferred field gets gqlgen's.
func TestDeferredGroupOnlyForDeferredFields(t *testing.T) {
	ctx := context.Background()
	plain := []graphql.CollectedField{{Field: &ast.Field{Name: "id"}}}
	if g := DeferredGroup(ctx, plain); g.FieldSet != nil || g.Defers != nil || g.Context != ctx {
		t.Errorf("group of an object without @defer: %+v", g)
	}
	deferred := append(plain, graphql.CollectedField{Field: &ast.Field{Name: "name"}, Deferrables: []*graphql.Deferrable{{Label: "a"}}})
	if g := DeferredGroup(ctx, deferred); g.FieldSet == nil || g.Defers == nil {
		t.Errorf("group of an object with @defer: %+v", g)
	}
}

// An object without deferred fields writes what gqlgen's field set writes:
// the fields in order, a repeated alias once, nested values as they are.
func TestObjectWritesWhatTheFieldSetWrites(t *testing.T) {
	field := func(alias string) graphql.CollectedField {
		return graphql.CollectedField{Field: &ast.Field{Alias: alias, Name: alias}}
	}
	inner := NewFieldSet([]graphql.CollectedField{field("id")})
	inner.Values[0] = graphql.MarshalID("7")
	cases := map[string]struct {
		fields []graphql.CollectedField
		values []graphql.Marshaler
	}{
		"empty":    {},
		"scalars":  {[]graphql.CollectedField{field("id"), field("name"), field("n")}, []graphql.Marshaler{graphql.MarshalID("1"), graphql.MarshalString("a \"quoted\" ü"), graphql.MarshalInt(3)}},
		"null":     {[]graphql.CollectedField{field("name")}, []graphql.Marshaler{graphql.Null}},
		"repeated": {[]graphql.CollectedField{field("a"), field("b"), field("a")}, []graphql.Marshaler{graphql.MarshalInt(1), graphql.MarshalInt(2), graphql.MarshalInt(3)}},
		"nested":   {[]graphql.CollectedField{field("node"), field("list")}, []graphql.Marshaler{Object(inner, []graphql.CollectedField{field("id")}), graphql.Array{inner, graphql.Null}}},
	}
	for name, c := range cases {
		out := NewFieldSet(c.fields)
		copy(out.Values, c.values)
		var want, got bytes.Buffer
		out.MarshalGQL(&want)
		Object(out, c.fields).MarshalGQL(&got)
		if got.String() != want.String() {
			t.Errorf("%s: %s, want %s", name, got.String(), want.String())
		}
	}
}

// CollectFields answers what graphql.CollectFields answers, per object
// type (fragments on one type only), per operation (its variables decide
// @include), and collects each selection set once per type.
func TestCollectFieldsCachesPerOperationAndType(t *testing.T) {
	s := gqlparser.MustLoadSchema(&ast.Source{Input: schema})
	doc, errs := gqlparser.LoadQuery(s, `query($with: Boolean!) { node { id ... on Account { name @include(if: $with) contacts { id } } ... on Contact { name } } }`)
	if errs != nil {
		t.Fatal(errs)
	}
	sel := doc.Operations[0].SelectionSet[0].(*ast.Field).SelectionSet
	account, contact := []string{"Account", "Node"}, []string{"Contact", "Node"}
	names := func(fs []graphql.CollectedField) (out []string) {
		for _, f := range fs {
			out = append(out, f.Name)
		}
		return out
	}
	for _, with := range []bool{true, false} {
		oc := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{"with": with}}
		ctx := graphql.WithOperationContext(context.Background(), oc)
		p := &plan{reaches: map[*ast.Field]bool{}}
		p.collected = p.first[:0]
		ctx = context.WithValue(ctx, planKey{}, p)
		for _, typ := range [][]string{account, contact} {
			got := CollectFields(ctx, oc, sel, typ)
			want := graphql.CollectFields(&graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: oc.Variables}, sel, typ)
			if a, b := names(got), names(want); fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("with %v, %v: %v, want %v", with, typ, a, b)
			}
			if again := CollectFields(ctx, oc, sel, typ); &again[0] != &got[0] {
				t.Errorf("with %v, %v: collected twice", with, typ)
			}
		}
		if len(p.collected) != 2 {
			t.Errorf("%d selection sets cached, want 2", len(p.collected))
		}
	}
}

// A *String writes what graphql.MarshalString writes, without allocating.
func TestStringMarshalsAsGraphQLStrings(t *testing.T) {
	var a, b bytes.Buffer
	for _, s := range []string{"", "plain", `quo"te`, `back\slash`, "tab\tnew\nline\rret", "\x00\x01\x1f control", "Léa Québec — ✓ 🚗", "\u2028\u2029"} {
		a.Reset()
		b.Reset()
		v := String(s)
		(&v).MarshalGQL(&a)
		graphql.MarshalString(s).MarshalGQL(&b)
		if a.String() != b.String() {
			t.Errorf("%q: %s, want %s", s, a.String(), b.String())
		}
	}
	v := String("Ada Admin")
	var m graphql.Marshaler = &v
	a.Grow(64)
	if n := testing.AllocsPerRun(100, func() { a.Reset(); m.MarshalGQL(&a) }); n != 0 {
		t.Errorf("%v allocations per string", n)
	}
}

// executor.UUID writes what graphql.MarshalUUID writes for a UUID that is
// not nil, into the answer's buffer without allocating, and into any
// other writer too.
func TestUUIDMarshalsAsGraphQLUUIDs(t *testing.T) {
	var a, b bytes.Buffer
	for _, u := range []uuid.UUID{uuid.Max, uuid.MustParse("0190f2a4-7b3c-7def-8123-456789abcdef"), uuid.New(), uuid.New()} {
		a.Reset()
		b.Reset()
		v := UUID(u)
		(&v).MarshalGQL(&a)
		graphql.MarshalUUID(u).MarshalGQL(&b)
		var other strings.Builder
		(&v).MarshalGQL(&other)
		if a.String() != b.String() || other.String() != b.String() {
			t.Errorf("%s: %s (and %s), want %s", u, a.String(), other.String(), b.String())
		}
	}
	v := UUID(uuid.New())
	var m graphql.Marshaler = &v
	a.Grow(64)
	if n := testing.AllocsPerRun(100, func() { a.Reset(); m.MarshalGQL(&a) }); n != 0 {
		t.Errorf("%v allocations per UUID", n)
	}
}

// NewExtension's plans serve later requests of a parsed operation: its
// collected fields too, unless a directive depends on the variables (then
// each request collects its own), and never another parse of the text.
func TestPlansAreKeptPerParsedOperation(t *testing.T) {
	s := gqlparser.MustLoadSchema(&ast.Source{Input: schema})
	e := NewExtension(concurrent, 10)
	account := []string{"Account", "Node"}
	run := func(q string, doc *ast.QueryDocument, vars map[string]any) (*plan, []string) {
		oc := &graphql.OperationContext{RawQuery: q, Doc: doc, Operation: doc.Operations[0], Variables: vars}
		var p *plan
		var names []string
		e.InterceptOperation(graphql.WithOperationContext(context.Background(), oc), func(ctx context.Context) graphql.ResponseHandler {
			p = planned(ctx)
			sel := oc.Operation.SelectionSet[0].(*ast.Field).SelectionSet
			for _, f := range CollectFields(ctx, oc, sel, account) {
				names = append(names, f.Name)
			}
			return nil
		})
		return p, names
	}
	parse := func(q string) *ast.QueryDocument {
		doc, errs := gqlparser.LoadQuery(s, q)
		if errs != nil {
			t.Fatal(errs)
		}
		return doc
	}

	const fixed = `{ node { id ... on Account { name } } }`
	doc := parse(fixed)
	p1, _ := run(fixed, doc, nil)
	p2, names := run(fixed, doc, map[string]any{"id": "x"})
	if p1 != p2 || !p1.fixed || len(p1.collected) != 1 || fmt.Sprint(names) != "[id name]" {
		t.Errorf("fixed operation: plans %p %p (fixed %v), %d collected, fields %v", p1, p2, p1.fixed, len(p1.collected), names)
	}
	if p3, _ := run(fixed, parse(fixed), nil); p3 == p1 {
		t.Error("another parse of the text was given the kept plan")
	}

	const variable = `query($with: Boolean!) { node { id ... on Account { name @include(if: $with) } } }`
	doc = parse(variable)
	for _, with := range []bool{true, false, true} {
		p, names := run(variable, doc, map[string]any{"with": with})
		want := "[id]"
		if with {
			want = "[id name]"
		}
		if p.fixed || fmt.Sprint(names) != want {
			t.Errorf("@include(if: %v): fixed %v, fields %v, want %v", with, p.fixed, names, want)
		}
	}
}
