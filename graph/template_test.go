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

// The field collection, pagination and node are entgql's templates with
// small changes (ent/template/gql_collection.tmpl, gql_pagination.tmpl,
// gql_node.tmpl), and
// ent's query builder is ent's own "dialect/sql/query" template with the
// to-one joins and reused scan holders (ent/template/query.tmpl), and its
// named edges a slice of pairs (ent/template/namedges.tmpl), each CHANGED block explained
// there. An ent or entgql upgrade must not silently keep the old copies:
// this fails when the module's templates are not the ones the forks were
// made from, and when a fork lost any upstream line but the ones its
// changes replace. After an upgrade, re-apply the CHANGED blocks to the new
// templates, then update the hash here.
func TestForkedEntTemplatesFollowTheModule(t *testing.T) {
	forks := []struct {
		fork, module, upstream, sha256 string
		from, to                       string // the forked part of upstream: from this line to before that one ("": the whole file)
		replaced                       int    // upstream lines the CHANGED blocks replace
	}{
		{"gql_collection.tmpl", "entgo.io/contrib", "entgql/template/collection.tmpl", "8067e6577b20a3b51d5fcaf833bc258a45c46047ac7f8bbc7778d6c18ffe9770", "", "", 2},
		{"gql_pagination.tmpl", "entgo.io/contrib", "entgql/template/pagination.tmpl", "912a2eb790de8290f27872f203c9fd6243546f25774c574cba0115878ea96ffa", "", "", 7},
		{"gql_node.tmpl", "entgo.io/contrib", "entgql/template/node.tmpl", "80bb0c176aa8f14bd46ecaf0cca97327132629d37303951e0a03d1211f04e4c5", "", "", 1},
		{"query.tmpl", "entgo.io/ent", "entc/gen/template/dialect/sql/query.tmpl", "d74acf79a600021c71828a0153ae87fc718ec48ce2fcc121183a48fd3ce1dc0d",
			`{{ define "dialect/sql/query" }}`, `{{ define "dialect/sql/query/selector" }}`, 4},
		{"namedges.tmpl", "entgo.io/ent", "entc/gen/template/dialect/sql/feature/namedges.tmpl", "ce515d5158ab1627825a26a2f44fbce62da7a8521019a1a35373b88f5a6716f8",
			`{{ define "dialect/sql/model/edges/fields/additional/namedges" }}`, `{{- define "dialect/sql/query/fields/additional/namedges" }}`, 23},
	}
	for _, f := range forks {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", f.module).Output()
		if err != nil {
			t.Fatalf("go list -m %s: %v", f.module, err)
		}
		up, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), f.upstream))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(up); hex.EncodeToString(sum[:]) != f.sha256 {
			t.Errorf("%s's %s changed (sha256 %x): re-apply the CHANGED blocks of ent/template/%s to it and update the hash here",
				f.module, f.upstream, sum, f.fork)
		}
		fork, err := os.ReadFile(filepath.Join("..", "ent", "template", f.fork))
		if err != nil {
			t.Fatal(err)
		}
		upLines := strings.Split(string(up), "\n")
		if f.from != "" {
			upLines = section(t, upLines, f.from, f.to)
		}
		// Every upstream line is in the fork, in order, but the replaced ones.
		forkLines, at, missing := strings.Split(string(fork), "\n"), 0, 0
		for _, line := range upLines {
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
			t.Errorf("ent/template/%s lacks %d lines of %s's %s, want %d (the CHANGED ones)", f.fork, missing, f.module, f.upstream, f.replaced)
		}
	}
}

// section returns lines from the one equal to from up to the one equal to
// to (excluded).
func section(t *testing.T, lines []string, from, to string) []string {
	t.Helper()
	start, end := -1, -1
	for i, l := range lines {
		switch {
		case l == from && start < 0:
			start = i
		case l == to && start >= 0 && end < 0:
			end = i
		}
	}
	if start < 0 || end < 0 {
		t.Fatalf("upstream template has no section %q … %q", from, to)
	}
	return lines[start:end]
}
