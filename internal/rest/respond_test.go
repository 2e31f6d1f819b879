package rest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

// Every error a handler returns is answered in its route's documented shape,
// and nothing of an unexpected error's cause reaches the client.
func TestWriteErrorMapsCodesToStatusesAndShapes(t *testing.T) {
	var logged bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logged, nil))}
	invalid := &fault.Error{Code: fault.Invalid, Message: "title: This value should not be blank.",
		Fields: map[string][]string{"title": {"This value should not be blank."}, "end": {"is early"}}}
	tests := []struct {
		name   string
		style  ErrorStyle
		err    error
		status int
		body   string
	}{
		{"plain 400", PlainErrors, fault.FieldError("limit", "must be a positive integer"), 400, `{"error":"limit: must be a positive integer"}`},
		{"form 400", FormErrors, invalid, 400, `{"errors":{"end":["is early"],"title":["This value should not be blank."]},"message":"title: This value should not be blank."}`},
		{"form 400 without fields", FormErrors, fault.Errorf(fault.Invalid, "bad"), 400, `{"errors":{},"message":"bad"}`},
		{"string 400", StringErrors, invalid, 400, `"end is early\ntitle This value should not be blank."`},
		{"conflict is a 400", PlainErrors, fault.Errorf(fault.Conflict, "name taken"), 400, `{"error":"name taken"}`},
		{"not found", StringErrors, fault.Errorf(fault.NotFound, "Task not found"), 404, `{"error":"Task not found"}`},
		{"forbidden", FormErrors, crm.Require(httptest.NewRequest("GET", "/", nil).Context(), crm.PermLeadCreate), 403, `{"error":"Access denied"}`},
		{"unauthenticated", PlainErrors, fault.Errorf(fault.Unauthenticated, "not authenticated"), 401, `{"error":"not authenticated"}`},
		{"too large", FormErrors, fmt.Errorf("decode: %w", errTooLarge), 413, `{"error":"request body too large"}`},
		{"driver error", PlainErrors, errors.New(`pq: relation "secret_table" does not exist`), 500, `{"error":"internal server error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.writeError(w, httptest.NewRequest("GET", "/api/x", nil), tt.style, tt.err)
			if w.Code != tt.status || strings.TrimSpace(w.Body.String()) != tt.body {
				t.Fatalf("%d %s; want %d %s", w.Code, w.Body, tt.status, tt.body)
			}
		})
	}
	if !strings.Contains(logged.String(), "secret_table") {
		t.Errorf("the 500's cause was not logged: %s", logged.String())
	}
}

// A body that turns out larger than the limit while being read (no
// Content-Length up front) is a 413 too.
func TestDecodeReportsBodiesOverTheLimit(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/api/account", io.NopCloser(strings.NewReader(`{"name":"`+strings.Repeat("x", 100)+`"}`)))
	r.Body = http.MaxBytesReader(w, r.Body, 10)
	var dst struct{ Name string }
	if err := decode(r, &dst); !errors.Is(err, errTooLarge) {
		t.Fatalf("decode = %v, want errTooLarge", err)
	}
}
