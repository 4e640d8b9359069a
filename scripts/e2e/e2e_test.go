// Package e2e runs real certbot against real pebble, with the clbcert hooks
// talking to the simulated Tencent Cloud through the real SDK.
package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clbcert/clbcert/internal/acmetest"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

var bins simtest.Binaries

func TestMain(m *testing.M) {
	code := m.Run()
	bins.Remove()
	os.Exit(code)
}

// world is a sim, a pebble that resolves through it, and a certbot whose
// hooks are the freshly built clbcert binaries.
type world struct {
	sim     *tcsim.Sim
	certbot *acmetest.Certbot
	// env is the hooks' environment, which clbcert run by a test shares.
	env []string
}

func newWorld(tb testing.TB, opts tcsim.Options) *world {
	tb.Helper()
	acmetest.RequireTools(tb)
	sim := simtest.Start(tb, opts)
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	peb, err := acmetest.StartPebble(ctx, acmetest.PebbleOptions{Dir: tb.TempDir(), DNSServer: sim.NameserverAddrs()[0]})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { peb.Close() })
	env := append(simtest.HookEnv(tb, sim),
		"PATH="+bins.Dir(tb)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"CLBCERT_REGIONS=ap-guangzhou,ap-shanghai")
	return &world{sim: sim, certbot: acmetest.NewCertbot(peb, tb.TempDir(), env), env: env}
}

// run runs program, one of the freshly built binaries, to its end with
// args, in the hooks' environment, as an operator beside certbot would.
func (w *world) run(t *testing.T, program string, args ...string) simtest.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bins.Dir(t), program), args...)
	cmd.Env = append(os.Environ(), w.env...)
	return simtest.Run(t, cmd)
}

// issue runs certbot certonly for domains as lineage name, with authHook,
// clbcert-dns cleanup and any extra flags, and checks the certificate
// carries exactly domains.
func (w *world) issue(tb testing.TB, name, authHook string, extra []string, domains ...string) acmetest.Result {
	tb.Helper()
	args := append([]string{"certonly", "--manual", "--preferred-challenges", "dns", "--cert-name", name,
		"--manual-auth-hook", authHook, "--manual-cleanup-hook", "clbcert-dns cleanup"}, extra...)
	for _, d := range domains {
		args = append(args, "-d", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute+time.Duration(len(domains))*10*time.Second)
	defer cancel()
	res, err := w.certbot.Run(ctx, args...)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := w.certbot.Leaf(name)
	if err != nil {
		tb.Fatal(err)
	}
	got, want := slices.Sorted(slices.Values(leaf.DNSNames)), slices.Sorted(slices.Values(domains))
	if !slices.Equal(got, want) {
		tb.Fatalf("certificate names %v, want %v", got, want)
	}
	return res
}

func (w *world) txt(zone string) []string {
	var out []string
	for _, r := range w.sim.Records(zone) {
		if r.Type == "TXT" {
			out = append(out, r.Name+"="+r.Value)
		}
	}
	return out
}

func TestWildcardAndApex(t *testing.T) {
	w := newWorld(t, tcsim.Options{
		Zones: []tcsim.ZoneSpec{{Name: "example.test", Records: []tcsim.RecordSpec{
			{Name: "_acme-challenge", Type: "TXT", Value: "put-here-by-another-client"},
		}}},
		Nameservers: []tcsim.NameserverSpec{
			{Host: "ns1.tcsim.test.", IP: "127.0.0.1"},
			{Host: "ns2.tcsim.test.", IP: "127.0.0.2"},
		},
		PropagationDelay: 2 * time.Second,
	})
	res := w.issue(t, "example.test", "clbcert-dns auth", nil, "example.test", "*.example.test")
	if got := w.txt("example.test"); !slices.Equal(got, []string{"_acme-challenge=put-here-by-another-client"}) {
		t.Fatalf("TXT records after issuance: %v, want only the other client's", got)
	}
	if n := w.sim.Calls("CreateRecord"); n != 2 {
		t.Fatalf("CreateRecord calls = %d, want 2", n)
	}
	if res.Duration > 20*time.Second {
		t.Logf("issuance took %v", res.Duration)
	}
}

func TestCNAMEIntoASecondZone(t *testing.T) {
	w := newWorld(t, tcsim.Options{
		Zones: []tcsim.ZoneSpec{
			{Name: "example.test", Records: []tcsim.RecordSpec{
				{Name: "_acme-challenge.alias", Type: "CNAME", Value: "alias.acme-delegate.test."},
			}},
			{Name: "acme-delegate.test"},
		},
		PropagationDelay: 2 * time.Second,
	})
	res := w.issue(t, "alias.example.test", "clbcert-dns auth", nil, "alias.example.test")
	// certbot shows each hook's stdout: the record's identity names the zone
	// and the name it really went to.
	if !strings.Contains(res.Stdout, "zone=acme-delegate.test") || !strings.Contains(res.Stdout, "target=alias.acme-delegate.test") {
		t.Fatalf("the record was not created behind the CNAME; certbot output:\n%s", res.Stdout)
	}
	for _, z := range []string{"example.test", "acme-delegate.test"} {
		if got := w.txt(z); len(got) != 0 {
			t.Fatalf("TXT records left in %s: %v", z, got)
		}
	}
}
