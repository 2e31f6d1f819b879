package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/crm"
)

// extensions.code of each domain error code.
var gqlCodes = map[crm.Code]string{
	crm.Invalid:         "BAD_USER_INPUT",
	crm.NotFound:        "NOT_FOUND",
	crm.Forbidden:       "FORBIDDEN",
	crm.Conflict:        "CONFLICT",
	crm.Unauthenticated: "UNAUTHENTICATED",
	crm.Internal:        "INTERNAL_SERVER_ERROR",
}

// presentError turns a resolver's error into what the client sees. Errors
// the GraphQL layer made itself (validation, limits, unknown node ids) are
// safe and kept. Everything else is mapped to a domain error; an internal
// one is logged in full and answered with only the request id, so SQL,
// driver errors and stack traces never leave the server.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && gqlErr.Err == nil {
			return gqlErr
		}
		e := crm.AsError(err)
		out := gqlerror.WrapPath(graphql.GetPath(ctx), e)
		out.Message = e.Message
		out.Extensions = map[string]any{"code": gqlCodes[e.Code]}
		switch e.Code {
		case crm.Invalid:
			if len(e.Fields) > 0 {
				out.Extensions["fields"] = e.Fields
			}
		case crm.Internal:
			id := app.RequestID(ctx)
			log.ErrorContext(ctx, "graphql: internal error", "request_id", id, "path", graphql.GetPath(ctx).String(), "err", err)
			out.Message = "internal error (request id " + id + ")"
			out.Extensions["requestId"] = id
		}
		return out
	}
}

// recoverPanic logs a resolver panic with its stack and answers it as an
// internal error (masked by presentError).
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql: panic", "request_id", app.RequestID(ctx), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return &crm.Error{Code: crm.Internal, Message: "internal error", Err: fmt.Errorf("panic: %v", p)}
	}
}
