package store

import (
	"testing"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
)

// A UUID's text from the driver is parsed in place: no allocation, the
// same value as uuid.UUID.Scan; NULL, 16 bytes and strings as before.
func TestUUIDTextScansWithoutCopies(t *testing.T) {
	want := uuid.MustParse("01a22db6-835d-7014-8064-b83a658444ae")
	text := []byte(want.String())
	var got uuidText
	var src any = text // as database/sql hands it over
	if n := testing.AllocsPerRun(100, func() {
		if err := got.Scan(src); err != nil {
			t.Fatal(err)
		}
	}); n != 0 || uuid.UUID(got) != want {
		t.Errorf("%s in %v allocations, want %s in none", uuid.UUID(got), n, want)
	}
	for _, src := range []any{want[:], want.String()} {
		got = uuidText{}
		if err := got.Scan(src); err != nil || uuid.UUID(got) != want {
			t.Errorf("%T: %s, %v", src, uuid.UUID(got), err)
		}
	}
	if err := got.Scan([]byte("not-a-uuid-but-thirty-six-bytes-long")); err == nil {
		t.Error("bad text accepted")
	}
	var u uuid.UUID
	ns := &entsql.NullScanner{S: &u}
	n := nullUUID{n: ns, u: &u}
	if err := n.Scan(text); err != nil || !ns.Valid || u != want {
		t.Errorf("nullable: %s valid %v, %v", u, ns.Valid, err)
	}
	if err := n.Scan(nil); err != nil || ns.Valid {
		t.Errorf("NULL: valid %v, %v", ns.Valid, err)
	}
}
