package auth

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/testing/testkeys"
)

func TestVerifiedTokensAreKeptUntilTheyExpire(t *testing.T) {
	ctx := context.Background()
	ks := testkeys.Keys()
	for name, tc := range map[string]struct {
		v   *Verifier
		tok string
	}{
		"HS256": {mustVerifier(t, Config{Secret: testSecret}), sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(nil))},
		"RS256": {mustVerifier(t, Config{PublicKeyFile: testkeys.WriteFile(t, "rsa.pem", testkeys.PublicPEM(t, &ks.RSA.PublicKey))}),
			sign(t, jwt.SigningMethodRS256, ks.RSA, nil, claims(nil))},
	} {
		t.Run(name, func(t *testing.T) {
			v := tc.v
			want, err := v.Verify(ctx, tc.tok)
			if err != nil {
				t.Fatal(err)
			}
			if v.cache.len() != 1 {
				t.Fatalf("a verified token is not kept: %d entries", v.cache.len())
			}
			// A hit answers from the cache: what it holds is what comes back.
			marked := want
			marked.UserID = uuid.New()
			v.cache.put(tc.tok, marked)
			if got, err := v.Verify(ctx, tc.tok); err != nil || got != marked {
				t.Fatalf("second Verify = %+v, %v; want the kept claims", got, err)
			}
			// Past exp (with the leeway) the entry is dropped and the token
			// verified again.
			v.cache.now = func() time.Time { return want.ExpiresAt.Add(Leeway) }
			if got, err := v.Verify(ctx, tc.tok); err != nil || got != want {
				t.Fatalf("Verify after the kept entry expired = %+v, %v; want it verified again", got, err)
			}
		})
	}
}

func TestRefusedTokensAreNotKept(t *testing.T) {
	ctx := context.Background()
	v := mustVerifier(t, Config{Secret: testSecret})
	now := time.Now()
	for name, tok := range map[string]string{
		"expired":     sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"exp": now.Add(-time.Hour).Unix()})),
		"other key":   sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-0123456789"), nil, claims(nil)),
		"not yet":     sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"nbf": now.Add(time.Hour).Unix()})),
		"string exp":  sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"exp": fmt.Sprint(now.Add(time.Hour).Unix())})),
		"nil subject": sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"sub": uuid.Nil.String()})),
	} {
		for range 2 {
			if _, err := v.Verify(ctx, tok); err == nil {
				t.Fatalf("%s: accepted", name)
			}
		}
	}
	if n := v.cache.len(); n != 0 {
		t.Fatalf("%d refused tokens kept", n)
	}
}

func TestTokenCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	v := mustVerifier(t, Config{Secret: testSecret, Cache: 3})
	for i := range 10 {
		tok := sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"jti": fmt.Sprint(i)}))
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.cache.len(); n != 3 {
		t.Fatalf("%d tokens kept, want the bound 3", n)
	}

	off := mustVerifier(t, Config{Secret: testSecret, Cache: -1})
	tok := sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(nil))
	for range 2 {
		if _, err := off.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if off.cache != nil {
		t.Fatal("a negative Cache keeps tokens")
	}
}

// BenchmarkVerify: a client's repeated token, kept and not.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	ks := testkeys.Keys()
	rsaFile := testkeys.WriteFile(b, "rsa.pem", testkeys.PublicPEM(b, &ks.RSA.PublicKey))
	for _, alg := range []struct {
		name string
		cfg  Config
		tok  string
	}{
		{"HS256", Config{Secret: testSecret}, sign(b, jwt.SigningMethodHS256, testSecret, nil, claims(nil))},
		{"RS256", Config{PublicKeyFile: rsaFile}, sign(b, jwt.SigningMethodRS256, ks.RSA, nil, claims(nil))},
	} {
		for _, cache := range []int{-1, 0} {
			cfg := alg.cfg
			cfg.Cache = cache
			v := mustVerifier(b, cfg)
			b.Run(fmt.Sprintf("%s/cache=%v", alg.name, cache == 0), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Verify(ctx, alg.tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
