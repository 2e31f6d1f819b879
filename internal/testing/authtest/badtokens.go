package authtest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/testing/testkeys"
)

// The WWW-Authenticate challenges of a refusal.
const (
	ChallengeMissing = `Bearer`
	ChallengeInvalid = `Bearer error="invalid_token"`
)

// Identity names real rows for the bad-token table: an active user of
// Tenant, and another existing tenant the user does not belong to.
type Identity struct {
	User, Tenant, OtherTenant uuid.UUID
}

// Case is one request the gateway must refuse with 401.
type Case struct {
	Name string
	// Authorization holds the Authorization header values to send (none
	// when empty).
	Authorization []string
	// Challenge is the WWW-Authenticate header the refusal must carry.
	Challenge string
}

// BadTokens returns the requests an endpoint of a server configured with s
// must refuse: no or malformed credentials, forged or mangled signatures,
// algorithms or keys the server was not configured with (also those a token
// names in its own header), bad time claims, wrong iss/aud, and claims
// naming no active user of the tenant. Checks of iss/aud and of kid are
// included only where the scheme configures them, since elsewhere those
// tokens are legitimately accepted.
//
// Users deleted or deactivated after their token was issued need a change
// in the database and are left to the caller.
func BadTokens(t testing.TB, s Scheme, id Identity) []Case {
	t.Helper()
	ks := testkeys.Keys()
	c := s.Claims(id.User, id.Tenant)
	good := s.Sign(t, c, nil)
	parts := strings.Split(good, ".")
	h, p, sig := parts[0], parts[1], parts[2]
	now := time.Now()
	jwks := s.Config.JWKSFile != ""

	var cases []Case
	add := func(name string, challenge string, authz ...string) {
		cases = append(cases, Case{Name: name, Authorization: authz, Challenge: challenge})
	}
	bearer := func(name, tok string) { add(name, ChallengeInvalid, "Bearer "+tok) }
	signed := func(name string, claims jwt.MapClaims, header map[string]any) {
		bearer(name, s.Sign(t, claims, header))
	}
	forged := func(name string, m jwt.SigningMethod, key any, header map[string]any) {
		bearer(name, Sign(t, m, key, header, c))
	}

	// Credentials missing or not a bearer token.
	add("missing Authorization header", ChallengeMissing)
	add("Basic credentials", ChallengeMissing, "Basic dXNlcjpwYXNzd29yZA==")
	add("token without the Bearer scheme", ChallengeMissing, good)
	add("Bearer without a token", ChallengeInvalid, "Bearer")
	add("two Authorization headers", ChallengeInvalid, "Bearer "+good, "Bearer "+good)

	// Not a JWT.
	bearer("not a JWT", "not-a-jwt")
	bearer("header and payload only", h+"."+p)
	bearer("four segments", good+".e30")
	bearer("three empty segments", "..")
	bearer("raw JSON instead of base64url", `{"alg":"HS256"}.{"sub":"x"}.x`)
	bearer("header is not JSON", b64("not json")+"."+p+"."+sig)
	bearer("payload is not JSON", h+"."+b64("not json")+"."+sig)
	bearer("standard base64 with padding", strings.ReplaceAll(h+"."+p+"."+sig, "_", "/")+"==")
	bearer("token over the size limit", s.Sign(t, With(c, map[string]any{"pad": strings.Repeat("a", 9000)}), nil))

	// alg none, in every casing, with and without the original signature.
	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		bearer("alg "+alg, unsigned(t, map[string]any{"alg": alg, "typ": "JWT"}, c))
		bearer("alg "+alg+" keeping the signature", unsigned(t, map[string]any{"alg": alg, "typ": "JWT"}, c)+sig)
	}
	bearer("no alg", unsigned(t, map[string]any{"typ": "JWT"}, c)+sig)
	bearer("alg in lower case", unsigned(t, map[string]any{"alg": strings.ToLower(s.Method.Alg())}, c)+sig)

	// Mangled signatures.
	bearer("empty signature", h+"."+p+".")
	bearer("signature truncated by 4 characters", good[:len(good)-4])
	bearer("signature truncated to half", h+"."+p+"."+sig[:len(sig)/2])
	bearer("one signature character changed", h+"."+p+"."+flip(sig, len(sig)/2))
	bearer("signature with trailing data", good+"AAAA")
	bearer("payload changed, signature kept",
		h+"."+b64json(t, With(c, map[string]any{"tid": id.OtherTenant.String()}))+"."+sig)
	bearer("header changed, signature kept", b64json(t, map[string]any{"alg": s.Method.Alg(), "kid": s.Kid, "typ": "jwt"})+"."+p+"."+sig)

	// Keys and algorithms the server was not configured with.
	forged("HS256 with a wrong secret", jwt.SigningMethodHS256, []byte("wrong-secret-wrong-secret-wrong-secret"), nil)
	forged("HS256 signed with the RSA public key (PEM)", jwt.SigningMethodHS256, testkeys.PublicPEM(t, &ks.RSA.PublicKey), map[string]any{"kid": "rsa-1"})
	forged("HS256 signed with the RSA public key (DER modulus)", jwt.SigningMethodHS256, ks.RSA.N.Bytes(), map[string]any{"kid": "rsa-1"})
	forged("HS256 signed with the EC public key (PEM)", jwt.SigningMethodHS256, testkeys.PublicPEM(t, &ks.EC.PublicKey), map[string]any{"kid": "ec-1"})
	forged("HS384 with the server's secret", jwt.SigningMethodHS384, Secret, nil)
	forged("HS512 with the server's secret", jwt.SigningMethodHS512, Secret, nil)
	forged("RS384 with the configured RSA key", jwt.SigningMethodRS384, ks.RSA, map[string]any{"kid": "rsa-1"})
	forged("RS512 with the configured RSA key", jwt.SigningMethodRS512, ks.RSA, map[string]any{"kid": "rsa-1"})
	forged("PS256 with the configured RSA key", jwt.SigningMethodPS256, ks.RSA, map[string]any{"kid": "rsa-1"})
	forged("RS256 by an unknown key", jwt.SigningMethodRS256, ks.AttackerRSA, map[string]any{"kid": "rsa-1"})
	forged("ES256 by an unknown key", jwt.SigningMethodES256, ks.AttackerEC, map[string]any{"kid": "ec-1"})
	forged("unknown kid, signed by an unknown key", jwt.SigningMethodRS256, ks.AttackerRSA, map[string]any{"kid": "attacker-1"})
	if jwks {
		signed("unknown kid", c, map[string]any{"kid": "no-such-kid"})
		signed("no kid", c, map[string]any{"kid": nil})
		signed("kid of the other key type", c, map[string]any{"kid": otherKid(s.Kid)})
	}

	// Keys a token brings along are ignored: signed by the attacker's key and
	// carrying (or pointing at) it, these verify only if the header is used.
	forged("jwk header with the signer's RSA key", jwt.SigningMethodRS256, ks.AttackerRSA,
		map[string]any{"kid": "rsa-1", "jwk": testkeys.JWK(t, &ks.AttackerRSA.PublicKey, "rsa-1")})
	forged("jwk header with the signer's EC key", jwt.SigningMethodES256, ks.AttackerEC,
		map[string]any{"kid": "ec-1", "jwk": testkeys.JWK(t, &ks.AttackerEC.PublicKey, "ec-1")})
	forged("jwk header with a symmetric key", jwt.SigningMethodHS256, []byte("attacker-chosen-secret-0123456789abcdef"),
		map[string]any{"jwk": map[string]any{"kty": "oct", "k": b64("attacker-chosen-secret-0123456789abcdef")}})
	forged("jku header pointing at the signer's key set", jwt.SigningMethodRS256, ks.AttackerRSA,
		map[string]any{"kid": "attacker-1", "jku": "https://attacker.test/.well-known/jwks.json"})
	forged("x5u header pointing at the signer's certificate", jwt.SigningMethodRS256, ks.AttackerRSA,
		map[string]any{"x5u": "https://attacker.test/cert.pem"})
	forged("x5c header with the signer's certificate", jwt.SigningMethodES256, ks.AttackerEC,
		map[string]any{"x5c": []string{base64.StdEncoding.EncodeToString(testkeys.CertDER(t, ks.AttackerEC))}})
	signed("crit header the server does not understand", c, map[string]any{"crit": []string{"x-conecrm"}, "x-conecrm": true})

	// Time claims. The clock leeway may be at most 60 s: one second past it
	// is refused.
	past, future := now.Add(-61*time.Second).Unix(), now.Add(61*time.Second).Unix()
	signed("expired 61 s ago", With(c, map[string]any{"iat": now.Add(-time.Hour).Unix(), "exp": past}), nil)
	signed("expired long ago", With(c, map[string]any{"iat": 0, "exp": 1}), nil)
	signed("not valid for another 61 s", With(c, map[string]any{"nbf": future}), nil)
	signed("issued 61 s in the future", With(c, map[string]any{"iat": future}), nil)
	signed("missing exp", With(c, map[string]any{"exp": nil}), nil)
	signed("exp is not a number", With(c, map[string]any{"exp": "tomorrow"}), nil)

	// Issuer and audience, where the scheme checks them.
	if s.Config.Issuer != "" {
		signed("wrong iss", With(c, map[string]any{"iss": "https://attacker.test"}), nil)
		signed("iss differing in case", With(c, map[string]any{"iss": strings.ToUpper(s.Config.Issuer)}), nil)
		signed("missing iss", With(c, map[string]any{"iss": nil}), nil)
	}
	if s.Config.Audience != "" {
		signed("wrong aud", With(c, map[string]any{"aud": "another-service"}), nil)
		signed("aud list without ours", With(c, map[string]any{"aud": []string{"a", "b"}}), nil)
		signed("missing aud", With(c, map[string]any{"aud": nil}), nil)
	}

	// Subject and tenant.
	signed("missing sub", With(c, map[string]any{"sub": nil}), nil)
	signed("sub is not a UUID", With(c, map[string]any{"sub": "admin@demo-motors.test"}), nil)
	signed("sub is the nil UUID", With(c, map[string]any{"sub": uuid.Nil.String()}), nil)
	signed("sub is a number", With(c, map[string]any{"sub": 1}), nil)
	signed("missing tid", With(c, map[string]any{"tid": nil}), nil)
	signed("tid is not a UUID", With(c, map[string]any{"tid": "demo-motors"}), nil)
	signed("tid is the nil UUID", With(c, map[string]any{"tid": uuid.Nil.String()}), nil)
	signed("sub of no user", With(c, map[string]any{"sub": uuid.NewString()}), nil)
	signed("sub is the tenant's id", With(c, map[string]any{"sub": id.Tenant.String()}), nil)
	signed("tid of another tenant", With(c, map[string]any{"tid": id.OtherTenant.String()}), nil)
	signed("tid of no tenant", With(c, map[string]any{"tid": uuid.NewString()}), nil)
	return cases
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func b64json(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// unsigned returns "header.payload." with arbitrary JSON.
func unsigned(t testing.TB, header map[string]any, c jwt.MapClaims) string {
	t.Helper()
	return b64json(t, header) + "." + b64json(t, c) + "."
}

// flip changes the base64url character at i to another one.
func flip(s string, i int) string {
	r := byte('A')
	if s[i] == 'A' {
		r = 'B'
	}
	return s[:i] + string(r) + s[i+1:]
}

func otherKid(kid string) string {
	if kid == "rsa-1" {
		return "ec-1"
	}
	return "rsa-1"
}
