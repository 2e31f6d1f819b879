package main

import (
	"strings"
	"testing"
)

const leafSource = `func (ec *executionContext) _Lead_subject(ctx context.Context, field graphql.CollectedField, obj *ent.Lead) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Lead_subject(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Subject, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v %s) graphql.Marshaler {
			return ec.%s(ctx, selections, v)
		},
		true,
		true,
	)
}
`

// A leaf that cannot fail is marshalled directly; one that can keeps
// gqlgen's path for the failing value; anything else (another marshaller,
// a resolver, a directive) is left as gqlgen wrote it.
func TestLeavesAreMarshalledDirectly(t *testing.T) {
	for _, c := range []struct {
		typ, marshal string
		want         []string // in the rewritten function, in order
		rewritten    bool
	}{
		{"string", "marshalNString2string", []string{"return (*executor.String)(&obj.Subject)\n}"}, true},
		{"*string", "marshalOString2ᚖstring", []string{"if v := obj.Subject; v != nil {", "return (*executor.String)(v)", "return graphql.Null\n}"}, true},
		{"bool", "marshalNBoolean2bool", []string{"return ec.marshalNBoolean2bool(ctx, field.Selections, obj.Subject)\n}"}, true},
		{"*time.Time", "marshalOTime2ᚖtimeᚐTime", []string{"return ec.marshalOTime2ᚖtimeᚐTime(ctx, field.Selections, obj.Subject)\n}"}, true},
		{"uuid.UUID", "marshalNID2githubᚗcomᚋgoogleᚋuuidᚐUUID", []string{"if obj.Subject != uuid.Nil {", "return (*executor.UUID)(&obj.Subject)", "return graphql.ResolveField("}, true},
		{"*uuid.UUID", "marshalOID2ᚖgithubᚗcomᚋgoogleᚋuuidᚐUUID", []string{"if v := obj.Subject; v != nil && *v != uuid.Nil {", "return (*executor.UUID)(v)", "return ec.marshalOID2ᚖgithubᚗcomᚋgoogleᚋuuidᚐUUID(ctx, field.Selections, obj.Subject)\n}"}, true},
		{"time.Time", "marshalNTime2timeᚐTime", []string{"if v := obj.Subject; !v.IsZero() {", "return graphql.ResolveField("}, true},
		{"lead.Status", "marshalNLeadStatus2githubᚗcomᚋconecrmᚋgatewayᚋentᚋleadᚐStatus", nil, false},
	} {
		src := strings.Replace(strings.Replace(leafSource, "%s", c.typ, 1), "%s", c.marshal, 1)
		out, n := rewriteLeaves([]byte(src))
		if (n == 1) != c.rewritten {
			t.Errorf("%s: %d rewritten", c.marshal, n)
			continue
		}
		if !c.rewritten {
			if string(out) != src {
				t.Errorf("%s: changed:\n%s", c.marshal, out)
			}
			continue
		}
		rest := string(out)
		for _, w := range c.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: no %q in order in\n%s", c.marshal, w, out)
				break
			}
			rest = rest[i+len(w):]
		}
	}
	// A resolver is not a leaf.
	src := strings.Replace(strings.Replace(leafSource, "%s", "string", 1), "%s", "marshalNString2string", 1)
	src = strings.Replace(src, "return obj.Subject, nil", "return ec.Resolvers.Lead().Subject(ctx, obj)", 1)
	if _, n := rewriteLeaves([]byte(src)); n != 0 {
		t.Error("a resolver was rewritten")
	}
}

func TestUnusedLeafImportsAreDropped(t *testing.T) {
	src := "import (\n\t\"context\"\n\t\"time\"\n\n\t\"github.com/google/uuid\"\n)\n\nvar x = uuid.Nil\n"
	got := string(dropUnusedLeafImports([]byte(src)))
	if strings.Contains(got, "\"time\"") || !strings.Contains(got, "google/uuid") {
		t.Errorf("got\n%s", got)
	}
}
