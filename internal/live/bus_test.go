package live

import (
	"testing"

	"github.com/google/uuid"
)

// A subscriber that does not read is dropped once its queue is full — the
// bus never blocks a publisher and never buffers without bound — and
// another tenant's notes never reach it.
func TestSlowConsumerDroppedAndTenantsApart(t *testing.T) {
	b := &Bus{buffer: 2, subs: map[uuid.UUID]map[*Sub]struct{}{}}
	tenant, other := uuid.New(), uuid.New()
	dropped := 0
	s := b.Subscribe(tenant, func(n Note) bool { return n.Type == "lead" }, func() { dropped++ })
	b.dispatch(Note{Tenant: other, Type: "lead"})
	b.dispatch(Note{Tenant: tenant, Type: "task"})
	if len(s.C()) != 0 {
		t.Fatal("another tenant's or an unmatched note was queued")
	}
	for range 5 {
		b.dispatch(Note{Tenant: tenant, Type: "lead"})
	}
	if len(s.C()) != 2 || dropped != 1 {
		t.Fatalf("queued %d, overflow called %d times", len(s.C()), dropped)
	}
	b.Unsubscribe(s)
	if len(b.subs) != 0 {
		t.Fatal("the tenant's subscriber set was not removed")
	}
}
