package graph_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The field collection and pagination are entgql's templates with small
// changes (ent/template/gql_collection.tmpl, gql_pagination.tmpl, each
// CHANGED block explained there). An entgql upgrade must not silently keep
// the old copies: this fails when the module's templates are not the ones
// the forks were made from, and when a fork lost any upstream line but the
// one its change replaces. After an upgrade, re-apply the CHANGED blocks
// to the new templates, then update upstreamSHA256.
func TestForkedEntgqlTemplatesFollowTheModule(t *testing.T) {
	forks := []struct {
		fork, upstream, sha256 string
		replaced               int // upstream lines the CHANGED blocks replace
	}{
		{"gql_collection.tmpl", "collection.tmpl", "8067e6577b20a3b51d5fcaf833bc258a45c46047ac7f8bbc7778d6c18ffe9770", 1},
		{"gql_pagination.tmpl", "pagination.tmpl", "912a2eb790de8290f27872f203c9fd6243546f25774c574cba0115878ea96ffa", 1},
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "entgo.io/contrib").Output()
	if err != nil {
		t.Fatalf("go list -m entgo.io/contrib: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "entgql", "template")
	for _, f := range forks {
		up, err := os.ReadFile(filepath.Join(dir, f.upstream))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(up); hex.EncodeToString(sum[:]) != f.sha256 {
			t.Errorf("entgql's %s changed (sha256 %x): re-apply the CHANGED blocks of ent/template/%s to it and update the hash here",
				f.upstream, sum, f.fork)
		}
		fork, err := os.ReadFile(filepath.Join("..", "ent", "template", f.fork))
		if err != nil {
			t.Fatal(err)
		}
		// Every upstream line is in the fork, in order, but the replaced ones.
		forkLines, at, missing := strings.Split(string(fork), "\n"), 0, 0
		for _, line := range strings.Split(string(up), "\n") {
			i := at
			for i < len(forkLines) && forkLines[i] != line {
				i++
			}
			if i == len(forkLines) {
				missing++
				continue
			}
			at = i + 1
		}
		if missing != f.replaced {
			t.Errorf("ent/template/%s lacks %d lines of entgql's %s, want %d (the CHANGED ones)", f.fork, missing, f.upstream, f.replaced)
		}
	}
}
