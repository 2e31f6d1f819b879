package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// A leaf is a field gqlgen resolves by reading a struct field of its
// object (no resolver, no method, no arguments, no directive) and that
// marshals as a built-in scalar. gqlgen still runs each one through
// graphql.ResolveField: a field context, a context, a panic guard, the
// field middleware, the value boxed twice — ~4 allocations and a dozen
// calls per scalar, a fifth of the lead screen's allocations. With no
// field middleware (graph.NewHandler registers none and refuses an
// extension that intercepts fields) none of it can change the answer of
// a leaf whose marshaller cannot fail: its value is read and marshalled
// directly, with the object's context. A marshaller that can fail (a nil
// UUID or a zero time for a non-null field: an error at the field's path)
// keeps gqlgen's path for that value.
var leaf = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (_\w+)\(ctx context\.Context, field graphql\.CollectedField, obj (\*?[\w.]+)\) \(ret graphql\.Marshaler\) \{
	return graphql\.ResolveField\(
		ctx,
		ec\.OperationContext,
		field,
		func\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{
			return ec\.fieldContext_\w+\(ctx, field\)
		\},
		func\(ctx context\.Context\) \(any, error\) \{
			return obj\.(\w+), nil
		\},
		nil,
		func\(ctx context\.Context, selections ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{
			return ec\.([^(\s]+)\(ctx, selections, v\)
		\},
		(?:true|false),
		(?:true|false),
	\)
\}
`)

// leafMarshallers are the generated marshallers a leaf may call directly:
// the call each must make (checked in the generated scalars), and the
// condition under which it cannot fail ("" = always).
var leafMarshallers = map[string]struct{ calls, when string }{
	"marshalNString2string":                     {"graphql.MarshalString(v)", ""},
	"marshalNBoolean2bool":                      {"graphql.MarshalBoolean(v)", ""},
	"marshalNInt2int":                           {"graphql.MarshalInt(v)", ""},
	"marshalOString2ᚖstring":                    {"graphql.MarshalString(*v)", ""},
	"marshalOBoolean2ᚖbool":                     {"graphql.MarshalBoolean(*v)", ""},
	"marshalOInt2ᚖint":                          {"graphql.MarshalInt(*v)", ""},
	"marshalOTime2ᚖtimeᚐTime":                   {"graphql.MarshalTime(*v)", ""},
	"marshalOID2ᚖgithubᚗcomᚋgoogleᚋuuidᚐUUID":   {"graphql.MarshalUUID(*v)", ""},
	"marshalOUUID2ᚖgithubᚗcomᚋgoogleᚋuuidᚐUUID": {"graphql.MarshalUUID(*v)", ""},
	"marshalNID2githubᚗcomᚋgoogleᚋuuidᚐUUID":    {"graphql.MarshalUUID(v)", "v != uuid.Nil"},
	"marshalNUUID2githubᚗcomᚋgoogleᚋuuidᚐUUID":  {"graphql.MarshalUUID(v)", "v != uuid.Nil"},
	"marshalNTime2timeᚐTime":                    {"graphql.MarshalTime(v)", "!v.IsZero()"},
}

// stringLeaves are the string leaves of a pointer to an object, written as
// executor.String pointing at the object's field (the marshaller's body,
// checked like leafMarshallers', calls graphql.MarshalString, and the
// optional one answers null for nil).
var stringLeaves = map[string]string{
	"marshalNString2string":  "\treturn (*executor.String)(&obj.%s)\n",
	"marshalOString2ᚖstring": "\tif v := obj.%s; v != nil {\n\t\treturn (*executor.String)(v)\n\t}\n\treturn graphql.Null\n",
}

// uuidLeaves are the UUID leaves of a pointer to an object, written as
// executor.UUID pointing at the object's field when it is not nil (the
// marshaller's body, checked like leafMarshallers', calls
// graphql.MarshalUUID, which answers null for uuid.Nil); any other value
// goes on to the marshaller (the non-null ones' through gqlgen's path, for
// the error at the field's path).
var uuidLeaves = map[string]string{
	"marshalNID2githubᚗcomᚋgoogleᚋuuidᚐUUID":    "\tif obj.%[1]s != uuid.Nil {\n\t\treturn (*executor.UUID)(&obj.%[1]s)\n\t}\n",
	"marshalNUUID2githubᚗcomᚋgoogleᚋuuidᚐUUID":  "\tif obj.%[1]s != uuid.Nil {\n\t\treturn (*executor.UUID)(&obj.%[1]s)\n\t}\n",
	"marshalOID2ᚖgithubᚗcomᚋgoogleᚋuuidᚐUUID":   "\tif v := obj.%[1]s; v != nil && *v != uuid.Nil {\n\t\treturn (*executor.UUID)(v)\n\t}\n",
	"marshalOUUID2ᚖgithubᚗcomᚋgoogleᚋuuidᚐUUID": "\tif v := obj.%[1]s; v != nil && *v != uuid.Nil {\n\t\treturn (*executor.UUID)(v)\n\t}\n",
}

// marshallerBody finds a generated marshaller's body.
var marshallerBody = regexp.MustCompile(`(?ms)^func \(ec \*executionContext\) (marshal[^(\s]+)\(ctx context\.Context, sel ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{\n(.*?)^\}`)

// checkLeafMarshallers fails when a marshaller a leaf calls directly no
// longer makes the call it was listed for (gqlgen or gqlgen.yml changed
// what a scalar binds to).
func checkLeafMarshallers(sources [][]byte) error {
	found := map[string]bool{}
	for _, src := range sources {
		for _, m := range marshallerBody.FindAllSubmatch(src, -1) {
			name := string(m[1])
			want, ok := leafMarshallers[name]
			if !ok {
				continue
			}
			if !regexp.MustCompile(`(?m)^\tres := ` + regexp.QuoteMeta(want.calls) + `$`).Match(m[2]) {
				return fmt.Errorf("%s no longer calls %s: update graph/gqlgen's leafMarshallers", name, want.calls)
			}
			if _, ok := stringLeaves[name]; ok && strings.HasPrefix(name, "marshalO") && !bytes.HasPrefix(m[2], []byte("\tif v == nil {\n\t\treturn graphql.Null\n\t}\n")) {
				return fmt.Errorf("%s no longer answers null for nil: update graph/gqlgen's stringLeaves", name)
			}
			found[name] = true
		}
	}
	for name := range leafMarshallers {
		if !found[name] {
			return fmt.Errorf("no generated %s: update graph/gqlgen's leafMarshallers", name)
		}
	}
	return nil
}

// rewriteLeaves marshals src's leaves directly, returning how many.
func rewriteLeaves(src []byte) ([]byte, int) {
	n := 0
	out := leaf.ReplaceAllFunc(src, func(fn []byte) []byte {
		m := leaf.FindSubmatch(fn)
		marshal := string(m[4])
		l, ok := leafMarshallers[marshal]
		if !ok {
			return fn
		}
		n++
		if ref, ok := stringLeaves[marshal]; ok && bytes.HasPrefix(m[2], []byte("*")) {
			// A string read in place (executor.String): no allocation.
			return fmt.Appendf(nil, "func (ec *executionContext) %s(ctx context.Context, field graphql.CollectedField, obj %s) (ret graphql.Marshaler) {\n\t// A leaf (graph/gqlgen): the object's own string, marshalled in place.\n%s}\n", m[1], m[2], fmt.Sprintf(ref, m[3]))
		}
		read := fmt.Sprintf("ec.%s(ctx, field.Selections, obj.%s)", marshal, m[3])
		if ref, ok := uuidLeaves[marshal]; ok && bytes.HasPrefix(m[2], []byte("*")) {
			// A UUID read in place (executor.UUID): no allocation.
			head := fmt.Sprintf("func (ec *executionContext) %s(ctx context.Context, field graphql.CollectedField, obj %s) (ret graphql.Marshaler) {\n", m[1], m[2])
			fast := "\t// A leaf (graph/gqlgen): the object's own UUID, marshalled in place unless nil.\n" + fmt.Sprintf(ref, m[3])
			if l.when == "" {
				return fmt.Appendf(nil, "%s%s\treturn %s\n}\n", head, fast, read)
			}
			return append([]byte(head+fast), fn[len(head):]...)
		}
		if l.when == "" {
			return fmt.Appendf(nil, "func (ec *executionContext) %s(ctx context.Context, field graphql.CollectedField, obj %s) (ret graphql.Marshaler) {\n\t// A leaf (graph/gqlgen): marshalled directly.\n\treturn %s\n}\n", m[1], m[2], read)
		}
		// The value gqlgen's path is kept for goes on to the original call.
		head := fmt.Sprintf("func (ec *executionContext) %s(ctx context.Context, field graphql.CollectedField, obj %s) (ret graphql.Marshaler) {\n", m[1], m[2])
		fast := fmt.Sprintf("\t// A leaf (graph/gqlgen): marshalled directly unless it fails.\n\tif v := obj.%s; %s {\n\t\treturn ec.%s(ctx, field.Selections, v)\n\t}\n", m[3], l.when, marshal)
		return append([]byte(head+fast), fn[len(head):]...)
	})
	return out, n
}

// leafImports are the imports a file's leaves and object fields may have
// been the last users of (their values' types appeared only in gqlgen's
// closures).
var leafImports = []struct{ line, use string }{
	{"\t\"time\"\n", `\btime\.`},
	{"\t\"github.com/google/uuid\"\n", `\buuid\.`},
	{"\t\"github.com/conecrm/gateway/ent\"\n", `\bent\.`},
}

// dropUnusedLeafImports removes those imports when nothing uses them any
// more.
func dropUnusedLeafImports(src []byte) []byte {
	for _, imp := range leafImports {
		rest := bytes.Replace(src, []byte(imp.line), nil, 1)
		if len(rest) != len(src) && !regexp.MustCompile(imp.use).Match(rest) {
			src = rest
		}
	}
	return src
}
