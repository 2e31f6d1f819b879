package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"

	"github.com/99designs/gqlgen/graphql"

	"github.com/conecrm/gateway/internal/httpx"
)

// readBody reads a POST body before the executor sees it, so that what
// goes wrong there is answered as what it is — 408 for a client too slow
// to send it, 413 past the size limit, 400 for a body that is not one
// GraphQL request — with a message that never echoes the body or the
// connection's addresses (the executor's own messages do both, and answer
// a read timeout with a 200).
//
// It decodes the request once, as gqlgen's POST transport would (numbers
// as json.Number), and leaves it with the bytes as the request's body
// (*body): the POST transport takes the decoded request from there
// instead of reading and decoding the body again.
func readBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		raw, err := httpx.ReadBody(r)
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
		b := &body{}
		b.Reset(raw)
		if !decodeParams(raw, &b.params) {
			answer(w, http.StatusBadRequest, "BAD_REQUEST",
				`the request body must be one JSON object {"query", "operationName", "variables", "extensions"}`)
			return
		}
		r.Body = b
		next.ServeHTTP(w, r)
	})
}

// body is a POST body readBody has read and decoded.
type body struct {
	bytes.Reader
	params graphql.RawParams
}

func (*body) Close() error { return nil }

// decodeParams decodes raw into p as gqlgen's POST transport does, and
// reports whether raw is one JSON object whose query and operationName
// are strings (or null) and whose variables and extensions are objects
// (or null) — anything else, trailing data included, is not one request.
func decodeParams(raw []byte, p *graphql.RawParams) bool {
	if quickParams(raw, p) {
		return true
	}
	*p = graphql.RawParams{} // what quickParams set before it gave up
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(p) != nil {
		return false
	}
	return len(bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")) == 0
}

// params returns the request readBody decoded, if r's body is still that,
// unread.
func params(r *http.Request) (*graphql.RawParams, bool) {
	b, ok := r.Body.(*body)
	if !ok || b.Len() != int(b.Size()) {
		return nil, false
	}
	return &b.params, true
}

// answer writes a GraphQL response holding one error with code.
func answer(w http.ResponseWriter, status int, code, msg string) {
	httpx.WriteJSON(w, status, map[string]any{"errors": []any{map[string]any{
		"message": msg, "extensions": map[string]any{"code": code},
	}}})
}
