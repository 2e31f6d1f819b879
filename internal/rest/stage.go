package rest

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
)

var _ = routes((*Server).stageRoutes)

func (s *Server) stageRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/stage", s.handle(PlainErrors, s.listStages))
	mux.Handle("POST /api/stage", s.handle(PlainErrors, s.createStage))
	mux.Handle("GET /api/stage/{id}", s.handle(PlainErrors, s.getStage))
	mux.Handle("PATCH /api/stage/{id}", s.handle(PlainErrors, s.updateStage))
	mux.Handle("DELETE /api/stage/{id}", s.handle(PlainErrors, s.deleteStage))
}

// Stage is the spec's ConnectionStage.
type Stage struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

func stageOf(st *ent.ConnectionStage) Stage { return Stage{ID: st.ID, Name: st.Name} }

// stageInput is the ConnectionStage request body; its id is ignored (the
// path names the stage).
type stageInput struct {
	Name *string `json:"name"`
}

func (s *Server) listStages(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.svc.ListStages(r.Context())
	if err != nil {
		return err
	}
	out := make([]Stage, 0, len(rows))
	for _, st := range rows {
		out = append(out, stageOf(st))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getStage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	st, err := s.svc.Stage(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stageOf(st))
	return nil
}

func (s *Server) createStage(w http.ResponseWriter, r *http.Request) error {
	var in stageInput
	if err := decode(r, &in); err != nil {
		return err
	}
	st, err := s.svc.CreateStage(r.Context(), in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, stageOf(st))
	return nil
}

func (s *Server) updateStage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in stageInput
	if err := decode(r, &in); err != nil {
		return err
	}
	st, err := s.svc.UpdateStage(r.Context(), id, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, stageOf(st))
	return nil
}

func (s *Server) deleteStage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteStage(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
