package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// newKey creates, as the tenant's administrator, an API key acting as the
// seeded user with email and returns its secret.
func newKey(t *testing.T, db *store.DB, email string) string {
	t.Helper()
	admin := storetest.As(t, db, "admin@"+email[strings.IndexByte(email, '@')+1:])
	user := storetest.UserID(t, db, email)
	_, secret, err := crm.NewService(db.Client).CreateAPIKey(admin, crm.APIKeyInput{Name: "limits", UserID: &user})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func withKey(s *apptest.Server, secret string) *apptest.Response {
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/x", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	return s.Send(req)
}

// An API key acts as its user, so it draws on that user's and tenant's
// rate-limit buckets — a key does not add a second allowance — and a bad
// key counts as a failed authentication of its address like a bad JWT.
func TestAPIKeysShareTheirUsersLimits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apptest.StartConfig(t, db, app.Config{Limits: app.Limits{UserRate: 0.01, UserBurst: 3}},
			map[string]http.Handler{"/api/": ok})
		secret := newKey(t, db, admin)
		for i, r := range []*apptest.Response{s.Do(http.MethodGet, "/api/x", admin, nil), withKey(s, secret), s.Do(http.MethodGet, "/api/x", admin, nil)} {
			if r.Status != http.StatusOK {
				t.Fatalf("request %d: %d %s", i, r.Status, r.Body)
			}
		}
		if r := withKey(s, secret); r.Status != http.StatusTooManyRequests || !strings.Contains(string(r.Body), "user") ||
			r.Header.Get("RateLimit-Remaining") != "0" {
			t.Fatalf("4th request of the user, with the key: %d %s %v", r.Status, r.Body, r.Header)
		}
		// The manager's own key has the manager's own bucket.
		if r := withKey(s, newKey(t, db, manager)); r.Status != http.StatusOK {
			t.Fatalf("another user's key: %d", r.Status)
		}

		f := apptest.StartConfig(t, db, app.Config{Limits: app.Limits{AuthFailures: 3}}, map[string]http.Handler{"/api/": ok})
		for i := range 3 {
			if r := withKey(f, "ck_"+strings.Repeat("x", 43)); r.Status != http.StatusUnauthorized {
				t.Fatalf("bad key %d: %d %s", i, r.Status, r.Body)
			}
		}
		if r := withKey(f, secret); r.Status != http.StatusTooManyRequests {
			t.Fatalf("good key from an address past its failed authentications: %d", r.Status)
		}
	})
}
