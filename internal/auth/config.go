// Package auth verifies and mints the bearer JWTs that identify the user and
// tenant of a request, and provides the HTTP middleware that turns a verified
// token into a viewer.Viewer in the request context.
//
// The verifier is deliberately narrow: only the algorithms implied by the
// configured keys are accepted, keys come only from local configuration (never
// from token headers), and every failure is reported as ErrInvalidToken so
// callers cannot leak why a token was refused.
package auth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Environment variables read by ConfigFromEnv.
const (
	EnvSecret    = "CONECRM_JWT_SECRET"
	EnvPublicKey = "CONECRM_JWT_PUBLIC_KEY"
	EnvJWKS      = "CONECRM_JWT_JWKS"
	EnvIssuer    = "CONECRM_JWT_ISSUER"
	EnvAudience  = "CONECRM_JWT_AUDIENCE"
	EnvCache     = "CONECRM_JWT_CACHE"
)

// DefaultCache is how many verified tokens a Verifier keeps when Config.Cache
// is 0; MaxCache bounds what may be configured.
const (
	DefaultCache = 10000
	MaxCache     = 1_000_000
)

// MinSecretLen is the shortest accepted HS256 secret. RFC 7518 §3.2 requires
// a key at least as long as the hash output (256 bits); shorter secrets are
// brute-forceable offline from any captured token.
const MinSecretLen = 32

// minSecretDistinct is the fewest different bytes an HS256 secret may
// have: a long run of one character, or a short pattern repeated, is
// guessed first. A random hex secret has 16.
const minSecretDistinct = 8

// weakSecret reports whether s has fewer than MinSecretLen bytes besides
// whitespace, or too few different bytes to be a random secret.
func weakSecret(s []byte) bool {
	var seen [256]bool
	distinct, visible := 0, 0
	for _, b := range s {
		if !seen[b] {
			seen[b] = true
			distinct++
		}
		if !unicode.IsSpace(rune(b)) {
			visible++
		}
	}
	return visible < MinSecretLen || distinct < minSecretDistinct
}

// Leeway is the clock skew tolerated on exp, nbf and iat.
const Leeway = 30 * time.Second

// Config selects the verification keys and the expected iss/aud.
//
// At least one key source must be set. Secret may be combined with one
// asymmetric source (PublicKeyFile or JWKSFile, not both) to allow a migration
// from locally minted HS256 tokens to an identity provider; the accepted
// algorithms are then the union of those implied by the configured keys.
type Config struct {
	// Secret is the HS256 key, used byte for byte (no trimming or decoding).
	Secret []byte
	// PublicKeyFile is a PEM file holding one RSA (RS256) or EC P-256 (ES256)
	// public key, as "PUBLIC KEY", "RSA PUBLIC KEY" or "CERTIFICATE".
	PublicKeyFile string
	// JWKSFile is a JSON Web Key Set file; keys are selected by the token's
	// kid. RSA (RS256) and EC P-256 (ES256) signing keys are used.
	JWKSFile string
	// Issuer, when non-empty, must equal the token's iss.
	Issuer string
	// Audience, when non-empty, must appear in the token's aud.
	Audience string
	// Cache is how many verified tokens are kept (tokenCache): 0 means
	// DefaultCache, a negative value none (every request verifies).
	Cache int
}

// ConfigFromEnv builds a Config from the CONECRM_JWT_* variables. getenv is
// normally os.Getenv; it is a parameter so tests need not touch the process
// environment.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		PublicKeyFile: strings.TrimSpace(getenv(EnvPublicKey)),
		JWKSFile:      strings.TrimSpace(getenv(EnvJWKS)),
		Issuer:        strings.TrimSpace(getenv(EnvIssuer)),
		Audience:      strings.TrimSpace(getenv(EnvAudience)),
	}
	if s := getenv(EnvSecret); s != "" {
		c.Secret = []byte(s)
	}
	if s := strings.TrimSpace(getenv(EnvCache)); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > MaxCache {
			return Config{}, fmt.Errorf("auth config: %s must be a whole number from 0 (no cache) to %d, got %q", EnvCache, MaxCache, s)
		}
		c.Cache = n
		if n == 0 {
			c.Cache = -1
		}
	}
	// A missing key source is not an error here: in development the server
	// generates a secret. NewVerifier insists on one.
	if err := c.validate(false); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks the Config without reading any file.
func (c Config) Validate() error { return c.validate(true) }

func (c Config) validate(requireKey bool) error {
	if requireKey && len(c.Secret) == 0 && c.PublicKeyFile == "" && c.JWKSFile == "" {
		return fmt.Errorf("auth config: no verification key: set %s, %s or %s", EnvSecret, EnvPublicKey, EnvJWKS)
	}
	if len(c.Secret) > 0 && len(c.Secret) < MinSecretLen {
		// Never include the secret itself in the message.
		return fmt.Errorf("auth config: %s must be at least %d bytes, got %d", EnvSecret, MinSecretLen, len(c.Secret))
	}
	if len(c.Secret) > 0 && weakSecret(c.Secret) {
		return fmt.Errorf("auth config: %s is too weak: it needs %d bytes besides whitespace and at least %d different characters (use e.g. openssl rand -hex 32)",
			EnvSecret, MinSecretLen, minSecretDistinct)
	}
	if c.PublicKeyFile != "" && c.JWKSFile != "" {
		return errors.New("auth config: set only one of " + EnvPublicKey + " and " + EnvJWKS)
	}
	return nil
}
