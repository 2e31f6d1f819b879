package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/testing/testkeys"
)

func TestVerifyRejectsBadTokens(t *testing.T) {
	ks := testkeys.Keys()
	hs, rs, es := verifiers(t)
	mixed := mustVerifier(t, Config{Secret: testSecret, PublicKeyFile: testkeys.WriteFile(t, "rsa.pem", testkeys.PublicPEM(t, &ks.RSA.PublicKey))})
	now := time.Now()

	validHS := sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(nil))
	validRS := sign(t, jwt.SigningMethodRS256, ks.RSA, nil, claims(nil))
	validES := sign(t, jwt.SigningMethodES256, ks.EC, map[string]any{"kid": "ec-1"}, claims(nil))
	rsaPEM := testkeys.PublicPEM(t, &ks.RSA.PublicKey)
	attackerJWK := testkeys.JWK(t, &ks.AttackerEC.PublicKey, "ec-1")
	attackerCert := base64.StdEncoding.EncodeToString(testkeys.CertDER(t, ks.AttackerEC))
	otherTenantPayload := strings.Split(sign(t, jwt.SigningMethodHS256, testSecret, nil,
		claims(map[string]any{"tid": uuid.NewString()})), ".")[1]
	parts := strings.Split(validHS, ".")
	sig := parts[2]
	idx := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", sig[len(sig)-1])
	nonCanonicalSig := sig[:len(sig)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[idx|1])

	tests := []struct {
		name  string
		v     *Verifier
		token string
	}{
		// Claims.
		{"missing exp", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"exp": nil}))},
		{"expired beyond leeway", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"exp": now.Add(-time.Minute).Unix(), "iat": now.Add(-time.Hour).Unix()}))},
		{"exp not a number", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"exp": "tomorrow"}))},
		{"nbf in future beyond leeway", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"nbf": now.Add(time.Minute).Unix()}))},
		{"iat in future beyond leeway", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"iat": now.Add(2 * time.Minute).Unix()}))},
		{"wrong iss", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"iss": "https://evil.test"}))},
		{"missing iss when configured", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"iss": nil}))},
		{"wrong aud", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"aud": "other-service"}))},
		{"wrong aud list", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"aud": []string{"a", "b"}}))},
		{"missing aud when configured", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"aud": nil}))},
		{"non-UUID sub", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"sub": "admin"}))},
		{"non-UUID tid", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"tid": "acme"}))},
		{"numeric tid", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"tid": 42}))},
		{"missing sub", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"sub": nil}))},
		{"missing tid", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"tid": nil}))},
		{"nil UUID sub", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"sub": uuid.Nil.String()}))},
		{"non-canonical UUID tid", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"tid": "{" + testTenant.String() + "}"}))},

		// Signatures and keys.
		{"wrong secret", hs, sign(t, jwt.SigningMethodHS256, []byte("another-secret-that-is-32-bytes-long!!"), nil, claims(nil))},
		{"payload swapped under valid signature", hs, parts[0] + "." + otherTenantPayload + "." + parts[2]},
		{"empty signature", hs, parts[0] + "." + parts[1] + "."},
		{"truncated signature", hs, validHS[:len(validHS)-4]},
		{"signature one char short", hs, validHS[:len(validHS)-1]},
		{"truncated RS256 signature", rs, validRS[:len(validRS)-4]},
		{"truncated ES256 signature", es, validES[:len(validES)-4]},
		{"non-canonical base64 signature", hs, parts[0] + "." + parts[1] + "." + nonCanonicalSig},
		{"newline inside signature", hs, validHS[:len(validHS)-5] + "\n" + validHS[len(validHS)-5:]},
		{"padded signature", hs, validHS + "="},
		{"HS384 with the right secret", hs, sign(t, jwt.SigningMethodHS384, testSecret, nil, claims(nil))},
		{"RS256 to HS256-only verifier", hs, validRS},
		{"ES256 to RSA PEM verifier", rs, sign(t, jwt.SigningMethodES256, ks.EC, nil, claims(nil))},
		{"RS512 with the right key", rs, sign(t, jwt.SigningMethodRS512, ks.RSA, nil, claims(nil))},
		{"PS256 with the right key", rs, sign(t, jwt.SigningMethodPS256, ks.RSA, nil, claims(nil))},
		{"RS256 signed by attacker", rs, sign(t, jwt.SigningMethodRS256, ks.AttackerRSA, nil, claims(nil))},
		{"HS256 with RSA public key PEM as secret", rs, sign(t, jwt.SigningMethodHS256, rsaPEM, nil, claims(nil))},
		{"HS256 with RSA public key PEM as secret to JWKS verifier", es, sign(t, jwt.SigningMethodHS256, rsaPEM, map[string]any{"kid": "rsa-1"}, claims(nil))},
		{"HS256 with RSA public key PEM as secret to secret+PEM verifier", mixed, sign(t, jwt.SigningMethodHS256, rsaPEM, nil, claims(nil))},
		{"unknown kid with JWKS", es, sign(t, jwt.SigningMethodES256, ks.AttackerEC, map[string]any{"kid": "attacker"}, claims(nil))},
		{"unknown kid on a correctly signed token", es, sign(t, jwt.SigningMethodES256, ks.EC, map[string]any{"kid": "ec-2"}, claims(nil))},
		{"missing kid with JWKS", es, sign(t, jwt.SigningMethodES256, ks.EC, nil, claims(nil))},
		{"numeric kid with JWKS", es, sign(t, jwt.SigningMethodES256, ks.EC, map[string]any{"kid": 1}, claims(nil))},
		{"ES256 naming an RSA kid", es, sign(t, jwt.SigningMethodES256, ks.EC, map[string]any{"kid": "rsa-1"}, claims(nil))},
		{"jwk header with attacker key", es, sign(t, jwt.SigningMethodES256, ks.AttackerEC, map[string]any{"kid": "ec-1", "jwk": attackerJWK}, claims(nil))},
		{"jwk header with attacker key to PEM verifier", rs, sign(t, jwt.SigningMethodRS256, ks.AttackerRSA, map[string]any{"jwk": testkeys.JWK(t, &ks.AttackerRSA.PublicKey, "x")}, claims(nil))},
		{"jku header to attacker key set", es, sign(t, jwt.SigningMethodES256, ks.AttackerEC, map[string]any{"kid": "ec-1", "jku": "https://evil.test/jwks.json"}, claims(nil))},
		{"x5u header to attacker certificate", es, sign(t, jwt.SigningMethodES256, ks.AttackerEC, map[string]any{"kid": "ec-1", "x5u": "https://evil.test/cert.pem"}, claims(nil))},
		{"x5c header with attacker certificate", es, sign(t, jwt.SigningMethodES256, ks.AttackerEC, map[string]any{"kid": "ec-1", "x5c": []string{attackerCert}}, claims(nil))},
		{"crit header", hs, sign(t, jwt.SigningMethodHS256, testSecret, map[string]any{"crit": []string{"exp"}, "exp": 1}, claims(nil))},

		// Structure.
		{"garbage", hs, "not a token"},
		{"empty", hs, ""},
		{"two-part token", hs, parts[0] + "." + parts[1]},
		{"four-part token", hs, validHS + ".e30"},
		{"header not JSON", hs, "bm90anNvbg." + parts[1] + "." + parts[2]},
		{"oversized token", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"pad": strings.Repeat("x", MaxTokenLen)}))},
	}
	for _, alg := range []string{"none", "NONE", "nOnE", "None"} {
		tok := unsigned(t, map[string]any{"alg": alg, "typ": "JWT"}, claims(nil))
		for name, v := range map[string]*Verifier{"HS256": hs, "PEM": rs, "JWKS": es, "secret+PEM": mixed} {
			tests = append(tests, struct {
				name  string
				v     *Verifier
				token string
			}{"alg " + alg + " to " + name + " verifier", v, tok})
		}
		// alg none carrying a real signature must not pass either.
		tests = append(tests, struct {
			name  string
			v     *Verifier
			token string
		}{"alg " + alg + " with HS256 signature", hs, tok + parts[2]})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.v.Verify(context.Background(), tt.token)
			if err == nil {
				t.Fatalf("Verify accepted bad token: %+v", c)
			}
			t.Log(err)
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("error %v does not wrap ErrInvalidToken", err)
			}
			if c != (Claims{}) {
				t.Errorf("claims %+v returned with error", c)
			}
		})
	}

	// The verifier holds no state that a refused token could corrupt.
	t.Run("valid tokens still verify after bad ones", func(t *testing.T) {
		for _, p := range []struct {
			v   *Verifier
			tok string
		}{{hs, validHS}, {rs, validRS}, {es, validES}, {mixed, validRS}} {
			if _, err := p.v.Verify(context.Background(), p.tok); err != nil {
				t.Errorf("Verify: %v", err)
			}
		}
	})
}

func TestVerifyAcceptsValidTokens(t *testing.T) {
	ks := testkeys.Keys()
	hs, rs, es := verifiers(t)
	mixed := mustVerifier(t, Config{Secret: testSecret, PublicKeyFile: testkeys.WriteFile(t, "rsa.pem", testkeys.PublicPEM(t, &ks.RSA.PublicKey))})
	minted, err := Mint(testSecret, testUser, testTenant, time.Hour, WithIssuer(testIssuer), WithAudience(testAudience))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()

	tests := []struct {
		name  string
		v     *Verifier
		token string
	}{
		{"HS256 minted by Mint", hs, minted},
		{"HS256 with aud list containing ours", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"aud": []string{"other", testAudience}}))},
		{"RS256 with PEM key", rs, sign(t, jwt.SigningMethodRS256, ks.RSA, nil, claims(nil))},
		{"RS256 with PEM key ignores kid", rs, sign(t, jwt.SigningMethodRS256, ks.RSA, map[string]any{"kid": "whatever"}, claims(nil))},
		{"ES256 with JWKS kid", es, sign(t, jwt.SigningMethodES256, ks.EC, map[string]any{"kid": "ec-1"}, claims(nil))},
		{"RS256 with JWKS kid", es, sign(t, jwt.SigningMethodRS256, ks.RSA, map[string]any{"kid": "rsa-1"}, claims(nil))},
		{"HS256 to secret+PEM verifier", mixed, minted},
		{"RS256 to secret+PEM verifier", mixed, sign(t, jwt.SigningMethodRS256, ks.RSA, nil, claims(nil))},
		{"expired within leeway", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"exp": now.Add(-10 * time.Second).Unix()}))},
		{"nbf within leeway", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"nbf": now.Add(10 * time.Second).Unix()}))},
		{"no iat", hs, sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"iat": nil}))},
		{"no iss or aud when not configured", rs, sign(t, jwt.SigningMethodRS256, ks.RSA, nil, claims(map[string]any{"iss": nil, "aud": nil}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.v.Verify(context.Background(), tt.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.UserID != testUser || c.TenantID != testTenant || c.IssuedAt.IsZero() != (tt.name == "no iat") {
				t.Errorf("claims = %+v", c)
			}
		})
	}
}

func TestMintRejectsUnsafeInput(t *testing.T) {
	tests := []struct {
		name   string
		secret []byte
		user   uuid.UUID
		tenant uuid.UUID
		ttl    time.Duration
	}{
		{"short secret", []byte("short"), testUser, testTenant, time.Hour},
		{"nil user", testSecret, uuid.Nil, testTenant, time.Hour},
		{"nil tenant", testSecret, testUser, uuid.Nil, time.Hour},
		{"zero ttl", testSecret, testUser, testTenant, 0},
		{"negative ttl", testSecret, testUser, testTenant, -time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok, err := Mint(tt.secret, tt.user, tt.tenant, tt.ttl); err == nil {
				t.Fatalf("Mint succeeded: %s", tok)
			}
		})
	}
}

func TestMintedTokenCarriesClaims(t *testing.T) {
	tok, err := Mint(testSecret, testUser, testTenant, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.MapClaims
	if _, err := jwt.ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return testSecret, nil },
		jwt.WithValidMethods([]string{"HS256"})); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"sub", "tid", "iat", "exp"} {
		if _, ok := c[k]; !ok {
			t.Errorf("claim %s missing", k)
		}
	}
	for _, k := range []string{"iss", "aud"} {
		if _, ok := c[k]; ok {
			t.Errorf("claim %s present without option", k)
		}
	}
	exp, _ := c.GetExpirationTime()
	if d := time.Until(exp.Time); d < 4*time.Minute || d > 5*time.Minute {
		t.Errorf("exp in %v, want ~5m", d)
	}
	// A verifier expecting iss/aud refuses a token minted without them.
	hs, _, _ := verifiers(t)
	if _, err := hs.Verify(context.Background(), tok); err == nil {
		t.Error("token without iss/aud accepted by verifier requiring them")
	}
}
