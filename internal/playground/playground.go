// Package playground serves an offline GraphiQL page for the gateway's
// /graphql endpoint. Everything it needs (JS, CSS, fonts) is embedded from
// dist/, which is committed, so the binary works without npm or a network.
//
// dist/ is built from web/ (GraphiQL + React bundled with esbuild). To rebuild
// it after changing web/:
//
//	make playground   (cd internal/playground/web && npm ci && npm run build)
//
// and commit the result; make e2e fails when the committed dist/ is not what
// the sources build. There is deliberately no go:generate directive: npm is
// slow and not needed to build the Go module.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Path is where the server mounts the playground: Handler serves index.html at
// Path and the assets under Path + "/". The asset URLs in index.html use it.
const Path = "/playground"

// CSP is the Content-Security-Policy sent with every response. Only this
// origin is contacted (connect-src 'self' for /graphql, over HTTP and, for
// subscriptions, over a websocket: CSP level 3 lets 'self' match the ws:
// and wss: of this host, as Chromium does in make e2e); fonts and a few
// icons are inlined as data: URLs in app.css. Styles need 'unsafe-inline':
// GraphiQL's dialogs (Radix, via react-remove-scroll) inject a <style>
// element at run time, which style-src 'self' refuses. Scripts stay 'self'
// only; nothing in the bundle uses eval.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed dist
var dist embed.FS

// file is one servable file of dist/: index.html in memory (its asset URLs
// versioned), an asset read from the binary's embedded data per request —
// not copied to the heap, where its 1.8 MB would count in the live data
// that sets the collector's heap goal (docs/benchmarks.md, session 9).
type file struct {
	body        []byte // index.html only
	contentType string
	etag        string
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// Handler serves the playground. Mount it for both the index and the assets;
// it accepts request paths with or without the Path prefix, so either of
//
//	mux.Handle("GET "+playground.Path, playground.Handler())
//	mux.Handle("GET "+playground.Path+"/", playground.Handler())
//
// or http.StripPrefix(playground.Path, playground.Handler()) works.
// "/", "" and "/index.html" (relative to Path) are the page; other names are
// assets from dist/; anything else is 404.
func Handler() http.Handler {
	files := loadOnce()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, Path)
		name = strings.TrimPrefix(name, "/")
		if name == "" {
			name = "index.html"
		}
		f, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", f.contentType)
		h.Set("ETag", f.etag)
		if name == "index.html" {
			h.Set("Cache-Control", "no-cache")
		} else {
			// index.html links assets as name?v=<content hash>, so a new
			// build gets new URLs and these can be cached for good.
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		if f.body != nil {
			http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
			return
		}
		asset, err := dist.Open("dist/" + name)
		if err != nil {
			panic(err) // listed by load from the same embedded files
		}
		defer asset.Close()
		http.ServeContent(w, r, name, time.Time{}, asset.(io.ReadSeeker))
	})
}

var loadOnce = sync.OnceValue(load)

// load lists dist/, hashes each asset for its ETag and reads index.html,
// versioning the asset URLs in it with their content hash.
func load() map[string]*file {
	files := map[string]*file{}
	entries, err := fs.ReadDir(dist, "dist")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		ct, ok := contentTypes[path.Ext(e.Name())]
		if e.IsDir() || !ok {
			continue
		}
		files[e.Name()] = &file{contentType: ct}
	}
	index, ok := files["index.html"]
	if !ok {
		panic("playground: dist/index.html missing; run npm run build in internal/playground/web")
	}
	if index.body, err = dist.ReadFile("dist/index.html"); err != nil {
		panic(err)
	}
	html := string(index.body)
	for name, f := range files {
		if name == "index.html" {
			continue
		}
		sum := hashAsset(name)
		f.etag = `"` + sum + `"`
		u := Path + "/" + name
		html = strings.ReplaceAll(html, `"`+u+`"`, `"`+u+"?v="+sum[:12]+`"`)
	}
	index.body = []byte(html)
	index.etag = `"` + hash(index.body) + `"`
	return files
}

// hashAsset is hash of an embedded asset, read in place.
func hashAsset(name string) string {
	f, err := dist.Open("dist/" + name)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		panic(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hash(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
