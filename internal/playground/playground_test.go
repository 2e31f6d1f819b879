package playground

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestIndex(t *testing.T) {
	h := Handler()
	// The server mounts the handler without stripping the prefix; StripPrefix works too.
	for _, target := range []string{"/playground", "/playground/", "/", "/index.html"} {
		rec := get(t, h, target)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", target, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: content type %q", target, ct)
		}
		body := rec.Body.String()
		if !regexp.MustCompile(`<script src="/playground/app\.js(\?v=[0-9a-f]+)?"></script>`).MatchString(body) {
			t.Errorf("%s: no script tag for /playground/app.js:\n%s", target, body)
		}
		if !strings.Contains(body, `href="/playground/app.css`) {
			t.Errorf("%s: no stylesheet link for /playground/app.css", target)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("%s: Cache-Control %q", target, got)
		}
		checkCSP(t, rec)
	}
}

func TestAssets(t *testing.T) {
	h := Handler()
	for target, ct := range map[string]string{
		"/playground/app.js":  "text/javascript",
		"/playground/app.css": "text/css",
		"/app.js":             "text/javascript",
	} {
		rec := get(t, h, target)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", target, rec.Code)
		}
		if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, ct) {
			t.Errorf("%s: content type %q, want %s", target, got, ct)
		}
		if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "max-age=") {
			t.Errorf("%s: Cache-Control %q", target, got)
		}
		if rec.Body.Len() < 1000 {
			t.Errorf("%s: body only %d bytes", target, rec.Body.Len())
		}
		checkCSP(t, rec)

		// Revalidation with the ETag gives 304.
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
		rec2 := httptest.NewRecorder()
		h.ServeHTTP(rec2, req)
		if rec2.Code != http.StatusNotModified {
			t.Errorf("%s: If-None-Match gave %d", target, rec2.Code)
		}
	}
}

func TestNotFoundAndMethods(t *testing.T) {
	h := Handler()
	for _, target := range []string{"/playground/nope.js", "/playground/dist/app.js", "/playground/../go.mod", "/playground/web/package.json"} {
		if rec := get(t, h, target); rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", target, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/playground", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: status %d, want 405", rec.Code)
	}
}

func checkCSP(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "*") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows remote origins or eval", csp)
	}
	if strings.Contains(strings.SplitN(strings.SplitN(csp, "script-src", 2)[1], ";", 2)[0], "unsafe-inline") {
		t.Errorf("CSP %q allows inline scripts", csp)
	}
}

// allowedURLs are the only absolute URLs that may appear in dist/, and only in
// app.js. None is loaded: they are string literals inside the bundled
// libraries (and the browser's CSP would block a load anyway).
var allowedURLs = []string{
	"http://www.w3.org/",        // XML namespace names (SVG, XLink, XML, MathML) in react-dom
	"https://react.dev/errors/", // React's minified error messages
	"https://yarnpkg.com/en/docs/selective-version-resolutions", // graphql-js duplicate-module error text
	"https://en.wikipedia.org/wiki/IEEE_floating_point",         // graphql-js Float scalar description
	"https://commonmark.org/",                                   // graphql-js @specifiedBy / description text
	"https://codemirror.net/5/doc/manual.html",                  // CodeMirror error text
	"https://github.com/graphql/graphiql",                       // GraphiQL's default logo link; replaced by our GraphiQL.Logo, never rendered
	"http://${",                                                 // linkify-it: prefixes schemeless links typed in markdown
	`http://"`,                                                  // markdown-it: the same, for link text
}

func TestNoRemoteURLs(t *testing.T) {
	err := fs.WalkDir(dist, "dist", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := dist.ReadFile(name)
		if err != nil {
			return err
		}
		s := string(b)
		if !strings.HasSuffix(name, ".js") {
			// HTML and CSS: no absolute or protocol-relative URL at all,
			// no @import (fonts and icons must be data: URLs).
			if m := regexp.MustCompile(`(?i)https?:|url\(\s*["']?//|@import`).FindString(s); m != "" {
				t.Errorf("%s references %q", name, m)
			}
			return nil
		}
		for _, loc := range regexp.MustCompile(`(?i)https?://`).FindAllStringIndex(s, -1) {
			rest := s[loc[0]:min(len(s), loc[0]+80)]
			ok := false
			for _, a := range allowedURLs {
				if strings.HasPrefix(strings.ToLower(rest), strings.ToLower(a)) {
					ok = true
					break
				}
			}
			if !ok {
				t.Errorf("%s: unexpected URL %q", name, rest)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dist/index.html", "dist/app.js", "dist/app.css"} {
		if _, err := fs.Stat(dist, name); err != nil {
			t.Errorf("missing %s: %v", name, err)
		}
	}
	if _, err := fs.Stat(dist, "dist/app.js.map"); err == nil {
		t.Error("dist contains a source map")
	}
}
