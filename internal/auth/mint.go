package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// MintOption adds optional registered claims to a minted token.
type MintOption func(*tokenClaims)

// WithIssuer sets iss; needed when the verifier has an Issuer configured.
// An empty iss is ignored.
func WithIssuer(iss string) MintOption {
	return func(c *tokenClaims) { c.Issuer = iss }
}

// WithAudience sets aud; needed when the verifier has an Audience configured.
// An empty aud is ignored.
func WithAudience(aud string) MintOption {
	return func(c *tokenClaims) {
		if aud != "" {
			c.Audience = jwt.ClaimStrings{aud}
		}
	}
}

// Mint issues an HS256 token with sub, tid, iat and exp (now+ttl), for the
// token subcommand and tests. It enforces the same secret length as the
// verifier so it cannot produce tokens a correctly configured gateway refuses.
func Mint(secret []byte, userID, tenantID uuid.UUID, ttl time.Duration, opts ...MintOption) (string, error) {
	if len(secret) < MinSecretLen {
		return "", fmt.Errorf("auth: mint: secret must be at least %d bytes", MinSecretLen)
	}
	if userID == uuid.Nil || tenantID == uuid.Nil {
		return "", errors.New("auth: mint: user and tenant ids must be non-nil")
	}
	if ttl <= 0 {
		return "", errors.New("auth: mint: ttl must be positive")
	}
	now := time.Now()
	c := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID.String(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		TenantID: tenantID.String(),
	}
	for _, o := range opts {
		o(&c)
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}
