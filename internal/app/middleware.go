package app

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/conecrm/gateway/internal/httpx"
	"github.com/conecrm/gateway/internal/store"
)

func chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

var safeID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID takes a sane X-Request-Id from the client or makes one, and
// echoes it so a client can quote it when reporting a problem.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !safeID.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		// The one context value of the middleware (httpx.Request): the
		// request log's statement count and the metrics' labels are in it.
		next.ServeHTTP(w, r.WithContext(httpx.WithRequest(r.Context(), &httpx.Request{ID: id})))
	})
}

// logRequests logs one line per request with its status, duration and the
// number of SQL statements it issued.
func logRequests(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &httpx.StatusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			msg, status := "request", sw.Status
			if r.Context().Err() != nil { // the client went away: its work was canceled, nobody got an answer
				msg, status = "request canceled by the client", httpx.StatusClientClosed
			}
			// The record is made here, as Logger.LogAttrs makes it (typed
			// attributes, no boxing), but without its walk of the stack for
			// the caller's pc, which no handler of the server prints (none
			// sets AddSource), and stamped with the clock read that ends
			// the duration.
			ctx, h := r.Context(), log.Handler()
			if !h.Enabled(ctx, slog.LevelInfo) {
				return
			}
			end := time.Now()
			rec := slog.NewRecord(end, slog.LevelInfo, msg, 0)
			rec.AddAttrs(
				slog.String("request_id", httpx.RequestID(ctx)), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Int("status", status),
				slog.Int64("duration_ms", end.Sub(start).Milliseconds()),
				slog.Int64("sql_statements", store.Count(ctx)))
			_ = h.Handle(ctx, rec)
		})
	}
}

// recoverPanics answers a panic with a 500 that carries the request id and
// nothing else; the panic itself is logged.
func recoverPanics(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.ErrorContext(r.Context(), "panic", "request_id", httpx.RequestID(r.Context()), "panic", fmt.Sprint(p))
					httpx.WriteJSON(w, http.StatusInternalServerError, map[string]string{
						"error": "internal server error", "requestId": httpx.RequestID(r.Context()),
					})
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody caps request bodies; reading past the cap fails, and the
// transports answer that with 413.
func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				httpx.WriteJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "request body too large"})
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// apiHeaders marks every answer but the playground's as not to be stored
// by caches nor sniffed as another content type.
func apiHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/playground") {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("X-Content-Type-Options", "nosniff")
		}
		next.ServeHTTP(w, r)
	})
}
