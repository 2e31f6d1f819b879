package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
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

type testKeySet struct {
	rsa, attackerRSA *rsa.PrivateKey
	ec, attackerEC   *ecdsa.PrivateKey
}

// keys are generated once per test binary: RSA generation is slow.
var keys = sync.OnceValue(func() testKeySet {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	var ks testKeySet
	var err error
	ks.rsa, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	ks.attackerRSA, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	ks.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	ks.attackerEC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	return ks
})

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

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pemPublic(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func selfSignedCert(t testing.TB, priv *ecdsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func jwkOf(t testing.TB, pub any, kid string) map[string]any {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": enc(k.N.Bytes()), "e": enc(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		b, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return map[string]any{"kty": "EC", "kid": kid, "crv": "P-256",
			"x": enc(b[1:33]), "y": enc(b[33:])}
	}
	t.Fatalf("jwkOf: %T", pub)
	return nil
}

func jwksFile(t testing.TB, keys ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "jwks.json", b)
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
	ks := keys()
	hs = mustVerifier(t, Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience})
	rs = mustVerifier(t, Config{PublicKeyFile: writeFile(t, "rsa.pem", pemPublic(t, &ks.rsa.PublicKey))})
	es = mustVerifier(t, Config{JWKSFile: jwksFile(t,
		jwkOf(t, &ks.ec.PublicKey, "ec-1"), jwkOf(t, &ks.rsa.PublicKey, "rsa-1"))})
	return hs, rs, es
}
