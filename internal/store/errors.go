package store

import (
	"errors"

	"github.com/lib/pq"
)

// IsUnstorableText reports whether err is PostgreSQL refusing a text value
// it cannot store (a NUL character, invalid UTF-8). SQLite stores such text,
// so only PostgreSQL answers this; callers treat it as bad input, not as an
// internal error.
func IsUnstorableText(err error) bool {
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return false
	}
	// 22021 character_not_in_repertoire, 22P05 untranslatable_character.
	return pe.Code == "22021" || pe.Code == "22P05"
}
