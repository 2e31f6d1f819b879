package auth

import (
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/testing/testkeys"
)

const (
	testIssuer   = "https://id.conecrm.test"
	testAudience = "gateway"
)

var (
	testSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")
	testUser   = uuid.MustParse("6f1c2a4e-8d3b-4c55-9a1e-2b7d9c0e4f11")
	testTenant = uuid.MustParse("0b9e7d6c-5a4f-4e3d-8c2b-1a0f9e8d7c6b")
)

// claims returns valid claims for testUser/testTenant; set overrides them and
// a nil value deletes the claim.
func claims(set map[string]any) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"sub": testUser.String(),
		"tid": testTenant.String(),
		"iss": testIssuer,
		"aud": testAudience,
		"iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
	for k, v := range set {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// sign mints a token with any method, key, extra header fields and claims; it
// is the RS256/ES256 (and attacker) counterpart of Mint.
func sign(t testing.TB, m jwt.SigningMethod, key any, header map[string]any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// unsigned builds header.payload. with arbitrary JSON, for alg:none tokens.
func unsigned(t testing.TB, header map[string]any, c jwt.MapClaims) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(header) + "." + enc(c) + "."
}

// jwksFile writes a key set holding keys and returns its path.
func jwksFile(t testing.TB, keys ...map[string]any) string {
	t.Helper()
	return testkeys.WriteFile(t, "jwks.json", testkeys.JWKS(t, keys...))
}

func mustVerifier(t testing.TB, c Config) *Verifier {
	t.Helper()
	v, err := NewVerifier(c)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// verifiers returns the three configurations under test:
// HS256 secret with iss/aud, RS256 PEM key, and a JWKS with an ES256 key
// (kid "ec-1") and an RS256 key (kid "rsa-1").
func verifiers(t testing.TB) (hs, rs, es *Verifier) {
	t.Helper()
	ks := testkeys.Keys()
	hs = mustVerifier(t, Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience})
	rs = mustVerifier(t, Config{PublicKeyFile: testkeys.WriteFile(t, "rsa.pem", testkeys.PublicPEM(t, &ks.RSA.PublicKey))})
	es = mustVerifier(t, Config{JWKSFile: jwksFile(t,
		testkeys.JWK(t, &ks.EC.PublicKey, "ec-1"), testkeys.JWK(t, &ks.RSA.PublicKey, "rsa-1"))})
	return hs, rs, es
}
