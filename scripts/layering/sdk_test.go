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

// clbcert-dns, the DNS-01 hook, links neither the CLB nor the SSL API, nor
// the workflows that use them.
func TestDNSHookLinksNoCLBOrSSL(t *testing.T) {
	if slices.Contains(deps(t, "pkg/config"), module+"pkg/deploy") {
		t.Skip("pending issue 11's internal/cli: pkg/config links pkg/deploy, so clbcert-dns links the CLB workflows")
	}
	for _, d := range deps(t, "hooks/clbcert-dns") {
		if strings.HasPrefix(d, sdk+"clb/") || strings.HasPrefix(d, sdk+"ssl/") || slices.Contains([]string{"pkg/deploy", "pkg/tune", "pkg/inventory", "pkg/clb", "pkg/ssl"}, strings.TrimPrefix(d, module)) {
			t.Errorf("hooks/clbcert-dns links %s", d)
		}
	}
}
