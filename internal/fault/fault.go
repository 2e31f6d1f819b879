// Package fault holds the one error type of the gateway's domain: an
// *Error with a Code that each transport maps to a status once (REST in
// internal/rest/respond.go, GraphQL in graph/errors.go), a message safe to
// show a client and the offending input fields. It is a leaf (it imports
// nothing of the gateway), so the domain (internal/crm), the query
// compiler (internal/querybuilder) and the transports share it without
// importing each other. crm.AsError turns data-layer errors into it.
package fault

import (
	"fmt"
	"sort"
	"strings"
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
	Busy            Code = "busy"            // concurrent writes kept conflicting: 503 + Retry-After, not a fault
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
