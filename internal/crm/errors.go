// Package crm is the domain layer: the business rules of the CRM, used by
// both transports (REST in internal/rest, GraphQL in graph/). Transports
// translate requests into these calls and errors into statuses; they do not
// decide anything themselves.
package crm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
)

// Code classifies an Error; transports map codes to statuses.
type Code string

const (
	Invalid         Code = "invalid"         // bad input: 400 / BAD_USER_INPUT
	NotFound        Code = "not_found"       // unknown or another tenant's record: 404
	Forbidden       Code = "forbidden"       // authenticated but not allowed: 403
	Conflict        Code = "conflict"        // violates a uniqueness or usage rule: 400/409
	Unauthenticated Code = "unauthenticated" // no or bad credentials: 401
	Internal        Code = "internal"        // anything else: 500, details only logged
	Timeout         Code = "timeout"         // the request's deadline passed: 503, not a fault
	Canceled        Code = "canceled"        // the client went away: nobody reads the answer
)

// Error is the one error type of the domain layer. Message is safe to show a
// client; Fields names the offending input fields (path → messages).
type Error struct {
	Code    Code
	Message string
	Fields  map[string][]string
	Err     error // cause, logged, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// FieldNames returns the names of the offending fields, sorted.
func (e *Error) FieldNames() []string {
	names := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Errorf returns an Error of code with a formatted safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an Invalid error about one input field.
func FieldError(field, message string) *Error {
	return &Error{Code: Invalid, Message: field + ": " + message, Fields: map[string][]string{field: {message}}}
}

// Validation collects field errors before a write; Err returns nil when
// nothing was added.
type Validation struct{ fields map[string][]string }

// Add records a message for field.
func (v *Validation) Add(field, message string) {
	if v.fields == nil {
		v.fields = map[string][]string{}
	}
	v.fields[field] = append(v.fields[field], message)
}

// Has reports whether field already has an error.
func (v *Validation) Has(field string) bool { return len(v.fields[field]) > 0 }

// Err returns the collected errors as one Invalid Error, or nil.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	e := &Error{Code: Invalid, Fields: v.fields}
	var parts []string
	for _, f := range e.FieldNames() {
		parts = append(parts, f+": "+strings.Join(v.fields[f], ", "))
	}
	e.Message = strings.Join(parts, "; ")
	return e
}

// AsError turns any error from the data layer into an *Error: ent's not
// found and the schema's cross-tenant denial become NotFound, constraint
// violations Conflict, everything else Internal (with the cause kept for
// the log only).
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, context.DeadlineExceeded), store.IsStatementTimeout(err):
		return &Error{Code: Timeout, Message: "the request took too long and was stopped", Err: err}
	case errors.Is(err, context.Canceled):
		return &Error{Code: Canceled, Message: "the request was canceled", Err: err}
	case errors.As(err, new(*registry.ForbiddenError)):
		return &Error{Code: Forbidden, Message: "Access denied", Err: err}
	case ent.IsNotFound(err), errors.Is(err, schema.ErrCrossTenant):
		return &Error{Code: NotFound, Message: "not found", Err: err}
	case ent.IsConstraintError(err):
		return &Error{Code: Conflict, Message: "conflicts with an existing record", Err: err}
	case errors.Is(err, tenancy.ErrNoViewer):
		return &Error{Code: Unauthenticated, Message: "not authenticated", Err: err}
	case store.IsUnstorableText(err):
		return &Error{Code: Invalid, Message: "text values must not contain NUL characters or invalid UTF-8", Err: err}
	case ent.IsValidationError(err):
		var ve *ent.ValidationError
		errors.As(err, &ve)
		return FieldError(ve.Name, "is invalid")
	}
	return &Error{Code: Internal, Message: "internal error", Err: err}
}
