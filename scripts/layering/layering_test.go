// Package layering checks the import directions of DESIGN.md on the built
// binaries' dependency graphs, the way `go list -deps` reports them.
package layering

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	clbcli "github.com/clbcert/clbcert/internal/cli"
)

const module = "github.com/clbcert/clbcert/"

// products are the binaries that ship; clbcert-sim is the simulator's.
var products = []string{"hooks/clbcert", "hooks/clbcert-deploy", "hooks/clbcert-dns", "hooks/clbcert-watch"}

// deps lists every package pkg links when built as the binaries are (with
// clbcli.NoDocsTag), as go list -deps prints them.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-tags", clbcli.NoDocsTag, "./"+pkg)
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
	for _, bin := range products {
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

// clbcert-dns is the DNS-01 hook: it links none of the CLB workflows, so
// that what runs at every issuance is small and cannot break them (nor
// they it).
func TestDNSHookLinksNoCLBWorkflow(t *testing.T) {
	for _, d := range deps(t, "hooks/clbcert-dns") {
		for _, p := range []string{"pkg/deploy", "pkg/tune", "pkg/inventory", "pkg/tcsim", "internal/cli/clbopts"} {
			if d == module+p {
				t.Errorf("hooks/clbcert-dns links %s", d)
			}
		}
	}
}

// Nor does it link the CLB or SSL API: only package clb and ssl import
// those SDK modules.
func TestDNSHookLinksNoCLBOrSSLAPI(t *testing.T) {
	var linked []string
	for _, d := range deps(t, "hooks/clbcert-dns") {
		for _, sdk := range []string{"tencentcloud/clb/", "tencentcloud/ssl/"} {
			if strings.HasPrefix(d, "github.com/tencentcloud/tencentcloud-sdk-go/"+sdk) {
				linked = append(linked, d)
			}
		}
	}
	for _, d := range linked {
		t.Errorf("hooks/clbcert-dns links %s", d)
	}
}

// The binaries have one man-page writer, internal/cli's WriteManPage:
// built with clbcli.NoDocsTag, as every build here builds them, they link
// neither urfave/cli's nor go-md2man.
func TestOneManPageWriter(t *testing.T) {
	for _, bin := range append(products, "hooks/clbcert-sim") {
		for _, d := range deps(t, bin) {
			if strings.Contains(d, "go-md2man") || strings.Contains(d, "blackfriday") {
				t.Errorf("%s links %s", bin, d)
			}
		}
	}
	for _, f := range []string{"install.sh", "scripts/demo.sh", "scripts/test.sh", "scripts/release.sh", "internal/simtest/simtest.go"} {
		b, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), clbcli.NoDocsTag) {
			t.Errorf("%s builds without -tags %s", f, clbcli.NoDocsTag)
		}
	}
}

// pkg/config is the config file only: no flags (urfave/cli) and no
// workflow; internal/cli lays the command line over it.
func TestConfigIsTheFileOnly(t *testing.T) {
	for _, d := range deps(t, "pkg/config") {
		if (strings.HasPrefix(d, module) && d != module+"pkg/config") || strings.HasPrefix(d, "github.com/urfave/") {
			t.Errorf("pkg/config links %s", d)
		}
	}
}
