package ids

import (
	"testing"

	"github.com/google/uuid"
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

func TestAppendTextIsString(t *testing.T) {
	for _, id := range []uuid.UUID{uuid.Nil, uuid.Max, uuid.New(), New(42)} {
		if got := string(AppendText([]byte("x"), id)); got != "x"+id.String() {
			t.Errorf("%s: appended %s", id, got)
		}
	}
	var s [36]byte
	id := uuid.New()
	if n := testing.AllocsPerRun(100, func() { AppendText(s[:0], id) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
