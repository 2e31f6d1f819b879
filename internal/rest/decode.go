package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/conecrm/gateway/internal/fault"
	"github.com/google/uuid"
)

// errTooLarge marks a body over the server's limit (app's limitBody): 413.
var errTooLarge = errors.New("request body too large")

// errBodyTimeout marks a body the client did not send in time: 408.
var errBodyTimeout = errors.New("request body not received in time")

// decode reads the JSON body of r into dst. Unknown fields are ignored, as
// the spec's clients send whole records back (server-owned fields such as
// id, dtype and the audit fields are simply not in the request types).
// Malformed JSON, a wrong type or trailing data is an Invalid error naming
// the field; a body over the limit is errTooLarge.
func decode(r *http.Request, dst any) error {
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(dst)
	if err == nil {
		if _, err = dec.Token(); err != io.EOF {
			return fault.FieldError("body", "must hold one JSON value")
		}
		return nil
	}
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		netErr   net.Error
	)
	switch {
	case errors.As(err, &tooLarge):
		return errTooLarge
	case errors.As(err, &netErr) && netErr.Timeout():
		return errBodyTimeout
	case errors.Is(err, io.EOF):
		return fault.FieldError("body", "must be a JSON object")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return fault.FieldError("body", "is not valid JSON")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fault.FieldError("body", "must be a JSON "+jsonKind(typ.Type.Kind().String()))
		}
		return fault.FieldError(typ.Field, fmt.Sprintf("must be a %s, not a %s", jsonKind(typ.Type.Kind().String()), typ.Value))
	}
	return fault.FieldError("body", "could not be read")
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	case "string":
		return "string"
	case "float32", "float64":
		return "number"
	}
	return "integer"
}

// Ref is a nested {"id": "..."} reference in a request or response.
type Ref struct {
	ID string `json:"id"`
}

// parseID parses an id sent in a request body; field names it in the error.
func parseID(field, s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, fault.FieldError(field, "must be a UUID")
	}
	return id, nil
}

// parseRef parses an optional {"id": …} reference; nil stays nil.
func parseRef(field string, r *Ref) (*uuid.UUID, error) {
	if r == nil {
		return nil, nil
	}
	id, err := parseID(field+".id", r.ID)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// parseTime parses an optional RFC 3339 date-time; nil and "" stay nil.
func parseTime(field string, s *string) (*time.Time, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, *s)
	if err != nil {
		return nil, fault.FieldError(field, "must be an RFC 3339 date-time")
	}
	t = t.UTC()
	return &t, nil
}

// nullable is an optional body field that may also be null: Set says
// whether the field was sent, Value is nil for null. It lets a PATCH tell
// "leave unchanged" (absent) from "clear" (null).
type nullable[T any] struct {
	Set   bool
	Value *T
}

// UnmarshalJSON implements json.Unmarshaler; it is only called when the
// field is present. A type error keeps the field's name: encoding/json adds
// it to the *json.UnmarshalTypeError returned here.
func (n *nullable[T]) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	n.Value = &v
	return nil
}
