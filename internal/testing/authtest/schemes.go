package authtest

import (
	"maps"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/testing/testkeys"
)

// Issuer and Audience are the iss and aud of schemes that check them.
const (
	Issuer   = "https://id.conecrm.test"
	Audience = "conecrm-gateway"
)

// Secret is the HS256 secret of the schemes that use one.
var Secret = []byte("authtest-hs256-secret-0123456789abcdef")

// Scheme is one server key configuration together with the legitimate
// issuer that signs for it.
type Scheme struct {
	Name   string
	Config auth.Config       // what the server verifies with
	Method jwt.SigningMethod // how the legitimate issuer signs
	Key    any               // its signing key
	Kid    string            // the kid it puts in the header ("" for none)
}

// Schemes returns every supported server configuration: HS256 with iss and
// aud, RS256 and ES256 with a PEM public key, RS256 and ES256 from a JWKS,
// and HS256 next to an RS256 PEM key (a migration to an identity provider).
func Schemes(t testing.TB) []Scheme {
	t.Helper()
	ks := testkeys.Keys()
	rsaPEM := testkeys.WriteFile(t, "rsa.pem", testkeys.PublicPEM(t, &ks.RSA.PublicKey))
	ecPEM := testkeys.WriteFile(t, "ec.pem", testkeys.PublicPEM(t, &ks.EC.PublicKey))
	jwks := testkeys.WriteFile(t, "jwks.json", testkeys.JWKS(t, testkeys.JWK(t, &ks.RSA.PublicKey, "rsa-1"), testkeys.JWK(t, &ks.EC.PublicKey, "ec-1")))
	return []Scheme{
		{Name: "HS256 secret with iss and aud", Config: auth.Config{Secret: Secret, Issuer: Issuer, Audience: Audience},
			Method: jwt.SigningMethodHS256, Key: Secret},
		{Name: "RS256 PEM key", Config: auth.Config{PublicKeyFile: rsaPEM},
			Method: jwt.SigningMethodRS256, Key: ks.RSA},
		{Name: "ES256 PEM key with iss", Config: auth.Config{PublicKeyFile: ecPEM, Issuer: Issuer},
			Method: jwt.SigningMethodES256, Key: ks.EC},
		{Name: "RS256 JWKS with aud", Config: auth.Config{JWKSFile: jwks, Audience: Audience},
			Method: jwt.SigningMethodRS256, Key: ks.RSA, Kid: "rsa-1"},
		{Name: "ES256 JWKS", Config: auth.Config{JWKSFile: jwks},
			Method: jwt.SigningMethodES256, Key: ks.EC, Kid: "ec-1"},
		{Name: "HS256 secret next to an RS256 PEM key", Config: auth.Config{Secret: Secret, PublicKeyFile: rsaPEM},
			Method: jwt.SigningMethodHS256, Key: Secret},
	}
}

// Verifier returns the scheme's server-side verifier.
func (s Scheme) Verifier(t testing.TB) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(s.Config)
	if err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	return v
}

// Claims returns valid claims for user sub of tenant tid: iat now, exp in
// an hour, and iss/aud when the scheme checks them.
func (s Scheme) Claims(sub, tid uuid.UUID) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"sub": sub.String(), "tid": tid.String(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if s.Config.Issuer != "" {
		c["iss"] = s.Config.Issuer
	}
	if s.Config.Audience != "" {
		c["aud"] = s.Config.Audience
	}
	return c
}

// Sign signs c as the legitimate issuer; header entries are added to (or,
// when nil, removed from) the header the issuer would send.
func (s Scheme) Sign(t testing.TB, c jwt.MapClaims, header map[string]any) string {
	t.Helper()
	h := map[string]any{}
	if s.Kid != "" {
		h["kid"] = s.Kid
	}
	maps.Copy(h, header)
	return Sign(t, s.Method, s.Key, h, c)
}

// Token returns a valid token for user sub of tenant tid.
func (s Scheme) Token(t testing.TB, sub, tid uuid.UUID) string {
	t.Helper()
	return s.Sign(t, s.Claims(sub, tid), nil)
}

// Sign signs claims c with any method and key; header entries are added to
// the header, a nil value removes the entry.
func Sign(t testing.TB, m jwt.SigningMethod, key any, header map[string]any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", m.Alg(), err)
	}
	return s
}

// With returns a copy of c with set applied; a nil value removes the claim.
func With(c jwt.MapClaims, set map[string]any) jwt.MapClaims {
	out := maps.Clone(c)
	for k, v := range set {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}
