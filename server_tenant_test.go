package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/internal/storetest"
)

// A new customer on a fresh database: `tenant create` makes the tenant, its
// defaults and its administrator and prints a token that works at once
// against the server; running it again changes nothing.
func TestOnboardingOnAFreshDatabase(t *testing.T) {
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		t.Run(d, func(t *testing.T) {
			vars := map[string]string{
				"CONECRM_DATABASE_URL": storetest.URL(t, d),
				"CONECRM_DATA_DIR":     t.TempDir(),
				"CONECRM_JWT_SECRET":   "onboarding-secret-onboarding-secret-0123",
			}
			create := func(email string) (string, string, error) {
				var out, log bytes.Buffer
				err := run(context.Background(), []string{"tenant", "create", "--name", "Acme Cars", "--domain", "Acme-Cars.example",
					"--admin-email", email, "--admin-firstname", "Ann"}, env(vars), &out, &log)
				return strings.TrimSpace(out.String()), log.String(), err
			}
			tok, log, err := create("boss@acme-cars.example")
			if err != nil || !strings.Contains(log, "created") || !strings.HasPrefix(tok, "ey") {
				t.Fatalf("create: %v\n%s\n%s", err, log, tok)
			}
			again, log, err := create("Boss@acme-cars.example")
			if err != nil || !strings.Contains(log, "already exists") || again == "" {
				t.Fatalf("second create: %v\n%s", err, log)
			}
			if _, log, err := create("someone@acme-cars.example"); err == nil {
				t.Fatalf("a create naming another admin of an existing tenant succeeded:\n%s", log)
			}
			var out bytes.Buffer
			if err := run(context.Background(), []string{"tenant", "create", "--name", " ", "--domain", "nodot", "--admin-email", "x"},
				env(vars), &out, io.Discard); err == nil || !strings.Contains(err.Error(), "domain") || !strings.Contains(err.Error(), "adminEmail") {
				t.Fatalf("bad input: %v", err)
			}

			addr := freeAddr(t)
			vars["CONECRM_ADDR"] = addr
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- run(ctx, nil, env(vars), io.Discard, io.Discard) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("serve: %v", err)
				}
			}()
			waitHealthy(t, "http://"+addr)

			body := `{"query":"{ viewer { permissions user { email displayName userType roles { name } } tenant { name domain } } stages { totalCount } statuses { totalCount } sources { totalCount } pipelines { totalCount } }"}`
			for _, token := range []string{tok, again} {
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				var r struct {
					Data struct {
						Viewer struct {
							Permissions []string
							User        struct {
								Email, DisplayName, UserType string
								Roles                        []struct{ Name string }
							}
							Tenant struct{ Name, Domain string }
						}
						Stages, Statuses, Sources, Pipelines struct{ TotalCount int }
					}
					Errors []any
				}
				if err := json.Unmarshal(raw, &r); err != nil || res.StatusCode != http.StatusOK || len(r.Errors) > 0 {
					t.Fatalf("first query: %d %s", res.StatusCode, raw)
				}
				v := r.Data.Viewer
				if v.User.Email != "boss@acme-cars.example" || v.User.DisplayName != "Ann" || v.User.UserType != "ADMIN" ||
					len(v.User.Roles) != 1 || v.User.Roles[0].Name != "Administrator" ||
					v.Tenant.Name != "Acme Cars" || v.Tenant.Domain != "acme-cars.example" {
					t.Errorf("viewer %+v", v)
				}
				if !strings.Contains(strings.Join(v.Permissions, " "), "user.manage") {
					t.Errorf("permissions %v", v.Permissions)
				}
				// The demo's defaults without its records.
				if r.Data.Stages.TotalCount != 5 || r.Data.Statuses.TotalCount != 4 || r.Data.Sources.TotalCount != 5 ||
					r.Data.Pipelines.TotalCount != 1 {
					t.Errorf("defaults %+v", r.Data)
				}
			}
		})
	}
}
