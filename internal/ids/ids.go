// Package ids makes the record ids: UUID version 7 (time-ordered, so B-tree
// inserts stay local) whose 12 rand_a bits carry the record's type code. RFC
// 9562 leaves rand_a to the implementation; using it for the type lets
// node(id) and the cross-tenant reference check find a row's table from its id
// alone, without probing every table.
package ids

import (
	"github.com/google/uuid"
)

// New returns a UUIDv7 tagged with typ (0 < typ < 4096).
func New(typ uint16) uuid.UUID {
	id := uuid.Must(uuid.NewV7())
	id[6] = 0x70 | byte(typ>>8)&0x0f
	id[7] = byte(typ)
	return id
}

// TypeOf returns the type code of an id made by New, or 0 when id is not a
// UUIDv7.
func TypeOf(id uuid.UUID) uint16 {
	if id.Version() != 7 || id.Variant() != uuid.RFC4122 {
		return 0
	}
	return uint16(id[6]&0x0f)<<8 | uint16(id[7])
}

// AppendText appends id's canonical text (as id.String() writes it) to dst,
// so a caller writing ids into a buffer makes no string per id.
func AppendText(dst []byte, id uuid.UUID) []byte {
	const hex = "0123456789abcdef"
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hex[c>>4], hex[c&0xf])
	}
	return dst
}
