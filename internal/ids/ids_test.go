package ids

import (
	"testing"
)

func TestNewMakesVersion7IDsThatCarryTheirType(t *testing.T) {
	for _, typ := range []uint16{1, 42, 255, 256, 4095} {
		id := New(typ)
		if id.Version() != 7 {
			t.Fatalf("version = %d, want 7", id.Version())
		}
		if got := TypeOf(id); got != typ {
			t.Fatalf("TypeOf(New(%d)) = %d", typ, got)
		}
	}
}

func TestIDsAreTimeOrdered(t *testing.T) {
	a, b := New(1), New(1)
	if a.String() >= b.String() && a.Time() > b.Time() {
		t.Fatalf("ids not time ordered: %s then %s", a, b)
	}
}
