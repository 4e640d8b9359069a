// Package layering checks the import directions of DESIGN.md on the built
// binaries' dependency graphs, the way `go list -deps` reports them.
package layering

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/clbcert/clbcert/"

// deps lists every package pkg links, as go list -deps prints them.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "./"+pkg)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./%s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// The simulator is for trying clbcert and for tests: no product binary
// links it (it ships as clbcert-sim), and it links no product package, so
// a stand-in never shares the product's bugs.
func TestNoProductBinaryLinksTheSimulator(t *testing.T) {
	for _, bin := range []string{"hooks/clbcert", "hooks/clbcert-deploy", "hooks/clbcert-dns", "hooks/clbcert-watch"} {
		for _, d := range deps(t, bin) {
			if d == module+"pkg/tcsim" || d == module+"internal/simtest" {
				t.Errorf("%s links %s", bin, d)
			}
		}
	}
	for _, d := range deps(t, "pkg/tcsim") {
		if strings.HasPrefix(d, module) && d != module+"pkg/tcsim" {
			t.Errorf("pkg/tcsim links the product package %s", d)
		}
	}
}
