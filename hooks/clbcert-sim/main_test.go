package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	dnspod "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/dnspod/v20210323"

	"github.com/clbcert/clbcert/internal/eventually"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/tencent"
)

var bins simtest.Binaries

func TestMain(m *testing.M) { bins.Main(m) }

func bin(t *testing.T, name string) string {
	return filepath.Join(bins.Dir(t), name)
}

// The export lines the simulator prints are all a user needs: with them the
// real SDK reaches the sim's DNSPod API and the resolver finds its zones. It
// runs here as users start it, through `clbcert sim`, which passes every
// argument on and Ctrl-C too.
func TestSimPrintsWorkingExports(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "sim.env")
	cmd := exec.Command(bin(t, "clbcert"), "sim", "--zone", "example.test", "--zone", "acme.test",
		"--cname", "_acme-challenge.alias.example.test=alias.acme.test", "--env-file", envFile)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var data []byte
	eventually.True(t, 10*time.Second, "the sim wrote "+envFile, func() bool {
		data, _ = os.ReadFile(envFile)
		return len(data) > 0
	})
	if fi, err := os.Stat(envFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("env file: %v, %v; want mode 0600\n%s", fi, err, out.String())
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		env[k] = v
	}

	ep, err := tencent.ParseEndpoint(env["CLBCERT_ENDPOINT"])
	if err != nil {
		t.Fatal(err)
	}
	cred, err := tencent.LoadCredential(context.Background(), tencent.CredentialOptions{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	client := simtest.DNSPod(t, tencent.Config{Credential: cred, Endpoint: ep})
	resp, err := client.DescribeDomainList(dnspod.NewDescribeDomainListRequest())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.Response.DomainList); n != 2 {
		t.Fatalf("%d zones, want 2", n)
	}

	m := new(dns.Msg)
	m.SetQuestion("_acme-challenge.alias.example.test.", dns.TypeCNAME)
	r, err := dns.Exchange(m, env["CLBCERT_RESOLVER"])
	if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.CNAME).Target != "alias.acme.test." {
		t.Fatalf("CNAME answer %v, %v", r, err)
	}

	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sim did not exit cleanly on Ctrl-C: %v\n%s", err, out.String())
	}
}

func TestSimBadFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--listen", "0.0.0.0:0"}, "give a loopback address"},
		{[]string{"--nameserver", "192.0.2.1"}, "give a loopback IP"},
		{[]string{"--cname", "nothing"}, "give NAME=TARGET"},
		{[]string{"--cname", "a.other.test=b.example.test"}, "give NAME=TARGET with NAME below one of the --zone zones"},
		{[]string{"--secret-id", "x"}, "give both --secret-id and --secret-key"},
		{[]string{"--fault-rate", "1.5"}, "give a fraction"},
	}
	for _, tt := range tests {
		cmd := exec.Command(bin(t, "clbcert-sim"), tt.args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), tt.wantErr) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("sim %v: %v, stderr %q; want exit 2 and one line with %q", tt.args, err, stderr.String(), tt.wantErr)
		}
	}
}
