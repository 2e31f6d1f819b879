package auth

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/conecrm/gateway/internal/testing/testkeys"
)

// Fixed fuzz fixtures. Fuzz workers are separate processes, so the keys and
// the valid tokens must be identical in all of them; only public keys and
// already-signed tokens are stored (iat 2026-01-01, exp 2100-01-01, claims
// testUser/testTenant/testIssuer/testAudience).
const (
	fuzzRSAPublicPEM = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAw2jfM3T+KwIBCigGQmXH
BNqLKxw90e70i1wj65uEP0CVdQCZGaEBf4LD+6Fkz1l7ibOjQcgpXABZrrpy0zah
2TXJ1ytDXbPdj9zzzMthhNZjceJgPt9CuDSuceYtqbZfbsQQqD/nK/jhWbkqRE+c
kPWd11Cb3bUng/g+u19LTudYrD4sSnfH5xWWTNbZ/ypEAK2IjG+cx78ONIzeSnAE
9CjRvTtYW84gDyIbfERAuvBtyD5QOipyYx/BeCg6f1wvKENpJO/89apNZjQBEtT6
lkT3zPBBJqtHOA5YLSvs/GrbvxhYdf6QdaEQZllnNRGyV4aZjqeIkXLGwOud1kty
JwIDAQAB
-----END PUBLIC KEY-----
`
	fuzzECPublicPEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83AiKYg3WuTY4ABX0FiPYXK1TTmF
D2339+yhEOti1mowZGSqBDC1k+Q33f8wq1HJ72xGrJIxGW8Gr3GZPhV42g==
-----END PUBLIC KEY-----
`
	// RS256, kid "fz-rsa".
	fuzzRS256 = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZ6LXJzYSIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJnYXRld2F5IiwiZXhwIjo0MTAyNDQ0ODAwLCJpYXQiOjE3NjcyMjU2MDAsImlzcyI6Imh0dHBzOi8vaWQuY29uZWNybS50ZXN0Iiwic3ViIjoiNmYxYzJhNGUtOGQzYi00YzU1LTlhMWUtMmI3ZDljMGU0ZjExIiwidGlkIjoiMGI5ZTdkNmMtNWE0Zi00ZTNkLThjMmItMWEwZjllOGQ3YzZiIn0.vX5Z4f5mNxs80Jfp3XWhoAfu9cXGGGfa1w73UidtoSqULiT10twpLYw1C72RlT9_dJ_W6KuYsV65YNTvPcn3LNzwqwa9z5m8kb5NN7rFx-hehf-yakxV9BsOCVmd_b_z22_pdarb7TyC106dQoeL0LDmAAso_p0NRqy1huyfhqPeeRmHwJXd4OS8MKnpBw9pr-q7-8MbJNXy89ey2kGAKWIelTjOwNqb902gpWuuFQ4BPE_a_ACIQ8JzWvcU4kcExUGC67XB0yCTNsNq2B24g6T8SSvX-4Bjvh5UrQ2J3PjyONwqKNBjRq0c7Po3xJqEZdp544X4Ooww8OEidT6UmQ"
	// ES256, kid "fz-ec".
	fuzzES256 = "eyJhbGciOiJFUzI1NiIsImtpZCI6ImZ6LWVjIiwidHlwIjoiSldUIn0.eyJhdWQiOiJnYXRld2F5IiwiZXhwIjo0MTAyNDQ0ODAwLCJpYXQiOjE3NjcyMjU2MDAsImlzcyI6Imh0dHBzOi8vaWQuY29uZWNybS50ZXN0Iiwic3ViIjoiNmYxYzJhNGUtOGQzYi00YzU1LTlhMWUtMmI3ZDljMGU0ZjExIiwidGlkIjoiMGI5ZTdkNmMtNWE0Zi00ZTNkLThjMmItMWEwZjllOGQ3YzZiIn0.15cmPjrWRDI74utzIyr4ljU-_Mq36G9RcytGbi2sIg7fg6PvQAIyyMoMshHa1X_JjQD1D1JLvOZ_HnBjD16Tog"
)

func fuzzClaims() jwt.MapClaims {
	return claims(map[string]any{"iat": 1767225600, "exp": 4102444800})
}

// fuzzVerifiers builds the HS256 (with iss/aud), RS256 PEM and JWKS
// (ES256 + RS256) verifiers over the fixed keys, plus the valid HS256,
// RS256 and ES256 tokens (in that order).
func fuzzVerifiers(t testing.TB) (vs []*Verifier, valid []string) {
	t.Helper()
	parse := func(s string) any {
		b, _ := pem.Decode([]byte(s))
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	rsaPub, ecPub := parse(fuzzRSAPublicPEM), parse(fuzzECPublicPEM)
	vs = []*Verifier{
		mustVerifier(t, Config{Secret: testSecret, Issuer: testIssuer, Audience: testAudience}),
		mustVerifier(t, Config{PublicKeyFile: testkeys.WriteFile(t, "rsa.pem", []byte(fuzzRSAPublicPEM))}),
		mustVerifier(t, Config{JWKSFile: jwksFile(t, testkeys.JWK(t, ecPub, "fz-ec"), testkeys.JWK(t, rsaPub, "fz-rsa"))}),
	}
	hs := sign(t, jwt.SigningMethodHS256, testSecret, nil, fuzzClaims())
	return vs, []string{hs, fuzzRS256, fuzzES256}
}

// FuzzVerify checks that Verify never panics and never accepts a token other
// than the exact valid ones: any mutation of a signed token (header, payload,
// signature, or its base64 spelling) must be refused. The one other encoding
// that is genuinely signed by the key, ECDSA's (r, n-s) twin, cannot be
// produced without the key's curve arithmetic, so the fuzzer will not meet it.
func FuzzVerify(f *testing.F) {
	ks := testkeys.Keys() // random attacker keys; these seeds are invalid in every process
	vs, tokens := fuzzVerifiers(f)
	valid := make(map[string]bool)
	for _, tok := range tokens {
		valid[tok] = true
		f.Add(tok)
		p := strings.Split(tok, ".")
		f.Add(p[0] + "." + p[1])
		f.Add(p[0] + "." + p[1] + ".")
		f.Add(tok[:len(tok)-4])
		f.Add(tok + "A")
		f.Add(tok[:len(tok)-5] + "\n" + tok[len(tok)-5:]) // base64 decoders skip CR/LF
		f.Add(p[0] + "." + p[1] + "." + p[2][:len(p[2])-1] + "B")
		for _, alg := range []string{"none", "NONE", "nOnE"} {
			f.Add(unsigned(f, map[string]any{"alg": alg}, fuzzClaims()) + p[2])
		}
	}
	f.Add(sign(f, jwt.SigningMethodHS256, []byte(fuzzRSAPublicPEM), map[string]any{"kid": "fz-rsa"}, fuzzClaims()))
	f.Add(sign(f, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"exp": 1})))
	f.Add(sign(f, jwt.SigningMethodHS256, testSecret, nil, claims(map[string]any{"tid": "acme", "exp": 4102444800})))
	f.Add(sign(f, jwt.SigningMethodES256, ks.AttackerEC, map[string]any{"kid": "fz-ec", "jwk": testkeys.JWK(f, &ks.AttackerEC.PublicKey, "fz-ec")}, fuzzClaims()))
	f.Add(sign(f, jwt.SigningMethodES256, ks.AttackerEC, map[string]any{"kid": "attacker", "jku": "https://evil.test/jwks"}, fuzzClaims()))
	f.Add(sign(f, jwt.SigningMethodRS256, ks.AttackerRSA, map[string]any{"x5u": "https://evil.test/cert"}, fuzzClaims()))
	f.Add("")
	f.Add("garbage")
	f.Add("..")
	f.Add("e30.e30.")

	f.Fuzz(func(t *testing.T, raw string) {
		for i, v := range vs {
			c, err := v.Verify(t.Context(), raw)
			if err != nil {
				if !errors.Is(err, ErrInvalidToken) {
					t.Fatalf("verifier %d: error %v does not wrap ErrInvalidToken", i, err)
				}
				continue
			}
			if !valid[raw] {
				t.Fatalf("verifier %d accepted a token that is not a fixture: %q", i, raw)
			}
			if c.UserID != testUser || c.TenantID != testTenant {
				t.Fatalf("verifier %d: claims %+v", i, c)
			}
		}
	})
}

// TestFuzzFixturesVerify guards the fixtures: if they stopped verifying, the
// fuzzer would only ever exercise rejection paths.
func TestFuzzFixturesVerify(t *testing.T) {
	vs, tok := fuzzVerifiers(t)
	for _, p := range []struct {
		v   *Verifier
		tok string
	}{{vs[0], tok[0]}, {vs[1], tok[1]}, {vs[2], tok[1]}, {vs[2], tok[2]}} {
		if _, err := p.v.Verify(t.Context(), p.tok); err != nil {
			t.Errorf("fixture rejected: %v", err)
		}
	}
}
