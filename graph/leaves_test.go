package graph_test

import (
	"os"
	"strings"
	"testing"
)

// The generated executor marshals leaf fields without gqlgen's field
// machinery (graph/gqlgen), so a field middleware would not see them:
// NewHandler registers none (an extension that intercepts fields makes it
// panic; this catches the other way, srv.AroundFields).
func TestHandlerHasNoFieldMiddleware(t *testing.T) {
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(src), ".AroundFields(") {
		t.Error("graph/server.go registers a field middleware, which the executor's leaves skip")
	}
}
