// Package simtest starts tcsim for tests and connects the product to it: the
// real SDK clients, the real hook binaries, the same credential chain.
package simtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/clbcert/clbcert/pkg/tcsim"
	"github.com/clbcert/clbcert/pkg/tencent"
)

// Start runs a sim for the length of the test.
func Start(t testing.TB, opts tcsim.Options) *tcsim.Sim {
	t.Helper()
	sim, err := tcsim.Start(opts)
	if err != nil {
		t.Fatalf("start tcsim: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if dump, err := sim.Dump(); err == nil {
				t.Logf("tcsim state at failure:\n%s", dump)
			}
		}
		sim.Close()
	})
	return sim
}

// Config is a tencent.Config that talks to sim with its key.
func Config(t testing.TB, sim *tcsim.Sim) tencent.Config {
	t.Helper()
	ep, err := tencent.ParseEndpoint(sim.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	cred, err := tencent.LoadCredential(context.Background(), tencent.CredentialOptions{LookupEnv: lookup(Env(sim))})
	if err != nil {
		t.Fatal(err)
	}
	return tencent.Config{Credential: cred, Endpoint: ep}
}

// Env is the environment a hook process needs to reach sim: its key and
// endpoint, the way `clbcert sim` prints them.
func Env(sim *tcsim.Sim) []string {
	c := sim.Credential()
	env := []string{
		tencent.EnvSecretID + "=" + c.SecretID,
		tencent.EnvSecretKey + "=" + c.SecretKey,
		"CLBCERT_ENDPOINT=" + sim.Endpoint(),
	}
	if c.Token != "" {
		env = append(env, tencent.EnvSessionToken+"="+c.Token)
	}
	return env
}

// HookEnv is Env plus what a hook process needs besides the CERTBOT_*
// variables: a private home and state dir, and the sim's first nameserver as
// the resolver that finds each zone's nameservers (the production path).
func HookEnv(tb testing.TB, sim *tcsim.Sim) []string {
	return append(Env(sim),
		"HOME="+tb.TempDir(),
		"CLBCERT_STATE_DIR="+filepath.Join(tb.TempDir(), "state"),
		"CLBCERT_RESOLVER="+sim.NameserverAddrs()[0],
		fmt.Sprintf("CLBCERT_NAMESERVER_PORT=%d", sim.DNSPort()),
	)
}

func lookup(env []string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		for _, kv := range env {
			if name, v, _ := strings.Cut(kv, "="); name == k {
				return v, true
			}
		}
		return "", false
	}
}

// Binaries builds every command of ./hooks once per test process and
// returns the directory that holds them, for PATH.
type Binaries struct {
	once sync.Once
	dir  string
	err  error
}

// Dir builds on first use; later calls return the same directory.
func (b *Binaries) Dir(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "clbcert-bin-")
		if b.err != nil {
			return
		}
		root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
		if err != nil {
			b.err = err
			return
		}
		// The binaries are built as they ship: with cli.NoDocsTag (which
		// simtest, imported by the libraries' tests, cannot import).
		cmd := exec.Command("go", "build", "-tags", "urfave_cli_no_docs", "-o", b.dir+string(filepath.Separator), "./hooks/...")
		cmd.Dir = strings.TrimSpace(string(root))
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = &buildError{out: string(out), err: err}
		}
	})
	if b.err != nil {
		t.Fatalf("build ./hooks/...: %v", b.err)
	}
	return b.dir
}

// Remove deletes the built binaries; call it from TestMain after m.Run.
func (b *Binaries) Remove() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

// Main is a TestMain: it runs the tests, deletes the binaries they built
// and exits with the tests' status.
func (b *Binaries) Main(m *testing.M) {
	code := m.Run()
	b.Remove()
	os.Exit(code)
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// TXT returns the sorted TXT values the sim's API holds at name (relative,
// "@" for the apex) in zone.
func TXT(sim *tcsim.Sim, zone, name string) []string {
	var out []string
	for _, r := range sim.Records(zone) {
		if r.Type == "TXT" && r.Name == name {
			out = append(out, r.Value)
		}
	}
	slices.Sort(out)
	return out
}

// ServedTXT returns the sorted TXT values nameserver addr answers for name.
func ServedTXT(t testing.TB, addr, name string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	r, err := dns.Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(txt.Txt, ""))
		}
	}
	slices.Sort(out)
	return out
}
