package rest

import (
	"net/http"

	"github.com/conecrm/gateway/internal/crm"
)

func (s *Server) accountRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/account", s.handle(PlainErrors, s.listAccounts))
}

// accountList is GET /api/account's body.
type accountList struct {
	Total    int       `json:"total"`
	Accounts []Account `json:"accounts"`
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) error {
	f, err := customerFilter(r, "offset")
	if err != nil {
		return err
	}
	total, rows, err := s.svc.ListAccounts(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accountList{Total: total, Accounts: Accounts(rows)})
	return nil
}

// customerFilter reads the query parameters the account and contact lists
// share; offsetName is "offset" for accounts and "start" for contacts.
func customerFilter(r *http.Request, offsetName string) (crm.CustomerFilter, error) {
	q := r.URL.Query()
	f := crm.CustomerFilter{Search: q.Get("search"), Franchise: q.Get("franchise")}
	var err error
	if f.Page, err = pageParams(q, offsetName); err != nil {
		return f, err
	}
	if f.Sort, err = sortParams(q); err != nil {
		return f, err
	}
	if f.Exclude, err = optionalID(q, "exclude"); err != nil {
		return f, err
	}
	return f, nil
}
