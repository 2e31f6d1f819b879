package main

import (
	"bytes"
	"fmt"
	"regexp"
)

// An object field is a field without arguments, resolver or directive
// whose value is a pointer or a slice read from its object — a struct
// field (an edge's node) or a method taking only the context (entgql's
// edges: the eager-loaded relations). gqlgen runs each one through
// graphql.ResolveField: four closures, the field middleware, the value
// boxed — ~6 allocations per field per object, a fifth of the lead
// screen's. With no field middleware (graph.NewHandler registers none and
// refuses an extension that intercepts fields) the same steps are written
// out: the field context (held by its context, executor.WithFieldContext),
// the panic guard, the resolver's error at the
// field's path, the marshaller called with the typed value (a nil pointer
// or slice is what gqlgen passes it too: only an interface-typed result
// can be gqlgen's untyped nil, and those are not rewritten).
var objectField = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (_\w+)\(ctx context\.Context, field graphql\.CollectedField, obj (\*?[\w.]+)\) \(ret graphql\.Marshaler\) \{
	return graphql\.ResolveField\(
		ctx,
		ec\.OperationContext,
		field,
		func\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{
			return (ec\.fieldContext_\w+)\(ctx, field\)
		\},
		func\(ctx context\.Context\) \(any, error\) \{
			return obj\.(\w+)(\(ctx\)|, nil)
		\},
		nil,
		func\(ctx context\.Context, selections ast\.SelectionSet, v (?:\*|\[\])[^)]+\) graphql\.Marshaler \{
			return ec\.([^(\s]+)\(ctx, selections, v\)
		\},
		(true|false),
		(true|false),
	\)
\}
`)

// rewriteObjectFields resolves src's object fields without gqlgen's
// closures, returning the rewritten source and the functions rewritten.
func rewriteObjectFields(src []byte) ([]byte, map[string]bool) {
	done := map[string]bool{}
	out := objectField.ReplaceAllFunc(src, func(fn []byte) []byte {
		m := objectField.FindSubmatch(fn)
		name, objType, fieldContext, member, call, marshal, recoverFromPanic, nonNull := m[1], m[2], m[3], m[4], m[5], m[6], string(m[7]), string(m[8])
		done[string(name)] = true
		var b bytes.Buffer
		fmt.Fprintf(&b, "func (ec *executionContext) %s(ctx context.Context, field graphql.CollectedField, obj %s) (ret graphql.Marshaler) {\n", name, objType)
		b.WriteString("\t// An object field (graph/gqlgen): graphql.ResolveField's steps without its closures.\n")
		fmt.Fprintf(&b, "\tfc, err := %s(ctx, field)\n\tif err != nil {\n\t\treturn graphql.Null\n\t}\n", fieldContext)
		b.WriteString("\tctx, fc = executor.WithFieldContext(ctx, fc)\n")
		if recoverFromPanic == "true" {
			b.WriteString("\tdefer func() {\n\t\tif r := recover(); r != nil {\n\t\t\tec.OperationContext.Error(ctx, ec.OperationContext.Recover(ctx, r))\n\t\t\tret = graphql.Null\n\t\t}\n\t}()\n")
		}
		if string(call) == "(ctx)" {
			fmt.Fprintf(&b, "\tres, err := obj.%s(ctx)\n\tif err != nil {\n\t\tec.OperationContext.Error(ctx, graphql.AddFieldLocationToError(ctx, err))\n", member)
			if nonNull == "false" {
				b.WriteString("\t\tif fc.NonNull {\n\t\t\treturn graphql.RequiredNull\n\t\t}\n")
			}
			b.WriteString("\t\treturn graphql.Null\n\t}\n")
		} else {
			fmt.Fprintf(&b, "\tres := obj.%s\n", member)
		}
		fmt.Fprintf(&b, "\tfc.Result = res\n\treturn ec.%s(ctx, field.Selections, res)\n}\n", marshal)
		return b.Bytes()
	})
	return out, done
}

// resolveFieldCall is a field the executor resolves through
// executor.ResolveField (gqlgen would have started a goroutine): the field
// function called from a closure, allocated per field per object.
var resolveFieldCall = regexp.MustCompile(`(?m)^(\t+)executor\.ResolveField\(ctx, out, field, ec\.OperationContext, &deferred, i,
\t+true, (true|false),
\t+func\(ctx context\.Context\) graphql\.Marshaler \{
\t+return ec\.(_\w+)\(ctx, field, obj\)
\t+\}\)
`)

// rewriteInlineCalls makes the object marshallers call the object fields
// rewritten above (which guard themselves against panics, as the closure's
// caller did) directly when the operation's plan resolves them on the
// object's goroutine (executor.Inline): no closure.
func rewriteInlineCalls(src []byte, objectFields map[string]bool) ([]byte, int) {
	n := 0
	out := resolveFieldCall.ReplaceAllFunc(src, func(call []byte) []byte {
		m := resolveFieldCall.FindSubmatch(call)
		indent, nonNull, fn := string(m[1]), string(m[2]), string(m[3])
		if !objectFields[fn] {
			return call
		}
		n++
		var b bytes.Buffer
		fmt.Fprintf(&b, "%sif executor.Inline(ctx, field) {\n", indent)
		fmt.Fprintf(&b, "%s\texecutor.SetField(out, i, %s, ec.%s(ctx, field, obj))\n", indent, nonNull, fn)
		fmt.Fprintf(&b, "%s} else {\n", indent)
		for _, line := range bytes.SplitAfter(bytes.TrimSuffix(call, []byte("\n")), []byte("\n")) {
			b.WriteString("\t")
			b.Write(line)
		}
		fmt.Fprintf(&b, "\n%s}\n", indent)
		return b.Bytes()
	})
	return out, n
}
