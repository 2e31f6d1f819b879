package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/connectionthirdpartyid"
	"github.com/conecrm/gateway/ent/customerthirdpartyid"
	"github.com/conecrm/gateway/internal/fault"
)

// ThirdPartyIDInput is one of a customer's ids in another system (the
// spec's BaseCustomerThirdPartyId): systemName and thirdPartyId required.
type ThirdPartyIDInput struct {
	SystemName   string
	ThirdPartyID string
	Metadata     *string
}

// maxMetadataLength bounds a third-party id's free metadata.
const maxMetadataLength = 4000

// checkThirdPartyIDs validates ids into v under prefix: required, bounded
// texts, one id per system (a customer has one id in each system).
func checkThirdPartyIDs(v *fault.Validation, prefix string, ids *[]ThirdPartyIDInput) {
	if ids == nil {
		return
	}
	seen := map[string]bool{}
	for i, t := range *ids {
		name := fmt.Sprintf("%sthirdPartyIds[%d].", prefix, i)
		for field, val := range map[string]string{"systemName": t.SystemName, "thirdPartyId": t.ThirdPartyID} {
			if blank(val) {
				v.Add(name+field, msgBlank)
			} else {
				checkText(v, name+field, &val)
			}
		}
		if t.Metadata != nil && len(*t.Metadata) > maxMetadataLength {
			v.Add(name+"metadata", fmt.Sprintf("must be at most %d characters", maxMetadataLength))
		}
		system := strings.ToLower(trim(t.SystemName))
		if system != "" && seen[system] {
			v.Add(name+"systemName", "This system already has an id for this record.")
		}
		seen[system] = true
	}
}

// writeThirdPartyIDs replaces the third-party ids of account (or contact)
// owner with ids; nil leaves them as they are.
func writeThirdPartyIDs(ctx context.Context, tx *ent.Client, owner uuid.UUID, isAccount bool, ids *[]ThirdPartyIDInput) error {
	if ids == nil {
		return nil
	}
	of := customerthirdpartyid.ContactID(owner)
	if isAccount {
		of = customerthirdpartyid.AccountID(owner)
	}
	if _, err := tx.CustomerThirdPartyID.Delete().Where(of).Exec(ctx); err != nil {
		return err
	}
	creates := make([]*ent.CustomerThirdPartyIDCreate, 0, len(*ids))
	for _, t := range *ids {
		c := tx.CustomerThirdPartyID.Create().SetSystemName(trim(t.SystemName)).SetThirdPartyID(trim(t.ThirdPartyID)).
			SetNillableMetadata(t.Metadata)
		if isAccount {
			c.SetAccountID(owner)
		} else {
			c.SetContactID(owner)
		}
		creates = append(creates, c)
	}
	if len(creates) == 0 {
		return nil
	}
	return tx.CustomerThirdPartyID.CreateBulk(creates...).Exec(ctx)
}

// addThirdPartyIDs adds the customer's third-party ids to an event
// snapshot as "thirdPartyIds": [{systemName, thirdPartyId, metadata}],
// sorted by system.
func addThirdPartyIDs(ctx context.Context, tx *ent.Client, owner uuid.UUID, isAccount bool, snap map[string]any) error {
	of := customerthirdpartyid.ContactID(owner)
	if isAccount {
		of = customerthirdpartyid.AccountID(owner)
	}
	rows, err := tx.CustomerThirdPartyID.Query().Where(of).All(ctx)
	if err != nil {
		return err
	}
	var out []map[string]any
	for _, r := range rows {
		out = append(out, map[string]any{"systemName": r.SystemName, "thirdPartyId": r.ThirdPartyID, "metadata": r.Metadata})
	}
	snap["thirdPartyIds"] = sortedThirdPartyIDs(out)
	return nil
}

// sortedThirdPartyIDs orders an event's third-party ids by system, then id.
func sortedThirdPartyIDs(ids []map[string]any) []map[string]any {
	slices.SortFunc(ids, func(a, b map[string]any) int {
		return strings.Compare(a["systemName"].(string)+"\x00"+a["thirdPartyId"].(string),
			b["systemName"].(string)+"\x00"+b["thirdPartyId"].(string))
	})
	return ids
}

// writeLeadThirdPartyIDs replaces lead id's third-party ids with ids; nil
// leaves them as they are.
func writeLeadThirdPartyIDs(ctx context.Context, tx *ent.Client, id uuid.UUID, ids *[]ThirdPartyIDInput) error {
	if ids == nil {
		return nil
	}
	if _, err := tx.ConnectionThirdPartyID.Delete().Where(connectionthirdpartyid.ConnectionID(id)).Exec(ctx); err != nil {
		return err
	}
	creates := make([]*ent.ConnectionThirdPartyIDCreate, 0, len(*ids))
	for _, t := range *ids {
		creates = append(creates, tx.ConnectionThirdPartyID.Create().SetConnectionID(id).SetSystemName(trim(t.SystemName)).
			SetThirdPartyID(trim(t.ThirdPartyID)).SetNillableMetadata(t.Metadata))
	}
	if len(creates) == 0 {
		return nil
	}
	return tx.ConnectionThirdPartyID.CreateBulk(creates...).Exec(ctx)
}

// addLeadThirdPartyIDs adds lead id's third-party ids to an event snapshot
// as addThirdPartyIDs does for customers.
func addLeadThirdPartyIDs(ctx context.Context, tx *ent.Client, id uuid.UUID, snap map[string]any) error {
	rows, err := tx.ConnectionThirdPartyID.Query().Where(connectionthirdpartyid.ConnectionID(id)).All(ctx)
	if err != nil {
		return err
	}
	var out []map[string]any
	for _, r := range rows {
		out = append(out, map[string]any{"systemName": r.SystemName, "thirdPartyId": r.ThirdPartyID, "metadata": r.Metadata})
	}
	snap["thirdPartyIds"] = sortedThirdPartyIDs(out)
	return nil
}
