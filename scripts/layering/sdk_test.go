package layering

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const sdk = "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/"

// owners are the only packages that may import each product's SDK module:
// one package per Tencent Cloud product API. internal/simtest builds bare
// SDK clients for tests, and no product binary links it.
var owners = map[string][]string{
	"clb":    {"pkg/clb", "internal/simtest"},
	"ssl":    {"pkg/ssl", "internal/simtest"},
	"dnspod": {"pkg/dns01", "internal/simtest"},
}

func TestOnlyTheProductPackagesImportTheirSDK(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		for _, imp := range fields[1:] {
			product, _, ok := strings.Cut(strings.TrimPrefix(imp, sdk), "/")
			if !strings.HasPrefix(imp, sdk) || !ok || product == "common" {
				continue
			}
			if !slices.Contains(owners[product], pkg) {
				t.Errorf("%s imports %s: call the %s API through %s", pkg, imp, product, owners[product][0])
			}
		}
	}
}
