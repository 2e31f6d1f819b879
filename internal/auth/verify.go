package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// ErrInvalidToken is the single error callers see for a refused token. Verify
// wraps it around the underlying cause (useful in logs, never in responses);
// a Resolver returns it for a user who is unknown, inactive, deleted or not of
// the token's tenant.
var ErrInvalidToken = errors.New("invalid token")

// MaxTokenLen bounds the input Verify will parse. Our tokens are a few hundred
// bytes; anything far larger is not worth decoding.
const MaxTokenLen = 8 << 10

// Claims is the verified identity carried by a token.
type Claims struct {
	UserID   uuid.UUID // sub
	TenantID uuid.UUID // tid
	IssuedAt time.Time // iat; zero when the token has none
	// ExpiresAt is exp (required): a live subscription is closed then.
	ExpiresAt time.Time
}

// tokenClaims is the wire form. TenantID is a string so that a malformed tid
// is reported by our UUID check rather than a JSON type error.
type tokenClaims struct {
	jwt.RegisteredClaims
	TenantID string `json:"tid"`
}

// Verifier checks tokens against the configured keys. It is immutable after
// NewVerifier and safe for concurrent use.
type Verifier struct {
	parser *jwt.Parser
	secret []byte         // HS256; nil when not configured
	pemKey any            // *rsa.PublicKey or *ecdsa.PublicKey from PublicKeyFile
	jwks   map[string]any // kid -> key from JWKSFile
	cache  *tokenCache    // nil when Config.Cache is negative
}

// NewVerifier loads the configured keys and derives the accepted algorithms
// from them, so an algorithm is never accepted without a key of its own type.
func NewVerifier(c Config) (*Verifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	v := &Verifier{cache: newTokenCache(c.Cache, time.Now)}
	var methods []string
	if len(c.Secret) > 0 {
		v.secret = bytes.Clone(c.Secret)
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	var asym []any
	switch {
	case c.PublicKeyFile != "":
		k, err := loadPEMKey(c.PublicKeyFile)
		if err != nil {
			return nil, err
		}
		v.pemKey = k
		asym = append(asym, k)
	case c.JWKSFile != "":
		keys, err := loadJWKS(c.JWKSFile)
		if err != nil {
			return nil, err
		}
		v.jwks = keys
		for _, k := range keys {
			asym = append(asym, k)
		}
	}
	var hasRSA, hasEC bool
	for _, k := range asym {
		switch k.(type) {
		case *rsa.PublicKey:
			hasRSA = true
		case *ecdsa.PublicKey:
			hasEC = true
		}
	}
	if hasRSA {
		methods = append(methods, jwt.SigningMethodRS256.Alg())
	}
	if hasEC {
		methods = append(methods, jwt.SigningMethodES256.Alg())
	}

	opts := []jwt.ParserOption{
		// Exact, case-sensitive match: "none", "NONE", "HS256" without a
		// secret, etc. never reach the key lookup.
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		// Reject non-canonical base64 so a signature has one encoding only.
		jwt.WithStrictDecoding(),
	}
	if c.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(c.Issuer))
	}
	if c.Audience != "" {
		opts = append(opts, jwt.WithAudience(c.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

// Verify checks raw's signature, algorithm, exp/nbf/iat, iss/aud and that sub
// and tid are UUIDs. Every error wraps ErrInvalidToken. ctx is reserved for
// key sources that need I/O.
func (v *Verifier) Verify(ctx context.Context, raw string) (Claims, error) {
	if len(raw) > MaxTokenLen {
		return Claims{}, fmt.Errorf("%w: token too long", ErrInvalidToken)
	}
	// The base64 decoder silently skips CR/LF, which would let one signed
	// token be presented in many spellings; allow only the JWS compact alphabet.
	for i := 0; i < len(raw); i++ {
		if !isCompactChar(raw[i]) {
			return Claims{}, fmt.Errorf("%w: illegal character in token", ErrInvalidToken)
		}
	}
	if c, ok := v.cache.get(raw); ok {
		return c, nil
	}
	var tc tokenClaims
	if _, err := v.parser.ParseWithClaims(raw, &tc, v.keyFor); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if err := numericTimes(raw); err != nil {
		return Claims{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	uid, err := parseID(tc.Subject)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: sub: %w", ErrInvalidToken, err)
	}
	tid, err := parseID(tc.TenantID)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: tid: %w", ErrInvalidToken, err)
	}
	c := Claims{UserID: uid, TenantID: tid}
	if tc.IssuedAt != nil {
		c.IssuedAt = tc.IssuedAt.Time
	}
	if tc.ExpiresAt != nil {
		c.ExpiresAt = tc.ExpiresAt.Time
	}
	v.cache.put(raw, c)
	return c, nil
}

// keyFor picks the verification key using only local configuration. The
// header's jwk, jku, x5u and x5c are never read, so a token cannot bring its
// own key; kid only selects among configured JWKS keys.
func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	// RFC 7515 §4.1.11: a crit extension we do not understand must fail.
	if _, ok := t.Header["crit"]; ok {
		return nil, errors.New("unsupported crit header")
	}
	// Compare method identity, not just the name, so a re-registered
	// implementation under a standard alg name cannot be substituted.
	switch t.Method {
	case jwt.SigningMethodHS256:
		if v.secret == nil {
			return nil, errors.New("HS256 not configured")
		}
		return v.secret, nil
	case jwt.SigningMethodRS256, jwt.SigningMethodES256:
	default:
		return nil, errors.New("unsupported signing method")
	}
	key := v.pemKey // a single configured key ignores kid
	if v.jwks != nil {
		kid, ok := t.Header["kid"].(string)
		if !ok || kid == "" {
			return nil, errors.New("missing kid")
		}
		if key, ok = v.jwks[kid]; !ok {
			return nil, errors.New("unknown kid")
		}
	}
	// Bind the algorithm to the key type (no RS256 with an EC key etc.).
	switch key.(type) {
	case *rsa.PublicKey:
		if t.Method == jwt.SigningMethodRS256 {
			return key, nil
		}
	case *ecdsa.PublicKey:
		if t.Method == jwt.SigningMethodES256 {
			return key, nil
		}
	}
	return nil, errors.New("algorithm does not match key")
}

// parseID accepts only the canonical 36-character UUID form and rejects the
// nil UUID, which would otherwise match zero-valued IDs downstream.
func parseID(s string) (uuid.UUID, error) {
	if len(s) != 36 {
		return uuid.Nil, errors.New("not a UUID")
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, errors.New("not a UUID")
	}
	if id == uuid.Nil {
		return uuid.Nil, errors.New("nil UUID")
	}
	return id, nil
}

func isCompactChar(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}

// numericTimes refuses exp, nbf and iat that are not JSON numbers (RFC
// 7519 NumericDate): the JWT library also reads a numeric string, which
// other verifiers would refuse or read differently.
func numericTimes(raw string) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return errors.New("malformed token")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errors.New("malformed payload")
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return errors.New("malformed payload")
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		v, ok := claims[name]
		if !ok {
			continue
		}
		var n json.Number
		if len(v) == 0 || v[0] == '"' || json.Unmarshal(v, &n) != nil {
			return fmt.Errorf("%s must be a number", name)
		}
	}
	return nil
}
