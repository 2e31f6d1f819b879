package rest

import (
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
)

// The JSON shapes shared by the spec's schemas. Every documented field is
// always present: optional values are pointers that encode as null, lists
// are never nil. Dates are RFC 3339 in UTC, to the second.

// Time is a date-time that encodes as RFC 3339 UTC.
type Time time.Time

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format(time.RFC3339) + `"`), nil
}

// timeOf converts an optional time; nil encodes as null.
func timeOf(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	v := Time(*t)
	return &v
}

// IDRef is a reference to another record: {"id": "..."}.
type IDRef struct {
	ID uuid.UUID `json:"id"`
}

// refOf converts an optional id; nil encodes as null.
func refOf(id *uuid.UUID) *IDRef {
	if id == nil {
		return nil
	}
	return &IDRef{ID: *id}
}

// BaseRecord is the spec's IdEntity + BaseRecord: id and audit fields, user
// references as {"id"}.
type BaseRecord struct {
	ID           uuid.UUID `json:"id"`
	DateCreated  Time      `json:"dateCreated"`
	CreatedBy    *IDRef    `json:"createdBy"`
	DateModified *Time     `json:"dateModified"`
	ModifiedBy   *IDRef    `json:"modifiedBy"`
	IsDeleted    bool      `json:"isDeleted"`
	DateDeleted  *Time     `json:"dateDeleted"`
	DeletedBy    *IDRef    `json:"deletedBy"`
	Dtype        string    `json:"dtype"`
}

// audit is what every generated record entity offers for BaseRecord.
type audit struct {
	ID           uuid.UUID
	DateCreated  time.Time
	CreatedBy    *uuid.UUID
	DateModified *time.Time
	ModifiedBy   *uuid.UUID
	IsDeleted    bool
	DateDeleted  *time.Time
	DeletedBy    *uuid.UUID
	Dtype        string
}

func baseRecord(a audit) BaseRecord {
	return BaseRecord{
		ID: a.ID, DateCreated: Time(a.DateCreated), CreatedBy: refOf(a.CreatedBy),
		DateModified: timeOf(a.DateModified), ModifiedBy: refOf(a.ModifiedBy),
		IsDeleted: a.IsDeleted, DateDeleted: timeOf(a.DateDeleted), DeletedBy: refOf(a.DeletedBy),
		Dtype: a.Dtype,
	}
}

// ThirdPartyID is the spec's BaseCustomerThirdPartyId.
type ThirdPartyID struct {
	BaseRecord
	Customer     *IDRef  `json:"customer"`
	SystemName   string  `json:"systemName"`
	ThirdPartyID string  `json:"thirdPartyId"`
	Metadata     *string `json:"metadata"`
	Tenant       IDRef   `json:"tenant"`
}

func thirdPartyIDs(rows []*ent.CustomerThirdPartyID) []ThirdPartyID {
	out := make([]ThirdPartyID, 0, len(rows))
	for _, t := range rows {
		customer := t.AccountID
		if customer == nil {
			customer = t.ContactID
		}
		out = append(out, ThirdPartyID{
			BaseRecord: baseRecord(audit{t.ID, t.DateCreated, t.CreatedByID, t.DateModified, t.ModifiedByID,
				t.IsDeleted, t.DateDeleted, t.DeletedByID, t.Dtype}),
			Customer: refOf(customer), SystemName: t.SystemName, ThirdPartyID: t.ThirdPartyID,
			Metadata: t.Metadata, Tenant: IDRef{ID: t.TenantID},
		})
	}
	return out
}
