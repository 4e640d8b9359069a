package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clbcert/clbcert/internal/configtest"
	"github.com/clbcert/clbcert/internal/simtest"
	"github.com/clbcert/clbcert/pkg/tcsim"
)

// productsAccount is account with example.test's old certificate on two CDN domains and a WAF
// domain too, and other.test's on a CDN domain of its own.
func productsAccount(t *testing.T) tcsim.Options {
	opts := account(t, 0)
	opts.Topology.CDNDomains = []tcsim.CDNDomainSpec{
		{Domain: "cdn.example.test", CertID: "HandCrt1"}, {Domain: "static.example.test", CertID: "HandCrt1"}, {Domain: "cdn.other.test", CertID: "OtherCrt"},
	}
	opts.Topology.WAFDomains = []tcsim.WAFDomainSpec{{Domain: "shop.example.test", Region: "ap-shanghai", CertID: "HandCrt1"}}
	return opts
}

func TestBadProductsExitTwo(t *testing.T) {
	sim := simtest.Start(t, productsAccount(t))
	lin := simtest.Corpus("good-ecdsa-2", "example.test")
	for _, tt := range []struct {
		name, config string
		args         []string
		want         string
	}{
		{"unknown flag value", "", []string{"--product", "cdn", "--product", "nope"}, `--product / CLBCERT_PRODUCTS: unknown product "nope": give all or some of apigateway cdn clb`},
		{"not on the intl site", "", []string{"--site", "intl", "--product", "scf"}, "scf is not updated by the SSL service on the intl site"},
		{"in a deploy entry", "[[deploy]]\nlineage = \"example.test\"\nproducts = [\"CDN\", \"edgeone\"]\n", nil, `[[deploy]] example.test: products: unknown product "edgeone"`},
		{"an empty list and another lineage's entry", "products = []\nregions = [\"ap-guangzhou\"]\n[[deploy]]\nlineage = \"x\"\nproducts = [\" \"]\n", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := simtest.HookEnv(t, sim)
			if tt.config != "" {
				env = append(env, "CLBCERT_CONFIG="+configtest.Write(t, tt.config, 0o600))
			}
			r := runDeploy(t, env, append([]string{"--lineage", lin, "--dry-run"}, tt.args...)...)
			if tt.want == "" {
				if r.Code != 0 {
					t.Fatalf("%+v", r)
				}
				return
			}
			if r.Code != 2 || !strings.Contains(r.Stderr, tt.want) || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
				t.Fatalf("exit %d, stderr %q: want exit 2 and one line with %q", r.Code, r.Stderr, tt.want)
			}
		})
	}
	if n := sim.Calls("UploadCertificate") + sim.Calls("UpdateCertificateInstance"); n != 0 {
		t.Fatalf("changes were made: %v", sim.CallCounts())
	}
}

// products = ["all"] in the config moves the CDN and WAF resources and reports each; --product
// clb overrides it.
func TestProductsFromTheConfigFile(t *testing.T) {
	sim := simtest.Start(t, productsAccount(t))
	env := append(simtest.HookEnv(t, sim), "CLBCERT_CONFIG="+configtest.Write(t, "products = [\"all\"]\n", 0o600),
		"RENEWED_LINEAGE="+simtest.Corpus("good-ecdsa-2", "example.test"))

	clbOnly := runDeploy(t, env, "--product", "clb", "--dry-run", "--json")
	if clbOnly.Code != 0 || strings.Contains(clbOnly.Stdout, "cdn.example.test") {
		t.Fatalf("--product clb: %+v", clbOnly)
	}
	dry := runDeploy(t, env, "--dry-run")
	if dry.Code != 0 || strings.Count(dry.Stdout, "planned") != 6 || !strings.Contains(dry.Stdout, "PRODUCT") {
		t.Fatalf("dry run: %+v", dry)
	}
	r := runDeploy(t, env, "--json")
	var rep struct {
		CertID    string
		Resources []struct{ Type, Region, Instance, Domain, Before, Status, Error string }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil || r.Code != 0 {
		t.Fatalf("%v: %+v", err, r)
	}
	var got []string
	for _, res := range rep.Resources {
		got = append(got, strings.Join([]string{res.Type, res.Region, res.Domain, res.Before, res.Status}, " "))
	}
	want := []string{"cdn  cdn.example.test HandCrt1 updated", "cdn  static.example.test HandCrt1 updated", "waf ap-shanghai shop.example.test HandCrt1 updated"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("resources:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if id := sim.ResourceCert("cdn", "cdn.other.test"); id != "OtherCrt" {
		t.Fatalf("cdn.other.test holds %s", id)
	}
}

// A CDN domain that fails every time: exit 1, the report and the error name it and the command
// that finishes; once the fault clears, a re-run finishes with no new upload. A missing SSL
// service role: exit 1 with how to grant it, CLB deployed all the same.
func TestProductFaultsThroughTheHook(t *testing.T) {
	opts := productsAccount(t)
	opts.Topology.CDNDomains[0].Fault = tcsim.FaultOnce
	opts.Topology.CDNDomains[1].Fault = tcsim.FaultAlways
	sim := simtest.Start(t, opts)
	env := append(simtest.HookEnv(t, sim), "RENEWED_LINEAGE="+simtest.Corpus("good-ecdsa-2", "example.test"), "CLBCERT_PRODUCTS=all")
	first := runDeploy(t, env)
	if first.Code != 1 || !strings.Contains(first.Stderr, "cdn static.example.test") || !strings.Contains(first.Stderr, "run clbcert-deploy again") ||
		!strings.Contains(first.Stdout, "static.example.test") || !strings.Contains(first.Stdout, "failed") {
		t.Fatalf("first run: %+v", first)
	}
	if err := sim.SetResourceFault("cdn", "static.example.test", tcsim.FaultNone); err != nil {
		t.Fatal(err)
	}
	again := runDeploy(t, env)
	if again.Code != 0 || sim.UploadCount() != 1 {
		t.Fatalf("re-run: %+v, %d uploads", again, sim.UploadCount())
	}
	newID := sim.ResourceCert("cdn", "cdn.example.test")
	for _, d := range []string{"cdn.example.test", "static.example.test"} {
		if got := sim.ResourceCert("cdn", d); got != newID || got == "HandCrt1" {
			t.Errorf("%s holds %s", d, got)
		}
	}

	opts = productsAccount(t)
	opts.Topology.SSLRoleMissing = true
	sim = simtest.Start(t, opts)
	env = append(simtest.HookEnv(t, sim), "RENEWED_LINEAGE="+simtest.Corpus("good-ecdsa-2", "example.test"), "CLBCERT_PRODUCTS=cdn,clb")
	r := runDeploy(t, env)
	if r.Code != 1 || !strings.Contains(r.Stderr, "SSL_QCSLinkedRoleInReplaceLoadCertificate is not authorised") || !strings.Contains(r.Stderr, "CAM console") {
		t.Fatalf("role missing: %+v", r)
	}
	if got := sim.ServedCert("lb-gz1", "lbl-https1", ""); got == "HandCrt1" {
		t.Fatal("CLB was not deployed")
	}
	if got := sim.ResourceCert("cdn", "cdn.example.test"); got != "HandCrt1" {
		t.Fatalf("cdn.example.test holds %s", got)
	}
}
