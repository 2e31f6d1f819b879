// Package httpx holds the small HTTP pieces the middleware (internal/app)
// and both transports (graph, internal/rest) share: the request's id, JSON
// answers, the status a handler wrote, and the status of a request whose
// client went away. It imports nothing of the gateway, so a transport can
// use it without importing the package that mounts it.
package httpx

import (
	"context"
	"encoding/json"
	"net/http"
)

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id (internal/app sets it
// for every request).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the id of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// StatusClientClosed is logged (and nominally answered) when the client
// went away before its answer was ready: nginx's 499.
const StatusClientClosed = 499

// WriteJSON writes v as the JSON response body with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// StatusWriter records the status a handler answered with (0 until it
// wrote anything).
type StatusWriter struct {
	http.ResponseWriter
	Status int
}

func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush passes a flush on: streamed answers (GraphQL @defer over
// multipart/mixed) assert http.Flusher on the writer they get.
func (w *StatusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }
