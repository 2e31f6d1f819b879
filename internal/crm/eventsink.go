package crm

import (
	"database/sql"

	"github.com/conecrm/gateway/ent"
)

// SQLTx returns the *sql.Tx under tx, the client of a transaction this
// Service opened (nil for any other client). An event hook inserts River
// jobs on it, so they commit or roll back with the write.
func (s *Service) SQLTx(tx *ent.Client) *sql.Tx {
	if s.bound {
		return s.boundTx
	}
	if v, ok := s.sqlTxs.Load(tx); ok {
		return v.(*sql.Tx)
	}
	return nil
}
