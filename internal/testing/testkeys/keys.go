// Package testkeys holds the tests' key pairs and their encodings (PEM,
// JWK, JWKS, certificates). It imports nothing of the gateway, so the auth
// package's own tests and the HTTP-level authtest share one set.
//
// Keys are generated once per test binary; nothing here is a real secret.
package testkeys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// KeySet holds the test key pairs: the ones a server is configured with and
// the attacker's, which no server trusts.
type KeySet struct {
	RSA, AttackerRSA *rsa.PrivateKey
	EC, AttackerEC   *ecdsa.PrivateKey
}

// Keys returns the key pairs, generated on first use (RSA generation is slow).
var Keys = sync.OnceValue(func() *KeySet {
	must := func(err error) {
		if err != nil {
			panic("authtest: " + err.Error())
		}
	}
	ks := &KeySet{}
	var err error
	ks.RSA, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	ks.AttackerRSA, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	ks.EC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	ks.AttackerEC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	return ks
})

// PublicPEM returns pub as a "PUBLIC KEY" PEM block.
func PublicPEM(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// JWK returns the public JSON Web Key of pub with kid.
func JWK(t testing.TB, pub any, kid string) map[string]any {
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
		return map[string]any{"kty": "EC", "kid": kid, "use": "sig", "alg": "ES256", "crv": "P-256",
			"x": enc(b[1:33]), "y": enc(b[33:])}
	}
	t.Fatalf("authtest.JWK: unsupported key %T", pub)
	return nil
}

// JWKS returns a key set document holding keys.
func JWKS(t testing.TB, keys ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CertDER returns a self-signed certificate of priv's public key, DER
// encoded (for x5c headers).
func CertDER(t testing.TB, priv *ecdsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "attacker"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// WriteFile writes data to a new file in a test temporary directory and
// returns its path.
func WriteFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
