package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The transports translate between HTTP and the domain layer: they import
// neither the package that mounts them (internal/app) nor the data model's
// definitions (ent/schema). Checked on the non-test imports `go list`
// reports, so a new import fails here, not in review.
func TestTransportsImportNeitherTheAppNorTheSchema(t *testing.T) {
	const module = "github.com/conecrm/gateway/"
	transports := []string{"graph", "internal/rest", "internal/live", "internal/loader"}
	forbidden := []string{"internal/app", "ent/schema"}
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		transport := false
		for _, tr := range transports {
			transport = transport || pkg == tr || strings.HasPrefix(pkg, tr+"/")
		}
		if !transport {
			continue
		}
		checked++
		for _, imp := range fields[1:] {
			for _, f := range forbidden {
				if imp == module+f {
					t.Errorf("%s imports %s", pkg, f)
				}
			}
		}
	}
	if checked < len(transports) {
		t.Fatalf("only %d transport packages listed", checked)
	}
}
