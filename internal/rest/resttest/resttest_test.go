package resttest

import (
	"net/http"
	"testing"

	"github.com/conecrm/gateway/internal/testing/apptest"
)

// The validator must actually reject what the document does not allow, or
// every REST test would pass vacuously.
func TestValidateRejectsWhatTheDocumentDoesNotAllow(t *testing.T) {
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name, method, path string
		res                apptest.Response
		ok                 bool
	}{
		{"documented error body", "GET", "/api/account", apptest.Response{Status: 403, Header: jsonHeader, Body: []byte(`{"error":"Access denied"}`)}, true},
		{"empty page", "GET", "/api/account", apptest.Response{Status: 200, Header: jsonHeader, Body: []byte(`{"total":0,"accounts":[]}`)}, true},
		{"wrong type", "GET", "/api/account", apptest.Response{Status: 200, Header: jsonHeader, Body: []byte(`{"total":"0","accounts":[]}`)}, false},
		{"missing documented field", "GET", "/api/account", apptest.Response{Status: 200, Header: jsonHeader, Body: []byte(`{"total":0}`)}, false},
		{"undocumented status", "GET", "/api/account", apptest.Response{Status: 418, Header: jsonHeader, Body: []byte(`{"error":"teapot"}`)}, false},
		{"undocumented route", "GET", "/api/nothing", apptest.Response{Status: 200, Header: jsonHeader, Body: []byte(`{}`)}, false},
		{"account without its fields", "GET", "/api/account", apptest.Response{Status: 200, Header: jsonHeader,
			Body: []byte(`{"total":1,"accounts":[{"id":"01a21b42-3cf8-700e-b376-2958bfc9e509"}]}`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.method, tt.path, &tt.res)
			if (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
