package model

import (
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
)

// RecordChange is a recordChanged payload.
type RecordChange struct {
	EventID    uuid.UUID
	Topic      string
	RecordType string
	RecordID   uuid.UUID
	OccurredAt time.Time
	Record     ent.Noder // nil once deleted
}

// LeadChange is a leadChanged payload.
type LeadChange struct {
	EventID    uuid.UUID
	Topic      string
	LeadID     uuid.UUID
	OccurredAt time.Time
	Lead       *ent.Lead // nil once deleted
}

// AutomationRunChange is an automationRunChanged payload.
type AutomationRunChange struct {
	RunID        uuid.UUID
	AutomationID uuid.UUID
	OccurredAt   time.Time
	Run          *ent.AutomationRun
}
