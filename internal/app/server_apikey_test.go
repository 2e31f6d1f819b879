package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/apikey"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/authtest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// newAPIKey adds a key of the tenant's admin (its secret is not needed).
func (f *tenantFixture) newAPIKey() uuid.UUID {
	k, err := f.db.APIKey.Create().SetTenantID(f.id).SetName(f.name("Probe key")).SetPrefix("ck_probe").
		SetSecretHash(f.name("not a hash")).SetUserID(f.admin.id).Save(f.sys)
	f.must(err)
	return k.ID
}

type createdKey struct {
	ID         string  `json:"id"`
	Prefix     string  `json:"prefix"`
	Secret     string  `json:"secret"`
	LastUsedAt *string `json:"lastUsedAt"`
	RevokedAt  *string `json:"revokedAt"`
	User       struct{ ID string }
}

// An API key's whole life through the real routes: created by an ADMIN
// (REST and GraphQL), shown once and stored hashed, used on REST and GraphQL
// as the same viewer as its user's JWT, its use recorded, and refused (401,
// like a bad token) once revoked, expired or its user deactivated.
func TestAPIKeyLifecycle(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := startGateway(t, db)
		f := newFixture(t, db)
		demo := f.demo
		withKey := func(secret, method, path, body string) *http.Response {
			t.Helper()
			res := g.Send(authtest.Request{Method: method, Path: path, Body: body}, "Bearer "+secret)
			return &http.Response{StatusCode: res.Status, Header: res.Header, Body: nil}
		}
		viewerOf := func(auth string) string {
			t.Helper()
			res := g.Send(authtest.Request{Method: http.MethodPost, Path: "/graphql", Body: `{"query":"{ viewer { user { id } tenant { id } } }"}`}, auth)
			if res.Status != http.StatusOK {
				t.Fatalf("viewer: %d %s", res.Status, res.Body)
			}
			return string(res.Body)
		}

		// Create (REST), as the manager: the secret is shown once.
		res := g.do(demo.admin, http.MethodPost, "/api/api-key", map[string]any{"name": "CI export", "userId": demo.manager.id})
		if res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		var k createdKey
		res.JSON(t, &k)
		if !strings.HasPrefix(k.Secret, "ck_") || len(k.Secret) < 40 || !strings.HasPrefix(k.Secret, k.Prefix) ||
			k.User.ID != demo.manager.id.String() || k.LastUsedAt != nil {
			t.Fatalf("created key %s", res.Body)
		}
		row, err := db.APIKey.Query().Where(apikey.PrefixEQ(k.Prefix)).Only(demo.sys)
		if err != nil || row.SecretHash == k.Secret || strings.Contains(row.SecretHash, k.Secret[3:]) {
			t.Fatalf("stored key %+v %v: the secret must be stored hashed", row, err)
		}
		list := g.do(demo.admin, http.MethodGet, "/api/api-key", nil)
		if list.Status != http.StatusOK || strings.Contains(string(list.Body), k.Secret) || !strings.Contains(string(list.Body), k.ID) {
			t.Fatalf("list: %d %s", list.Status, list.Body)
		}

		// Use: the key is its user, on both transports.
		if got, want := viewerOf("Bearer "+k.Secret), viewerOf("Bearer "+demo.manager.token(t)); got != want {
			t.Fatalf("viewer of the key %s, of the user's JWT %s", got, want)
		}
		if r := withKey(k.Secret, http.MethodGet, "/api/account?limit=1", ""); r.StatusCode != http.StatusOK {
			t.Fatalf("REST read with the key: %d", r.StatusCode)
		}
		// The manager's permissions, not the creator's: no api_key.manage.
		if r := withKey(k.Secret, http.MethodGet, "/api/api-key", ""); r.StatusCode != http.StatusForbidden {
			t.Fatalf("manager's key listing keys: %d", r.StatusCode)
		}
		if row, _ = db.APIKey.Get(demo.sys, row.ID); row.LastUsedAt == nil || time.Since(*row.LastUsedAt) > time.Minute {
			t.Fatalf("last use not recorded: %v", row.LastUsedAt)
		}
		// Another tenant never sees it.
		if r := g.do(f.other.admin, http.MethodDelete, "/api/api-key/"+k.ID, nil); r.Status != http.StatusNotFound {
			t.Fatalf("other tenant's revoke: %d %s", r.Status, r.Body)
		}

		// Revoke (GraphQL): refused from the next request on, like a bad token.
		_, out := g.graphql(demo.admin, `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt lastUsedAt } }`, map[string]any{"id": k.ID})
		var revoked struct{ RevokeApiKey createdKey }
		if err := json.Unmarshal(out.Data["revokeApiKey"], &revoked.RevokeApiKey); err != nil || revoked.RevokeApiKey.RevokedAt == nil || revoked.RevokeApiKey.LastUsedAt == nil {
			t.Fatalf("revoke: %s %v", out.Data["revokeApiKey"], out.Errors)
		}
		for _, path := range []string{"/graphql", "/api/account"} {
			method, body := http.MethodGet, ""
			if path == "/graphql" {
				method, body = http.MethodPost, `{"query":"{ __typename }"}`
			}
			if !authtest.Refused(t, g.Send(authtest.Request{Method: method, Path: path, Body: body}, "Bearer "+k.Secret), authtest.ChallengeInvalid) {
				t.Fatalf("revoked key on %s", path)
			}
		}

		// Expiry (GraphQL create): works until expiresAt, refused after.
		_, out = g.graphql(demo.admin, `mutation($in: CreateApiKeyInput!) { createApiKey(input: $in) { secret apiKey { id expiresAt user { id } } } }`,
			map[string]any{"in": map[string]any{"name": "short-lived", "expiresAt": time.Now().Add(1500 * time.Millisecond).Format(time.RFC3339Nano)}})
		var made struct {
			Secret string
			APIKey struct {
				ID   string
				User struct{ ID string }
			} `json:"apiKey"`
		}
		if err := json.Unmarshal(out.Data["createApiKey"], &made); err != nil || made.APIKey.User.ID != demo.admin.id.String() {
			t.Fatalf("GraphQL create: %s %v", out.Data["createApiKey"], out.Errors)
		}
		if r := withKey(made.Secret, http.MethodGet, "/api/api-key", ""); r.StatusCode != http.StatusOK {
			t.Fatalf("admin's key before expiry: %d", r.StatusCode)
		}
		time.Sleep(time.Until(time.Now().Add(1600 * time.Millisecond)))
		if !authtest.Refused(t, g.Send(authtest.Request{Method: http.MethodGet, Path: "/api/account"}, "Bearer "+made.Secret), authtest.ChallengeInvalid) {
			t.Fatal("expired key accepted")
		}

		// A deactivated user's keys stop working with the user and, like
		// the user's tokens of that time (access_revoked_at), stay dead
		// after a reactivation; a key made afterwards works.
		res = g.do(demo.admin, http.MethodPost, "/api/api-key", map[string]any{"name": "sales bot", "userId": demo.sales1.id})
		res.JSON(t, &k)
		if r := withKey(k.Secret, http.MethodGet, "/api/account?limit=1", ""); r.StatusCode != http.StatusOK {
			t.Fatalf("sales1's key: %d", r.StatusCode)
		}
		oldJWT := demo.sales1.token(t)
		// access_revoked_at is compared with the JWT's iat, whole seconds.
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
		for _, m := range []string{"deactivateUser", "reactivateUser"} {
			if _, out := g.graphql(demo.admin, `mutation($id: ID!) { `+m+`(id: $id) { id } }`, map[string]any{"id": demo.sales1.id}); len(out.Errors) > 0 {
				t.Fatalf("%s: %v", m, out.Errors)
			}
			for _, cred := range []string{k.Secret, oldJWT} {
				if !authtest.Refused(t, g.Send(authtest.Request{Method: http.MethodGet, Path: "/api/account"}, "Bearer "+cred), authtest.ChallengeInvalid) {
					t.Fatalf("after %s: a credential of before the deactivation accepted", m)
				}
			}
		}
		res = g.do(demo.admin, http.MethodPost, "/api/api-key", map[string]any{"name": "sales bot 2", "userId": demo.sales1.id})
		res.JSON(t, &k)
		if r := withKey(k.Secret, http.MethodGet, "/api/account?limit=1", ""); r.StatusCode != http.StatusOK {
			t.Fatalf("sales1's key made after the reactivation: %d", r.StatusCode)
		}
		// The key events name the key, never its secret.
		rows, err := db.OutboxEvent.Query().Where(outboxevent.SubjectID(uuid.MustParse(k.ID))).All(demo.sys)
		if err != nil || len(rows) != 1 || rows[0].Topic != "apiKey.created" || strings.Contains(fmt.Sprint(rows[0].Payload), k.Secret) {
			t.Fatalf("events of the key: %v %v", rows, err)
		}
		rows, _ = db.OutboxEvent.Query().Where(outboxevent.SubjectID(uuid.MustParse(made.APIKey.ID))).All(demo.sys)
		if n := len(rows); n != 1 || rows[0].Topic != "apiKey.created" {
			t.Fatalf("events of the expiring key: %v", rows)
		}
		rows, _ = db.OutboxEvent.Query().Where(outboxevent.SubjectID(row.ID)).Order(outboxevent.ByID()).All(demo.sys)
		if len(rows) != 2 || rows[1].Topic != "apiKey.revoked" {
			t.Fatalf("events of the revoked key: %v", rows)
		}

		// Unknown keys are bad tokens, not outages.
		for _, bad := range []string{"ck_", "ck_" + strings.Repeat("A", 43), k.Secret + "x"} {
			if !authtest.Refused(t, g.Send(authtest.Request{Method: http.MethodGet, Path: "/api/account"}, "Bearer "+bad), authtest.ChallengeInvalid) {
				t.Fatalf("key %q accepted", bad)
			}
		}
	})
}

// A key bound to a role holds that role's permissions only, also when its
// user is an ADMIN; keys are managed by api_key.manage holders only; bad
// input is a 400 naming the field and creates nothing.
func TestAPIKeyRolesPermissionsAndInput(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := startGateway(t, db)
		f := newFixture(t, db)
		demo := f.demo
		userRole, err := db.Role.Query().Where(role.TenantID(demo.id), role.Name("User")).OnlyID(demo.sys)
		if err != nil {
			t.Fatal(err)
		}
		res := g.do(demo.admin, http.MethodPost, "/api/api-key", map[string]any{"name": "narrow", "roleId": userRole})
		var k createdKey
		res.JSON(t, &k)
		send := func(method, path string) int {
			return g.Send(authtest.Request{Method: method, Path: path}, "Bearer "+k.Secret).Status
		}
		if res.Status != http.StatusCreated || send(http.MethodGet, "/api/account?limit=1") != http.StatusOK {
			t.Fatalf("role key: %d %s", res.Status, res.Body)
		}
		// The User role has neither api_key.manage nor account.delete.
		if s := send(http.MethodGet, "/api/api-key"); s != http.StatusForbidden {
			t.Fatalf("role key listing keys: %d", s)
		}
		if s := send(http.MethodDelete, "/api/account/"+demo.newAccount().String()); s != http.StatusForbidden {
			t.Fatalf("role key deleting an account: %d", s)
		}

		before, _ := db.APIKey.Query().Count(demo.sys)
		for _, a := range []actor{demo.manager, demo.user} {
			if r := g.do(a, http.MethodPost, "/api/api-key", map[string]any{"name": "x"}); r.Status != http.StatusForbidden {
				t.Fatalf("%s created a key: %d", a.name, r.Status)
			}
			if _, out := g.graphql(a, `{ apiKeys { id } }`, nil); len(out.codes()) != 1 || out.codes()[0] != "FORBIDDEN" {
				t.Fatalf("%s listed keys: %v", a.name, out.codes())
			}
		}
		for field, body := range map[string]map[string]any{
			"name":      {"name": "  "},
			"userId":    {"name": "x", "userId": f.other.admin.id}, // another tenant's user: unknown
			"roleId":    {"name": "x", "roleId": demo.franchise},
			"expiresAt": {"name": "x", "expiresAt": "2001-01-01T00:00:00Z"},
		} {
			r := g.do(demo.admin, http.MethodPost, "/api/api-key", body)
			want := map[string]string{"userId": "userID", "roleId": "roleID"}[field]
			if want == "" {
				want = field
			}
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), want) {
				t.Errorf("%s: %d %s", field, r.Status, r.Body)
			}
		}
		if r := g.do(demo.admin, http.MethodPost, "/api/api-key", map[string]any{"name": "x", "expiresAt": "tomorrow"}); r.Status != http.StatusBadRequest {
			t.Errorf("expiresAt tomorrow: %d %s", r.Status, r.Body)
		}
		_, out := g.graphql(demo.admin, `mutation { createApiKey(input: {name: ""}) { secret } }`, nil)
		if len(out.codes()) != 1 || out.codes()[0] != "BAD_USER_INPUT" {
			t.Errorf("GraphQL empty name: %v", out.Errors)
		}
		if after, _ := db.APIKey.Query().Count(demo.sys); after != before {
			t.Fatalf("refused creates stored %d keys", after-before)
		}

		// Key rows are read with api_key.manage alone (the registry): a
		// holder who may not read users gets the keys, each user null with
		// FORBIDDEN; nobody else reads them, whatever else they hold.
		keyAdmin := demo.roleUser("key-admin", []string{crm.PermAPIKeyManage})
		res2, out2 := g.graphql(keyAdmin, `{ apiKeys { id user { id } } }`, nil)
		var keys struct {
			APIKeys []struct {
				ID   string
				User *struct{ ID string }
			} `json:"apiKeys"`
		}
		if err := json.Unmarshal(res2.Body, &struct{ Data any }{&keys}); err != nil || len(keys.APIKeys) == 0 || keys.APIKeys[0].User != nil ||
			len(out2.codes()) == 0 || out2.codes()[0] != "FORBIDDEN" {
			t.Fatalf("api_key.manage without user.read: %s", res2.Body)
		}
		var all []string
		for _, p := range crm.Catalogue {
			if p.Name != crm.PermAPIKeyManage {
				all = append(all, p.Name)
			}
		}
		allButKeys := demo.roleUser("all-but-keys", all)
		if _, out := g.graphql(allButKeys, `{ apiKeys { id } }`, nil); len(out.codes()) != 1 || out.codes()[0] != "FORBIDDEN" {
			t.Fatalf("a manager of everything but keys listed keys: %v", out.Errors)
		}
		if _, err := db.APIKey.Query().All(storetest.AsID(t, db, allButKeys.id)); !errors.As(err, new(*registry.ForbiddenError)) {
			t.Fatalf("the data layer read key rows without api_key.manage: %v", err)
		}
	})
}
