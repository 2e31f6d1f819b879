package store

import (
	"errors"

	"github.com/lib/pq"
	"modernc.org/sqlite"
)

// IsUnstorableText reports whether err is PostgreSQL refusing a text value
// it cannot store (a NUL character, invalid UTF-8), or SQLite refusing the
// same (ErrUnstorableText); callers treat it as bad input, not as an
// internal error.
func IsUnstorableText(err error) bool {
	if errors.Is(err, ErrUnstorableText) {
		return true
	}
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return false
	}
	// 22021 character_not_in_repertoire, 22P05 untranslatable_character.
	return pe.Code == "22021" || pe.Code == "22P05"
}

// IsStatementTimeout reports whether err is PostgreSQL canceling a
// statement (statement_timeout, or a cancel sent for a canceled context).
func IsStatementTimeout(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "57014" // query_canceled
}

// IsDataException reports whether err is PostgreSQL refusing a parameter
// value for its column's type (SQLSTATE class 22: an invalid date-time, a
// text where a number is expected…). Parameters come from the request, so
// callers that know which argument supplied the value answer bad input.
func IsDataException(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code.Class() == "22"
}

// IsTransientConflict reports whether err is the database refusing a
// transaction only because of a concurrent one, so that the same
// transaction run again can succeed: PostgreSQL's deadlock_detected
// (40P01) or serialization_failure (40001), SQLite's SQLITE_BUSY (its
// busy_timeout ran out, or a snapshot went stale: SQLITE_BUSY_SNAPSHOT) or
// SQLITE_LOCKED. Nothing here takes locks with NOWAIT, so
// lock_not_available (55P03) is not one of them.
func IsTransientConflict(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "40P01" || pe.Code == "40001"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqliteBusy || c == sqliteLocked
	}
	return false
}
