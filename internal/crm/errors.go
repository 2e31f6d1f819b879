// Package crm is the domain layer: the business rules of the CRM, used by
// both transports (REST in internal/rest, GraphQL in graph/). Transports
// translate requests into these calls and errors into statuses; they do not
// decide anything themselves.
package crm

import (
	"context"
	"errors"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
)

// AsError turns any error from the data layer into an *Error: ent's not
// found and the schema's cross-tenant denial become NotFound, constraint
// violations Conflict, a transaction the database refused for a concurrent
// one (deadlock, serialization failure, SQLite busy; store.IsTransientConflict)
// Busy, everything else Internal (with the cause kept for the log only).
func AsError(err error) *fault.Error {
	if err == nil {
		return nil
	}
	var e *fault.Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, context.DeadlineExceeded), store.IsStatementTimeout(err):
		return &fault.Error{Code: fault.Timeout, Message: "the request took too long and was stopped", Err: err}
	case errors.Is(err, context.Canceled):
		return &fault.Error{Code: fault.Canceled, Message: "the request was canceled", Err: err}
	case errors.As(err, new(*registry.ForbiddenError)):
		return &fault.Error{Code: fault.Forbidden, Message: "Access denied", Err: err}
	case ent.IsNotFound(err), errors.Is(err, schema.ErrCrossTenant):
		return &fault.Error{Code: fault.NotFound, Message: "not found", Err: err}
	case ent.IsConstraintError(err):
		return &fault.Error{Code: fault.Conflict, Message: "conflicts with an existing record", Err: err}
	case store.IsTransientConflict(err):
		return &fault.Error{Code: fault.Busy, Message: "the write conflicted with concurrent writes; retry shortly", Err: err}
	case errors.Is(err, tenancy.ErrNoViewer):
		return &fault.Error{Code: fault.Unauthenticated, Message: "not authenticated", Err: err}
	case store.IsUnstorableText(err):
		return &fault.Error{Code: fault.Invalid, Message: "text values must not contain NUL characters or invalid UTF-8", Err: err}
	case ent.IsValidationError(err):
		var ve *ent.ValidationError
		errors.As(err, &ve)
		return fault.FieldError(ve.Name, "is invalid")
	}
	return &fault.Error{Code: fault.Internal, Message: "internal error", Err: err}
}
