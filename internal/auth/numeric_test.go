package auth

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// exp, nbf and iat are NumericDates (RFC 7519): a JSON string holding a
// number is refused, though the JWT library would read it.
func TestTimeClaimsMustBeNumbers(t *testing.T) {
	hs, _, _ := verifiers(t)
	now := time.Now()
	for name, set := range map[string]map[string]any{
		"exp as a string": {"exp": strconv.FormatInt(now.Add(time.Hour).Unix(), 10)},
		"nbf as a string": {"nbf": strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)},
		"iat as a string": {"iat": strconv.FormatInt(now.Unix(), 10)},
	} {
		tok := sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(set))
		if _, err := hs.Verify(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: err = %v, want invalid token", name, err)
		}
	}
	if _, err := hs.Verify(context.Background(), sign(t, jwt.SigningMethodHS256, testSecret, nil, claims(nil))); err != nil {
		t.Fatalf("numeric claims refused: %v", err)
	}
}
