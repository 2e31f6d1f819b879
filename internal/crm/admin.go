package crm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/registry"
)

// Record types of the administration events; their topics are
// "<type>.created", "<type>.updated", "<type>.deleted" (users also have
// ".deactivated" and ".reactivated").
const (
	RecordTenant        = "tenant"
	RecordUser          = "user"
	RecordRole          = "role"
	RecordSecurityGroup = "securityGroup"
	RecordFranchise     = "franchise"
	RecordDepartment    = "department"
	RecordSource        = "source"
	RecordStatus        = "status"
	RecordProduct       = "product"
	RecordProductGroup  = "productGroup"
	RecordAPIKey        = "apiKey" // topics apiKey.created, apiKey.revoked
)

// fields is a record's API fields as an event reports them.
type fields map[string]any

// emitChange writes the event "<recordType>.<verb>" of record id with the
// fields that differ between before and after (nil before: a creation; nil
// after: a deletion). An update that changed nothing emits nothing.
func (s *Service) emitChange(ctx context.Context, tx *ent.Client, recordType, verb string, id uuid.UUID, before, after fields) error {
	changes := Changes{}
	for k, v := range after {
		changes.Set(k, before[k], v)
	}
	for k, v := range before {
		if _, ok := after[k]; !ok {
			changes.Set(k, v, nil)
		}
	}
	if verb == "updated" && len(changes) == 0 {
		return nil
	}
	return s.emit(ctx, tx, Event{Topic: recordType + "." + verb, RecordType: recordType, RecordID: id, Changes: changes})
}

// idStrings returns ids as strings, sorted unless ordered says their order
// means something (a round-robin rotation).
func idStrings(ids []uuid.UUID, ordered bool) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	if !ordered {
		slices.Sort(out)
	}
	return out
}

// checkRefs adds an error to field unless every id names a live record of
// table in the viewer's tenant (another tenant's id is as unknown as one
// that exists nowhere). One statement per call.
func checkRefs(ctx context.Context, tx *ent.Client, v *fault.Validation, field, table string, refs []uuid.UUID) error {
	refs = unique(refs)
	if len(refs) == 0 {
		return nil
	}
	for _, id := range refs {
		if registry.TableOf(id) != table {
			v.Add(field, msgNotFound)
			return nil
		}
	}
	n, err := tx.CountVisible(ctx, table, refs)
	if err != nil {
		return err
	}
	if n != len(refs) {
		v.Add(field, msgNotFound)
	}
	return nil
}

// checkRef is checkRefs for one optional id.
func checkRef(ctx context.Context, tx *ent.Client, v *fault.Validation, field, table string, id *uuid.UUID) error {
	if id == nil {
		return nil
	}
	return checkRefs(ctx, tx, v, field, table, []uuid.UUID{*id})
}

// checkName validates a record's name into v (see nameProblem).
func checkName(v *fault.Validation, field string, name *string, required bool) {
	if msg := nameProblem(name, required); msg != "" {
		v.Add(field, msg)
	}
}

// checkLen adds an error when a given text is longer than maxNameLength.
func checkLen(v *fault.Validation, field string, s *string) {
	if s != nil && len(*s) > maxNameLength {
		v.Add(field, fmt.Sprintf("must be at most %d characters", maxNameLength))
	}
}

// inUse is the Conflict of a delete refused because records use the record:
// "Cannot delete source that is in use (3 connections)".
func inUse(what string, counts ...usage) error {
	var parts []string
	for _, c := range counts {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return fault.Errorf(fault.Conflict, "Cannot delete %s that is in use (%s)", what, strings.Join(parts, ", "))
}

// usage is how many records of a kind use a record.
type usage struct {
	n    int
	what string
}

// countAll runs the counts of a delete check, stopping at the first error.
func countAll(ctx context.Context, counts ...func(context.Context) (int, error)) ([]int, error) {
	out := make([]int, len(counts))
	for i, c := range counts {
		n, err := c(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}
