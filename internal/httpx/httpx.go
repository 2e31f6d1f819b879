// Package httpx holds the small HTTP pieces the middleware (internal/app)
// and both transports (graph, internal/rest) share: the request's id, JSON
// answers, the status a handler wrote, and the status of a request whose
// client went away. It imports nothing of the gateway, so a transport can
// use it without importing the package that mounts it.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
)

// Request is what the middleware keeps of one request, carried by its
// context as one value: made once by the outermost middleware
// (internal/app), where each layer used to add a context value and a copy
// of the *http.Request of its own.
type Request struct {
	// ID is the request's id (X-Request-Id).
	ID string
	// Statements counts the SQL statements sent on the request's behalf
	// (internal/store counts them, the request log and the metrics read
	// them).
	Statements atomic.Int64
	// Metrics holds the metrics layer's labels of the request
	// (internal/metrics).
	Metrics any
}

type requestKey struct{}

// WithRequest returns ctx carrying req.
func WithRequest(ctx context.Context, req *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, req)
}

// RequestOf returns the request ctx belongs to, nil outside one.
func RequestOf(ctx context.Context) *Request {
	r, _ := ctx.Value(requestKey{}).(*Request)
	return r
}

// RequestID returns the id of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	if r := RequestOf(ctx); r != nil {
		return r.ID
	}
	return ""
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

// Body is a request body a middleware has already read into memory (the
// idempotency layer reads every GraphQL POST's): a later reader of the
// request takes its bytes with ReadBody instead of copying them again.
type Body struct {
	bytes.Reader
	b []byte
}

// NewBody returns b as a request body.
func NewBody(b []byte) *Body {
	body := &Body{b: b}
	body.Reset(b)
	return body
}

func (*Body) Close() error { return nil }

// ReadBody reads r's body: the bytes of a Body nothing has read from yet,
// else all of r.Body.
func ReadBody(r *http.Request) ([]byte, error) {
	if b, ok := r.Body.(*Body); ok && b.Len() == len(b.b) {
		_, _ = b.Seek(0, io.SeekEnd) // read, as io.ReadAll would leave it
		return b.b, nil
	}
	return io.ReadAll(r.Body)
}
