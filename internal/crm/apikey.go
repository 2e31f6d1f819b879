package crm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/apikey"
	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/viewer"
)

// APIKeyPrefix starts every API key secret, so the authentication middleware
// tells a key from a JWT without trying to parse it, and secret scanners can
// recognise a leaked key.
const APIKeyPrefix = "ck_"

// lastUsedGranularity bounds the writes of APIKey.last_used_at: at most one
// per key per minute, not one per request.
const lastUsedGranularity = time.Minute

// APIKeyInput is a new API key. UserID defaults to the viewer; RoleID, when
// set, narrows the key to that role's permissions; ExpiresAt, when set, must
// be in the future.
type APIKeyInput struct {
	Name      string
	UserID    *uuid.UUID
	RoleID    *uuid.UUID
	ExpiresAt *time.Time
}

// APIKeys lists the tenant's API keys, revoked and expired ones included,
// newest first.
func (s *Service) APIKeys(ctx context.Context) ([]*ent.APIKey, error) {
	if err := Require(ctx, PermAPIKeyManage); err != nil {
		return nil, err
	}
	keys, err := s.db.APIKey.Query().Order(apikey.ByDateCreated(), apikey.ByID()).All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return keys, nil
}

// APIKey returns one of the tenant's API keys.
func (s *Service) APIKey(ctx context.Context, id uuid.UUID) (*ent.APIKey, error) {
	if err := Require(ctx, PermAPIKeyManage); err != nil {
		return nil, err
	}
	k, err := s.db.APIKey.Get(ctx, id)
	if err != nil {
		return nil, AsError(err)
	}
	return k, nil
}

// CreateAPIKey makes a key and returns it with its secret, which is not
// stored (only its SHA-256 is) and cannot be shown again.
func (s *Service) CreateAPIKey(ctx context.Context, in APIKeyInput) (*ent.APIKey, string, error) {
	if err := Require(ctx, PermAPIKeyManage); err != nil {
		return nil, "", err
	}
	var v fault.Validation
	name := strings.TrimSpace(in.Name)
	if name == "" {
		v.Add("name", "is required")
	} else if len(name) > 200 {
		v.Add("name", "is longer than 200 characters")
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(time.Now()) {
		v.Add("expiresAt", "must be in the future")
	}
	userID := viewer.FromContext(ctx).UserID
	if in.UserID != nil {
		userID = *in.UserID
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	secret, hash, err := newAPIKeySecret()
	if err != nil {
		return nil, "", AsError(err)
	}
	var k *ent.APIKey
	err = s.inTx(ctx, func(tx *ent.Client) error {
		// Another tenant's user or role answers like an unknown one. The
		// manager of keys need not read users or roles to name them.
		chk := registry.Unchecked(ctx)
		if ok, err := tx.User.Query().Where(user.ID(userID), user.IsActive(true)).Exist(chk); err != nil {
			return err
		} else if !ok {
			return fault.FieldError("userID", "no such active user")
		}
		if in.RoleID != nil {
			if ok, err := tx.Role.Query().Where(role.ID(*in.RoleID)).Exist(chk); err != nil {
				return err
			} else if !ok {
				return fault.FieldError("roleID", "no such role")
			}
		}
		k, err = tx.APIKey.Create().
			SetName(name).
			SetPrefix(secret[:len(APIKeyPrefix)+8]).
			SetSecretHash(hash).
			SetUserID(userID).
			SetNillableRoleID(in.RoleID).
			SetNillableExpiresAt(in.ExpiresAt).
			Save(ctx)
		if err != nil {
			return err
		}
		// The event names the key, never its secret or hash.
		after := fields{"name": k.Name, "prefix": k.Prefix, "user": k.UserID.String()}
		if k.RoleID != nil {
			after["role"] = k.RoleID.String()
		}
		if k.ExpiresAt != nil {
			after["expiresAt"] = k.ExpiresAt.UTC().Format(time.RFC3339Nano)
		}
		return s.emitChange(ctx, tx, RecordAPIKey, "created", k.ID, nil, after)
	})
	if err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// RevokeAPIKey revokes a key for good: from the next request on it is
// refused like an unknown key. Revoking a revoked key changes nothing.
func (s *Service) RevokeAPIKey(ctx context.Context, id uuid.UUID) (*ent.APIKey, error) {
	if err := Require(ctx, PermAPIKeyManage); err != nil {
		return nil, err
	}
	var k *ent.APIKey
	err := s.inTx(ctx, func(tx *ent.Client) error {
		var err error
		if k, err = tx.APIKey.Get(ctx, id); err != nil || k.RevokedAt != nil {
			return err
		}
		k, err = tx.APIKey.UpdateOne(k).SetRevokedAt(time.Now().UTC()).SetRevokedByID(viewer.FromContext(ctx).UserID).Save(ctx)
		if err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordAPIKey, "revoked", k.ID, fields{"revokedAt": nil},
			fields{"revokedAt": k.RevokedAt.UTC().Format(time.RFC3339Nano)})
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

func newAPIKeySecret() (secret, hash string, err error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", "", err
	}
	secret = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	return secret, hashAPIKey(secret), nil
}

// hashAPIKey is the stored form of a secret. The secrets are 256 random
// bits, so a fast hash suffices: there is nothing to brute-force.
func hashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ResolveAPIKey returns the viewer an API key secret acts as: its user, as
// ResolveViewer builds it (so an inactive or deleted user's keys stop working
// with the user), narrowed to the key's role when it has one. An unknown,
// revoked or expired key, or one of an inactive user, is NotFound. It
// records the key's use (at most once a minute).
func ResolveAPIKey(ctx context.Context, db *ent.Client, secret string) (*viewer.Viewer, error) {
	return resolveAPIKey(ctx, db, secret, ResolveViewer)
}

// ResolveAPIKey is crm.ResolveAPIKey with the key's user from the cache:
// the key itself (revoked, expired) is still read on every request.
func (c *ViewerCache) ResolveAPIKey(ctx context.Context, db *ent.Client, secret string) (*viewer.Viewer, error) {
	return resolveAPIKey(ctx, db, secret, c.Resolve)
}

func resolveAPIKey(ctx context.Context, db *ent.Client, secret string,
	resolveViewer func(context.Context, *ent.Client, uuid.UUID, uuid.UUID, time.Time) (*viewer.Viewer, error)) (*viewer.Viewer, error) {
	if !strings.HasPrefix(secret, APIKeyPrefix) {
		return nil, fault.Errorf(fault.NotFound, "not found")
	}
	// The key names its tenant; until it is found there is none to scope to.
	sys := tenancy.Bypass(ctx)
	k, err := db.APIKey.Query().Where(apikey.SecretHash(hashAPIKey(secret))).Only(sys)
	if err != nil {
		return nil, AsError(err)
	}
	now := time.Now()
	if k.RevokedAt != nil || (k.ExpiresAt != nil && !k.ExpiresAt.After(now)) {
		return nil, fault.Errorf(fault.NotFound, "not found")
	}
	// Issued at its creation: a key made before its user's access was last
	// withdrawn (deactivation, deletion) stays dead after a reactivation,
	// like the user's tokens of that time.
	v, err := resolveViewer(ctx, db, k.UserID, k.TenantID, k.DateCreated)
	if err != nil {
		return nil, err
	}
	if k.RoleID != nil {
		// Resolving the viewer: the key's user need not read roles.
		r, err := db.Role.Query().Where(role.ID(*k.RoleID)).WithPermissions().Only(registry.Unchecked(viewer.NewContext(ctx, v)))
		if err != nil {
			return nil, AsError(err)
		}
		narrowed := map[string]bool{}
		for _, p := range r.Edges.Permissions {
			if v.Can(p.Name) {
				narrowed[p.Name] = true
			}
		}
		v.Permissions = narrowed
		// An ADMIN holds every permission whatever the map says; the key
		// holds only its role's, with a manager's record rules.
		if v.Type == viewer.TypeAdmin {
			v.Type = viewer.TypeManager
		}
	}
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= lastUsedGranularity {
		if err := db.APIKey.UpdateOneID(k.ID).SetLastUsedAt(now.UTC()).Exec(sys); err != nil {
			return nil, AsError(err)
		}
	}
	return v, nil
}
