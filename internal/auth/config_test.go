package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/conecrm/gateway/internal/testing/testkeys"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnv(t *testing.T) {
	pemPath := testkeys.WriteFile(t, "rsa.pem", testkeys.PublicPEM(t, &testkeys.Keys().RSA.PublicKey))
	long := strings.Repeat("0123456789abcdef", MinSecretLen/16)
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"no key source is left to the server (dev secret)", map[string]string{EnvIssuer: "x"}, ""},
		{"secret shorter than 32 bytes is a config error", map[string]string{EnvSecret: long[:31]}, "at least 32 bytes"},
		{"public key and JWKS together are a config error", map[string]string{EnvPublicKey: pemPath, EnvJWKS: "/x.json"}, "only one"},
		{"32-byte secret is accepted", map[string]string{EnvSecret: long}, ""},
		{"secret of one repeated character is too weak", map[string]string{EnvSecret: strings.Repeat("s", 64)}, "too weak"},
		{"secret of a short repeated pattern is too weak", map[string]string{EnvSecret: strings.Repeat("abc", 20)}, "too weak"},
		{"secret of mostly whitespace is too weak", map[string]string{EnvSecret: "0123456789" + strings.Repeat(" \t", 20) + "abcdef"}, "too weak"},
		{"secret with public key is accepted", map[string]string{EnvSecret: long, EnvPublicKey: pemPath}, ""},
		{"all fields are read", map[string]string{EnvPublicKey: " " + pemPath + "\n", EnvIssuer: "iss", EnvAudience: "aud"}, ""},
		{"a negative token cache is a config error", map[string]string{EnvSecret: long, EnvCache: "-1"}, EnvCache},
		{"a token cache that is not a number is a config error", map[string]string{EnvSecret: long, EnvCache: "lots"}, EnvCache},
		{"a token cache above the bound is a config error", map[string]string{EnvSecret: long, EnvCache: "1000001"}, EnvCache},
		{"a token cache is read", map[string]string{EnvSecret: long, EnvCache: "500"}, ""},
		{"a token cache of 0 is off", map[string]string{EnvSecret: long, EnvCache: "0"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ConfigFromEnv(envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), long[:31]) {
					t.Error("error leaks the secret")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(c.Secret) != tt.env[EnvSecret] || c.Issuer != tt.env[EnvIssuer] || c.Audience != tt.env[EnvAudience] {
				t.Errorf("config = %+v", c)
			}
			if want := map[string]int{"": 0, "500": 500, "0": -1}[tt.env[EnvCache]]; c.Cache != want {
				t.Errorf("Cache = %d, want %d", c.Cache, want)
			}
			if tt.env[EnvPublicKey] != "" && c.PublicKeyFile != pemPath {
				t.Errorf("PublicKeyFile = %q", c.PublicKeyFile)
			}
			_, err = NewVerifier(c)
			if noKey := len(c.Secret) == 0 && c.PublicKeyFile == "" && c.JWKSFile == ""; noKey {
				if err == nil || !strings.Contains(err.Error(), "no verification key") {
					t.Errorf("NewVerifier without a key: err = %v", err)
				}
			} else if err != nil {
				t.Errorf("NewVerifier: %v", err)
			}
		})
	}
}

func TestNewVerifierLoadsPublicKeyFormats(t *testing.T) {
	ks := testkeys.Keys()
	certDER := testkeys.CertDER(t, ks.EC)
	tests := []struct {
		name string
		pem  []byte
	}{
		{"PKIX RSA public key", testkeys.PublicPEM(t, &ks.RSA.PublicKey)},
		{"PKCS1 RSA public key", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&ks.RSA.PublicKey)})},
		{"PKIX EC public key", testkeys.PublicPEM(t, &ks.EC.PublicKey)},
		{"EC certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewVerifier(Config{PublicKeyFile: testkeys.WriteFile(t, "key.pem", tt.pem)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestNewVerifierRejectsBadKeyConfig(t *testing.T) {
	ks := testkeys.Keys()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(ks.EC)
	if err != nil {
		t.Fatal(err)
	}
	ecJWK := testkeys.JWK(t, &ks.EC.PublicKey, "ec-1")
	with := func(m map[string]any, k string, v any) map[string]any {
		c := make(map[string]any, len(m)+1)
		for kk, vv := range m {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"missing PEM file", Config{PublicKeyFile: "/nonexistent/key.pem"}},
		{"PEM file without key", Config{PublicKeyFile: testkeys.WriteFile(t, "k.pem", []byte("hello"))}},
		{"PEM private key", Config{PublicKeyFile: testkeys.WriteFile(t, "k.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))}},
		{"PEM public key next to private key", Config{PublicKeyFile: testkeys.WriteFile(t, "k.pem", append(testkeys.PublicPEM(t, &ks.EC.PublicKey), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})...))}},
		{"RSA key under 2048 bits", Config{PublicKeyFile: testkeys.WriteFile(t, "k.pem", testkeys.PublicPEM(t, &small.PublicKey))}},
		{"EC key not on P-256", Config{PublicKeyFile: testkeys.WriteFile(t, "k.pem", testkeys.PublicPEM(t, &p384.PublicKey))}},
		{"missing JWKS file", Config{JWKSFile: "/nonexistent/jwks.json"}},
		{"JWKS not JSON", Config{JWKSFile: testkeys.WriteFile(t, "j.json", []byte("{"))}},
		{"JWKS with no keys", Config{JWKSFile: jwksFile(t)}},
		{"JWKS with only unusable keys", Config{JWKSFile: jwksFile(t, with(ecJWK, "use", "enc"), map[string]any{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"})}},
		{"JWKS with private key material", Config{JWKSFile: jwksFile(t, with(ecJWK, "d", "AAAA"))}},
		{"JWKS with symmetric key", Config{JWKSFile: jwksFile(t, ecJWK, map[string]any{"kty": "oct", "kid": "hs", "k": "c2VjcmV0"})}},
		{"JWKS key without kid", Config{JWKSFile: jwksFile(t, with(ecJWK, "kid", nil))}},
		{"JWKS duplicate kid", Config{JWKSFile: jwksFile(t, ecJWK, testkeys.JWK(t, &ks.RSA.PublicKey, "ec-1"))}},
		{"JWKS EC point not on curve", Config{JWKSFile: jwksFile(t, with(ecJWK, "y", ecJWK["x"]))}},
		{"JWKS small RSA key", Config{JWKSFile: jwksFile(t, testkeys.JWK(t, &small.PublicKey, "small"))}},
		{"secret shorter than 32 bytes", Config{Secret: []byte("too short")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewVerifier(tt.cfg); err == nil {
				t.Fatal("NewVerifier accepted bad config")
			} else {
				t.Log(err)
			}
		})
	}
}

func TestJWKSSkipsForeignKeysButUsesOthers(t *testing.T) {
	ks := testkeys.Keys()
	path := jwksFile(t,
		map[string]any{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"},
		map[string]any{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"},
		map[string]any{"kty": "RSA", "kid": "ps", "alg": "PS256", "n": "AQAB", "e": "AQAB"},
		map[string]any{"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"},
		testkeys.JWK(t, &ks.EC.PublicKey, "ec-1"),
	)
	v := mustVerifier(t, Config{JWKSFile: path})
	if _, err := v.Verify(t.Context(), sign(t, jwt.SigningMethodES256, ks.EC, map[string]any{"kid": "ec-1"}, claims(nil))); err != nil {
		t.Errorf("usable key: %v", err)
	}
	if _, err := v.Verify(t.Context(), sign(t, jwt.SigningMethodRS256, ks.RSA, map[string]any{"kid": "enc"}, claims(nil))); err == nil {
		t.Error("token naming a skipped key accepted")
	}
}
