package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/httpx"
	"github.com/conecrm/gateway/internal/store"
)

// extensions.code of each domain error code.
var gqlCodes = map[fault.Code]string{
	fault.Invalid:         "BAD_USER_INPUT",
	fault.NotFound:        "NOT_FOUND",
	fault.Forbidden:       "FORBIDDEN",
	fault.Conflict:        "CONFLICT",
	fault.Unauthenticated: "UNAUTHENTICATED",
	fault.Internal:        "INTERNAL_SERVER_ERROR",
	fault.Timeout:         "TIMEOUT",
	fault.Canceled:        "CANCELED",
	fault.Busy:            "SERVER_BUSY",
}

// busy reports whether errs hold a write the database kept refusing for
// concurrent ones (SERVER_BUSY).
func busy(errs gqlerror.List) bool {
	for _, e := range errs {
		if e.Extensions["code"] == gqlCodes[fault.Busy] {
			return true
		}
	}
	return false
}

// presentError turns a resolver's error into what the client sees. Errors
// the GraphQL layer made itself (validation, limits, unknown node ids) are
// safe and kept. Everything else is mapped to a domain error; an internal
// one is logged in full and answered with only the request id, so SQL,
// driver errors and stack traces never leave the server.
func presentError(log *slog.Logger, production bool) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && gqlErr.Err == nil {
			if production {
				// The executor hides suggestions of field names only; the
				// validator also suggests arguments, enum values and input fields.
				gqlErr.Message = suggestion.ReplaceAllString(gqlErr.Message, "")
			}
			return gqlErr
		}
		if in := unreadableInput(ctx, err); in != nil {
			return in
		}
		if args := foreignCursor(ctx, err); len(args) > 0 {
			msg := "is not a cursor of this connection and ordering"
			out := gqlerror.WrapPath(graphql.GetPath(ctx), err)
			out.Message = strings.Join(args, ", ") + ": " + msg
			fields := map[string][]string{}
			for _, a := range args {
				fields[a] = []string{msg}
			}
			out.Extensions = map[string]any{"code": gqlCodes[fault.Invalid], "fields": fields}
			return out
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr // whatever the driver made of it, the deadline or the client ended the work
		}
		e := crm.AsError(err)
		out := gqlerror.WrapPath(graphql.GetPath(ctx), e)
		out.Message = e.Message
		out.Extensions = map[string]any{"code": gqlCodes[e.Code]}
		switch e.Code {
		case fault.Invalid:
			if len(e.Fields) > 0 {
				out.Extensions["fields"] = e.Fields
			}
		case fault.Internal:
			id := httpx.RequestID(ctx)
			log.ErrorContext(ctx, "graphql: internal error", "request_id", id, "path", graphql.GetPath(ctx).String(), "err", err)
			out.Message = "internal error (request id " + id + ")"
			out.Extensions["requestId"] = id
		}
		return out
	}
}

// suggestion is a validation message's "Did you mean …?" sentence.
var suggestion = regexp.MustCompile(`\s*Did you mean [^?]*\?`)

// unreadableInput answers an argument or input field the executor could not
// read (a malformed UUID, Time, Map, cursor or enum value) as bad input
// naming its path, e.g. "where.idIn[2]": the client's mistake, not logged.
// The executor reports those on the argument's path, below the field's
// own, which a resolver's errors never are.
func unreadableInput(ctx context.Context, err error) *gqlerror.Error {
	var gqlErr *gqlerror.Error
	if !errors.As(err, &gqlErr) || gqlErr.Err == nil {
		return nil
	}
	var domain *fault.Error
	if errors.As(gqlErr.Err, &domain) {
		return nil
	}
	field := graphql.GetPath(ctx)
	if len(gqlErr.Path) <= len(field) {
		return nil
	}
	var arg strings.Builder
	for i, p := range gqlErr.Path[len(field):] {
		switch p := p.(type) {
		case ast.PathName:
			if i > 0 {
				arg.WriteByte('.')
			}
			arg.WriteString(string(p))
		case ast.PathIndex:
			fmt.Fprintf(&arg, "[%d]", int(p))
		}
	}
	msg := gqlErr.Err.Error()
	out := gqlerror.WrapPath(field, gqlErr.Err)
	out.Message = arg.String() + ": " + msg
	out.Locations = gqlErr.Locations
	out.Extensions = map[string]any{"code": gqlCodes[fault.Invalid], "fields": map[string][]string{arg.String(): {msg}}}
	return out
}

// foreignCursor returns the cursor arguments that a cursor of another
// ordering or connection may have caused err in: entgql's count check of
// the cursor's values, or PostgreSQL refusing the cursor's value for the
// ordering's column (SQLite compares it as is and answers a page). They are
// the field's own "after"/"before", else — for a nested connection, which
// its parent eager-loads, so the parent meets the error — every cursor given
// below the field, by path ("edges.node.leads.after"). nil otherwise.
func foreignCursor(ctx context.Context, err error) []string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return nil
	}
	if !strings.Contains(err.Error(), "cursor values length") && !store.IsDataException(err) {
		return nil
	}
	var args []string
	for _, name := range []string{"after", "before"} {
		if c, ok := fc.Args[name].(*entgql.Cursor[uuid.UUID]); ok && c != nil {
			args = append(args, name)
		}
	}
	if len(args) > 0 || fc.Field.Field == nil {
		return args
	}
	var vars map[string]any
	if oc := graphql.GetOperationContext(ctx); oc != nil {
		vars = oc.Variables
	}
	var walk func(ast.SelectionSet, string, int)
	walk = func(set ast.SelectionSet, prefix string, depth int) {
		if depth > 32 { // fragments cannot cycle after validation; a guard all the same
			return
		}
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				path := prefix + sel.Alias
				for _, name := range []string{"after", "before"} {
					if a := sel.Arguments.ForName(name); a != nil {
						if v, err := a.Value.Value(vars); err == nil && v != nil {
							args = append(args, path+"."+name)
						}
					}
				}
				walk(sel.SelectionSet, path+".", depth+1)
			case *ast.InlineFragment:
				walk(sel.SelectionSet, prefix, depth+1)
			case *ast.FragmentSpread:
				if sel.Definition != nil {
					walk(sel.Definition.SelectionSet, prefix, depth+1)
				}
			}
		}
	}
	walk(fc.Field.Field.SelectionSet, "", 0)
	return args
}

// recoverPanic logs a resolver panic with its stack and answers it as an
// internal error (masked by presentError).
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql: panic", "request_id", httpx.RequestID(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return &fault.Error{Code: fault.Internal, Message: "internal error", Err: fmt.Errorf("panic: %v", p)}
	}
}
