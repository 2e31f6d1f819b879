package main

import (
	"strings"
	"testing"
)

const objectSource = `func (ec *executionContext) _Lead_account(ctx context.Context, field graphql.CollectedField, obj *ent.Lead) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Lead_account(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.RESOLVE
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v TYPE) graphql.Marshaler {
			return ec.marshalOAccount(ctx, selections, v)
		},
		RECOVER,
		NONNULL,
	)
}
`

func objectSrc(resolve, typ, recoverFromPanic, nonNull string) string {
	return strings.NewReplacer("RESOLVE", resolve, "TYPE", typ, "RECOVER", recoverFromPanic, "NONNULL", nonNull).Replace(objectSource)
}

// An object field (a method taking only the context, or a struct field,
// of pointer or slice type) runs graphql.ResolveField's steps without its
// closures; anything else is left as gqlgen wrote it.
func TestObjectFieldsAreResolvedWithoutClosures(t *testing.T) {
	for _, c := range []struct {
		name, resolve, typ, recover, nonNull string
		want, not                            []string // in order / nowhere in the rewritten function
	}{
		{"edge method", "Account(ctx)", "*ent.Account", "true", "false", []string{
			"fc, err := ec.fieldContext_Lead_account(ctx, field)", "return graphql.Null", "ctx, fc = executor.WithFieldContext(ctx, fc)",
			"if r := recover(); r != nil {", "ec.OperationContext.Error(ctx, ec.OperationContext.Recover(ctx, r))",
			"res, err := obj.Account(ctx)", "ec.OperationContext.Error(ctx, graphql.AddFieldLocationToError(ctx, err))",
			"if fc.NonNull {", "return graphql.RequiredNull", "fc.Result = res", "return ec.marshalOAccount(ctx, field.Selections, res)\n}",
		}, []string{"return graphql.ResolveField("}},
		{"non-null list, no panic guard", "Assignees(ctx)", "[]*ent.User", "false", "true",
			[]string{"res, err := obj.Assignees(ctx)", "return graphql.Null", "return ec.marshalOAccount(ctx, field.Selections, res)"},
			[]string{"recover()", "RequiredNull", "return graphql.ResolveField("}},
		{"struct field", "Node, nil", "*ent.Lead", "true", "false",
			[]string{"res := obj.Node\n", "fc.Result = res", "return ec.marshalOAccount(ctx, field.Selections, res)"},
			[]string{"AddFieldLocationToError", "return graphql.ResolveField("}},
	} {
		out, done := rewriteObjectFields([]byte(objectSrc(c.resolve, c.typ, c.recover, c.nonNull)))
		if !done["_Lead_account"] {
			t.Errorf("%s: not rewritten:\n%s", c.name, out)
			continue
		}
		rest := string(out)
		for _, w := range c.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: no %q in order in\n%s", c.name, w, out)
				break
			}
			rest = rest[i+len(w):]
		}
		for _, w := range c.not {
			if strings.Contains(string(out), w) {
				t.Errorf("%s: %q in\n%s", c.name, w, out)
			}
		}
	}
	for name, src := range map[string]string{
		// An interface-typed result can be gqlgen's untyped nil.
		"interface":  objectSrc("Owner(ctx)", "ent.Noder", "true", "false"),
		"resolver":   strings.Replace(objectSrc("Account(ctx)", "*ent.Account", "true", "false"), "return obj.Account(ctx)", "return ec.Resolvers.Lead().Account(ctx, obj)", 1),
		"arguments":  strings.Replace(objectSrc("Account(ctx)", "*ent.Account", "true", "false"), "return obj.Account(ctx)", `return obj.Account(ctx, fc.Args["first"].(*int))`, 1),
		"middleware": strings.Replace(objectSrc("Account(ctx)", "*ent.Account", "true", "false"), "\t\tnil,\n", "\t\tfunc(ctx context.Context, next graphql.Resolver) graphql.Resolver { return next },\n", 1),
	} {
		if out, done := rewriteObjectFields([]byte(src)); len(done) != 0 || string(out) != src {
			t.Errorf("%s: rewritten:\n%s", name, out)
		}
	}
}

const callSource = `		case "account":
			executor.ResolveField(ctx, out, field, ec.OperationContext, &deferred, i,
				true, false,
				func(ctx context.Context) graphql.Marshaler {
					return ec._Lead_account(ctx, field, obj)
				})
`

// An object field's call is inline when the plan says so; a field not
// rewritten (a resolver: its own closures, maybe a loader) keeps the call.
func TestObjectFieldsAreCalledInline(t *testing.T) {
	out, n := rewriteInlineCalls([]byte(callSource), map[string]bool{"_Lead_account": true})
	want := "\t\t\tif executor.Inline(ctx, field) {\n\t\t\t\texecutor.SetField(out, i, false, ec._Lead_account(ctx, field, obj))\n\t\t\t} else {\n\t\t\t\texecutor.ResolveField("
	if n != 1 || !strings.Contains(string(out), want) || !strings.Contains(string(out), "return ec._Lead_account(ctx, field, obj)\n\t\t\t\t\t})\n\t\t\t}\n") {
		t.Errorf("%d rewritten:\n%s", n, out)
	}
	if out, n := rewriteInlineCalls([]byte(callSource), map[string]bool{"_Lead_contact": true}); n != 0 || string(out) != callSource {
		t.Errorf("a field not rewritten is called inline:\n%s", out)
	}
	if src := strings.Replace(callSource, "true, false", "false, false", 1); string(must(rewriteInlineCalls([]byte(src), map[string]bool{"_Lead_account": true}))) != src {
		t.Error("a field without a panic guard is called inline")
	}
}

func must(b []byte, _ int) []byte { return b }
