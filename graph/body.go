package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/conecrm/gateway/internal/httpx"
)

// readBody reads a POST body before the executor sees it, so that what
// goes wrong there is answered as what it is — 408 for a client too slow
// to send it, 413 past the size limit, 400 for a body that is not one
// GraphQL request — with a message that never echoes the body or the
// connection's addresses (the executor's own messages do both, and answer
// a read timeout with a 200).
func readBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		var (
			tooLarge *http.MaxBytesError
			netErr   net.Error
		)
		switch {
		case errors.As(err, &tooLarge):
			answer(w, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "the request body is too large")
			return
		case errors.As(err, &netErr) && netErr.Timeout():
			w.Header().Set("Connection", "close")
			answer(w, http.StatusRequestTimeout, "REQUEST_TIMEOUT", "the request body was not received in time")
			return
		case err != nil:
			answer(w, http.StatusBadRequest, "BAD_REQUEST", "the request body could not be read")
			return
		}
		var req struct {
			Query         jsonString `json:"query"`
			OperationName jsonString `json:"operationName"`
			Variables     jsonObject `json:"variables"`
			Extensions    jsonObject `json:"extensions"`
		}
		if json.Unmarshal(body, &req) != nil {
			answer(w, http.StatusBadRequest, "BAD_REQUEST",
				`the request body must be one JSON object {"query", "operationName", "variables", "extensions"}`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// jsonObject accepts a JSON object or null without decoding it: the
// executor decodes the variables, this check only has to refuse what is not
// an object (as a map[string]any would), without building the map.
type jsonObject struct{}

func (jsonObject) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && (b[0] == '{' || string(b) == "null") {
		return nil
	}
	return errNotObject
}

var errNotObject = errors.New("not a JSON object")

// jsonString accepts a JSON string or null without unescaping it (the
// executor reads the query; the decoder has checked the escapes already).
type jsonString struct{}

func (jsonString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && (b[0] == '"' || string(b) == "null") {
		return nil
	}
	return errNotString
}

var errNotString = errors.New("not a JSON string")

// answer writes a GraphQL response holding one error with code.
func answer(w http.ResponseWriter, status int, code, msg string) {
	httpx.WriteJSON(w, status, map[string]any{"errors": []any{map[string]any{
		"message": msg, "extensions": map[string]any{"code": code},
	}}})
}
