package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/httpx"
)

// ErrorStyle is the shape of a route's 400 body; the spec differs by route.
type ErrorStyle int

const (
	// PlainErrors: {"error": "message"} (most routes).
	PlainErrors ErrorStyle = iota
	// FormErrors: {"errors": {field: [messages]}, "message": "..."} (lead routes).
	FormErrors
	// StringErrors: a bare JSON string such as "title This value should not
	// be blank." (task routes).
	StringErrors
)

// writeJSON writes v as the response body with status. HTML characters are
// not escaped: clients read these values as data, not markup.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only a serializer bug gets here; never send half a body.
		http.Error(w, `{"error":"internal server error"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorBody is the {"error": "..."} body of 401, 403, 404, 413 and 500.
type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"requestId,omitempty"`
}

// formErrorBody is the lead routes' 400 body.
type formErrorBody struct {
	Errors  map[string][]string `json:"errors"`
	Message string              `json:"message"`
}

// writeError is the one mapping from domain errors to statuses and bodies.
// Anything that is not a fault.Error is a 500 whose cause is only logged.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, style ErrorStyle, err error) {
	if errors.Is(err, errTooLarge) {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: "request body too large"})
		return
	}
	if errors.Is(err, errBodyTimeout) {
		w.Header().Set("Connection", "close")
		writeJSON(w, http.StatusRequestTimeout, errorBody{Error: "request body not received in time"})
		return
	}
	if ctxErr := r.Context().Err(); ctxErr != nil {
		err = ctxErr // whatever the driver made of it, the deadline or the client ended the work
	}
	e := crm.AsError(err)
	switch e.Code {
	case fault.Timeout, fault.Busy: // not the client's fault, nor the server's: the same request will likely do
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: e.Message, RequestID: httpx.RequestID(r.Context())})
	case fault.Canceled:
		writeJSON(w, httpx.StatusClientClosed, errorBody{Error: e.Message})
	case fault.Invalid, fault.Conflict:
		writeBadRequest(w, style, e)
	case fault.NotFound:
		writeJSON(w, http.StatusNotFound, errorBody{Error: e.Message})
	case fault.Forbidden:
		writeJSON(w, http.StatusForbidden, errorBody{Error: "Access denied"})
	case fault.Unauthenticated:
		writeJSON(w, http.StatusUnauthorized, errorBody{Error: e.Message})
	default:
		id := httpx.RequestID(r.Context())
		s.log.ErrorContext(r.Context(), "request failed", "request_id", id,
			"method", r.Method, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "internal server error", RequestID: id})
	}
}

func writeBadRequest(w http.ResponseWriter, style ErrorStyle, e *fault.Error) {
	switch style {
	case FormErrors:
		fields := e.Fields
		if len(fields) == 0 {
			fields = map[string][]string{}
		}
		writeJSON(w, http.StatusBadRequest, formErrorBody{Errors: fields, Message: e.Message})
	case StringErrors:
		writeJSON(w, http.StatusBadRequest, fieldLines(e))
	default:
		writeJSON(w, http.StatusBadRequest, errorBody{Error: e.Message})
	}
}

// fieldLines renders field errors the way the task routes document them:
// "<field> <message>", one line per message, fields in name order.
func fieldLines(e *fault.Error) string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	var lines []string
	for _, f := range e.FieldNames() {
		for _, m := range e.Fields[f] {
			lines = append(lines, f+" "+m)
		}
	}
	return strings.Join(lines, "\n")
}
