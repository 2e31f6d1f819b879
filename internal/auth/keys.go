package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
)

// Key size bounds. Below 2048 bits RSA is no longer considered safe; the upper
// bound keeps a hostile key file from making every verification expensive.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// loadPEMKey reads the single public key of a PEM file. Private key blocks are
// refused outright: a signing key has no business in the gateway's config.
func loadPEMKey(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth config: read %s: %w", EnvPublicKey, err)
	}
	key, err := parsePEMKey(data)
	if err != nil {
		return nil, fmt.Errorf("auth config: %s %s: %w", EnvPublicKey, path, err)
	}
	return key, nil
}

func parsePEMKey(data []byte) (any, error) {
	var found any
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, errors.New("file contains a private key; configure the public key or certificate only")
		}
		if found != nil {
			continue // first key wins (the leaf, for a certificate chain)
		}
		var (
			pub any
			err error
		)
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
				pub = cert.PublicKey
			}
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", block.Type, err)
		}
		if found, err = checkPublicKey(pub); err != nil {
			return nil, err
		}
	}
	if found == nil {
		return nil, errors.New("no PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE block")
	}
	return found, nil
}

// checkPublicKey admits only the key types and sizes the verifier supports,
// so an unsupported key fails at startup rather than on every request.
func checkPublicKey(pub any) (any, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < minRSABits || n > maxRSABits {
			return nil, fmt.Errorf("RSA key is %d bits, want %d..%d", n, minRSABits, maxRSABits)
		}
		if k.E < 3 || k.E%2 == 0 {
			return nil, fmt.Errorf("RSA key has invalid exponent %d", k.E)
		}
		return k, nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("EC key curve %s is not supported, want P-256 (ES256)", k.Curve.Params().Name)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("unsupported public key type %T, want RSA or EC P-256", pub)
	}
}

// jwk is the subset of RFC 7517/7518 members the verifier understands. D and
// K are decoded only to detect (and refuse) private or symmetric material.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
	K   string `json:"k"`
}

// loadJWKS reads a key set and indexes its usable signing keys by kid.
func loadJWKS(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth config: read %s: %w", EnvJWKS, err)
	}
	keys, err := parseJWKS(data)
	if err != nil {
		return nil, fmt.Errorf("auth config: %s %s: %w", EnvJWKS, path, err)
	}
	return keys, nil
}

// parseJWKS skips keys it cannot use (other key types or curves, encryption
// keys, other algorithms) because published key sets routinely mix them, but fails on
// anything that suggests a misconfiguration or a broken usable key: private or symmetric material, a
// usable key without kid, duplicate kids, or no usable key at all.
func parseJWKS(data []byte) (map[string]any, error) {
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	keys := make(map[string]any, len(set.Keys))
	for i, k := range set.Keys {
		if k.D != "" || k.K != "" {
			return nil, fmt.Errorf("key %d (kid %q) contains private or symmetric key material", i, k.Kid)
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var (
			pub any
			err error
		)
		switch {
		case k.Kty == "RSA" && (k.Alg == "" || k.Alg == "RS256"):
			pub, err = rsaFromJWK(k)
		case k.Kty == "EC" && k.Crv == "P-256" && (k.Alg == "" || k.Alg == "ES256"):
			pub, err = ecFromJWK(k)
		default:
			continue
		}
		if err == nil {
			pub, err = checkPublicKey(pub)
		}
		if err != nil {
			return nil, fmt.Errorf("key %d (kid %q): %w", i, k.Kid, err)
		}
		if k.Kid == "" {
			return nil, fmt.Errorf("key %d has no kid; tokens could not select it", i)
		}
		if _, dup := keys[k.Kid]; dup {
			return nil, fmt.Errorf("duplicate kid %q", k.Kid)
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, errors.New("no usable RS256 or ES256 signing key")
	}
	return keys, nil
}

func rsaFromJWK(k jwk) (*rsa.PublicKey, error) {
	n, err := b64(k.N)
	if err != nil || len(n) == 0 {
		return nil, errors.New("invalid RSA modulus n")
	}
	e, err := b64(k.E)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, errors.New("invalid RSA exponent e")
	}
	exp := new(big.Int).SetBytes(e)
	if !exp.IsInt64() || exp.Int64() > 1<<31-1 {
		return nil, errors.New("invalid RSA exponent e")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}, nil
}

func ecFromJWK(k jwk) (*ecdsa.PublicKey, error) {
	x, errX := b64(k.X)
	y, errY := b64(k.Y)
	// RFC 7518 §6.2.1.2: coordinates are exactly the curve's field size.
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return nil, errors.New("invalid EC coordinates")
	}
	point := append(append([]byte{4}, x...), y...)
	// Rejects points not on the curve (invalid-curve attacks).
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return nil, fmt.Errorf("invalid EC point: %w", err)
	}
	return pub, nil
}

// b64 decodes base64url, tolerating padding some JWKS generators emit.
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
