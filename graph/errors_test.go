package graph

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

func TestErrorsReachClientsMaskedAndCoded(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		code     string
		message  string // "" means: must be the masked internal message
		fields   []string
		inLogs   string
		notShown string
	}{
		{"driver error", errors.New(`pq: relation "accounts" does not exist`), "INTERNAL_SERVER_ERROR", "", nil,
			`relation \"accounts\" does not exist`, "relation"},
		{"invalid input", inputError(fault.FieldError("contact", "This value should not be blank."), leadFields),
			"BAD_USER_INPUT", "input.contactID: This value should not be blank.", []string{"input.contactID"}, "", ""},
		{"not found", &ent.NotFoundError{}, "NOT_FOUND", "not found", nil, "", ""},
		{"forbidden", crm.Require(context.Background(), crm.PermStageManage), "FORBIDDEN", "Access denied", nil, "", ""},
		{"GraphQL's own error", gqlerror.Errorf("Could not resolve to a node"), "", "Could not resolve to a node", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			present := presentError(slog.New(slog.NewTextHandler(&logs, nil)), false)
			ctx := graphql.WithPathContext(context.Background(), graphql.NewPathWithField("accounts"))
			got := present(ctx, tt.err)
			code, _ := got.Extensions["code"].(string)
			if code != tt.code {
				t.Errorf("code %q, want %q", code, tt.code)
			}
			if tt.message == "" {
				if !strings.HasPrefix(got.Message, "internal error (request id") {
					t.Errorf("message %q is not masked", got.Message)
				}
			} else if got.Message != tt.message {
				t.Errorf("message %q, want %q", got.Message, tt.message)
			}
			if tt.notShown != "" && strings.Contains(got.Message+got.Error(), tt.notShown) {
				t.Errorf("client sees %q: %s", tt.notShown, got.Message)
			}
			if tt.inLogs != "" && !strings.Contains(logs.String(), tt.inLogs) {
				t.Errorf("log lacks %q: %s", tt.inLogs, logs.String())
			}
			fields, _ := got.Extensions["fields"].(map[string][]string)
			for _, f := range tt.fields {
				if _, ok := fields[f]; !ok {
					t.Errorf("extensions.fields lacks %q: %v", f, got.Extensions)
				}
			}
		})
	}
}

func TestPanicsAreLoggedAndMasked(t *testing.T) {
	var logs bytes.Buffer
	err := recoverPanic(slog.New(slog.NewTextHandler(&logs, nil)))(context.Background(), "nil map")
	got := presentError(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), false)(context.Background(), err)
	if strings.Contains(got.Message, "nil map") || got.Extensions["code"] != "INTERNAL_SERVER_ERROR" {
		t.Errorf("panic shown to the client: %+v", got)
	}
	if !strings.Contains(logs.String(), "nil map") || !strings.Contains(logs.String(), "stack=") {
		t.Errorf("panic not logged with a stack: %s", logs.String())
	}
}
